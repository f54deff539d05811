/*
 * remote_server: the remote transport's hooks into the agent core and its
 * worker processes (see remote_server.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "remote_server.h"
#include "util.h"
#include "xmalloc.h"

#define RELAY_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_:[]"

/* Answer job j with one status for every recipient. */
static void
answer_all(struct agent *a, const struct agent_job *j, const char *status)
{
	struct ipc_msg m;
	int ok;

	ipc_msg_init(&m, IPC_DELIVER_RESULT);
	ok = ipc_put_str(&m, "job", j->tag) == 0;
	for (size_t i = 0; ok && i < j->nrcpt; i++)
		ok = ipc_put_str(&m, "status", status) == 0;
	if (!ok)
		log_panic("remote answer: record");
	agent_result(a, j->tag, &m);
	ipc_msg_free(&m);
}

/* The worker's RESULT for j: exactly job (j's tag), one valid status per
 * recipient, at most one relay of RELAY_CHARS.  1 ok.  (The queue logs
 * each recipient's status.) */
static int
result_ok(const struct ipc_msg *m, const struct agent_job *j)
{
	const char *k, *v, *relay = "none";
	size_t pos = 0, n, ns = 0;
	int tag = 0;

	if (m->type != IPC_DELIVER_RESULT || m->nfds != 0)
		return 0;
	while (ipc_next(m, &pos, &k, &v, &n) == 1) {
		if (memchr(v, '\0', n) != NULL)
			return 0;
		if (strcmp(k, "job") == 0 && !tag && ns == 0 && strcmp(v, j->tag) == 0)
			tag = 1;
		else if (strcmp(k, "status") == 0 && tag && ns < j->nrcpt &&
		    agent_status_valid(v, n))
			ns++;
		else if (strcmp(k, "relay") == 0 && ns == j->nrcpt && strcmp(relay, "none") == 0 &&
		    n >= 1 && n <= REMOTE_RELAY_MAX && strspn(v, RELAY_CHARS) == n)
			relay = v;
		else
			return 0;
	}
	return pos == m->body.len && tag && ns == j->nrcpt;
}

/* ---- workers ---- */

/* Stop using worker w: close the socketpair (an idle worker then says QUIT
 * and exits; it is reaped whenever it ends). */
static void
worker_release(struct remote_server *s, struct remote_worker *w)
{
	if (w->state == W_BUSY) {
		agent_job_free(&w->job);
		s->nbusy--;
	}
	if (w->ctl != -1)
		close(w->ctl);
	w->ctl = -1;
	w->state = W_FREE;
	w->killed = 0;
}

/* A new worker process in the free entry w.  0, or -1 (errno). */
static int
worker_spawn(struct agent *a, struct remote_worker *w)
{
	struct remote_server *s = a->ctx;
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	if (pid == 0) {
		int keep = sp[1];

		event_signal_reset_child();
		signal(SIGPIPE, SIG_IGN);
		close_fds_from(3, &keep, 1);
		remote_worker_main(s->x, sp[1]);
	}
	close(sp[1]);
	if (fd_set_nonblock(sp[0], 1) == -1)
		log_warn("O_NONBLOCK on a worker socket: %s", strerror(errno));
	w->pid = pid;
	w->ctl = sp[0];
	w->state = W_IDLE;
	w->domain[0] = '\0';
	return 0;
}

/* The worker for a job to domain: an idle one already connected there,
 * else a free entry with a new process, else the longest idle one
 * replaced.  NULL (errno) if no process could be started. */
static struct remote_worker *
worker_for(struct agent *a, const char *domain)
{
	struct remote_server *s = a->ctx;
	struct remote_worker *fr = NULL, *old = NULL;

	for (size_t i = 0; i < s->nslots; i++) {
		struct remote_worker *w = &s->w[i];

		if (w->state == W_IDLE && strcmp(w->domain, domain) == 0)
			return w;
		if (w->state == W_FREE && fr == NULL)
			fr = w;
		if (w->state == W_IDLE && (old == NULL || w->deadline < old->deadline))
			old = w;
	}
	if (fr == NULL && old != NULL) {
		worker_release(s, old);
		fr = old;
	}
	if (fr == NULL) {
		errno = EAGAIN;
		return NULL;
	}
	return worker_spawn(a, fr) == 0 ? fr : NULL;
}

/* Send the job record m with the message descriptor fd to worker w. */
static int
pass_job(struct remote_worker *w, const struct ipc_msg *m, int fd)
{
	struct ipc_msg fw;
	int r;

	ipc_msg_init(&fw, IPC_DELIVER_JOB);
	r = buf_append(&fw.body, m->body.data, m->body.len) == 0 &&
	    ipc_put_fd(&fw, fd) == 0 && ipc_send(w->ctl, &fw) == 0 ? 0 : -1;
	ipc_msg_free(&fw);
	return r;
}

/* ---- the agent_ops ---- */

