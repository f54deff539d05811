/* master_log: the log pipe every child writes its stderr to, relayed by
 * master line by line to its own stderr (foreground or log file) or syslog. */
#ifndef POSTERN_MASTER_LOG_H
#define POSTERN_MASTER_LOG_H

/* Create the pipe; to_syslog relays to syslog instead of stderr.  0/-1. */
int master_log_open(int to_syslog);
/* Read end (non-blocking) for poll, write end for children's fd 2. */
int master_log_read_fd(void);
int master_log_write_fd(void);
/* Relay whatever is readable now; at_exit flushes a partial last line. */
void master_log_drain(int at_exit);
#endif
