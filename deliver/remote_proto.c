/*
 * remote_proto: SMTP client protocol core of the remote agent — reply and
 * EHLO parsing, command building, DATA/BDAT encoding, result mapping.
 * Pure: trusts nothing from the peer, no I/O, no globals (remote_proto.h).
 */
#include <arpa/inet.h>
#include <strings.h>

#include "base64.h"
#include "net.h"
#include "remote_proto.h"

/* ---- replies ------------------------------------------------------- */

const char *
remote_perr_str(enum remote_perr e)
{
	switch (e) {
	case REMOTE_P_OK: return "ok";
	case REMOTE_P_TOOLONG: return "reply line too long";
	case REMOTE_P_NOCODE: return "reply line without a reply code";
	case REMOTE_P_RANGE: return "reply code out of range";
	case REMOTE_P_SEP: return "reply code not followed by space or hyphen";
	case REMOTE_P_MISMATCH: return "reply code changed within a reply";
	case REMOTE_P_CTRL: return "NUL, CR or LF inside a reply line";
	case REMOTE_P_TOOMANY: return "too many reply lines";
	case REMOTE_P_DONE: return "data after the last reply line";
	}
	return "unknown reply error";
}

void
remote_reply_init(struct remote_reply *r)
{
	memset(r, 0, sizeof(*r));
}

static int
isdigit_c(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the enhanced code "C.S.D" (class C = cls, 1-3 digits each)
 * at the start of p[0..n), followed by SP or the end; 0 if none. */
static size_t
enh_len(const char *p, size_t n, char cls)
{
	size_t i = 2, k, part;

	if (n < 5 || p[0] != cls || p[1] != '.')
		return 0;
	for (part = 0; part < 2; part++) {
		for (k = 0; i < n && isdigit_c(p[i]) && k < 4; i++, k++)
			;
		if (k == 0 || k > 3)
			return 0;
		if (part == 0 && (i >= n || p[i++] != '.'))
			return 0;
	}
	return (i == n || p[i] == ' ') ? i : 0;
}

/* Append p[0..n) to the reply text, printable ASCII only (others -> '?'). */
static void
text_add(struct remote_reply *r, const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	if (r->textlen > 0 && r->textlen < REMOTE_REPLY_TEXT)
		r->text[r->textlen++] = ' ';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (r->textlen == REMOTE_REPLY_TEXT) {
			r->truncated = 1;
			break;
		}
		r->text[r->textlen++] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	r->text[r->textlen] = '\0';
}

static int
reply_fail(enum remote_perr *err, enum remote_perr e)
{
	*err = e;
	return -1;
}

int
remote_reply_line(struct remote_reply *r, const char *line, size_t len,
    enum remote_perr *err)
{
	const char *t;
	size_t tlen, el;
	int code;

	if (r->done)
		return reply_fail(err, REMOTE_P_DONE);
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > REMOTE_LINE_MAX)
		return reply_fail(err, REMOTE_P_TOOLONG);
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) != NULL ||
	    memchr(line, '\n', len) != NULL)
		return reply_fail(err, REMOTE_P_CTRL);
	if (len < 3 || !isdigit_c(line[0]) || !isdigit_c(line[1]) ||
	    !isdigit_c(line[2]))
		return reply_fail(err, REMOTE_P_NOCODE);
	if (line[0] < '2' || line[0] > '5' || line[1] > '5')
		return reply_fail(err, REMOTE_P_RANGE);
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return reply_fail(err, REMOTE_P_SEP);
	if (r->nlines >= REMOTE_REPLY_LINES)
		return reply_fail(err, REMOTE_P_TOOMANY);
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return reply_fail(err, REMOTE_P_MISMATCH);
	r->code = code;
	t = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;
	if ((el = enh_len(t, tlen, line[0])) != 0) {
		/* the first line sets it; later lines repeat it (RFC 2034) */
		if (r->nlines == 0)
			memcpy(r->enh, t, el), r->enh[el] = '\0';
		if (r->enh[0] != '\0' && el == strlen(r->enh) &&
		    memcmp(t, r->enh, el) == 0) {
			t += el;
			tlen -= el;
			while (tlen > 0 && *t == ' ')
				t++, tlen--;
		}
	}
	text_add(r, t, tlen);
	r->nlines++;
	if (len == 3 || line[3] == ' ')
		r->done = 1;
	*err = REMOTE_P_OK;
	return r->done;
}

