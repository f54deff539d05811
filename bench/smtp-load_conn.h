/*
 * smtp-load connection: one SMTP client session as a non-blocking state
 * machine (smtp-load's poll loop drives many of them).  Trusts nothing the
 * server says: replies are length-limited and a bad one ends the session.
 */
#ifndef SMTP_LOAD_CONN_H
#define SMTP_LOAD_CONN_H
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"

/* What every connection shares; set up once by main, read-only after. */
struct load_params {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	unsigned messages;	/* per connection */
	int pipelining;		/* -p: MAIL+RCPT+DATA in one write */
	const char *from, *to;
	const char *body;	/* message text after the headers, CRLF lines, */
	size_t bodylen;		/* dot-safe, without the final ".\r\n" */
	int64_t timeout_ns;	/* per reply */
};

/* Results of the whole run, filled in by every connection. */
struct load_stats {
	unsigned ok, failed;
	int64_t *lat_ns;	/* one per accepted message, lat_n used */
	size_t lat_n, lat_cap;
	unsigned errors_shown;	/* failed replies printed so far */
};

enum load_state {
	LS_CONNECTING, LS_GREETING, LS_EHLO, LS_MAIL, LS_RCPT, LS_DATA,
	LS_DOT, LS_RSET, LS_QUIT, LS_DONE
};

struct load_conn {
	int fd;
	unsigned id;
	enum load_state state;
	unsigned sent;		/* messages started */
	unsigned done;		/* messages counted, ok or failed */
	unsigned pending;	/* pipelined replies still expected */
	int txn_failed;		/* a reply in this transaction was not 2xx/354 */
	int pipelining;		/* -p and the server advertised it */
	int64_t deadline;	/* monotonic ns; reply timeout */
	int64_t dot_at;		/* when the last byte of ".\r\n" went out */
	struct buf in, out;
	size_t outoff;		/* bytes of out already written */
};

/* Monotonic clock in nanoseconds. */
int64_t load_now_ns(void);

/* Start a non-blocking connect; the connection is then driven by
 * load_conn_io().  On failure the connection is LS_DONE with every message
 * counted as failed.  c is owned by the caller; load_conn_free releases its
 * buffers and socket. */
void load_conn_start(struct load_conn *c, unsigned id,
    const struct load_params *p, struct load_stats *st);
/* poll(2) events the connection waits for (0 when done). */
short load_conn_events(const struct load_conn *c);
/* Handle revents from poll, or a timeout check when revents is 0. */
void load_conn_io(struct load_conn *c, short revents,
    const struct load_params *p, struct load_stats *st);
void load_conn_free(struct load_conn *c);

/* Pure: find one complete SMTP reply at the start of p[0..n).  Returns 1
 * and sets *code (200..599) and *used (bytes of the whole reply, all its
 * lines), 0 if more input is needed, -1 if malformed (bad code, mixed codes,
 * a line over 1000 octets). */
int load_reply_parse(const char *p, size_t n, int *code, size_t *used);
#endif
