/*
 * pop3-login_auth: USER/PASS and AUTH PLAIN.  pop3-login never sees a
 * password hash: the credentials go to the auth service (through
 * login_conn_verify), which delays a refusal and counts failures per
 * client address; every copy of a password here is wiped right after.  On
 * success nothing is answered: the mail process answers the
 * authenticating command (docs/login.md).
 */
#include <string.h>

#include "pop3-login_auth.h"

#define PLAINTEXT_REFUSED \
	"[AUTH] Plaintext authentication disallowed on non-secured connections"

void
pop3_login_cmd_pass(struct pop3_login *s, const struct pop3_cmd *c)
{
	char user[LOGIN_USER_MAX + 1];

	if (!login_conn_plaintext_ok(&s->c)) {
		login_conn_bad(&s->c, PLAINTEXT_REFUSED);
		return;
	}
	if (!s->has_user) {
		login_conn_bad(&s->c, "No username given");
		return;
	}
	/* RFC 1939 7: after PASS, successful or not, USER starts over */
	memcpy(user, s->user, sizeof(user));
	explicit_bzero(s->user, sizeof(s->user));
	s->has_user = 0;
	pop3_login_answer(s, login_conn_verify(&s->c, "USER", user, strlen(user), c->arg,
	    c->arglen));
	explicit_bzero(user, sizeof(user));
}

/* RFC 5034 4; a bare AUTH lists the mechanisms (the de-facto extension
 * many clients probe with). */
void
pop3_login_cmd_auth(struct pop3_login *s, const struct pop3_cmd *c)
{
	int r;

	if (c->arglen == 0) {
		login_conn_reply(&s->c, "+OK");
		if (login_conn_plaintext_ok(&s->c))
			login_conn_reply(&s->c, "PLAIN");
		login_conn_reply(&s->c, ".");
		return;
	}
	if (strcmp(c->arg, "PLAIN") != 0) {
		login_conn_bad(&s->c, "Unsupported authentication mechanism");
		return;
	}
	if (!login_conn_plaintext_ok(&s->c)) {
		login_conn_bad(&s->c, PLAINTEXT_REFUSED);
		return;
	}
	if (c->has_ir) {
		pop3_login_answer(s, login_conn_plain(&s->c, c->ir, c->irlen));
		return;
	}
	login_conn_reply(&s->c, "+ ");
	if ((r = login_conn_read_line(&s->c, POP3_LOGIN_SASL_LINE)) == -1)
		return;
	pop3_login_answer(s, r == 0 ? LOGIN_AUTH_TOOLONG : login_conn_plain_line(&s->c));
	login_conn_wipe(&s->c);
}
