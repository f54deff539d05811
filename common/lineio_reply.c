/*
 * lineio_reply: reply lines, flushes and last words of an authenticated
 * mail session (see lineio_reply.h).  Runs in the mail processes as the
 * mailbox owner; what is written was built by the caller.
 */
#include <stdarg.h>

#include "lineio_reply.h"

int
lineio_reply_flush(struct lineio *l, int timeout_ms, int *closing, const char **why)
{
	if (l->out.len == 0)
		return 0;
	l->timeout_ms = timeout_ms;
	if (lineio_flush(l) == 0)
		return 0;
	if (!*closing)
		*why = "write failed or timed out";
	*closing = 1;
	return -1;
}

int
lineio_reply_vline(struct lineio *l, int *closing, const char **why, const char *fmt,
    va_list ap)
{
	if (*closing)
		return 0;
	if (buf_vprintf(&l->out, fmt, ap) == 0 && buf_puts(&l->out, "\r\n") == 0)
		return 1;
	*why = "output buffer full";
	*closing = 1;
	return 0;
}

void
lineio_reply_last(struct lineio *l, int *closing, const char **why, const char *reason,
    int timeout_ms, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*closing)
		return;
	*why = reason;
	va_start(ap, fmt);
	r = buf_vprintf(&l->out, fmt, ap);
	va_end(ap);
	if (r == 0 && buf_puts(&l->out, "\r\n") == 0) {
		l->timeout_ms = timeout_ms;
		if (lineio_flush(l) == -1) {
			/* best effort: the session is closing anyway */
		}
	}
	*closing = 1;
}

int
lineio_reply_read(struct lineio *l, struct buf *line, size_t max)
{
	int r = lineio_read_line(l, line, max);

	if (r == LINEIO_TOOLONG && (r = lineio_skip_line(l)) == LINEIO_OK)
		return LINEIO_TOOLONG;
	if (r != LINEIO_OK)
		return r;
	buf_truncate(line, line->len - 1);
	if (line->len > 0 && line->data[line->len - 1] == '\r')
		buf_truncate(line, line->len - 1);
	return LINEIO_OK;
}
