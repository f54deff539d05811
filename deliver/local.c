/*
 * local: the local-delivery spawner.  Started by master as root (no
 * sockets); loads the config, looks up PREFIXvmail, connects to the queue's
 * deliver.sock and runs deliveries, each in a child that becomes the
 * mailbox owner (local_server.c, local_deliver.c).  In dev mode (not root)
 * every delivery runs as the invoking user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "local_server.h"
#include "log.h"
#include "privsep.h"
#include "service.h"

int
main(int argc, char **argv)
{
	struct priv_account vmail;
	char name[64];
	struct config c;
	int rc;

	service_init("local", argc, argv, &c);
	umask(077);
	if (geteuid() == 0) {
		if (config_account(&c, "vmail", name, sizeof(name)) == -1 ||
		    priv_lookup(name, &vmail) == -1)
			log_fatal("account %s: not found", name);
		if (vmail.uid == 0)
			log_fatal("account %s has uid 0; refusing", name);
	} else
		log_warn("not running as root (dev mode): deliveries run as uid %u",
		    (unsigned)getuid());
	log_info("ready: mail in %s, %llu delivery slots", c.paths_mail,
	    (unsigned long long)c.local_concurrency);
	rc = local_server_run(&c, geteuid() == 0 ? &vmail : NULL);
	config_free(&c);
	return rc;
}
