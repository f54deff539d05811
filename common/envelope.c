/*
 * envelope: the queue envelope and its text form ("postern-envelope 1",
 * one "key value" line each, values %XX-escaped, "end" last).  Used by
 * queue (spool files, injection from smtpd/sendmail); parsing trusts nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "xmalloc.h"

#define TIME_MAX	253402300799LL	/* 9999-12-31T23:59:59Z */
#define ATTEMPTS_MAX	1000000u
#define ORCPT_TEXT_MAX	(SMTP_ORCPT_MAX + 40)

static const char *state_names[] = { "pending", "sent", "failed", "deferred" };
static const char *ret_names[] = { "none", "full", "hdrs" };
static const char *body_names[] = { "none", "7bit", "8bitmime", "binarymime" };
static const char *notify_names[] = { "never", "success", "failure", "delay" };
static const char *kind_names[] = { "mail", "bounce", "double-bounce" };

void
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
}

static void
rcpt_free(struct envelope_rcpt *r)
{
	free(r->addr);
	free(r->orcpt);
	free(r->status);
	memset(r, 0, sizeof(*r));
}

void
envelope_free(struct envelope *e)
{
	free(e->sender);
	free(e->envid);
	free(e->client_addr);
	free(e->client_helo);
	free(e->auth_id);
	free(e->protocol);
	for (size_t i = 0; i < e->nrcpt; i++)
		rcpt_free(&e->rcpt[i]);
	free(e->rcpt);
	envelope_init(e);
}

void
envelope_set(char **field, const char *s)
{
	char *n = s != NULL ? xstrdup(s) : NULL;

	free(*field);
	*field = n;
}

struct envelope_rcpt *
envelope_add_rcpt(struct envelope *e, const char *addr, const char *orcpt,
    unsigned notify)
{
	struct envelope_rcpt *r;

	if (e->nrcpt == e->rcpt_cap) {
		size_t ncap = e->rcpt_cap ? e->rcpt_cap * 2 : 4;
		e->rcpt = xreallocarray(e->rcpt, ncap, sizeof(*e->rcpt));
		e->rcpt_cap = ncap;
	}
	r = &e->rcpt[e->nrcpt++];
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
	r->orcpt = orcpt != NULL ? xstrdup(orcpt) : NULL;
	r->notify = notify;
	r->state = ENV_RCPT_PENDING;
	return r;
}

const char *
envelope_state_name(enum envelope_state s)
{
	return (unsigned)s < 4 ? state_names[s] : "invalid";
}

/* ---- validation ------------------------------------------------------ */

/* UTF-8 text of at most max octets, no control characters but HTAB. */
static int
text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max || !smtp_utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
charset_ok(const char *s, size_t min, size_t max, const char *allowed)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, allowed) == n;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static int
mailbox_ok(const char *s, int utf8)
{
	struct smtp_addr a;

	return smtp_mailbox_parse(s, strlen(s), utf8 ? SMTP_PARSE_UTF8 : 0, &a) ==
	    SMTP_P_OK;
}

static int
rcpt_ok(const struct envelope_rcpt *r, int utf8, const char **err)
{
	if (r->addr == NULL || !mailbox_ok(r->addr, utf8))
		return *err = "bad recipient address", 0;
	if (r->orcpt != NULL && (!text_ok(r->orcpt, ORCPT_TEXT_MAX) ||
	    strchr(r->orcpt, ';') == NULL || r->orcpt[0] == ';'))
		return *err = "bad orcpt", 0;
	if ((r->notify & ~0x0fu) != 0 ||
	    ((r->notify & SMTP_NOTIFY_NEVER) && r->notify != SMTP_NOTIFY_NEVER))
		return *err = "bad notify", 0;
	if ((unsigned)r->state > ENV_RCPT_DEFERRED)
		return *err = "bad state", 0;
	if (r->attempts > ATTEMPTS_MAX)
		return *err = "bad attempts", 0;
	if (r->next_attempt < 0 || r->next_attempt > TIME_MAX)
		return *err = "bad next attempt", 0;
	if (r->status != NULL && !text_ok(r->status, ENVELOPE_TEXT_MAX))
		return *err = "bad status text", 0;
	return 1;
}

