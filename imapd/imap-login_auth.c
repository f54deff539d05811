/*
 * imap-login_auth: LOGIN and AUTHENTICATE PLAIN.  imap-login never sees a
 * password hash: the credentials go to the auth service, which delays a
 * refusal and counts failures per client address; every copy of a
 * password here is wiped right after.  On success nothing is answered:
 * the imap mail process answers the tagged LOGIN/AUTHENTICATE itself, with
 * the tag handed over through master (docs/login.md).
 */
#include <string.h>
#include <unistd.h>

#include "imap-login_auth.h"
#include "log.h"

#define PRIVACY_REQUIRED \
	"NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secured connections."
#define AUTH_FAILED	"NO [AUTHENTICATIONFAILED] Authentication failed."

/* Queue "* BYE why" and the tagged answer, flush and end the session. */
static void
imap_login_end(struct imap_login *s, const char *why, const char *answer)
{
	s->closing = 0;
	imap_login_reply(s, "* BYE %s", why);
	imap_login_reply(s, "%s %s", s->tag, answer);
	if (imap_login_flush(s) == -1) {
		/* closing anyway */
	}
	s->closing = 1;
}

/* A refused login: answer, and end the connection at LOGIN_MAX_TRIES or
 * when auth says the client address is over auth.max_failures. */
static void
imap_login_refused(struct imap_login *s, const char *method, const char *shown,
    int limited)
{
	s->failures++;
	log_info("authentication failed: user=<%s>, method=%s, client=%s", shown, method,
	    s->client_addr);
	if (limited || s->failures >= LOGIN_MAX_TRIES) {
		log_info("too many authentication failures from %s (user=<%s>, %s); "
		    "disconnecting", s->client_addr, shown,
		    limited ? "auth.max_failures reached" : "on this connection");
		imap_login_end(s, "Too many authentication failures", AUTH_FAILED);
		return;
	}
	imap_login_reply(s, "%s %s", s->tag, AUTH_FAILED);
}

/* Check user/pass with auth.  Verified: remember the token and end the
 * loop for the handoff (no answer); otherwise answer the client. */
static void
imap_login_verify(struct imap_login *s, const char *method, const char *user,
    size_t ulen, const char *pass, size_t plen)
{
	char canon[USERDB_ADDR_MAX + 1];
	int limited = 0, r = -1;

	/* earlier answers go out first: the mail process may answer next */
	if (imap_login_flush(s) == -1)
		return;
	if (!login_name_ok(user, ulen) || plen == 0 || plen > LOGIN_PASS_MAX) {
		imap_login_refused(s, method, "(malformed)", 0);
		return;
	}
	if (s->auth_fd != -1) {
		r = login_verify(s->auth_fd, "imap", s->client_addr, user, ulen, pass, plen,
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
		imap_login_refused(s, method, user, limited);
	else {
		log_warn("auth service unavailable; login of %s refused temporarily",
		    s->client_addr);
		imap_login_reply(s, "%s NO [UNAVAILABLE] Temporary authentication failure.",
		    s->tag);
	}
}

void
imap_login_cmd_login(struct imap_login *s, const struct imap_cmd *c)
{
	if (!imap_login_plaintext_ok(s)) {
		imap_login_reply(s, "%s %s", c->tag, PRIVACY_REQUIRED);
		return;
	}
	imap_login_verify(s, "LOGIN", imap_str(c, c->a), c->a.len, imap_str(c, c->b),
	    c->b.len);
}

/* Decode an RFC 4616 response and check it. */
static void
imap_login_plain(struct imap_login *s, const char *b64, size_t len)
{
	char authzid[LOGIN_USER_MAX + 1], authcid[LOGIN_USER_MAX + 1];
	char pass[LOGIN_PASS_MAX + 1];

	if (!login_sasl_plain(b64, len, authzid, sizeof(authzid), authcid, sizeof(authcid),
	    pass, sizeof(pass)))
		imap_login_bad(s, "Invalid PLAIN response");
	else
		imap_login_verify(s, "PLAIN", authcid, strlen(authcid), pass, strlen(pass));
	explicit_bzero(authzid, sizeof(authzid));
	explicit_bzero(authcid, sizeof(authcid));
	explicit_bzero(pass, sizeof(pass));
}

/* RFC 3501 6.2.2 with the initial response of RFC 4959: without one, the
 * server sends an empty challenge ("+ ") and reads one line; "*" cancels. */
void
imap_login_cmd_authenticate(struct imap_login *s, const struct imap_cmd *c)
{
	int r;

	if (strcmp(imap_str(c, c->a), "PLAIN") != 0) {
		imap_login_reply(s, "%s NO Unsupported authentication mechanism.", c->tag);
		return;
	}
	if (!imap_login_plaintext_ok(s)) {
		imap_login_reply(s, "%s %s", c->tag, PRIVACY_REQUIRED);
		return;
	}
	if (c->has_ir) {
		imap_login_plain(s, imap_str(c, c->b), c->b.len);
		return;
	}
	imap_login_reply(s, "+ ");
	if ((r = imap_login_read_line(s, LOGIN_SASL_MAX)) == -1)
		return;
	if (r == 0)
		imap_login_bad(s, "Response too long");
	else if (s->line.len == 1 && s->line.data[0] == '*')
		imap_login_bad(s, "Authentication cancelled");
	else
		imap_login_plain(s, s->line.data != NULL ? s->line.data : "", s->line.len);
	imap_login_wipe_input(s);
}

void
imap_login_handoff(struct imap_login *s)
{
	const char *input = s->io.in + s->io.inpos;
	size_t inlen = s->io.inlen - s->io.inpos;
	int r;

	r = login_handoff_client(s->in_tls ? &s->tls : NULL, s->token, s->tag, input, inlen,
	    (int)s->cf->imap_timeout * 1000);
	explicit_bzero(s->token, sizeof(s->token));
	s->handoff = 0;
	if (r == -1) {
		log_warn("handoff of %s to master failed", s->client_addr);
		imap_login_end(s, "[UNAVAILABLE] Cannot open the mailbox now, try again later",
		    "NO [UNAVAILABLE] Login failed temporarily.");
	}
}
