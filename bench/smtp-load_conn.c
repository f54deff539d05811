/*
 * smtp-load connection: the per-session SMTP client state machine (EHLO once,
 * then MAIL/RCPT/DATA per message, optionally pipelined per RFC 2920).  Used
 * only by the smtp-load benchmark; server replies are parsed with hard limits
 * and anything unexpected fails the session, never the program.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "smtp-load_conn.h"
#include "xmalloc.h"

#define REPLY_LINE_MAX	1000
#define IN_MAX		(64 * 1024)	/* unparsed reply bytes we hold */
#define ERRORS_SHOWN	10		/* failures printed in detail */

int64_t
load_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
load_reply_parse(const char *p, size_t n, int *code, size_t *used)
{
	size_t off = 0;
	int first = -1;

	for (;;) {
		const char *l = p + off, *nl = memchr(l, '\n', n - off);
		size_t len = nl ? (size_t)(nl - l) : n - off;
		int c;
		char sep;

		if (len > REPLY_LINE_MAX)
			return -1;
		if (nl == NULL)
			return 0;
		if (len > 0 && l[len - 1] == '\r')
			len--;
		if (len < 3 || !isdigit((unsigned char)l[0]) ||
		    !isdigit((unsigned char)l[1]) || !isdigit((unsigned char)l[2]))
			return -1;
		c = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		if (c < 200 || c > 599 || (first != -1 && c != first))
			return -1;
		first = c;
		sep = len > 3 ? l[3] : ' ';
		if (sep != ' ' && sep != '-')
			return -1;
		off = (size_t)(nl - p) + 1;
		if (sep == ' ') {
			*code = first;
			*used = off;
			return 1;
		}
	}
}

/* 1 if the EHLO reply r[0..n) (already parsed) advertises PIPELINING. */
static int
ehlo_has_pipelining(const char *r, size_t n)
{
	const char *end = r + n;

	while (r < end) {
		const char *nl = memchr(r, '\n', (size_t)(end - r));
		size_t len = nl ? (size_t)(nl - r) : (size_t)(end - r);

		if (len >= 4 + 10 && strncasecmp(r + 4, "PIPELINING", 10) == 0 &&
		    (len == 14 || r[14] == '\r' || r[14] == ' '))
			return 1;
		r += len + 1;
	}
	return 0;
}

/* Print one failure (the first ERRORS_SHOWN of the run) to stderr. */
static void
note(struct load_stats *st, const struct load_conn *c, const char *what,
    const char *reply, size_t n)
{
	char text[160];
	size_t i, j = 0;

	if (st->errors_shown > ERRORS_SHOWN)
		return;
	if (st->errors_shown++ == ERRORS_SHOWN) {
		fprintf(stderr, "smtp-load: (further failures not shown)\n");
		return;
	}
	for (i = 0; i < n && j + 1 < sizeof(text); i++) {
		if (reply[i] == '\0' || reply[i] == '\r' || reply[i] == '\n')
			break;
		text[j++] = isprint((unsigned char)reply[i]) ? reply[i] : '?';
	}
	text[j] = '\0';
	if (c->sent > 0)
		fprintf(stderr, "smtp-load: conn %u msg %u: %s%s%s\n", c->id,
		    c->sent, what, j ? ": " : "", text);
	else
		fprintf(stderr, "smtp-load: conn %u: %s%s%s\n", c->id, what,
		    j ? ": " : "", text);
}

/* End the session: every message not yet counted is a failure. */
static void
conn_fail(struct load_conn *c, const struct load_params *p,
    struct load_stats *st, const char *what, const char *reply, size_t n)
{
	if (c->state != LS_QUIT && c->state != LS_DONE) {
		note(st, c, what, reply, n);
		st->failed += p->messages - c->done;
		c->done = p->messages;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = LS_DONE;
}

/* Write what is queued; 0 ok (maybe partly sent), -1 the socket failed. */
static int
conn_flush(struct load_conn *c)
{
	while (c->outoff < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->outoff,
		    c->out.len - c->outoff, MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w == -1)
			return -1;
		c->outoff += (size_t)w;
	}
	if (c->state == LS_DOT && c->out.len > 0)
		c->dot_at = load_now_ns();
	buf_reset(&c->out);
	c->outoff = 0;
	return 0;
}

