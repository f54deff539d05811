/*
 * dns: MX/A/AAAA lookups for the remote agent (libresolv for transport, our
 * own parser for responses).  Trusts nothing in a response: every length,
 * pointer and name is checked before use.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <bsd/stdlib.h>

#include "dns.h"
#include "net.h"
#include "poison.h"

#define WIRE_NAME_MAX	255
#define PARSE_RR_MAX	64	/* answer records examined per response */

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static int
label_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Read the name at p[off]; *next is the offset after it in place.  Text goes
 * to out[WIRE_NAME_MAX + 1] ("" for the root); *bad is set when a label holds
 * a byte outside letters, digits, '-' and '_' (the text then is unusable).
 * Compression pointers must point strictly before the previous target (so
 * they cannot loop).  0 ok, -1 malformed.
 */
static int
name_read(const unsigned char *p, size_t len, size_t off, size_t *next,
    char *out, int *bad)
{
	size_t pos = off, limit = off, o = 0, wire = 1;
	int jumped = 0;

	*bad = 0;
	for (;;) {
		if (pos >= len)
			return -1;
		unsigned c = p[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -1;
			size_t target = ((size_t)(c & 0x3f) << 8) | p[pos + 1];
			if (target >= limit)
				return -1;
			if (!jumped)
				*next = pos + 2;
			jumped = 1;
			limit = pos = target;
			continue;
		}
		if (c & 0xc0)
			return -1;	/* 0x40/0x80: extended label types */
		if (c == 0)
			break;
		if (pos + 1 + c > len || (wire += c + 1) > WIRE_NAME_MAX)
			return -1;
		if (o > 0)
			out[o++] = '.';
		for (size_t i = 0; i < c; i++) {
			unsigned char ch = p[pos + 1 + i];
			if (!label_char_ok(ch))
				*bad = 1;
			out[o++] = label_char_ok(ch) ? (char)ch : '?';
		}
		pos += 1 + c;
	}
	out[o] = '\0';
	if (!jumped)
		*next = pos + 1;
	return 0;
}

/* One answer record as located in the packet. */
struct raw_rr {
	char owner[WIRE_NAME_MAX + 1];
	int owner_bad;
	uint16_t type;
	size_t rdoff, rdlen;
};

