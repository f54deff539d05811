/*
 * imap_render: IMAP strings, ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501
 * 4.3, 7.4.2) from a common/mime tree; see imap_render.h for the choices.
 * Used by the imap mail process; the tree comes from untrusted mail.
 */
#include <ctype.h>
#include <strings.h>

#include "imap_render.h"

/* ---- strings ---- */

static int
quotable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == 0 || ch == '\r' || ch == '\n' || ch >= 0x80)
			return 0;
	}
	return 1;
}

int
imap_put_string(struct buf *out, const char *s, size_t n)
{
	size_t i, k;

	if (quotable(s, n)) {
		if (buf_putc(out, '"') == -1)
			return -1;
		for (k = i = 0; i <= n; i++) {
			if (i < n && s[i] != '"' && s[i] != '\\')
				continue;
			if (buf_append(out, s + k, i - k) == -1 ||
			    (i < n && buf_putc(out, '\\') == -1))
				return -1;
			k = i;		/* the special goes with the next chunk */
		}
		return buf_putc(out, '"');
	}
	if (buf_printf(out, "{%zu}\r\n", n) == -1)
		return -1;
	for (k = i = 0; i <= n; i++) {
		if (i < n && s[i] != '\0')
			continue;
		if (buf_append(out, s + k, i - k) == -1 ||
		    (i < n && buf_putc(out, (char)0x80) == -1))
			return -1;
		k = i + 1;
	}
	return 0;
}

int
imap_put_nstring(struct buf *out, const char *s)
{
	if (s == NULL)
		return buf_puts(out, "NIL");
	return imap_put_string(out, s, strlen(s));
}

/* ASTRING-CHAR: ATOM-CHAR or "]" (RFC 3501 9). */
static int
astring_char(unsigned char ch)
{
	return ch > 32 && ch < 127 && strchr("(){%*\"\\", ch) == NULL;
}

int
imap_put_astring(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && astring_char((unsigned char)s[i]); i++)
		;
	if (n > 0 && i == n && !(n == 3 && strncasecmp(s, "NIL", 3) == 0))
		return buf_append(out, s, n);
	return imap_put_string(out, s, n);
}

/* ---- ENVELOPE ---- */

static int
put_addrs(struct buf *out, const struct mime_addrlist *l)
{
	size_t i;

	if (l->n == 0)
		return buf_puts(out, "NIL");
	if (buf_putc(out, '(') == -1)
		return -1;
	for (i = 0; i < l->n; i++) {
		const struct mime_addr *a = &l->v[i];

		if (buf_putc(out, '(') == -1 || imap_put_nstring(out, a->name) == -1 ||
		    buf_putc(out, ' ') == -1 || imap_put_nstring(out, a->adl) == -1 ||
		    buf_putc(out, ' ') == -1 ||
		    imap_put_nstring(out, a->mailbox) == -1 ||
		    buf_putc(out, ' ') == -1 || imap_put_nstring(out, a->host) == -1 ||
		    buf_putc(out, ')') == -1)
			return -1;
	}
	return buf_putc(out, ')');
}

int
imap_put_envelope(struct buf *out, const struct mime_envelope *e)
{
	const struct mime_addrlist *lists[6] = { &e->from, &e->sender,
	    &e->reply_to, &e->to, &e->cc, &e->bcc };
	size_t i;

	if (buf_putc(out, '(') == -1 || imap_put_nstring(out, e->date) == -1 ||
	    buf_putc(out, ' ') == -1 || imap_put_nstring(out, e->subject) == -1)
		return -1;
	for (i = 0; i < 6; i++)
		if (buf_putc(out, ' ') == -1 || put_addrs(out, lists[i]) == -1)
			return -1;
	if (buf_putc(out, ' ') == -1 || imap_put_nstring(out, e->in_reply_to) == -1 ||
	    buf_putc(out, ' ') == -1 || imap_put_nstring(out, e->message_id) == -1)
		return -1;
	return buf_putc(out, ')');
}

/* ---- body parameters ---- */

static int
is_latin1(const char *cs)
{
	return strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0 ||
	    strcasecmp(cs, "iso_8859-1") == 0 || strcasecmp(cs, "l1") == 0;
}

static int
hexv(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (unsigned char)tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decode a raw RFC 2231 value in Latin-1 into UTF-8. */
static int
latin1_value(struct buf *v, const char *s, size_t n)
{
	size_t i;
	unsigned ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
			ch = (unsigned)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
			i += 2;
		}
		if (ch < 0x80) {
			if (buf_putc(v, (char)ch) == -1)
				return -1;
		} else if (buf_putc(v, (char)(0xc0 | ch >> 6)) == -1 ||
		    buf_putc(v, (char)(0x80 | (ch & 0x3f))) == -1)
			return -1;
	}
	return 0;
}

/* One parameter: name value (see the header for RFC 2231). */
static int
put_param(struct buf *out, const struct mime_param *p)
{
	struct buf v = BUF_INIT(BUF_NOLIMIT), n = BUF_INIT(BUF_NOLIMIT);
	int r = -1;

	if (!p->encoded) {
		if (imap_put_string(out, p->name, strlen(p->name)) == -1 ||
		    buf_putc(out, ' ') == -1)
			return -1;
		return imap_put_string(out, p->value, p->vlen);
	}
	if (is_latin1(p->charset)) {
		if (buf_puts(&n, p->name) == 0 && latin1_value(&v, p->value, p->vlen) == 0)
			r = 0;
	} else if (buf_printf(&n, "%s*", p->name) == 0 &&
	    buf_printf(&v, "%s'%s'", p->charset, p->lang) == 0 &&
	    buf_append(&v, p->value, p->vlen) == 0)
		r = 0;
	if (r == 0 && (imap_put_string(out, n.data, n.len) == -1 ||
	    buf_putc(out, ' ') == -1 || imap_put_string(out, v.data, v.len) == -1))
		r = -1;
	buf_free(&v);
	buf_free(&n);
	return r;
}

