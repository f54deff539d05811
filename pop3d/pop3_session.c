/*
 * pop3_session: the command loop of one authenticated POP3 session, its
 * dispatch table {verb, handler}, replies with back-pressure and the
 * streaming of messages (see pop3_session.h).  Runs as the mailbox owner;
 * the client's lines are untrusted, the Maildir path is master's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lineio_reply.h"
#include "log.h"
#include "pop3_cmd.h"
#include "pop3_session.h"
#include "util.h"

#define POP3_READ_CHUNK	16384	/* message bytes read per step of RETR/TOP */
#define POP3_BYE_MS	2000	/* best-effort wait for a last -ERR line */

struct pop3_command {
	enum pop3_verb verb;
	void (*handler)(struct pop3 *, const struct pop3_cmd *);
};

/* ---- output ------------------------------------------------------------- */

/* The wait allowed for one read or write: pop3.timeout, capped by what is
 * left of pop3.session_timeout. */
static int
pop3_timeout_ms(const struct pop3 *p)
{
	return timeout_left_ms((int64_t)p->cf->pop3_timeout * 1000, p->deadline_ms);
}

/* Write the pending output.  0, or -1 and the session is closing. */
static int
pop3_flush(struct pop3 *p)
{
	return lineio_reply_flush(&p->io, pop3_timeout_ms(p), &p->closing, &p->end);
}

/* Back-pressure: a client that does not read stops us, it never makes us
 * buffer more than about POP3_OUT_FLUSH plus one step. */
static int
pop3_maybe_flush(struct pop3 *p)
{
	if (p->io.out.len < POP3_OUT_FLUSH)
		return 0;
	return pop3_flush(p);
}

/* Queue one response line (CRLF added). */
static void __attribute__((format(printf, 2, 3)))
pop3_reply(struct pop3 *p, const char *fmt, ...)
{
	va_list ap;
	int queued;

	va_start(ap, fmt);
	queued = lineio_reply_vline(&p->io, &p->closing, &p->end, fmt, ap);
	va_end(ap);
	if (queued)
		(void)pop3_maybe_flush(p);
}

/* Last words before closing: write text (a -ERR line) and pending output,
 * waiting only briefly for a client that may not read. */
static void
pop3_bye(struct pop3 *p, const char *end, const char *text)
{
	lineio_reply_last(&p->io, &p->closing, &p->end, end, POP3_BYE_MS, "%s", text);
}

/* A bad command: -ERR text, counted; too many end the session. */
static void
pop3_bad(struct pop3 *p, const char *text)
{
	pop3_reply(p, "-ERR %s", text);
	if (++p->errors >= POP3_MAX_ERRORS) {
		log_info("user=%s client=%s: too many errors", p->user, p->client);
		(void)pop3_flush(p);
		pop3_bye(p, "too many errors", "-ERR Too many errors");
	}
}

/* ---- messages ----------------------------------------------------------- */

/* Message n as a command's argument, or NULL after answering -ERR. */
static const struct pop3_msg *
pop3_msg_arg(struct pop3 *p, uint32_t n)
{
	if (n < 1 || n > p->box.n) {
		pop3_reply(p, "-ERR No such message");
		return NULL;
	}
	if (p->box.msgs[n - 1].deleted) {
		pop3_reply(p, "-ERR Message %" PRIu32 " already deleted", n);
		return NULL;
	}
	return &p->box.msgs[n - 1];
}

/* Copy the message in fd to the client in wire form (st says RETR or
 * TOP), flushing as it goes.  0, or -1 with the session closing: the
 * response was begun and cannot be ended with -ERR. */
static int
pop3_stream(struct pop3 *p, int fd, struct pop3_stuff_state *st)
{
	char chunk[POP3_READ_CHUNK];
	ssize_t n;
	int r = 0;

	while (r == 0) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("user=%s client=%s: reading a message: %s", p->user,
			    p->client, strerror(errno));
			p->end = "message read error";
			p->closing = 1;
			return -1;
		}
		if (n == 0)
			break;
		if ((r = pop3_stuff(chunk, (size_t)n, st, &p->io.out)) == -1 ||
		    pop3_maybe_flush(p) == -1) {
			p->closing = 1;
			return -1;
		}
	}
	if (pop3_stuff_end(st, &p->io.out) == -1) {
		p->closing = 1;
		return -1;
	}
	return 0;
}

