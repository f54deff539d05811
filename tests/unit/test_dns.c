/*
 * Unit tests for common/dns: the response parser on hand-built packets
 * (good, hostile, truncated, looping), the RFC 5321 / RFC 7505 routing with a
 * seeded random source, address collection and caps, resolver set-up.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdlib.h>

#include "dns.h"
#include "unit.h"

struct pkt {
	unsigned char b[4096];
	size_t n;
};

static void
put8(struct pkt *p, unsigned v)
{
	if (p->n < sizeof(p->b))
		p->b[p->n++] = (unsigned char)v;
}

static void
put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

/* Text name to wire form; "" is the root. */
static void
putname(struct pkt *p, const char *s)
{
	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		put8(p, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			put8(p, (unsigned char)s[i]);
		s += l + (dot != NULL);
	}
	put8(p, 0);
}

/* Header (rcode, flags) and the question. */
static void
head(struct pkt *p, unsigned rcode, unsigned ad, unsigned an,
    const char *q, unsigned qtype)
{
	p->n = 0;
	put16(p, 0x1234);
	put8(p, 0x81);			/* QR, RD */
	put8(p, 0x80 | (ad ? 0x20 : 0) | rcode);	/* RA */
	put16(p, 1);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
	putname(p, q);
	put16(p, qtype);
	put16(p, ns_c_in);
}

static void
rr_head(struct pkt *p, const char *owner, unsigned type, unsigned rdlen)
{
	if (owner == NULL) {		/* pointer to the question name */
		put8(p, 0xc0);
		put8(p, 12);
	} else
		putname(p, owner);
	put16(p, type);
	put16(p, ns_c_in);
	put16(p, 0);
	put16(p, 300);
	put16(p, rdlen);
}

static void
rr_mx(struct pkt *p, const char *owner, unsigned pref, const char *exch)
{
	struct pkt t = { .n = 0 };
	putname(&t, exch);
	rr_head(p, owner, ns_t_mx, (unsigned)t.n + 2);
	put16(p, pref);
	for (size_t i = 0; i < t.n; i++)
		put8(p, t.b[i]);
}

static void
rr_cname(struct pkt *p, const char *owner, const char *target)
{
	struct pkt t = { .n = 0 };
	putname(&t, target);
	rr_head(p, owner, ns_t_cname, (unsigned)t.n);
	for (size_t i = 0; i < t.n; i++)
		put8(p, t.b[i]);
}

static void
rr_a(struct pkt *p, const char *owner, unsigned last)
{
	rr_head(p, owner, ns_t_a, 4);
	put8(p, 192); put8(p, 0); put8(p, 2); put8(p, last);
}

static void
rr_aaaa(struct pkt *p, const char *owner, unsigned last)
{
	rr_head(p, owner, ns_t_aaaa, 16);
	put16(p, 0x2001); put16(p, 0xdb8);
	for (int i = 0; i < 5; i++)
		put16(p, 0);
	put16(p, last);
}

