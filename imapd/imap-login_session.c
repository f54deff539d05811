/*
 * imap-login_session: the not-authenticated state of imap-login (RFC 3501
 * 3.1, 6.1, 6.2), its dispatch table {verb, handler}, replies and bounded
 * reads of whole commands with their literals (imap_reader).  Every byte
 * read here comes from the client and is untrusted.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "imap-login_auth.h"
#include "imap-login_cmds.h"
#include "imap-login_session.h"
#include "log.h"
#include "util.h"

/* Pending replies beyond this are written out before more are queued, so
 * a client that pipelines without reading cannot grow our buffer. */
#define IMAP_LOGIN_OUT_FLUSH	32768

struct imap_login_command {
	enum imap_verb verb;
	void (*handler)(struct imap_login *, const struct imap_cmd *);
};

static const struct imap_login_command imap_login_commands[] = {
	{ IMAP_V_CAPABILITY, imap_login_cmd_capability },
	{ IMAP_V_NOOP, imap_login_cmd_noop },
	{ IMAP_V_LOGOUT, imap_login_cmd_logout },
	{ IMAP_V_STARTTLS, imap_login_cmd_starttls },
	{ IMAP_V_ID, imap_login_cmd_id },
	{ IMAP_V_LOGIN, imap_login_cmd_login },
	{ IMAP_V_AUTHENTICATE, imap_login_cmd_authenticate },
};

static void __attribute__((format(printf, 2, 0)))
imap_login_queue(struct imap_login *s, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT(2048);

	if (buf_vprintf(&b, fmt, ap) == -1 || buf_puts(&b, "\r\n") == -1)
		log_panic("imap_login_reply: reply too long");
	if (!s->closing && lineio_write(&s->io, b.data, b.len) == -1) {
		log_warn("client %s: reply buffer full; closing", s->client_addr);
		s->closing = 1;
	}
	buf_free(&b);
	if (!s->closing && s->io.out.len > IMAP_LOGIN_OUT_FLUSH && imap_login_flush(s) == -1) {
		/* closing: imap_login_flush logged it */
	}
}

void
imap_login_reply(struct imap_login *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	imap_login_queue(s, fmt, ap);
	va_end(ap);
}

void
imap_login_bad(struct imap_login *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT(2048);
	va_list ap;
	int r;

	if (++s->bad >= IMAP_LOGIN_MAX_BAD) {
		log_info("too many invalid commands from %s", s->client_addr);
		imap_login_bye(s, "Too many invalid commands");
		return;
	}
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == -1)
		log_panic("imap_login_bad: reply too long");
	imap_login_reply(s, "%s BAD %s", s->tag, buf_cstr(&b));
	buf_free(&b);
}

int
imap_login_flush(struct imap_login *s)
{
	if (lineio_flush_client(&s->io, imap_login_timeout_ms(s), s->client_addr) == -1) {
		s->closing = 1;
		return -1;
	}
	return 0;
}

void
imap_login_bye(struct imap_login *s, const char *text)
{
	if (s->closing)
		return;
	imap_login_reply(s, "* BYE %s", text);
	if (imap_login_flush(s) == -1) {
		/* closing anyway */
	}
	s->closing = 1;
}

int
imap_login_timeout_ms(const struct imap_login *s)
{
	time_t idle = s->cf->imap_timeout < IMAP_LOGIN_IDLE_MAX ? s->cf->imap_timeout :
	    IMAP_LOGIN_IDLE_MAX;

	return timeout_left_ms((int64_t)idle * 1000, s->deadline_ms);
}

int
imap_login_plaintext_ok(const struct imap_login *s)
{
	return login_plaintext_ok(s->cf->imap_plaintext_auth, s->in_tls,
	    s->client_known ? (const struct sockaddr *)&s->client_sa : NULL);
}

void
imap_login_wipe_input(struct imap_login *s)
{
	if (s->line.data != NULL)
		explicit_bzero(s->line.data, s->line.cap);
	if (s->cmdbuf.data != NULL)
		explicit_bzero(s->cmdbuf.data, s->cmdbuf.cap);
	buf_reset(&s->cmdbuf);
	explicit_bzero(s->io.in, s->io.inpos);
}

/* Map a failed read to the end of the session (RFC 3501 5.4: autologout
 * with an untagged BYE). */
static int
imap_login_read_failed(struct imap_login *s, int r)
{
	if (r == LINEIO_TIMEOUT) {
		if (now_ms() >= s->deadline_ms) {
			log_info("session timeout for %s", s->client_addr);
			imap_login_bye(s, "Session time limit exceeded");
		} else {
			log_info("timeout from %s", s->client_addr);
			imap_login_bye(s, "Disconnected for inactivity");
		}
	} else if (r == LINEIO_EOF) {
		log_info("lost connection from %s", s->client_addr);
	} else {
		log_info("read error from %s: %s", s->client_addr, strerror(errno));
	}
	s->closing = 1;
	return -1;
}

