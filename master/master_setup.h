/* master_setup: runtime directories, the pidfile lock and daemonizing,
 * done once at master's start. */
#ifndef POSTERN_MASTER_SETUP_H
#define POSTERN_MASTER_SETUP_H
#include "config.h"

/* Create paths.runtime (0755) and runtime/empty (0555) if missing.  0/-1. */
int setup_runtime(const struct config *c);
/* Lock runtime/master.pid; -1 with a message if another master holds it.
 * The path is written to pidfile. */
int setup_pidfile_lock(const struct config *c, char *pidfile, size_t size);
/* Write our pid into the locked pidfile.  0/-1. */
int setup_pidfile_write(void);
/* Detach: fork (the parent exits 0), setsid, stdio to /dev/null and stderr
 * to runtime/master.log unless logging to syslog.  0/-1. */
int setup_daemon(const struct config *c);
#endif
