/*
 * remote_server: the remote transport of the agent core (deliver/agent.c).
 * Each job runs in a worker process (remote_worker.c) that holds the SMTP
 * session: the job record, with the message descriptor, goes to the worker
 * over a socketpair and the worker answers with the RESULT record, which
 * is re-checked here and handed to the core.  A worker that finished a job
 * stays REMOTE_IDLE_MS with its connection open and gets the next job for
 * the same domain (connection reuse); only this process decides when an
 * idle worker ends (it closes the socketpair, the worker says QUIT and
 * exits), so no job can race a worker's exit.
 *
 * Why processes: the SMTP conversation stays plain blocking code with a
 * timeout on every wait (TLS included), jobs cannot hold each other up,
 * and a crash or hang costs one job (the worker is killed at
 * REMOTE_JOB_TIMEOUT_MS and the job deferred).
 */
#ifndef POSTERN_REMOTE_SERVER_H
#define POSTERN_REMOTE_SERVER_H
#include <stdint.h>
#include <sys/types.h>

#include "agent.h"
#include "remote_smtp.h"

#define REMOTE_JOB_TIMEOUT_MS	(60 * 60 * 1000)
#define REMOTE_IDLE_MS		5000	/* an idle worker keeps its connection */
#define REMOTE_SOCK_PATH	"/deliver.sock"	/* inside the chroot */

enum remote_wstate { W_FREE = 0, W_BUSY, W_IDLE };

struct remote_worker {
	enum remote_wstate state;
	pid_t pid;
	int ctl;			/* socketpair to the worker, -1 if free */
	int64_t deadline;		/* job time limit, or end of idleness */
	int killed;			/* 1 for the time limit, 2 at stop */
	char domain[SMTP_DOMAIN_MAX + 1];	/* of its last job */
	struct agent_job job;		/* while busy: tag, id, recipients */
};

struct remote_server {
	const struct remote_ctx *x;
	struct remote_worker *w;
	size_t nslots, nbusy;
};

/* Run until SIGTERM.  0. */
int remote_server_run(const struct remote_ctx *x, const char *sockpath);

/* remote_worker.c: the worker process's loop on ctl; never returns. */
void remote_worker_main(const struct remote_ctx *x, int ctl)
    __attribute__((noreturn));
#endif
