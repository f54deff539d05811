/*
 * smtpd_session: the command loop of one SMTP session, its dispatch table
 * {verb, handler, allowed states, flags}, replies and bounded line reads.
 * Every byte read here comes from the client and is untrusted.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "smtpd_auth.h"
#include "smtpd_cmds.h"
#include "smtpd_data.h"
#include "smtpd_rcpt.h"
#include "smtpd_session.h"
#include "smtpd_tls.h"
#include "util.h"

/* Pending replies beyond this are written out before more are queued, so
 * a client that pipelines without reading cannot grow our buffer. */
#define SMTPD_OUT_FLUSH	32768

#define F_OWNSTATE	0x01	/* the handler checks the state itself (BDAT
				   must consume its chunk whatever the state) */

struct smtpd_command {
	enum smtp_verb verb;
	void (*handler)(struct smtpd *, const struct smtp_cmd *);
	int states;		/* SMTPD_S_* in which the verb is allowed */
	int flags;
};

#define S_NOTXN	(SMTPD_S_CONNECT | SMTPD_S_GREETED)
#define S_SAFE	(SMTPD_S_ANY)

static const struct smtpd_command smtpd_commands[] = {
	{ SMTP_VERB_EHLO, smtpd_cmd_ehlo, S_SAFE, 0 },
	{ SMTP_VERB_HELO, smtpd_cmd_helo, S_SAFE, 0 },
	{ SMTP_VERB_MAIL, smtpd_cmd_mail, SMTPD_S_GREETED, 0 },
	{ SMTP_VERB_RCPT, smtpd_cmd_rcpt, SMTPD_S_MAIL | SMTPD_S_RCPT, 0 },
	{ SMTP_VERB_DATA, smtpd_cmd_data, SMTPD_S_RCPT, 0 },
	{ SMTP_VERB_BDAT, smtpd_cmd_bdat, SMTPD_S_RCPT | SMTPD_S_BDAT, F_OWNSTATE },
	{ SMTP_VERB_RSET, smtpd_cmd_rset, S_SAFE, 0 },
	{ SMTP_VERB_NOOP, smtpd_cmd_noop, S_SAFE, 0 },
	{ SMTP_VERB_QUIT, smtpd_cmd_quit, S_SAFE, 0 },
	{ SMTP_VERB_VRFY, smtpd_cmd_vrfy, S_SAFE, 0 },
	{ SMTP_VERB_HELP, smtpd_cmd_help, S_SAFE, 0 },
	{ SMTP_VERB_STARTTLS, smtpd_cmd_starttls, SMTPD_S_GREETED, 0 },
	{ SMTP_VERB_AUTH, smtpd_cmd_auth, SMTPD_S_GREETED, 0 },
};

static void
smtpd_queue_out(struct smtpd *s, const struct buf *b)
{
	if (s->closing)
		return;
	if (lineio_write(&s->io, b->data, b->len) == -1) {
		log_warn("client %s: reply buffer full; closing", s->client_addr);
		s->closing = 1;
		return;
	}
	if (s->io.out.len > SMTPD_OUT_FLUSH && smtpd_flush(s) == -1)
		return;
}

void
smtpd_reply(struct smtpd *s, int code, const char *ecode, const char *fmt, ...)
{
	struct buf b = BUF_INIT(2048);
	va_list ap;
	int r;

	if (ecode != NULL)
		r = buf_printf(&b, "%d %s ", code, ecode);
	else
		r = buf_printf(&b, "%d ", code);
	va_start(ap, fmt);
	if (r == 0)
		r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == -1 || buf_puts(&b, "\r\n") == -1)
		log_panic("smtpd_reply: reply too long");
	if (code >= 500)
		s->errors++;
	smtpd_queue_out(s, &b);
	buf_free(&b);
}

void
smtpd_reply_raw(struct smtpd *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT(2048);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == -1 || buf_puts(&b, "\r\n") == -1)
		log_panic("smtpd_reply_raw: reply too long");
	smtpd_queue_out(s, &b);
	buf_free(&b);
}

int
smtpd_flush(struct smtpd *s)
{
	if (lineio_flush_client(&s->io, smtpd_timeout_ms(s), s->client_addr) == -1) {
		s->closing = 1;
		return -1;
	}
	return 0;
}

void
smtpd_close(struct smtpd *s, const char *ecode, const char *text)
{
	if (s->closing)
		return;
	smtpd_reply(s, 421, ecode, "%s %s", s->cf->hostname, text);
	if (smtpd_flush(s) == -1) {
		/* closing anyway */
	}
	s->closing = 1;
}

