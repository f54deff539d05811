/*
 * local_server: the root spawner's loop.  Connects to the queue's
 * deliver.sock, says HELLO, validates each job, resolves the recipient,
 * forks one child per delivery (local_deliver.c) and reports its result.
 * Runs as root; touches only admin data (maps, passwd) and job records,
 * never the message or a mailbox.
 */
#ifndef POSTERN_LOCAL_SERVER_H
#define POSTERN_LOCAL_SERVER_H
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"
#include "local_job.h"
#include "local_resolve.h"
#include "map.h"
#include "privsep.h"

#define LOCAL_CHILD_TIMEOUT_MS	(10 * 60 * 1000)	/* one delivery */
#define LOCAL_RECONNECT_MS	1000
#define LOCAL_ORPHANS_MAX	10000	/* results kept for the queue */
#define LOCAL_SEND_TIMEOUT_S	10
#define LOCAL_CHILD_OUTPUT_MAX	(LOCAL_FORWARD_MAX * (SMTP_ADDR_MAX + 10) + 1024)

/* One delivery in progress. */
struct local_slot {
	int used;
	pid_t pid;		/* 0 once reaped */
	int wstatus;
	int pipefd;		/* the child's result pipe; -1 after EOF */
	struct buf out;		/* what the child wrote */
	unsigned gen;		/* connection it came on */
	int64_t deadline;
	int killed;		/* for the time limit or at stop */
	struct local_job job;
	struct local_target t;
};

/* A result the queue has not acknowledged (sent or not): announced as an
 * ORPHAN to the next queue if the connection drops (local_orphan.c). */
struct local_done {
	char tag[21];
	char id[ENVELOPE_ID_MAX + 1];
	char rcpt[SMTP_ADDR_MAX + 1];
	struct ipc_msg res;		/* the RESULT record */
};

struct local_server {
	const struct config *c;
	const struct priv_account *vmail;	/* NULL in dev mode */
	struct map mailboxes, aliases;
	int sock;		/* to the queue, -1 when not connected */
	int ready;		/* HELLO answered */
	unsigned gen;		/* connection number */
	int64_t reconnect_at;
	int warned;		/* logged that the queue is unreachable */
	int stopping;
	int64_t stop_deadline;
	struct local_slot *slots;
	size_t nslots, nrunning;
	struct local_done *done;	/* oldest first */
	size_t ndone, donecap;
	struct ipc_msg *out;		/* records waiting for the socket */
	size_t nout, outcap;
	int send_failed;		/* the connection must be closed */
};

/* Run until SIGTERM (then let running deliveries finish, bounded).  0. */
int local_server_run(const struct config *c, const struct priv_account *vmail);

/* local_slot.c: one job from the queue (sock ready).  0, or -1 when the
 * record is a protocol violation and the connection must be closed. */
int local_slot_job(struct local_server *s, struct ipc_msg *m) WUR;
/* A child's pipe is readable: read what is there. */
void local_slot_read(struct local_server *s, struct local_slot *sl);
/* The child of pid exited with wstatus. */
void local_slot_reaped(struct local_server *s, pid_t pid, int wstatus);
/* Report and free every slot whose child is done. */
void local_slot_finish_done(struct local_server *s);
/* The RESULT for job with status and forwards (may be NULL): kept until the
 * queue acknowledges it, sent when connected. */
void local_slot_answer(struct local_server *s, const struct local_job *job,
    const char *status, char **fwd, size_t nfwd);

/* local_orphan.c */
/* Keep res (copied) for job until acknowledged; send it when connected. */
void local_done_add(struct local_server *s, const struct local_job *job,
    const struct ipc_msg *res);
/* An IPC_OK "job" from the queue: that result is recorded. */
void local_done_ack(struct local_server *s, const struct ipc_msg *m);
/* Orphans to announce in HELLO: running deliveries and kept results. */
size_t local_orphan_count(const struct local_server *s);
/* After HELLO: one ORPHAN per running delivery and kept result, then the
 * kept results themselves (all through the send queue). */
void local_orphan_announce(struct local_server *s);
/* Send queued records while the socket takes them (sets send_failed on an
 * error other than EAGAIN). */
void local_out_flush(struct local_server *s);
/* Drop queued records (the connection is gone). */
void local_out_clear(struct local_server *s);
/* Free everything at exit. */
void local_orphan_free(struct local_server *s);
#endif
