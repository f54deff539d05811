/* net: listen addresses, CIDR lists and address text, shared by master and smtpd. */
#ifndef POSTERN_NET_H
#define POSTERN_NET_H
#include <netinet/in.h>
#include <sys/socket.h>

#include "buf.h"

/* "127.0.0.1:2525", "[::1]:25", "*:25" (all IPv4+IPv6), ":25"; port 1..65535.
 * Empty string means disabled: returns 0 with *ss zeroed (ss_family AF_UNSPEC).
 * 0 ok, -1 bad (err points to a static reason). */
int net_parse_hostport(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen, const char **err) WUR;

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
/* Parse a comma/space separated list; 0 ok, -1 bad (err set). "" -> empty list. */
int net_list_parse(const char *s, struct net_list *l, const char **err) WUR;
/* 1 if sa (IPv4, IPv6 or v4-mapped) is inside one of the networks. */
int net_list_match(const struct net_list *l, const struct sockaddr *sa);
void net_list_free(struct net_list *l);
/* 1 if the address is loopback (127.0.0.0/8, ::1, ::ffff:127.x). */
int net_is_loopback(const struct sockaddr *sa);
#endif
