/*
 * pop3: the POP3 mail process, started by master as root after a login
 * process handed a client over (docs/login.md): the client on fd 0/1, the
 * log pipe on fd 2, the IPC_LOGIN_SESSION record on fd 3.  It trusts
 * master's record and auth's answer to the token, nothing the client or
 * the login process claims; it chroots into the user's Maildir as its
 * owner before reading a byte from the client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "login.h"
#include "maildir.h"
#include "pop3_session.h"
#include "privsep.h"
#include "service.h"
#include "util.h"

/* Before the session: tell the client (RFC 2449 8.1.2: try again later)
 * and stop. */
static void __attribute__((noreturn))
fail(const char *what, const char *err)
{
	static const char line[] = "-ERR [SYS/TEMP] Temporary failure, try again later\r\n";

	if (write_all(1, line, sizeof(line) - 1) == -1) {
		/* the client is gone; nothing more to say */
	}
	log_fatal("%s: %s", what, err);
}

/* "pop3 -c CONFIG" (or $POSTERN_CONF), as service_init, but a failure
 * still answers the client. */
static void
load_config(int argc, char **argv, struct config *cf)
{
	const char *path = getenv("POSTERN_CONF"), *err = NULL;

	if (service_args(argc, argv, &path, NULL) == -1)
		fail("usage", "pop3 -c CONFIG");
	if (service_config(path, cf, &err) == -1)
		fail(path, err);
	if (cf->log_syslog)
		log_init("pop3", LOGDEST_SYSLOG);
}

/* Become the mailbox owner, chrooted in the Maildir dir when it exists
 * (else in paths.runtime/empty).  The path the session then uses for the
 * Maildir, or NULL for an empty mailbox; static storage. */
static const char *
become_owner(const struct config *cf, const struct login_session *s)
{
	static char dir[PATH_MAX];
	char empty[PATH_MAX];
	struct priv_account owner;
	const char *err = NULL;
	int root = geteuid() == 0, r;

	if (login_mailbox(cf, s->user, dir, sizeof(dir), &owner, &err) == -1)
		fail(s->user, err != NULL ? err : "no mailbox");
	if ((r = maildir_exists(dir)) == -1)
		fail(dir, strerror(errno));
	if (r == 1) {
		priv_drop(&owner, dir);
		/* dev mode (not root): no chroot, the path stays valid */
		return root ? "." : dir;
	}
	if (str_format(empty, sizeof(empty), "%s/empty", cf->paths_runtime) == -1)
		fail(cf->paths_runtime, "path too long");
	priv_drop(&owner, empty);
	return NULL;
}

/* Whether the login process offered USER and PLAIN to this client (the
 * same rule, from master's address and the TLS fact). */
static int
plaintext_offered(const struct config *cf, const struct login_session *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, s->client, &sin.sin_addr) == 1)
		return login_plaintext_ok(cf->pop3_plaintext_auth, s->tls,
		    (struct sockaddr *)&sin);
	if (inet_pton(AF_INET6, s->client, &sin6.sin6_addr) == 1)
		return login_plaintext_ok(cf->pop3_plaintext_auth, s->tls,
		    (struct sockaddr *)&sin6);
	return login_plaintext_ok(cf->pop3_plaintext_auth, s->tls, NULL);
}

int
main(int argc, char **argv)
{
	static struct config cf;
	static struct login_session s;
	static struct pop3 p;
	const char *err = NULL, *maildir;
	int status;

	/* SIGTERM ends us at once: nothing is deleted, the UPDATE state is
	 * only entered by QUIT */
	if (service_conn_init("pop3", LOGIN_CHANNEL_FD + 1) == -1)
		fail("signal", strerror(errno));
	load_config(argc, argv, &cf);
	if (login_session_receive(&cf, "pop3", &s, &err) == -1)
		fail("session", err != NULL ? err : "refused");
	maildir = become_owner(&cf, &s);
	pop3_session_init(&p, &cf, s.user, s.client);
	p.plaintext = plaintext_offered(&cf, &s);
	status = pop3_session_run(&p, maildir, s.input.data, s.input.len);
	pop3_session_free(&p);
	login_session_free(&s);
	config_free(&cf);
	return status;
}
