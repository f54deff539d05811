/*
 * dnsq: test-only driver of common/dns.
 * `dnsq [-c EMPTYDIR] SERVER:PORT DOMAIN [SELF]` prints the hosts to try, one
 * per line ("PREF NAME ADDR..."), or "temp: TEXT" (exit 1) / "perm: TEXT"
 * (exit 2).  Usage or set-up error: exit 3.  -c chroots after dns_init, as
 * the remote agent will (needs root).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "net.h"
#include "poison.h"

int
main(int argc, char **argv)
{
	struct dns d;
	struct dns_route r;
	const char *err = "";
	enum dns_class c;
	const char *root = NULL;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		root = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: dnsq [-c DIR] SERVER:PORT DOMAIN [SELF]\n");
		return 3;
	}
	if (dns_init(&d, argv[1], &err) != 0) {
		fprintf(stderr, "dnsq: %s\n", err);
		return 3;
	}
	if (root != NULL && (chroot(root) != 0 || chdir("/") != 0)) {
		perror("dnsq: chroot");
		return 3;
	}
	c = dns_resolve(&d, argv[2], argc == 4 ? argv[3] : NULL, NULL, NULL,
	    &r, &err);
	dns_close(&d);
	if (c != DNS_OK) {
		printf("%s: %s\n", c == DNS_TEMP ? "temp" : "perm", err);
		return c == DNS_TEMP ? 1 : 2;
	}
	for (size_t i = 0; i < r.n; i++) {
		printf("%u %s%s", r.host[i].pref, r.host[i].name,
		    r.host[i].implicit ? " implicit" : "");
		for (size_t j = 0; j < r.host[i].naddr; j++) {
			char text[64];
			if (net_addr_text((struct sockaddr *)&r.host[i].addr[j],
			    text, sizeof(text)) != 0)
				return 3;
			printf(" %s", text);
		}
		printf("\n");
	}
	return 0;
}