int
envelope_check(const struct envelope *e, const char **err)
{
	const char *dummy;

	if (err == NULL)
		err = &dummy;
	if (!charset_ok(e->id, 1, ENVELOPE_ID_MAX, ALNUM "_.-") || e->id[0] == '.')
		return *err = "bad id", 0;
	if (e->arrival < 0 || e->arrival > TIME_MAX)
		return *err = "bad arrival time", 0;
	if (e->smtputf8 != 0 && e->smtputf8 != 1)
		return *err = "bad smtputf8", 0;
	if (e->sender == NULL || (e->sender[0] != '\0' && !mailbox_ok(e->sender, e->smtputf8)))
		return *err = "bad sender", 0;
	if (e->envid != NULL && !charset_ok(e->envid, 1, SMTP_ENVID_MAX, ALNUM
	    " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"))
		return *err = "bad envid", 0;
	if ((unsigned)e->ret > SMTP_RET_HDRS || (unsigned)e->body > SMTP_BODY_BINARYMIME)
		return *err = "bad ret or body", 0;
	if (e->client_addr != NULL && !charset_ok(e->client_addr, 1, 100, ALNUM ".:[]-_"))
		return *err = "bad client address", 0;
	if (e->client_helo != NULL && !text_ok(e->client_helo, ENVELOPE_TEXT_MAX))
		return *err = "bad client helo", 0;
	if (e->auth_id != NULL && !text_ok(e->auth_id, ENVELOPE_TEXT_MAX))
		return *err = "bad auth identity", 0;
	if (e->protocol != NULL && !charset_ok(e->protocol, 1, 32, ALNUM "-"))
		return *err = "bad protocol", 0;
	if ((unsigned)e->kind > ENV_KIND_DOUBLE_BOUNCE || (e->hold & ~1) || (e->warned & ~1))
		return *err = "bad kind, hold or warned", 0;
	if (e->kind != ENV_KIND_MAIL && e->sender[0] != '\0')
		return *err = "a bounce must have the null sender", 0;
	if (e->nrcpt == 0 || e->nrcpt > ENVELOPE_RCPT_MAX)
		return *err = "bad recipient count", 0;
	for (size_t i = 0; i < e->nrcpt; i++)
		if (!rcpt_ok(&e->rcpt[i], e->smtputf8, err))
			return 0;
	return 1;
}

/* ---- serialization --------------------------------------------------- */

/* Printable ASCII except '%' goes raw; everything else as %XX. */
static int
put_esc(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c > 0x20 && c < 0x7f && c != '%') {
			if (buf_putc(b, c) == -1)
				return -1;
		} else if (buf_printf(b, "%%%02X", c) == -1)
			return -1;
	}
	return 0;
}

static int
put_field(struct buf *b, const char *key, const char *val)
{
	if (val == NULL)
		return 0;
	if (buf_printf(b, "%s ", key) == -1 || put_esc(b, val) == -1 ||
	    buf_putc(b, '\n') == -1)
		return -1;
	return 0;
}

static int
put_notify(struct buf *b, unsigned notify)
{
	const char *sep = " notify=";

	for (int i = 0; i < 4; i++) {
		if (!(notify & (1u << i)))
			continue;
		if (buf_printf(b, "%s%s", sep, notify_names[i]) == -1)
			return -1;
		sep = ",";
	}
	return 0;
}

static int
put_rcpt(struct buf *b, const struct envelope_rcpt *r)
{
	if (buf_puts(b, "rcpt ") == -1 || put_esc(b, r->addr) == -1 ||
	    buf_printf(b, " state=%s attempts=%u next=%lld", state_names[r->state],
	    r->attempts, (long long)r->next_attempt) == -1 ||
	    put_notify(b, r->notify) == -1)
		return -1;
	if (r->orcpt != NULL && (buf_puts(b, " orcpt=") == -1 || put_esc(b, r->orcpt) == -1))
		return -1;
	if (r->status != NULL && (buf_puts(b, " status=") == -1 || put_esc(b, r->status) == -1))
		return -1;
	return buf_putc(b, '\n');
}

int
envelope_serialize(const struct envelope *e, struct buf *out)
{
	const char *err;

	if (!envelope_check(e, &err))
		return -1;
	if (buf_printf(out, "postern-envelope %d\nid %s\narrival %lld\n",
	    ENVELOPE_VERSION, e->id, (long long)e->arrival) == -1 ||
	    put_field(out, "sender", e->sender) == -1 ||
	    put_field(out, "envid", e->envid) == -1 ||
	    (e->ret != SMTP_RET_NONE && put_field(out, "ret", ret_names[e->ret]) == -1) ||
	    (e->body != SMTP_BODY_NONE && put_field(out, "body", body_names[e->body]) == -1) ||
	    (e->smtputf8 && put_field(out, "smtputf8", "1") == -1) ||
	    put_field(out, "client-addr", e->client_addr) == -1 ||
	    put_field(out, "client-helo", e->client_helo) == -1 ||
	    put_field(out, "auth-id", e->auth_id) == -1 ||
	    put_field(out, "protocol", e->protocol) == -1 ||
	    (e->kind != ENV_KIND_MAIL && put_field(out, "kind", kind_names[e->kind]) == -1) ||
	    (e->hold && put_field(out, "hold", "1") == -1) ||
	    (e->warned && put_field(out, "warned", "1") == -1))
		return -1;
	for (size_t i = 0; i < e->nrcpt; i++)
		if (put_rcpt(out, &e->rcpt[i]) == -1)
			return -1;
	return buf_puts(out, "end\n");
}

