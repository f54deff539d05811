/* master_handoff: a login process's IPC_LOGIN_HANDOFF turned into a mail
 * process (docs/login.md). */
#ifndef POSTERN_MASTER_HANDOFF_H
#define POSTERN_MASTER_HANDOFF_H
#include <sys/types.h>

#include "config.h"

/* Read one record from the login channel chan and, if it is a valid
 * handoff, start prog (the mail program of service, as root: it drops
 * itself) with the client descriptor on fd 0 and 1 and an
 * IPC_LOGIN_SESSION record on fd 3, then answer the login process.  ip and
 * listener are master's own facts about the connection.  The mail
 * process's pid; -1 (the login process got IPC_ERROR, or is gone: close
 * the channel); -2 nothing to read yet (a stale poll result: keep it). */
pid_t handoff_start(const struct config *c, const char *confpath, int chan,
    const char *prog, const char *service, const char *listener, const char *ip);
#endif
