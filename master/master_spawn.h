/* master_spawn: fork + exec of services and sessions with the fd layout of
 * the service start contract.  Used by master_service and master_listen. */
#ifndef POSTERN_MASTER_SPAWN_H
#define POSTERN_MASTER_SPAWN_H
#include <sys/types.h>

/* Start path with argv; fds[i] becomes descriptor i in the child (all
 * others closed), environment cleared but for the kept variables.  The
 * child gets its own session so a terminal's Ctrl-C reaches only master.
 * Returns the pid, or -1 (logged). */
pid_t master_spawn(const char *path, char *const argv[], const int *fds, int nfds);
/* 1 if path is an executable regular file. */
int master_program_exists(const char *path);
#endif
