/*
 * agent: the delivery agents' shared core (see agent.h): the queue
 * connection, the jobs in flight and kept results (orphans), the send
 * queue, signals and the poll loop.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "agent.h"
#include "event.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* ---- the send queue ---- */

/* A copy of m (no descriptors) into out. */
static void
msg_copy(struct ipc_msg *out, const struct ipc_msg *m)
{
	ipc_msg_init(out, m->type);
	if (buf_append(&out->body, m->body.data, m->body.len) == -1)
		log_panic("msg_copy: record size");
}

/* Send queued records while the socket takes them. */
static void
out_flush(struct agent *a)
{
	size_t k = 0;

	while (k < a->nout && a->sock != -1) {
		if (ipc_send(a->sock, &a->out[k]) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				log_warn("cannot send to the queue: %s", strerror(errno));
				a->send_failed = 1;
			}
			break;
		}
		ipc_msg_free(&a->out[k++]);
	}
	memmove(a->out, a->out + k, (a->nout - k) * sizeof(*a->out));
	a->nout -= k;
}

static void
out_clear(struct agent *a)
{
	for (size_t k = 0; k < a->nout; k++)
		ipc_msg_free(&a->out[k]);
	a->nout = 0;
}

/* Queue a copy of m and send what the socket takes. */
static void
out_add(struct agent *a, const struct ipc_msg *m)
{
	if (a->nout == a->outcap) {
		a->outcap = a->outcap ? a->outcap * 2 : 32;
		a->out = xreallocarray(a->out, a->outcap, sizeof(*a->out));
	}
	msg_copy(&a->out[a->nout++], m);
	out_flush(a);
}

/* ---- jobs in flight and kept results ---- */

static void
flight_drop(struct agent *a, size_t k)
{
	if (a->fl[k].done) {
		ipc_msg_free(&a->fl[k].res);
		a->nkept--;
	}
	free(a->fl[k].rcpt);
	memmove(a->fl + k, a->fl + k + 1, (a->nfl - k - 1) * sizeof(*a->fl));
	a->nfl--;
}

static ssize_t
flight_find(const struct agent *a, const char *tag)
{
	for (size_t k = 0; k < a->nfl; k++)
		if (strcmp(a->fl[k].tag, tag) == 0)
			return (ssize_t)k;
	return -1;
}

int
agent_begin(struct agent *a, const struct agent_job *j)
{
	struct agent_flight *f;

	if (flight_find(a, j->tag) != -1) {
		log_warn("job %s is already running; closing the connection", j->tag);
		return -1;
	}
	if (a->nfl == a->flcap) {
		a->flcap = a->flcap ? a->flcap * 2 : 32;
		a->fl = xreallocarray(a->fl, a->flcap, sizeof(*a->fl));
	}
	f = &a->fl[a->nfl++];
	memset(f, 0, sizeof(*f));
	f->nrcpt = j->nrcpt;
	f->rcpt = xcalloc(j->nrcpt, sizeof(*f->rcpt));
	if (str_copy(f->tag, sizeof(f->tag), j->tag) == -1 ||
	    str_copy(f->id, sizeof(f->id), j->id) == -1)
		log_panic("agent_begin: lengths");
	for (size_t i = 0; i < j->nrcpt; i++)
		if (str_copy(f->rcpt[i], sizeof(f->rcpt[i]), j->rcpt[i].a.addr) == -1)
			log_panic("agent_begin: lengths");
	return 0;
}

void
agent_result(struct agent *a, const char *tag, const struct ipc_msg *res)
{
	ssize_t k = flight_find(a, tag);

	if (k == -1 || a->fl[k].done)
		log_panic("agent_result: job %s not running", tag);
	if (a->nkept == AGENT_KEPT_MAX)
		for (size_t i = 0; i < a->nfl; i++)
			if (a->fl[i].done) {
				log_warn("job %s: too many results the queue has not "
				    "acknowledged; forgetting the one for <%s> (it may be "
				    "delivered again)", a->fl[i].tag, a->fl[i].rcpt[0]);
				flight_drop(a, i);
				k = flight_find(a, tag);
				break;
			}
	msg_copy(&a->fl[k].res, res);
	a->fl[k].done = 1;
	a->nkept++;
	if (a->sock != -1)
		out_add(a, res);
	else
		log_info("job %s: the queue is not connected; the result is kept for it", tag);
}

/* An IPC_OK "job" from the queue: that result is recorded. */
static void
ack(struct agent *a, const struct ipc_msg *m)
{
	const char *tag = ipc_get_str(m, "job", 20);
	ssize_t k = tag != NULL ? flight_find(a, tag) : -1;

	if (k == -1 || !a->fl[k].done)
		log_warn("acknowledgement for an unknown job %s from the queue; ignored",
		    tag != NULL ? tag : "(none)");
	else
		flight_drop(a, (size_t)k);
}

