/*
 * master_listen: binds the listeners as root and hands each accepted
 * connection to a fresh smtpd, pop3-login or imap-login (client socket on fd 0 and 1;
 * a login process also gets a channel to master on fd 3, for its one
 * handoff: master_handoff.c).  master reads nothing from clients: over a
 * session cap it writes one refusal line, best effort and non-blocking, and
 * closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "master_handoff.h"
#include "master_listen.h"
#include "master_log.h"
#include "master_spawn.h"
#include "net.h"
#include "util.h"
#include "xmalloc.h"

#define NLISTEN		7
#define ACCEPT_BURST	64

enum family { F_SMTP, F_POP3, F_IMAP };

struct listener {
	const char *name;	/* "smtp": key listen.NAME and PROGRAM -l NAME */
	enum family family;
	const char *program;	/* started per connection */
	const char *mail;	/* the mail program a login hands over to */
	char addr[256];		/* the configured text it is bound to */
	int fd;
};

struct session {
	pid_t pid;
	int which;
	char ip[64];
	int chan;		/* master's end of a login's channel, or -1 */
	int counts;		/* counted against the caps (not a login that
				   has handed its connection over) */
};

static struct listener listeners[NLISTEN] = {
	{ "smtp", F_SMTP, "smtpd", NULL, "", -1 },
	{ "submission", F_SMTP, "smtpd", NULL, "", -1 },
	{ "smtps", F_SMTP, "smtpd", NULL, "", -1 },
	{ "pop3", F_POP3, "pop3-login", "pop3", "", -1 },
	{ "pop3s", F_POP3, "pop3-login", "pop3", "", -1 },
	{ "imap", F_IMAP, "imap-login", "imap", "", -1 },
	{ "imaps", F_IMAP, "imap-login", "imap", "", -1 },
};
static struct session *sessions;
static size_t nsessions, capsessions;

static const char *
configured(const struct config *c, int i)
{
	const char *v[NLISTEN] = { c->listen_smtp, c->listen_submission,
	    c->listen_smtps, c->listen_pop3, c->listen_pop3s, c->listen_imap,
	    c->listen_imaps };

	return v[i] != NULL ? v[i] : "";
}

/* Socket bound and listening at text address addr; -1 with *why. */
static int
bind_one(const char *addr, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, on = 1, v6only;

	if (net_parse_hostport(addr, &ss, &sslen, why) == -1)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*why = strerror(errno);
		return -1;
	}
	/* "*:port" means IPv4 and IPv6 on one socket; "[::]" means IPv6 only */
	v6only = addr[0] != '*' && addr[0] != ':';
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
	    listen(fd, 128) == -1) {
		*why = strerror(errno);
		close(fd);
		return -1;
	}
	return fd;
}

int
listen_open(const struct config *c)
{
	const char *addr, *why = "";
	int i, fd, rc = 0;

	for (i = 0; i < NLISTEN; i++) {
		struct listener *l = &listeners[i];

		addr = configured(c, i);
		if (l->fd != -1 && strcmp(l->addr, addr) == 0)
			continue;
		if (addr[0] == '\0') {
			if (l->fd != -1)
				close(l->fd);
			l->fd = -1;
			l->addr[0] = '\0';
			continue;
		}
		if ((fd = bind_one(addr, &why)) == -1) {
			log_warn("listen.%s: cannot listen on %s: %s", l->name,
			    addr, why);
			rc = -1;
			continue;
		}
		if (l->fd != -1)
			close(l->fd);
		l->fd = fd;
		if (str_copy(l->addr, sizeof(l->addr), addr) == -1)
			log_panic("listen address too long");
		log_info("listen.%s: listening on %s", l->name, addr);
	}
	return rc;
}

void
listen_close(void)
{
	int i;

	for (i = 0; i < NLISTEN; i++) {
		if (listeners[i].fd != -1)
			close(listeners[i].fd);
		listeners[i].fd = -1;
		listeners[i].addr[0] = '\0';
	}
}

int
listen_npollfds(void)
{
	return NLISTEN + (int)nsessions;
}

