/* libFuzzer target: the DNS response parser (common/dns.c dns_parse) for
 * each query type the remote agent asks, then the MX routing on the result.
 * Invariants: no crash; names in the result are valid host names or the
 * root; counts within their caps. */
#include <arpa/nameser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
fixed_random(void *ctx)
{
	(void)ctx;
	return 12345;
}

static void
check(const struct dns_answer *a, int qtype)
{
	if (a->n > DNS_MAX_RR)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		size_t l = strlen(a->rr[i].name);
		if (a->rr[i].type != qtype)
			abort();
		if (l > 0 && !net_valid_domain(a->rr[i].name, l))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { ns_t_mx, ns_t_a, ns_t_aaaa };
	struct dns_answer a;
	struct dns_route r;
	const char *err;

	for (size_t t = 0; t < 3; t++) {
		int ret = dns_parse(data, size, "example.test", types[t], &a, &err);
		if (ret != 1 && (ret != -1 || a.n != 0 || a.status != DNS_S_TEMP))
			abort();
		check(&a, types[t]);
		if (types[t] == ns_t_mx) {
			if (dns_route_mx("example.test", &a, "me.example.test",
			    fixed_random, NULL, &r, &err) == DNS_OK &&
			    (r.n == 0 || r.n > DNS_MAX_HOSTS))
				abort();
		} else {
			struct dns_host h;
			memset(&h, 0, sizeof(h));
			dns_host_add(&h, &a);
			if (h.naddr > DNS_MAX_ADDRS)
				abort();
		}
	}
	return 0;
}