/* ---- EHLO ------------------------------------------------------------ */

void
remote_caps_init(struct remote_caps *c)
{
	memset(c, 0, sizeof(*c));
}

static int
word_is(const char *p, size_t n, const char *w)
{
	return n == strlen(w) && strncasecmp(p, w, n) == 0;
}

/* SIZE value: 1..20 digits without overflow, else 0 (no usable limit). */
static uint64_t
size_value(const char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isdigit_c(p[i]) || v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	return v;
}

static void
auth_mechs(struct remote_caps *c, const char *p, size_t n)
{
	size_t i = 0, j;

	c->ext |= REMOTE_EXT_AUTH;
	while (i < n) {
		for (j = i; j < n && p[j] != ' '; j++)
			;
		if (word_is(p + i, j - i, "PLAIN"))
			c->auth |= REMOTE_AUTH_PLAIN;
		else if (word_is(p + i, j - i, "LOGIN"))
			c->auth |= REMOTE_AUTH_LOGIN;
		i = j + 1;
	}
}

void
remote_caps_line(struct remote_caps *c, unsigned lineno, const char *line,
    size_t len)
{
	static const struct { const char *kw; unsigned bit; } kws[] = {
		{ "PIPELINING", REMOTE_EXT_PIPELINING },
		{ "8BITMIME", REMOTE_EXT_8BITMIME },
		{ "SMTPUTF8", REMOTE_EXT_SMTPUTF8 },
		{ "DSN", REMOTE_EXT_DSN },
		{ "CHUNKING", REMOTE_EXT_CHUNKING },
		{ "STARTTLS", REMOTE_EXT_STARTTLS },
		{ "ENHANCEDSTATUSCODES", REMOTE_EXT_ENHANCED },
		{ "BINARYMIME", REMOTE_EXT_BINARYMIME },
	};
	const char *p;
	size_t n, k, i;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (lineno == 0 || len < 5 || len > REMOTE_LINE_MAX)
		return;
	p = line + 4;
	n = len - 4;
	for (k = 0; k < n && p[k] != ' ' && p[k] != '='; k++)
		;
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (word_is(p, k, "AUTH")) {
		if (k < n)
			auth_mechs(c, p + k + 1, n - k - 1);
		else
			c->ext |= REMOTE_EXT_AUTH;
		return;
	}
	if (k < n && p[k] == '=')
		return;		/* "X=..." forms other than AUTH= */
	if (word_is(p, k, "SIZE")) {
		c->ext |= REMOTE_EXT_SIZE;
		c->size = k < n ? size_value(p + k + 1, n - k - 1) : 0;
		return;
	}
	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (word_is(p, k, kws[i].kw))
			c->ext |= kws[i].bit;
}

int
remote_ehlo_parse(const char *p, size_t len, struct remote_reply *r,
    struct remote_caps *c, enum remote_perr *err)
{
	const char *nl;
	size_t pos = 0, n;
	int rc = 0;

	remote_reply_init(r);
	remote_caps_init(c);
	*err = REMOTE_P_OK;
	while (pos < len) {
		if (rc == 1)
			return reply_fail(err, REMOTE_P_DONE);
		if ((nl = memchr(p + pos, '\n', len - pos)) == NULL) {
			if (len - pos > REMOTE_LINE_MAX + 2)
				return reply_fail(err, REMOTE_P_TOOLONG);
			break;	/* a partial line: wait for more */
		}
		n = (size_t)(nl - (p + pos)) + 1;
		if ((rc = remote_reply_line(r, p + pos, n, err)) == -1)
			return -1;
		remote_caps_line(c, r->nlines - 1, p + pos, n);
		pos += n;
	}
	if (rc == 1 && r->code / 100 != 2)
		remote_caps_init(c);
	return rc;
}