int
listen_pollfds(struct pollfd *p, int max)
{
	size_t j;
	int i, n = 0;

	for (i = 0; i < NLISTEN && n < max; i++)
		if (listeners[i].fd != -1) {
			p[n].fd = listeners[i].fd;
			p[n].events = POLLIN;
			p[n].revents = 0;
			n++;
		}
	for (j = 0; j < nsessions && n < max; j++)
		if (sessions[j].chan != -1) {
			p[n].fd = sessions[j].chan;
			p[n].events = POLLIN;
			p[n].revents = 0;
			n++;
		}
	return n;
}

/* Over a cap: say so, best effort, without ever blocking master. */
static void
refuse(const struct config *c, int fd, const char *ip, int which)
{
	char line[512];
	int r;

	log_warn("%s: too many connections, refusing %s", listeners[which].name, ip);
	if (listeners[which].family == F_POP3)
		r = str_copy(line, sizeof(line),
		    "-ERR [SYS/TEMP] Too many connections, try again later\r\n");
	else if (listeners[which].family == F_IMAP)
		r = str_copy(line, sizeof(line),
		    "* BYE [UNAVAILABLE] Too many connections, try again later\r\n");
	else
		r = str_format(line, sizeof(line),
		    "421 4.7.0 %s Too many connections, try again later\r\n",
		    c->hostname);
	if (r == 0 &&
	    send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
		/* best effort: the client gets a reset instead */
	}
	close(fd);
}

/* Connections of family f counted against its caps, all or from ip. */
static uint64_t
sessions_of(enum family f, const char *ip)
{
	size_t i;
	uint64_t n = 0;

	for (i = 0; i < nsessions; i++)
		if (sessions[i].counts && listeners[sessions[i].which].family == f &&
		    (ip == NULL || strcmp(sessions[i].ip, ip) == 0))
			n++;
	return n;
}

static int
over_cap(const struct config *c, int which, const char *ip)
{
	enum family f = listeners[which].family;
	uint64_t max = f == F_POP3 ? c->pop3_max_sessions :
	    f == F_IMAP ? c->imap_max_sessions : c->smtpd_max_sessions;
	uint64_t per_ip = f == F_POP3 ? c->pop3_max_sessions_per_ip :
	    f == F_IMAP ? c->imap_max_sessions_per_ip : c->smtpd_max_sessions_per_ip;

	return sessions_of(f, NULL) >= max || sessions_of(f, ip) >= per_ip;
}

static void
add_session(pid_t pid, int which, const char *ip, int chan)
{
	if (nsessions == capsessions) {
		capsessions = capsessions ? capsessions * 2 : 64;
		sessions = xreallocarray(sessions, capsessions, sizeof(*sessions));
	}
	sessions[nsessions].pid = pid;
	sessions[nsessions].which = which;
	if (str_copy(sessions[nsessions].ip, sizeof(sessions[nsessions].ip), ip) == -1)
		sessions[nsessions].ip[0] = '\0';
	sessions[nsessions].chan = chan;
	sessions[nsessions].counts = 1;
	nsessions++;
}

/* Fork the listener's program for one accepted connection (a login
 * program gets its channel to master on fd 3) and remember the session. */
static void
start_session(const struct config *c, const char *confpath, int which,
    int fd, const char *ip)
{
	const struct listener *l = &listeners[which];
	char prog[512];
	char *argv[] = { (char *)l->program, "-c", (char *)confpath, "-l",
	    (char *)l->name, NULL };
	int fds[4], chan[2] = { -1, -1 };
	pid_t pid;

	if (str_format(prog, sizeof(prog), "%s/%s", c->paths_libexec, l->program) == -1 ||
	    !master_program_exists(prog)) {
		log_warn("listen.%s: %s is not installed; closing connection from %s",
		    l->name, prog, ip);
		close(fd);
		return;
	}
	if (l->mail != NULL &&
	    (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) == -1 ||
	    fd_set_nonblock(chan[0], 1) == -1)) {
		log_warn("listen.%s: socketpair: %s", l->name, strerror(errno));
		if (chan[0] != -1) {
			close(chan[0]);
			close(chan[1]);
		}
		close(fd);
		return;
	}
	fds[0] = fds[1] = fd;
	fds[2] = master_log_write_fd();
	fds[3] = chan[1];
	pid = master_spawn(prog, argv, fds, l->mail != NULL ? 4 : 3);
	close(fd);
	if (chan[1] != -1)
		close(chan[1]);
	if (pid == -1) {
		if (chan[0] != -1)
			close(chan[0]);
		return;
	}
	add_session(pid, which, ip, chan[0]);
}

