/*
 * local_server: the root spawner (the local transport of the agent core,
 * deliver/agent.c).  For each job from the queue: validate, resolve the
 * recipient, fork one child per delivery (local_deliver.c) and report its
 * result.  Runs as root; touches only admin data (maps, passwd) and job
 * records, never the message or a mailbox.
 */
#ifndef POSTERN_LOCAL_SERVER_H
#define POSTERN_LOCAL_SERVER_H
#include <stdint.h>
#include <sys/types.h>

#include "agent.h"
#include "buf.h"
#include "config.h"
#include "local_resolve.h"
#include "map.h"
#include "privsep.h"

#define LOCAL_CHILD_TIMEOUT_MS	(10 * 60 * 1000)	/* one delivery */
#define LOCAL_CHILD_OUTPUT_MAX	(LOCAL_FORWARD_MAX * (SMTP_ADDR_MAX + 10) + 1024)

/* One delivery in progress. */
struct local_slot {
	int used;
	pid_t pid;		/* 0 once reaped */
	int wstatus;
	int pipefd;		/* the child's result pipe; -1 after EOF */
	struct buf out;		/* what the child wrote */
	int64_t deadline;
	int killed;		/* 1 for the time limit, 2 at stop */
	struct agent_job job;
	struct local_target t;
};

struct local_server {
	const struct config *c;
	const struct priv_account *vmail;	/* NULL in dev mode */
	struct map mailboxes, aliases;
	struct local_slot *slots;
	size_t nslots, nrunning;
};

/* Run until SIGTERM (then let running deliveries finish, bounded).  0. */
int local_server_run(const struct config *c, const struct priv_account *vmail);

/* local_slot.c: one job from the queue.  0, or -1 when the record is a
 * protocol violation and the connection must be closed. */
int local_slot_job(struct agent *a, struct ipc_msg *m) WUR;
/* A child's pipe is readable: read what is there. */
void local_slot_read(struct local_slot *sl);
/* Reap children, report and free every slot whose child is done, kill
 * those past their time limit (all when at_stop).  The next deadline. */
int64_t local_slot_tick(struct agent *a, int64_t now, int at_stop);
#endif
