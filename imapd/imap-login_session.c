/*
 * imap-login_session: the not-authenticated state of imap-login (RFC 3501
 * 3.1, 6.1, 6.2): its dispatch table {verb, handler}, bounded reads of
 * whole commands with their literals (imap_reader) and the IMAP words of
 * the shared session (common/login_conn.c).  Every byte read here comes
 * from the client and is untrusted.
 */
#include <string.h>

#include "imap-login_auth.h"
#include "imap-login_cmds.h"
#include "imap-login_session.h"
#include "log.h"
#include "util.h"

/* The handler of each verb allowed before login (imap_state_allows). */
static void (*const imap_login_commands[IMAP_V_COUNT])(struct imap_login *,
    const struct imap_cmd *) = {
	[IMAP_V_CAPABILITY] = imap_login_cmd_capability,
	[IMAP_V_NOOP] = imap_login_cmd_noop,
	[IMAP_V_LOGOUT] = imap_login_cmd_logout,
	[IMAP_V_STARTTLS] = imap_login_cmd_starttls,
	[IMAP_V_ID] = imap_login_cmd_id,
	[IMAP_V_LOGIN] = imap_login_cmd_login,
	[IMAP_V_AUTHENTICATE] = imap_login_cmd_authenticate,
};

void
imap_login_wipe_input(struct imap_login *s)
{
	login_conn_wipe(&s->c);
	if (s->cmdbuf.data != NULL)
		explicit_bzero(s->cmdbuf.data, s->cmdbuf.cap);
	buf_reset(&s->cmdbuf);
}

int
imap_login_read_line(struct imap_login *s, size_t max)
{
	int r = login_conn_read_line(&s->c, max + 2);

	if (r == 1 && s->c.line.len > max) {
		buf_reset(&s->c.line);	/* max + 1 octets and LF: over the limit too */
		return 0;
	}
	return r;
}

/* Read n octets of a literal, appended to out (NULL: dropped).  0/-1. */
static int
imap_login_read_literal(struct imap_login *s, struct buf *out, size_t n)
{
	char chunk[4096];
	long r;

	while (n > 0) {
		if (login_conn_before_read(&s->c, s->c.io.inpos < s->c.io.inlen) == -1)
			return -1;
		r = lineio_read(&s->c.io, chunk, n < sizeof(chunk) ? n : sizeof(chunk));
		if (r <= 0)
			return login_conn_read_failed(&s->c, r == 0 ? LINEIO_EOF : (int)r);
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
			    r->lit_len, s->c.client_addr);
			login_conn_reply(&s->c, "%s BAD %s", s->tag, imap_err_str(e));
			login_conn_bye(&s->c, "Literal too large");
			return 0;
		}
		/* the literal and the rest of its command line */
		if (imap_login_read_literal(s, NULL, r->lit_len) == -1)
			return 0;
		if ((k = lineio_skip_line(&s->c.io)) != LINEIO_OK) {
			login_conn_read_failed(&s->c, k);
			return 0;
		}
	}
	login_conn_bad(&s->c, "%s", imap_err_str(e));
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
			imap_login_set_tag(s, s->c.line.data != NULL ? s->c.line.data : "",
			    s->c.line.len);
		if (k == 0) {
			login_conn_bad(&s->c, "%s", imap_err_str(IMAP_E_TOOLONG));
			return 0;
		}
		st = imap_reader_line(&r, s->c.line.data != NULL ? s->c.line.data : "",
		    s->c.line.len, &e);
		if (st == IMAP_R_ERROR)
			return imap_login_reader_error(s, &r, e);
		if (buf_append(&s->cmdbuf, s->c.line.data, s->c.line.len) == -1)
			log_panic("imap-login: command beyond its limit");
		if (st == IMAP_R_DONE)
			return 1;
		if (buf_append(&s->cmdbuf, "\r\n", 2) == -1)
			log_panic("imap-login: command beyond its limit");
		if (r.lit_sync)
			login_conn_reply(&s->c, "+ Ready for literal data");
		if (imap_login_read_literal(s, &s->cmdbuf, r.lit_len) == -1)
			return -1;
	}
}

static void
imap_login_dispatch(struct imap_login *s, const struct imap_cmd *cmd)
{
	if ((unsigned)cmd->verb >= IMAP_V_COUNT || imap_login_commands[cmd->verb] == NULL)
		log_panic("imap-login: no handler for %s", imap_verb_name(cmd->verb));
	imap_login_commands[cmd->verb](s, cmd);
}

/* Read, parse and dispatch one command. */
static void
imap_login_command(struct login_conn *c)
{
	struct imap_login *s = imap_login_of(c);
	struct imap_cmd *cmd = &s->cmd;
	enum imap_err e;

	if (imap_login_read_command(s) == 1) {
		e = imap_cmd_parse(s->cmdbuf.data != NULL ? s->cmdbuf.data : "",
		    s->cmdbuf.len, cmd);
		if (e == IMAP_E_OK || cmd->tag[0] != '\0')
			imap_login_set_tag(s, cmd->tag, strlen(cmd->tag));
		if (e != IMAP_E_OK)
			login_conn_bad(&s->c, "%s", imap_err_str(e));
		else if (!imap_state_allows(IMAP_STATE_NOTAUTH, cmd->verb))
			login_conn_bad(&s->c, "%s not allowed before authentication",
			    imap_verb_name(cmd->verb));
		else
			imap_login_dispatch(s, cmd);
		imap_cmd_free(cmd);
	}
	imap_login_wipe_input(s);
}

static void
imap_login_init(struct login_conn *c)
{
	struct imap_login *s = imap_login_of(c);
	const struct config *cf = c->cf;

	c->idle_ms = (int64_t)(cf->imap_timeout < IMAP_LOGIN_IDLE_MAX ? cf->imap_timeout :
	    IMAP_LOGIN_IDLE_MAX) * 1000;
	c->session_ms = (int64_t)(cf->imap_session_timeout < IMAP_LOGIN_SESSION_MAX ?
	    cf->imap_session_timeout : IMAP_LOGIN_SESSION_MAX) * 1000;
	c->proxy_ms = (int)cf->imap_timeout * 1000;
	c->plaintext = cf->imap_plaintext_auth;
	c->tag = s->tag;
	login_conn_prealloc(&s->cmdbuf, IMAP_LOGIN_CMD_MAX);
	if (str_copy(s->tag, sizeof(s->tag), "*") == -1)
		log_panic("imap_login_init: tag");
}

/* "TAG BAD text": the tag of the current command, "*" when it has none. */
static void
imap_login_bad(struct login_conn *c, const char *text)
{
	login_conn_reply(c, "%s BAD %s", imap_login_of(c)->tag, text);
}

static void
imap_login_unavailable(struct login_conn *c)
{
	imap_login_end(imap_login_of(c),
	    "[UNAVAILABLE] Cannot open the mailbox now, try again later",
	    "NO [UNAVAILABLE] Login failed temporarily.");
}

static void
imap_login_free(struct login_conn *c)
{
	struct imap_login *s = imap_login_of(c);

	imap_login_wipe_input(s);
	buf_free_secret(&s->cmdbuf);
}

const struct login_proto imap_login_proto = {
	.prog = "imap-login",
	.service = "imap",
	.service_tls = "imaps",
	.bye = "* BYE ",
	.line_max = IMAP_LOGIN_LINE_MAX + 2,
	.init = imap_login_init,
	.greeting = imap_login_greeting,
	.command = imap_login_command,
	.bad = imap_login_bad,
	.unavailable = imap_login_unavailable,
	.free = imap_login_free,
};
