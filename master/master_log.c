/*
 * master_log: relays the children's log lines.  Children share one pipe
 * (fd 2); master splits what it reads into lines and writes each whole line
 * out, so lines of different children never interleave mid-line.
 * The bytes come from our own programs; log.c already escaped them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "master_log.h"
#include "util.h"

#define LINE_MAX_RELAY 4096

static int log_pipe[2] = { -1, -1 };
static int log_syslog;
static struct buf pending = BUF_INIT(LINE_MAX_RELAY);

int
master_log_open(int to_syslog)
{
	log_syslog = to_syslog;
	if (pipe2(log_pipe, O_CLOEXEC) == -1)
		return -1;
	if (fd_set_nonblock(log_pipe[0], 1) == -1)
		return -1;
	return 0;
}

int
master_log_read_fd(void)
{
	return log_pipe[0];
}

int
master_log_write_fd(void)
{
	return log_pipe[1];
}

static void
relay_line(const char *p, size_t n)
{
	if (n == 0)
		return;
	if (log_syslog) {
		syslog(LOG_MAIL | LOG_INFO, "%.*s", (int)n, p);
		return;
	}
	if (write_all(STDERR_FILENO, p, n) == -1 ||
	    write_all(STDERR_FILENO, "\n", 1) == -1) {
		/* nowhere left to report it */
	}
}

/* Emit every complete line in pending; a line over the limit is cut. */
static void
relay_pending(int flush)
{
	char *nl;

	while ((nl = memchr(pending.data ? pending.data : "", '\n',
	    pending.len)) != NULL) {
		relay_line(pending.data, (size_t)(nl - pending.data));
		buf_consume(&pending, (size_t)(nl - pending.data) + 1);
	}
	if (flush || pending.len == pending.max) {
		relay_line(pending.data, pending.len);
		buf_reset(&pending);
	}
}

void
master_log_drain(int at_exit)
{
	char chunk[4096];
	ssize_t n;
	size_t off, room, take;

	for (;;) {
		n = read(log_pipe[0], chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (off = 0; off < (size_t)n; off += take) {
			room = pending.max - pending.len;
			take = (size_t)n - off < room ? (size_t)n - off : room;
			if (buf_append(&pending, chunk + off, take) == -1)
				log_panic("log relay: buffer");
			relay_pending(0);
		}
	}
	relay_pending(at_exit);
}