/* Queue text and try to send it at once (saves a poll round trip). */
static void
conn_send(struct load_conn *c, const struct load_params *p,
    struct load_stats *st, const char *text, size_t n)
{
	if (buf_append(&c->out, text, n) == -1 || conn_flush(c) == -1)
		conn_fail(c, p, st, "send failed", strerror(errno), 64);
}

static void
conn_sendf(struct load_conn *c, const struct load_params *p,
    struct load_stats *st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
conn_sendf(struct load_conn *c, const struct load_params *p,
    struct load_stats *st, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		conn_fail(c, p, st, "command too long", "", 0);
	else
		conn_send(c, p, st, line, (size_t)n);
}

/* Headers (unique per message) + the shared body + the final dot. */
static void
send_message(struct load_conn *c, const struct load_params *p,
    struct load_stats *st)
{
	if (buf_printf(&c->out, "From: <%s>\r\nTo: <%s>\r\n"
	    "Subject: smtp-load %u/%u\r\n"
	    "Message-ID: <%u.%u.%ld@smtp-load.invalid>\r\n\r\n",
	    p->from, p->to, c->id, c->sent, c->id, c->sent, (long)getpid()) == -1 ||
	    buf_append(&c->out, p->body, p->bodylen) == -1 ||
	    buf_append(&c->out, ".\r\n", 3) == -1) {
		conn_fail(c, p, st, "message too large", "", 0);
		return;
	}
	c->dot_at = 0;
	c->state = LS_DOT;
	if (conn_flush(c) == -1)
		conn_fail(c, p, st, "send failed", strerror(errno), 64);
}

/* The next transaction, or QUIT after the last one. */
static void
begin_message(struct load_conn *c, const struct load_params *p,
    struct load_stats *st)
{
	if (c->sent == p->messages) {
		c->state = LS_QUIT;
		conn_sendf(c, p, st, "QUIT\r\n");
		return;
	}
	c->sent++;
	c->txn_failed = 0;
	c->state = LS_MAIL;
	if (c->pipelining)
		conn_sendf(c, p, st, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n",
		    p->from, p->to);
	else
		conn_sendf(c, p, st, "MAIL FROM:<%s>\r\n", p->from);
}

/* A transaction step failed: count the message, RSET, go on. */
static void
txn_fail(struct load_conn *c, const struct load_params *p,
    struct load_stats *st, const char *what, const char *r, size_t n)
{
	note(st, c, what, r, n);
	st->failed++;
	c->done++;
	c->state = LS_RSET;
	conn_sendf(c, p, st, "RSET\r\n");
}

/* The final reply to the message text. */
static void
dot_reply(struct load_conn *c, const struct load_params *p,
    struct load_stats *st, int code, const char *r, size_t n)
{
	int64_t now = load_now_ns();

	c->done++;
	if (code / 100 == 2 && !c->txn_failed) {
		st->ok++;
		if (st->lat_n < st->lat_cap)
			st->lat_ns[st->lat_n++] = now - (c->dot_at ? c->dot_at : now);
	} else {
		st->failed++;
		if (code / 100 != 2)
			note(st, c, "end of data", r, n);
	}
	begin_message(c, p, st);
}

/* One complete reply r[0..n) with its code, in the current state. */
static void
handle_reply(struct load_conn *c, const struct load_params *p,
    struct load_stats *st, int code, const char *r, size_t n)
{
	int ok = code / 100 == 2;

	if (code == 421 && c->state != LS_QUIT) {
		conn_fail(c, p, st, "server closing", r, n);
		return;
	}
	switch (c->state) {
	case LS_GREETING:
		if (!ok) {
			conn_fail(c, p, st, "greeting", r, n);
			break;
		}
		c->state = LS_EHLO;
		conn_sendf(c, p, st, "EHLO smtp-load.invalid\r\n");
		break;
	case LS_EHLO:
		if (!ok) {
			conn_fail(c, p, st, "EHLO", r, n);
			break;
		}
		c->pipelining = p->pipelining && ehlo_has_pipelining(r, n);
		if (p->pipelining && !c->pipelining && c->id == 0)
			fprintf(stderr, "smtp-load: server does not advertise "
			    "PIPELINING; sending one command at a time\n");
		begin_message(c, p, st);
		break;
	case LS_MAIL:
		if (c->pipelining) {
			if (!ok) {
				c->txn_failed = 1;
				note(st, c, "MAIL", r, n);
			}
			c->state = LS_RCPT;
		} else if (!ok)
			txn_fail(c, p, st, "MAIL", r, n);
		else {
			c->state = LS_RCPT;
			conn_sendf(c, p, st, "RCPT TO:<%s>\r\n", p->to);
		}
		break;
	case LS_RCPT:
		if (c->pipelining) {
			if (!ok) {
				c->txn_failed = 1;
				note(st, c, "RCPT", r, n);
			}
			c->state = LS_DATA;
		} else if (!ok)
			txn_fail(c, p, st, "RCPT", r, n);
		else {
			c->state = LS_DATA;
			conn_sendf(c, p, st, "DATA\r\n");
		}
		break;
	case LS_DATA:
		/* After a failed pipelined MAIL/RCPT a server that still says
		 * 354 gets the text; the message counts as failed anyway. */
		if (code == 354)
			send_message(c, p, st);
		else if (c->txn_failed) {
			st->failed++;
			c->done++;
			c->state = LS_RSET;
			conn_sendf(c, p, st, "RSET\r\n");
		} else
			txn_fail(c, p, st, "DATA", r, n);
		break;
	case LS_DOT:
		if (c->outoff < c->out.len)
			conn_fail(c, p, st, "reply before end of data", r, n);
		else
			dot_reply(c, p, st, code, r, n);
		break;
	case LS_RSET:
		begin_message(c, p, st);
		break;
	case LS_QUIT:
		conn_fail(c, p, st, "", "", 0);
		break;
	case LS_CONNECTING:
	case LS_DONE:
		break;
	}
}

void
load_conn_start(struct load_conn *c, unsigned id, const struct load_params *p,
    struct load_stats *st)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	buf_init(&c->in, IN_MAX);
	buf_init(&c->out, p->bodylen + 4096);
	c->deadline = load_now_ns() + p->timeout_ns;
	c->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		conn_fail(c, p, st, "socket", strerror(errno), 64);
		return;
	}
	c->state = LS_CONNECTING;
	if (connect(c->fd, (const struct sockaddr *)&p->addr, p->addrlen) == 0)
		c->state = LS_GREETING;
	else if (errno != EINPROGRESS)
		conn_fail(c, p, st, "connect", strerror(errno), 64);
}