/* ---- commands ---------------------------------------------------------- */

/* 1 if s has a control character (NUL is its end: callers pass C strings,
 * an embedded NUL cannot reach here, but CR and LF can). */
static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int
has_8bit(const char *s)
{
	return remote_is_8bit(s, strlen(s));
}

static int
cmd_fail(struct buf *out, size_t save, const char **err, const char *why)
{
	buf_truncate(out, save);
	*err = why;
	return -1;
}

/* Append " ENVID=<xtext>" unless too long; 0 or -1 (limit). */
static int
put_envid(const char *envid, struct buf *out)
{
	size_t save = out->len;

	if (buf_puts(out, " ENVID=") == -1 ||
	    smtp_xtext_encode(envid, strlen(envid), out) == -1)
		return -1;
	if (out->len - save - 7 > SMTP_ENVID_MAX)
		buf_truncate(out, save);
	return 0;
}

int
remote_cmd_mail(const struct remote_mail *m, const struct remote_caps *c,
    struct buf *out, const char **err)
{
	size_t save = out->len;
	int utf8 = m->smtputf8 || has_8bit(m->sender);
	int r = 0;

	if (has_ctl(m->sender) || (m->envid != NULL && has_ctl(m->envid)))
		return cmd_fail(out, save, err, "control character in MAIL");
	if (utf8 && !(c->ext & REMOTE_EXT_SMTPUTF8))
		return cmd_fail(out, save, err, "peer does not offer SMTPUTF8");
	r |= buf_printf(out, "MAIL FROM:<%s>", m->sender);
	if ((c->ext & REMOTE_EXT_SIZE) && m->size > 0)
		r |= buf_printf(out, " SIZE=%llu", (unsigned long long)m->size);
	if (m->body == SMTP_BODY_BINARYMIME && (c->ext & REMOTE_EXT_BINARYMIME) &&
	    (c->ext & REMOTE_EXT_CHUNKING))
		r |= buf_puts(out, " BODY=BINARYMIME");
	else if ((m->body == SMTP_BODY_8BITMIME || m->body == SMTP_BODY_BINARYMIME) &&
	    (c->ext & REMOTE_EXT_8BITMIME))
		r |= buf_puts(out, " BODY=8BITMIME");
	if (utf8)
		r |= buf_puts(out, " SMTPUTF8");
	if (c->ext & REMOTE_EXT_DSN) {
		if (m->ret != SMTP_RET_NONE)
			r |= buf_puts(out, m->ret == SMTP_RET_FULL ? " RET=FULL" :
			    " RET=HDRS");
		if (m->envid != NULL && m->envid[0] != '\0')
			r |= put_envid(m->envid, out);
	}
	r |= buf_puts(out, "\r\n");
	if (r != 0)
		return cmd_fail(out, save, err, "MAIL command too long");
	return 0;
}

/* RFC 6533 utf-8-addr-xtext of the UTF-8 text s: QCHARs as they are,
 * everything else "\x{HEX}".  0, or -1 (not UTF-8, or limit). */
static int
utf8addr_xtext(const char *s, struct buf *out)
{
	size_t n = strlen(s), i = 0, k, j;
	uint32_t cp;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x21 && c <= 0x7e && c != '+' && c != '=' && c != '\\') {
			if (buf_putc(out, c) == -1)
				return -1;
			i++;
			continue;
		}
		if (c < 0x80)
			k = 1, cp = c;
		else if ((k = smtp_utf8_seq(s + i, n - i)) == 0)
			return -1;
		else {
			cp = c & (0xff >> (k + 1));
			for (j = 1; j < k; j++)
				cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3f);
		}
		if (buf_printf(out, "\\x{%02X}", (unsigned)cp) == -1)
			return -1;
		i += k;
	}
	return 0;
}

