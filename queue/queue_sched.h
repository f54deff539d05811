/*
 * queue_sched: the scheduler's in-memory index of the spool and the choice
 * of the next delivery jobs under the concurrency limits (docs/queue.md,
 * "Scheduling").  Pure: no I/O, no clock, no globals, so it is unit-tested
 * alone; queue_result.c and queue_agent.c do the I/O around it.
 */
#ifndef POSTERN_QUEUE_SCHED_H
#define POSTERN_QUEUE_SCHED_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "envelope.h"
#include "ipc.h"
#include "queue_spool.h"
#include "smtp_parse.h"

enum sched_transport { SCHED_LOCAL = 0, SCHED_REMOTE, SCHED_NTRANSPORT };

#define SCHED_JOB_RCPT	100	/* recipients of one remote job */

struct sched_limits {
	uint64_t concurrency;		/* queue.concurrency */
	uint64_t domain_concurrency;	/* queue.domain_concurrency */
	uint64_t transport[SCHED_NTRANSPORT];	/* local./remote.concurrency */
	time_t retry_min, retry_max, lifetime, warn_after;
};

/* One queued message.  env is the authoritative copy while we run; the
 * disk holds the last durable one (rewritten after every change). */
struct sched_msg {
	struct envelope env;
	uint64_t size;			/* octets of msg/XX/ID */
	unsigned char *busy;		/* per recipient: in a job in flight */
	unsigned char *transport;	/* per recipient: enum sched_transport */
	unsigned char *report;		/* per recipient: a report still to send
					 * (queue_result.c), 0 = none */
	size_t injobs;			/* jobs in flight */
	int deleted;			/* postern queue delete: remove when idle */
	int dirty;			/* env differs from the disk: rewrite */
	struct sched_msg *prev, *next;	/* in arrival order (roughly) */
};

struct sched_domain {
	char name[SMTP_DOMAIN_MAX + 1];
	uint64_t n;			/* jobs in flight to it */
};

/* A remote destination whose last job failed at the connection level:
 * no job to it starts before `until` (a dead destination costs one
 * attempt per backoff period, not one per message). */
struct sched_dead {
	char name[SMTP_DOMAIN_MAX + 1];
	int64_t until;
	unsigned fails;			/* in a row */
};

#define SCHED_DEAD_MAX	10000	/* domains remembered (oldest dropped) */

struct sched {
	struct sched_limits lim;
	char *const *domains;		/* ours (config `domains`), lower case */
	size_t ndomains;
	struct sched_msg *head, *tail;
	size_t nmsg;
	uint64_t inflight;			/* jobs in all */
	uint64_t tr_inflight[SCHED_NTRANSPORT];
	uint64_t slots[SCHED_NTRANSPORT];	/* agent's slots, 0 = none */
	struct sched_domain *doms;		/* domains with jobs in flight */
	size_t ndoms, domcap;
	struct sched_dead *dead;		/* suspended remote destinations */
	size_t ndead, deadcap;
};

/* A job chosen by sched_next_job: recipients rcpt[0..n) of msg. */
struct sched_job {
	struct sched_msg *msg;
	enum sched_transport transport;
	char domain[SMTP_DOMAIN_MAX + 1];
	size_t n;
	size_t rcpt[SCHED_JOB_RCPT];
	uint64_t tag;			/* set by the caller */
	int agent;			/* set by the caller */
};

/* Where a pass over the index stands (zero it to start a pass). */
struct sched_cursor {
	struct sched_msg *msg;
	size_t rcpt;
	int started;
};

void sched_init(struct sched *s, const struct sched_limits *lim,
    char *const *domains, size_t ndomains);
/* Free every message (jobs in flight are forgotten). */
void sched_free(struct sched *s);
/* Add a message; takes e (left envelope_init'ed).  Returns the entry. */
struct sched_msg *sched_add(struct sched *s, struct envelope *e, uint64_t size);
/* Unlink and free a message (it must have no job in flight). */
void sched_remove(struct sched *s, struct sched_msg *m);
/* The message with this id, or NULL. */
struct sched_msg *sched_find(const struct sched *s, const char *id);

/* The destination domain of addr, lower case ("" for a bare local part). */
void sched_domain_of(const char *addr, char out[SMTP_DOMAIN_MAX + 1]);
/* local when addr's domain is one of ours (or it has none), else remote. */
enum sched_transport sched_route(const struct sched *s, const char *addr);
/* Delay before the next attempt after `attempts` (>= 1) attempts:
 * retry_min * 2^(attempts-1), capped at retry_max, never below 1 s. */
int64_t sched_backoff(const struct sched_limits *lim, unsigned attempts);

/* 1 if recipient i still needs delivery (pending or deferred). */
int sched_rcpt_open(const struct sched_msg *m, size_t i);
/* 1 if every recipient is sent or failed. */
int sched_msg_done(const struct sched_msg *m);
/* 1 if recipient i has outlived queue.lifetime at now (and is open). */
int sched_rcpt_expired(const struct sched *s, const struct sched_msg *m,
    size_t i, int64_t now);

