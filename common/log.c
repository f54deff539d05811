/*
 * log: process-named log lines to stderr or syslog.  Used by every process;
 * message text comes from our own code, control bytes are escaped anyway so
 * a peer's string quoted in a log line cannot forge another line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

static char log_name[32] = "postern";
static char log_qid[40];
static enum log_dest log_to = LOGDEST_STDERR;

void
log_init(const char *name, enum log_dest dest)
{
	if (str_copy(log_name, sizeof(log_name), name) == -1)
		memcpy(log_name, "postern", sizeof("postern"));
	log_to = dest;
	if (dest == LOGDEST_SYSLOG)
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_qid(const char *qid)
{
	if (qid == NULL || str_copy(log_qid, sizeof(log_qid), qid) == -1)
		log_qid[0] = '\0';
}

static void
log_emit(int prio, const char *tag, const char *fmt, va_list ap)
{
	char text[2048], line[2300];
	size_t i, o = 0;
	int n, saved = errno;

	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		text[0] = '\0';
	/* escape control characters so one call is one line */
	for (i = 0; text[i] != '\0' && o + 5 < sizeof(text); i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f) {
			line[o++] = '\\';
			line[o++] = 'x';
			line[o++] = "0123456789abcdef"[c >> 4];
			line[o++] = "0123456789abcdef"[c & 15];
		} else
			line[o++] = (char)c;
	}
	line[o] = '\0';
	if (log_to == LOGDEST_SYSLOG) {
		syslog(prio, "%s%s%s%s", log_qid, log_qid[0] ? ": " : "", tag, line);
	} else {
		char out[2600];

		n = snprintf(out, sizeof(out), "%s[%ld]: %s%s%s%s\n", log_name,
		    (long)getpid(), log_qid, log_qid[0] ? ": " : "", tag, line);
		if (n > 0) {
			size_t len = (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1;

			if (write(STDERR_FILENO, out, len) < 0) {
				/* nowhere left to report it */
			}
		}
	}
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, "fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "panic: ", fmt, ap);
	va_end(ap);
	abort();
}