/* Append " ORCPT=type;xtext" for the decoded "type;addr"; left out when it
 * is malformed or too long.  0, or -1 (limit). */
static int
put_orcpt(const char *orcpt, struct buf *out)
{
	const char *semi = strchr(orcpt, ';');
	size_t save = out->len, tlen, i;
	int r;

	if (semi == NULL || (tlen = (size_t)(semi - orcpt)) == 0 || tlen > 31)
		return 0;
	for (i = 0; i < tlen; i++)
		if (!isdigit_c(orcpt[i]) && orcpt[i] != '-' &&
		    !((orcpt[i] | 0x20) >= 'a' && (orcpt[i] | 0x20) <= 'z'))
			return 0;
	if (buf_puts(out, " ORCPT=") == -1 || buf_append(out, orcpt, tlen + 1) == -1)
		return buf_truncate(out, save), -1;
	if (word_is(orcpt, tlen, "utf-8"))
		r = utf8addr_xtext(semi + 1, out);
	else
		r = smtp_xtext_encode(semi + 1, strlen(semi + 1), out);
	if (r == -1 || out->len - save - 7 > SMTP_ORCPT_MAX)
		buf_truncate(out, save);
	return 0;
}

static int
put_notify(unsigned notify, struct buf *out)
{
	static const struct { unsigned bit; const char *name; } nb[] = {
		{ SMTP_NOTIFY_SUCCESS, "SUCCESS" }, { SMTP_NOTIFY_FAILURE, "FAILURE" },
		{ SMTP_NOTIFY_DELAY, "DELAY" } };
	const char *sep = " NOTIFY=";
	size_t i;

	if (notify == 0)
		return 0;
	if (notify & SMTP_NOTIFY_NEVER)
		return buf_puts(out, " NOTIFY=NEVER");
	for (i = 0; i < 3; i++)
		if (notify & nb[i].bit) {
			if (buf_puts(out, sep) == -1 || buf_puts(out, nb[i].name) == -1)
				return -1;
			sep = ",";
		}
	return 0;
}

int
remote_cmd_rcpt(const char *rcpt, unsigned notify, const char *orcpt,
    int utf8, const struct remote_caps *c, struct buf *out, const char **err)
{
	size_t save = out->len;
	int r;

	if (rcpt[0] == '\0' || has_ctl(rcpt) || (orcpt != NULL && has_ctl(orcpt)))
		return cmd_fail(out, save, err, "control character in RCPT");
	if (!utf8 && has_8bit(rcpt))
		return cmd_fail(out, save, err, "non-ASCII recipient needs SMTPUTF8");
	r = buf_printf(out, "RCPT TO:<%s>", rcpt);
	if (r == 0 && (c->ext & REMOTE_EXT_DSN)) {
		r = put_notify(notify, out);
		if (r == 0 && orcpt != NULL)
			r = put_orcpt(orcpt, out);
	}
	if (r == -1 || buf_puts(out, "\r\n") == -1)
		return cmd_fail(out, save, err, "RCPT command too long");
	return 0;
}

int
remote_cmd_auth_plain(const char *user, const char *pass, struct buf *out,
    const char **err)
{
	struct buf raw = BUF_INIT(1024);
	size_t save = out->len;
	int r;

	r = buf_putc(&raw, '\0');
	r |= buf_puts(&raw, user);
	r |= buf_putc(&raw, '\0');
	r |= buf_puts(&raw, pass);
	if (r == 0)
		r = buf_puts(out, "AUTH PLAIN ");
	if (r == 0)
		r = base64_encode(raw.data, raw.len, out);
	if (r == 0)
		r = buf_puts(out, "\r\n");
	buf_free_secret(&raw);
	if (r != 0)
		return cmd_fail(out, save, err, "AUTH PLAIN credentials too long");
	return 0;
}