/* Choose the next job of this pass at now: the first due recipient (open,
 * next attempt reached, not busy, not expired, message neither held nor
 * deleted) whose transport has an agent with a free slot, within the
 * global, transport and domain limits; a remote job takes up to
 * SCHED_JOB_RCPT due recipients of the same domain in that message.  The
 * job's recipients are marked busy and counted.  1 and *job, or 0 when
 * nothing more can start. */
int sched_next_job(struct sched *s, int64_t now, struct sched_cursor *c,
    struct sched_job *job);
/* A job ended (result applied, or never sent): recipients not busy, the
 * counters released. */
void sched_job_end(struct sched *s, const struct sched_job *job);
/* The outcome of a remote job for its domain at now: conn_failed (every
 * recipient deferred with a 4.4.X status: connection, routing or DNS
 * failure) suspends the domain for sched_backoff(fails in a row); anything
 * else ends a suspension. */
void sched_dest_result(struct sched *s, const char *domain, int conn_failed,
    int64_t now);
/* The time a remote domain is suspended until, or 0. */
int64_t sched_dest_until(const struct sched *s, const char *domain);
/* Forget every suspension (postern flush). */
void sched_dest_clear(struct sched *s);

/* The earliest time after now at which something becomes due (a retry
 * whose transport has an agent; an expiry, which is max(arrival +
 * lifetime, next attempt); a delay warning), or -1. */
int64_t sched_wake(const struct sched *s, int64_t now);

/* ---- results from delivery agents (untrusted input) -------------------- */

enum sched_verb { SCHED_SENT = 0, SCHED_DEFER, SCHED_FAIL };

#define SCHED_TEXT_MAX		500	/* TEXT of a status */
#define SCHED_STATUS_MAX	(12 + SCHED_TEXT_MAX)	/* "X.YYY.ZZZ TEXT" */
#define SCHED_FORWARD_MAX	1000
#define SCHED_RELAY_MAX		300

struct sched_status {
	enum sched_verb verb;
	char text[SCHED_STATUS_MAX + 1];	/* "X.Y.Z TEXT" as stored */
};

/* An IPC_DELIVER_RESULT record, validated (about 300 KB: allocate it). */
struct sched_result {
	uint64_t job;
	size_t n;
	struct sched_status st[SCHED_JOB_RCPT];
	char relay[SCHED_RELAY_MAX + 1];	/* "" when not given */
	size_t nfwd;
	char fwd[SCHED_FORWARD_MAX][SMTP_ADDR_MAX + 1];	/* normalized */
};

/* Parse "VERB X.Y.Z[ TEXT]" (p[0..len), no NUL): VERB sent/defer/fail,
 * X 2/4/5 matching it, Y and Z 1..3 digits, TEXT printable UTF-8 of at most
 * SCHED_TEXT_MAX octets.  1 ok, 0 invalid. */
int sched_status_parse(const char *p, size_t len, struct sched_status *out);
/* Validate a whole RESULT record body (fields job, status..., relay,
 * forward...; nothing else, each value without NUL): 1..SCHED_JOB_RCPT
 * statuses, forward only with a single `sent` status, each forward a
 * mailbox (UTF-8 allowed; the envelope check decides).  1 ok, 0 invalid with
 * *err a static reason. */
int sched_result_parse(const struct ipc_msg *m, struct sched_result *r,
    const char **err);

/* ---- orphans: jobs an agent kept across a lost connection ------------- */

#define SCHED_ORPHANS_MAX	20000	/* announced in one HELLO */

/* An IPC_DELIVER_ORPHAN record, validated (about 100 KB: allocate it). */
struct sched_orphan {
	uint64_t job;				/* the tag it was sent with */
	char id[QUEUE_ID_LEN + 1];
	size_t n;				/* 1..SCHED_JOB_RCPT */
	char rcpt[SCHED_JOB_RCPT][SMTP_ADDR_MAX + 1];	/* normalized, job order */
};

/* Validate an ORPHAN record body: exactly `job` (decimal u64) and `id` (a
 * queue id: QUEUE_ID_LEN of [0-9A-Z]) once each, and 1..SCHED_JOB_RCPT
 * `rcpt` (a mailbox with a domain, UTF-8 allowed, in the job's order),
 * without NUL.  1 ok, 0 invalid with *err a static reason. */
int sched_orphan_parse(const struct ipc_msg *m, struct sched_orphan *o,
    const char **err);
/* Take o over as a job in flight of transport t: for each of o's
 * recipients in order, the first recipient of message o->id with that
 * address that is open, not busy, not already taken for this job and
 * routed to t (message neither deleted).  Only when every one is found:
 * the job holds them, they are marked busy and counted like any job
 * (limits are not checked: the delivery already runs); 1 and *job.  Else
 * nothing changes and 0 (unknown message, a recipient final, busy or of
 * the other transport: the result will be discarded). */
int sched_orphan_adopt(struct sched *s, const struct sched_orphan *o,
    enum sched_transport t, struct sched_job *job);
/* An orphan whose result will be discarded still takes one of t's slots
 * until its result comes: delta +1 takes it, -1 gives it back. */
void sched_reserve(struct sched *s, enum sched_transport t, int delta);
#endif
