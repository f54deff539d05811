/*
 * lineio: bounded line reader and buffered writer over a descriptor or a
 * TLS connection (see lineio.h).  Used by smtpd, the logins and the SMTP
 * client; it trusts nothing it reads: every line has a caller-given maximum
 * and every wait a timeout.  Writes use send(MSG_NOSIGNAL) on sockets; for
 * other descriptors ignoring SIGPIPE is the caller's job.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lineio.h"
#include "log.h"

/* Pending output beyond this makes lineio_write fail (a peer that does not
 * read cannot make us buffer without bound). */
#define LINEIO_OUTMAX (1024 * 1024)
/* Largest single write: small enough that a blocking pipe write after
 * POLLOUT does not stall, and that one tls_write has a short deadline. */
#define LINEIO_WRITECHUNK 16384

static int64_t
lineio_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd; the timeout covers the whole wait, EINTR included.
 * 1 ready, LINEIO_TIMEOUT, LINEIO_ERROR. */
static int
lineio_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd;
	int64_t deadline = timeout_ms > 0 ? lineio_now_ms() + timeout_ms : 0;
	int left = timeout_ms > 0 ? timeout_ms : -1;
	int r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left);
		if (r > 0)
			return 1;	/* readable, writable, HUP or ERR: the I/O call tells */
		if (r == 0)
			return LINEIO_TIMEOUT;
		if (errno != EINTR)
			return LINEIO_ERROR;
		if (timeout_ms > 0) {
			int64_t now = lineio_now_ms();

			if (now >= deadline)
				return LINEIO_TIMEOUT;
			left = (int)(deadline - now);
		}
	}
}

void
lineio_init(struct lineio *l, int fd, int timeout_ms)
{
	l->fd = fd;
	l->tls = NULL;
	l->tls_ops = NULL;
	l->timeout_ms = timeout_ms;
	l->inpos = l->inlen = 0;
	buf_init(&l->out, LINEIO_OUTMAX);
	l->eof = l->err = 0;
}

int
lineio_preload(struct lineio *l, const void *p, size_t n)
{
	size_t unread = l->inlen - l->inpos;

	if (n == 0)
		return 0;
	if (n > sizeof(l->in) - unread)
		return -1;
	memmove(l->in + n, l->in + l->inpos, unread);
	memcpy(l->in, p, n);
	l->inpos = 0;
	l->inlen = n + unread;
	return 0;
}

/* Read more input into the (empty) buffer: >0 bytes, 0 EOF, LINEIO_ERROR,
 * LINEIO_TIMEOUT.  EOF and errors are sticky. */