static int
same_name(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* A name in rdata that must fill it exactly and be a host name (or the root
 * if root_ok).  0 ok, -1 malformed. */
static int
rdata_name(const unsigned char *p, size_t len, const struct raw_rr *rr,
    size_t skip, int root_ok, char *out)
{
	size_t next = 0;
	int bad;

	if (rr->rdlen < skip + 1 ||
	    name_read(p, len, rr->rdoff + skip, &next, out, &bad) != 0 ||
	    next != rr->rdoff + rr->rdlen || bad)
		return -1;
	if (out[0] == '\0')
		return root_ok ? 0 : -1;
	return net_valid_domain(out, strlen(out)) ? 0 : -1;
}

/* Turn one record of the asked type into a->rr[]. 0 ok, -1 malformed. */
static int
take_rr(const unsigned char *p, size_t len, const struct raw_rr *rr,
    struct dns_answer *a)
{
	struct dns_rr *o;

	if (a->n >= DNS_MAX_RR)
		return 0;	/* the cap: more is ignored, not an error */
	o = &a->rr[a->n];
	memset(o, 0, sizeof(*o));
	o->type = rr->type;
	switch (rr->type) {
	case ns_t_mx:
		if (rr->rdlen < 3)
			return -1;
		o->pref = get16(p + rr->rdoff);
		if (rdata_name(p, len, rr, 2, 1, o->name) != 0)
			return -1;
		break;
	case ns_t_a:
	case ns_t_aaaa:
		if (rr->rdlen != (rr->type == ns_t_a ? 4u : 16u))
			return -1;
		memcpy(o->addr, p + rr->rdoff, rr->rdlen);
		break;
	default:
		return -1;
	}
	a->n++;
	return 0;
}

/* Follow CNAMEs from qname and take the records of qtype at the end. */
static int
follow_chain(const unsigned char *p, size_t len, const struct raw_rr *rr,
    size_t nrr, const char *qname, int qtype, struct dns_answer *a,
    const char **err)
{
	char cur[WIRE_NAME_MAX + 1];

	if (str_copy(cur, sizeof(cur), qname) != 0)
		return *err = "query name too long", -1;
	for (int hop = 0;; hop++) {
		size_t cname = nrr;
		for (size_t i = 0; i < nrr; i++) {
			if (rr[i].owner_bad || !same_name(rr[i].owner, cur))
				continue;
			if (rr[i].type == qtype) {
				if (take_rr(p, len, &rr[i], a) != 0)
					return *err = "malformed record data", -1;
			} else if (rr[i].type == ns_t_cname && cname == nrr)
				cname = i;
		}
		if (a->n > 0 || cname == nrr)
			break;
		if (hop >= DNS_MAX_CNAME)
			return *err = "CNAME chain too long", -1;
		if (rdata_name(p, len, &rr[cname], 0, 0, cur) != 0)
			return *err = "malformed CNAME target", -1;
	}
	return str_copy(a->cname, sizeof(a->cname), cur) == 0 ? 0 :
	    (*err = "name too long", -1);
}

/* Header and question.  *pos is left after the question. */
static int
parse_head(const unsigned char *p, size_t len, const char *qname, int qtype,
    struct dns_answer *a, size_t *pos, const char **err)
{
	char name[WIRE_NAME_MAX + 1];
	int bad;

	if (len < NS_HFIXEDSZ)
		return *err = "response shorter than a header", -1;
	if (!(p[2] & 0x80) || ((p[2] >> 3) & 0xf) != ns_o_query)
		return *err = "not a query response", -1;
	a->tc = (p[2] & 0x02) != 0;
	a->ad = (p[3] & 0x20) != 0;
	a->rcode = p[3] & 0x0f;
	if (get16(p + 4) != 1) {
		/* servers may drop the question from an error answer */
		if (a->rcode != ns_r_noerror && a->rcode != ns_r_nxdomain &&
		    get16(p + 4) == 0)
			return *pos = NS_HFIXEDSZ, 0;
		return *err = "response does not have one question", -1;
	}
	if (name_read(p, len, NS_HFIXEDSZ, pos, name, &bad) != 0 ||
	    *pos + 4 > len)
		return *err = "malformed question", -1;
	if (bad || !same_name(name, qname) || get16(p + *pos) != qtype ||
	    get16(p + *pos + 2) != ns_c_in)
		return *err = "response is for another question", -1;
	*pos += 4;
	return 0;
}

/* Locate the answer records (up to PARSE_RR_MAX of class IN). */
static int
parse_answers(const unsigned char *p, size_t len, size_t pos,
    struct raw_rr *rr, size_t *nrr, const char **err)
{
	unsigned an = get16(p + 6);

	*nrr = 0;
	for (unsigned i = 0; i < an && *nrr < PARSE_RR_MAX; i++) {
		struct raw_rr *r = &rr[*nrr];
		size_t next = 0;

		if (name_read(p, len, pos, &next, r->owner, &r->owner_bad) != 0 ||
		    next + 10 > len)
			return *err = "malformed answer record", -1;
		r->type = get16(p + next);
		r->rdlen = get16(p + next + 8);
		r->rdoff = next + 10;
		if (r->rdoff + r->rdlen > len)
			return *err = "answer record runs past the end", -1;
		pos = r->rdoff + r->rdlen;
		if (get16(p + next + 2) == ns_c_in)
			(*nrr)++;
	}
	return 0;
}

int
dns_parse(const unsigned char *p, size_t len, const char *qname, int qtype,
    struct dns_answer *a, const char **err)
{
	struct raw_rr rr[PARSE_RR_MAX];
	size_t pos = 0, nrr = 0;

	memset(a, 0, sizeof(*a));
	a->status = DNS_S_TEMP;
	a->rcode = -1;
	if (parse_head(p, len, qname, qtype, a, &pos, err) != 0)
		return -1;
	if (a->rcode == ns_r_nxdomain) {
		a->status = DNS_S_NXDOMAIN;
		return 1;
	}
	if (a->rcode != ns_r_noerror) {
		*err = a->rcode == ns_r_servfail ? "server failure (SERVFAIL)" :
		    "server refused or failed the query";
		return 1;	/* a well-formed answer saying "try later" */
	}
	if (a->tc) {
		/* a subset could hide the best MX or fake NODATA: never use it */
		*err = "truncated response";
		return 1;
	}
	if (parse_answers(p, len, pos, rr, &nrr, err) != 0 ||
	    follow_chain(p, len, rr, nrr, qname, qtype, a, err) != 0) {
		a->n = 0;
		return -1;
	}
	a->status = a->n > 0 ? DNS_S_OK : DNS_S_NODATA;
	return 1;
}

/* ---- routing (pure) ---------------------------------------------------- */

static void
shuffle(const struct dns_rr **v, size_t n, dns_random_fn rnd, void *ctx)
{
	for (size_t k = n; k > 1; k--) {
		size_t m = rnd(ctx) % k;
		const struct dns_rr *t = v[k - 1];
		v[k - 1] = v[m];
		v[m] = t;
	}
}

/* Sort the MX records by preference, shuffling equal preferences. */
static size_t
mx_order(const struct dns_answer *mx, const struct dns_rr **v,
    dns_random_fn rnd, void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < mx->n && i < DNS_MAX_RR; i++) {
		if (mx->rr[i].type != ns_t_mx)
			continue;
		size_t j = n++;
		for (; j > 0 && v[j - 1]->pref > mx->rr[i].pref; j--)
			v[j] = v[j - 1];
		v[j] = &mx->rr[i];
	}
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && v[j]->pref == v[i]->pref; j++)
			;
		shuffle(v + i, j - i, rnd, ctx);
	}
	return n;
}

