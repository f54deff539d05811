/*
 * mime: the MIME structure of a message in memory (see mime.h).  Used by
 * the imap mail process; trusts nothing in the message.  Headers, Content-*
 * fields with RFC 2231 parameters, multipart splitting and message/rfc822
 * nesting live here; addresses and encoded-words in mime_addr.c.
 */
#include <ctype.h>
#include <stdint.h>
#include <strings.h>

#include "mime.h"
#include "xmalloc.h"

/* Header fields kept: the first occurrence of each. */
enum fld {
	F_CTYPE, F_CTE, F_CID, F_CDESC, F_CDISP, F_CLANG, F_CLOC, F_CMD5,
	F_DATE, F_SUBJECT, F_FROM, F_SENDER, F_REPLYTO, F_TO, F_CC, F_BCC,
	F_INREPLYTO, F_MSGID, F_COUNT
};

static const char *const fld_names[F_COUNT] = {
	"content-type", "content-transfer-encoding", "content-id",
	"content-description", "content-disposition", "content-language",
	"content-location", "content-md5", "date", "subject", "from", "sender",
	"reply-to", "to", "cc", "bcc", "in-reply-to", "message-id",
};

struct fields {
	struct buf v[F_COUNT];
	int seen[F_COUNT];
	int truncated;
};

struct ctx {
	const char *m;
	size_t len;
	size_t nparts;
};

static size_t
line_end(const char *m, size_t i, size_t end)
{
	const char *lf = memchr(m + i, '\n', end - i);

	return lf != NULL ? (size_t)(lf - m) + 1 : end;
}

/* End of the line's content: before its LF or CRLF. */
static size_t
content_end(const char *m, size_t i, size_t le)
{
	if (le > i && m[le - 1] == '\n') {
		le--;
		if (le > i && m[le - 1] == '\r')
			le--;
	}
	return le;
}

/* Append a field's line content; NULs dropped, growth capped. */
static void
fld_append(struct fields *f, int k, const char *p, size_t n)
{
	const char *nul;
	size_t chunk;

	while (n > 0) {
		nul = memchr(p, '\0', n);
		chunk = nul != NULL ? (size_t)(nul - p) : n;
		if (chunk > 0 && buf_append(&f->v[k], p, chunk) == -1) {
			f->truncated = 1;
			return;
		}
		if (nul == NULL)
			return;
		p += chunk + 1;
		n -= chunk + 1;
	}
}

static int
fld_lookup(const char *p, size_t n)
{
	int k;

	for (k = 0; k < F_COUNT; k++)
		if (strlen(fld_names[k]) == n && strncasecmp(fld_names[k], p, n) == 0)
			return k;
	return -1;
}

/* Scan the header at [start, end): fill f, set hdr_end and body_start. */
static void
parse_header(struct ctx *c, struct mime_part *p, size_t start, size_t end,
    struct fields *f)
{
	const char *m = c->m;
	size_t i = start, le, ce, j;
	int cur = -1, k;

	p->hdr_start = start;
	while (i < end) {
		le = line_end(m, i, end);
		ce = content_end(m, i, le);
		if (ce == i && le > i) {	/* the empty line */
			p->hdr_end = p->body_start = le;
			return;
		}
		if (m[i] == ' ' || m[i] == '\t') {
			if (cur >= 0)
				fld_append(f, cur, m + i, ce - i);
			i = le;
			continue;
		}
		for (j = i; j < ce && m[j] > 32 && m[j] < 127 && m[j] != ':'; j++)
			;
		k = fld_lookup(m + i, j - i);
		while (j < ce && (m[j] == ' ' || m[j] == '\t'))
			j++;
		if (j == i || j >= ce || m[j] != ':')
			break;		/* not a field: the body starts here */
		cur = -1;
		if (k >= 0 && !f->seen[k]) {
			f->seen[k] = 1;
			cur = k;
			fld_append(f, k, m + j + 1, ce - j - 1);
		}
		i = le;
	}
	p->hdr_end = p->body_start = i;
}