static int
lineio_fill(struct lineio *l)
{
	ssize_t n;
	int r;

	if (l->err)
		return LINEIO_ERROR;
	if (l->eof)
		return 0;
	l->inpos = l->inlen = 0;
	for (;;) {
		if (l->tls == NULL || l->tls_ops->pending(l->tls) <= 0) {
			r = lineio_wait(l->fd, POLLIN, l->timeout_ms);
			if (r != 1) {
				if (r == LINEIO_ERROR)
					l->err = 1;
				return r;
			}
		}
		if (l->tls != NULL)
			n = l->tls_ops->read(l->tls, l->in, sizeof(l->in));
		else
			n = read(l->fd, l->in, sizeof(l->in));
		if (n > 0) {
			l->inlen = (size_t)n;
			return 1;
		}
		if (n == 0) {
			l->eof = 1;
			return 0;
		}
		if (l->tls == NULL && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (l->tls != NULL && errno == ETIMEDOUT)
			return LINEIO_TIMEOUT;
		l->err = 1;
		return LINEIO_ERROR;
	}
}

/*
 * Lines are moved into line as they arrive, so on LINEIO_EOF, _ERROR and
 * _TIMEOUT line holds the partial line read so far.  max is also capped
 * by line's own limit.
 */
int
lineio_read_line(struct lineio *l, struct buf *line, size_t max)
{
	const char *nl;
	size_t avail, room, take;
	int r;

	buf_reset(line);
	if (max > line->max)
		max = line->max;
	for (;;) {
		room = max - line->len;
		if (room == 0)
			return LINEIO_TOOLONG;
		if (l->inpos == l->inlen) {
			r = lineio_fill(l);
			if (r == 0)
				return LINEIO_EOF;
			if (r < 0)
				return r;
		}
		avail = l->inlen - l->inpos;
		take = avail < room ? avail : room;
		nl = memchr(l->in + l->inpos, '\n', take);
		if (nl != NULL)
			take = (size_t)(nl - (l->in + l->inpos)) + 1;
		if (buf_append(line, l->in + l->inpos, take) == -1)
			return LINEIO_ERROR;	/* cannot happen: max <= line->max */
		l->inpos += take;
		if (nl != NULL)
			return LINEIO_OK;
	}
}

int
lineio_skip_line(struct lineio *l)
{
	const char *nl;
	int r;

	for (;;) {
		if (l->inpos == l->inlen) {
			r = lineio_fill(l);
			if (r == 0)
				return LINEIO_EOF;
			if (r < 0)
				return r;
		}
		nl = memchr(l->in + l->inpos, '\n', l->inlen - l->inpos);
		if (nl != NULL) {
			l->inpos = (size_t)(nl - l->in) + 1;
			return LINEIO_OK;
		}
		l->inpos = l->inlen;
	}
}

long
lineio_read(struct lineio *l, void *p, size_t n)
{
	size_t avail;
	int r;

	if (n == 0)
		return 0;
	if (l->inpos == l->inlen) {
		r = lineio_fill(l);
		if (r <= 0)
			return r;
	}
	avail = l->inlen - l->inpos;
	if (n > avail)
		n = avail;
	memcpy(p, l->in + l->inpos, n);
	l->inpos += n;
	return (long)n;
}

size_t
lineio_pending(const struct lineio *l)
{
	size_t n = l->inlen - l->inpos;
	int t;

	if (l->tls != NULL && (t = l->tls_ops->pending(l->tls)) > 0)
		n += (size_t)t;
	return n;
}

int
lineio_has_line(const struct lineio *l)
{
	return l->inlen > l->inpos && memchr(l->in + l->inpos, '\n', l->inlen - l->inpos) != NULL;
}

int
lineio_write(struct lineio *l, const void *p, size_t n)
{
	return buf_append(&l->out, p, n);
}

int
lineio_printf(struct lineio *l, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(&l->out, fmt, ap);
	va_end(ap);
	return r;
}

/* Write some of p to a plain descriptor: bytes written or -1. */
static ssize_t
lineio_write_fd(int fd, const char *p, size_t n)
{
	ssize_t w;

	w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == -1 && errno == ENOTSOCK)
		w = write(fd, p, n);
	return w;
}

/* Write all pending output; on error the output is dropped.  0/-1. */
int
lineio_flush(struct lineio *l)
{
	size_t done = 0, n;
	ssize_t w;
	int r = 0;

	while (done < l->out.len) {
		n = l->out.len - done;
		if (n > LINEIO_WRITECHUNK)
			n = LINEIO_WRITECHUNK;
		if (l->tls != NULL) {
			if (l->tls_ops->write(l->tls, l->out.data + done, n) == -1)
				break;
			done += n;
			continue;
		}
		if (lineio_wait(l->fd, POLLOUT, l->timeout_ms) != 1)
			break;
		w = lineio_write_fd(l->fd, l->out.data + done, n);
		if (w > 0)
			done += (size_t)w;
		else if (w == -1 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
	}
	if (done < l->out.len) {
		l->err = 1;
		r = -1;
	}
	buf_reset(&l->out);
	return r;
}

int
lineio_flush_client(struct lineio *l, int timeout_ms, const char *client)
{
	if (l->out.len == 0)
		return 0;
	l->timeout_ms = timeout_ms;
	if (lineio_flush(l) == -1) {
		log_info("client %s: write failed or timed out; closing", client);
		return -1;
	}
	return 0;
}

void
lineio_free(struct lineio *l)
{
	buf_free(&l->out);
	l->inpos = l->inlen = 0;
}