static uint32_t
sys_random(void *ctx)
{
	(void)ctx;
	return arc4random();
}

static int
is_literal(const char *name)
{
	struct in_addr a4;
	struct in6_addr a6;

	return inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
}

static void
route_add(struct dns_route *r, const char *name, uint16_t pref, int implicit)
{
	struct dns_host *h;

	if (r->n >= DNS_MAX_HOSTS)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (same_name(r->host[i].name, name))
			return;	/* listed twice: keep the better one */
	h = &r->host[r->n];
	memset(h, 0, sizeof(*h));
	if (str_copy(h->name, sizeof(h->name), name) != 0)
		return;
	h->pref = pref;
	h->implicit = implicit;
	r->n++;
}

enum dns_class
dns_route_mx(const char *domain, const struct dns_answer *mx,
    const char *self, dns_random_fn rnd, void *ctx, struct dns_route *r,
    const char **err)
{
	const struct dns_rr *v[DNS_MAX_RR];
	size_t n, cut, roots = 0;

	memset(r, 0, sizeof(*r));
	if (domain == NULL || !net_valid_domain(domain, strlen(domain)))
		return *err = "5.1.2 bad destination domain name", DNS_PERM;
	switch (mx->status) {
	case DNS_S_NXDOMAIN:
		return *err = "5.1.2 domain does not exist (NXDOMAIN)", DNS_PERM;
	case DNS_S_NODATA:
		route_add(r, domain, 0, 1);	/* RFC 5321 5.1: implicit MX */
		return DNS_OK;
	case DNS_S_OK:
		break;
	default:
		return *err = "4.4.3 MX lookup failed temporarily", DNS_TEMP;
	}
	n = mx_order(mx, v, rnd != NULL ? rnd : sys_random, ctx);
	for (size_t i = 0; i < n; i++)
		roots += v[i]->name[0] == '\0';
	if (n > 0 && roots == n)	/* RFC 7505 null MX */
		return *err = "5.1.10 domain does not accept mail (null MX)",
		    DNS_PERM;
	/* RFC 5321 5.1: if we are an MX, only strictly better hosts remain. */
	for (cut = 0; cut < n; cut++)
		if (self != NULL && same_name(v[cut]->name, self))
			break;
	if (cut < n) {
		while (cut > 0 && v[cut - 1]->pref == v[cut]->pref)
			cut--;
		if (cut == 0)
			return *err = "5.4.6 mail for the domain loops back to "
			    "myself", DNS_PERM;
	}
	for (size_t i = 0; i < cut; i++)
		if (v[i]->name[0] != '\0' && !is_literal(v[i]->name))
			route_add(r, v[i]->name, v[i]->pref, 0);
	if (r->n == 0)
		return *err = "4.4.4 no usable MX host (address literals only)",
		    DNS_TEMP;
	return DNS_OK;
}