/* ---- packets, one builder each ---- */
static void
b_mx3(struct pkt *p)
{
	head(p, 0, 1, 3, "example.test", ns_t_mx);
	rr_mx(p, NULL, 20, "mx2.example.test");
	rr_mx(p, "Example.TEST", 10, "mx1.example.test");
	rr_mx(p, NULL, 30, "mx3.other.test");
}
static void
b_tc(struct pkt *p)
{
	head(p, 0, 0, 0, "example.test", ns_t_mx);
	p->b[2] |= 0x02;	/* TC, no records: must not look like NODATA */
}
static void
b_nxdomain(struct pkt *p)
{
	head(p, ns_r_nxdomain, 0, 0, "example.test", ns_t_mx);
}
static void
b_servfail(struct pkt *p)
{
	head(p, ns_r_servfail, 0, 0, "example.test", ns_t_mx);
}
static void
b_refused_noq(struct pkt *p)
{
	head(p, ns_r_refused, 0, 0, "example.test", ns_t_mx);
	p->b[5] = 0;		/* qdcount 0 */
	p->n = 12;
}
static void
b_nodata(struct pkt *p)
{
	head(p, 0, 0, 0, "example.test", ns_t_mx);
}
static void
b_nullmx(struct pkt *p)
{
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_mx(p, NULL, 0, "");
}
static void
b_cname(struct pkt *p)
{
	head(p, 0, 0, 3, "www.example.test", ns_t_a);
	rr_cname(p, NULL, "web.example.test");
	rr_a(p, "web.example.test", 7);
	rr_a(p, "unrelated.test", 8);	/* not on the chain: ignored */
}
static void
b_cname_loop(struct pkt *p)
{
	head(p, 0, 0, 2, "a.test", ns_t_a);
	rr_cname(p, "a.test", "b.test");
	rr_cname(p, "b.test", "a.test");
}
static void
b_aaaa(struct pkt *p)
{
	head(p, 0, 0, 2, "h.test", ns_t_aaaa);
	rr_aaaa(p, NULL, 1);
	rr_aaaa(p, NULL, 2);
}
static void
b_a_badlen(struct pkt *p)
{
	head(p, 0, 0, 1, "h.test", ns_t_a);
	rr_head(p, NULL, ns_t_a, 5);
	put16(p, 0); put16(p, 0); put8(p, 0);
}
static void
b_truncated(struct pkt *p)
{
	b_mx3(p);
	p->n -= 5;
}
static void
b_rdlen_past_end(struct pkt *p)
{
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_head(p, NULL, ns_t_mx, 200);
	put16(p, 10);
	putname(p, "mx.test");
}
static void
b_ptr_loop(struct pkt *p)
{
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	size_t at = p->n;
	put8(p, 0xc0);			/* owner points at itself */
	put8(p, (unsigned)at);
	put16(p, ns_t_mx); put16(p, ns_c_in); put16(p, 0); put16(p, 0); put16(p, 0);
}
static void
b_ptr_forward(struct pkt *p)
{
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_head(p, NULL, ns_t_mx, 4);
	put16(p, 10);
	put8(p, 0xc0);			/* points past itself */
	put8(p, (unsigned)p->n + 2);
	put8(p, 0);
}
static void
b_exch_garbage(struct pkt *p)
{
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_mx(p, NULL, 10, "bad\x01name.test");
}
static void
b_exch_long(struct pkt *p)
{
	char n[300];
	size_t o = 0;
	for (int i = 0; i < 5; i++) {		/* 5 x 63-byte labels: 320 octets */
		memset(n + o, 'a', 50);
		o += 50;
		n[o++] = '.';
	}
	memcpy(n + o, "test", 5);
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_mx(p, NULL, 10, n);
}
/* 63+1+63+1+63+1+61 = 253 octets of text, 255 on the wire: the maximum */
static char longest[DNS_NAME_MAX + 1];
static void
b_exch_longest(struct pkt *p)
{
	memset(longest, 'a', DNS_NAME_MAX);
	longest[63] = longest[127] = longest[191] = '.';
	longest[DNS_NAME_MAX] = '\0';
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_mx(p, NULL, 10, longest);
}
static void
b_mx_trailing(struct pkt *p)
{
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_head(p, NULL, ns_t_mx, 2 + 9 + 2);
	put16(p, 10);
	putname(p, "mx.test");
	put16(p, 0xffff);		/* junk inside rdlength */
}
static void
b_wire_too_long(struct pkt *p)
{
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_head(p, NULL, ns_t_mx, 2 + 5 * 64 + 1);
	put16(p, 10);
	for (int i = 0; i < 5; i++) {
		put8(p, 63);
		for (int j = 0; j < 63; j++)
			put8(p, 'a');
	}
	put8(p, 0);
}
static void
b_other_question(struct pkt *p)
{
	head(p, 0, 0, 1, "evil.test", ns_t_mx);
	rr_mx(p, NULL, 10, "mx.evil.test");
}
static void
b_not_response(struct pkt *p)
{
	b_mx3(p);
	p->b[2] &= 0x7f;
}
static void
b_short(struct pkt *p)
{
	p->n = 0;
	put16(p, 0x1234);
	put8(p, 0x81);
}
static void
b_ext_label(struct pkt *p)
{
	head(p, 0, 0, 1, "example.test", ns_t_mx);
	rr_head(p, NULL, ns_t_mx, 4);
	put16(p, 10);
	put8(p, 0x41);
	put8(p, 0);
}