/* A login channel polled readable: its handoff, or its end. */
static void
handle_channel(const struct config *c, const char *confpath, size_t i)
{
	struct listener *l = &listeners[sessions[i].which];
	char prog[512], ip[64];
	int which = sessions[i].which;
	pid_t pid = -1;

	memcpy(ip, sessions[i].ip, sizeof(ip));
	if (str_format(prog, sizeof(prog), "%s/%s", c->paths_libexec, l->mail) == 0)
		pid = handoff_start(c, confpath, sessions[i].chan, prog, l->mail,
		    l->name, ip);
	if (pid == -2)
		return;		/* polled before its session was reaped and the
				   descriptor number reused: nothing came */
	close(sessions[i].chan);
	sessions[i].chan = -1;		/* one handoff per login process */
	if (pid == -1)
		return;
	sessions[i].counts = 0;		/* the mail process counts instead */
	add_session(pid, which, ip, -1);
}

void
listen_channel(const struct config *c, const char *confpath, int fd)
{
	size_t i;

	for (i = 0; i < nsessions; i++)
		if (sessions[i].chan == fd) {
			handle_channel(c, confpath, i);
			return;
		}
}

void
listen_accept(const struct config *c, const char *confpath, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char ip[64];
	int i, which = -1, fd, n, one = 1;

	for (i = 0; i < NLISTEN; i++)
		if (listeners[i].fd == lfd)
			which = i;
	if (which == -1)
		return;
	for (n = 0; n < ACCEPT_BURST; n++) {
		sslen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("listen.%s: accept: %s",
				    listeners[which].name, strerror(errno));
			return;
		}
		if (net_addr_text((struct sockaddr *)&ss, ip, sizeof(ip)) == -1 &&
		    str_copy(ip, sizeof(ip), "unknown") == -1)
			ip[0] = '\0';
		/* every service writes whole replies from its own buffer: Nagle
		 * would only hold a reply's last segment for the client's
		 * delayed ACK (40 ms on each large IMAP answer) */
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
			log_warn("listen.%s: TCP_NODELAY: %s", listeners[which].name,
			    strerror(errno));
		if (over_cap(c, which, ip))
			refuse(c, fd, ip, which);
		else
			start_session(c, confpath, which, fd, ip);
	}
}

int
listen_reaped(pid_t pid)
{
	size_t i;

	for (i = 0; i < nsessions; i++)
		if (sessions[i].pid == pid) {
			if (sessions[i].chan != -1)
				close(sessions[i].chan);
			sessions[i] = sessions[--nsessions];
			return 1;
		}
	return 0;
}

void
listen_kill_sessions(int sig)
{
	size_t i;

	for (i = 0; i < nsessions; i++)
		if (kill(sessions[i].pid, sig) == -1 && errno != ESRCH)
			log_warn("session %ld: kill: %s", (long)sessions[i].pid,
			    strerror(errno));
}

int
listen_sessions(void)
{
	return (int)nsessions;
}

int
listen_status(struct buf *out)
{
	int count[NLISTEN] = { 0 };
	size_t i;

	for (i = 0; i < nsessions; i++)
		count[sessions[i].which] += sessions[i].counts;
	return buf_printf(out, "sessions smtp=%d submission=%d smtps=%d pop3=%d pop3s=%d "
	    "imap=%d imaps=%d\n", count[0], count[1], count[2], count[3], count[4],
	    count[5], count[6]);
}
