/*
 * imap-login: one pre-authentication IMAP session, exec'ed by master for
 * each connection on listen.imap/listen.imaps with the client on fd 0 and
 * 1, the log pipe on fd 2 and the handoff channel on fd 3.  As root it
 * loads the config and the TLS key and connects to auth, then drops to
 * PREFIXlogin in the empty chroot before reading a client byte
 * (docs/login.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "imap-login_session.h"
#include "service.h"
#include "tls.h"

static void
usage(void)
{
	log_fatal("usage: imap-login -c config -l imap|imaps");
}

int
main(int argc, char **argv)
{
	static struct config cf;
	static struct imap_login s;
	const char *confpath = NULL, *listener = NULL, *err = NULL;

	/* SIGTERM (master stopping): nothing is pending that could be lost */
	if (service_conn_init("imap-login", LOGIN_CHANNEL_FD + 1) == -1)
		log_fatal("signal: %s", strerror(errno));
	if (service_args(argc, argv, &confpath, &listener) == -1 ||
	    (strcmp(listener, "imap") != 0 && strcmp(listener, "imaps") != 0))
		usage();
	service_check_listener(LOGIN_CHANNEL_FD);
	if (service_config(confpath, &cf, &err) == -1)
		log_fatal("%s", err);
	imap_login_init(&s, &cf);
	s.listener = listener;
	s.implicit_tls = strcmp(listener, "imaps") == 0;
	login_process_setup(&cf, listener, s.implicit_tls, &s.tls_ctx, &s.auth_fd);
	/* kept as a sockaddr too, for the plaintext policy */
	s.client_known = service_client(0, &s.client_sa, s.client_addr, sizeof(s.client_addr));
	login_process_drop(&cf);
	imap_login_run(&s);
	imap_login_free(&s);
	if (s.auth_fd != -1)
		close(s.auth_fd);
	if (s.tls_ctx != NULL)
		SSL_CTX_free(s.tls_ctx);
	config_free(&cf);
	return 0;
}
