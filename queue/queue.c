/*
 * queue: the service that owns the spool.  Started by master as root with
 * queue.sock on fd 3, submit.sock on fd 4 and deliver.sock on fd 5; drops
 * to PREFIXqueue chrooted in paths.spool, sweeps crash leftovers, loads the
 * scheduler's index, then serves (queue_server.c).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "privsep.h"
#include "service.h"
#include "xmalloc.h"
#include "queue_agent.h"
#include "queue_result.h"
#include "queue_server.h"
#include "queue_spool.h"

#define QUEUE_SMTPD_FD	3
#define QUEUE_SUBMIT_FD	4
#define QUEUE_DELIVER_FD	5

/* Become PREFIXqueue with the spool as root; in dev mode (not root) stay
 * who we are and chdir into the spool.  Either way paths are relative.
 * *remote_uid: who the remote agent must be (looked up before the chroot;
 * in dev mode our own uid). */
static void
drop(const struct config *c, uid_t *remote_uid)
{
	struct priv_account a, r;
	struct passwd *pw;
	char name[64];

	*remote_uid = getuid();
	if (geteuid() == 0) {
		if (config_account(c, "remote", name, sizeof(name)) == -1 ||
		    priv_lookup(name, &r) == -1)
			log_fatal("account %s: not found", name);
		*remote_uid = r.uid;
		if (config_account(c, "queue", name, sizeof(name)) == -1 ||
		    priv_lookup(name, &a) == -1)
			log_fatal("account %s: not found", name);
		priv_drop(&a, c->paths_spool);
		return;
	}
	if ((pw = getpwuid(getuid())) == NULL ||
	    str_copy(a.name, sizeof(a.name), pw->pw_name) == -1)
		log_fatal("cannot find my own account (uid %u)", (unsigned)getuid());
	a.uid = pw->pw_uid;
	a.gid = pw->pw_gid;
	if (chdir(c->paths_spool) == -1)
		log_fatal("%s: %s", c->paths_spool, strerror(errno));
	priv_drop(&a, NULL);
}

int
main(int argc, char **argv)
{
	struct result_ctx *x;
	struct queue_limits lim;
	struct queue_fds fds = { QUEUE_SMTPD_FD, QUEUE_SUBMIT_FD, QUEUE_DELIVER_FD };
	struct config c;
	uid_t remote_uid, local_uid;
	int rc, n;

	service_init("queue", argc, argv, &c);
	service_check_listener(QUEUE_SMTPD_FD);
	service_check_listener(QUEUE_SUBMIT_FD);
	service_check_listener(QUEUE_DELIVER_FD);
	umask(077);
	local_uid = geteuid() == 0 ? 0 : getuid();
	drop(&c, &remote_uid);
	if (spool_init() == -1)
		log_fatal("%s: spool unusable", c.paths_spool);
	lim.message_size = c.message_size;
	lim.recipients = c.recipients;
	x = xcalloc(1, sizeof(*x));
	result_init(x, &c);
	if ((n = result_load(x)) == -1)
		log_fatal("env: %s", strerror(errno));
	agent_init(x, local_uid, remote_uid);
	log_info("ready: spool %s, %d messages queued, message size limit %llu",
	    c.paths_spool, n, (unsigned long long)c.message_size);
	rc = queue_server_run(&fds, &lim, x);
	sched_free(&x->sched);
	free(x);
	config_free(&c);
	return rc;
}
