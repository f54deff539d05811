/*
 * smtp_parse: SMTP command lines, MAIL/RCPT parameters (SIZE, BODY,
 * SMTPUTF8, DSN, AUTH), xtext, EHLO, AUTH, BDAT and DATA-line checks.
 * Used by smtpd.  Pure: untrusted bytes in, fixed structs out, no I/O.
 */
#include <string.h>
#include <strings.h>

#include "smtp_parse.h"

int
smtp_perr_code(enum smtp_perr e)
{
	switch (e) {
	case SMTP_P_OK:
		return 250;
	case SMTP_P_UNKNOWN:
	case SMTP_P_TOOLONG:
		return 500;
	case SMTP_P_BADADDR:
	case SMTP_P_UTF8:
		return 553;
	case SMTP_P_PARAM:
		return 555;
	case SMTP_P_SYNTAX:
	case SMTP_P_PARAMVAL:
	default:
		return 501;
	}
}

const char *
smtp_perr_enhanced(enum smtp_perr e, int mail)
{
	switch (e) {
	case SMTP_P_OK:
		return "2.0.0";
	case SMTP_P_UNKNOWN:
		return "5.5.1";
	case SMTP_P_TOOLONG:
		return "5.5.2";
	case SMTP_P_BADADDR:
		return mail ? "5.1.7" : "5.1.3";
	case SMTP_P_UTF8:
		return "5.6.7";
	case SMTP_P_SYNTAX:
	case SMTP_P_PARAM:
	case SMTP_P_PARAMVAL:
	default:
		return "5.5.4";
	}
}

static const struct {
	const char *name;
	enum smtp_verb verb;
	int noarg;		/* an argument is a syntax error */
} verbs[] = {
	{ "EHLO", SMTP_VERB_EHLO, 0 },	{ "HELO", SMTP_VERB_HELO, 0 },
	{ "MAIL", SMTP_VERB_MAIL, 0 },	{ "RCPT", SMTP_VERB_RCPT, 0 },
	{ "DATA", SMTP_VERB_DATA, 1 },	{ "BDAT", SMTP_VERB_BDAT, 0 },
	{ "RSET", SMTP_VERB_RSET, 1 },	{ "NOOP", SMTP_VERB_NOOP, 0 },
	{ "QUIT", SMTP_VERB_QUIT, 1 },	{ "VRFY", SMTP_VERB_VRFY, 0 },
	{ "HELP", SMTP_VERB_HELP, 0 },	{ "STARTTLS", SMTP_VERB_STARTTLS, 1 },
	{ "AUTH", SMTP_VERB_AUTH, 0 },
};

const char *
smtp_verb_name(enum smtp_verb v)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == v)
			return verbs[i].name;
	return "UNKNOWN";
}

enum smtp_perr
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	size_t vlen, i;

	cmd->verb = SMTP_VERB_UNKNOWN;
	cmd->arg = line;
	cmd->arglen = 0;
	if (len > SMTP_CMD_MAX)
		return SMTP_P_TOOLONG;
	if (memchr(line, '\0', len) || memchr(line, '\r', len) || memchr(line, '\n', len))
		return SMTP_P_SYNTAX;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == vlen &&
		    strncasecmp(verbs[i].name, line, vlen) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return SMTP_P_UNKNOWN;
	cmd->verb = verbs[i].verb;
	while (vlen < len && line[vlen] == ' ')
		vlen++;
	cmd->arg = line + vlen;
	cmd->arglen = len - vlen;
	if (verbs[i].noarg && cmd->arglen > 0)
		return SMTP_P_SYNTAX;
	return SMTP_P_OK;
}

/* ---- xtext (RFC 3461 4) ------------------------------------------- */

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode xtext; raw UTF-8 passes when utf8 (RFC 6533 unitext).  Decoded
 * octets < 0x20 and 0x7f are refused; >= 0x80 only when utf8. */