static int
remote_job(struct agent *a, struct ipc_msg *m)
{
	struct remote_server *s = a->ctx;
	struct remote_worker *w;
	struct agent_job j;
	const char *err;
	struct stat st;

	if (s->nbusy == s->nslots) {
		log_warn("the queue sent more jobs than the %zu slots; closing", s->nslots);
		return -1;
	}
	if (!agent_job_parse(m, AGENT_JOB_RCPTS, &j, &err)) {
		log_warn("bad job from the queue: %s; closing the connection", err);
		agent_job_free(&j);
		return -1;
	}
	if (fstat(j.fd, &st) == -1 || !S_ISREG(st.st_mode) || agent_begin(a, &j) == -1) {
		log_warn("job %s: the message descriptor is not a regular file or the job "
		    "is running; closing the connection", j.tag);
		agent_job_free(&j);
		return -1;
	}
	log_set_qid(j.id);
	if ((w = worker_for(a, j.domain)) == NULL) {
		log_warn("job %s: cannot start a worker: %s", j.tag, strerror(errno));
		answer_all(a, &j, "defer 4.3.0 cannot start the delivery");
	} else if (pass_job(w, m, j.fd) == -1) {
		log_warn("job %s: cannot pass it to a worker: %s", j.tag, strerror(errno));
		worker_release(s, w);
		answer_all(a, &j, "defer 4.3.0 cannot start the delivery");
	} else {
		close(j.fd);
		j.fd = -1;
		w->job = j;
		w->state = W_BUSY;
		w->deadline = now_ms() + REMOTE_JOB_TIMEOUT_MS;
		memcpy(w->domain, j.domain, sizeof(w->domain));
		s->nbusy++;
		log_set_qid(NULL);
		return 0;
	}
	log_set_qid(NULL);
	agent_job_free(&j);
	return 0;
}

static size_t
remote_poll_fds(struct agent *a, struct pollfd *pfd, void **ctx, size_t max)
{
	struct remote_server *s = a->ctx;
	size_t n = 0;

	for (size_t i = 0; i < s->nslots && n < max; i++)
		if (s->w[i].ctl != -1) {
			ctx[n] = &s->w[i];
			pfd[n++] = (struct pollfd){ s->w[i].ctl, POLLIN, 0 };
		}
	return n;
}

/* A worker's socket is readable: its RESULT, or its end. */
static void
remote_ready(struct agent *a, void *ctx, short revents)
{
	struct remote_server *s = a->ctx;
	struct remote_worker *w = ctx;
	struct ipc_msg m;
	int r;

	(void)revents;
	if ((r = ipc_recv(w->ctl, &m)) == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	log_set_qid(w->state == W_BUSY ? w->job.id : NULL);
	if (r == 1 && w->state == W_BUSY && result_ok(&m, &w->job)) {
		agent_result(a, w->job.tag, &m);
		agent_job_free(&w->job);
		s->nbusy--;
		w->state = W_IDLE;
		w->deadline = now_ms() + REMOTE_IDLE_MS;
		if (agent_stopping(a))
			worker_release(s, w);
	} else {
		if (w->state == W_BUSY) {
			log_warn("job %s: the delivery process %s", w->job.tag,
			    w->killed ? "was killed" : r == 1 ? "sent a bad result" : "failed");
			answer_all(a, &w->job, w->killed == 1 ?
			    "defer 4.4.7 delivery took too long" : w->killed == 2 ?
			    "defer 4.3.0 delivery interrupted (shutting down)" :
			    "defer 4.3.0 delivery process failed");
		}
		if (r == 1)	/* alive but not to be trusted */
			kill(w->pid, SIGKILL);
		worker_release(s, w);
	}
	if (r == 1)
		ipc_msg_free(&m);
	log_set_qid(NULL);
}

static int64_t
remote_tick(struct agent *a, int64_t now, int at_stop)
{
	struct remote_server *s = a->ctx;
	int64_t t = -1;
	int st;

	while (waitpid(-1, &st, WNOHANG) > 0)
		continue;	/* workers are followed through their sockets */
	for (size_t i = 0; i < s->nslots; i++) {
		struct remote_worker *w = &s->w[i];

		if (w->state == W_IDLE && (now >= w->deadline || agent_stopping(a)))
			worker_release(s, w);
		else if (w->state == W_BUSY && !w->killed && (now >= w->deadline || at_stop)) {
			log_set_qid(w->job.id);
			log_warn("job %s: delivery %s; killing pid %ld", w->job.tag,
			    at_stop ? "still running at stop" : "timed out", (long)w->pid);
			log_set_qid(NULL);
			kill(w->pid, SIGKILL);
			w->killed = at_stop ? 2 : 1;
		}
		if (w->state != W_FREE && !w->killed && (t == -1 || w->deadline < t))
			t = w->deadline;
	}
	return t;
}

static size_t
remote_running(struct agent *a)
{
	return ((struct remote_server *)a->ctx)->nbusy;
}

static const struct agent_ops remote_ops = {
	"remote", remote_job, remote_poll_fds, remote_ready, remote_tick, remote_running,
};

int
remote_server_run(const struct remote_ctx *x, const char *sockpath)
{
	struct remote_server s = { 0 };
	int rc;

	s.x = x;
	s.nslots = x->c->remote_concurrency;
	s.w = xcalloc(s.nslots, sizeof(*s.w));
	for (size_t i = 0; i < s.nslots; i++)
		s.w[i].ctl = -1;
	rc = agent_run(&remote_ops, &s, x->c, sockpath, s.nslots);
	for (size_t i = 0; i < s.nslots; i++)
		if (s.w[i].state != W_FREE)
			worker_release(&s, &s.w[i]);
	free(s.w);
	return rc;
}
