/*
 * imap-login_auth: the commands that carry credentials, LOGIN (RFC 3501
 * 6.2.3) and AUTHENTICATE PLAIN (6.2.2, RFC 4616, SASL-IR RFC 4959), their
 * check with the auth service, and the handoff of a verified session to
 * master.
 */
#ifndef POSTERN_IMAP_LOGIN_AUTH_H
#define POSTERN_IMAP_LOGIN_AUTH_H
#include "imap-login_session.h"

void imap_login_cmd_login(struct imap_login *s, const struct imap_cmd *c);
void imap_login_cmd_authenticate(struct imap_login *s, const struct imap_cmd *c);
/* After the loop of a verified session (s->handoff): pass the client, the
 * tag of the authenticating command and the pipelined input to master
 * with s->token; with TLS keep proxying until the session ends.  A failed
 * handoff is answered "* BYE [UNAVAILABLE]" and a tagged NO. */
void imap_login_handoff(struct imap_login *s);
#endif