/* A trimmed copy of a field, or NULL if absent. */
static char *
fld_dup(struct fields *f, int k)
{
	const char *s = buf_cstr(&f->v[k]);
	size_t n = f->v[k].len;

	if (!f->seen[k])
		return NULL;
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return xstrndup(s, n);
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- RFC 2045 lexing ---- */

struct lex {
	const char *s;
	size_t n, i;
};

/* Skip white space and (nested, escaped) comments. */
static void
lex_cfws(struct lex *l)
{
	int depth = 0;

	while (l->i < l->n) {
		char ch = l->s[l->i];

		if (depth > 0 && ch == '\\' && l->i + 1 < l->n)
			l->i++;
		else if (ch == '(')
			depth++;
		else if (ch == ')' && depth > 0)
			depth--;
		else if (depth == 0 && ch != ' ' && ch != '\t' && ch != '\r' &&
		    ch != '\n')
			return;
		l->i++;
	}
}

static int
is_tspecial(unsigned char ch)
{
	return ch <= 32 || ch == 127 || strchr("()<>@,;:\\\"/[]?=", ch) != NULL;
}

/* An RFC 2045 token (8-bit octets tolerated): its length, 0 if none. */
static size_t
lex_token(struct lex *l, const char **tok)
{
	size_t s = l->i;

	while (l->i < l->n && !is_tspecial((unsigned char)l->s[l->i]))
		l->i++;
	*tok = l->s + s;
	return l->i - s;
}

/* A quoted-string at l->i (which is '"'), unescaped into out; an
 * unterminated one runs to the end. */
static void
lex_quoted(struct lex *l, struct buf *out)
{
	int full = 0;

	l->i++;
	while (l->i < l->n && l->s[l->i] != '"') {
		if (l->s[l->i] == '\\' && l->i + 1 < l->n)
			l->i++;
		if (!full && buf_putc(out, l->s[l->i]) == -1)
			full = 1;	/* capped like the field: keep what fits */
		l->i++;
	}
	if (l->i < l->n)
		l->i++;
}

/* ---- parameters (RFC 2045 5.1, RFC 2231) ---- */

struct rawparam {
	char *name;		/* base name, lower case */
	int section;		/* -1: none */
	int ext;		/* ended with '*' */
	struct buf value;
};

static int
hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (unsigned char)tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Split "name", "name*", "name*3", "name*3*" into r. */
static void
split_pname(const char *p, size_t n, struct rawparam *r)
{
	const char *star = memchr(p, '*', n);
	size_t bl = star != NULL ? (size_t)(star - p) : n, i;
	long sec = -1;

	r->name = xstrndup(p, bl);
	lower(r->name);
	r->section = -1;
	r->ext = 0;
	if (star == NULL)
		return;
	i = bl + 1;
	if (i < n && isdigit((unsigned char)p[i])) {
		sec = 0;
		while (i < n && isdigit((unsigned char)p[i]) && sec < 100000)
			sec = sec * 10 + (p[i++] - '0');
		if (i < n && p[i] == '*') {
			r->ext = 1;
			i++;
		}
	} else
		r->ext = 1;
	if (i != n) {		/* "a*b": not RFC 2231, keep it whole */
		free(r->name);
		r->name = xstrndup(p, n);
		lower(r->name);
		r->ext = 0;
		sec = -1;
	}
	r->section = (int)sec;
}

/* Parse ";" separated parameters from l into raw[], at most cap. */
static size_t
parse_rawparams(struct lex *l, struct rawparam *raw, size_t cap)
{
	const char *tok;
	size_t n = 0, tl;

	while (l->i < l->n && n < cap) {
		lex_cfws(l);
		if (l->i < l->n && l->s[l->i] != ';') {
			/* junk: skip to the next ';' */
			while (l->i < l->n && l->s[l->i] != ';')
				l->i++;
		}
		if (l->i >= l->n)
			break;
		l->i++;		/* ';' */
		lex_cfws(l);
		if ((tl = lex_token(l, &tok)) == 0)
			continue;
		lex_cfws(l);
		if (l->i >= l->n || l->s[l->i] != '=')
			continue;
		l->i++;
		lex_cfws(l);
		split_pname(tok, tl, &raw[n]);
		buf_init(&raw[n].value, MIME_FIELD_MAX);
		if (l->i < l->n && l->s[l->i] == '"')
			lex_quoted(l, &raw[n].value);
		else if ((tl = lex_token(l, &tok)) > 0 &&
		    buf_append(&raw[n].value, tok, tl) == -1)
			buf_reset(&raw[n].value);	/* cannot happen: field cap */
		n++;
	}
	return n;
}

static int
plain_charset(const char *cs)
{
	return *cs == '\0' || strcasecmp(cs, "us-ascii") == 0 ||
	    strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

/* Append v to out percent-decoded (decode = 1) or percent-encoding the
 * octets that are not RFC 2231 attribute-chars (decode = 0, for plain
 * sections of a raw-kept value). */
static void
pct_append(struct buf *out, const char *v, size_t n, int ext, int decode)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	int ok = 0;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (decode && ext && ch == '%' && i + 2 < n &&
		    hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
			ok = buf_putc(out, hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
			i += 2;
		} else if (!decode && !ext && (is_tspecial(ch) || ch == '*' ||
		    ch == '\'' || ch == '%' || ch >= 127)) {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
			ok = buf_append(out, e, 3);
		} else
			ok = buf_putc(out, (char)ch);
		if (ok == -1)
			return;
	}
}

/* Assemble the parameters named raw[first].name into *out. */
static void
assemble(struct rawparam *raw, size_t n, size_t first, struct mime_param *out)
{
	struct buf val = BUF_INIT(MIME_FIELD_MAX);
	const char *name = raw[first].name, *v, *q1, *q2;
	size_t i, vl;
	int sec, found, decode = 1, any_ext = 0, ext_seen = 0;

	out->name = xstrdup(name);
	/* An extended form (name* or name*0...) wins over a plain name. */
	for (i = 0; i < n; i++)
		if (strcmp(raw[i].name, name) == 0 && (raw[i].ext || raw[i].section >= 0))
			any_ext = 1;
	if (!any_ext) {
		out->vlen = raw[first].value.len;
		out->value = xmemdup(buf_cstr(&raw[first].value), out->vlen + 1);
		return;
	}
	for (sec = -1; sec < MIME_PARAMS_MAX; sec++) {
		found = 0;
		for (i = 0; i < n && !found; i++) {
			if (strcmp(raw[i].name, name) != 0 || raw[i].section != sec ||
			    (sec == -1 && !raw[i].ext))
				continue;
			found = 1;
			v = buf_cstr(&raw[i].value);
			vl = raw[i].value.len;
			if (sec <= 0 && raw[i].ext && out->charset == NULL &&
			    (q1 = memchr(v, '\'', vl)) != NULL &&
			    (q2 = memchr(q1 + 1, '\'', vl - (size_t)(q1 + 1 - v))) != NULL) {
				out->charset = xstrndup(v, (size_t)(q1 - v));
				out->lang = xstrndup(q1 + 1, (size_t)(q2 - q1 - 1));
				decode = plain_charset(out->charset);
				vl -= (size_t)(q2 + 1 - v);
				v = q2 + 1;
			}
			ext_seen |= raw[i].ext;
			pct_append(&val, v, vl, raw[i].ext, decode);
		}
		if (sec == -1 && found)
			break;		/* name*: a single extended value */
		if (sec >= 0 && !found)
			break;		/* continuations stop at a gap */
	}
	if (out->charset == NULL && ext_seen) {
		out->charset = xstrdup("");
		out->lang = xstrdup("");
	}
	out->encoded = !decode;
	out->vlen = val.len;
	out->value = xmemdup(buf_cstr(&val), val.len + 1);
	buf_free(&val);
}

/* Parse parameters from l into a new array (*v, *nv). */
static void
parse_params(struct lex *l, struct mime_param **v, size_t *nv)
{
	struct rawparam raw[MIME_PARAMS_MAX];
	size_t n, i, j, k = 0;

	n = parse_rawparams(l, raw, MIME_PARAMS_MAX);
	*v = NULL;
	*nv = 0;
	if (n > 0)
		*v = xcalloc(n, sizeof(**v));
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(raw[j].name, raw[i].name) == 0)
				break;
		if (j == i)
			assemble(raw, n, i, &(*v)[k++]);
	}
	*nv = k;
	for (i = 0; i < n; i++) {
		free(raw[i].name);
		buf_free(&raw[i].value);
	}
}

