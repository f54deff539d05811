/*
 * imap-login_auth: LOGIN and AUTHENTICATE PLAIN.  imap-login never sees a
 * password hash: the credentials go to the auth service (through
 * login_conn_verify), which delays a refusal and counts failures per
 * client address; every copy of a password here is wiped right after.  On
 * success nothing is answered: the imap mail process answers the tagged
 * LOGIN/AUTHENTICATE itself, with the tag handed over through master
 * (docs/login.md).
 */
#include <string.h>

#include "imap-login_auth.h"

#define PRIVACY_REQUIRED \
	"NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secured connections."
#define AUTH_FAILED	"NO [AUTHENTICATIONFAILED] Authentication failed."

void
imap_login_end(struct imap_login *s, const char *why, const char *answer)
{
	s->c.closing = 0;
	login_conn_reply(&s->c, "* BYE %s", why);
	login_conn_reply(&s->c, "%s %s", s->tag, answer);
	if (login_conn_flush(&s->c) == -1) {
		/* closing anyway */
	}
	s->c.closing = 1;
}

/* Answer the outcome of a check of credentials (nothing for OK: the mail
 * process answers; nothing for GONE). */
static void
imap_login_answer(struct imap_login *s, enum login_auth r)
{
	switch (r) {
	case LOGIN_AUTH_REFUSED:
		login_conn_reply(&s->c, "%s %s", s->tag, AUTH_FAILED);
		break;
	case LOGIN_AUTH_LAST:
		imap_login_end(s, "Too many authentication failures", AUTH_FAILED);
		break;
	case LOGIN_AUTH_TEMP:
		login_conn_reply(&s->c, "%s NO [UNAVAILABLE] Temporary authentication "
		    "failure.", s->tag);
		break;
	case LOGIN_AUTH_INVALID:
		login_conn_bad(&s->c, "Invalid PLAIN response");
		break;
	case LOGIN_AUTH_CANCELLED:
		login_conn_bad(&s->c, "Authentication cancelled");
		break;
	case LOGIN_AUTH_TOOLONG:
		login_conn_bad(&s->c, "Response too long");
		break;
	case LOGIN_AUTH_OK:
	case LOGIN_AUTH_GONE:
		break;
	}
}

void
imap_login_cmd_login(struct imap_login *s, const struct imap_cmd *c)
{
	if (!login_conn_plaintext_ok(&s->c)) {
		login_conn_reply(&s->c, "%s %s", c->tag, PRIVACY_REQUIRED);
		return;
	}
	imap_login_answer(s, login_conn_verify(&s->c, "LOGIN", imap_str(c, c->a), c->a.len,
	    imap_str(c, c->b), c->b.len));
}

/* RFC 3501 6.2.2 with the initial response of RFC 4959: without one, the
 * server sends an empty challenge ("+ ") and reads one line; "*" cancels. */
void
imap_login_cmd_authenticate(struct imap_login *s, const struct imap_cmd *c)
{
	int r;

	if (strcmp(imap_str(c, c->a), "PLAIN") != 0) {
		login_conn_reply(&s->c, "%s NO Unsupported authentication mechanism.", c->tag);
		return;
	}
	if (!login_conn_plaintext_ok(&s->c)) {
		login_conn_reply(&s->c, "%s %s", c->tag, PRIVACY_REQUIRED);
		return;
	}
	if (c->has_ir) {
		imap_login_answer(s, login_conn_plain(&s->c, imap_str(c, c->b), c->b.len));
		return;
	}
	login_conn_reply(&s->c, "+ ");
	if ((r = imap_login_read_line(s, LOGIN_SASL_MAX)) == -1)
		return;
	imap_login_answer(s, r == 0 ? LOGIN_AUTH_TOOLONG : login_conn_plain_line(&s->c));
	imap_login_wipe_input(s);
}
