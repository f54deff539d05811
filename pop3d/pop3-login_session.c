/*
 * pop3-login_session: the AUTHORIZATION-state loop of pop3-login (RFC
 * 1939 4), its dispatch table {verb, handler}, replies and bounded line
 * reads.  Every byte read here comes from the client and is untrusted.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "log.h"
#include "pop3-login_auth.h"
#include "pop3-login_cmds.h"
#include "pop3-login_session.h"
#include "util.h"

/* Pending replies beyond this are written out before more are queued, so
 * a client that pipelines without reading cannot grow our buffer. */
#define POP3_LOGIN_OUT_FLUSH	32768

struct pop3_login_command {
	enum pop3_verb verb;
	void (*handler)(struct pop3_login *, const struct pop3_cmd *);
};

static const struct pop3_login_command pop3_login_commands[] = {
	{ POP3_VERB_CAPA, pop3_login_cmd_capa },
	{ POP3_VERB_QUIT, pop3_login_cmd_quit },
	{ POP3_VERB_STLS, pop3_login_cmd_stls },
	{ POP3_VERB_USER, pop3_login_cmd_user },
	{ POP3_VERB_PASS, pop3_login_cmd_pass },
	{ POP3_VERB_AUTH, pop3_login_cmd_auth },
};

static void __attribute__((format(printf, 2, 0)))
pop3_login_queue(struct pop3_login *s, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT(2048);

	if (buf_vprintf(&b, fmt, ap) == -1 || buf_puts(&b, "\r\n") == -1)
		log_panic("pop3_login_reply: reply too long");
	if (!s->closing && lineio_write(&s->io, b.data, b.len) == -1) {
		log_warn("client %s: reply buffer full; closing", s->client_addr);
		s->closing = 1;
	}
	buf_free(&b);
	if (!s->closing && s->io.out.len > POP3_LOGIN_OUT_FLUSH && pop3_login_flush(s) == -1) {
		/* closing: pop3_login_flush logged it */
	}
}

void
pop3_login_reply(struct pop3_login *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pop3_login_queue(s, fmt, ap);
	va_end(ap);
}

void
pop3_login_bad(struct pop3_login *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT(2048);
	va_list ap;
	int r;

	if (++s->bad >= POP3_LOGIN_MAX_BAD) {
		log_info("too many invalid commands from %s", s->client_addr);
		pop3_login_close(s, "Too many invalid commands");
		return;
	}
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == -1)
		log_panic("pop3_login_bad: reply too long");
	pop3_login_reply(s, "-ERR %s", buf_cstr(&b));
	buf_free(&b);
}

int
pop3_login_flush(struct pop3_login *s)
{
	if (lineio_flush_client(&s->io, pop3_login_timeout_ms(s), s->client_addr) == -1) {
		s->closing = 1;
		return -1;
	}
	return 0;
}

void
pop3_login_close(struct pop3_login *s, const char *text)
{
	if (s->closing)
		return;
	pop3_login_reply(s, "-ERR %s", text);
	if (pop3_login_flush(s) == -1) {
		/* closing anyway */
	}
	s->closing = 1;
}

int
pop3_login_timeout_ms(const struct pop3_login *s)
{
	return timeout_left_ms((int64_t)s->cf->pop3_timeout * 1000, s->deadline_ms);
}

int
pop3_login_plaintext_ok(const struct pop3_login *s)
{
	return login_plaintext_ok(s->cf->pop3_plaintext_auth, s->in_tls,
	    s->client_known ? (const struct sockaddr *)&s->client_sa : NULL);
}

void
pop3_login_wipe_input(struct pop3_login *s)
{
	if (s->line.data != NULL)
		explicit_bzero(s->line.data, s->line.cap);
	explicit_bzero(s->io.in, s->io.inpos);
}

/* Map a failed read to the end of the session (RFC 1939 3: autologout). */
static int
pop3_login_read_failed(struct pop3_login *s, int r)
{
	if (r == LINEIO_TIMEOUT) {
		if (now_ms() >= s->deadline_ms) {
			log_info("session timeout for %s", s->client_addr);
			pop3_login_close(s, "Session time limit exceeded");
		} else {
			log_info("timeout from %s", s->client_addr);
			pop3_login_close(s, "Disconnected for inactivity");
		}
	} else if (r == LINEIO_EOF) {
		log_info("lost connection from %s", s->client_addr);
	} else {
		log_info("read error from %s: %s", s->client_addr, strerror(errno));
	}
	s->closing = 1;
	return -1;
}

