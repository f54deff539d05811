/*
 * imap: the IMAP mail process, started by master as root after imap-login
 * handed a client over (docs/login.md): the client on fd 0/1, the log pipe
 * on fd 2, the IPC_LOGIN_SESSION record on fd 3.  It trusts master's
 * record and auth's answer to the token, nothing the client or the login
 * process claims; it chroots into the user's Maildir as its owner before
 * reading a byte from the client, creating the Maildir first (as the
 * owner) for a user who has no mail yet.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "imap_session.h"
#include "log.h"
#include "login.h"
#include "maildir.h"
#include "map.h"
#include "privsep.h"
#include "service.h"
#include "util.h"

/* Before the session: tell the client (tagged when the tag is known) and
 * stop. */
static void __attribute__((noreturn))
fail(const char *tag, const char *what, const char *err)
{
	char line[LOGIN_TAG_MAX + 128];

	if (str_format(line, sizeof(line), "%s NO [UNAVAILABLE] Temporary failure, "
	    "try again later\r\n", tag != NULL && tag[0] != '\0' ? tag : "*") == 0 &&
	    write_all(1, line, strlen(line)) == -1) {
		/* the client is gone; nothing more to say */
	}
	log_fatal("%s: %s", what, err);
}

static void
load_config(int argc, char **argv, struct config *cf)
{
	const char *path = getenv("POSTERN_CONF"), *err = NULL;

	if (service_args(argc, argv, &path, NULL) == -1)
		fail(NULL, "usage", "imap -c CONFIG");
	if (service_config(path, cf, &err) == -1)
		fail(NULL, path, err);
	if (cf->log_syslog)
		log_init("imap", LOGDEST_SYSLOG);
}

/* Create the Maildir dir as its owner, in a child: this process stays root
 * until it chroots. */
static void
make_maildir(const struct login_session *s, const struct priv_account *owner,
    const char *dir)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == -1)
		fail(s->tag, "fork", strerror(errno));
	if (pid == 0) {
		priv_drop(owner, NULL);
		if (maildir_make_virtual(dir) == -1) {
			log_warn("cannot create the Maildir %s: %s", dir, strerror(errno));
			_exit(1);
		}
		log_info("created the Maildir %s", dir);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fail(s->tag, "waitpid", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail(s->tag, dir, "cannot create the Maildir");
}

/* Become the mailbox owner, chrooted in the Maildir.  The root the
 * session uses for it ("." when chrooted, the path in dev mode). */
static const char *
become_owner(const struct config *cf, const struct login_session *s)
{
	static char dir[PATH_MAX];
	struct priv_account owner;
	const char *err = NULL;
	int root = geteuid() == 0, r;

	if (login_mailbox(cf, s->user, dir, sizeof(dir), &owner, &err) == -1)
		fail(s->tag, s->user, err != NULL ? err : "no mailbox");
	if ((r = maildir_exists(dir)) == -1)
		fail(s->tag, dir, strerror(errno));
	if (r == 0)
		make_maildir(s, &owner, dir);
	priv_drop(&owner, dir);
	return root ? "." : dir;
}

/* The user's quota from paths.maps/mailboxes.cdb (readable by root; the
 * chrooted session cannot reach it), 0 for none. */
static uint64_t
user_quota(const struct config *cf, const struct login_session *s)
{
	struct buf val = BUF_INIT(64);
	char path[PATH_MAX];
	struct map m;
	uint64_t q = 0;
	int r;

	if (str_format(path, sizeof(path), "%s/mailboxes.cdb", cf->paths_maps) == -1 ||
	    map_open(&m, path) == -1)
		fail(s->tag, "mailboxes.cdb", strerror(errno));
	r = map_lookup(&m, s->user, &val);
	map_close(&m);
	if (r == -1 || (r == 1 && val.len > 0 &&
	    parse_uint(buf_cstr(&val), 0, UINT64_MAX, &q) == -1))
		fail(s->tag, s->user, "bad entry in mailboxes.cdb");
	buf_free(&val);
	return q;
}

/* One of the user's imap.max_sessions_per_user slots, files in the
 * Maildir root (now "." or the dev-mode path), held until exit, or the
 * login is refused. */
static void
take_slot(const struct config *cf, const struct login_session *s, const char *root)
{
	char line[LOGIN_TAG_MAX + 128];
	const char *err = NULL;
	int fd, r;

	r = login_user_slot(root, (unsigned)cf->imap_max_sessions_per_user, &fd, &err);
	if (r == -1)
		fail(s->tag, "session slot", err != NULL ? err : "failed");
	if (r == 1)
		return;
	log_info("user=%s client=%s: imap.max_sessions_per_user (%llu) reached", s->user,
	    s->client, (unsigned long long)cf->imap_max_sessions_per_user);
	if (str_format(line, sizeof(line), "* BYE Too many sessions\r\n%s NO [LIMIT] "
	    "Too many sessions of this user\r\n", s->tag) == 0 &&
	    write_all(1, line, strlen(line)) == -1) {
		/* the client is gone */
	}
	exit(1);
}

int
main(int argc, char **argv)
{
	static struct config cf;
	static struct login_session s;
	static struct imap p;
	const char *err = NULL, *root;
	uint64_t quota;
	int status;

	if (service_conn_init("imap", LOGIN_CHANNEL_FD + 1) == -1)
		fail(NULL, "signal", strerror(errno));
	load_config(argc, argv, &cf);
	if (login_session_receive(&cf, "imap", &s, &err) == -1)
		fail(NULL, "session", err != NULL ? err : "refused");
	quota = user_quota(&cf, &s);
	root = become_owner(&cf, &s);
	take_slot(&cf, &s, root);
	imap_session_init(&p, &cf, s.user, s.client);
	p.quota = quota;
	status = imap_session_run(&p, root, s.tag, s.input.data, s.input.len);
	imap_session_free(&p);
	login_session_free(&s);
	config_free(&cf);
	return status;
}
