/*
 * pop3-login_auth: the commands that carry credentials, USER/PASS (RFC
 * 1939 7) and AUTH PLAIN (RFC 5034, RFC 4616), their check with the auth
 * service, and the handoff of a verified session to master.
 */
#ifndef POSTERN_POP3_LOGIN_AUTH_H
#define POSTERN_POP3_LOGIN_AUTH_H
#include "pop3-login_session.h"

void pop3_login_cmd_pass(struct pop3_login *s, const struct pop3_cmd *c);
void pop3_login_cmd_auth(struct pop3_login *s, const struct pop3_cmd *c);
/* After the loop of a verified session (s->handoff): pass the client and
 * the pipelined input to master with s->token; with TLS keep proxying
 * until the session ends.  A failed handoff is answered [SYS/TEMP]. */
void pop3_login_handoff(struct pop3_login *s);
#endif