static const struct {
	const char *what;
	void (*build)(struct pkt *);
	const char *qname;
	int qtype, ret;
	enum dns_status status;
	size_t n;
	const char *first;
	int ad;
} parses[] = {
	{ "mx3", b_mx3, "example.test", ns_t_mx, 1, DNS_S_OK, 3, "mx2.example.test", 1 },
	{ "question case", b_mx3, "EXAMPLE.test", ns_t_mx, 1, DNS_S_OK, 3, NULL, 1 },
	{ "truncated (TC)", b_tc, "example.test", ns_t_mx, 1, DNS_S_TEMP, 0, NULL, 0 },
	{ "nxdomain", b_nxdomain, "example.test", ns_t_mx, 1, DNS_S_NXDOMAIN, 0, NULL, 0 },
	{ "servfail", b_servfail, "example.test", ns_t_mx, 1, DNS_S_TEMP, 0, NULL, 0 },
	{ "refused, no question", b_refused_noq, "example.test", ns_t_mx, 1, DNS_S_TEMP, 0, NULL, 0 },
	{ "nodata", b_nodata, "example.test", ns_t_mx, 1, DNS_S_NODATA, 0, NULL, 0 },
	{ "null mx", b_nullmx, "example.test", ns_t_mx, 1, DNS_S_OK, 1, "", 0 },
	{ "cname", b_cname, "www.example.test", ns_t_a, 1, DNS_S_OK, 1, NULL, 0 },
	{ "cname loop", b_cname_loop, "a.test", ns_t_a, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "aaaa", b_aaaa, "h.test", ns_t_aaaa, 1, DNS_S_OK, 2, NULL, 0 },
	{ "wrong qtype", b_aaaa, "h.test", ns_t_a, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "A rdlen 5", b_a_badlen, "h.test", ns_t_a, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "truncated", b_truncated, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "rdlen past end", b_rdlen_past_end, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "pointer loop", b_ptr_loop, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "pointer forward", b_ptr_forward, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "garbage exchange", b_exch_garbage, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "exchange > 253", b_exch_long, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "exchange = 253", b_exch_longest, "example.test", ns_t_mx, 1, DNS_S_OK, 1, NULL, 0 },
	{ "junk after exchange", b_mx_trailing, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "wire name > 255", b_wire_too_long, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "other question", b_other_question, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "not a response", b_not_response, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "short", b_short, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
	{ "extended label", b_ext_label, "example.test", ns_t_mx, -1, DNS_S_TEMP, 0, NULL, 0 },
};

static void
test_parse(void)
{
	for (size_t i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
		struct pkt p;
		struct dns_answer a;
		const char *err = NULL;
		int r;

		parses[i].build(&p);
		r = dns_parse(p.b, p.n, parses[i].qname, parses[i].qtype, &a, &err);
		CHECK(r == parses[i].ret);
		CHECK(a.status == parses[i].status);
		CHECK(a.n == parses[i].n);
		CHECK(r == 1 || err != NULL);
		if (r == parses[i].ret && parses[i].ret == 1)
			CHECK(a.ad == parses[i].ad);
		if (parses[i].first != NULL && a.n > 0)
			CHECK_STR(a.rr[0].name, parses[i].first);
		if (r != parses[i].ret || a.status != parses[i].status ||
		    a.n != parses[i].n)
			fprintf(stderr, "  case '%s': r=%d status=%d n=%zu err=%s\n",
			    parses[i].what, r, a.status, a.n, err ? err : "-");
		/* every prefix of a packet must be rejected or parsed safely */
		for (size_t k = 0; k < p.n; k++)
			(void)!dns_parse(p.b, k, parses[i].qname,
			    parses[i].qtype, &a, &err);
	}
}

static void
test_parse_details(void)
{
	struct pkt p;
	struct dns_answer a;
	const char *err;

	b_mx3(&p);
	CHECK(dns_parse(p.b, p.n, "example.test", ns_t_mx, &a, &err) == 1);
	CHECK(a.rr[0].pref == 20 && a.rr[1].pref == 10 && a.rr[2].pref == 30);
	CHECK_STR(a.rr[2].name, "mx3.other.test");
	b_cname(&p);
	CHECK(dns_parse(p.b, p.n, "www.example.test", ns_t_a, &a, &err) == 1);
	CHECK_STR(a.cname, "web.example.test");
	CHECK(a.n == 1 && a.rr[0].addr[0] == 192 && a.rr[0].addr[3] == 7);
	b_aaaa(&p);
	CHECK(dns_parse(p.b, p.n, "h.test", ns_t_aaaa, &a, &err) == 1);
	CHECK(a.rr[1].addr[0] == 0x20 && a.rr[1].addr[15] == 2);
	b_exch_longest(&p);
	CHECK(dns_parse(p.b, p.n, "example.test", ns_t_mx, &a, &err) == 1);
	CHECK(strlen(a.rr[0].name) == DNS_NAME_MAX);
	CHECK_STR(a.rr[0].name, longest);
}

/* A seeded xorshift32 as the random source. */
static uint32_t
xs(void *ctx)
{
	uint32_t *s = ctx;
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
mk_mx(struct dns_answer *a, const char *const *names, const unsigned *prefs,
    size_t n)
{
	memset(a, 0, sizeof(*a));
	a->status = n > 0 ? DNS_S_OK : DNS_S_NODATA;
	a->rcode = 0;
	for (size_t i = 0; i < n; i++) {
		a->rr[i].type = ns_t_mx;
		a->rr[i].pref = (uint16_t)prefs[i];
		if (str_copy(a->rr[i].name, sizeof(a->rr[i].name), names[i]) != 0)
			abort();
	}
	a->n = n;
}

static void
test_route_order(void)
{
	static const char *const names[] = { "c.test", "a.test", "b1.test",
	    "b2.test", "b3.test" };
	static const unsigned prefs[] = { 30, 5, 10, 10, 10 };
	struct dns_answer a;
	struct dns_route r;
	const char *err;
	int seen_first[3] = { 0, 0, 0 };

	mk_mx(&a, names, prefs, 5);
	for (uint32_t seed = 1; seed <= 200; seed++) {
		uint32_t s = seed;
		CHECK(dns_route_mx("example.test", &a, NULL, xs, &s, &r, &err) == DNS_OK);
		CHECK(r.n == 5);
		CHECK_STR(r.host[0].name, "a.test");
		CHECK_STR(r.host[4].name, "c.test");
		for (size_t i = 1; i < 4; i++)
			CHECK(r.host[i].pref == 10 && r.host[i].name[0] == 'b');
		seen_first[r.host[1].name[1] - '1'] = 1;
	}
	/* every equal-preference host came first sometimes */
	CHECK(seen_first[0] && seen_first[1] && seen_first[2]);
	/* same seed, same order: the source really drives the shuffle */
	uint32_t s1 = 42, s2 = 42;
	struct dns_route r2;
	CHECK(dns_route_mx("example.test", &a, NULL, xs, &s1, &r, &err) == DNS_OK);
	CHECK(dns_route_mx("example.test", &a, NULL, xs, &s2, &r2, &err) == DNS_OK);
	CHECK(memcmp(&r, &r2, sizeof(r)) == 0);
}

static const struct {
	const char *what;
	enum dns_status status;
	const char *names[4];
	unsigned prefs[4];
	size_t n;
	const char *self;
	enum dns_class want;
	const char *code;	/* start of err, or first host */
	size_t nhosts;
} routes[] = {
	{ "nxdomain", DNS_S_NXDOMAIN, { NULL }, { 0 }, 0, NULL, DNS_PERM, "5.1.2", 0 },
	{ "servfail", DNS_S_TEMP, { NULL }, { 0 }, 0, NULL, DNS_TEMP, "4.4.3", 0 },
	{ "implicit", DNS_S_NODATA, { NULL }, { 0 }, 0, NULL, DNS_OK, "example.test", 1 },
	{ "null mx", DNS_S_OK, { "" }, { 0 }, 1, NULL, DNS_PERM, "5.1.10", 0 },
	{ "null mx pref 10", DNS_S_OK, { "" }, { 10 }, 1, NULL, DNS_PERM, "5.1.10", 0 },
	{ "null mx beside others", DNS_S_OK, { "", "mx.test" }, { 0, 10 }, 2, NULL, DNS_OK, "mx.test", 1 },
	{ "literal skipped", DNS_S_OK, { "192.0.2.1", "mx.test" }, { 0, 10 }, 2, NULL, DNS_OK, "mx.test", 1 },
	{ "literals only", DNS_S_OK, { "192.0.2.1" }, { 0 }, 1, NULL, DNS_TEMP, "4.4.4", 0 },
	{ "self best: loop", DNS_S_OK, { "me.test", "b.test" }, { 10, 20 }, 2, "ME.test", DNS_PERM, "5.4.6", 0 },
	{ "self tied best: loop", DNS_S_OK, { "x.test", "me.test" }, { 10, 10 }, 2, "me.test", DNS_PERM, "5.4.6", 0 },
	{ "self backup", DNS_S_OK, { "a.test", "me.test", "c.test", "d.test" }, { 10, 20, 20, 30 }, 4, "me.test", DNS_OK, "a.test", 1 },
	{ "duplicates", DNS_S_OK, { "a.test", "A.test" }, { 10, 20 }, 2, NULL, DNS_OK, "a.test", 1 },
};

static void
test_route_table(void)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		struct dns_answer a;
		struct dns_route r;
		const char *err = NULL;
		uint32_t s = 7;
		enum dns_class c;

		mk_mx(&a, routes[i].names, routes[i].prefs, routes[i].n);
		a.status = routes[i].status;
		c = dns_route_mx("example.test", &a, routes[i].self, xs, &s, &r, &err);
		CHECK(c == routes[i].want);
		CHECK(r.n == routes[i].nhosts);
		if (c != DNS_OK)
			CHECK(err != NULL && strncmp(err, routes[i].code,
			    strlen(routes[i].code)) == 0 &&
			    err[strlen(routes[i].code)] == ' ');
		else if (r.n > 0)
			CHECK_STR(r.host[0].name, routes[i].code);
		if (c != routes[i].want || r.n != routes[i].nhosts)
			fprintf(stderr, "  case '%s': class %d n %zu\n",
			    routes[i].what, c, r.n);
	}
	/* implicit MX is flagged, preference 0 */
	struct dns_answer a;
	struct dns_route r;
	const char *err;
	mk_mx(&a, NULL, NULL, 0);
	CHECK(dns_route_mx("example.test", &a, NULL, NULL, NULL, &r, &err) == DNS_OK);
	CHECK(r.host[0].implicit == 1 && r.host[0].pref == 0);
	CHECK(dns_route_mx("bad..test", &a, NULL, NULL, NULL, &r, &err) == DNS_PERM);
}