static enum smtp_perr
xtext_decode(const char *p, size_t n, int utf8, char *out, size_t outsize,
    size_t *outlen)
{
	size_t i = 0, o = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		int h, l;
		if (c == '+') {
			if (i + 2 >= n)
				return SMTP_P_PARAMVAL;
			if ((h = hexval((unsigned char)p[i + 1])) < 0 ||
			    (l = hexval((unsigned char)p[i + 2])) < 0)
				return SMTP_P_PARAMVAL;
			c = (unsigned char)(h * 16 + l);
			i += 3;
		} else if (c >= 0x80 && utf8) {
			i++;	/* validated as a whole below */
		} else if (c < 33 || c > 126 || c == '=') {
			return SMTP_P_PARAMVAL;
		} else
			i++;
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			return SMTP_P_PARAMVAL;
		if (o + 1 >= outsize)
			return SMTP_P_PARAMVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*outlen = o;
	if (utf8 && !smtp_utf8_valid(out, o))
		return SMTP_P_PARAMVAL;
	return SMTP_P_OK;
}

enum smtp_perr
smtp_xtext_decode(const char *p, size_t len, char *out, size_t outsize)
{
	size_t olen;

	if (outsize == 0)
		return SMTP_P_PARAMVAL;
	out[0] = '\0';
	return xtext_decode(p, len, 0, out, outsize, &olen);
}

int
smtp_xtext_encode(const char *s, size_t len, struct buf *out)
{
	size_t save = out->len;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;
		if (c < 33 || c > 126 || c == '+' || c == '=')
			r = buf_printf(out, "+%02X", c);
		else
			r = buf_putc(out, c);
		if (r == -1) {
			buf_truncate(out, save);
			return -1;
		}
	}
	return 0;
}

/* RFC 6533 utf-8-addr-xtext / utf-8-addr-unitext: QCHARs, "\x{HEX}" and,
 * when utf8, raw UTF-8.  Decodes to UTF-8 text without controls. */
