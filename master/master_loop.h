/* master_loop: master's poll loop, reload and graceful stop; the state the
 * other master modules act on. */
#ifndef POSTERN_MASTER_LOOP_H
#define POSTERN_MASTER_LOOP_H
#include "buf.h"
#include "config.h"

/* Run until stopped; c is owned by the loop from now on.  Returns the exit code. */
int master_run(struct config *c, const char *confpath, int devmode,
    const char *pidfile);
/* Re-read the config; on error (appended to errors) keep the old one.  0/-1. */
int master_reload(struct buf *errors) WUR;
/* Begin the graceful stop. */
void master_stop(void);
/* The full `postern status` text. */
int master_status_text(struct buf *out) WUR;
#endif
