/*
 * pop3-login_auth: USER/PASS and AUTH PLAIN.  pop3-login never sees a
 * password hash: the credentials go to the auth service, which delays a
 * refusal and counts failures per client address; every copy of a
 * password here is wiped right after.  On success nothing is answered:
 * the mail process answers the authenticating command (docs/login.md).
 */
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pop3-login_auth.h"

#define PLAINTEXT_REFUSED \
	"[AUTH] Plaintext authentication disallowed on non-secured connections"

/* A refused login: answer, and end the connection at LOGIN_MAX_TRIES or
 * when auth says the client address is over auth.max_failures. */
static void
pop3_login_refused(struct pop3_login *s, const char *method, const char *shown,
    int limited)
{
	s->failures++;
	log_info("authentication failed: user=<%s>, method=%s, client=%s", shown, method,
	    s->client_addr);
	if (limited || s->failures >= LOGIN_MAX_TRIES) {
		log_info("too many authentication failures from %s (user=<%s>, %s); "
		    "disconnecting", s->client_addr, shown,
		    limited ? "auth.max_failures reached" : "on this connection");
		pop3_login_close(s, "[AUTH] Too many authentication failures");
		return;
	}
	pop3_login_reply(s, "-ERR [AUTH] Authentication failed");
}

/* Check user/pass with auth.  Verified: remember the token and end the
 * loop for the handoff (no answer); otherwise answer the client. */
static void
pop3_login_verify(struct pop3_login *s, const char *method, const char *user,
    size_t ulen, const char *pass, size_t plen)
{
	char canon[USERDB_ADDR_MAX + 1];
	int limited = 0, r = -1;

	/* earlier answers go out first: the mail process may answer next */
	if (pop3_login_flush(s) == -1)
		return;
	if (!login_name_ok(user, ulen) || plen == 0 || plen > LOGIN_PASS_MAX) {
		pop3_login_refused(s, method, "(malformed)", 0);
		return;
	}
	if (s->auth_fd != -1) {
		r = login_verify(s->auth_fd, "pop3", s->client_addr, user, ulen, pass, plen,
		    canon, s->token, &limited);
		if (r == -1) {
			close(s->auth_fd);
			s->auth_fd = -1;
		}
	}
	if (r == 1) {
		log_info("login: user=<%s>, method=%s, client=%s%s", canon, method,
		    s->client_addr, s->in_tls ? ", TLS" : "");
		s->handoff = 1;
		s->closing = 1;
	} else if (r == 0)
		pop3_login_refused(s, method, user, limited);
	else {
		log_warn("auth service unavailable; login of %s refused temporarily",
		    s->client_addr);
		pop3_login_reply(s, "-ERR [SYS/TEMP] Temporary authentication failure");
	}
}

void
pop3_login_cmd_pass(struct pop3_login *s, const struct pop3_cmd *c)
{
	char user[LOGIN_USER_MAX + 1];

	if (!pop3_login_plaintext_ok(s)) {
		pop3_login_bad(s, PLAINTEXT_REFUSED);
		return;
	}
	if (!s->has_user) {
		pop3_login_bad(s, "No username given");
		return;
	}
	/* RFC 1939 7: after PASS, successful or not, USER starts over */
	memcpy(user, s->user, sizeof(user));
	explicit_bzero(s->user, sizeof(s->user));
	s->has_user = 0;
	pop3_login_verify(s, "USER", user, strlen(user), c->arg, c->arglen);
}

/* Decode an RFC 4616 response and check it. */
static void
pop3_login_plain(struct pop3_login *s, const char *b64, size_t len)
{
	char authzid[LOGIN_USER_MAX + 1], authcid[LOGIN_USER_MAX + 1];
	char pass[LOGIN_PASS_MAX + 1];

	if (!login_sasl_plain(b64, len, authzid, sizeof(authzid), authcid, sizeof(authcid),
	    pass, sizeof(pass)))
		pop3_login_bad(s, "Invalid PLAIN response");
	else
		pop3_login_verify(s, "PLAIN", authcid, strlen(authcid), pass, strlen(pass));
	explicit_bzero(authzid, sizeof(authzid));
	explicit_bzero(authcid, sizeof(authcid));
	explicit_bzero(pass, sizeof(pass));
}

/* RFC 5034 4; a bare AUTH lists the mechanisms (the de-facto extension
 * many clients probe with). */
void
pop3_login_cmd_auth(struct pop3_login *s, const struct pop3_cmd *c)
{
	if (c->arglen == 0) {
		pop3_login_reply(s, "+OK");
		if (pop3_login_plaintext_ok(s))
			pop3_login_reply(s, "PLAIN");
		pop3_login_reply(s, ".");
		return;
	}
	if (strcmp(c->arg, "PLAIN") != 0) {
		pop3_login_bad(s, "Unsupported authentication mechanism");
		return;
	}
	if (!pop3_login_plaintext_ok(s)) {
		pop3_login_bad(s, PLAINTEXT_REFUSED);
		return;
	}
	if (c->has_ir) {
		pop3_login_plain(s, c->ir, c->irlen);
		return;
	}
	pop3_login_reply(s, "+ ");
	if (pop3_login_read_line(s, POP3_LOGIN_SASL_LINE) != 1)
		return;
	if (s->line.len == 1 && s->line.data[0] == '*')
		pop3_login_reply(s, "-ERR Authentication cancelled");
	else
		pop3_login_plain(s, s->line.data != NULL ? s->line.data : "", s->line.len);
	pop3_login_wipe_input(s);
}

void
pop3_login_handoff(struct pop3_login *s)
{
	const char *input = s->io.in + s->io.inpos;
	size_t inlen = s->io.inlen - s->io.inpos;
	int r;

	r = login_handoff_client(s->in_tls ? &s->tls : NULL, s->token, NULL, input, inlen,
	    (int)s->cf->pop3_timeout * 1000);
	explicit_bzero(s->token, sizeof(s->token));
	s->handoff = 0;
	if (r == -1) {
		log_warn("handoff of %s to master failed", s->client_addr);
		s->closing = 0;
		pop3_login_close(s, "[SYS/TEMP] Cannot open the mailbox now, try again later");
	}
}
