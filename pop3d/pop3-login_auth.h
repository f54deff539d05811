/*
 * pop3-login_auth: the commands that carry credentials, USER/PASS (RFC
 * 1939 7) and AUTH PLAIN (RFC 5034, RFC 4616); their check with the auth
 * service and the handoff are common/login_conn.c's.
 */
#ifndef POSTERN_POP3_LOGIN_AUTH_H
#define POSTERN_POP3_LOGIN_AUTH_H
#include "pop3-login_session.h"

void pop3_login_cmd_pass(struct pop3_login *s, const struct pop3_cmd *c);
void pop3_login_cmd_auth(struct pop3_login *s, const struct pop3_cmd *c);
#endif