/* Content-Type: type "/" subtype *(";" parameter).  1, or 0 if invalid. */
static int
parse_ctype(const char *s, size_t n, struct mime_part *p)
{
	struct lex l = { s, n, 0 };
	const char *t, *st;
	size_t tl, stl;

	lex_cfws(&l);
	if ((tl = lex_token(&l, &t)) == 0)
		return 0;
	lex_cfws(&l);
	if (l.i >= l.n || l.s[l.i] != '/')
		return 0;
	l.i++;
	lex_cfws(&l);
	if ((stl = lex_token(&l, &st)) == 0)
		return 0;
	p->type = xstrndup(t, tl);
	p->subtype = xstrndup(st, stl);
	lower(p->type);
	lower(p->subtype);
	parse_params(&l, &p->params, &p->nparams);
	return 1;
}

/* Content-Disposition: token *(";" parameter). */
static void
parse_cdisp(const char *s, size_t n, struct mime_part *p)
{
	struct lex l = { s, n, 0 };
	const char *t;
	size_t tl;

	lex_cfws(&l);
	if ((tl = lex_token(&l, &t)) == 0)
		return;
	p->disposition = xstrndup(t, tl);
	lower(p->disposition);
	parse_params(&l, &p->dparams, &p->ndparams);
}

static void
params_free(struct mime_param *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
		free(v[i].charset);
		free(v[i].lang);
	}
	free(v);
}