int
remote_cmd_auth_login(int step, const char *user, const char *pass,
    struct buf *out, const char **err)
{
	const char *s = step == 1 ? user : pass;
	size_t save = out->len;

	if (step == 0) {
		if (buf_puts(out, "AUTH LOGIN\r\n") == -1)
			return cmd_fail(out, save, err, "output buffer full");
		return 0;
	}
	if (step != 1 && step != 2)
		return cmd_fail(out, save, err, "bad AUTH LOGIN step");
	if (strlen(s) > 512 || base64_encode(s, strlen(s), out) == -1 ||
	    buf_puts(out, "\r\n") == -1)
		return cmd_fail(out, save, err, "AUTH LOGIN credentials too long");
	return 0;
}

int
remote_cmd_bdat(uint64_t len, int last, struct buf *out)
{
	return buf_printf(out, "BDAT %llu%s\r\n", (unsigned long long)len,
	    last ? " LAST" : "");
}

/* ---- message encoding ---------------------------------------------- */

void
remote_enc_init(struct remote_enc *e, int dot)
{
	memset(e, 0, sizeof(*e));
	e->dot = dot;
	e->bol = 1;
}

/* Room for n more octets in out? */
static int
room(const struct buf *out, size_t n)
{
	return out->len <= out->max && out->max - out->len >= n;
}

int
remote_enc_feed(struct remote_enc *e, const char *p, size_t n,
    struct buf *out)
{
	size_t i = 0, j;
	int r = 0;

	if (e->finished || n > BUF_NOLIMIT / 2 || !room(out, 2 * n + 2))
		return -1;
	while (i < n) {
		if (e->cr) {	/* a CR alone or of a CRLF: a line end either way */
			e->cr = 0;
			e->bol = 1;
			r |= buf_append(out, "\r\n", 2);
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		if (p[i] == '\r' || p[i] == '\n') {
			if (p[i] == '\r')
				e->cr = 1;
			else
				r |= buf_append(out, "\r\n", 2), e->bol = 1;
			i++;
			continue;
		}
		if (e->bol && e->dot && p[i] == '.')
			r |= buf_putc(out, '.');
		e->bol = 0;
		for (j = i; j < n && p[j] != '\r' && p[j] != '\n'; j++)
			;
		r |= buf_append(out, p + i, j - i);
		i = j;
	}
	return r == 0 ? 0 : -1;	/* -1 cannot happen after room() */
}

int
remote_enc_finish(struct remote_enc *e, struct buf *out)
{
	int r = 0;

	if (e->finished || !room(out, 5))
		return -1;
	if (e->cr || !e->bol)
		r |= buf_append(out, "\r\n", 2);
	if (e->dot)
		r |= buf_append(out, ".\r\n", 3);
	e->cr = 0;
	e->bol = 1;
	e->finished = 1;
	return r == 0 ? 0 : -1;
}

int
remote_is_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] > 127)
			return 1;
	return 0;
}

/* ---- results --------------------------------------------------------- */

const char *
remote_verb_name(enum remote_verb v)
{
	return v == REMOTE_SENT ? "sent" : v == REMOTE_DEFER ? "defer" : "fail";
}

/* Append s (printable ASCII; others '?') to res->text, cut at the limit. */
static void
res_add(struct remote_result *res, size_t *pos, const char *s)
{
	for (; *s != '\0' && *pos < REMOTE_STATUS_TEXT; s++) {
		unsigned char c = (unsigned char)*s;
		res->text[(*pos)++] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	res->text[*pos] = '\0';
}

/* "H[A]" with only host-name and address characters. */
static void
res_peer(struct remote_result *res, size_t *pos, const char *host,
    const char *addr)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
	    "VWXYZ0123456789.-_:";
	char tmp[2] = { 0, 0 };
	int part;

	for (part = 0; part < 2; part++) {
		const char *s = part == 0 ? (host ? host : "unknown") : (addr ? addr : "");
		if (part == 1)
			res_add(res, pos, "[");
		for (; *s != '\0'; s++) {
			tmp[0] = strchr(ok, *s) != NULL ? *s : '?';
			res_add(res, pos, tmp);
		}
	}
	res_add(res, pos, "]");
}

