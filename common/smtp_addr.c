/*
 * smtp_addr: RFC 5321 (and RFC 6531) mailbox, domain and path parsing,
 * part of the smtp_parse module.  Used by smtpd for MAIL/RCPT/EHLO and by
 * the queue to re-validate envelopes.  Input is untrusted network bytes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "smtp_parse.h"

size_t
smtp_utf8_seq(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need, i;

	if (n == 0 || p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	need = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (p[0] == 0xe0 && p[1] < 0xa0)
		return 0;	/* overlong */
	if (p[0] == 0xed && p[1] >= 0xa0)
		return 0;	/* surrogate */
	if (p[0] == 0xf0 && p[1] < 0x90)
		return 0;	/* overlong */
	if (p[0] == 0xf4 && p[1] >= 0x90)
		return 0;	/* past U+10FFFF */
	return need;
}

int
smtp_utf8_valid(const char *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((unsigned char)p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = smtp_utf8_seq(p + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

int
smtp_text_valid(const char *p, size_t n)
{
	if (!smtp_utf8_valid(p, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

/* RFC 5322 atext, ASCII part. */
static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_letdig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Check that p[0..n) is a dot-string (atoms of atext, UTF-8 allowed with
 * utf8).  Returns OK, BADADDR or UTF8.
 */
static enum smtp_perr
check_dot_string(const char *p, size_t n, int utf8)
{
	size_t i = 0, k;
	int atomlen = 0;

	if (n == 0)
		return SMTP_P_BADADDR;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		if (c == '.') {
			if (atomlen == 0 || i + 1 == n)
				return SMTP_P_BADADDR;
			atomlen = 0;
			i++;
		} else if (c >= 0x80) {
			if (!utf8)
				return SMTP_P_UTF8;
			if ((k = smtp_utf8_seq(p + i, n - i)) == 0)
				return SMTP_P_BADADDR;
			i += k;
			atomlen++;
		} else if (is_atext(c)) {
			i++;
			atomlen++;
		} else
			return SMTP_P_BADADDR;
	}
	return SMTP_P_OK;
}

static unsigned
local_flags(const char *p, size_t n)
{
	unsigned f = 0;

	if (memchr(p, '%', n) != NULL)
		f |= SMTP_ADDR_PERCENT;
	if (memchr(p, '!', n) != NULL)
		f |= SMTP_ADDR_BANG;
	if (memchr(p, '@', n) != NULL)
		f |= SMTP_ADDR_AT;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			f |= SMTP_ADDR_UTF8;
	return f;
}

/* Decode the quoted-string at p (p[0] == '"') into content; *used is the
 * number of input bytes consumed including both quotes. */
static enum smtp_perr
quoted_content(const char *p, size_t n, int utf8, char *content, size_t *clen,
    size_t *used)
{
	size_t i = 1, o = 0, k;

	while (i < n && p[i] != '"') {
		unsigned char c = (unsigned char)p[i];
		size_t take = 1;
		if (c == '\\') {
			if (i + 1 >= n || (unsigned char)p[i + 1] < 32 ||
			    (unsigned char)p[i + 1] > 126)
				return SMTP_P_BADADDR;
			i++;
		} else if (c >= 0x80) {
			if (!utf8)
				return SMTP_P_UTF8;
			if ((take = smtp_utf8_seq(p + i, n - i)) == 0)
				return SMTP_P_BADADDR;
		} else if (c < 32 || c > 126)
			return SMTP_P_BADADDR;
		if (o + take > SMTP_LOCAL_MAX)
			return SMTP_P_BADADDR;
		for (k = 0; k < take; k++)
			content[o++] = p[i++];
	}
	if (i >= n)
		return SMTP_P_BADADDR;	/* no closing quote */
	*clen = o;
	*used = i + 1;
	return SMTP_P_OK;
}

/*
 * Parse the local part at the start of p[0..n); *used = bytes consumed.
 * Writes the normalized form into a->local and sets flags.
 */
static enum smtp_perr
local_parse(const char *p, size_t n, int utf8, struct smtp_addr *a, size_t *used)
{
	char content[SMTP_LOCAL_MAX + 1];
	size_t clen, i, o;
	enum smtp_perr e;

	if (n > 0 && p[0] == '"') {
		if ((e = quoted_content(p, n, utf8, content, &clen, used)) != SMTP_P_OK)
			return e;
		if (*used > SMTP_LOCAL_MAX)
			return SMTP_P_BADADDR;
		a->flags |= local_flags(content, clen);
		if (check_dot_string(content, clen, utf8) == SMTP_P_OK) {
			memcpy(a->local, content, clen);
			a->local[clen] = '\0';
			return SMTP_P_OK;
		}
		/* Canonical quoting is never longer than the wire form. */
		a->flags |= SMTP_ADDR_QUOTED;
		o = 0;
		a->local[o++] = '"';
		for (i = 0; i < clen; i++) {
			if (content[i] == '"' || content[i] == '\\')
				a->local[o++] = '\\';
			a->local[o++] = content[i];
		}
		a->local[o++] = '"';
		a->local[o] = '\0';
		return SMTP_P_OK;
	}
	for (i = 0; i < n && p[i] != '@'; i++)
		;
	if (i > SMTP_LOCAL_MAX)
		return SMTP_P_BADADDR;
	if ((e = check_dot_string(p, i, utf8)) != SMTP_P_OK)
		return e;
	memcpy(a->local, p, i);
	a->local[i] = '\0';
	a->flags |= local_flags(p, i);
	*used = i;
	return SMTP_P_OK;
}

static enum smtp_perr
literal_parse(const char *p, size_t n, char *out)
{
	char tmp[64], txt[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	int v6 = 0;

	if (n < 3 || p[n - 1] != ']')
		return SMTP_P_BADADDR;
	p++;
	n -= 2;
	if (n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		v6 = 1;
		p += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(tmp) || memchr(p, '\0', n) != NULL)
		return SMTP_P_BADADDR;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (!v6 && strspn(tmp, "0123456789.") != n)
		return SMTP_P_BADADDR;	/* includes general literals "tag:..." */
	if (v6 && strspn(tmp, "0123456789abcdefABCDEF:.") != n)
		return SMTP_P_BADADDR;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, bin) != 1)
		return SMTP_P_BADADDR;
	if (inet_ntop(v6 ? AF_INET6 : AF_INET, bin, txt, sizeof(txt)) == NULL)
		return SMTP_P_BADADDR;
	if (str_format(out, SMTP_DOMAIN_MAX + 1, "[%s%s]", v6 ? "IPv6:" : "", txt) == -1)
		return SMTP_P_BADADDR;
	return SMTP_P_OK;
}

/* One label p[0..n): LDH (U-label octets with utf8), no edge hyphens. */
static enum smtp_perr
label_check(const char *p, size_t n, int utf8)
{
	size_t i = 0, k;

	if (n == 0 || n > SMTP_LABEL_MAX || p[0] == '-' || p[n - 1] == '-')
		return SMTP_P_BADADDR;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x80) {
			if (!utf8)
				return SMTP_P_UTF8;
			if ((k = smtp_utf8_seq(p + i, n - i)) == 0)
				return SMTP_P_BADADDR;
			i += k;
		} else if (is_letdig(c) || c == '-')
			i++;
		else
			return SMTP_P_BADADDR;
	}
	return SMTP_P_OK;
}

enum smtp_perr
smtp_domain_parse(const char *p, size_t n, unsigned flags, char *out, int *literal)
{
	size_t i, start;
	enum smtp_perr e;

	*literal = 0;
	out[0] = '\0';
	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return SMTP_P_BADADDR;
	if (p[0] == '[') {
		*literal = 1;
		return literal_parse(p, n, out);
	}
	for (start = 0, i = 0; i <= n; i++) {
		if (i < n && p[i] != '.')
			continue;
		e = label_check(p + start, i - start, (flags & SMTP_PARSE_UTF8) != 0);
		if (e != SMTP_P_OK)
			return e;
		start = i + 1;
	}
	for (i = 0; i < n; i++)
		out[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
	out[n] = '\0';
	return SMTP_P_OK;
}

enum smtp_perr
smtp_mailbox_parse(const char *p, size_t n, unsigned flags, struct smtp_addr *a)
{
	size_t used = 0;
	int lit;
	enum smtp_perr e;

	memset(a, 0, sizeof(*a));
	if (n > SMTP_ADDR_MAX)
		return SMTP_P_BADADDR;
	e = local_parse(p, n, (flags & SMTP_PARSE_UTF8) != 0, a, &used);
	if (e != SMTP_P_OK)
		goto fail;
	if (used >= n || p[used] != '@') {
		e = SMTP_P_BADADDR;
		goto fail;
	}
	used++;
	if ((e = smtp_domain_parse(p + used, n - used, flags, a->domain, &lit)) != SMTP_P_OK)
		goto fail;
	if (lit)
		a->flags |= SMTP_ADDR_LITERAL;
	if (local_flags(a->domain, strlen(a->domain)) & SMTP_ADDR_UTF8)
		a->flags |= SMTP_ADDR_UTF8;
	if (str_format(a->addr, sizeof(a->addr), "%s@%s", a->local, a->domain) == -1) {
		e = SMTP_P_BADADDR;
		goto fail;
	}
	return SMTP_P_OK;
fail:
	memset(a, 0, sizeof(*a));
	return e;
}

/* Check "@dom,@dom" (the A-d-l before ':'); route domains are plain domains. */
static enum smtp_perr
route_check(const char *p, size_t n, unsigned flags)
{
	char dom[SMTP_DOMAIN_MAX + 1];
	size_t i = 0, j;
	int lit;
	enum smtp_perr e;

	for (;;) {
		if (i >= n || p[i] != '@')
			return SMTP_P_BADADDR;
		i++;
		for (j = i; j < n && p[j] != ','; j++)
			;
		if (j > i && p[i] == '[')
			return SMTP_P_BADADDR;
		if ((e = smtp_domain_parse(p + i, j - i, flags, dom, &lit)) != SMTP_P_OK)
			return e;
		if (j == n)
			return SMTP_P_OK;
		i = j + 1;
	}
}

enum smtp_perr
smtp_path_parse(const char *p, size_t n, unsigned flags, int allow_null,
    struct smtp_addr *a)
{
	const char *colon;
	unsigned route = 0;
	enum smtp_perr e;

	memset(a, 0, sizeof(*a));
	if (n < 2 || p[0] != '<' || p[n - 1] != '>' || n > SMTP_PATH_MAX)
		return SMTP_P_BADADDR;
	p++;
	n -= 2;
	if (n == 0)
		return allow_null ? SMTP_P_OK : SMTP_P_BADADDR;
	if (p[0] == '@') {
		/* The route cannot contain ':' (no literals allowed in it). */
		if ((colon = memchr(p, ':', n)) == NULL)
			return SMTP_P_BADADDR;
		if ((e = route_check(p, (size_t)(colon - p), flags)) != SMTP_P_OK)
			return e;
		n -= (size_t)(colon - p) + 1;
		p = colon + 1;
		route = SMTP_ADDR_ROUTE;
	}
	if ((e = smtp_mailbox_parse(p, n, flags, a)) != SMTP_P_OK)
		return e;
	a->flags |= route;
	return SMTP_P_OK;
}
