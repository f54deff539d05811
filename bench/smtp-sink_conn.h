/*
 * smtp-sink connection: one SMTP server session of the bench's counting
 * sink as a non-blocking state machine (smtp-sink's poll loop drives many).
 * Trusts nothing the client sends: command lines are length-limited, a
 * message body is only scanned for its end, never stored.
 */
#ifndef SMTP_SINK_CONN_H
#define SMTP_SINK_CONN_H
#include <stdint.h>

#include "buf.h"

#define SINK_IN_MAX	16384		/* unparsed input held per session */

/* Counters over the sink's whole life, updated by every session. */
struct sink_stats {
	uint64_t conns;		/* connections accepted */
	uint64_t open;		/* sessions open now */
	uint64_t msgs;		/* messages taken (250 after the final ".") */
	uint64_t rcpts;		/* recipients of those messages */
	int64_t last_ns;	/* CLOCK_MONOTONIC of the latest message, 0 none */
};

enum sink_state { SS_CMD, SS_DATA, SS_CLOSING, SS_DONE };

struct sink_conn {
	int fd;
	enum sink_state state;
	int mail;		/* a MAIL FROM was accepted */
	unsigned rcpts;		/* recipients of the open transaction */
	unsigned dmatch;	/* octets of CRLF "." CRLF matched in DATA */
	char in[SINK_IN_MAX];
	size_t inlen;
	struct buf out;
	size_t outoff;		/* bytes of out already written */
	int64_t idle_since;	/* monotonic ns of the last input */
};

/* Monotonic clock in nanoseconds. */
int64_t sink_now_ns(void);

/* Take over the accepted, non-blocking socket fd and queue the greeting.
 * The caller owns c; sink_conn_free closes the socket and frees buffers. */
void sink_conn_start(struct sink_conn *c, int fd, struct sink_stats *st);
/* poll(2) events the session waits for (0 when it is over). */
short sink_conn_events(const struct sink_conn *c);
/* Handle revents from poll; the session is over (SS_DONE) on EOF, error,
 * QUIT, an over-long line or idle_ns without input. */
void sink_conn_io(struct sink_conn *c, short revents, struct sink_stats *st,
    int64_t idle_ns);
void sink_conn_free(struct sink_conn *c, struct sink_stats *st);

/* Pure: feed n octets of message data to the end-of-data matcher whose
 * state is *match (start a message with 2: the DATA line's CRLF counts).
 * Returns 1 when the final CRLF "." CRLF ends inside p[0..n), with *used
 * the octets up to and including it; 0 when it does not (*used = n, and
 * *match carries over to the next call). */
int sink_data_scan(const char *p, size_t n, unsigned *match, size_t *used);
#endif
