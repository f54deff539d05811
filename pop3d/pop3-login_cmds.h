/*
 * pop3-login_cmds: the AUTHORIZATION-state commands that carry no
 * credentials: CAPA (RFC 2449), QUIT, STLS (RFC 2595) and USER (RFC 1939
 * 7).
 */
#ifndef POSTERN_POP3_LOGIN_CMDS_H
#define POSTERN_POP3_LOGIN_CMDS_H
#include "pop3-login_session.h"

void pop3_login_cmd_capa(struct pop3_login *s, const struct pop3_cmd *cmd);
void pop3_login_cmd_quit(struct pop3_login *s, const struct pop3_cmd *cmd);
void pop3_login_cmd_stls(struct pop3_login *s, const struct pop3_cmd *cmd);
void pop3_login_cmd_user(struct pop3_login *s, const struct pop3_cmd *cmd);
#endif
