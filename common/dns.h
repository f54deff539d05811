/*
 * dns: MX/A/AAAA lookups for the remote agent.  A resolver client on glibc's
 * libresolv (private state, set up before chroot), a pure parser of DNS
 * responses (everything in a response is hostile), and the pure RFC 5321
 * section 5.1 / RFC 7505 routing logic.
 */
#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H
#include <stddef.h>
#include <stdint.h>
#include <resolv.h>
#include <sys/socket.h>

#include "buf.h"

#define DNS_NAME_MAX	253	/* text form, no final dot */
#define DNS_MAX_RR	32	/* answer records of the asked type kept */
#define DNS_MAX_CNAME	8	/* CNAME hops followed inside one answer */
#define DNS_MAX_HOSTS	10	/* MX hosts tried per domain */
#define DNS_MAX_ADDRS	8	/* addresses kept per host */
#define DNS_TIMEOUT	5	/* seconds per try (configured server) */
#define DNS_RETRIES	2	/* tries per query (configured server) */

/* What a query came to.  Status of the whole lookup, not of one record. */
enum dns_status {
	DNS_S_OK = 1,		/* NOERROR with records of the asked type */
	DNS_S_NODATA,		/* NOERROR, name exists, no such records */
	DNS_S_NXDOMAIN,		/* the name does not exist */
	DNS_S_TEMP,		/* SERVFAIL, REFUSED, timeout, unreachable,
				   malformed: a mail host retries all of them */
};

/* The classification every routing function ends with. */
enum dns_class { DNS_OK = 0, DNS_TEMP = 1, DNS_PERM = 2 };

struct dns_rr {
	uint16_t type;			/* ns_t_mx, ns_t_a, ns_t_aaaa */
	uint16_t pref;			/* MX only */
	char name[DNS_NAME_MAX + 1];	/* MX exchange ("" = the root, null MX) */
	unsigned char addr[16];		/* A: 4 bytes, AAAA: 16 */
};

struct dns_answer {
	enum dns_status status;
	int rcode;			/* ns_r_*; -1 when no response arrived */
	int ad;				/* AD bit as received (see dns_init) */
	int tc;				/* TC bit (only seen if TCP was not tried) */
	int syserr;			/* errno of a failed send, else 0 */
	char cname[DNS_NAME_MAX + 1];	/* owner of the records after CNAMEs */
	size_t n;
	struct dns_rr rr[DNS_MAX_RR];
};

/* Parse one response to the question (qname, qtype).  Pure: no I/O, no
 * globals.  Checks the header, that the question echoes ours
 * (case-insensitively), every length and every compression pointer (only
 * backwards, bounded hops).  Follows CNAMEs inside the answer section from
 * qname (at most DNS_MAX_CNAME) and keeps the records of qtype owned by the
 * end of the chain; names must pass net_valid_domain.  Sets a->status from
 * RCODE and the records; a truncated (TC) response is TEMP, never used.  1 ok, -1 malformed (err set; a->status TEMP). */
int dns_parse(const unsigned char *p, size_t len, const char *qname,
    int qtype, struct dns_answer *a, const char **err) WUR;

/* One host to try, in order, with its addresses (AAAA first, then A). */
struct dns_host {
	char name[DNS_NAME_MAX + 1];
	uint16_t pref;
	int implicit;			/* no MX: the domain itself */
	size_t naddr;
	struct sockaddr_storage addr[DNS_MAX_ADDRS];	/* port 0 */
	enum dns_status astatus;	/* worst of the A/AAAA lookups */
};
struct dns_route {
	size_t n;
	struct dns_host host[DNS_MAX_HOSTS];
};

/* Random source: returns uniform 32-bit values (arc4random in production,
 * a seeded generator in tests). */
typedef uint32_t (*dns_random_fn)(void *ctx);

/* RFC 5321 5.1 / RFC 7505: from the MX answer for domain, the ordered list of
 * hosts (no addresses yet).  Preference order, equal preference shuffled
 * with rnd; NODATA -> the domain itself (implicit MX, preference 0);
 * NXDOMAIN -> PERM 5.1.2; only "." exchanges (null MX) -> PERM 5.1.10;
 * if self (our hostname, may be NULL) is an exchange, it and every host of
 * equal or higher preference are dropped (PERM 5.4.6 if none is left);
 * exchanges that are address literals are skipped.  At most DNS_MAX_HOSTS.
 * Returns the class; on TEMP/PERM *err is "X.Y.Z text" (static). */
enum dns_class dns_route_mx(const char *domain, const struct dns_answer *mx,
    const char *self, dns_random_fn rnd, void *ctx, struct dns_route *r,
    const char **err) WUR;

/* Add the addresses of an A or AAAA answer to h (up to DNS_MAX_ADDRS). */
void dns_host_add(struct dns_host *h, const struct dns_answer *a);

/* After the addresses were looked up: drop hosts without addresses.
 * DNS_OK if one is left; else TEMP if any lookup was temporary, PERM 5.4.4
 * otherwise (err set). */
enum dns_class dns_route_finish(struct dns_route *r, const char **err) WUR;

/* The resolver.  Private libresolv state, no globals. */
struct dns {
	struct __res_state res;
	int ready;
};

/* Set up the resolver; call BEFORE chroot.  server is "" (or NULL) for the
 * system's resolvers, read here from /etc/resolv.conf, or "a.b.c.d:port"
 * (remote.dns; IPv6 servers are refused) used alone with DNS_TIMEOUT and
 * DNS_RETRIES.  No search list, no domain appended.  0 ok, -1 (err set). */
int dns_init(struct dns *d, const char *server, const char **err) WUR;
void dns_close(struct dns *d);

/* Ask (qname, qtype) and parse the response into *a (status always set).
 * UDP, retried over TCP by libresolv when truncated. */
void dns_query(struct dns *d, const char *qname, int qtype,
    struct dns_answer *a);

/* The whole lookup for domain: MX, route, A+AAAA of each host.  rnd NULL
 * means arc4random.  Returns the class; err as for dns_route_mx. */
enum dns_class dns_resolve(struct dns *d, const char *domain,
    const char *self, dns_random_fn rnd, void *ctx, struct dns_route *r,
    const char **err) WUR;
#endif