static void
set_type(struct mime_part *p, const char *type, const char *subtype)
{
	free(p->type);
	free(p->subtype);
	p->type = xstrdup(type);
	p->subtype = xstrdup(subtype);
	params_free(p->params, p->nparams);
	p->params = NULL;
	p->nparams = 0;
}

/* Give up a multipart or message/rfc822 structure: an opaque leaf. */
static void
make_broken(struct mime_part *p)
{
	set_type(p, "application", "octet-stream");
	p->flags |= MIME_F_BROKEN;
}

/* ---- envelope ---- */

static void
copy_addrs(const struct mime_addrlist *from, struct mime_addrlist *to)
{
	size_t i;

	if (from->n == 0)
		return;
	to->v = xcalloc(from->n, sizeof(*to->v));
	to->n = from->n;
	for (i = 0; i < from->n; i++) {
		const struct mime_addr *a = &from->v[i];

		to->v[i].name = a->name != NULL ? xstrdup(a->name) : NULL;
		to->v[i].adl = a->adl != NULL ? xstrdup(a->adl) : NULL;
		to->v[i].mailbox = a->mailbox != NULL ? xstrdup(a->mailbox) : NULL;
		to->v[i].host = a->host != NULL ? xstrdup(a->host) : NULL;
	}
}

static void
addrs_from(struct fields *f, int k, struct mime_addrlist *list)
{
	if (f->seen[k])
		mime_parse_addrs(buf_cstr(&f->v[k]), f->v[k].len, list);
}

static struct mime_envelope *
build_env(struct fields *f)
{
	struct mime_envelope *e = xcalloc(1, sizeof(*e));

	e->date = fld_dup(f, F_DATE);
	e->subject = fld_dup(f, F_SUBJECT);
	e->in_reply_to = fld_dup(f, F_INREPLYTO);
	e->message_id = fld_dup(f, F_MSGID);
	addrs_from(f, F_FROM, &e->from);
	addrs_from(f, F_SENDER, &e->sender);
	addrs_from(f, F_REPLYTO, &e->reply_to);
	addrs_from(f, F_TO, &e->to);
	addrs_from(f, F_CC, &e->cc);
	addrs_from(f, F_BCC, &e->bcc);
	if (e->sender.n == 0)
		copy_addrs(&e->from, &e->sender);
	if (e->reply_to.n == 0)
		copy_addrs(&e->from, &e->reply_to);
	return e;
}

static void
env_free(struct mime_envelope *e)
{
	if (e == NULL)
		return;
	free(e->date);
	free(e->subject);
	free(e->in_reply_to);
	free(e->message_id);
	mime_addrlist_free(&e->from);
	mime_addrlist_free(&e->sender);
	mime_addrlist_free(&e->reply_to);
	mime_addrlist_free(&e->to);
	mime_addrlist_free(&e->cc);
	mime_addrlist_free(&e->bcc);
	free(e);
}

/* ---- structure ---- */

static void parse_part(struct ctx *c, struct mime_part *p, size_t start,
    size_t end, int digest_child, int is_msg);

