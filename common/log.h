/*
 * log: one line per event, "name[pid]: [QUEUEID: ][warning: |fatal: ]text".
 * Lines go to stderr (which master collects and relays) or to syslog.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

enum log_dest { LOGDEST_STDERR, LOGDEST_SYSLOG };

/* Name the process; call again after fork/exec to rename. */
void log_init(const char *name, enum log_dest dest);
/* Queue id added to every following line; NULL clears it. */
void log_set_qid(const char *qid);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1). */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "Cannot happen": log and abort(). */
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define PANIC_UNLESS(cond) do { if (!(cond)) \
	log_panic("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond); } while (0)
#endif
