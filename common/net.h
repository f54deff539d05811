/* net: listen addresses, CIDR lists and address text, shared by master and smtpd. */
#ifndef POSTERN_NET_H
#define POSTERN_NET_H
#include <netinet/in.h>
#include <sys/socket.h>

#include "buf.h"

/* "127.0.0.1:2525", "[::1]:25", "*:25", ":25"; port 1..65535 (digits only).
 * "*:25" and ":25" mean 0.0.0.0 (all IPv4 addresses); write "[::]:25" for
 * all IPv6 addresses (which Linux by default also accepts IPv4 on).  Numeric
 * addresses only, no DNS.  Empty string means disabled: returns 0 with *ss
 * zeroed (ss_family AF_UNSPEC, *sslen 0).
 * 0 ok, -1 bad (err points to a static reason). */
int net_parse_hostport(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen, const char **err) WUR;

/* "host:port" where host is a domain name, an IPv4 address or a bracketed
 * IPv6 address ("mail.example.com:587", "[::1]:25"): the syntax of
 * remote.smarthost.  host (without brackets) is copied to host[hostsize],
 * *port is 1..65535.  Syntax only, no DNS.  0 ok, -1 bad (err set). */
int net_parse_relay(const char *s, char *host, size_t hostsize, int *port,
    const char **err) WUR;
/* 1 if s[0..len) is a syntactically valid domain name: dot-separated labels
 * of 1..63 letters, digits and inner '-', at most 253 octets, no final dot. */
int net_valid_domain(const char *s, size_t len);

/* Text form "1.2.3.4" / "::1" (no port) of an address; IPv4-mapped IPv6 shown as IPv4. */
int net_addr_text(const struct sockaddr *sa, char *out, size_t outsize) WUR;
/* Port of a sockaddr (host order). */
int net_port(const struct sockaddr *sa);

/* A list of networks, e.g. "10.0.0.0/8, ::1/128, 192.168.1.7". */
struct net_cidr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};
struct net_list {
	struct net_cidr *v;
	size_t n;
};
/* Parse a comma/space separated list; 0 ok, -1 bad (err set). "" -> empty list.
 * "addr" alone is a host (/32, /128); host bits past the prefix are ignored;
 * a v4-mapped IPv6 network (::ffff:a.b.c.d/96+) is stored as IPv4.  The caller
 * frees with net_list_free(). */
int net_list_parse(const char *s, struct net_list *l, const char **err) WUR;
/* 1 if sa (IPv4, IPv6 or v4-mapped) is inside one of the networks.  A
 * v4-mapped address is compared as IPv4 only (so ::/0 does not match it). */
int net_list_match(const struct net_list *l, const struct sockaddr *sa);
void net_list_free(struct net_list *l);
/* 1 if the address is loopback (127.0.0.0/8, ::1, ::ffff:127.x). */
int net_is_loopback(const struct sockaddr *sa);
#endif
