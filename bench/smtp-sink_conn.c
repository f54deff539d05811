/*
 * smtp-sink connection: the per-session SMTP server side of the bench's
 * counting sink (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; pipelining
 * per RFC 2920).  Used only by `make bench`; every message is accepted and
 * thrown away, and only counted.  Input is held up to SINK_IN_MAX octets.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "smtp-sink_conn.h"

#define OUT_MAX		(1024 * 1024)	/* replies not yet written */
#define OUT_PAUSE	(16 * 1024)	/* stop reading while this much waits */
#define READ_CHUNK	SINK_IN_MAX

static const char ehlo_reply[] =
    "250-sink.bench.invalid\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 104857600\r\n"
    "250-8BITMIME\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250-SMTPUTF8\r\n"
    "250 DSN\r\n";

int64_t
sink_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
sink_data_scan(const char *p, size_t n, unsigned *match, size_t *used)
{
	static const char end[] = "\r\n.\r\n";
	unsigned m = *match;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == end[m]) {
			if (++m == sizeof(end) - 1) {
				*match = 0;
				*used = i + 1;
				return 1;
			}
		} else
			m = p[i] == '\r' ? 1 : 0;
	}
	*match = m;
	*used = n;
	return 0;
}

/* Queue a reply; a client that makes us owe over OUT_MAX is dropped. */
static void
reply(struct sink_conn *c, const char *text)
{
	if (buf_puts(&c->out, text) == -1)
		c->state = SS_DONE;
}

static void
txn_reset(struct sink_conn *c)
{
	c->mail = 0;
	c->rcpts = 0;
}

static void
cmd_ehlo(struct sink_conn *c, struct sink_stats *st)
{
	txn_reset(c);
	reply(c, ehlo_reply);
}

static void
cmd_helo(struct sink_conn *c, struct sink_stats *st)
{
	txn_reset(c);
	reply(c, "250 sink.bench.invalid\r\n");
}

static void
cmd_mail(struct sink_conn *c, struct sink_stats *st)
{
	if (c->mail) {
		reply(c, "503 5.5.1 nested MAIL command\r\n");
		return;
	}
	c->mail = 1;
	reply(c, "250 2.1.0 Ok\r\n");
}

static void
cmd_rcpt(struct sink_conn *c, struct sink_stats *st)
{
	if (!c->mail) {
		reply(c, "503 5.5.1 need MAIL command\r\n");
		return;
	}
	c->rcpts++;
	reply(c, "250 2.1.5 Ok\r\n");
}

static void
cmd_data(struct sink_conn *c, struct sink_stats *st)
{
	if (c->rcpts == 0) {
		reply(c, "503 5.5.1 need RCPT command\r\n");
		return;
	}
	c->state = SS_DATA;
	c->dmatch = 2;		/* the DATA line's CRLF starts the first line */
	reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
}

static void
cmd_rset(struct sink_conn *c, struct sink_stats *st)
{
	txn_reset(c);
	reply(c, "250 2.0.0 Ok\r\n");
}

static void
cmd_noop(struct sink_conn *c, struct sink_stats *st)
{
	reply(c, "250 2.0.0 Ok\r\n");
}

static void
cmd_quit(struct sink_conn *c, struct sink_stats *st)
{
	reply(c, "221 2.0.0 Bye\r\n");
	if (c->state != SS_DONE)
		c->state = SS_CLOSING;
}

static const struct {
	const char *verb;
	void (*fn)(struct sink_conn *, struct sink_stats *);
} commands[] = {
	{ "EHLO", cmd_ehlo }, { "HELO", cmd_helo }, { "MAIL", cmd_mail },
	{ "RCPT", cmd_rcpt }, { "DATA", cmd_data }, { "RSET", cmd_rset },
	{ "NOOP", cmd_noop }, { "QUIT", cmd_quit },
};

/* One command line l[0..len) without its line end. */
static void
command(struct sink_conn *c, const char *l, size_t len, struct sink_stats *st)
{
	size_t i, vlen = 0;

	while (vlen < len && l[vlen] != ' ')
		vlen++;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (vlen == 4 && strncasecmp(l, commands[i].verb, 4) == 0) {
			commands[i].fn(c, st);
			return;
		}
	}
	reply(c, "502 5.5.2 command not implemented\r\n");
}

