/*
 * smtpd_tls: STARTTLS (RFC 3207) and the implicit TLS of the smtps
 * listener (RFC 8314).
 */
#ifndef POSTERN_SMTPD_TLS_H
#define POSTERN_SMTPD_TLS_H
#include "smtp_parse.h"
#include "smtpd_session.h"

void smtpd_cmd_starttls(struct smtpd *s, const struct smtp_cmd *c);
/* Run the TLS handshake on the client socket (smtps, or after the 220 of
 * STARTTLS), discarding any plaintext already buffered.  0 ok, -1 failed
 * (logged; the session must end). */
int smtpd_tls_start(struct smtpd *s);
#endif
