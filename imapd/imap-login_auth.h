/*
 * imap-login_auth: the commands that carry credentials, LOGIN (RFC 3501
 * 6.2.3) and AUTHENTICATE PLAIN (6.2.2, RFC 4616, SASL-IR RFC 4959); their
 * check with the auth service and the handoff are common/login_conn.c's.
 */
#ifndef POSTERN_IMAP_LOGIN_AUTH_H
#define POSTERN_IMAP_LOGIN_AUTH_H
#include "imap-login_session.h"

void imap_login_cmd_login(struct imap_login *s, const struct imap_cmd *c);
void imap_login_cmd_authenticate(struct imap_login *s, const struct imap_cmd *c);
/* Queue "* BYE why" and the tagged answer, flush and end the session
 * (also when it was closing: a failed handoff is still answered). */
void imap_login_end(struct imap_login *s, const char *why, const char *answer);
#endif
