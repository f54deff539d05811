/*
 * remote: the SMTP client delivery agent.  Started by master as root (no
 * sockets); loads the config, sets up the resolver and the TLS client
 * context (system CA store) while the files are still reachable, becomes
 * PREFIXremote chrooted in paths.runtime (where deliver.sock lives) and
 * runs jobs from the queue (remote_server.c, remote_smtp.c).  The maps
 * (remote.tls_policy, remote.transport) and the smarthost credentials are
 * loaded here too, before chroot (remote_policy.c).  In dev mode
 * (not root) it neither drops privileges nor chroots.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "log.h"
#include "privsep.h"
#include "remote_server.h"
#include "service.h"
#include "util.h"

int
main(int argc, char **argv)
{
	static struct dns dns;
	struct priv_account acct;
	struct remote_ctx x = { 0 };
	char name[64], path[4096], msg[600];
	const char *err, *sock = REMOTE_SOCK_PATH;
	struct config c;
	int rc;

	service_init("remote", argc, argv, &c);
	umask(077);
	if (dns_init(&dns, c.remote_dns, &err) == -1)
		log_fatal("resolver: %s", err);
	/* TLS context, maps and smarthost credentials: before chroot */
	if (remote_ctx_init(&x, &c, &dns, msg, sizeof(msg)) == -1)
		log_fatal("%s", msg);
	if (geteuid() == 0) {
		if (config_account(&c, "remote", name, sizeof(name)) == -1 ||
		    priv_lookup(name, &acct) == -1)
			log_fatal("account %s: not found", name);
		if (acct.uid == 0)
			log_fatal("account %s has uid 0; refusing", name);
		priv_drop(&acct, c.paths_runtime);
	} else {
		log_warn("not running as root (dev mode): no chroot, uid %u",
		    (unsigned)getuid());
		if (str_format(path, sizeof(path), "%s/deliver.sock", c.paths_runtime) == -1)
			log_fatal("%s/deliver.sock: path too long", c.paths_runtime);
		sock = path;
	}
	log_info("ready: %llu delivery slots%s%s", (unsigned long long)c.remote_concurrency,
	    c.remote_smarthost && c.remote_smarthost[0] ? ", via " : "",
	    c.remote_smarthost && c.remote_smarthost[0] ? c.remote_smarthost : "");
	rc = remote_server_run(&x, sock);
	remote_ctx_free(&x);
	dns_close(&dns);
	config_free(&c);
	return rc;
}