/* RETR n (top = 0) or TOP n lines. */
static void
pop3_send_msg(struct pop3 *p, uint32_t n, int top, uint32_t lines)
{
	struct pop3_stuff_state st;
	const struct pop3_msg *m;
	int fd = -1, r;

	if ((m = pop3_msg_arg(p, n)) == NULL)
		return;
	r = pop3_box_open_msg(&p->box, n, !top, &fd);
	if (r == POP3_BOX_GONE) {
		pop3_reply(p, "-ERR Message %" PRIu32 " was removed by another session", n);
		return;
	}
	if (r != 1) {
		log_warn("user=%s client=%s: opening message %" PRIu32 ": %s", p->user,
		    p->client, n, r == -1 ? strerror(errno) : "not found");
		pop3_reply(p, "-ERR [SYS/TEMP] Cannot open message %" PRIu32, n);
		return;
	}
	if (top)
		pop3_reply(p, "+OK Top of message follows");
	else
		pop3_reply(p, "+OK %" PRIu64 " octets", m->size);
	pop3_stuff_init(&st, top, lines);
	if (!p->closing && pop3_stream(p, fd, &st) == 0 && !top) {
		p->retrieved++;
		if (st.octets != m->size)
			log_warn("user=%s client=%s: message %" PRIu32 " changed: listed %"
			    PRIu64 " octets, sent %" PRIu64, p->user, p->client, n,
			    m->size, st.octets);
	}
	(void)close(fd);
}

/* ---- commands ----------------------------------------------------------- */

static void
pop3_cmd_stat(struct pop3 *p, const struct pop3_cmd *c)
{
	size_t count;
	uint64_t size;

	pop3_box_stat(&p->box, &count, &size);
	pop3_reply(p, "+OK %zu %" PRIu64, count, size);
}

/* LIST and UIDL: one message, or the multi-line listing of all. */
static void
pop3_listing(struct pop3 *p, const struct pop3_cmd *c, int uidl)
{
	const struct pop3_msg *m;
	size_t count;
	uint64_t size;

	if (c->has_num) {
		if ((m = pop3_msg_arg(p, c->num)) == NULL)
			return;
		if (uidl)
			pop3_reply(p, "+OK %" PRIu32 " %s", c->num, m->uidl);
		else
			pop3_reply(p, "+OK %" PRIu32 " %" PRIu64, c->num, m->size);
		return;
	}
	pop3_box_stat(&p->box, &count, &size);
	if (uidl)
		pop3_reply(p, "+OK Unique-ID listing follows");
	else
		pop3_reply(p, "+OK %zu messages (%" PRIu64 " octets)", count, size);
	for (size_t i = 1; i <= p->box.n && !p->closing; i++) {
		if ((m = pop3_box_get(&p->box, i)) == NULL)
			continue;
		if (uidl)
			pop3_reply(p, "%zu %s", i, m->uidl);
		else
			pop3_reply(p, "%zu %" PRIu64, i, m->size);
	}
	pop3_reply(p, ".");
}

static void
pop3_cmd_list(struct pop3 *p, const struct pop3_cmd *c)
{
	pop3_listing(p, c, 0);
}

static void
pop3_cmd_uidl(struct pop3 *p, const struct pop3_cmd *c)
{
	pop3_listing(p, c, 1);
}

static void
pop3_cmd_retr(struct pop3 *p, const struct pop3_cmd *c)
{
	pop3_send_msg(p, c->num, 0, 0);
}

static void
pop3_cmd_top(struct pop3 *p, const struct pop3_cmd *c)
{
	pop3_send_msg(p, c->num, 1, c->lines);
}

static void
pop3_cmd_dele(struct pop3 *p, const struct pop3_cmd *c)
{
	if (pop3_msg_arg(p, c->num) == NULL)
		return;
	if (pop3_box_dele(&p->box, c->num) != 1)
		log_panic("DELE %" PRIu32 ": message vanished from the view", c->num);
	pop3_reply(p, "+OK Message %" PRIu32 " deleted", c->num);
}

static void
pop3_cmd_noop(struct pop3 *p, const struct pop3_cmd *c)
{
	pop3_reply(p, "+OK");
}