/* ---- parsing ------------------------------------------------------- */

#define FIELD_MAX 4096	/* no decoded field is longer; envelope_check is stricter */

static int
hexup(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a %XX-escaped value into a new string (caller frees); NULL if the
 * escaping is not canonical, a NUL is encoded, or it is too long. */
static char *
unesc(const char *p, size_t n)
{
	char *s;
	size_t i, o = 0;

	if (n > FIELD_MAX * 3)
		return NULL;
	s = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexup((unsigned char)p[i + 1])) < 0 ||
			    (l = hexup((unsigned char)p[i + 2])) < 0)
				goto bad;
			c = (unsigned char)(h * 16 + l);
			/* Canonical: only what put_esc escapes may be escaped. */
			if (c == 0 || (c > 0x20 && c < 0x7f && c != '%'))
				goto bad;
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f)
			goto bad;
		s[o++] = (char)c;
	}
	s[o] = '\0';
	if (o > FIELD_MAX)
		goto bad;
	return s;
bad:
	free(s);
	return NULL;
}

/* Decimal without sign or leading zeros, <= max. */
static int
parse_num(const char *p, size_t n, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18 || (n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
name_index(const char *p, size_t n, const char **names, int count)
{
	for (int i = 0; i < count; i++)
		if (strlen(names[i]) == n && memcmp(names[i], p, n) == 0)
			return i;
	return -1;
}

static int
set_str(char **field, const char *p, size_t n)
{
	char *s;

	if (*field != NULL || (s = unesc(p, n)) == NULL)
		return -1;	/* duplicate or bad escaping */
	*field = s;
	return 0;
}

static int
parse_notify(const char *p, size_t n, unsigned *notify)
{
	size_t i = 0, j;
	int k;

	*notify = 0;
	while (i <= n) {
		for (j = i; j < n && p[j] != ','; j++)
			;
		if ((k = name_index(p + i, j - i, notify_names, 4)) < 0 ||
		    (*notify & (1u << k)))
			return -1;
		*notify |= 1u << k;
		i = j + 1;
	}
	return 0;
}

/* One "key=value" attribute of a rcpt line; *seen tracks duplicates. */
static int
rcpt_attr(struct envelope_rcpt *r, const char *p, size_t n, unsigned *seen)
{
	static const char *keys[] = { "state", "attempts", "next", "notify", "orcpt",
		"status" };
	const char *eq = memchr(p, '=', n);
	size_t vlen;
	int64_t v;
	int k;

	if (eq == NULL || (k = name_index(p, (size_t)(eq - p), keys, 6)) < 0 ||
	    (*seen & (1u << k)))
		return -1;
	*seen |= 1u << k;
	vlen = n - (size_t)(eq - p) - 1;
	switch (k) {
	case 0:
		if ((v = name_index(eq + 1, vlen, state_names, 4)) < 0)
			return -1;
		r->state = (enum envelope_state)v;
		return 0;
	case 1:
		if (parse_num(eq + 1, vlen, ATTEMPTS_MAX, &v) == -1)
			return -1;
		r->attempts = (unsigned)v;
		return 0;
	case 2:
		return parse_num(eq + 1, vlen, TIME_MAX, &r->next_attempt);
	case 3:
		return parse_notify(eq + 1, vlen, &r->notify);
	case 4:
		return set_str(&r->orcpt, eq + 1, vlen);
	default:
		return set_str(&r->status, eq + 1, vlen);
	}
}

static int
rcpt_line(struct envelope *e, const char *p, size_t n)
{
	struct envelope_rcpt *r;
	unsigned seen = 0;
	size_t i, j;
	char *addr;

	if (e->nrcpt >= ENVELOPE_RCPT_MAX)
		return -1;
	for (i = 0; i < n && p[i] != ' '; i++)
		;
	if ((addr = unesc(p, i)) == NULL)
		return -1;
	r = envelope_add_rcpt(e, addr, NULL, 0);
	free(addr);
	while (i < n) {
		i++;	/* the separating space */
		for (j = i; j < n && p[j] != ' '; j++)
			;
		if (rcpt_attr(r, p + i, j - i, &seen) == -1)
			return -1;
		i = j;
	}
	return (seen & 7) == 7 ? 0 : -1;	/* state, attempts, next required */
}

static int
header_line(struct envelope *e, const char *key, size_t klen, const char *val,
    size_t vlen, unsigned *seen)
{
	static const char *keys[] = { "id", "arrival", "sender", "envid", "ret", "body",
		"smtputf8", "client-addr", "client-helo", "auth-id", "protocol",
		"kind", "hold", "warned" };
	char *s;
	int k, v;

	if ((k = name_index(key, klen, keys, 14)) < 0 || (*seen & (1u << k)))
		return -1;
	*seen |= 1u << k;
	switch (k) {
	case 0:
		if ((s = unesc(val, vlen)) == NULL)
			return -1;
		v = str_copy(e->id, sizeof(e->id), s);
		free(s);
		return v;
	case 1:
		return parse_num(val, vlen, TIME_MAX, &e->arrival);
	case 2:
		return vlen == 0 ? (e->sender = xstrdup(""), 0) : set_str(&e->sender, val, vlen);
	case 3:
		return set_str(&e->envid, val, vlen);
	case 4:
		if ((v = name_index(val, vlen, ret_names, 3)) <= 0)
			return -1;
		e->ret = (enum smtp_ret)v;
		return 0;
	case 5:
		if ((v = name_index(val, vlen, body_names, 4)) <= 0)
			return -1;
		e->body = (enum smtp_body)v;
		return 0;
	case 6:
		return vlen == 1 && val[0] == '1' ? (e->smtputf8 = 1, 0) : -1;
	case 7:
		return set_str(&e->client_addr, val, vlen);
	case 8:
		return set_str(&e->client_helo, val, vlen);
	case 9:
		return set_str(&e->auth_id, val, vlen);
	case 10:
		return set_str(&e->protocol, val, vlen);
	case 11:
		if ((v = name_index(val, vlen, kind_names, 3)) <= 0)
			return -1;
		e->kind = (enum envelope_kind)v;
		return 0;
	case 12:
		return vlen == 1 && val[0] == '1' ? (e->hold = 1, 0) : -1;
	default:
		return vlen == 1 && val[0] == '1' ? (e->warned = 1, 0) : -1;
	}
}

/* Walk the lines; returns 0 when "end" was the last line, else -1. */
static int
parse_lines(const char *p, size_t len, struct envelope *e, const char **err)
{
	static const char version[] = "postern-envelope 1";
	size_t pos = 0, n, sp;
	unsigned seen = 0;
	int lineno = 0;

	while (pos < len) {
		const char *line = p + pos, *nl = memchr(line, '\n', len - pos);
		if (nl == NULL)
			return *err = "unterminated line", -1;
		n = (size_t)(nl - line);
		pos += n + 1;
		if (lineno++ == 0) {
			if (n != sizeof(version) - 1 || memcmp(line, version, n) != 0)
				return *err = "bad version line", -1;
			continue;
		}
		if (n == 3 && memcmp(line, "end", 3) == 0)
			return pos == len ? 0 : (*err = "data after end", -1);
		for (sp = 0; sp < n && line[sp] != ' '; sp++)
			;
		if (sp == n)
			return *err = "bad line", -1;
		if (sp == 4 && memcmp(line, "rcpt", 4) == 0) {
			if ((seen & 7) != 7)
				return *err = "id, arrival or sender missing", -1;
			if (rcpt_line(e, line + 5, n - 5) == -1)
				return *err = "bad rcpt line", -1;
		} else if (e->nrcpt > 0 ||
		    header_line(e, line, sp, line + sp + 1, n - sp - 1, &seen) == -1)
			return *err = "bad header line", -1;
	}
	return *err = "missing end line", -1;
}

int
envelope_parse(const char *p, size_t len, struct envelope *e, const char **err)
{
	const char *dummy;

	if (err == NULL)
		err = &dummy;
	envelope_free(e);
	if (len > ENVELOPE_SIZE_MAX) {
		*err = "envelope too large";
		return -1;
	}
	if (parse_lines(p, len, e, err) == -1 || !envelope_check(e, err)) {
		envelope_free(e);
		return -1;
	}
	return 0;
}