/* Before a read that may block: flush, and check the deadline.  0/-1. */
static int
imap_login_before_read(struct imap_login *s, int has_input)
{
	if (s->closing)
		return -1;
	if (!has_input && imap_login_flush(s) == -1)
		return -1;
	if (now_ms() >= s->deadline_ms)
		return imap_login_read_failed(s, LINEIO_TIMEOUT);
	s->io.timeout_ms = imap_login_timeout_ms(s);
	return 0;
}

int
imap_login_read_line(struct imap_login *s, size_t max)
{
	struct buf *l = &s->line;
	int r;

	if (imap_login_before_read(s, lineio_has_line(&s->io)) == -1)
		return -1;
	r = lineio_read_line(&s->io, l, max + 2);
	if (r == LINEIO_TOOLONG) {
		r = lineio_skip_line(&s->io);
		return r == LINEIO_OK ? 0 : imap_login_read_failed(s, r);
	}
	if (r != LINEIO_OK)
		return imap_login_read_failed(s, r);
	/* CRLF, or a bare LF from a sloppy client: a CR left inside the line
	 * is refused by the parser as a syntax error */
	buf_truncate(l, l->len - 1);
	if (l->len > 0 && l->data[l->len - 1] == '\r')
		buf_truncate(l, l->len - 1);
	if (l->len > max) {
		r = 0;		/* max + 1 octets and LF: over the limit too */
		buf_reset(l);
	}
	return r == 0 ? 0 : 1;
}

/* Read n octets of a literal, appended to out (NULL: dropped).  0/-1. */
static int
imap_login_read_literal(struct imap_login *s, struct buf *out, size_t n)
{
	char chunk[4096];
	long r;

	while (n > 0) {
		if (imap_login_before_read(s, s->io.inpos < s->io.inlen) == -1)
			return -1;
		r = lineio_read(&s->io, chunk, n < sizeof(chunk) ? n : sizeof(chunk));
		if (r <= 0)
			return imap_login_read_failed(s, r == 0 ? LINEIO_EOF : (int)r);
		if (out != NULL && buf_append(out, chunk, (size_t)r) == -1)
			log_panic("imap-login: literal beyond the command limit");
		n -= (size_t)r;
	}
	explicit_bzero(chunk, sizeof(chunk));
	return 0;
}

/* The tag at the start of a command's first line, or "*" (RFC 3501 7.1:
 * a BAD that cannot be tied to a command is untagged). */
static void
imap_login_set_tag(struct imap_login *s, const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n);
	size_t len = sp != NULL ? (size_t)(sp - p) : n;

	if (!login_tag_valid(p, len) || len > IMAP_TAG_MAX)
		len = 0;
	memcpy(s->tag, len > 0 ? p : "*", len > 0 ? len : 1);
	s->tag[len > 0 ? len : 1] = '\0';
}

/* The reader refused a line: answer, and skip a non-synchronising
 * literal that is coming anyway (or hang up on a huge one).  0. */
static int
imap_login_reader_error(struct imap_login *s, const struct imap_reader *r,
    enum imap_err e)
{
	int k;

	if ((e == IMAP_E_TOOBIG || e == IMAP_E_LIMIT) && !r->lit_sync) {
		if (r->lit_len > IMAP_LOGIN_DROP_MAX) {
			log_info("non-synchronising literal of %u octets from %s",
			    r->lit_len, s->client_addr);
			imap_login_reply(s, "%s BAD %s", s->tag, imap_err_str(e));
			imap_login_bye(s, "Literal too large");
			return 0;
		}
		/* the literal and the rest of its command line */
		if (imap_login_read_literal(s, NULL, r->lit_len) == -1)
			return 0;
		if ((k = lineio_skip_line(&s->io)) != LINEIO_OK) {
			imap_login_read_failed(s, k);
			return 0;
		}
	}
	imap_login_bad(s, "%s", imap_err_str(e));
	return 0;
}

/* Read one whole command into s->cmdbuf (lines, CRLFs and literals, no
 * final CRLF), sending "+" for synchronising literals.  1 a command; 0
 * refused (answered); -1 the session is closing. */
