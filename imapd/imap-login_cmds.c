/*
 * imap-login_cmds: CAPABILITY, NOOP, LOGOUT, STARTTLS and ID before
 * authentication, and the TLS handshake.  Plaintext pipelined after
 * STARTTLS is thrown away, never executed inside the TLS session (the
 * CVE-2011-0411 class).
 */
#include <string.h>

#include "imap-login_cmds.h"
#include "log.h"

/* The capabilities before login (RFC 3501 7.2.1): STARTTLS only where it
 * can be used (RFC 2595 3.1), AUTH=PLAIN only where plaintext credentials
 * may be sent, LOGINDISABLED where they may not (RFC 3501 6.2.3).  What
 * the mail process adds after login it announces itself. */
static const char *
imap_login_caps(const struct imap_login *s, char *out, size_t size)
{
	int plain = imap_login_plaintext_ok(s);

	if (str_format(out, size, "IMAP4rev1 SASL-IR LITERAL+ ID%s%s",
	    s->tls_ctx != NULL && !s->in_tls ? " STARTTLS" : "",
	    plain ? " AUTH=PLAIN" : " LOGINDISABLED") == -1)
		log_panic("imap-login: capability list");
	return out;
}

void
imap_login_greeting(struct imap_login *s)
{
	char caps[256];

	imap_login_reply(s, "* OK [CAPABILITY %s] postern ready.",
	    imap_login_caps(s, caps, sizeof(caps)));
}

void
imap_login_cmd_capability(struct imap_login *s, const struct imap_cmd *c)
{
	char caps[256];

	imap_login_reply(s, "* CAPABILITY %s", imap_login_caps(s, caps, sizeof(caps)));
	imap_login_reply(s, "%s OK Capability completed.", c->tag);
}

void
imap_login_cmd_noop(struct imap_login *s, const struct imap_cmd *c)
{
	imap_login_reply(s, "%s OK NOOP completed.", c->tag);
}

void
imap_login_cmd_logout(struct imap_login *s, const struct imap_cmd *c)
{
	imap_login_reply(s, "* BYE Logging out");
	imap_login_reply(s, "%s OK Logout completed.", c->tag);
	s->closing = 1;
}

/* RFC 2971 3.3: the server's own field list; the client's is not
 * logged (it is free text from a stranger). */
void
imap_login_cmd_id(struct imap_login *s, const struct imap_cmd *c)
{
	imap_login_reply(s, "* ID (\"name\" \"postern\")");
	imap_login_reply(s, "%s OK ID completed.", c->tag);
}

int
imap_login_tls_start(struct imap_login *s)
{
	if (lineio_tls_accept(&s->io, &s->tls, s->tls_ctx, imap_login_timeout_ms(s),
	    s->client_addr, s->tls_info, sizeof(s->tls_info)) == -1)
		return -1;
	s->in_tls = 1;
	return 0;
}

void
imap_login_cmd_starttls(struct imap_login *s, const struct imap_cmd *c)
{
	if (s->in_tls) {
		imap_login_bad(s, "TLS is already active");
		return;
	}
	if (s->tls_ctx == NULL) {
		imap_login_bad(s, "TLS is not available");
		return;
	}
	imap_login_reply(s, "%s OK Begin TLS negotiation now.", c->tag);
	if (imap_login_flush(s) == -1)
		return;
	if (imap_login_tls_start(s) == -1)
		s->closing = 1;
}
