/*
 * imap-login_cmds: CAPABILITY, NOOP, LOGOUT, STARTTLS and ID before
 * authentication, and the greeting.  Plaintext pipelined after
 * STARTTLS is thrown away, never executed inside the TLS session (the
 * CVE-2011-0411 class; login_conn_tls_start).
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
	int plain = login_conn_plaintext_ok(&s->c);

	if (str_format(out, size, "IMAP4rev1 SASL-IR LITERAL+ ID%s%s",
	    s->c.tls_ctx != NULL && !s->c.in_tls ? " STARTTLS" : "",
	    plain ? " AUTH=PLAIN" : " LOGINDISABLED") == -1)
		log_panic("imap-login: capability list");
	return out;
}

void
imap_login_greeting(struct login_conn *c)
{
	char caps[256];

	login_conn_reply(c, "* OK [CAPABILITY %s] postern ready.",
	    imap_login_caps(imap_login_of(c), caps, sizeof(caps)));
}

void
imap_login_cmd_capability(struct imap_login *s, const struct imap_cmd *c)
{
	char caps[256];

	login_conn_reply(&s->c, "* CAPABILITY %s", imap_login_caps(s, caps, sizeof(caps)));
	login_conn_reply(&s->c, "%s OK Capability completed.", c->tag);
}

void
imap_login_cmd_noop(struct imap_login *s, const struct imap_cmd *c)
{
	login_conn_reply(&s->c, "%s OK NOOP completed.", c->tag);
}

void
imap_login_cmd_logout(struct imap_login *s, const struct imap_cmd *c)
{
	login_conn_reply(&s->c, "* BYE Logging out");
	login_conn_reply(&s->c, "%s OK Logout completed.", c->tag);
	s->c.closing = 1;
}

/* RFC 2971 3.3: the server's own field list; the client's is not
 * logged (it is free text from a stranger). */
void
imap_login_cmd_id(struct imap_login *s, const struct imap_cmd *c)
{
	login_conn_reply(&s->c, "* ID (\"name\" \"postern\")");
	login_conn_reply(&s->c, "%s OK ID completed.", c->tag);
}

void
imap_login_cmd_starttls(struct imap_login *s, const struct imap_cmd *c)
{
	if (s->c.in_tls) {
		login_conn_bad(&s->c, "TLS is already active");
		return;
	}
	if (s->c.tls_ctx == NULL) {
		login_conn_bad(&s->c, "TLS is not available");
		return;
	}
	login_conn_reply(&s->c, "%s OK Begin TLS negotiation now.", c->tag);
	if (login_conn_flush(&s->c) == -1)
		return;
	if (login_conn_tls_start(&s->c) == -1)
		s->c.closing = 1;
}
