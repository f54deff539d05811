/*
 * auth: the credential service.  Started by master with its listening
 * socket on fd 3; drops to PREFIXauth chrooted in paths.maps, then answers
 * verify requests from smtpd and the login processes (auth_server.c).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth_server.h"
#include "auth_verify.h"
#include "config.h"
#include "log.h"
#include "privsep.h"
#include "service.h"

#define AUTH_LISTEN_FD	3

/* Drop to the auth account chrooted in the maps directory; in dev mode
 * (not root) stay who we are.  Writes the users.cdb path to use. */
static void
drop(const struct config *c, char *mappath, size_t size)
{
	int root = geteuid() == 0;

	priv_drop_role(c, "auth", root ? c->paths_maps : NULL);
	if ((root ? str_copy(mappath, size, "/users.cdb") :
	    str_format(mappath, size, "%s/users.cdb", c->paths_maps)) == -1)
		log_fatal("%s/users.cdb: path too long", c->paths_maps);
}

int
main(int argc, char **argv)
{
	struct auth_verifier v;
	struct auth_policy p;
	char mappath[PATH_MAX];
	struct config c;
	int rc;

	service_init("auth", argc, argv, &c);
	service_check_listener(AUTH_LISTEN_FD);
	drop(&c, mappath, sizeof(mappath));
	if (auth_verify_init(&v, mappath) == -1)
		log_fatal("%s: %s", mappath, strerror(errno));
	p.fail_delay_ms = (int64_t)c.auth_fail_delay * 1000;
	auth_limit_init(&p.limit, c.auth_max_failures, (int64_t)c.auth_failure_window * 1000);
	log_info("ready: users from %s/users.cdb, fail delay %llds, at most %llu failures "
	    "per client address in %llds", c.paths_maps, (long long)c.auth_fail_delay,
	    (unsigned long long)c.auth_max_failures, (long long)c.auth_failure_window);
	rc = auth_server_run(AUTH_LISTEN_FD, &v, &p);
	auth_limit_free(&p.limit);
	auth_verify_free(&v);
	config_free(&c);
	return rc;
}