/* body-fld-param; text parts get a default charset. */
static int
put_params(struct buf *out, const struct mime_param *v, size_t n, int text)
{
	size_t i;
	int charset = !text;

	if (n == 0 && !text)
		return buf_puts(out, "NIL");
	if (buf_putc(out, '(') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, "charset") == 0)
			charset = 1;
		if ((i > 0 && buf_putc(out, ' ') == -1) || put_param(out, &v[i]) == -1)
			return -1;
	}
	if (!charset && buf_puts(out, n > 0 ? " \"charset\" \"us-ascii\"" :
	    "\"charset\" \"us-ascii\"") == -1)
		return -1;
	return buf_putc(out, ')');
}

/* ---- extension data ---- */

/* body-fld-dsp */
static int
put_disposition(struct buf *out, const struct mime_part *p)
{
	if (p->disposition == NULL)
		return buf_puts(out, "NIL");
	if (buf_putc(out, '(') == -1 ||
	    imap_put_string(out, p->disposition, strlen(p->disposition)) == -1 ||
	    buf_putc(out, ' ') == -1 ||
	    put_params(out, p->dparams, p->ndparams, 0) == -1)
		return -1;
	return buf_putc(out, ')');
}

/* body-fld-lang: Content-Language's tags as a list (comments and white
 * space dropped), NIL when absent or empty. */
static int
put_language(struct buf *out, const char *s)
{
	size_t i = 0, k, n = 0;
	int depth = 0;

	if (s == NULL)
		return buf_puts(out, "NIL");
	for (;;) {
		while (s[i] != '\0' && (depth > 0 || s[i] == '(' || s[i] == ',' ||
		    s[i] == ' ' || s[i] == '\t')) {
			if (s[i] == '(')
				depth++;
			else if (s[i] == ')' && depth > 0)
				depth--;
			i++;
		}
		if (s[i] == '\0')
			break;
		for (k = i; s[k] != '\0' && strchr("(, \t", s[k]) == NULL; k++)
			;
		if (buf_puts(out, n++ == 0 ? "(" : " ") == -1 ||
		    imap_put_string(out, s + i, k - i) == -1)
			return -1;
		i = k;
	}
	return buf_puts(out, n == 0 ? "NIL" : ")");
}

/* body-ext-1part / body-ext-mpart after the common start: [md5 SP] dsp
 * SP lang SP loc, each preceded by SP. */
static int
put_ext(struct buf *out, const struct mime_part *p, int md5)
{
	if (md5 && (buf_putc(out, ' ') == -1 || imap_put_nstring(out, p->md5) == -1))
		return -1;
	if (buf_putc(out, ' ') == -1 || put_disposition(out, p) == -1 ||
	    buf_putc(out, ' ') == -1 || put_language(out, p->language) == -1 ||
	    buf_putc(out, ' ') == -1)
		return -1;
	return imap_put_nstring(out, p->location);
}

/* ---- BODY / BODYSTRUCTURE ---- */

static int
put_multipart(struct buf *out, const struct mime_part *p, int ext)
{
	const struct mime_part *c;

	if (buf_putc(out, '(') == -1)
		return -1;
	for (c = p->child; c != NULL; c = c->next)
		if (imap_put_body(out, c, ext) == -1)
			return -1;
	if (buf_putc(out, ' ') == -1 ||
	    imap_put_string(out, p->subtype, strlen(p->subtype)) == -1)
		return -1;
	if (ext && (buf_putc(out, ' ') == -1 ||
	    put_params(out, p->params, p->nparams, 0) == -1 || put_ext(out, p, 0) == -1))
		return -1;
	return buf_putc(out, ')');
}

int
imap_put_body(struct buf *out, const struct mime_part *p, int ext)
{
	int text = strcmp(p->type, "text") == 0;
	int msg = p->child != NULL && strcmp(p->type, "message") == 0;
	const char *enc = p->encoding != NULL ? p->encoding : "7bit";

	if (p->child != NULL && !msg)
		return put_multipart(out, p, ext);
	if (buf_putc(out, '(') == -1 ||
	    imap_put_string(out, p->type, strlen(p->type)) == -1 ||
	    buf_putc(out, ' ') == -1 ||
	    imap_put_string(out, p->subtype, strlen(p->subtype)) == -1 ||
	    buf_putc(out, ' ') == -1 ||
	    put_params(out, p->params, p->nparams, text) == -1 ||
	    buf_putc(out, ' ') == -1 || imap_put_nstring(out, p->id) == -1 ||
	    buf_putc(out, ' ') == -1 || imap_put_nstring(out, p->description) == -1 ||
	    buf_putc(out, ' ') == -1 || imap_put_string(out, enc, strlen(enc)) == -1 ||
	    buf_printf(out, " %zu", p->wire_size) == -1)
		return -1;
	if (msg && (buf_putc(out, ' ') == -1 ||
	    imap_put_envelope(out, p->child->env) == -1 || buf_putc(out, ' ') == -1 ||
	    imap_put_body(out, p->child, ext) == -1))
		return -1;
	if ((text || msg) && buf_printf(out, " %zu", p->lines) == -1)
		return -1;
	if (ext && put_ext(out, p, 1) == -1)
		return -1;
	return buf_putc(out, ')');
}

size_t
imap_wire_size(const char *m, size_t off, size_t len)
{
	const char *p = m + off, *end = m + off + len, *q;
	size_t n = len;

	for (; p < end; p = q + 1) {
		if ((q = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		if (q == m + off || q[-1] != '\r')
			n++;
	}
	return n;
}
