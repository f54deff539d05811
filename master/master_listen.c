/*
 * master_listen: binds the SMTP listeners as root and hands each accepted
 * connection to a fresh smtpd (client socket on fd 0 and 1).  master reads
 * nothing from clients: over a session cap it writes one 421 line, best
 * effort and non-blocking, and closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "master_listen.h"
#include "master_log.h"
#include "master_spawn.h"
#include "net.h"
#include "util.h"
#include "xmalloc.h"

#define NLISTEN		3
#define ACCEPT_BURST	64

struct listener {
	const char *name;	/* "smtp": key listen.NAME and smtpd -l NAME */
	char addr[256];		/* the configured text it is bound to */
	int fd;
};

struct session {
	pid_t pid;
	int which;
	char ip[64];
};

static struct listener listeners[NLISTEN] = {
	{ "smtp", "", -1 }, { "submission", "", -1 }, { "smtps", "", -1 },
};
static struct session *sessions;
static size_t nsessions, capsessions;

static const char *
configured(const struct config *c, int i)
{
	const char *v[NLISTEN] = { c->listen_smtp, c->listen_submission,
	    c->listen_smtps };

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
listen_pollfds(struct pollfd *p, int max)
{
	int i, n = 0;

	for (i = 0; i < NLISTEN && n < max; i++)
		if (listeners[i].fd != -1) {
			p[n].fd = listeners[i].fd;
			p[n].events = POLLIN;
			p[n].revents = 0;
			n++;
		}
	return n;
}

/* Over a cap: say so, best effort, without ever blocking master. */
static void
refuse(const struct config *c, int fd, const char *ip, const char *which)
{
	char line[512];

	log_warn("%s: too many connections, refusing %s", which, ip);
	if (str_format(line, sizeof(line),
	    "421 4.7.0 %s Too many connections, try again later\r\n",
	    c->hostname) == 0 &&
	    send(fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL) == -1) {
		/* best effort: the client gets a reset instead */
	}
	close(fd);
}

static int
sessions_from(const char *ip)
{
	size_t i;
	int n = 0;

	for (i = 0; i < nsessions; i++)
		if (strcmp(sessions[i].ip, ip) == 0)
			n++;
	return n;
}

/* Fork smtpd for one accepted connection and remember the session. */
static void
start_session(const struct config *c, const char *confpath, int which,
    int fd, const char *ip)
{
	char prog[512];
	char *argv[] = { "smtpd", "-c", (char *)confpath, "-l",
	    (char *)listeners[which].name, NULL };
	int fds[3];
	pid_t pid;

	if (str_format(prog, sizeof(prog), "%s/smtpd", c->paths_libexec) == -1 ||
	    !master_program_exists(prog)) {
		log_warn("listen.%s: %s is not installed; closing connection from %s",
		    listeners[which].name, prog, ip);
		close(fd);
		return;
	}
	fds[0] = fds[1] = fd;
	fds[2] = master_log_write_fd();
	pid = master_spawn(prog, argv, fds, 3);
	close(fd);
	if (pid == -1)
		return;
	if (nsessions == capsessions) {
		capsessions = capsessions ? capsessions * 2 : 64;
		sessions = xreallocarray(sessions, capsessions, sizeof(*sessions));
	}
	sessions[nsessions].pid = pid;
	sessions[nsessions].which = which;
	if (str_copy(sessions[nsessions].ip, sizeof(sessions[nsessions].ip), ip) == -1)
		sessions[nsessions].ip[0] = '\0';
	nsessions++;
}

void
listen_accept(const struct config *c, const char *confpath, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char ip[64];
	int i, which = -1, fd, n;

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
		if (nsessions >= c->smtpd_max_sessions ||
		    (uint64_t)sessions_from(ip) >= c->smtpd_max_sessions_per_ip)
			refuse(c, fd, ip, listeners[which].name);
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
	int count[NLISTEN] = { 0, 0, 0 };
	size_t i;

	for (i = 0; i < nsessions; i++)
		count[sessions[i].which]++;
	return buf_printf(out, "sessions smtp=%d submission=%d smtps=%d\n",
	    count[0], count[1], count[2]);
}
