/*
 * lineio_reply: the output side of an authenticated mail session (pop3,
 * imap) on a struct lineio: reply lines queued with a hard limit, flushes
 * that end the session when the client does not take them, and the last
 * words before hanging up.  The session's state is the caller's: a flag
 * "closing" and the reason it ended ("why", for the log), passed by
 * pointer.
 */
#ifndef POSTERN_LINEIO_REPLY_H
#define POSTERN_LINEIO_REPLY_H
#include <stdarg.h>

#include "lineio.h"

/* Write l's pending output (if any), waiting at most timeout_ms for each
 * chunk.  0; or -1, the session is over: *closing = 1 and, unless it was
 * closing already, *why = "write failed or timed out". */
int lineio_reply_flush(struct lineio *l, int timeout_ms, int *closing, const char **why)
    __attribute__((warn_unused_result));

/* Queue one reply line, fmt and CRLF, unless *closing.  1 queued (the
 * caller flushes beyond its threshold); 0 not: closing, or over l's
 * output limit (then *closing = 1, *why = "output buffer full"). */
int lineio_reply_vline(struct lineio *l, int *closing, const char **why, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

/* Last words before closing, unless *closing: *why = reason, queue fmt
 * and CRLF, write all pending output waiting at most timeout_ms for a
 * client that may not read (best effort: a failure changes nothing), and
 * *closing = 1. */
void lineio_reply_last(struct lineio *l, int *closing, const char **why, const char *reason,
    int timeout_ms, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Read one command line into line (at most max octets), its line end
 * (CRLF or a bare LF) stripped.  LINEIO_OK; LINEIO_TOOLONG when the line
 * was longer (the rest is skipped; the caller answers); or the failure of
 * the read (LINEIO_EOF, LINEIO_ERROR, LINEIO_TIMEOUT).  Flushing first
 * and setting l->timeout_ms are the caller's. */
int lineio_reply_read(struct lineio *l, struct buf *line, size_t max);
#endif
