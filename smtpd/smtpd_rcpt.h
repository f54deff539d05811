/*
 * smtpd_rcpt: RCPT TO, with the relay decision and the recipient checks
 * against the mailboxes and aliases maps.
 */
#ifndef POSTERN_SMTPD_RCPT_H
#define POSTERN_SMTPD_RCPT_H
#include "smtp_parse.h"
#include "smtpd_session.h"

/* Largest serialized envelope smtpd sends in one IPC_QUEUE_BEGIN record
 * (IPC_MAX_RECORD minus header and field framing, with room to spare). */
#define SMTPD_ENVELOPE_MAX	64000

void smtpd_cmd_rcpt(struct smtpd *s, const struct smtp_cmd *c);

/* The verdict for one parsed recipient (pure apart from the map lookups). */
enum smtpd_rcpt_verdict {
	SMTPD_RCPT_LOCAL,	/* one of our mailboxes or aliases */
	SMTPD_RCPT_RELAY,	/* another domain, relaying allowed */
	SMTPD_RCPT_UNKNOWN,	/* our domain, no such user: 550 5.1.1 */
	SMTPD_RCPT_DENIED,	/* another domain, relaying not allowed: 554 5.7.1 */
	SMTPD_RCPT_TEMPFAIL,	/* map lookup failed: 451 4.3.0 */
};
enum smtpd_rcpt_verdict smtpd_rcpt_check(struct smtpd *s, const struct smtp_rcpt *r);
#endif
