/*
 * smtpd_tls: STARTTLS (RFC 3207) and implicit TLS for smtps (RFC 8314).
 * Plaintext the client pipelined after STARTTLS is thrown away, never
 * executed inside the TLS session (the CVE-2011-0411 class).
 */
#include "smtpd_session.h"
#include "smtpd_tls.h"

int
smtpd_tls_start(struct smtpd *s)
{
	if (lineio_tls_accept(&s->io, &s->tls, s->tls_ctx, smtpd_timeout_ms(s),
	    s->client_addr, s->tls_info, sizeof(s->tls_info)) == -1)
		return -1;
	s->in_tls = 1;
	return 0;
}

void
smtpd_cmd_starttls(struct smtpd *s, const struct smtp_cmd *c)
{
	if (s->in_tls) {
		smtpd_reply(s, 503, "5.5.1", "Error: TLS already active");
		return;
	}
	if (s->tls_ctx == NULL) {
		smtpd_reply(s, 454, "4.7.0", "TLS not available");
		return;
	}
	smtpd_reply(s, 220, "2.0.0", "Ready to start TLS");
	if (smtpd_flush(s) == -1)
		return;
	if (smtpd_tls_start(s) == -1) {
		s->closing = 1;
		return;
	}
	/* RFC 3207 4.2: forget everything learned before TLS */
	smtpd_reset_transaction(s);
	s->state = SMTPD_S_CONNECT;
	s->esmtp = 0;
	s->helo[0] = '\0';
}
