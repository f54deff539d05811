/* Unit tests for the bench sink's session (bench/smtp-sink_conn.c): the
 * end-of-data matcher across chunk boundaries, and a pipelined session over
 * a socketpair counted message by message. */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "xmalloc.h"
#include "../../bench/smtp-sink_conn.c"

/* Feed s in chunks of step octets; the offset just past the end, or -1. */
static long
scan_chunked(const char *s, size_t step)
{
	size_t n = strlen(s), off = 0, used;
	unsigned m = 2;

	while (off < n) {
		size_t k = n - off < step ? n - off : step;

		if (sink_data_scan(s + off, k, &m, &used))
			return (long)(off + used);
		CHECK(used == k);
		off += k;
	}
	return -1;
}

static void
test_scan(void)
{
	static const char *msg = "Subject: x\r\n\r\n..dot\r\n.\r\nMAIL";
	size_t step;

	for (step = 1; step <= strlen(msg); step++)
		CHECK(scan_chunked(msg, step) == (long)strlen(msg) - 4);
	CHECK(scan_chunked(".\r\n", 1) == 3);		/* empty message */
	CHECK(scan_chunked(".\r\n", 3) == 3);
	CHECK(scan_chunked("a\r\n..\r\n.x\r\n", 2) == -1);	/* no end */
	CHECK(scan_chunked("a\r\r\n.\r\r\n.\r\n", 1) == 11);
	CHECK(scan_chunked("a\n.\n", 1) == -1);		/* bare LF: no end */
}

/* Write s to the client end, let the session run, return its replies. */
static const char *
exchange(struct sink_conn *c, int peer, const char *s, struct sink_stats *st)
{
	static char out[4096];
	ssize_t r;

	if (*s)
		CHECK(write(peer, s, strlen(s)) == (ssize_t)strlen(s));
	sink_conn_io(c, POLLIN, st, (int64_t)60 * 1000000000);
	r = read(peer, out, sizeof(out) - 1);
	out[r > 0 ? r : 0] = '\0';
	return out;
}

static void
test_session(void)
{
	struct sink_stats st = { 0 };
	struct sink_conn *c = xmalloc(sizeof(*c));
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	sink_conn_start(c, sv[0], &st);
	CHECK(st.conns == 1 && st.open == 1);
	CHECK(strncmp(exchange(c, sv[1], "", &st), "220 ", 4) == 0);
	CHECK(strstr(exchange(c, sv[1], "EHLO x\r\n", &st), "250-PIPELINING") != NULL);
	CHECK_STR(exchange(c, sv[1], "RCPT TO:<a@b>\r\nDATA\r\n", &st),
	    "503 5.5.1 need MAIL command\r\n503 5.5.1 need RCPT command\r\n");
	/* pipelined: MAIL, two RCPTs, DATA and the whole message in one write */
	CHECK_STR(exchange(c, sv[1], "MAIL FROM:<> SIZE=5\r\nRCPT TO:<a@b>\r\n"
	    "rcpt to:<c@d>\r\nDATA\r\nhi\r\n..\r\n.\r\n", &st),
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n");
	CHECK(st.msgs == 1 && st.rcpts == 2 && st.last_ns > 0);
	/* a message split over two reads, then QUIT in the same write as its end */
	CHECK(strstr(exchange(c, sv[1], "MAIL FROM:<x@y>\r\nRCPT TO:<a@b>\r\n"
	    "DATA\r\nline\r", &st), "354 ") != NULL);
	CHECK(st.msgs == 1);
	CHECK_STR(exchange(c, sv[1], "\n.\r\nQUIT\r\n", &st),
	    "250 2.0.0 Ok: queued as 2\r\n221 2.0.0 Bye\r\n");
	CHECK(st.msgs == 2 && st.rcpts == 3);
	CHECK(sink_conn_events(c) == 0);	/* over after QUIT */
	CHECK_STR(exchange(c, sv[1], "", &st), "");
	sink_conn_free(c, &st);
	CHECK(st.open == 0 && st.conns == 1);
	free(c);
	close(sv[1]);
}

static void
test_long_line(void)
{
	struct sink_stats st = { 0 };
	struct sink_conn *c = xmalloc(sizeof(*c));
	char *junk = xmalloc(SINK_IN_MAX + 1);
	int sv[2], sndbuf = 4 * SINK_IN_MAX;

	memset(junk, 'x', SINK_IN_MAX);
	junk[SINK_IN_MAX] = '\0';
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == 0);
	CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	sink_conn_start(c, sv[0], &st);
	(void)exchange(c, sv[1], "", &st);
	CHECK_STR(exchange(c, sv[1], junk, &st), "500 5.5.6 line too long\r\n");
	CHECK(sink_conn_events(c) == 0);
	CHECK(st.msgs == 0);
	sink_conn_free(c, &st);
	free(c);
	free(junk);
	close(sv[1]);
}

int
main(void)
{
	test_scan();
	test_session();
	test_long_line();
	return UNIT_DONE();
}
