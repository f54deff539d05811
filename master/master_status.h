/* master_status: the lines of `postern status`, with the user and uid each
 * process really runs as (read from /proc, not assumed). */
#ifndef POSTERN_MASTER_STATUS_H
#define POSTERN_MASTER_STATUS_H
#include <sys/types.h>

#include "buf.h"

/* Append "NAME pid=P user=U uid=N state=S restarts=R\n".  With pid > 0 the
 * uid is the process's effective uid; a service still at uid 0 when it
 * should not be (must_drop) is reported as "starting". */
int status_line(struct buf *out, const char *name, pid_t pid, const char *state,
    int restarts, const char *user, int must_drop) WUR;
#endif
