/*
 * queue_bounce: builds delivery status notifications (RFC 3464
 * multipart/report; report-type=delivery-status, RFC 3461 semantics) as
 * plain bytes plus an envelope.  Pure: no spool access, no globals; the
 * scheduler commits the result with the spool functions like any mail.
 * The original message is untrusted input (it came from the network).
 */
#ifndef POSTERN_QUEUE_BOUNCE_H
#define POSTERN_QUEUE_BOUNCE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "envelope.h"

enum dsn_action {
	DSN_FAILED,	/* Action: failed (status 5.x.x) */
	DSN_DELAYED,	/* Action: delayed (status 4.x.x), the delay warning */
	DSN_DELIVERED	/* Action: delivered (status 2.x.x), NOTIFY=SUCCESS */
};

struct bounce_input {
	const struct envelope *orig;	/* the message being reported on */
	const size_t *rcpt;	/* indexes into orig->rcpt to report */
	size_t nrcpt;		/* >= 1 */
	enum dsn_action action;
	int msgfd;		/* the original message, read with pread from 0 */
	const char *hostname;	/* Reporting-MTA, From: MAILER-DAEMON@hostname */
	const char *to;		/* recipient of the report: orig->sender, or the
				 * postmaster for a double bounce */
	int64_t now;		/* Date:, Arrival-Date comes from orig->arrival */
	const char *id;		/* queue id of the new message (Message-ID) */
	int64_t retry_until;	/* delayed: Will-Retry-Until (arrival +
				 * queue.lifetime); 0 = not given */
};

/*
 * Build the report.  Per recipient the text status comes from
 * orig->rcpt[i].status ("X.Y.Z text", as the agents report it; a missing or
 * malformed one gives 5.0.0 / 4.0.0 / 2.0.0 by action).  The message
 * contains: the headers (From: MAILER-DAEMON@hostname, To:, Subject:,
 * Date:, Message-ID:, Auto-Submitted: auto-replied, MIME-Version,
 * Content-Type: multipart/report; report-type=delivery-status), a
 * human-readable text/plain part, the message/delivery-status part
 * (Reporting-MTA: dns; hostname, Original-Envelope-Id when envid is set,
 * Arrival-Date; per recipient Original-Recipient (from orcpt), Final-
 * Recipient: rfc822; addr, Action, Status, Remote-MTA and Diagnostic-Code:
 * smtp; REPLY for a remote server's answer, else Diagnostic-Code:
 * X-Postern; text, Last-Attempt-Date, and Will-Retry-Until for delayed when
 * retry_until is set), and the original: text/rfc822-headers for RET=HDRS,
 * for delayed/delivered, when the message is larger than max_full octets
 * or not well-formed, else message/rfc822 with the full message.  SMTPUTF8
 * originals get the RFC 6533 types (message/global-delivery-status,
 * message/global, message/global-headers).  CRLF line ends, no line over
 * 998 octets, 7bit or 8bit as the content needs (docs/queue.md, "The
 * report").  out->msg is appended to (a zeroed struct buf is initialised
 * without limit).
 *
 * out->msg receives the bytes; out->env (envelope_init'ed by the caller) gets
 * sender "", one recipient `to` (notify NEVER), kind bounce (double-bounce
 * when orig->sender is "" or orig->kind is not mail).  0, or -1 (I/O error
 * reading msgfd, or bad input), out left for the caller to free.
 */
struct bounce_output {
	struct buf msg;
	struct envelope env;
};
int bounce_build(const struct bounce_input *in, uint64_t max_full,
    struct bounce_output *out) WUR;

/* Which recipients of e want a report of this action, per RFC 3461: FAILURE
 * (or NOTIFY not given) for failed, DELAY (or not given) for delayed,
 * SUCCESS for delivered; never with NEVER.  1 or 0. */
int bounce_wanted(const struct envelope_rcpt *r, enum dsn_action action);
#endif
