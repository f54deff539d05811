/*
 * lineio: buffered line reader/writer over a descriptor or a TLS
 * connection, with a maximum line length and a timeout per read.
 * A line is returned with its terminator; callers decide what a valid
 * terminator is (SMTP accepts only CRLF).
 */
#ifndef POSTERN_LINEIO_H
#define POSTERN_LINEIO_H
#include <stddef.h>

#include "buf.h"
#include "tls.h"

#define LINEIO_BUFSIZE 16384

/* What lineio calls on a TLS connection (set by lineio_start_tls, in
 * lineio_tls.c): through pointers, so lineio.c does not pull in OpenSSL. */
struct lineio_tls_ops {
	ssize_t (*read)(struct tls_conn *t, void *p, size_t n);
	int (*write)(struct tls_conn *t, const void *p, size_t n);
	int (*pending)(struct tls_conn *t);
};

struct lineio {
	int fd;
	struct tls_conn *tls;	/* NULL: plain fd */
	const struct lineio_tls_ops *tls_ops;	/* with tls */
	int timeout_ms;		/* for each wait; <= 0: none */
	char in[LINEIO_BUFSIZE];
	size_t inpos, inlen;	/* unread bytes are in[inpos .. inlen) */
	struct buf out;		/* pending output */
	int eof, err;
};

enum {
	LINEIO_OK = 1,		/* a whole line, ending in '\n' */
	LINEIO_EOF = 0,		/* peer closed; a final unterminated part is in line */
	LINEIO_ERROR = -1,	/* read error */
	LINEIO_TIMEOUT = -2,
	LINEIO_TOOLONG = -3,	/* more than max bytes without '\n': line holds the
				   first max bytes; call lineio_skip_line() to
				   drop the rest */
};

void lineio_init(struct lineio *l, int fd, int timeout_ms);
/* lineio_tls.c: switch to TLS (after STARTTLS); unread plaintext is
 * discarded and its count returned so callers can log the injection
 * attempt. */
size_t lineio_start_tls(struct lineio *l, struct tls_conn *t);
/* The server side of STARTTLS/STLS or implicit TLS on l: switch to t
 * (logging unread plaintext as an injection attempt: it is discarded,
 * never executed inside TLS), run the handshake on l->fd with timeout_ms
 * and log its outcome for client.  0 with tls_describe() (or "TLS") in
 * info; -1 (logged, l back to plaintext) when the handshake failed. */
int lineio_tls_accept(struct lineio *l, struct tls_conn *t, SSL_CTX *ctx, int timeout_ms,
    const char *client, char *info, size_t infosize) __attribute__((warn_unused_result));
/* Put n bytes in front of the unread input, as if they had been read
 * first (the input a login process read before handing the client over).
 * 0, or -1 (nothing changed) if they do not fit the input buffer. */
int lineio_preload(struct lineio *l, const void *p, size_t n) __attribute__((warn_unused_result));
/* Read one line of at most max bytes (terminator included; max is also
 * capped by line->max) into line (replacing its contents).  Returns a
 * LINEIO_* code; on EOF, ERROR and TIMEOUT line holds the bytes consumed. */
int lineio_read_line(struct lineio *l, struct buf *line, size_t max) __attribute__((warn_unused_result));
/* Discard input up to and including the next '\n'.  LINEIO_* code. */
int lineio_skip_line(struct lineio *l) __attribute__((warn_unused_result));
/* Read up to n raw bytes (BDAT chunks): >0, 0 EOF, LINEIO_ERROR/TIMEOUT. */
long lineio_read(struct lineio *l, void *p, size_t n);
/* Bytes received and not yet consumed (in our buffer or inside TLS). */
size_t lineio_pending(const struct lineio *l);
/* 1 if a whole line (up to '\n') is already in our buffer, so the next
 * lineio_read_line cannot block.  Servers flush their replies before a
 * read unless this holds: a pipelining client that sent "NOOP\r\nST" in
 * one write is waiting for the NOOP answer before it sends the rest. */
int lineio_has_line(const struct lineio *l);
/* Queue output (at most 1 MiB pending, beyond that -1); lineio_flush()
 * writes it, waiting at most timeout_ms for each chunk, and drops it on
 * error.  Sockets are written with MSG_NOSIGNAL; for other descriptors
 * (pipes) ignoring SIGPIPE is the caller's job.  0/-1. */
int lineio_write(struct lineio *l, const void *p, size_t n) __attribute__((warn_unused_result));
int lineio_printf(struct lineio *l, const char *fmt, ...) __attribute__((format(printf, 2, 3), warn_unused_result));
int lineio_flush(struct lineio *l) __attribute__((warn_unused_result));
/* Flush to a client (named for the log), waiting at most timeout_ms each
 * time; a failure is logged.  0/-1. */
int lineio_flush_client(struct lineio *l, int timeout_ms, const char *client) __attribute__((warn_unused_result));
void lineio_free(struct lineio *l);
#endif
