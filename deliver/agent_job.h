/*
 * agent_job: strict validation of an IPC_DELIVER_JOB record from the queue
 * (docs/queue.md "Delivery agents"), shared by the local and the remote
 * agent.  The queue is not trusted: every field is re-checked.
 */
#ifndef POSTERN_AGENT_JOB_H
#define POSTERN_AGENT_JOB_H
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "ipc.h"
#include "smtp_parse.h"

#define AGENT_JOB_RCPTS		100	/* recipients of one job (remote) */
#define AGENT_ORCPT_MAX		(SMTP_ORCPT_MAX + 40)	/* as envelope.c */

struct agent_rcpt {
	struct smtp_addr a;			/* parsed, normalised */
	char orcpt[AGENT_ORCPT_MAX + 1];	/* decoded "type;addr", or "" */
	unsigned notify;			/* SMTP_NOTIFY_* bits, 0 = not given */
};

struct agent_job {
	char tag[21];				/* "job": decimal, 1..20 digits */
	char id[ENVELOPE_ID_MAX + 1];
	char sender[SMTP_ADDR_MAX + 1];		/* "" for <> */
	char envid[SMTP_ENVID_MAX + 1];		/* decoded, "" if none */
	enum smtp_ret ret;			/* SMTP_RET_NONE if not given */
	enum smtp_body body;			/* SMTP_BODY_NONE if not given */
	int smtputf8;
	int64_t arrival;
	char domain[SMTP_DOMAIN_MAX + 1];	/* of every recipient, lower case */
	size_t nrcpt;				/* 1..max_rcpt */
	struct agent_rcpt *rcpt;		/* nrcpt of them (allocated as they come) */
	int fd;					/* the message; -1 when not taken */
};

/*
 * Validate m: the documented fields only (job, id, sender, envid, ret, body,
 * smtputf8, arrival once each, the required ones present), then per
 * recipient exactly `rcpt`, `orcpt`, `notify` in that order; 1..max_rcpt
 * (<= AGENT_JOB_RCPTS) recipients, each a mailbox with a non-literal
 * domain, all of one domain; no NUL in any value; exactly one descriptor
 * attached.  notify is the decimal SMTP_NOTIFY_* bits (0..15; NEVER only
 * alone).  On success 1, j filled and the descriptor taken into j->fd
 * (the caller closes it, agent_job_free does); on failure 0, *error_r a
 * static reason, j->tag as far as it was valid, nothing to free beyond
 * agent_job_free (which is always safe after parse).
 */
int agent_job_parse(struct ipc_msg *m, size_t max_rcpt, struct agent_job *j,
    const char **error_r) WUR;
/* Free the recipients and close the descriptor (if taken).  Idempotent. */
void agent_job_free(struct agent_job *j);
#endif
