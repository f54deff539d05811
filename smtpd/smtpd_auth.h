/*
 * smtpd_auth: AUTH PLAIN and LOGIN (RFC 4954), only inside TLS; the
 * credentials are checked by the auth service over auth.sock.
 */
#ifndef POSTERN_SMTPD_AUTH_H
#define POSTERN_SMTPD_AUTH_H
#include "smtp_parse.h"
#include "smtpd_session.h"

void smtpd_cmd_auth(struct smtpd *s, const struct smtp_cmd *c);
#endif