void
remote_result_reply(const struct remote_reply *r, const char *host,
    const char *addr, const char *stage, struct remote_result *res)
{
	int cls = r->code / 100;
	size_t pos = 0;
	char code[8];

	res->verb = cls == 2 ? REMOTE_SENT : cls == 5 ? REMOTE_FAIL : REMOTE_DEFER;
	if (cls != 2 && cls != 4 && cls != 5)
		memcpy(res->enh, "4.5.0", 6);
	else if (r->enh[0] == '0' + cls)
		memcpy(res->enh, r->enh, sizeof(res->enh));
	else
		res->enh[0] = (char)('0' + cls), memcpy(res->enh + 1, ".0.0", 5);
	res->text[0] = '\0';
	res_add(res, &pos, "host ");
	res_peer(res, &pos, host, addr);
	if (str_format(code, sizeof(code), "%03d", r->code % 1000) == -1)
		code[0] = '\0';
	res_add(res, &pos, " said: ");
	res_add(res, &pos, code);
	if (r->enh[0] != '\0')
		res_add(res, &pos, " "), res_add(res, &pos, r->enh);
	if (r->text[0] != '\0')
		res_add(res, &pos, " "), res_add(res, &pos, r->text);
	if (stage != NULL) {
		res_add(res, &pos, " (in reply to ");
		res_add(res, &pos, stage);
		res_add(res, &pos, ")");
	}
}

void
remote_result_conn(enum remote_connerr ce, const char *host,
    const char *addr, const char *detail, struct remote_result *res)
{
	static const struct { const char *enh, *pre, *post; } m[] = {
		[REMOTE_CONN_REFUSED] = { "4.4.1", "connect to ", "" },
		[REMOTE_CONN_TIMEOUT] = { "4.4.1", "connect to ", " timed out" },
		[REMOTE_CONN_LOST] = { "4.4.2", "lost connection with ", "" },
		[REMOTE_CONN_IDLE] = { "4.4.2", "conversation with ", " timed out" },
		[REMOTE_CONN_PROTO] = { "4.5.0", "protocol error from ", "" },
		[REMOTE_CONN_TLS] = { "4.7.5", "TLS with ", " failed" },
	};
	size_t pos = 0, i = (size_t)ce;

	if (i >= sizeof(m) / sizeof(m[0]))
		i = REMOTE_CONN_LOST;
	res->verb = REMOTE_DEFER;
	memcpy(res->enh, m[i].enh, 6);
	res->text[0] = '\0';
	res_add(res, &pos, m[i].pre);
	res_peer(res, &pos, host, addr);
	res_add(res, &pos, m[i].post);
	if (detail != NULL && detail[0] != '\0') {
		res_add(res, &pos, ce == REMOTE_CONN_LOST || ce == REMOTE_CONN_IDLE ?
		    " " : ": ");
		res_add(res, &pos, detail);
	}
}

int
remote_status_format(const struct remote_result *res, struct buf *out)
{
	return buf_printf(out, "%s %s%s%s", remote_verb_name(res->verb), res->enh,
	    res->text[0] != '\0' ? " " : "", res->text);
}

/* ---- policy values ---------------------------------------------------- */

static const char *const tls_levels[] = { "none", "may", "encrypt", "verify" };

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* s[0..*len) without blanks around: the new start, *len adjusted. */
static const char *
trim(const char *s, size_t *len)
{
	while (*len > 0 && is_blank(s[0])) {
		s++;
		(*len)--;
	}
	while (*len > 0 && is_blank(s[*len - 1]))
		(*len)--;
	return s;
}

