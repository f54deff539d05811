/*
 * pop3-login_cmds: CAPA, QUIT, STLS and USER before authentication.
 * Plaintext pipelined after STLS is thrown away, never executed inside
 * the TLS session (the CVE-2011-0411 class; login_conn_tls_start).
 */
#include <string.h>

#include "pop3-login_cmds.h"

/* RFC 2449 6; USER and SASL only when they may be used now (RFC 2595 4:
 * STLS only where it can be). */
void
pop3_login_cmd_capa(struct pop3_login *s, const struct pop3_cmd *cmd)
{
	struct login_conn *c = &s->c;
	int plain = login_conn_plaintext_ok(c);

	login_conn_reply(c, "+OK Capability list follows");
	login_conn_reply(c, "CAPA");
	login_conn_reply(c, "TOP");
	login_conn_reply(c, "UIDL");
	login_conn_reply(c, "RESP-CODES");
	login_conn_reply(c, "AUTH-RESP-CODE");
	login_conn_reply(c, "PIPELINING");
	if (c->tls_ctx != NULL && !c->in_tls)
		login_conn_reply(c, "STLS");
	if (plain) {
		login_conn_reply(c, "USER");
		login_conn_reply(c, "SASL PLAIN");
	}
	login_conn_reply(c, "IMPLEMENTATION postern");
	login_conn_reply(c, ".");
}

void
pop3_login_cmd_quit(struct pop3_login *s, const struct pop3_cmd *cmd)
{
	login_conn_reply(&s->c, "+OK Bye");
	s->c.closing = 1;
}

void
pop3_login_cmd_stls(struct pop3_login *s, const struct pop3_cmd *cmd)
{
	struct login_conn *c = &s->c;

	if (c->in_tls) {
		login_conn_bad(c, "Command not permitted when TLS active");
		return;
	}
	if (c->tls_ctx == NULL) {
		login_conn_bad(c, "TLS not available");
		return;
	}
	login_conn_reply(c, "+OK Begin TLS negotiation");
	if (login_conn_flush(c) == -1)
		return;
	if (login_conn_tls_start(c) == -1) {
		c->closing = 1;
		return;
	}
	/* RFC 2595 4: forget what the client said before TLS */
	explicit_bzero(s->user, sizeof(s->user));
	s->has_user = 0;
}

void
pop3_login_cmd_user(struct pop3_login *s, const struct pop3_cmd *cmd)
{
	if (!login_conn_plaintext_ok(&s->c)) {
		login_conn_bad(&s->c, "[AUTH] Plaintext authentication disallowed on "
		    "non-secured connections");
		return;
	}
	if (cmd->arglen > LOGIN_USER_MAX) {
		login_conn_bad(&s->c, "User name too long");
		return;
	}
	memcpy(s->user, cmd->arg, cmd->arglen);
	s->user[cmd->arglen] = '\0';
	s->has_user = 1;
	login_conn_reply(&s->c, "+OK");
}
