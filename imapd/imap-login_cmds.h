/*
 * imap-login_cmds: the not-authenticated commands that carry no
 * credentials: CAPABILITY, NOOP, LOGOUT (RFC 3501 6.1), STARTTLS (6.2.1,
 * RFC 2595), ID (RFC 2971) and the greeting.
 */
#ifndef POSTERN_IMAP_LOGIN_CMDS_H
#define POSTERN_IMAP_LOGIN_CMDS_H
#include "imap-login_session.h"

/* "* OK [CAPABILITY ...] postern ready." */
void imap_login_greeting(struct login_conn *c);
void imap_login_cmd_capability(struct imap_login *s, const struct imap_cmd *c);
void imap_login_cmd_noop(struct imap_login *s, const struct imap_cmd *c);
void imap_login_cmd_logout(struct imap_login *s, const struct imap_cmd *c);
void imap_login_cmd_starttls(struct imap_login *s, const struct imap_cmd *c);
void imap_login_cmd_id(struct imap_login *s, const struct imap_cmd *c);
#endif