/* After HELLO: one ORPHAN per job in flight or kept, then the kept results. */
static void
orphans_announce(struct agent *a)
{
	struct ipc_msg m;
	size_t k, i;
	int r;

	for (k = 0; k < a->nfl; k++) {
		ipc_msg_init(&m, IPC_DELIVER_ORPHAN);
		r = ipc_put_str(&m, "job", a->fl[k].tag) == 0 &&
		    ipc_put_str(&m, "id", a->fl[k].id) == 0;
		for (i = 0; i < a->fl[k].nrcpt && r; i++)
			r = ipc_put_str(&m, "rcpt", a->fl[k].rcpt[i]) == 0;
		if (!r)
			log_panic("orphan record");
		out_add(a, &m);
		ipc_msg_free(&m);
	}
	for (k = 0; k < a->nfl; k++)
		if (a->fl[k].done)
			out_add(a, &a->fl[k].res);
}

/* ---- the connection ---- */

/* Close the connection without losing what we sent: Linux resets a Unix
 * socket closed with unread records in it, and the peer's recv then fails
 * before it reads our last results.  So refuse further records, drop the
 * unread ones (their jobs are the queue's to defer), then close. */
static void
close_queue(struct agent *a)
{
	struct ipc_msg m;
	int n = 0;

	if (shutdown(a->sock, SHUT_RD) == -1)
		log_warn("shutdown of the queue connection: %s", strerror(errno));
	while (ipc_recv(a->sock, &m) == 1) {
		ipc_msg_free(&m);
		n++;
	}
	if (n > 0)
		log_info("dropped %d unread record%s from the queue", n, n == 1 ? "" : "s");
	close(a->sock);
	a->sock = -1;
}

static void
disconnect(struct agent *a, const char *why)
{
	if (a->sock != -1) {
		log_warn("connection to the queue closed: %s", why);
		close_queue(a);
	}
	a->ready = 0;
	a->send_failed = 0;
	out_clear(a);		/* kept results are announced again */
	a->reconnect_at = now_ms() + AGENT_RECONNECT_MS;
}

/* Connect and say HELLO announcing the orphans; on failure retry in 1 s. */
static void
try_connect(struct agent *a)
{
	struct timeval tv = { AGENT_SEND_TIMEOUT_S, 0 };
	struct ipc_msg m;
	int fd, r;

	a->reconnect_at = now_ms() + AGENT_RECONNECT_MS;
	if ((fd = ipc_connect(a->sockpath)) == -1) {
		if (!a->warned)
			log_warn("cannot connect to %s: %s (retrying every second)",
			    a->sockpath, strerror(errno));
		a->warned = 1;
		return;
	}
	ipc_msg_init(&m, IPC_DELIVER_HELLO);
	r = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
	    ipc_put_str(&m, "transport", a->ops->transport) == 0 &&
	    ipc_put_u64(&m, "slots", a->nslots) == 0 &&
	    ipc_put_u64(&m, "orphans", a->nfl) == 0 && ipc_send(fd, &m) == 0;
	ipc_msg_free(&m);
	if (!r || fd_set_nonblock(fd, 1) == -1 || fd_set_cloexec(fd, 1) == -1) {
		log_warn("cannot say HELLO to the queue: %s", strerror(errno));
		close(fd);
		return;
	}
	a->sock = fd;
	a->warned = 0;
	if (a->nfl > 0)
		log_info("announcing %zu jobs of an earlier connection to the queue", a->nfl);
	orphans_announce(a);
}

/* The queue's socket is readable. */
static void
from_queue(struct agent *a)
{
	struct ipc_msg m;
	int r;

	while ((r = ipc_recv(a->sock, &m)) == 1) {
		if (!a->ready) {
			if (m.type != IPC_OK) {
				ipc_msg_free(&m);
				disconnect(a, "HELLO was not accepted");
				return;
			}
			a->ready = 1;
			log_info("connected to the queue, %zu delivery slots", a->nslots);
		} else if (m.type == IPC_OK)
			ack(a, &m);
		else if (m.type == IPC_DELIVER_JOB && a->stopping)
			log_info("stopping: a job from the queue not taken");
		else if (m.type != IPC_DELIVER_JOB || a->ops->job(a, &m) == -1) {
			ipc_msg_free(&m);
			disconnect(a, "protocol error");
			return;
		}
		ipc_msg_free(&m);
		if (a->send_failed) {
			disconnect(a, "cannot send to the queue");
			return;
		}
	}
	if (r == 0)
		disconnect(a, "the queue closed it");
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		disconnect(a, strerror(errno));
}

/* ---- the loop ---- */

