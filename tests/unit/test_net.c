/*
 * Unit tests for common/net: host:port parsing, relay host syntax, domain
 * names, CIDR lists (v4, v6, v4-mapped, prefix edges), address text.
 */
#include <arpa/inet.h>

#include "net.h"
#include "unit.h"

static const struct {
	const char *s;
	int ok, family, port;
	const char *addr;
} hostports[] = {
	{ "127.0.0.1:2525", 1, AF_INET, 2525, "127.0.0.1" },
	{ "[::1]:25", 1, AF_INET6, 25, "::1" },
	{ "[::]:143", 1, AF_INET6, 143, "::" },
	{ "*:25", 1, AF_INET, 25, "0.0.0.0" },
	{ ":587", 1, AF_INET, 587, "0.0.0.0" },
	{ "0.0.0.0:1", 1, AF_INET, 1, "0.0.0.0" },
	{ "10.1.2.3:65535", 1, AF_INET, 65535, "10.1.2.3" },
	{ "[::ffff:1.2.3.4]:25", 1, AF_INET6, 25, "1.2.3.4" },
	{ "", 1, AF_UNSPEC, 0, NULL },
	{ "127.0.0.1:0", 0, 0, 0, NULL }, { "127.0.0.1:65536", 0, 0, 0, NULL },
	{ "127.0.0.1:+25", 0, 0, 0, NULL }, { "127.0.0.1:-1", 0, 0, 0, NULL },
	{ "127.0.0.1:", 0, 0, 0, NULL }, { "127.0.0.1", 0, 0, 0, NULL },
	{ "127.0.0.1:25x", 0, 0, 0, NULL }, { "127.0.0.1: 25", 0, 0, 0, NULL },
	{ "127.0.0.1:000025", 0, 0, 0, NULL }, { "127.0.0.1:99999999999", 0, 0, 0, NULL },
	{ "::1:25", 0, 0, 0, NULL }, { "[::1]", 0, 0, 0, NULL },
	{ "[::1]25", 0, 0, 0, NULL }, { "[::1:25", 0, 0, 0, NULL },
	{ "[1.2.3.4]:25", 0, 0, 0, NULL }, { "[]:25", 0, 0, 0, NULL },
	{ "localhost:25", 0, 0, 0, NULL }, { "256.0.0.1:25", 0, 0, 0, NULL },
	{ "1.2.3:25", 0, 0, 0, NULL }, { "**:25", 0, 0, 0, NULL },
};