/* Fill the Content-* fields of p from f (defaults when absent/invalid). */
static void
apply_fields(struct mime_part *p, struct fields *f, int digest_child)
{
	char *s;

	if (f->seen[F_CTYPE] && !parse_ctype(buf_cstr(&f->v[F_CTYPE]),
	    f->v[F_CTYPE].len, p))
		p->flags |= MIME_F_BADTYPE;
	if (p->type == NULL) {
		/* RFC 2045 5.2, RFC 2046 5.1.5 */
		if (digest_child) {
			p->type = xstrdup("message");
			p->subtype = xstrdup("rfc822");
		} else {
			struct lex l = { ";charset=us-ascii", 17, 0 };

			p->type = xstrdup("text");
			p->subtype = xstrdup("plain");
			parse_params(&l, &p->params, &p->nparams);
		}
	}
	if ((s = fld_dup(f, F_CTE)) != NULL) {
		struct lex l = { s, strlen(s), 0 };
		const char *t;
		size_t tl;

		lex_cfws(&l);
		if ((tl = lex_token(&l, &t)) > 0) {
			p->encoding = xstrndup(t, tl);
			lower(p->encoding);
		}
		free(s);
	}
	p->id = fld_dup(f, F_CID);
	p->description = fld_dup(f, F_CDESC);
	p->md5 = fld_dup(f, F_CMD5);
	p->language = fld_dup(f, F_CLANG);
	p->location = fld_dup(f, F_CLOC);
	if (f->seen[F_CDISP])
		parse_cdisp(buf_cstr(&f->v[F_CDISP]), f->v[F_CDISP].len, p);
	if (f->truncated)
		p->flags |= MIME_F_TRUNCATED;
}

static void
count_body(const char *m, struct mime_part *p)
{
	size_t i, lf = 0, bare = 0;
	const char *q;

	p->size = p->body_end - p->body_start;
	for (i = p->body_start; i < p->body_end; i = (size_t)(q - m) + 1) {
		q = memchr(m + i, '\n', p->body_end - i);
		if (q == NULL)
			break;
		lf++;
		if (q == m + p->body_start || q[-1] != '\r')
			bare++;
	}
	p->wire_size = p->size + bare;
	p->lines = lf;
	if (p->size > 0 && m[p->body_end - 1] != '\n')
		p->lines++;
}

/* Does line [i, le) delimit boundary b?  1 (close: *close = 1), or 0. */
static int
is_delim(const char *m, size_t i, size_t le, const char *b, size_t bl,
    int *close)
{
	size_t j = i + 2 + bl;

	if (le - i < 2 + bl || m[i] != '-' || m[i + 1] != '-' ||
	    memcmp(m + i + 2, b, bl) != 0)
		return 0;
	*close = 0;
	if (j + 1 < le && m[j] == '-' && m[j + 1] == '-') {
		*close = 1;
		j += 2;
	}
	while (j < le && (m[j] == ' ' || m[j] == '\t' || m[j] == '\r' || m[j] == '\n'))
		j++;
	return j == le;
}

/* Start of the line end before offset i (the CRLF that belongs to the
 * delimiter on the line at i), not before lo. */
static size_t
before_eol(const char *m, size_t lo, size_t i)
{
	if (i > lo && m[i - 1] == '\n') {
		i--;
		if (i > lo && m[i - 1] == '\r')
			i--;
	}
	return i;
}

static struct mime_part *
new_child(struct ctx *c, struct mime_part *parent, struct mime_part **last)
{
	struct mime_part *ch = xcalloc(1, sizeof(*ch));

	c->nparts++;
	ch->parent = parent;
	ch->depth = parent->depth + 1;
	if (*last == NULL)
		parent->child = ch;
	else
		(*last)->next = ch;
	*last = ch;
	parent->nchildren++;
	return ch;
}

/* Split the body of multipart p at its boundary into child parts. */
static void
split_multipart(struct ctx *c, struct mime_part *p)
{
	const struct mime_param *bp = mime_param_get(p->params, p->nparams, "boundary");
	const char *m = c->m;
	struct mime_part *last = NULL, *ch;
	size_t i, le, start = 0, end = p->body_end;
	int close = 0, open = 0, digest = strcmp(p->subtype, "digest") == 0;

	if (bp == NULL || bp->vlen == 0 || bp->vlen > 200 ||
	    memchr(bp->value, '\0', bp->vlen) != NULL) {
		make_broken(p);
		return;
	}
	for (i = p->body_start; i < end && !close; i = le) {
		le = line_end(m, i, end);
		if (m[i] != '-' || !is_delim(m, i, le, bp->value, bp->vlen, &close))
			continue;
		if (open && c->nparts < MIME_PARTS_MAX) {
			ch = new_child(c, p, &last);
			parse_part(c, ch, start, before_eol(m, start, i), digest, 0);
		}
		open = !close && c->nparts < MIME_PARTS_MAX;
		start = le;
		if (!open)
			break;
	}
	if (open) {
		if (c->nparts < MIME_PARTS_MAX) {
			ch = new_child(c, p, &last);
			parse_part(c, ch, start, end, digest, 0);
		}
		p->flags |= MIME_F_UNTERMINATED;
	}
	if (p->child == NULL)
		make_broken(p);
}

