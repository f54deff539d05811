/*
 * local_server: the root spawner's poll loop (see local_server.h): the
 * connection to the queue (HELLO, reconnect after 1 s), signals, the
 * children's result pipes and time limits, and the graceful stop.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "ipc.h"
#include "local_server.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* Close the connection without losing what we sent: Linux resets a Unix
 * socket closed with unread records in it, and the peer's recv then fails
 * before it reads our last results.  So refuse further records, drop the
 * unread ones (their jobs are the queue's to defer), then close. */
static void
close_queue(struct local_server *s)
{
	struct ipc_msg m;
	int n = 0;

	if (shutdown(s->sock, SHUT_RD) == -1)
		log_warn("shutdown of the queue connection: %s", strerror(errno));
	while (ipc_recv(s->sock, &m) == 1) {
		ipc_msg_free(&m);
		n++;
	}
	if (n > 0)
		log_info("dropped %d unread record%s from the queue", n, n == 1 ? "" : "s");
	close(s->sock);
	s->sock = -1;
}

static void
disconnect(struct local_server *s, const char *why)
{
	if (s->sock != -1) {
		log_warn("connection to the queue closed: %s", why);
		close_queue(s);
	}
	s->sock = -1;
	s->ready = 0;
	s->send_failed = 0;
	local_out_clear(s);	/* kept results are announced again */
	s->gen++;
	s->reconnect_at = now_ms() + LOCAL_RECONNECT_MS;
}

/* Connect to deliver.sock and say HELLO, announcing the orphans (running
 * deliveries and results not acknowledged by an earlier queue); on failure
 * try again in 1 s. */
static void
try_connect(struct local_server *s)
{
	struct timeval tv = { LOCAL_SEND_TIMEOUT_S, 0 };
	size_t norphans = local_orphan_count(s);
	char path[4096];
	struct ipc_msg m;
	int fd, r;

	s->reconnect_at = now_ms() + LOCAL_RECONNECT_MS;
	if (str_format(path, sizeof(path), "%s/deliver.sock", s->c->paths_runtime) == -1)
		log_fatal("%s/deliver.sock: path too long", s->c->paths_runtime);
	if ((fd = ipc_connect(path)) == -1) {
		if (!s->warned)
			log_warn("cannot connect to %s: %s (retrying every second)", path,
			    strerror(errno));
		s->warned = 1;
		return;
	}
	ipc_msg_init(&m, IPC_DELIVER_HELLO);
	r = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
	    ipc_put_str(&m, "transport", "local") == 0 &&
	    ipc_put_u64(&m, "slots", s->nslots) == 0 &&
	    ipc_put_u64(&m, "orphans", norphans) == 0 && ipc_send(fd, &m) == 0;
	ipc_msg_free(&m);
	if (!r || fd_set_nonblock(fd, 1) == -1 || fd_set_cloexec(fd, 1) == -1) {
		log_warn("cannot say HELLO to the queue: %s", strerror(errno));
		close(fd);
		return;
	}
	s->sock = fd;
	s->warned = 0;
	s->gen++;
	if (norphans > 0)
		log_info("announcing %zu deliveries of an earlier connection to the queue",
		    norphans);
	local_orphan_announce(s);
}

/* The queue's socket is readable. */
static void
from_queue(struct local_server *s)
{
	struct ipc_msg m;
	int r;

	while ((r = ipc_recv(s->sock, &m)) == 1) {
		if (!s->ready) {
			if (m.type != IPC_OK) {
				ipc_msg_free(&m);
				disconnect(s, "HELLO was not accepted");
				return;
			}
			s->ready = 1;
			log_info("connected to the queue, %zu delivery slots", s->nslots);
		} else if (m.type == IPC_OK)
			local_done_ack(s, &m);
		else if (m.type == IPC_DELIVER_JOB && s->stopping)
			log_info("stopping: a job from the queue not taken");
		else if (m.type != IPC_DELIVER_JOB || local_slot_job(s, &m) == -1) {
			ipc_msg_free(&m);
			disconnect(s, "protocol error");
			return;
		}
		ipc_msg_free(&m);
		if (s->send_failed) {
			disconnect(s, "cannot send to the queue");
			return;
		}
	}
	if (r == 0)
		disconnect(s, "the queue closed it");
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		disconnect(s, strerror(errno));
}

static void
reap(struct local_server *s)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		local_slot_reaped(s, pid, st);
}

static void
on_signals(struct local_server *s)
{
	int sig;

	while ((sig = event_signal_next()) != 0) {
		if (sig == SIGCHLD)
			reap(s);
		else if ((sig == SIGTERM || sig == SIGINT) && !s->stopping) {
			s->stopping = 1;
			s->stop_deadline = now_ms() +
			    (s->c->master_grace_period > 2 ? s->c->master_grace_period - 1 : 1) *
			    1000;
			log_info("stopping: waiting for %zu deliveries", s->nrunning);
		}
	}
}