int
smtpd_timeout_ms(const struct smtpd *s)
{
	return timeout_left_ms((int64_t)s->cf->smtpd_timeout * 1000, s->deadline_ms);
}

/* Map a failed line read to the end of the session. */
static int
smtpd_read_failed(struct smtpd *s, int r)
{
	if (r == LINEIO_TIMEOUT) {
		log_info("timeout after %s from %s", s->state & SMTPD_S_CONNECT ?
		    "CONNECT" : "command", s->client_addr);
		smtpd_close(s, "4.4.2", "Error: timeout exceeded");
	} else if (r == LINEIO_EOF) {
		log_info("lost connection from %s", s->client_addr);
	} else {
		log_info("read error from %s: %s", s->client_addr, strerror(errno));
	}
	s->closing = 1;
	return -1;
}

/* Before any blocking read: flush the replies if the client is waiting for
 * them, check the session deadline, set the read timeout.  0/-1. */
static int
smtpd_read_prepare(struct smtpd *s)
{
	if (s->closing)
		return -1;
	if (!lineio_has_line(&s->io) && smtpd_flush(s) == -1)
		return -1;
	if (now_ms() >= s->deadline_ms) {
		log_info("session timeout for %s", s->client_addr);
		smtpd_close(s, "4.4.2", "Error: session timeout exceeded");
		return -1;
	}
	s->io.timeout_ms = smtpd_timeout_ms(s);
	return 0;
}

int
smtpd_read_line(struct smtpd *s, size_t max)
{
	struct buf *l = &s->line;
	int r;

	if (smtpd_read_prepare(s) == -1)
		return -1;
	r = lineio_read_line(&s->io, l, max);
	if (r == LINEIO_TOOLONG) {
		r = lineio_skip_line(&s->io);
		if (r != LINEIO_OK)
			return smtpd_read_failed(s, r);
		smtpd_reply(s, 500, "5.5.2", "Error: line too long");
		return 0;
	}
	if (r != LINEIO_OK)
		return smtpd_read_failed(s, r);
	if (l->len < 2 || l->data[l->len - 2] != '\r') {
		smtpd_reply(s, 500, "5.5.2", "Error: bare LF not allowed; end lines with CRLF");
		return 0;
	}
	buf_truncate(l, l->len - 2);
	return 1;
}

int
smtpd_read_raw(struct smtpd *s, size_t max)
{
	int r;

	if (smtpd_read_prepare(s) == -1)
		return -1;
	r = lineio_read_line(&s->io, &s->line, max);
	if (r == LINEIO_OK || r == LINEIO_TOOLONG)
		return r;
	return smtpd_read_failed(s, r);
}

long
smtpd_read_bytes(struct smtpd *s, void *p, size_t n)
{
	long r;

	if (smtpd_read_prepare(s) == -1)
		return -1;
	r = lineio_read(&s->io, p, n);
	if (r > 0)
		return r;
	return smtpd_read_failed(s, r == 0 ? LINEIO_EOF : (int)r);
}

unsigned
smtpd_extensions(const struct smtpd *s)
{
	unsigned ext;

	if (!s->esmtp)
		return 0;
	ext = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 | SMTP_EXT_DSN |
	    SMTP_EXT_CHUNKING;
	if (s->in_tls)
		ext |= SMTP_EXT_AUTH;
	return ext;
}

void
smtpd_reset_transaction(struct smtpd *s)
{
	smtpd_msg_discard(s);
	envelope_free(&s->env);
	s->env_estimate = 0;
	s->smtputf8 = 0;
	s->bdat_used = 0;
	if (s->state != SMTPD_S_CONNECT)
		s->state = SMTPD_S_GREETED;
	log_set_qid(NULL);
}

/* The reply for a verb that is known but not allowed in this state. */
static void
smtpd_out_of_sequence(struct smtpd *s, enum smtp_verb v)
{
	if (s->state == SMTPD_S_CONNECT)
		smtpd_reply(s, 503, "5.5.1", "Error: send EHLO/HELO first");
	else if (s->state == SMTPD_S_BDAT)
		smtpd_reply(s, 503, "5.5.1", "Error: %s not allowed during BDAT transfer",
		    smtp_verb_name(v));
	else if (v == SMTP_VERB_MAIL)
		smtpd_reply(s, 503, "5.5.1", "Error: nested MAIL command");
	else if ((v == SMTP_VERB_RCPT || v == SMTP_VERB_DATA) && s->state == SMTPD_S_GREETED)
		smtpd_reply(s, 503, "5.5.1", "Error: need MAIL command");
	else if (v == SMTP_VERB_DATA)
		smtpd_reply(s, 554, "5.5.1", "Error: no valid recipients");
	else
		smtpd_reply(s, 503, "5.5.1", "Error: %s not allowed during a mail transaction",
		    smtp_verb_name(v));
}