static void
test_hostport(void)
{
	for (size_t i = 0; i < sizeof(hostports) / sizeof(hostports[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t sl = 99;
		const char *err = NULL;
		char text[64];
		int r = net_parse_hostport(hostports[i].s, &ss, &sl, &err);

		if (!hostports[i].ok) {
			CHECK(r == -1 && err != NULL);
			if (r != -1)
				fprintf(stderr, "  accepted '%s'\n", hostports[i].s);
			continue;
		}
		CHECK(r == 0);
		CHECK(ss.ss_family == hostports[i].family);
		if (hostports[i].family == AF_UNSPEC) {
			CHECK(sl == 0);
			continue;
		}
		CHECK(sl == (hostports[i].family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)));
		CHECK(net_port((struct sockaddr *)&ss) == hostports[i].port);
		CHECK(net_addr_text((struct sockaddr *)&ss, text, sizeof(text)) == 0);
		CHECK_STR(text, hostports[i].addr);
	}
}

static void
test_relay(void)
{
	char host[256];
	const char *err;
	int port = 0;

	CHECK(net_parse_relay("mail.example.com:587", host, sizeof(host), &port, &err) == 0);
	CHECK_STR(host, "mail.example.com");
	CHECK(port == 587);
	CHECK(net_parse_relay("127.0.0.1:2525", host, sizeof(host), &port, &err) == 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK(net_parse_relay("[::1]:25", host, sizeof(host), &port, &err) == 0);
	CHECK_STR(host, "::1");
	CHECK(port == 25);
	CHECK(net_parse_relay("mail.example.com", host, sizeof(host), &port, &err) == -1);
	CHECK(net_parse_relay("mail.example.com:0", host, sizeof(host), &port, &err) == -1);
	CHECK(net_parse_relay("-bad.example:25", host, sizeof(host), &port, &err) == -1);
	CHECK(net_parse_relay("a b:25", host, sizeof(host), &port, &err) == -1);
	CHECK(net_parse_relay(":25", host, sizeof(host), &port, &err) == -1);
	CHECK(net_parse_relay("[mail.example.com]:25", host, sizeof(host), &port, &err) == -1);
	CHECK(net_parse_relay("mail.example.com:25", host, 5, &port, &err) == -1);

	CHECK(net_valid_domain("example.com", 11) == 1);
	CHECK(net_valid_domain("localhost", 9) == 1);
	CHECK(net_valid_domain("a-b.C0m", 7) == 1);
	CHECK(net_valid_domain("", 0) == 0);
	CHECK(net_valid_domain("example.com.", 12) == 0);
	CHECK(net_valid_domain(".example", 8) == 0);
	CHECK(net_valid_domain("a..b", 4) == 0);
	CHECK(net_valid_domain("-a.b", 4) == 0);
	CHECK(net_valid_domain("a-.b", 4) == 0);
	CHECK(net_valid_domain("a.b-", 4) == 0);
	CHECK(net_valid_domain("a_b", 3) == 0);
	CHECK(net_valid_domain("a b", 3) == 0);
	{
		char l[70];

		memset(l, 'a', sizeof(l));
		CHECK(net_valid_domain(l, 63) == 1);
		CHECK(net_valid_domain(l, 64) == 0);
	}
}

static void
mk4(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	if (inet_pton(AF_INET, a, &s4->sin_addr) != 1)
		fprintf(stderr, "bad test address %s\n", a);
}

static void
mk6(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s6->sin6_family = AF_INET6;
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) != 1)
		fprintf(stderr, "bad test address %s\n", a);
}

/* 1 if address text a (v4 or v6) matches list text l; -1 if l is bad. */
static int
match(const char *l, const char *a)
{
	struct net_list nl;
	struct sockaddr_storage ss;
	const char *err;
	int r;

	if (net_list_parse(l, &nl, &err) == -1)
		return -1;
	if (strchr(a, ':') != NULL)
		mk6(&ss, a);
	else
		mk4(&ss, a);
	r = net_list_match(&nl, (struct sockaddr *)&ss);
	net_list_free(&nl);
	return r;
}

