/*
 * queue_agent: deliver.sock connections in the queue process.  An agent is
 * identified by the kernel (SO_PEERCRED) and by its HELLO; every RESULT is
 * checked field by field (queue_sched.c) and against the job it answers.
 * Any protocol error closes the connection; its jobs are deferred.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "queue_agent.h"
#include "queue_spool.h"
#include "util.h"
#include "xmalloc.h"

#define SEND_TIMEOUT_S	10
#define SLOTS_MAX	10000

struct agent {
	int fd;				/* -1: free */
	int hello;			/* HELLO accepted */
	enum sched_transport t;
	uid_t uid;
	uint64_t slots;			/* from HELLO */
	uint64_t orphans;		/* ORPHAN records still to come */
	int acks;			/* HELLO had `orphans`: acknowledge results */
};

/* An orphan taken over whose result is to be discarded (docs/queue.md). */
struct ignored {
	uint64_t tag;
	int agent;
	size_t n;			/* statuses its RESULT must carry */
};

static const char *const tnames[SCHED_NTRANSPORT] = { "local", "remote" };
static struct agent agents[AGENT_MAX];
static struct result_ctx *ctx;
static uid_t want_uid[SCHED_NTRANSPORT];
static struct sched_job **jobs;		/* in flight */
static size_t njobs, jobcap;
static struct ignored *ign;		/* results to discard */
static size_t nign, igncap;
static uint64_t next_tag;

void
agent_init(struct result_ctx *x, uid_t local_uid, uid_t remote_uid)
{
	int i;

	ctx = x;
	/* tags never repeat across restarts: an agent may still hold jobs of
	 * a queue that died (ORPHAN records) */
	next_tag = (((uint64_t)arc4random() << 32) | arc4random()) & ((1ull << 62) - 1);
	want_uid[SCHED_LOCAL] = local_uid;
	want_uid[SCHED_REMOTE] = remote_uid;
	for (i = 0; i < AGENT_MAX; i++)
		agents[i].fd = -1;
}

static void
job_forget(size_t k)
{
	free(jobs[k]);
	jobs[k] = jobs[--njobs];
}

static void
ign_forget(size_t k)
{
	sched_reserve(&ctx->sched, agents[ign[k].agent].t, -1);
	ign[k] = ign[--nign];
}

static void
agent_close(int idx, const char *why)
{
	struct agent *a = &agents[idx];
	size_t k;

	if (why != NULL)
		log_warn("delivery agent %s (fd %d): %s; closing",
		    a->hello ? tnames[a->t] : "(no hello)", a->fd, why);
	close(a->fd);
	a->fd = -1;
	if (!a->hello)
		return;
	ctx->sched.slots[a->t] = 0;
	a->hello = 0;
	for (k = 0; k < nign;)
		if (ign[k].agent == idx)
			ign_forget(k);
		else
			k++;
	for (k = 0; k < njobs;) {
		if (jobs[k]->agent != idx) {
			k++;
			continue;
		}
		result_defer_job(ctx, jobs[k], "4.3.0 delivery agent went away");
		job_forget(k);
	}
}

void
agent_close_all(void)
{
	size_t k;
	int i;

	/* Stopping: the jobs in flight are not recorded as deferred; their
	 * recipients stay as written (pending/deferred) and are sent again at
	 * once by the next queue. */
	for (k = 0; k < njobs; k++)
		free(jobs[k]);
	njobs = 0;
	nign = 0;
	for (i = 0; i < AGENT_MAX; i++)
		if (agents[i].fd != -1) {
			close(agents[i].fd);
			agents[i].fd = -1;
		}
}

void
agent_accept(int lfd)
{
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	struct ucred cred;
	socklen_t len;
	int fd, i;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		for (i = 0; i < AGENT_MAX && agents[i].fd != -1; i++)
			;
		len = sizeof(cred);
		if (i == AGENT_MAX) {
			log_warn("too many delivery agent connections; refusing one");
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
			log_warn("new delivery agent: %s", strerror(errno));
			close(fd);
			continue;
		}
		agents[i].fd = fd;
		agents[i].hello = 0;
		agents[i].uid = cred.uid;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warn("accept on deliver.sock: %s", strerror(errno));
}