static void
test_caps(void)
{
	struct dns_answer a;
	struct dns_route r;
	const char *err;
	char names[40][16];
	const char *np[40];
	unsigned prefs[40];

	for (int i = 0; i < 32; i++) {
		if (str_format(names[i], sizeof(names[i]), "h%d.test", i) != 0)
			abort();
		np[i] = names[i];
		prefs[i] = (unsigned)(32 - i);
	}
	mk_mx(&a, np, prefs, 32);
	CHECK(dns_route_mx("example.test", &a, NULL, NULL, NULL, &r, &err) == DNS_OK);
	CHECK(r.n == DNS_MAX_HOSTS);
	CHECK_STR(r.host[0].name, "h31.test");	/* the best ones are kept */

	/* addresses: capped, deduplicated, TEMP remembered */
	struct dns_answer addrs;
	memset(&addrs, 0, sizeof(addrs));
	addrs.status = DNS_S_OK;
	for (int i = 0; i < 20; i++) {
		addrs.rr[i].type = ns_t_a;
		addrs.rr[i].addr[0] = 10;
		addrs.rr[i].addr[3] = (unsigned char)(i % 12);
	}
	addrs.n = 20;
	dns_host_add(&r.host[0], &addrs);
	CHECK(r.host[0].naddr == DNS_MAX_ADDRS);
	r.n = 2;
	r.host[1].naddr = 0;
	CHECK(dns_route_finish(&r, &err) == DNS_OK && r.n == 1);
	memset(&r, 0, sizeof(r));
	r.n = 2;
	addrs.status = DNS_S_TEMP;
	addrs.n = 0;
	dns_host_add(&r.host[1], &addrs);
	CHECK(dns_route_finish(&r, &err) == DNS_TEMP && r.n == 0);
	memset(&r, 0, sizeof(r));
	r.n = 1;
	CHECK(dns_route_finish(&r, &err) == DNS_PERM);
	CHECK(strncmp(err, "5.4.4 ", 6) == 0);
}

static void
test_init(void)
{
	struct dns d;
	const char *err = NULL;

	CHECK(dns_init(&d, "[::1]:53", &err) == -1 && err != NULL &&
	    strstr(err, "IPv4") != NULL);
	CHECK(dns_init(&d, "nonsense", &err) == -1);
	CHECK(dns_init(&d, "*:53", &err) == -1);
	CHECK(dns_init(&d, "127.0.0.1:5353", &err) == 0);
	CHECK(d.res.nscount == 1 && d.res.nsaddr_list[0].sin_port == htons(5353));
	dns_close(&d);
}

int
main(void)
{
	test_parse();
	test_parse_details();
	test_route_order();
	test_route_table();
	test_caps();
	test_init();
	return UNIT_DONE();
}
