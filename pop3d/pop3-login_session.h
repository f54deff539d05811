/*
 * pop3-login_session: the POP3 side of one pre-authentication session
 * (one pop3-login process per connection): its state beyond the shared
 * struct login_conn (common/login_conn.h), the hooks it plugs in there,
 * and the answers to a check of credentials.  Every byte read here comes
 * from the client and is untrusted.
 */
#ifndef POSTERN_POP3_LOGIN_SESSION_H
#define POSTERN_POP3_LOGIN_SESSION_H
#include "login_conn.h"
#include "pop3_cmd.h"

/* RFC 2449 4: a command line is at most 255 octets with its CRLF. */
#define POP3_LOGIN_LINE_MAX	255
/* An AUTH continuation line: the encoded PLAIN response and CRLF. */
#define POP3_LOGIN_SASL_LINE	(POP3_SASL_MAX + 2)

struct pop3_login {
	struct login_conn c;		/* first: what the hooks get */
	char user[LOGIN_USER_MAX + 1];	/* USER, until PASS or STLS */
	int has_user;
};

/* greeting, command loop, "-ERR" answers (login_main runs them). */
extern const struct login_proto pop3_login_proto;

/* The session whose struct login_conn is c. */
static inline struct pop3_login *
pop3_login_of(struct login_conn *c)
{
	return (struct pop3_login *)(void *)c;
}

/* Answer the outcome of a check of credentials (nothing for OK: the mail
 * process answers; nothing for GONE). */
void pop3_login_answer(struct pop3_login *s, enum login_auth r);
#endif