static enum smtp_perr
utf8addr_decode(const char *p, size_t n, int utf8, char *out, size_t outsize)
{
	size_t i = 0, o = 0, k, j;

	while (i < n) {
		unsigned char c = (unsigned char)p[i], enc[4];
		if (c == '\\') {
			unsigned long cp = 0;
			if (i + 3 >= n || p[i + 1] != 'x' || p[i + 2] != '{')
				return SMTP_P_PARAMVAL;
			for (j = i + 3; j < n && p[j] != '}'; j++) {
				int h = hexval((unsigned char)p[j]);
				if (h < 0 || j - (i + 3) >= 6)
					return SMTP_P_PARAMVAL;
				cp = cp * 16 + (unsigned long)h;
			}
			if (j >= n || j == i + 3 || cp < 0x20 || cp == 0x7f ||
			    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
				return SMTP_P_PARAMVAL;
			if (cp < 0x80) {
				enc[0] = (unsigned char)cp;
				k = 1;
			} else if (cp < 0x800) {
				enc[0] = (unsigned char)(0xc0 | (cp >> 6));
				enc[1] = (unsigned char)(0x80 | (cp & 0x3f));
				k = 2;
			} else if (cp < 0x10000) {
				enc[0] = (unsigned char)(0xe0 | (cp >> 12));
				enc[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
				enc[2] = (unsigned char)(0x80 | (cp & 0x3f));
				k = 3;
			} else {
				enc[0] = (unsigned char)(0xf0 | (cp >> 18));
				enc[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
				enc[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
				enc[3] = (unsigned char)(0x80 | (cp & 0x3f));
				k = 4;
			}
			i = j + 1;
		} else if (c >= 0x80) {
			if (!utf8 || (k = smtp_utf8_seq(p + i, n - i)) == 0)
				return SMTP_P_PARAMVAL;
			memcpy(enc, p + i, k);
			i += k;
		} else if (c < 0x21 || c > 0x7e || c == '+' || c == '=') {
			return SMTP_P_PARAMVAL;
		} else {
			enc[0] = c;
			k = 1;
			i++;
		}
		if (o + k >= outsize)
			return SMTP_P_PARAMVAL;
		memcpy(out + o, enc, k);
		o += k;
	}
	out[o] = '\0';
	return o > 0 ? SMTP_P_OK : SMTP_P_PARAMVAL;
}

/* ---- ESMTP parameters (RFC 5321 4.1.2 esmtp-param) --------------- */

#define PARAM_MAX 16

struct param {
	const char *key, *val;
	size_t klen, vlen;
	int hasval;
};

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Check one "keyword[=value]" token and record it. */
static enum smtp_perr
param_token(const char *p, size_t n, int utf8, struct param *pp)
{
	size_t i, k;

	memset(pp, 0, sizeof(*pp));
	if (n == 0 || !is_alnum((unsigned char)p[0]))
		return SMTP_P_SYNTAX;
	for (i = 1; i < n && p[i] != '='; i++)
		if (!is_alnum((unsigned char)p[i]) && p[i] != '-')
			return SMTP_P_SYNTAX;
	pp->key = p;
	pp->klen = i;
	if (i == n)
		return SMTP_P_OK;
	pp->hasval = 1;
	pp->val = p + i + 1;
	pp->vlen = n - i - 1;
	if (pp->vlen == 0)
		return SMTP_P_SYNTAX;
	for (i = 0; i < pp->vlen; i += k) {
		unsigned char c = (unsigned char)pp->val[i];
		k = 1;
		if (c >= 0x80) {
			if (!utf8 || (k = smtp_utf8_seq(pp->val + i, pp->vlen - i)) == 0)
				return SMTP_P_SYNTAX;
		} else if (c < 33 || c > 126 || c == '=')
			return SMTP_P_SYNTAX;
	}
	return SMTP_P_OK;
}

/* Split the text after a path: (SP param)*.  Duplicates are a syntax error. */
static enum smtp_perr
params_split(const char *p, size_t n, int utf8, struct param *pv, size_t *np)
{
	size_t i = 0, start, cnt = 0, k;
	enum smtp_perr e;

	while (i < n) {
		if (p[i] != ' ')
			return SMTP_P_SYNTAX;
		while (i < n && p[i] == ' ')
			i++;
		if (i == n)
			break;
		for (start = i; i < n && p[i] != ' '; i++)
			;
		if (cnt == PARAM_MAX)
			return SMTP_P_SYNTAX;
		if ((e = param_token(p + start, i - start, utf8, &pv[cnt])) != SMTP_P_OK)
			return e;
		for (k = 0; k < cnt; k++)
			if (pv[k].klen == pv[cnt].klen &&
			    strncasecmp(pv[k].key, pv[cnt].key, pv[k].klen) == 0)
				return SMTP_P_SYNTAX;
		cnt++;
	}
	*np = cnt;
	return SMTP_P_OK;
}

static int
kw(const struct param *pp, const char *name)
{
	return strlen(name) == pp->klen && strncasecmp(pp->key, name, pp->klen) == 0;
}

static int
val_is(const struct param *pp, const char *name)
{
	return strlen(name) == pp->vlen && strncasecmp(pp->val, name, pp->vlen) == 0;
}

/* The path starting at p ('<' ... '>', quotes respected); *plen its length. */
static enum smtp_perr
path_span(const char *p, size_t n, size_t *plen)
{
	int inq = 0;

	if (n == 0 || p[0] != '<')
		return SMTP_P_SYNTAX;
	for (size_t i = 1; i < n; i++) {
		if (inq && p[i] == '\\')
			i++;
		else if (p[i] == '"')
			inq = !inq;
		else if (!inq && p[i] == '>') {
			*plen = i + 1;
			return SMTP_P_OK;
		}
	}
	return SMTP_P_SYNTAX;
}

/* "FROM:" / "TO:" prefix, one optional SP, path, params. */
static enum smtp_perr
cmd_split(const char *arg, size_t len, const char *prefix, int utf8,
    const char **path, size_t *plen, struct param *pv, size_t *np)
{
	size_t i = strlen(prefix);
	enum smtp_perr e;

	if (len < i || strncasecmp(arg, prefix, i) != 0)
		return SMTP_P_SYNTAX;
	if (i < len && arg[i] == ' ')
		i++;
	if ((e = path_span(arg + i, len - i, plen)) != SMTP_P_OK)
		return e;
	*path = arg + i;
	i += *plen;
	return params_split(arg + i, len - i, utf8, pv, np);
}

static enum smtp_perr
parse_u64(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return SMTP_P_PARAMVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return SMTP_P_PARAMVAL;
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return SMTP_P_PARAMVAL;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return SMTP_P_OK;
}

static enum smtp_perr
mail_auth_param(const struct param *pp, struct smtp_mail *m)
{
	char tmp[SMTP_ADDR_MAX + 1];
	struct smtp_addr a;
	size_t tlen;

	if (xtext_decode(pp->val, pp->vlen, m->smtputf8, tmp, sizeof(tmp), &tlen) !=
	    SMTP_P_OK)
		return SMTP_P_PARAMVAL;
	m->has_auth = 1;
	if (strcmp(tmp, "<>") == 0) {
		m->auth_null = 1;
		return SMTP_P_OK;
	}
	if (smtp_mailbox_parse(tmp, tlen, m->smtputf8 ? SMTP_PARSE_UTF8 : 0, &a) !=
	    SMTP_P_OK)
		return SMTP_P_PARAMVAL;
	memcpy(m->auth, a.addr, sizeof(m->auth));
	return SMTP_P_OK;
}

static enum smtp_perr
mail_param(const struct param *pp, unsigned ext, struct smtp_mail *m)
{
	if (kw(pp, "SIZE")) {
		if (!(ext & SMTP_EXT_SIZE))
			return SMTP_P_PARAM;
		m->has_size = 1;
		return parse_u64(pp->val, pp->vlen, &m->size);
	}
	if (kw(pp, "SMTPUTF8"))
		return !(ext & SMTP_EXT_SMTPUTF8) ? SMTP_P_PARAM :
		    pp->hasval ? SMTP_P_PARAMVAL : SMTP_P_OK;
	if (kw(pp, "BODY")) {
		if (!(ext & SMTP_EXT_8BITMIME))
			return SMTP_P_PARAM;
		if (val_is(pp, "7BIT"))
			m->body = SMTP_BODY_7BIT;
		else if (val_is(pp, "8BITMIME"))
			m->body = SMTP_BODY_8BITMIME;
		else if (val_is(pp, "BINARYMIME"))
			m->body = SMTP_BODY_BINARYMIME;
		else
			return SMTP_P_PARAMVAL;
		if (m->body == SMTP_BODY_BINARYMIME && !(ext & SMTP_EXT_CHUNKING))
			return SMTP_P_PARAM;
		return SMTP_P_OK;
	}
	if (kw(pp, "RET") || kw(pp, "ENVID")) {
		if (!(ext & SMTP_EXT_DSN))
			return SMTP_P_PARAM;
		if (!pp->hasval)
			return SMTP_P_PARAMVAL;
		if (kw(pp, "ENVID")) {
			m->has_envid = 1;
			if (pp->vlen > SMTP_ENVID_MAX)
				return SMTP_P_PARAMVAL;
			return smtp_xtext_decode(pp->val, pp->vlen, m->envid,
			    sizeof(m->envid));
		}
		m->ret = val_is(pp, "FULL") ? SMTP_RET_FULL :
		    val_is(pp, "HDRS") ? SMTP_RET_HDRS : SMTP_RET_NONE;
		return m->ret == SMTP_RET_NONE ? SMTP_P_PARAMVAL : SMTP_P_OK;
	}
	if (kw(pp, "AUTH")) {
		if (!(ext & SMTP_EXT_AUTH))
			return SMTP_P_PARAM;
		return pp->hasval ? mail_auth_param(pp, m) : SMTP_P_PARAMVAL;
	}
	return SMTP_P_PARAM;
}

enum smtp_perr
smtp_mail_parse(const char *arg, size_t len, unsigned ext, struct smtp_mail *m)
{
	struct param pv[PARAM_MAX];
	const char *path = NULL;
	size_t plen = 0, np = 0, i;
	enum smtp_perr e;

	memset(m, 0, sizeof(*m));
	if ((e = cmd_split(arg, len, "FROM:", 0, &path, &plen, pv, &np)) != SMTP_P_OK)
		return e;
	for (i = 0; i < np; i++)
		if (kw(&pv[i], "SMTPUTF8") && (ext & SMTP_EXT_SMTPUTF8))
			m->smtputf8 = 1;
	for (i = 0; i < np; i++)
		if ((e = mail_param(&pv[i], ext, m)) != SMTP_P_OK)
			goto fail;
	e = smtp_path_parse(path, plen, m->smtputf8 ? SMTP_PARSE_UTF8 : 0, 1, &m->from);
	if (e != SMTP_P_OK)
		goto fail;
	m->null_sender = m->from.addr[0] == '\0';
	return SMTP_P_OK;
fail:
	memset(m, 0, sizeof(*m));
	return e;
}

static enum smtp_perr
notify_param(const struct param *pp, unsigned *notify)
{
	static const struct { const char *name; unsigned bit; } kws[] = {
		{ "NEVER", SMTP_NOTIFY_NEVER }, { "SUCCESS", SMTP_NOTIFY_SUCCESS },
		{ "FAILURE", SMTP_NOTIFY_FAILURE }, { "DELAY", SMTP_NOTIFY_DELAY },
	};
	size_t i = 0, j, k;

	*notify = 0;
	if (!pp->hasval)
		return SMTP_P_PARAMVAL;
	while (i <= pp->vlen) {
		for (j = i; j < pp->vlen && pp->val[j] != ','; j++)
			;
		for (k = 0; k < 4; k++)
			if (strlen(kws[k].name) == j - i &&
			    strncasecmp(kws[k].name, pp->val + i, j - i) == 0)
				break;
		if (k == 4 || (*notify & kws[k].bit))
			return SMTP_P_PARAMVAL;
		*notify |= kws[k].bit;
		i = j + 1;
	}
	if ((*notify & SMTP_NOTIFY_NEVER) && *notify != SMTP_NOTIFY_NEVER)
		return SMTP_P_PARAMVAL;
	return SMTP_P_OK;
}

static enum smtp_perr
orcpt_param(const struct param *pp, unsigned flags, struct smtp_rcpt *r)
{
	const char *semi;
	size_t tlen, i, olen;

	if (!pp->hasval || pp->vlen > SMTP_ORCPT_MAX ||
	    (semi = memchr(pp->val, ';', pp->vlen)) == NULL)
		return SMTP_P_PARAMVAL;
	tlen = (size_t)(semi - pp->val);
	if (tlen == 0 || tlen >= sizeof(r->orcpt_type))
		return SMTP_P_PARAMVAL;
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)pp->val[i];
		if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
			return SMTP_P_PARAMVAL;
		r->orcpt_type[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	r->orcpt_type[tlen] = '\0';
	r->has_orcpt = 1;
	if (strcmp(r->orcpt_type, "utf-8") == 0)
		return utf8addr_decode(semi + 1, pp->vlen - tlen - 1,
		    (flags & SMTP_PARSE_UTF8) != 0, r->orcpt, sizeof(r->orcpt));
	if (xtext_decode(semi + 1, pp->vlen - tlen - 1, 0, r->orcpt, sizeof(r->orcpt),
	    &olen) != SMTP_P_OK || olen == 0)
		return SMTP_P_PARAMVAL;
	return SMTP_P_OK;
}

enum smtp_perr
smtp_rcpt_parse(const char *arg, size_t len, unsigned ext, unsigned flags,
    struct smtp_rcpt *r)
{
	struct param pv[PARAM_MAX];
	const char *path = NULL;
	size_t plen = 0, np = 0, i;
	enum smtp_perr e;

	memset(r, 0, sizeof(*r));
	e = cmd_split(arg, len, "TO:", (flags & SMTP_PARSE_UTF8) != 0, &path, &plen,
	    pv, &np);
	if (e != SMTP_P_OK)
		return e;
	for (i = 0; i < np && e == SMTP_P_OK; i++) {
		if (!(ext & SMTP_EXT_DSN))
			e = SMTP_P_PARAM;
		else if (kw(&pv[i], "NOTIFY"))
			e = notify_param(&pv[i], &r->notify);
		else if (kw(&pv[i], "ORCPT"))
			e = orcpt_param(&pv[i], flags, r);
		else
			e = SMTP_P_PARAM;
	}
	if (e != SMTP_P_OK)
		goto fail;
	if (plen == 12 && strncasecmp(path + 1, "postmaster", 10) == 0) {
		r->postmaster = 1;
		memcpy(r->to.local, "postmaster", 11);
		memcpy(r->to.addr, "postmaster", 11);
		return SMTP_P_OK;
	}
	if ((e = smtp_path_parse(path, plen, flags, 0, &r->to)) == SMTP_P_OK)
		return SMTP_P_OK;
fail:
	memset(r, 0, sizeof(*r));
	return e;
}

/* ---- EHLO, AUTH, BDAT --------------------------------------------- */

enum smtp_perr
smtp_helo_parse(const char *arg, size_t len, struct smtp_helo *h)
{
	memset(h, 0, sizeof(*h));
	if (smtp_domain_parse(arg, len, 0, h->name, &h->literal) != SMTP_P_OK) {
		memset(h, 0, sizeof(*h));
		return SMTP_P_SYNTAX;
	}
	return SMTP_P_OK;
}

enum smtp_perr
smtp_auth_parse(const char *arg, size_t len, struct smtp_auth *a)
{
	size_t i, j;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < len && arg[i] != ' '; i++) {
		unsigned char c = (unsigned char)arg[i];
		if (i >= SMTP_MECH_MAX || (!is_alnum(c) && c != '-' && c != '_'))
			goto bad;
		a->mech[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : (char)c;
	}
	if (i == 0)
		goto bad;
	a->mech[i] = '\0';
	if (i == len)
		return SMTP_P_OK;
	i++;
	if (i == len)
		goto bad;
	a->has_initial = 1;
	a->initial = arg + i;
	if (len - i == 1 && arg[i] == '=')
		return SMTP_P_OK;	/* empty initial response */
	for (j = i; j < len; j++)
		if (!is_alnum((unsigned char)arg[j]) && arg[j] != '+' && arg[j] != '/' &&
		    arg[j] != '=')
			goto bad;
	a->initial_len = len - i;
	return SMTP_P_OK;
bad:
	memset(a, 0, sizeof(*a));
	return SMTP_P_SYNTAX;
}

enum smtp_perr
smtp_bdat_parse(const char *arg, size_t len, uint64_t *size, int *last)
{
	size_t i;

	*size = 0;
	*last = 0;
	for (i = 0; i < len && arg[i] != ' '; i++)
		;
	if (parse_u64(arg, i, size) != SMTP_P_OK)
		return SMTP_P_SYNTAX;
	if (i == len)
		return SMTP_P_OK;
	if (len - i == 5 && strncasecmp(arg + i + 1, "LAST", 4) == 0) {
		*last = 1;
		return SMTP_P_OK;
	}
	*size = 0;
	return SMTP_P_SYNTAX;
}

/* ---- DATA lines ----------------------------------------------------- */

unsigned
smtp_data_line(const char *line, size_t len, int after_crlf)
{
	unsigned f = 0;

	if (len == 0 || line[len - 1] != '\n')
		f |= SMTP_LINE_NO_EOL;
	else if (len >= 2 && line[len - 2] == '\r')
		f |= SMTP_LINE_CRLF;
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\0')
			f |= SMTP_LINE_NUL;
		else if (line[i] == '\r' && (i + 1 == len || line[i + 1] != '\n'))
			f |= SMTP_LINE_BARE_CR;
		else if (line[i] == '\n') {
			if (i == 0 || line[i - 1] != '\r')
				f |= SMTP_LINE_BARE_LF;
			if (i + 1 != len)
				f |= SMTP_LINE_LF_INSIDE;
		}
	}
	if (after_crlf && len == 3 && memcmp(line, ".\r\n", 3) == 0)
		f |= SMTP_LINE_END;
	else if (len > 0 && line[0] == '.')
		f |= SMTP_LINE_STUFFED;
	return f;
}

void
smtp_data_unstuff(const char *line, size_t len, const char **out, size_t *outlen)
{
	if (len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	*out = line;
	*outlen = len;
}