int
remote_tls_level_parse(const char *s, size_t len, enum remote_tls_level *lv)
{
	s = trim(s, &len);
	for (size_t i = 0; i < sizeof(tls_levels) / sizeof(tls_levels[0]); i++)
		if (len == strlen(tls_levels[i]) && strncasecmp(s, tls_levels[i], len) == 0) {
			*lv = (enum remote_tls_level)i;
			return 0;
		}
	return -1;
}

const char *
remote_tls_level_name(enum remote_tls_level lv)
{
	return (size_t)lv < sizeof(tls_levels) / sizeof(tls_levels[0]) ?
	    tls_levels[lv] : "?";
}

/* "1".."65535" in s[0..len). */
static int
port_parse(const char *s, size_t len, int *port)
{
	long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int
remote_nexthop_parse(const char *s, size_t len, int defport, char *host,
    size_t hostsize, int *port, const char **err)
{
	const char *h, *colon = NULL, *close;
	unsigned char bin[16];
	char tmp[256];
	size_t hlen;
	int br;

	s = trim(s, &len);
	if ((br = len > 0 && s[0] == '[')) {
		if ((close = memchr(s, ']', len)) == NULL) {
			*err = "missing ']'";
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close + 1 < s + len) {
			if (close[1] != ':') {
				*err = "junk after ']'";
				return -1;
			}
			colon = close + 1;
		}
	} else {
		h = s;
		colon = memchr(s, ':', len);
		hlen = colon != NULL ? (size_t)(colon - s) : len;
	}
	*port = defport;
	if (colon != NULL && port_parse(colon + 1, (size_t)(s + len - colon - 1), port) == -1) {
		*err = "bad port (1-65535)";
		return -1;
	}
	if (hlen == 0 || hlen >= sizeof(tmp) || memchr(h, '\0', hlen) != NULL) {
		*err = "bad host";
		return -1;
	}
	memcpy(tmp, h, hlen);
	tmp[hlen] = '\0';
	if (br ? inet_pton(AF_INET, tmp, bin) != 1 && inet_pton(AF_INET6, tmp, bin) != 1 :
	    inet_pton(AF_INET, tmp, bin) != 1 && !net_valid_domain(tmp, hlen)) {
		*err = br ? "bad address in brackets" : "bad host name";
		return -1;
	}
	if (hlen >= hostsize) {
		*err = "host too long";
		return -1;
	}
	memcpy(host, tmp, hlen + 1);
	return 0;
}

/* A credential part p[0..n) into out: 0, or -1 (empty, too long, control
 * character). */
static int
cred_part(const char *p, size_t n, char *out, size_t outsize)
{
	if (n == 0 || n > REMOTE_CRED_MAX || n >= outsize)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
remote_cred_parse(const char *p, size_t len, char *user, size_t usize,
    char *pass, size_t psize, const char **err)
{
	const char *nl = memchr(p, '\n', len);
	size_t line = nl != NULL ? (size_t)(nl - p) : len, u, b;

	if (nl != NULL && line + 1 != len) {
		*err = "more than one line";
		return -1;
	}
	if (line > 0 && p[line - 1] == '\r')
		line--;
	for (u = 0; u < line && !is_blank(p[u]); u++)
		continue;
	for (b = u; b < line && is_blank(p[b]); b++)
		continue;
	if (b == u || b == line) {
		*err = "not one line \"USER PASSWORD\"";
		return -1;
	}
	if (cred_part(p, u, user, usize) == -1) {
		*err = "bad user name (empty, too long or a control character)";
		return -1;
	}
	if (cred_part(p + b, line - b, pass, psize) == -1) {
		explicit_bzero(user, usize);
		*err = "bad password (too long or a control character)";
		return -1;
	}
	return 0;
}