/* Parse [start, end) as a part (a message if is_msg) into p. */
static void
parse_part(struct ctx *c, struct mime_part *p, size_t start, size_t end,
    int digest_child, int is_msg)
{
	struct fields f;
	struct mime_part *last = NULL, *ch;
	int k;

	memset(&f, 0, sizeof(f));
	for (k = 0; k < F_COUNT; k++)
		buf_init(&f.v[k], MIME_FIELD_MAX);
	parse_header(c, p, start, end, &f);
	p->body_end = end;
	apply_fields(p, &f, digest_child);
	if (is_msg)
		p->env = build_env(&f);
	for (k = 0; k < F_COUNT; k++)
		buf_free(&f.v[k]);
	count_body(c->m, p);

	if (strcmp(p->type, "multipart") == 0) {
		if (p->depth >= MIME_DEPTH_MAX || c->nparts >= MIME_PARTS_MAX)
			make_broken(p);
		else
			split_multipart(c, p);
	} else if (strcmp(p->type, "message") == 0 &&
	    strcmp(p->subtype, "rfc822") == 0) {
		if (p->depth >= MIME_DEPTH_MAX || c->nparts >= MIME_PARTS_MAX ||
		    (p->encoding != NULL && strcmp(p->encoding, "7bit") != 0 &&
		    strcmp(p->encoding, "8bit") != 0 && strcmp(p->encoding, "binary") != 0))
			make_broken(p);
		else {
			ch = new_child(c, p, &last);
			parse_part(c, ch, p->body_start, p->body_end, 0, 1);
		}
	}
}

struct mime_part *
mime_parse(const char *msg, size_t len)
{
	struct ctx c = { msg, len, 1 };
	struct mime_part *root = xcalloc(1, sizeof(*root));

	parse_part(&c, root, 0, len, 0, 1);
	return root;
}

void
mime_free(struct mime_part *p)
{
	struct mime_part *ch, *next;

	if (p == NULL)
		return;
	for (ch = p->child; ch != NULL; ch = next) {
		next = ch->next;
		mime_free(ch);
	}
	free(p->type);
	free(p->subtype);
	params_free(p->params, p->nparams);
	free(p->encoding);
	free(p->id);
	free(p->description);
	free(p->md5);
	free(p->language);
	free(p->location);
	free(p->disposition);
	params_free(p->dparams, p->ndparams);
	env_free(p->env);
	free(p);
}

const struct mime_param *
mime_param_get(const struct mime_param *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

size_t
mime_count(const struct mime_part *p)
{
	size_t n = 1;

	for (p = p->child; p != NULL; p = p->next)
		n += mime_count(p);
	return n;
}

/* ---- header walking (for FETCH HEADER.FIELDS and SEARCH HEADER) ---- */

int
mime_hfield_next(const char *m, size_t hdr_end, size_t *pos,
    struct mime_hfield *f)
{
	size_t i = *pos, le, ce, j, k;

	if (i >= hdr_end)
		return 0;
	le = line_end(m, i, hdr_end);
	ce = content_end(m, i, le);
	if (ce == i)
		return 0;	/* the empty line */
	f->start = i;
	f->nlen = 0;
	f->vstart = i;
	if (m[i] != ' ' && m[i] != '\t') {
		for (j = i; j < ce && m[j] > 32 && m[j] < 127 && m[j] != ':'; j++)
			;
		k = j;
		while (j < ce && (m[j] == ' ' || m[j] == '\t'))
			j++;
		if (j < ce && m[j] == ':' && k > i) {
			f->nlen = k - i;
			f->vstart = j + 1;
		}
	}
	for (i = le; i < hdr_end && (m[i] == ' ' || m[i] == '\t'); )
		i = line_end(m, i, hdr_end);
	f->end = *pos = i;
	return 1;
}

int
mime_hfield_is(const char *m, const struct mime_hfield *f, const char *name,
    size_t nlen)
{
	return f->nlen == nlen && nlen > 0 &&
	    strncasecmp(m + f->start, name, nlen) == 0;
}

int
mime_hfield_value(const char *m, const struct mime_hfield *f, struct buf *out)
{
	size_t i = f->vstart, le, ce, k, s;

	while (i < f->end) {
		le = line_end(m, i, f->end);
		ce = content_end(m, i, le);
		for (s = k = i; k <= ce; k++) {
			if (k < ce && m[k] != '\0')
				continue;
			if (k > s && buf_append(out, m + s, k - s) == -1)
				return -1;
			s = k + 1;
		}
		i = le;
	}
	return 0;
}
