/*
 * queue_spool: the spool's files and the commit protocol (DESIGN.md,
 * docs/queue.md).  Used only by the queue process, chrooted in (or, in dev
 * mode, chdir'ed to) paths.spool: every path here is relative.
 */
#ifndef POSTERN_QUEUE_SPOOL_H
#define POSTERN_QUEUE_SPOOL_H
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

/* A queue id: 13 hex digits of microseconds + 8 random base32 characters. */
#define QUEUE_ID_LEN	21

/* A message being received: incoming/ID.msg is open for writing. */
struct spool_msg {
	char id[QUEUE_ID_LEN + 1];
	int fd;			/* incoming/ID.msg, -1 when none */
	uint64_t size;		/* bytes received */
	uint64_t limit;		/* more than this: refused at END */
	int failed;		/* a write failed: refused at END */
};

/* Create missing spool directories (0700) and sweep what a crash left:
 * everything in incoming/, every msg/ without its envelope and every
 * envelope without its message.  0, or -1 if the spool is unusable. */
int spool_init(void) WUR;
/* The XX subdirectory for an id (two hex digits of a hash), out[3]. */
void spool_subdir(const char *id, char out[3]);
/* Start a message: new id, incoming/ID.msg created.  0/-1 (logged). */
int spool_begin(struct spool_msg *m, uint64_t limit) WUR;
/* Append message bytes; a failure is remembered for spool_commit. */
void spool_write(struct spool_msg *m, const void *p, size_t n);
/* Commit per the protocol with e (its id must be m->id): 1 committed and
 * durable; 0 refused (too big) or -1 failed, *err set, nothing left behind. */
int spool_commit(struct spool_msg *m, const struct envelope *e,
    const char **err) WUR;
/* Drop the message in progress (if any) and its incoming/ files. */
void spool_discard(struct spool_msg *m);

/* 1 if id has the form of our queue ids. */
int spool_id_valid(const char *id);
/* Open msg/XX/ID read-only: fd, or -1 (errno). */
int spool_open_msg(const char *id) WUR;
/* Replace env/XX/ID durably with e's text form: env/XX/.ID written and
 * fsynced, renamed over env/XX/ID, env/XX fsynced.  A crash leaves the old
 * or the new envelope (a stale .ID is removed by the start-up sweep).
 * 0, or -1 (logged; the old envelope stays). */
int spool_env_rewrite(const struct envelope *e) WUR;
/* Remove a finished message: env/XX/ID, fsync env/XX, then msg/XX/ID,
 * fsync msg/XX.  0, or -1 when the envelope could not be removed (logged). */
int spool_remove(const char *id) WUR;
/* Call fn for every committed envelope that parses (in no order) with
 * the size of its message; fn takes ownership of e when it returns 0 (on
 * -1 the envelope is freed here).  Envelopes that do not parse are logged
 * and skipped.  The number taken, or -1 if env/ cannot be read. */
int spool_load_each(int (*fn)(struct envelope *e, uint64_t size, void *arg),
    void *arg) WUR;
#endif