static int
imap_login_read_command(struct imap_login *s)
{
	struct imap_reader r;
	enum imap_rstat st;
	enum imap_err e;
	int k;

	imap_reader_init(&r, IMAP_LOGIN_CMD_MAX, IMAP_LOGIN_LITERAL_MAX);
	buf_reset(&s->cmdbuf);
	for (;;) {
		if ((k = imap_login_read_line(s, IMAP_LOGIN_LINE_MAX)) == -1)
			return -1;
		if (s->cmdbuf.len == 0)
			imap_login_set_tag(s, s->line.data != NULL ? s->line.data : "",
			    s->line.len);
		if (k == 0) {
			imap_login_bad(s, "%s", imap_err_str(IMAP_E_TOOLONG));
			return 0;
		}
		st = imap_reader_line(&r, s->line.data != NULL ? s->line.data : "",
		    s->line.len, &e);
		if (st == IMAP_R_ERROR)
			return imap_login_reader_error(s, &r, e);
		if (buf_append(&s->cmdbuf, s->line.data, s->line.len) == -1)
			log_panic("imap-login: command beyond its limit");
		if (st == IMAP_R_DONE)
			return 1;
		if (buf_append(&s->cmdbuf, "\r\n", 2) == -1)
			log_panic("imap-login: command beyond its limit");
		if (r.lit_sync)
			imap_login_reply(s, "+ Ready for literal data");
		if (imap_login_read_literal(s, &s->cmdbuf, r.lit_len) == -1)
			return -1;
	}
}

static void
imap_login_dispatch(struct imap_login *s, const struct imap_cmd *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(imap_login_commands) / sizeof(imap_login_commands[0]); i++) {
		if (imap_login_commands[i].verb == cmd->verb) {
			imap_login_commands[i].handler(s, cmd);
			return;
		}
	}
	log_panic("imap-login: no handler for %s", imap_verb_name(cmd->verb));
}

/* Read, parse and dispatch one command. */
static void
imap_login_command(struct imap_login *s)
{
	struct imap_cmd *cmd = &s->cmd;
	enum imap_err e;

	if (imap_login_read_command(s) == 1) {
		e = imap_cmd_parse(s->cmdbuf.data != NULL ? s->cmdbuf.data : "",
		    s->cmdbuf.len, cmd);
		if (e == IMAP_E_OK || cmd->tag[0] != '\0')
			imap_login_set_tag(s, cmd->tag, strlen(cmd->tag));
		if (e != IMAP_E_OK)
			imap_login_bad(s, "%s", imap_err_str(e));
		else if (!imap_state_allows(IMAP_STATE_NOTAUTH, cmd->verb))
			imap_login_bad(s, "%s not allowed before authentication",
			    imap_verb_name(cmd->verb));
		else
			imap_login_dispatch(s, cmd);
		imap_cmd_free(cmd);
	}
	imap_login_wipe_input(s);
}

/* Allocate b once at its limit: a password is never left behind in memory
 * freed by a reallocation. */
static void
imap_login_prealloc(struct buf *b, size_t max)
{
	static const char zeros[IMAP_LOGIN_CMD_MAX + 2];

	buf_init(b, max);
	if (max > sizeof(zeros) || buf_append(b, zeros, max) == -1)
		log_panic("imap_login_init: buffer");
	buf_reset(b);
}

void
imap_login_init(struct imap_login *s, const struct config *cf)
{
	time_t total = cf->imap_session_timeout < IMAP_LOGIN_SESSION_MAX ?
	    cf->imap_session_timeout : IMAP_LOGIN_SESSION_MAX;

	memset(s, 0, sizeof(*s));
	s->cf = cf;
	s->auth_fd = -1;
	imap_login_prealloc(&s->line, IMAP_LOGIN_LINE_MAX + 2);
	imap_login_prealloc(&s->cmdbuf, IMAP_LOGIN_CMD_MAX);
	s->deadline_ms = now_ms() + (int64_t)total * 1000;
	if (str_copy(s->client_addr, sizeof(s->client_addr), "unknown") == -1 ||
	    str_copy(s->tag, sizeof(s->tag), "*") == -1)
		log_panic("imap_login_init: client address");
}

void
imap_login_run(struct imap_login *s)
{
	lineio_init(&s->io, 0, imap_login_timeout_ms(s));
	log_info("connect from %s (%s)", s->client_addr, s->listener);
	if (s->implicit_tls && imap_login_tls_start(s) == -1)
		s->closing = 1;
	else
		imap_login_greeting(s);
	while (!s->closing)
		imap_login_command(s);
	if (s->handoff)
		imap_login_handoff(s);
	else if (imap_login_flush(s) == -1) {
		/* the peer is gone; nothing more to say */
	}
	log_info("disconnect from %s", s->client_addr);
}

void
imap_login_free(struct imap_login *s)
{
	tls_close(&s->tls);	/* also after a failed handshake; idempotent */
	s->in_tls = 0;
	imap_login_wipe_input(s);
	lineio_free(&s->io);
	buf_free_secret(&s->line);
	buf_free_secret(&s->cmdbuf);
}