/* Kill children past their time limit (or all, at the stop deadline). */
static void
enforce_limits(struct local_server *s, int64_t now)
{
	int at_stop = s->stopping && now >= s->stop_deadline;

	for (size_t i = 0; i < s->nslots; i++) {
		struct local_slot *sl = &s->slots[i];

		if (!sl->used || sl->pid == 0 || sl->killed)
			continue;
		if (now >= sl->deadline || at_stop) {
			log_set_qid(sl->job.id);
			log_warn("to=<%s>: delivery %s; killing pid %ld", sl->job.rcpt.addr,
			    at_stop ? "still running at stop" : "timed out", (long)sl->pid);
			log_set_qid(NULL);
			kill(sl->pid, SIGKILL);
			sl->killed = at_stop ? 2 : 1;
		}
	}
}

/* Milliseconds poll may sleep. */
static int
poll_timeout(const struct local_server *s, int64_t now)
{
	int64_t t = -1;

	if (s->sock == -1 && !s->stopping)
		t = s->reconnect_at;
	if (s->stopping && (t == -1 || s->stop_deadline < t))
		t = s->stop_deadline;
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].used && s->slots[i].pid != 0 && !s->slots[i].killed &&
		    (t == -1 || s->slots[i].deadline < t))
			t = s->slots[i].deadline;
	if (t == -1)
		return -1;
	return t <= now ? 0 : (int)(t - now > 60000 ? 60000 : t - now);
}

/* One round of poll; dispatch what is ready. */
static void
run_once(struct local_server *s, struct pollfd *pfd, size_t *idx)
{
	size_t n = 0, i;
	int64_t now = now_ms();

	pfd[n++] = (struct pollfd){ event_signal_fd(), POLLIN, 0 };
	if (s->sock != -1)	/* also when stopping: acknowledgements */
		pfd[n++] = (struct pollfd){ s->sock,
		    (short)(POLLIN | (s->nout > 0 ? POLLOUT : 0)), 0 };
	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].used && s->slots[i].pipefd != -1) {
			idx[n] = i;
			pfd[n++] = (struct pollfd){ s->slots[i].pipefd, POLLIN, 0 };
		}
	if (poll(pfd, n, poll_timeout(s, now)) == -1 && errno != EINTR)
		log_fatal("poll: %s", strerror(errno));
	on_signals(s);
	for (i = 1; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (pfd[i].fd == s->sock) {
			if (pfd[i].revents & POLLOUT)
				local_out_flush(s);
			if (s->sock != -1 && !s->send_failed &&
			    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				from_queue(s);
		} else
			local_slot_read(s, &s->slots[idx[i]]);
	}
	reap(s);
	local_slot_finish_done(s);
	if (s->send_failed && s->sock != -1)
		disconnect(s, "cannot send to the queue");
	now = now_ms();
	enforce_limits(s, now);
	if (s->sock == -1 && !s->stopping && now >= s->reconnect_at)
		try_connect(s);
}

int
local_server_run(const struct config *c, const struct priv_account *vmail)
{
	struct local_server s = { 0 };
	struct pollfd *pfd;
	size_t *idx;
	char path[4096];

	s.c = c;
	s.vmail = vmail;
	s.sock = -1;
	s.nslots = c->local_concurrency;
	s.slots = xcalloc(s.nslots, sizeof(*s.slots));
	pfd = xcalloc(s.nslots + 2, sizeof(*pfd));
	idx = xcalloc(s.nslots + 2, sizeof(*idx));
	if (str_format(path, sizeof(path), "%s/mailboxes.cdb", c->paths_maps) == -1 ||
	    map_open(&s.mailboxes, path) == -1 ||
	    str_format(path, sizeof(path), "%s/aliases.cdb", c->paths_maps) == -1 ||
	    map_open(&s.aliases, path) == -1)
		log_fatal("cannot open the maps in %s: %s", c->paths_maps, strerror(errno));
	(void)event_signal_fd();
	event_signal_catch(SIGTERM);
	event_signal_catch(SIGINT);
	event_signal_catch(SIGCHLD);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	try_connect(&s);
	while (!s.stopping || s.nrunning > 0 ||
	    (s.nout > 0 && s.sock != -1 && now_ms() < s.stop_deadline))
		run_once(&s, pfd, idx);
	if (s.sock != -1)
		close_queue(&s);
	local_orphan_free(&s);
	map_close(&s.mailboxes);
	map_close(&s.aliases);
	free(s.slots);
	free(pfd);
	free(idx);
	log_info("stopped");
	return 0;
}