static void
on_signals(struct agent *a)
{
	int sig;

	while ((sig = event_signal_next()) != 0)
		if ((sig == SIGTERM || sig == SIGINT) && !a->stopping) {
			a->stopping = 1;
			a->stop_deadline = now_ms() +
			    (a->c->master_grace_period > 2 ? a->c->master_grace_period - 1 : 1) *
			    1000;
			log_info("stopping: waiting for %zu deliveries", a->ops->running(a));
		}
}

/* Milliseconds poll may sleep, given the transport's earliest deadline. */
static int
poll_timeout(const struct agent *a, int64_t now, int64_t t)
{
	if (a->sock == -1 && !a->stopping && (t == -1 || a->reconnect_at < t))
		t = a->reconnect_at;
	if (a->stopping && (t == -1 || a->stop_deadline < t))
		t = a->stop_deadline;
	if (t == -1)
		return -1;
	return t <= now ? 0 : (int)(t - now > 60000 ? 60000 : t - now);
}

/* One round of poll; dispatch what is ready.  Returns the next deadline. */
static int64_t
run_once(struct agent *a, struct pollfd *pfd, void **ctx, int64_t deadline)
{
	size_t n = 0, i;
	int64_t now = now_ms();

	pfd[n++] = (struct pollfd){ event_signal_fd(), POLLIN, 0 };
	if (a->sock != -1)	/* also when stopping: acknowledgements */
		pfd[n++] = (struct pollfd){ a->sock,
		    (short)(POLLIN | (a->nout > 0 ? POLLOUT : 0)), 0 };
	i = n;
	n += a->ops->poll_fds(a, pfd + n, ctx + n, AGENT_POLL_MAX);
	if (poll(pfd, n, poll_timeout(a, now, deadline)) == -1 && errno != EINTR)
		log_fatal("poll: %s", strerror(errno));
	on_signals(a);
	if (a->sock != -1 && pfd[1].fd == a->sock && pfd[1].revents != 0) {
		if (pfd[1].revents & POLLOUT)
			out_flush(a);
		if (a->sock != -1 && !a->send_failed &&
		    (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			from_queue(a);
	}
	for (; i < n; i++)
		if (pfd[i].revents != 0)
			a->ops->ready(a, ctx[i], pfd[i].revents);
	now = now_ms();
	deadline = a->ops->tick(a, now, a->stopping && now >= a->stop_deadline);
	if (a->send_failed && a->sock != -1)
		disconnect(a, "cannot send to the queue");
	if (a->sock == -1 && !a->stopping && now >= a->reconnect_at)
		try_connect(a);
	return deadline;
}

int
agent_run(const struct agent_ops *ops, void *ctx, const struct config *c,
    const char *sockpath, size_t nslots)
{
	struct agent a = { 0 };
	struct pollfd *pfd = xcalloc(AGENT_POLL_MAX + 2, sizeof(*pfd));
	void **pctx = xcalloc(AGENT_POLL_MAX + 2, sizeof(*pctx));
	int64_t deadline = -1;

	a.ops = ops;
	a.ctx = ctx;
	a.c = c;
	a.sockpath = sockpath;
	a.nslots = nslots;
	a.sock = -1;
	(void)event_signal_fd();
	event_signal_catch(SIGTERM);
	event_signal_catch(SIGINT);
	event_signal_catch(SIGCHLD);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	try_connect(&a);
	while (!a.stopping || ops->running(&a) > 0 ||
	    (a.nout > 0 && a.sock != -1 && now_ms() < a.stop_deadline))
		deadline = run_once(&a, pfd, pctx, deadline);
	if (a.sock != -1)
		close_queue(&a);
	out_clear(&a);
	while (a.nfl > 0)
		flight_drop(&a, a.nfl - 1);
	free(a.fl);
	free(a.out);
	free(pfd);
	free(pctx);
	log_info("stopped");
	return 0;
}

int
agent_status_valid(const char *s, size_t n)
{
	static const char *const verbs[] = { "sent 2.", "defer 4.", "fail 5." };
	size_t i, v, d;

	for (v = 0; v < 3 && (n < strlen(verbs[v]) ||
	    strncmp(s, verbs[v], strlen(verbs[v])) != 0); v++)
		continue;
	if (v == 3)
		return 0;
	i = strlen(verbs[v]);
	for (int part = 0; part < 2; part++) {
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9' && d < 3; i++, d++)
			continue;
		if (d == 0 || i >= n || s[i] != (part == 0 ? '.' : ' '))
			return 0;
		i++;
	}
	return n - i > 0 && n - i <= AGENT_STATUS_TEXT && smtp_text_valid(s + i, n - i);
}

int
agent_stopping(const struct agent *a)
{
	return a->stopping;
}
