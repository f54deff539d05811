/*
 * pop3-login_session: the AUTHORIZATION state of pop3-login (RFC 1939 4):
 * its dispatch table {verb, handler}, the reading and parsing of a command
 * and the POP3 words of the shared session (common/login_conn.c).  Every
 * byte read here comes from the client and is untrusted.
 */
#include <string.h>

#include "log.h"
#include "pop3-login_auth.h"
#include "pop3-login_cmds.h"
#include "pop3-login_session.h"

/* The handler of each verb allowed before login (pop3_state_allows). */
static void (*const pop3_login_commands[POP3_VERB_COUNT])(struct pop3_login *,
    const struct pop3_cmd *) = {
	[POP3_VERB_CAPA] = pop3_login_cmd_capa,
	[POP3_VERB_QUIT] = pop3_login_cmd_quit,
	[POP3_VERB_STLS] = pop3_login_cmd_stls,
	[POP3_VERB_USER] = pop3_login_cmd_user,
	[POP3_VERB_PASS] = pop3_login_cmd_pass,
	[POP3_VERB_AUTH] = pop3_login_cmd_auth,
};

void
pop3_login_answer(struct pop3_login *s, enum login_auth r)
{
	struct login_conn *c = &s->c;

	switch (r) {
	case LOGIN_AUTH_REFUSED:
		login_conn_reply(c, "-ERR [AUTH] Authentication failed");
		break;
	case LOGIN_AUTH_LAST:
		login_conn_bye(c, "[AUTH] Too many authentication failures");
		break;
	case LOGIN_AUTH_TEMP:
		login_conn_reply(c, "-ERR [SYS/TEMP] Temporary authentication failure");
		break;
	case LOGIN_AUTH_INVALID:
		login_conn_bad(c, "Invalid PLAIN response");
		break;
	case LOGIN_AUTH_CANCELLED:
		login_conn_reply(c, "-ERR Authentication cancelled");
		break;
	case LOGIN_AUTH_TOOLONG:
		login_conn_bad(c, "Line too long");
		break;
	case LOGIN_AUTH_OK:
	case LOGIN_AUTH_GONE:
		break;
	}
}

static void
pop3_login_dispatch(struct pop3_login *s, const struct pop3_cmd *cmd)
{
	if ((unsigned)cmd->verb >= POP3_VERB_COUNT || pop3_login_commands[cmd->verb] == NULL)
		log_panic("pop3-login: no handler for %s", pop3_verb_name(cmd->verb));
	pop3_login_commands[cmd->verb](s, cmd);
}

/* Read, parse and dispatch one command. */
static void
pop3_login_command(struct login_conn *c)
{
	struct pop3_cmd cmd;
	enum pop3_err e;
	int r;

	if ((r = login_conn_read_line(c, POP3_LOGIN_LINE_MAX)) != 1) {
		if (r == 0) {
			login_conn_wipe(c);
			login_conn_bad(c, "Line too long");
		}
		return;
	}
	e = pop3_cmd_parse(c->line.data != NULL ? c->line.data : "", c->line.len, &cmd);
	if (e == POP3_E_UNKNOWN)
		login_conn_bad(c, "Unknown command");
	else if (e == POP3_E_CTRL || e == POP3_E_TOOLONG)
		login_conn_bad(c, "%s", pop3_err_str(e));
	else if (!pop3_state_allows(POP3_STATE_AUTHORIZATION, cmd.verb))
		login_conn_bad(c, "Command not valid in this state");
	else if (e != POP3_E_OK)
		login_conn_bad(c, "%s", pop3_err_str(e));
	else
		pop3_login_dispatch(pop3_login_of(c), &cmd);
	pop3_cmd_wipe(&cmd);
	login_conn_wipe(c);
}

static void
pop3_login_init(struct login_conn *c)
{
	const struct config *cf = c->cf;

	c->idle_ms = (int64_t)cf->pop3_timeout * 1000;
	c->session_ms = (int64_t)cf->pop3_session_timeout * 1000;
	c->proxy_ms = (int)cf->pop3_timeout * 1000;
	c->plaintext = cf->pop3_plaintext_auth;
}

static void
pop3_login_greeting(struct login_conn *c)
{
	login_conn_reply(c, "+OK postern POP3 ready");
}

static void
pop3_login_bad(struct login_conn *c, const char *text)
{
	login_conn_reply(c, "-ERR %s", text);
}

static void
pop3_login_unavailable(struct login_conn *c)
{
	login_conn_bye(c, "[SYS/TEMP] Cannot open the mailbox now, try again later");
}

static void
pop3_login_free(struct login_conn *c)
{
	struct pop3_login *s = pop3_login_of(c);

	explicit_bzero(s->user, sizeof(s->user));
}

const struct login_proto pop3_login_proto = {
	.prog = "pop3-login",
	.service = "pop3",
	.service_tls = "pop3s",
	.bye = "-ERR ",
	.line_max = POP3_LOGIN_SASL_LINE,
	.init = pop3_login_init,
	.greeting = pop3_login_greeting,
	.command = pop3_login_command,
	.bad = pop3_login_bad,
	.unavailable = pop3_login_unavailable,
	.free = pop3_login_free,
};