short
load_conn_events(const struct load_conn *c)
{
	if (c->state == LS_DONE)
		return 0;
	if (c->state == LS_CONNECTING || c->outoff < c->out.len)
		return POLLIN | POLLOUT;
	return POLLIN;
}

/* Read what arrived and act on every complete reply. */
static void
conn_read(struct load_conn *c, const struct load_params *p,
    struct load_stats *st)
{
	char tmp[16384];
	ssize_t r = recv(c->fd, tmp, sizeof(tmp), 0);
	size_t used;
	int code, rc;

	if (r == -1 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r <= 0) {
		conn_fail(c, p, st, r == 0 ? "connection closed by server" :
		    "read", r == 0 ? "" : strerror(errno), 64);
		return;
	}
	if (buf_append(&c->in, tmp, (size_t)r) == -1) {
		conn_fail(c, p, st, "reply too long", "", 0);
		return;
	}
	while (c->state != LS_DONE &&
	    (rc = load_reply_parse(c->in.data, c->in.len, &code, &used)) != 0) {
		if (rc == -1) {
			conn_fail(c, p, st, "malformed reply", c->in.data, c->in.len);
			return;
		}
		handle_reply(c, p, st, code, c->in.data, used);
		if (c->state != LS_DONE)
			buf_consume(&c->in, used);
	}
}

/* The non-blocking connect finished (or failed). */
static void
conn_connected(struct load_conn *c, const struct load_params *p,
    struct load_stats *st)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0)
		conn_fail(c, p, st, "connect", strerror(err), 64);
	else
		c->state = LS_GREETING;
}

void
load_conn_io(struct load_conn *c, short revents, const struct load_params *p,
    struct load_stats *st)
{
	int64_t now = load_now_ns();

	if (c->state == LS_DONE)
		return;
	if (revents == 0) {
		if (now > c->deadline)
			conn_fail(c, p, st, "timeout", "", 0);
		return;
	}
	c->deadline = now + p->timeout_ns;
	if (c->state == LS_CONNECTING) {
		conn_connected(c, p, st);
		return;
	}
	if ((revents & POLLOUT) && conn_flush(c) == -1) {
		conn_fail(c, p, st, "send failed", strerror(errno), 64);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		conn_read(c, p, st);
}

void
load_conn_free(struct load_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
}