/*
 * Split the command line.  AUTH lines may be up to 12288 octets (RFC 4954),
 * longer than smtp_cmd_parse accepts: its argument goes to smtp_auth_parse,
 * which checks every octet.
 */
static enum smtp_perr
smtpd_parse(struct smtpd *s, struct smtp_cmd *cmd)
{
	const char *p = s->line.data;
	size_t n = s->line.len;

	if (n <= SMTP_CMD_MAX || n < 5 || strncasecmp(p, "AUTH ", 5) != 0)
		return smtp_cmd_parse(p != NULL ? p : "", n, cmd);
	cmd->verb = SMTP_VERB_AUTH;
	cmd->arg = p + 5;
	cmd->arglen = n - 5;
	while (cmd->arglen > 0 && (cmd->arg[cmd->arglen - 1] == ' ' ||
	    cmd->arg[cmd->arglen - 1] == '\t'))
		cmd->arglen--;
	return SMTP_P_OK;
}

/* Read, parse and dispatch one command. */
static void
smtpd_command(struct smtpd *s)
{
	struct smtp_cmd cmd;
	enum smtp_perr e;
	size_t i;

	if (smtpd_read_line(s, SMTPD_AUTH_LINE_MAX) != 1)
		return;
	e = smtpd_parse(s, &cmd);
	if (e == SMTP_P_UNKNOWN) {
		smtpd_reply(s, 500, "5.5.1", "Error: command not recognized");
		return;
	}
	if (e != SMTP_P_OK) {
		smtpd_reply(s, smtp_perr_code(e), smtp_perr_enhanced(e, 0), "Error: %s",
		    e == SMTP_P_TOOLONG ? "line too long" : "syntax error");
		return;
	}
	for (i = 0; i < sizeof(smtpd_commands) / sizeof(smtpd_commands[0]); i++) {
		const struct smtpd_command *c = &smtpd_commands[i];

		if (c->verb != cmd.verb)
			continue;
		if (!(c->flags & F_OWNSTATE) && !(c->states & s->state))
			smtpd_out_of_sequence(s, cmd.verb);
		else
			c->handler(s, &cmd);
		return;
	}
	smtpd_reply(s, 500, "5.5.1", "Error: command not recognized");
}

void
smtpd_session_init(struct smtpd *s, const struct config *cf)
{
	memset(s, 0, sizeof(*s));
	s->cf = cf;
	s->auth_fd = -1;
	s->state = SMTPD_S_CONNECT;
	buf_init(&s->line, SMTPD_AUTH_LINE_MAX);
	envelope_init(&s->env);
	s->start_ms = now_ms();
	s->deadline_ms = s->start_ms + (int64_t)cf->smtpd_session_timeout * 1000;
	smtpd_queue_init(&s->queue, -1, (int)cf->smtpd_timeout * 1000);
}

void
smtpd_session_run(struct smtpd *s)
{
	lineio_init(&s->io, 0, smtpd_timeout_ms(s));
	log_info("connect from %s (%s)", s->client_addr, s->listener_name);
	if (s->listener == SMTPD_SMTPS && smtpd_tls_start(s) == -1)
		s->closing = 1;
	else
		smtpd_reply_raw(s, "220 %s ESMTP postern", s->cf->hostname);
	while (!s->closing) {
		smtpd_command(s);
		if (!s->closing && s->errors >= s->cf->smtpd_max_errors) {
			log_info("too many errors from %s", s->client_addr);
			smtpd_close(s, "4.7.0", "Error: too many errors");
		}
	}
	if (smtpd_flush(s) == -1) {
		/* the peer is gone; nothing more to say */
	}
	smtpd_reset_transaction(s);
	smtpd_queue_abort(&s->queue);
	if (s->in_tls)
		tls_close(&s->tls);
	log_info("disconnect from %s", s->client_addr);
	lineio_free(&s->io);
	buf_free(&s->line);
}
