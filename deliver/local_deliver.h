/*
 * local_deliver: one delivery, in a child of the root spawner that first
 * becomes the mailbox owner (PREFIXvmail or the system user).  Checks for
 * mail loops, follows a system user's ~/.forward, writes into the Maildir
 * (quota, durable), and writes its result to a pipe for the parent:
 * a status line ("sent 2.0.0 ...") then zero or more "forward ADDRESS"
 * lines.  Nothing here runs as root.
 */
#ifndef POSTERN_LOCAL_DELIVER_H
#define POSTERN_LOCAL_DELIVER_H
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "agent_job.h"
#include "local_loop.h"
#include "local_resolve.h"
#include "privsep.h"

#define LOCAL_PROGRAM_TIMEOUT	300	/* seconds for a .forward program */

struct local_child {
	const struct config *c;
	const struct agent_job *job;
	const struct smtp_addr *rcpt;	/* job->rcpt[0].a */
	const struct local_target *t;
	int msgfd;			/* the message, read with pread */
	uint64_t msglen;
	const struct priv_account *vmail;	/* NULL in dev mode: stay who we are */
	int resultfd;
};

/* Run one delivery and _exit.  Called in the forked child. */
void local_deliver_child(const struct local_child *lc) __attribute__((noreturn));

/* The result accumulated by the child (also used by local_program.c). */
struct local_result {
	struct buf status;	/* "sent 2.0.0 ...", "defer 4.x.x ...", "fail 5.x.x ..." */
	struct buf forwards;	/* "forward ADDR\n" lines */
};

/* Store into r the Maildir delivery of lc's message (the target's inbox or
 * folder).  1 delivered, 0 with r->status set to the failure. */
int local_deliver_maildir(const struct local_child *lc, struct local_result *r) WUR;
/* Follow ~/.forward of a system user, if it has one with targets.  1 and
 * r->status set (forwarded, program result or failure) when it decided
 * the outcome; 2 when it also asks for a copy in the user's Maildir (the
 * caller delivers and then reports r->status); 0 when there is no
 * .forward to follow. */
int local_forward_run(const struct local_child *lc, struct local_result *r) WUR;
/* printf into r->status (replacing it). */
void local_result_set(struct local_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#endif
