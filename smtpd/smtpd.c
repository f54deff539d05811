/*
 * smtpd: one SMTP session, exec'ed by master for each connection with the
 * client socket on fd 0 and 1 and the log pipe on fd 2.  As root it loads
 * the config, the TLS key and the maps and connects to auth and queue, then
 * drops to PREFIXsmtpd in the empty chroot before reading a client byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "log.h"
#include "map.h"
#include "net.h"
#include "privsep.h"
#include "service.h"
#include "smtpd_session.h"
#include "tls.h"
#include "util.h"

static void
usage(void)
{
	log_fatal("usage: smtpd -c config -l smtp|submission|smtps");
}

/* "dir/name" into out, or fatal. */
static void
path_join(char *out, size_t size, const char *dir, const char *name)
{
	if (str_format(out, size, "%s/%s", dir, name) == -1)
		log_fatal("path too long: %s/%s", dir, name);
}

/* Everything that needs root or paths outside the chroot. */
static void
setup(struct smtpd *s, const struct config *cf)
{
	char path[4096];
	const char *err = NULL;
	int fd;

	if (cf->tls_cert[0] != '\0' &&
	    (s->tls_ctx = tls_server_ctx(cf->tls_cert, cf->tls_key, &err)) == NULL)
		log_fatal("tls.cert %s / tls.key %s: %s", cf->tls_cert, cf->tls_key, err);
	if (s->listener == SMTPD_SMTPS && s->tls_ctx == NULL)
		log_fatal("listen.smtps needs tls.cert and tls.key");
	path_join(path, sizeof(path), cf->paths_maps, "mailboxes.cdb");
	if (map_open(&s->mailboxes, path) == -1)
		log_fatal("%s: %s", path, strerror(errno));
	path_join(path, sizeof(path), cf->paths_maps, "aliases.cdb");
	if (map_open(&s->aliases, path) == -1)
		log_fatal("%s: %s", path, strerror(errno));
	path_join(path, sizeof(path), cf->paths_runtime, "auth.sock");
	if ((s->auth_fd = ipc_connect(path)) == -1)
		log_warn("%s: %s (AUTH will fail temporarily)", path, strerror(errno));
	path_join(path, sizeof(path), cf->paths_runtime, "queue.sock");
	if ((fd = ipc_connect(path)) == -1)
		log_warn("%s: %s (mail will be deferred)", path, strerror(errno));
	smtpd_queue_init(&s->queue, fd, (int)cf->smtpd_timeout * 1000);
}

static void
client_address(struct smtpd *s, const struct config *cf)
{
	struct sockaddr_storage ss;

	if (service_client(0, &ss, s->client_addr, sizeof(s->client_addr)) == 0)
		return;
	s->client_v6 = strchr(s->client_addr, ':') != NULL;
	s->trusted = net_list_match(&cf->trusted, (struct sockaddr *)&ss);
}

/* Become PREFIXsmtpd in paths.runtime/empty (dev mode: see priv_drop_role). */
static void
drop_privileges(const struct config *cf)
{
	char empty[4096];

	path_join(empty, sizeof(empty), cf->paths_runtime, "empty");
	priv_drop_role(cf, "smtpd", empty);
}

int
main(int argc, char **argv)
{
	static struct config cf;
	static struct smtpd s;
	const char *confpath = NULL, *listener = NULL, *err = NULL;

	/* master passes only 0-2; be sure.  SIGTERM ends us at once: an open
	 * message is dropped by the queue when our connection closes, and
	 * nothing was acknowledged. */
	if (service_conn_init("smtpd", 3) == -1)
		log_fatal("signal: %s", strerror(errno));
	if (service_args(argc, argv, &confpath, &listener) == -1)
		usage();
	if (service_config(confpath, &cf, &err) == -1)
		log_fatal("%s", err);
	smtpd_session_init(&s, &cf);
	s.listener_name = listener;
	if (strcmp(listener, "smtp") == 0)
		s.listener = SMTPD_SMTP;
	else if (strcmp(listener, "submission") == 0)
		s.listener = SMTPD_SUBMISSION;
	else if (strcmp(listener, "smtps") == 0)
		s.listener = SMTPD_SMTPS;
	else
		usage();
	setup(&s, &cf);
	client_address(&s, &cf);
	drop_privileges(&cf);
	smtpd_session_run(&s);
	smtpd_queue_free(&s.queue);
	map_close(&s.mailboxes);
	map_close(&s.aliases);
	if (s.auth_fd != -1)
		close(s.auth_fd);
	if (s.tls_ctx != NULL)
		SSL_CTX_free(s.tls_ctx);
	config_free(&cf);
	return 0;
}
