/*
 * agent: the core both delivery agents share (docs/queue.md "Delivery
 * agents"): the connection to the queue's deliver.sock (HELLO, reconnect
 * every second), the jobs in flight and the results the queue has not
 * acknowledged (announced as ORPHANs to the next queue, so a queue restart
 * delivers nothing twice), the records waiting for room in the socket,
 * signals, the graceful stop and the poll loop.  The transport (local_*.c,
 * remote_*.c) runs the jobs through struct agent_ops.
 */
#ifndef POSTERN_AGENT_H
#define POSTERN_AGENT_H
#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_job.h"
#include "config.h"
#include "ipc.h"

#define AGENT_RECONNECT_MS	1000
#define AGENT_SEND_TIMEOUT_S	10
#define AGENT_KEPT_MAX		10000	/* results kept for the queue */
#define AGENT_POLL_MAX		20000	/* descriptors of a transport */
#define AGENT_STATUS_TEXT	500	/* TEXT of a status (= SCHED_TEXT_MAX) */

struct agent;

struct agent_ops {
	const char *transport;		/* "local" or "remote" (HELLO) */
	/* A JOB record from the queue (not yet validated).  The transport
	 * validates it, calls agent_begin and starts the job or answers it
	 * at once with agent_result.  0, or -1: protocol violation (the
	 * connection is closed). */
	int (*job)(struct agent *a, struct ipc_msg *m);
	/* Fill up to max pollfds (and ctx[i] for each); the count. */
	size_t (*poll_fds)(struct agent *a, struct pollfd *pfd, void **ctx, size_t max);
	/* pfd (with ctx) had revents. */
	void (*ready)(struct agent *a, void *ctx, short revents);
	/* After every round (and on SIGCHLD): reap children, finish jobs,
	 * enforce time limits (at_stop: the stop deadline passed, end every
	 * job now).  Returns the earliest deadline (ms) or -1. */
	int64_t (*tick)(struct agent *a, int64_t now, int at_stop);
	/* Jobs still running (the graceful stop waits for them). */
	size_t (*running)(struct agent *a);
};

/* A job from begin until the queue acknowledged its result. */
struct agent_flight {
	char tag[21];
	char id[ENVELOPE_ID_MAX + 1];
	size_t nrcpt;
	char (*rcpt)[SMTP_ADDR_MAX + 1];
	int done;			/* res holds the RESULT */
	struct ipc_msg res;
};

struct agent {
	const struct agent_ops *ops;
	void *ctx;			/* the transport's state */
	const struct config *c;
	const char *sockpath;
	size_t nslots;
	int sock;			/* to the queue, -1 when not connected */
	int ready;			/* HELLO answered */
	int64_t reconnect_at;
	int warned;			/* logged that the queue is unreachable */
	int stopping;
	int64_t stop_deadline;
	struct agent_flight *fl;	/* oldest first */
	size_t nfl, flcap, nkept;	/* nkept: of them done */
	struct ipc_msg *out;		/* records waiting for the socket */
	size_t nout, outcap;
	int send_failed;		/* the connection must be closed */
};

/* Run until SIGTERM/SIGINT; then refuse new jobs and wait for running
 * ones up to master.grace_period - 1 s.  SIGCHLD, SIGTERM, SIGINT are
 * caught, SIGPIPE and SIGHUP ignored.  0. */
int agent_run(const struct agent_ops *ops, void *ctx, const struct config *c,
    const char *sockpath, size_t nslots);
/* The job j was taken (called by ops->job before starting it).  Tags are
 * unique among jobs in flight: -1 if the tag is one already (protocol
 * violation), else 0. */
int agent_begin(struct agent *a, const struct agent_job *j) WUR;
/* The RESULT record for job tag (copied): kept until the queue
 * acknowledges it, sent when connected. */
void agent_result(struct agent *a, const char *tag, const struct ipc_msg *res);
/* s[0..n) is a status "sent 2.X.Y TEXT" / "defer 4..." / "fail 5..."
 * with TEXT printable UTF-8 of 1..AGENT_STATUS_TEXT octets
 * (docs/queue.md).  Pure. */
int agent_status_valid(const char *s, size_t n);
/* 1 when the stop has begun (start no new work). */
int agent_stopping(const struct agent *a);
#endif