static void
pop3_cmd_rset(struct pop3 *p, const struct pop3_cmd *c)
{
	size_t count;
	uint64_t size;

	pop3_box_rset(&p->box);
	pop3_box_stat(&p->box, &count, &size);
	pop3_reply(p, "+OK Maildrop has %zu messages (%" PRIu64 " octets)", count, size);
}

static void
pop3_cmd_capa(struct pop3 *p, const struct pop3_cmd *c)
{
	pop3_reply(p, "+OK Capability list follows");
	pop3_reply(p, "TOP");
	pop3_reply(p, "UIDL");
	pop3_reply(p, "RESP-CODES");
	pop3_reply(p, "AUTH-RESP-CODE");
	pop3_reply(p, "PIPELINING");
	if (p->plaintext) {
		pop3_reply(p, "USER");
		pop3_reply(p, "SASL PLAIN");
	}
	pop3_reply(p, "IMPLEMENTATION postern");
	pop3_reply(p, ".");
}

/* QUIT: the UPDATE state (RFC 1939 6).  Deletions are durable before +OK;
 * without a Maildir there is nothing to update. */
static void
pop3_cmd_quit(struct pop3 *p, const struct pop3_cmd *c)
{
	size_t failed = 0, left, dele = 0;
	uint64_t size;

	for (size_t i = 0; i < p->box.n; i++)
		dele += p->box.msgs[i].deleted != 0;
	if (p->lockfd != -1 && pop3_box_commit(&p->box, &failed) == -1) {
		log_warn("user=%s client=%s: update failed, %zu messages unchanged: %s",
		    p->user, p->client, failed, strerror(errno));
		pop3_reply(p, "-ERR [SYS/TEMP] Some deleted messages not removed");
		p->end = "update failed";
	} else {
		p->deleted = dele;
		pop3_box_stat(&p->box, &left, &size);
		pop3_reply(p, "+OK Bye, %zu messages deleted, %zu left", dele, left);
		p->end = "quit";
	}
	p->closing = 1;
}

static const struct pop3_command pop3_commands[] = {
	{ POP3_VERB_STAT, pop3_cmd_stat },
	{ POP3_VERB_LIST, pop3_cmd_list },
	{ POP3_VERB_RETR, pop3_cmd_retr },
	{ POP3_VERB_DELE, pop3_cmd_dele },
	{ POP3_VERB_NOOP, pop3_cmd_noop },
	{ POP3_VERB_RSET, pop3_cmd_rset },
	{ POP3_VERB_TOP, pop3_cmd_top },
	{ POP3_VERB_UIDL, pop3_cmd_uidl },
	{ POP3_VERB_QUIT, pop3_cmd_quit },
	{ POP3_VERB_CAPA, pop3_cmd_capa },
};

/* Parse and run one command line (CRLF stripped). */
static void
pop3_dispatch(struct pop3 *p, const char *line, size_t len)
{
	struct pop3_cmd c;
	enum pop3_err e;
	size_t i;

	e = pop3_cmd_parse(line, len, &c);
	if (e != POP3_E_OK)
		pop3_bad(p, pop3_err_str(e));
	else if (!pop3_state_allows(POP3_STATE_TRANSACTION, c.verb))
		pop3_bad(p, "Command not valid in this state");
	else {
		for (i = 0; i < sizeof(pop3_commands) / sizeof(pop3_commands[0]); i++)
			if (pop3_commands[i].verb == c.verb)
				break;
		if (i == sizeof(pop3_commands) / sizeof(pop3_commands[0]))
			log_panic("no handler for %s", pop3_verb_name(c.verb));
		pop3_commands[i].handler(p, &c);
	}
	pop3_cmd_wipe(&c);	/* a client may send PASS again */
}

/* ---- the loop ----------------------------------------------------------- */

/* A read ended the session: say why, in the log and (timeouts) to the
 * client. */
static void
pop3_read_failed(struct pop3 *p, int r)
{
	if (r == LINEIO_TIMEOUT && now_ms() >= p->deadline_ms)
		pop3_bye(p, "session timeout", "-ERR Autologout; session time limit reached");
	else if (r == LINEIO_TIMEOUT)
		pop3_bye(p, "idle timeout", "-ERR Autologout; idle for too long");
	else if (r == LINEIO_EOF)
		p->end = "connection closed";
	else
		p->end = "read error";
	p->closing = 1;
}