int
pop3_login_read_line(struct pop3_login *s, size_t max)
{
	struct buf *l = &s->line;
	int r;

	if (s->closing)
		return -1;
	if (!lineio_has_line(&s->io) && pop3_login_flush(s) == -1)
		return -1;
	if (now_ms() >= s->deadline_ms)
		return pop3_login_read_failed(s, LINEIO_TIMEOUT);
	s->io.timeout_ms = pop3_login_timeout_ms(s);
	r = lineio_read_line(&s->io, l, max);
	if (r == LINEIO_TOOLONG) {
		pop3_login_wipe_input(s);
		r = lineio_skip_line(&s->io);
		if (r != LINEIO_OK)
			return pop3_login_read_failed(s, r);
		pop3_login_bad(s, "Line too long");
		return 0;
	}
	if (r != LINEIO_OK)
		return pop3_login_read_failed(s, r);
	/* CRLF, or a bare LF from a sloppy client: a CR left inside the line
	 * is refused by the parser as a control character */
	buf_truncate(l, l->len - 1);
	if (l->len > 0 && l->data[l->len - 1] == '\r')
		buf_truncate(l, l->len - 1);
	return 1;
}

static void
pop3_login_dispatch(struct pop3_login *s, const struct pop3_cmd *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(pop3_login_commands) / sizeof(pop3_login_commands[0]); i++) {
		if (pop3_login_commands[i].verb == cmd->verb) {
			pop3_login_commands[i].handler(s, cmd);
			return;
		}
	}
	log_panic("pop3-login: no handler for %s", pop3_verb_name(cmd->verb));
}

/* Read, parse and dispatch one command. */
static void
pop3_login_command(struct pop3_login *s)
{
	struct pop3_cmd cmd;
	enum pop3_err e;

	if (pop3_login_read_line(s, POP3_LOGIN_LINE_MAX) != 1)
		return;
	e = pop3_cmd_parse(s->line.data != NULL ? s->line.data : "", s->line.len, &cmd);
	if (e == POP3_E_UNKNOWN)
		pop3_login_bad(s, "Unknown command");
	else if (e == POP3_E_CTRL || e == POP3_E_TOOLONG)
		pop3_login_bad(s, "%s", pop3_err_str(e));
	else if (!pop3_state_allows(POP3_STATE_AUTHORIZATION, cmd.verb))
		pop3_login_bad(s, "Command not valid in this state");
	else if (e != POP3_E_OK)
		pop3_login_bad(s, "%s", pop3_err_str(e));
	else
		pop3_login_dispatch(s, &cmd);
	pop3_cmd_wipe(&cmd);
	pop3_login_wipe_input(s);
}

void
pop3_login_init(struct pop3_login *s, const struct config *cf)
{
	static const char zeros[POP3_LOGIN_SASL_LINE];

	memset(s, 0, sizeof(*s));
	s->cf = cf;
	s->auth_fd = -1;
	buf_init(&s->line, POP3_LOGIN_SASL_LINE);
	/* allocate the line once: a password is never left behind in memory
	 * freed by a reallocation */
	if (buf_append(&s->line, zeros, sizeof(zeros)) == -1)
		log_panic("pop3_login_init: line buffer");
	buf_reset(&s->line);
	s->deadline_ms = now_ms() + (int64_t)cf->pop3_session_timeout * 1000;
	if (str_copy(s->client_addr, sizeof(s->client_addr), "unknown") == -1)
		log_panic("pop3_login_init: client address");
}

void
pop3_login_run(struct pop3_login *s)
{
	lineio_init(&s->io, 0, pop3_login_timeout_ms(s));
	log_info("connect from %s (%s)", s->client_addr, s->listener);
	if (s->implicit_tls && pop3_login_tls_start(s) == -1)
		s->closing = 1;
	else
		pop3_login_reply(s, "+OK postern POP3 ready");
	while (!s->closing)
		pop3_login_command(s);
	if (s->handoff)
		pop3_login_handoff(s);
	else if (pop3_login_flush(s) == -1) {
		/* the peer is gone; nothing more to say */
	}
	log_info("disconnect from %s", s->client_addr);
}

void
pop3_login_free(struct pop3_login *s)
{
	tls_close(&s->tls);	/* also after a failed handshake; idempotent */
	s->in_tls = 0;
	pop3_login_wipe_input(s);
	explicit_bzero(s->user, sizeof(s->user));
	lineio_free(&s->io);
	buf_free_secret(&s->line);
}
