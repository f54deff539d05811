/*
 * net: listen addresses ("host:port"), CIDR lists and address text.  Used by
 * config (validation), master (binding) and smtpd (trusted networks).  All
 * input is untrusted text; parsing is numeric only, never a DNS lookup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>

#include "net.h"
#include "xmalloc.h"

/* Strict port: 1..65535, digits only, at most 5 of them. */
static int
parse_port(const char *s, int *port)
{
	long v = 0;
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return -1;
		v = v * 10 + (s[n] - '0');
	}
	if (n == 0 || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Split "host:port" / "[v6]:port" into host text and port text. */
static int
split_hostport(const char *s, char *host, size_t hostsize, const char **port,
    int *bracketed, const char **err)
{
	const char *colon;
	size_t n;

	*bracketed = s[0] == '[';
	if (*bracketed) {
		const char *close = strchr(s, ']');

		if (close == NULL) {
			*err = "missing ']'";
			return -1;
		}
		if (close[1] != ':') {
			*err = "missing ':port' after ']'";
			return -1;
		}
		n = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			*err = "missing ':port'";
			return -1;
		}
		n = (size_t)(colon - s);
		if (memchr(s, ':', n) != NULL) {
			*err = "IPv6 address must be in brackets";
			return -1;
		}
	}
	if (n >= hostsize) {
		*err = "host too long";
		return -1;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

int
net_parse_hostport(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen, const char **err)
{
	char host[256];
	const char *ptext;
	int port, br;

	memset(ss, 0, sizeof(*ss));
	*sslen = 0;
	if (s[0] == '\0')
		return 0;
	if (split_hostport(s, host, sizeof(host), &ptext, &br, err) == -1)
		return -1;
	if (parse_port(ptext, &port) == -1) {
		*err = "bad port (1-65535)";
		return -1;
	}
	if (br) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			*err = "bad IPv6 address";
			return -1;
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (strcmp(host, "*") == 0 || host[0] == '\0')
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			*err = "bad IPv4 address (IPv6 goes in brackets)";
			memset(ss, 0, sizeof(*ss));
			return -1;
		}
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*s4);
	}
	return 0;
}

int
net_valid_domain(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

int
net_parse_relay(const char *s, char *host, size_t hostsize, int *port,
    const char **err)
{
	char h[256];
	const char *ptext;
	int br;
	unsigned char bin[16];

	if (split_hostport(s, h, sizeof(h), &ptext, &br, err) == -1)
		return -1;
	if (parse_port(ptext, port) == -1) {
		*err = "bad port (1-65535)";
		return -1;
	}
	if (br ? inet_pton(AF_INET6, h, bin) != 1 :
	    inet_pton(AF_INET, h, bin) != 1 && !net_valid_domain(h, strlen(h))) {
		*err = br ? "bad IPv6 address" : "bad host name";
		return -1;
	}
	if (str_copy(host, hostsize, h) == -1) {
		*err = "host too long";
		return -1;
	}
	return 0;
}

/* Mapped "::ffff:a.b.c.d" -> 1 and the 4 IPv4 bytes in v4. */
static int
v4_mapped(const unsigned char *a6, unsigned char *v4)
{
	static const unsigned char pfx[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

	if (memcmp(a6, pfx, sizeof(pfx)) != 0)
		return 0;
	memcpy(v4, a6 + 12, 4);
	return 1;
}

/* The address of sa as family + bytes, v4-mapped folded to IPv4. 0/-1. */
static int
sa_bytes(const struct sockaddr *sa, int *family, unsigned char *addr)
{
	if (sa->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		*family = AF_INET;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *a6 = (const unsigned char *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (v4_mapped(a6, addr)) {
			*family = AF_INET;
		} else {
			memcpy(addr, a6, 16);
			*family = AF_INET6;
		}
		return 0;
	}
	return -1;
}

int
net_addr_text(const struct sockaddr *sa, char *out, size_t outsize)
{
	unsigned char a[16];
	char tmp[INET6_ADDRSTRLEN];
	int fam;

	if (sa_bytes(sa, &fam, a) == -1 ||
	    inet_ntop(fam, a, tmp, sizeof(tmp)) == NULL) {
		if (str_copy(out, outsize, "unknown") == -1) {
			/* out is "" then */
		}
		return -1;
	}
	return str_copy(out, outsize, tmp);
}

int
net_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

/* Zero the bits of addr past prefix. */
static void
mask_addr(unsigned char *addr, int alen, int prefix)
{
	for (int i = 0; i < alen; i++) {
		int bits = prefix - i * 8;

		if (bits >= 8)
			continue;
		addr[i] &= bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
	}
}

/* One "addr[/prefix]" item of len bytes. */
static int
parse_cidr(const char *s, size_t len, struct net_cidr *c, const char **err)
{
	char text[INET6_ADDRSTRLEN + 8], *slash;
	int max, prefix;

	if (len >= sizeof(text)) {
		*err = "network too long";
		return -1;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	if ((slash = strchr(text, '/')) != NULL)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, text, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		*err = "bad network address";
		return -1;
	}
	prefix = max;
	if (slash != NULL) {
		const char *p = slash + 1;

		prefix = 0;
		if (*p == '\0' || strlen(p) > 3) {
			*err = "bad prefix length";
			return -1;
		}
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9') {
				*err = "bad prefix length";
				return -1;
			}
			prefix = prefix * 10 + (*p - '0');
		}
		if (prefix > max) {
			*err = "prefix length too large";
			return -1;
		}
	}
	/* A v4-mapped network of /96 or more is the IPv4 network. */
	if (c->family == AF_INET6 && prefix >= 96 && v4_mapped(c->addr, c->addr)) {
		c->family = AF_INET;
		prefix -= 96;
		memset(c->addr + 4, 0, 12);
	}
	c->prefix = prefix;
	mask_addr(c->addr, c->family == AF_INET ? 4 : 16, prefix);
	return 0;
}

int
net_list_parse(const char *s, struct net_list *l, const char **err)
{
	static const char sep[] = ", \t";
	struct net_list nl = { NULL, 0 };
	size_t cap = 0;

	while (*s != '\0') {
		size_t n;

		s += strspn(s, sep);
		if ((n = strcspn(s, sep)) == 0)
			break;
		if (nl.n == cap) {
			cap = cap ? cap * 2 : 4;
			nl.v = xreallocarray(nl.v, cap, sizeof(*nl.v));
		}
		if (parse_cidr(s, n, &nl.v[nl.n], err) == -1) {
			net_list_free(&nl);
			return -1;
		}
		nl.n++;
		s += n;
	}
	*l = nl;
	return 0;
}

int
net_list_match(const struct net_list *l, const struct sockaddr *sa)
{
	unsigned char a[16];
	int fam;

	if (sa_bytes(sa, &fam, a) == -1)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct net_cidr *c = &l->v[i];
		unsigned char m[16];

		if (c->family != fam)
			continue;
		memcpy(m, a, sizeof(m));
		mask_addr(m, fam == AF_INET ? 4 : 16, c->prefix);
		if (memcmp(m, c->addr, fam == AF_INET ? 4 : 16) == 0)
			return 1;
	}
	return 0;
}

void
net_list_free(struct net_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
net_is_loopback(const struct sockaddr *sa)
{
	static const unsigned char lo6[16] = { [15] = 1 };
	unsigned char a[16];
	int fam;

	if (sa_bytes(sa, &fam, a) == -1)
		return 0;
	if (fam == AF_INET)
		return a[0] == 127;
	return memcmp(a, lo6, 16) == 0;
}