static void
consume(struct sink_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

/* The end of a message's data: count it and answer. */
static void
message_done(struct sink_conn *c, struct sink_stats *st)
{
	char text[80];

	st->msgs++;
	st->rcpts += c->rcpts;
	st->last_ns = sink_now_ns();
	txn_reset(c);
	c->state = SS_CMD;
	if (str_format(text, sizeof(text), "250 2.0.0 Ok: queued as %llu\r\n",
	    (unsigned long long)st->msgs) == -1)
		c->state = SS_DONE;
	else
		reply(c, text);
}

/* Work through the input held: command lines and message data. */
static void
process(struct sink_conn *c, struct sink_stats *st)
{
	while (c->inlen > 0 && (c->state == SS_CMD || c->state == SS_DATA)) {
		if (c->state == SS_DATA) {
			size_t used;

			if (sink_data_scan(c->in, c->inlen, &c->dmatch, &used))
				message_done(c, st);
			consume(c, used);
			continue;
		}
		const char *nl = memchr(c->in, '\n', c->inlen);
		if (nl == NULL) {
			if (c->inlen == sizeof(c->in)) {
				reply(c, "500 5.5.6 line too long\r\n");
				if (c->state != SS_DONE)
					c->state = SS_CLOSING;
			}
			return;
		}
		size_t len = (size_t)(nl - c->in);
		command(c, c->in, len > 0 && c->in[len - 1] == '\r' ? len - 1 : len,
		    st);
		consume(c, len + 1);
	}
}

void
sink_conn_start(struct sink_conn *c, int fd, struct sink_stats *st)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->state = SS_CMD;
	buf_init(&c->out, OUT_MAX);
	c->idle_since = sink_now_ns();
	st->conns++;
	st->open++;
	reply(c, "220 sink.bench.invalid ESMTP bench sink\r\n");
}

static int
want_read(const struct sink_conn *c)
{
	return (c->state == SS_CMD || c->state == SS_DATA) &&
	    c->out.len - c->outoff < OUT_PAUSE && c->inlen < sizeof(c->in);
}

short
sink_conn_events(const struct sink_conn *c)
{
	short ev = 0;

	if (c->state == SS_DONE)
		return 0;
	if (c->outoff < c->out.len)
		ev |= POLLOUT;
	if (want_read(c))
		ev |= POLLIN;
	return ev;
}

/* Read what there is; 1 at end of input or on an error, else 0. */
static int
do_read(struct sink_conn *c)
{
	ssize_t r = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);

	if (r > 0) {
		c->inlen += (size_t)r;
		c->idle_since = sink_now_ns();
		return 0;
	}
	return r == 0 || (errno != EAGAIN && errno != EINTR);
}

static void
do_write(struct sink_conn *c)
{
	while (c->outoff < c->out.len) {
		ssize_t w = write(c->fd, c->out.data + c->outoff,
		    c->out.len - c->outoff);

		if (w == -1) {
			if (errno != EAGAIN && errno != EINTR)
				c->state = SS_DONE;
			return;
		}
		c->outoff += (size_t)w;
	}
	buf_reset(&c->out);
	c->outoff = 0;
	if (c->state == SS_CLOSING)
		c->state = SS_DONE;
}

void
sink_conn_io(struct sink_conn *c, short revents, struct sink_stats *st,
    int64_t idle_ns)
{
	int over = 0;

	if (c->state == SS_DONE)
		return;
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && want_read(c))
		over = do_read(c);
	else if (revents & (POLLHUP | POLLERR))
		over = 1;
	process(c, st);		/* what came before the end still counts */
	if (over)
		c->state = SS_DONE;
	if (c->state != SS_DONE)
		do_write(c);
	if (c->state != SS_DONE && sink_now_ns() - c->idle_since > idle_ns)
		c->state = SS_DONE;
}

void
sink_conn_free(struct sink_conn *c, struct sink_stats *st)
{
	if (c->fd != -1) {
		(void)close(c->fd);
		c->fd = -1;
		st->open--;
	}
	buf_free(&c->out);
}