/* Read one command line into p->line, CRLF (or a bare LF) stripped.  1 a
 * line, 0 a bad line already answered, -1 the session is over. */
static int
pop3_read_command(struct pop3 *p)
{
	struct buf *l = &p->line;
	int r;

	if (p->closing)
		return -1;
	/* answers go out unless a whole pipelined command is waiting */
	if (!lineio_has_line(&p->io) && pop3_flush(p) == -1)
		return -1;
	if (now_ms() >= p->deadline_ms) {
		pop3_read_failed(p, LINEIO_TIMEOUT);
		return -1;
	}
	p->io.timeout_ms = pop3_timeout_ms(p);
	if ((r = lineio_reply_read(&p->io, l, POP3_LINE_MAX)) == LINEIO_TOOLONG) {
		pop3_bad(p, pop3_err_str(POP3_E_TOOLONG));
		return 0;
	}
	if (r != LINEIO_OK) {
		pop3_read_failed(p, r);
		return -1;
	}
	return 1;
}

void
pop3_session_init(struct pop3 *p, const struct config *cf, const char *user,
    const char *client)
{
	memset(p, 0, sizeof(*p));
	p->cf = cf;
	p->user = user;
	p->client = client;
	lineio_init(&p->io, 0, 0);
	buf_init(&p->line, POP3_LINE_MAX);
	p->box.dfd[0] = p->box.dfd[1] = -1;
	p->lockfd = -1;
	p->deadline_ms = now_ms() + (int64_t)cf->pop3_session_timeout * 1000;
	p->end = "unknown";
}

/* Take the session's exclusive lock on the Maildir and read its view.
 * 0, or -1 after answering -ERR. */
static int
pop3_open_box(struct pop3 *p, const char *maildir)
{
	if ((p->lockfd = open(maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("user=%s: open %s: %s", p->user, maildir, strerror(errno));
		pop3_bye(p, "no mailbox", "-ERR [SYS/TEMP] Cannot open the mailbox");
		return -1;
	}
	if (flock(p->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			log_info("user=%s client=%s: mailbox in use", p->user, p->client);
			pop3_bye(p, "in use",
			    "-ERR [IN-USE] Mailbox locked by another POP3 session");
		} else {
			log_warn("user=%s: flock %s: %s", p->user, maildir, strerror(errno));
			pop3_bye(p, "lock failed", "-ERR [SYS/TEMP] Cannot lock the mailbox");
		}
		return -1;
	}
	if (pop3_box_open(&p->box, maildir) == -1) {
		log_warn("user=%s: reading %s: %s", p->user, maildir, strerror(errno));
		pop3_bye(p, "mailbox unreadable", "-ERR [SYS/TEMP] Cannot read the mailbox");
		return -1;
	}
	return 0;
}

int
pop3_session_run(struct pop3 *p, const char *maildir, const void *input, size_t inlen)
{
	size_t count;
	uint64_t size;
	int r;

	if (lineio_preload(&p->io, input, inlen) == -1) {
		log_warn("user=%s: %zu octets of pipelined input", p->user, inlen);
		pop3_bye(p, "bad input", "-ERR [SYS/TEMP] Internal error");
		return 1;
	}
	if (maildir != NULL && pop3_open_box(p, maildir) == -1)
		return 1;
	pop3_box_stat(&p->box, &count, &size);
	log_info("user=%s client=%s messages=%zu octets=%" PRIu64 "%s", p->user,
	    p->client, count, size, maildir == NULL ? " (no Maildir yet)" : "");
	pop3_reply(p, "+OK Logged in, %zu messages (%" PRIu64 " octets)", count, size);
	while ((r = pop3_read_command(p)) != -1)
		if (r == 1)
			pop3_dispatch(p, p->line.data, p->line.len);
	(void)pop3_flush(p);
	log_info("user=%s client=%s retrieved=%" PRIu64 " deleted=%zu left=%zu end=%s",
	    p->user, p->client, p->retrieved, p->deleted, count - p->deleted, p->end);
	return 0;
}

void
pop3_session_free(struct pop3 *p)
{
	pop3_box_close(&p->box);
	if (p->lockfd != -1)
		(void)close(p->lockfd);
	p->lockfd = -1;
	lineio_free(&p->io);
	buf_free(&p->line);
}
