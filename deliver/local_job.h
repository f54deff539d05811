/*
 * local_job: strict validation of an IPC_DELIVER_JOB record from the queue
 * (docs/queue.md "Delivery agents") and the pure message checks done before
 * delivery.  The queue is not trusted: every field is re-checked.
 */
#ifndef POSTERN_LOCAL_JOB_H
#define POSTERN_LOCAL_JOB_H
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "ipc.h"
#include "smtp_parse.h"

#define LOCAL_LOOP_MAX		100	/* Delivered-To: lines that mean a loop */
#define LOCAL_ORCPT_MAX		(SMTP_ORCPT_MAX + 40)	/* as envelope.c */
#define LOCAL_HEADER_MAX	(1024 * 1024)	/* header octets scanned for them */

struct local_job {
	char tag[21];			/* "job": decimal, 1..20 digits */
	char id[ENVELOPE_ID_MAX + 1];
	char sender[SMTP_ADDR_MAX + 1];	/* "" for <> */
	struct smtp_addr rcpt;		/* the one recipient, parsed */
	char orcpt[LOCAL_ORCPT_MAX + 1];	/* "" if none */
	int64_t arrival;
};

/* Validate m (pure): exactly the documented fields, each at most once (rcpt
 * and orcpt exactly once), no NUL in any, every value well-formed, exactly
 * one descriptor attached.  The recipient's domain must be non-empty and
 * not a literal; whether it is ours is the caller's check.  1 and j filled,
 * or 0 and *error_r (static text). */
int local_job_parse(const struct ipc_msg *m, struct local_job *j, const char **error_r) WUR;

/* Delivered-To: header fields in the header of msg[0..len) (up to the first
 * empty line; pure).  Counting stops at LOCAL_LOOP_MAX. */
unsigned local_count_delivered_to(const char *msg, size_t len);
#endif