static const struct { const char *list, *addr; int want; } matches[] = {
	{ "", "127.0.0.1", 0 },
	{ "127.0.0.1", "127.0.0.1", 1 }, { "127.0.0.1", "127.0.0.2", 0 },
	{ "10.0.0.0/8", "10.255.1.2", 1 }, { "10.0.0.0/8", "11.0.0.0", 0 },
	{ "10.1.2.3/8", "10.9.9.9", 1 },	/* host bits ignored */
	{ "0.0.0.0/0", "203.0.113.9", 1 }, { "0.0.0.0/0", "::1", 0 },
	{ "192.168.1.7/32", "192.168.1.7", 1 }, { "192.168.1.7/32", "192.168.1.6", 0 },
	{ "192.168.1.0/31", "192.168.1.1", 1 }, { "192.168.1.0/31", "192.168.1.2", 0 },
	{ "172.16.0.0/12", "172.31.255.255", 1 }, { "172.16.0.0/12", "172.32.0.0", 0 },
	{ "::1", "::1", 1 }, { "::1/128", "::1", 1 }, { "::1/128", "::2", 0 },
	{ "::/0", "2001:db8::1", 1 }, { "::/0", "10.0.0.1", 0 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 }, { "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:db8::/33", "2001:db8:7fff::1", 1 }, { "2001:db8::/33", "2001:db8:8000::1", 0 },
	/* v4-mapped clients are IPv4 clients. */
	{ "10.0.0.0/8", "::ffff:10.1.1.1", 1 }, { "10.0.0.0/8", "::ffff:11.1.1.1", 0 },
	{ "::/0", "::ffff:10.1.1.1", 0 },
	{ "::ffff:10.0.0.0/104", "10.2.3.4", 1 }, { "::ffff:10.0.0.0/104", "11.2.3.4", 0 },
	{ "::ffff:10.0.0.0/104", "::ffff:10.2.3.4", 1 },
	/* lists: commas, spaces, tabs. */
	{ "10.0.0.0/8, ::1/128,192.168.1.7", "192.168.1.7", 1 },
	{ "10.0.0.0/8, ::1/128,192.168.1.7", "::1", 1 },
	{ " 10.0.0.0/8\t ::1 ", "::1", 1 },
	{ ",,", "1.2.3.4", 0 },
	/* bad lists */
	{ "10.0.0.0/33", "1.2.3.4", -1 }, { "::/129", "::1", -1 },
	{ "10.0.0.0/", "1.2.3.4", -1 }, { "10.0.0.0/-1", "1.2.3.4", -1 },
	{ "10.0.0.0/+8", "1.2.3.4", -1 }, { "10.0.0.0/8x", "1.2.3.4", -1 },
	{ "10.0.0.0/0008", "1.2.3.4", -1 }, { "10.0.0/8", "1.2.3.4", -1 },
	{ "example.com", "1.2.3.4", -1 }, { "10.0.0.0/8, bogus", "1.2.3.4", -1 },
	{ "[::1]", "::1", -1 }, { "10.0.0.0//8", "1.2.3.4", -1 },
};

static void
test_lists(void)
{
	struct net_list nl;
	const char *err = NULL;

	for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		int r = match(matches[i].list, matches[i].addr);

		CHECK(r == matches[i].want);
		if (r != matches[i].want)
			fprintf(stderr, "  list '%s' addr %s: %d\n", matches[i].list,
			    matches[i].addr, r);
	}
	CHECK(net_list_parse("10.0.0.0/8 ::1", &nl, &err) == 0);
	CHECK(nl.n == 2 && nl.v[0].family == AF_INET && nl.v[0].prefix == 8);
	CHECK(nl.v[1].family == AF_INET6 && nl.v[1].prefix == 128);
	net_list_free(&nl);
	CHECK(nl.v == NULL && nl.n == 0);
	CHECK(net_list_parse("1.2.3.4/40", &nl, &err) == -1 && err != NULL);
}

static void
test_misc(void)
{
	struct sockaddr_storage ss;
	char text[64];

	mk4(&ss, "127.5.6.7");
	CHECK(net_is_loopback((struct sockaddr *)&ss));
	mk4(&ss, "128.0.0.1");
	CHECK(!net_is_loopback((struct sockaddr *)&ss));
	mk6(&ss, "::1");
	CHECK(net_is_loopback((struct sockaddr *)&ss));
	mk6(&ss, "::2");
	CHECK(!net_is_loopback((struct sockaddr *)&ss));
	mk6(&ss, "::ffff:127.0.0.1");
	CHECK(net_is_loopback((struct sockaddr *)&ss));
	CHECK(net_addr_text((struct sockaddr *)&ss, text, sizeof(text)) == 0);
	CHECK_STR(text, "127.0.0.1");
	mk6(&ss, "2001:db8::1");
	CHECK(net_addr_text((struct sockaddr *)&ss, text, sizeof(text)) == 0);
	CHECK_STR(text, "2001:db8::1");
	CHECK(net_addr_text((struct sockaddr *)&ss, text, 5) == -1);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	CHECK(!net_is_loopback((struct sockaddr *)&ss));
	CHECK(net_addr_text((struct sockaddr *)&ss, text, sizeof(text)) == -1);
	CHECK(net_port((struct sockaddr *)&ss) == 0);
}

int
main(void)
{
	test_hostport();
	test_relay();
	test_lists();
	test_misc();
	return UNIT_DONE();
}