void
dns_host_add(struct dns_host *h, const struct dns_answer *a)
{
	if (a->status == DNS_S_TEMP)
		h->astatus = DNS_S_TEMP;
	for (size_t i = 0; i < a->n && h->naddr < DNS_MAX_ADDRS; i++) {
		struct sockaddr_storage ss;
		memset(&ss, 0, sizeof(ss));
		if (a->rr[i].type == ns_t_a) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, a->rr[i].addr, 4);
		} else if (a->rr[i].type == ns_t_aaaa) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, a->rr[i].addr, 16);
		} else
			continue;
		size_t j;
		for (j = 0; j < h->naddr; j++)
			if (memcmp(&h->addr[j], &ss, sizeof(ss)) == 0)
				break;
		if (j == h->naddr)
			h->addr[h->naddr++] = ss;
	}
}

enum dns_class
dns_route_finish(struct dns_route *r, const char **err)
{
	size_t k = 0;
	int temp = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (r->host[i].naddr == 0) {
			temp |= r->host[i].astatus == DNS_S_TEMP;
			continue;
		}
		if (k != i)
			r->host[k] = r->host[i];
		k++;
	}
	r->n = k;
	if (k > 0)
		return DNS_OK;
	if (temp)
		return *err = "4.4.3 address lookup failed temporarily",
		    DNS_TEMP;
	return *err = "5.4.4 no address for the destination's mail hosts",
	    DNS_PERM;
}

/* ---- the resolver ------------------------------------------------------ */

int
dns_init(struct dns *d, const char *server, const char **err)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;

	memset(d, 0, sizeof(*d));
	/* reads /etc/resolv.conf: must run before chroot */
	if (res_ninit(&d->res) != 0)
		return *err = "cannot initialise the resolver", -1;
	d->res.options &= ~(unsigned long)(RES_DEFNAMES | RES_DNSRCH);
	d->ready = 1;
	if (server == NULL || server[0] == '\0')
		return 0;
	if (net_parse_hostport(server, &ss, &sl, err) != 0)
		goto bad;
	if (ss.ss_family != AF_INET) {
		*err = "remote.dns: only an IPv4 address:port is supported";
		goto bad;
	}
	if (((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY)) {
		*err = "remote.dns: needs a resolver address, not *";
		goto bad;
	}
	memcpy(&d->res.nsaddr_list[0], &ss, sizeof(struct sockaddr_in));
	d->res.nscount = 1;
	d->res.retrans = DNS_TIMEOUT;
	d->res.retry = DNS_RETRIES;
	return 0;
bad:
	dns_close(d);
	return -1;
}

void
dns_close(struct dns *d)
{
	if (d->ready)
		res_nclose(&d->res);
	d->ready = 0;
}

void
dns_query(struct dns *d, const char *qname, int qtype, struct dns_answer *a)
{
	unsigned char q[NS_PACKETSZ];
	unsigned char *ans = malloc(NS_MAXMSG);
	const char *err;
	int qlen, n;

	memset(a, 0, sizeof(*a));
	a->status = DNS_S_TEMP;
	a->rcode = -1;
	if (ans == NULL) {
		a->syserr = ENOMEM;
		return;
	}
	qlen = res_nmkquery(&d->res, ns_o_query, qname, ns_c_in, qtype, NULL,
	    0, NULL, q, sizeof(q));
	if (qlen < 0) {
		a->syserr = EINVAL;
		goto out;
	}
	errno = 0;
	n = res_nsend(&d->res, q, qlen, ans, NS_MAXMSG);
	if (n < 0) {
		a->syserr = errno != 0 ? errno : ETIMEDOUT;
		goto out;
	}
	if (dns_parse(ans, (size_t)n, qname, qtype, a, &err) != 1)
		a->status = DNS_S_TEMP;
out:
	free(ans);
}

enum dns_class
dns_resolve(struct dns *d, const char *domain, const char *self,
    dns_random_fn rnd, void *ctx, struct dns_route *r, const char **err)
{
	struct dns_answer a;
	enum dns_class c;

	memset(r, 0, sizeof(*r));
	if (domain == NULL || !net_valid_domain(domain, strlen(domain)))
		return *err = "5.1.2 bad destination domain name", DNS_PERM;
	dns_query(d, domain, ns_t_mx, &a);
	c = dns_route_mx(domain, &a, self, rnd, ctx, r, err);
	if (c != DNS_OK)
		return c;
	for (size_t i = 0; i < r->n; i++) {
		dns_query(d, r->host[i].name, ns_t_aaaa, &a);
		dns_host_add(&r->host[i], &a);
		dns_query(d, r->host[i].name, ns_t_a, &a);
		dns_host_add(&r->host[i], &a);
	}
	return dns_route_finish(r, err);
}
