/*
 * queue_result: everything durable the scheduler does: applying delivery
 * results to envelopes, bounces and delay warnings, re-injection of
 * forwarded mail, expiry, removal of finished messages.  Runs in the queue
 * process, chrooted in the spool; agent results arrive already validated
 * (queue_sched.c) and are still checked against the job they answer.
 */
#ifndef POSTERN_QUEUE_RESULT_H
#define POSTERN_QUEUE_RESULT_H
#include <stdint.h>

#include "config.h"
#include "queue_sched.h"

struct result_ctx {
	struct sched sched;
	char hostname[SMTP_DOMAIN_MAX + 1];
	char postmaster[SMTP_ADDR_MAX + 1];	/* double bounces go here */
	uint64_t max_full;		/* larger originals: headers only in DSNs */
};

/* Set up from the config (which must outlive x: the domain list is
 * borrowed). */
void result_init(struct result_ctx *x, const struct config *c);
/* Build the index from env/ (after the start-up sweep).  Number of
 * messages, or -1. */
int result_load(struct result_ctx *x) WUR;
/* A message was committed: schedule it (takes e). */
void result_committed(struct result_ctx *x, struct envelope *e, uint64_t size);
/* Apply an agent's result to its job (r->n == job->n, checked by the
 * caller), durably, then release the job. */
void result_apply(struct result_ctx *x, const struct sched_job *job,
    const struct sched_result *r);
/* Defer every recipient of job with status "4.X.Y text" (agent went away,
 * message unreadable), then release the job. */
void result_defer_job(struct result_ctx *x, const struct sched_job *job,
    const char *status);
/* Time-driven work at now: envelopes still to rewrite, deleted messages
 * now idle, expiry, delay warnings. */
void result_tick(struct result_ctx *x, int64_t now);
/* Write m's envelope durably (spool_env_rewrite); a failure whose report
 * is not committed yet is written as deferred.  0/-1. */
int result_rewrite(struct sched_msg *m) WUR;
/* Remove or rewrite m as its state requires (m may be freed). */
void result_finish(struct result_ctx *x, struct sched_msg *m);
/* When no job of m is in flight: commit the reports its results since the
 * last pass call for (one failure report, one delivery report); then
 * result_finish.  m may be freed. */
void result_settle(struct result_ctx *x, struct sched_msg *m, int64_t now);
#endif
