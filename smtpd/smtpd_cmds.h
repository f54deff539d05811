/*
 * smtpd_cmds: the command handlers that need no module of their own
 * (EHLO, HELO, MAIL, RSET, NOOP, QUIT, VRFY, HELP).  Each takes the parsed
 * command line; the dispatcher has already checked the session state.
 */
#ifndef POSTERN_SMTPD_CMDS_H
#define POSTERN_SMTPD_CMDS_H
#include "smtp_parse.h"
#include "smtpd_session.h"

void smtpd_cmd_ehlo(struct smtpd *s, const struct smtp_cmd *c);
void smtpd_cmd_helo(struct smtpd *s, const struct smtp_cmd *c);
void smtpd_cmd_mail(struct smtpd *s, const struct smtp_cmd *c);
void smtpd_cmd_rset(struct smtpd *s, const struct smtp_cmd *c);
void smtpd_cmd_noop(struct smtpd *s, const struct smtp_cmd *c);
void smtpd_cmd_quit(struct smtpd *s, const struct smtp_cmd *c);
void smtpd_cmd_vrfy(struct smtpd *s, const struct smtp_cmd *c);
void smtpd_cmd_help(struct smtpd *s, const struct smtp_cmd *c);
/* "SMTP", "ESMTP", "ESMTPSA", "UTF8SMTPS", ... (RFC 3848, RFC 6531). */
const char *smtpd_protocol_name(const struct smtpd *s);
#endif
