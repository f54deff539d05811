/*
 * smtpd_cmds: EHLO, HELO, MAIL, RSET, NOOP, QUIT, VRFY and HELP.  The
 * arguments come from the client; they are parsed by common/smtp_parse
 * and only the normalized results are kept.
 */
#include <bsd/string.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "smtpd_cmds.h"
#include "smtpd_session.h"

static const char *
arg_of(const struct smtp_cmd *c)
{
	return c->arg != NULL ? c->arg : "";
}

const char *
smtpd_protocol_name(const struct smtpd *s)
{
	static const char *names[2][4] = {
		{ "ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA" },
		{ "UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA" },
	};

	if (!s->esmtp)
		return "SMTP";
	return names[s->smtputf8 ? 1 : 0][(s->in_tls ? 2 : 0) + (s->authenticated ? 1 : 0)];
}

/* Common part of EHLO and HELO: 1 if the argument was acceptable. */
static int
smtpd_greet(struct smtpd *s, const struct smtp_cmd *c, int esmtp)
{
	struct smtp_helo h;

	if (smtp_helo_parse(arg_of(c), c->arglen, &h) != SMTP_P_OK) {
		smtpd_reply(s, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return 0;
	}
	smtpd_reset_transaction(s);
	if (strlcpy(s->helo, h.name, sizeof(s->helo)) >= sizeof(s->helo))
		log_panic("helo name longer than SMTP_DOMAIN_MAX");
	s->esmtp = esmtp;
	s->state = SMTPD_S_GREETED;
	return 1;
}

void
smtpd_cmd_ehlo(struct smtpd *s, const struct smtp_cmd *c)
{
	if (!smtpd_greet(s, c, 1))
		return;
	smtpd_reply_raw(s, "250-%s", s->cf->hostname);
	smtpd_reply_raw(s, "250-PIPELINING");
	smtpd_reply_raw(s, "250-SIZE %llu", (unsigned long long)s->cf->message_size);
	smtpd_reply_raw(s, "250-8BITMIME");
	smtpd_reply_raw(s, "250-ENHANCEDSTATUSCODES");
	if (s->tls_ctx != NULL && !s->in_tls)
		smtpd_reply_raw(s, "250-STARTTLS");
	if (s->in_tls)
		smtpd_reply_raw(s, "250-AUTH PLAIN LOGIN");
	smtpd_reply_raw(s, "250-CHUNKING");
	smtpd_reply_raw(s, "250-SMTPUTF8");
	smtpd_reply_raw(s, "250 DSN");
}

void
smtpd_cmd_helo(struct smtpd *s, const struct smtp_cmd *c)
{
	if (smtpd_greet(s, c, 0))
		smtpd_reply_raw(s, "250 %s", s->cf->hostname);
}

/* The reply for a MAIL argument the parser refused. */
static void
smtpd_mail_error(struct smtpd *s, enum smtp_perr e)
{
	const char *what;

	switch (e) {
	case SMTP_P_BADADDR:
		what = "bad sender address syntax";
		break;
	case SMTP_P_UTF8:
		what = "non-ASCII sender address needs SMTPUTF8";
		break;
	case SMTP_P_PARAM:
		what = "parameter not supported";
		break;
	case SMTP_P_PARAMVAL:
		what = "bad parameter value";
		break;
	default:
		what = "syntax: MAIL FROM:<address> [parameters]";
		break;
	}
	smtpd_reply(s, smtp_perr_code(e), smtp_perr_enhanced(e, 1), "Error: %s", what);
}

void
smtpd_cmd_mail(struct smtpd *s, const struct smtp_cmd *c)
{
	struct smtp_mail m;
	enum smtp_perr e;
	struct envelope *env = &s->env;

	if (s->listener != SMTPD_SMTP && !s->authenticated) {
		smtpd_reply(s, 530, "5.7.0", "Authentication required");
		return;
	}
	e = smtp_mail_parse(arg_of(c), c->arglen, smtpd_extensions(s), &m);
	if (e != SMTP_P_OK) {
		smtpd_mail_error(s, e);
		return;
	}
	if (m.body == SMTP_BODY_BINARYMIME) {
		smtpd_reply(s, 555, "5.5.4", "Error: BODY=BINARYMIME not supported");
		return;
	}
	if (m.has_size && m.size > s->cf->message_size) {
		smtpd_reply(s, 552, "5.3.4", "Error: message size exceeds fixed limit");
		return;
	}
	smtpd_reset_transaction(s);
	s->smtputf8 = m.smtputf8;
	/* the queue assigns the real id and arrival time (docs/queue.md) */
	if (str_copy(env->id, sizeof(env->id), "new") == -1)
		log_panic("envelope id");
	env->arrival = (int64_t)time(NULL);
	envelope_set(&env->sender, m.from.addr);
	envelope_set(&env->envid, m.has_envid ? m.envid : NULL);
	env->ret = m.ret;
	env->body = m.body;
	env->smtputf8 = m.smtputf8 ? 1 : 0;
	envelope_set(&env->client_addr, s->client_addr);
	envelope_set(&env->client_helo, s->helo);
	envelope_set(&env->auth_id, s->authenticated ? s->auth_user : NULL);
	envelope_set(&env->protocol, smtpd_protocol_name(s));
	/* id, arrival, strings: generously bounded in the estimate */
	s->env_estimate = 256 + 3 * (strlen(env->sender) + strlen(s->helo) +
	    strlen(s->auth_user) + SMTP_ENVID_MAX) + 200;
	s->state = SMTPD_S_MAIL;
	smtpd_reply(s, 250, "2.1.0", "Ok");
}

void
smtpd_cmd_rset(struct smtpd *s, const struct smtp_cmd *c)
{
	smtpd_reset_transaction(s);
	smtpd_reply(s, 250, "2.0.0", "Ok");
}

void
smtpd_cmd_noop(struct smtpd *s, const struct smtp_cmd *c)
{
	smtpd_reply(s, 250, "2.0.0", "Ok");
}

void
smtpd_cmd_quit(struct smtpd *s, const struct smtp_cmd *c)
{
	smtpd_reply(s, 221, "2.0.0", "Bye");
	s->closing = 1;
}

/* VRFY never discloses whether a user exists (RFC 5321 3.5.3, 7.3). */
void
smtpd_cmd_vrfy(struct smtpd *s, const struct smtp_cmd *c)
{
	if (c->arglen == 0) {
		smtpd_reply(s, 501, "5.5.4", "Syntax: VRFY address");
		return;
	}
	smtpd_reply(s, 252, "2.5.0",
	    "Cannot VRFY user, but will accept message and attempt delivery");
}

void
smtpd_cmd_help(struct smtpd *s, const struct smtp_cmd *c)
{
	smtpd_reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP "
	    "QUIT VRFY HELP STARTTLS AUTH; see RFC 5321");
}
