/*
 * pop3-login_cmds: CAPA, QUIT, STLS and USER before authentication, and
 * the TLS handshake.  Plaintext pipelined after STLS is thrown away, never
 * executed inside the TLS session (the CVE-2011-0411 class).
 */
#include <string.h>

#include "pop3-login_cmds.h"

/* RFC 2449 6; USER and SASL only when they may be used now (RFC 2595 4:
 * STLS only where it can be). */
void
pop3_login_cmd_capa(struct pop3_login *s, const struct pop3_cmd *c)
{
	int plain = pop3_login_plaintext_ok(s);

	pop3_login_reply(s, "+OK Capability list follows");
	pop3_login_reply(s, "CAPA");
	pop3_login_reply(s, "TOP");
	pop3_login_reply(s, "UIDL");
	pop3_login_reply(s, "RESP-CODES");
	pop3_login_reply(s, "AUTH-RESP-CODE");
	pop3_login_reply(s, "PIPELINING");
	if (s->tls_ctx != NULL && !s->in_tls)
		pop3_login_reply(s, "STLS");
	if (plain) {
		pop3_login_reply(s, "USER");
		pop3_login_reply(s, "SASL PLAIN");
	}
	pop3_login_reply(s, "IMPLEMENTATION postern");
	pop3_login_reply(s, ".");
}

void
pop3_login_cmd_quit(struct pop3_login *s, const struct pop3_cmd *c)
{
	pop3_login_reply(s, "+OK Bye");
	s->closing = 1;
}

int
pop3_login_tls_start(struct pop3_login *s)
{
	if (lineio_tls_accept(&s->io, &s->tls, s->tls_ctx, pop3_login_timeout_ms(s),
	    s->client_addr, s->tls_info, sizeof(s->tls_info)) == -1)
		return -1;
	s->in_tls = 1;
	return 0;
}

void
pop3_login_cmd_stls(struct pop3_login *s, const struct pop3_cmd *c)
{
	if (s->in_tls) {
		pop3_login_bad(s, "Command not permitted when TLS active");
		return;
	}
	if (s->tls_ctx == NULL) {
		pop3_login_bad(s, "TLS not available");
		return;
	}
	pop3_login_reply(s, "+OK Begin TLS negotiation");
	if (pop3_login_flush(s) == -1)
		return;
	if (pop3_login_tls_start(s) == -1) {
		s->closing = 1;
		return;
	}
	/* RFC 2595 4: forget what the client said before TLS */
	explicit_bzero(s->user, sizeof(s->user));
	s->has_user = 0;
}

void
pop3_login_cmd_user(struct pop3_login *s, const struct pop3_cmd *c)
{
	if (!pop3_login_plaintext_ok(s)) {
		pop3_login_bad(s, "[AUTH] Plaintext authentication disallowed on "
		    "non-secured connections");
		return;
	}
	if (c->arglen > LOGIN_USER_MAX) {
		pop3_login_bad(s, "User name too long");
		return;
	}
	memcpy(s->user, c->arg, c->arglen);
	s->user[c->arglen] = '\0';
	s->has_user = 1;
	pop3_login_reply(s, "+OK");
}