int
agent_pollfds(struct pollfd *pfd, int *idx)
{
	int i, n = 0;

	for (i = 0; i < AGENT_MAX; i++)
		if (agents[i].fd != -1) {
			pfd[n].fd = agents[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			idx[n++] = i;
		}
	return n;
}

/* The agent may be given jobs: all its ORPHAN records have come. */
static void
agent_open(struct agent *a)
{
	ctx->sched.slots[a->t] = a->slots;
	log_info("delivery agent %s ready (%llu slots)", tnames[a->t],
	    (unsigned long long)a->slots);
}

/* HELLO: transport, slots, optional orphans; the kernel's uid must fit the
 * transport.  NULL accepted, else the reason to close. */
static const char *
hello(int idx, const struct ipc_msg *m)
{
	struct agent *a = &agents[idx];
	const char *t = ipc_get_str(m, "transport", 16), *key, *val;
	size_t pos = 0, len, nf = 0;
	struct ipc_msg ok;
	uint64_t slots, orphans = 0;
	int i, r, has_orphans = ipc_get(m, "orphans", &len) != NULL;

	while (ipc_next(m, &pos, &key, &val, &len) == 1)
		nf++;
	if (m->type != IPC_DELIVER_HELLO || m->nfds != 0 ||
	    nf != 2u + (has_orphans ? 1u : 0u) || pos != m->body.len ||
	    t == NULL || ipc_get_u64(m, "slots", &slots) == -1 ||
	    slots < 1 || slots > SLOTS_MAX ||
	    (has_orphans && (ipc_get_u64(m, "orphans", &orphans) == -1 ||
	    orphans > SCHED_ORPHANS_MAX)))
		return "bad HELLO";
	if (strcmp(t, "local") == 0)
		a->t = SCHED_LOCAL;
	else if (strcmp(t, "remote") == 0)
		a->t = SCHED_REMOTE;
	else
		return "unknown transport";
	if (a->uid != want_uid[a->t])
		return a->t == SCHED_LOCAL ? "local agent not uid 0" :
		    "remote agent not the remote account";
	for (i = 0; i < AGENT_MAX; i++)
		if (agents[i].fd != -1 && agents[i].hello && agents[i].t == a->t)
			return "a second agent for the transport";
	ipc_msg_init(&ok, IPC_OK);
	r = ipc_send(a->fd, &ok);
	ipc_msg_free(&ok);
	if (r == -1)
		return strerror(errno);
	a->hello = 1;
	a->slots = slots;
	a->orphans = orphans;
	a->acks = has_orphans;
	log_info("delivery agent %s connected (uid %u, %llu slots, %llu orphans)", t,
	    (unsigned)a->uid, (unsigned long long)slots, (unsigned long long)orphans);
	if (orphans == 0)
		agent_open(a);
	return NULL;
}

/* Is tag a job in flight or a result to discard? */
static int
tag_in_use(uint64_t tag)
{
	size_t k;

	for (k = 0; k < njobs; k++)
		if (jobs[k]->tag == tag)
			return 1;
	for (k = 0; k < nign; k++)
		if (ign[k].tag == tag)
			return 1;
	return 0;
}

static void
job_push(struct sched_job *j)
{
	if (njobs == jobcap) {
		jobcap = jobcap ? jobcap * 2 : 64;
		jobs = xreallocarray(jobs, jobcap, sizeof(*jobs));
	}
	jobs[njobs++] = j;
}

/* An ORPHAN: a job of an earlier connection the agent still holds.  Taken
 * over as in flight when its recipient is still open and idle, else its
 * result is to be discarded.  NULL, else the reason to close. */
static const char *
orphan(int idx, const struct ipc_msg *m)
{
	struct agent *a = &agents[idx];
	struct sched_job *j;
	struct sched_orphan *o;
	const char *err = NULL;

	if (m->type != IPC_DELIVER_ORPHAN || m->nfds != 0)
		return "expected an ORPHAN record";
	o = xmalloc(sizeof(*o));
	if (!sched_orphan_parse(m, o, &err))
		goto out;
	if (tag_in_use(o->job)) {
		err = "ORPHAN with the tag of a job in flight";
		goto out;
	}
	j = xmalloc(sizeof(*j));
	log_set_qid(o->id);
	if (sched_orphan_adopt(&ctx->sched, o, a->t, j)) {
		j->agent = idx;
		job_push(j);
		log_info("to=<%s>%s: job %llu of an earlier connection taken over", o->rcpt[0],
		    o->n > 1 ? " and others" : "", (unsigned long long)o->job);
	} else {
		free(j);
		if (nign == igncap) {
			igncap = igncap ? igncap * 2 : 64;
			ign = xreallocarray(ign, igncap, sizeof(*ign));
		}
		ign[nign].tag = o->job;
		ign[nign].n = o->n;
		ign[nign++].agent = idx;
		sched_reserve(&ctx->sched, a->t, 1);
		log_info("to=<%s>%s: job %llu of an earlier connection: unknown or not open "
		    "here; its result will be ignored", o->rcpt[0], o->n > 1 ? " and others" : "",
		    (unsigned long long)o->job);
	}
	log_set_qid(NULL);
	if (--a->orphans == 0)
		agent_open(a);
out:
	free(o);
	return err;
}

/* Tell the agent its result for tag is recorded (it may forget it). */
static const char *
ack(int idx, uint64_t tag)
{
	struct ipc_msg m;
	int r;

	if (!agents[idx].acks)
		return NULL;
	ipc_msg_init(&m, IPC_OK);
	r = ipc_put_u64(&m, "job", tag) == 0 ? ipc_send(agents[idx].fd, &m) : -1;
	ipc_msg_free(&m);
	return r == -1 ? "cannot acknowledge a result" : NULL;
}

/* A RESULT for a discarded orphan (ign[k]).  NULL, else the reason. */
static const char *
result_ignored(int idx, size_t k, const struct sched_result *r)
{
	if (r->n != ign[k].n)
		return "wrong number of statuses";
	log_info("result of job %llu ignored (%s): message or recipient not open",
	    (unsigned long long)r->job, r->st[0].text);
	ign_forget(k);
	return ack(idx, r->job);
}

/* A RESULT.  NULL applied, else the reason to close. */
static const char *
result(int idx, const struct ipc_msg *m)
{
	struct sched_result *r;
	const char *err = NULL;
	size_t k;

	if (m->type != IPC_DELIVER_RESULT || m->nfds != 0)
		return "unexpected record";
	r = xmalloc(sizeof(*r));
	if (!sched_result_parse(m, r, &err))
		goto out;
	for (k = 0; k < njobs && (jobs[k]->tag != r->job || jobs[k]->agent != idx); k++)
		;
	if (k == njobs) {
		for (k = 0; k < nign && (ign[k].tag != r->job || ign[k].agent != idx); k++)
			;
		err = k < nign ? result_ignored(idx, k, r) : "result for an unknown job";
	} else if (r->n != jobs[k]->n)
		err = "wrong number of statuses";
	else if (r->nfwd > 0 && jobs[k]->transport != SCHED_LOCAL)
		err = "forward from a remote agent";
	else {
		result_apply(ctx, jobs[k], r);
		job_forget(k);
		err = ack(idx, r->job);
	}
out:
	free(r);
	return err;
}

void
agent_readable(int idx)
{
	struct agent *a = &agents[idx];
	struct ipc_msg m;
	const char *why = NULL;
	int r = ipc_recv(a->fd, &m), err = errno;

	if (r == 1)
		why = !a->hello ? hello(idx, &m) : a->orphans > 0 ? orphan(idx, &m) :
		    result(idx, &m);
	ipc_msg_free(&m);
	if (r == 0)
		agent_close(idx, a->hello ? "disconnected" : "disconnected before HELLO");
	else if (r == -1 && err != EAGAIN && err != EINTR)
		agent_close(idx, strerror(err));
	else if (why != NULL)
		agent_close(idx, why);
}

/* The JOB record for j (message descriptor attached).  0/-1. */
static int
job_record(const struct sched_job *j, struct ipc_msg *m, int msgfd)
{
	static const char *const rets[] = { NULL, "full", "hdrs" };
	static const char *const bodies[] = { NULL, "7bit", "8bitmime", "binarymime" };
	const struct envelope *e = &j->msg->env;
	const struct envelope_rcpt *r;
	size_t k;

	if (ipc_put_u64(m, "job", j->tag) == -1 || ipc_put_str(m, "id", e->id) == -1 ||
	    ipc_put_str(m, "sender", e->sender) == -1 ||
	    (e->envid && ipc_put_str(m, "envid", e->envid) == -1) ||
	    ((unsigned)e->ret < 3 && rets[e->ret] && ipc_put_str(m, "ret", rets[e->ret]) == -1) ||
	    ((unsigned)e->body < 4 && bodies[e->body] &&
	    ipc_put_str(m, "body", bodies[e->body]) == -1) ||
	    (e->smtputf8 && ipc_put_str(m, "smtputf8", "1") == -1) ||
	    ipc_put_u64(m, "arrival", (uint64_t)e->arrival) == -1)
		return -1;
	for (k = 0; k < j->n; k++) {
		r = &e->rcpt[j->rcpt[k]];
		if (ipc_put_str(m, "rcpt", r->addr) == -1 ||
		    ipc_put_str(m, "orcpt", r->orcpt ? r->orcpt : "") == -1 ||
		    ipc_put_u64(m, "notify", r->notify) == -1)
			return -1;
	}
	return ipc_put_fd(m, msgfd);
}

/* The connected agent of transport t (there is one when slots > 0). */
static int
agent_of(enum sched_transport t)
{
	int i;

	for (i = 0; i < AGENT_MAX; i++)
		if (agents[i].fd != -1 && agents[i].hello && agents[i].t == t)
			return i;
	log_panic("no agent for a transport with slots");
}

/* Send j.  0 sent; -1 not sent: the job was deferred or the agent
 * closed, and the job is ended either way. */
static int
job_send(struct sched_job *j)
{
	struct ipc_msg m;
	int fd, r;

	j->agent = agent_of(j->transport);
	do
		j->tag = next_tag++;
	while (tag_in_use(j->tag));
	if ((fd = spool_open_msg(j->msg->env.id)) == -1) {
		log_set_qid(j->msg->env.id);
		log_warn("cannot open the message: %s", strerror(errno));
		log_set_qid(NULL);
		result_defer_job(ctx, j, "4.3.0 cannot open the queued message");
		return -1;
	}
	ipc_msg_init(&m, IPC_DELIVER_JOB);
	r = job_record(j, &m, fd);
	close(fd);
	if (r == -1)
		log_panic("job record too large");
	r = ipc_send(agents[j->agent].fd, &m);
	ipc_msg_free(&m);
	if (r == -1) {
		sched_job_end(&ctx->sched, j);	/* no attempt: never sent */
		agent_close(j->agent, "cannot send a job");
		return -1;
	}
	return 0;
}

void
agent_dispatch(int64_t now)
{
	struct sched_cursor c;
	struct sched_job *j = xmalloc(sizeof(*j));

	memset(&c, 0, sizeof(c));
	while (sched_next_job(&ctx->sched, now, &c, j)) {
		if (job_send(j) == -1)
			break;		/* results were applied: the cursor is stale */
		job_push(j);
		j = xmalloc(sizeof(*j));
	}
	free(j);
}
