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
/* Send one RESULT for job (tag) with status and forwards (may be NULL). */
void local_slot_answer(struct local_server *s, const char *tag, const char *status,
    char **fwd, size_t nfwd);
#endif
