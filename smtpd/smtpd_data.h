/*
 * smtpd_data: DATA and BDAT.  The message is checked line by line (length,
 * bare CR/LF smuggling defence, size, hop count), given our Received:
 * header (and, on submission, Date:/Message-ID: when missing), and
 * streamed to the queue.  Nothing is queued unless every check passed.
 */
#ifndef POSTERN_SMTPD_DATA_H
#define POSTERN_SMTPD_DATA_H
#include "smtp_parse.h"
#include "smtpd_session.h"

void smtpd_cmd_data(struct smtpd *s, const struct smtp_cmd *c);
void smtpd_cmd_bdat(struct smtpd *s, const struct smtp_cmd *c);
/* Drop a BDAT message in progress (RSET, EHLO, end of session). */
void smtpd_msg_discard(struct smtpd *s);
#endif
