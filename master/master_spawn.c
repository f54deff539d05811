/*
 * master_spawn: fork and exec one child of master with exactly the
 * descriptors it is owed and a scrubbed environment.  Used for long-lived
 * services and per-connection sessions; trusts only its callers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "log.h"
#include "master_spawn.h"
#include "util.h"

extern char **environ;

static const char *const kept_env[] = {
	"POSTERN_CONF", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
};
#define NKEPT (sizeof(kept_env) / sizeof(kept_env[0]))

int
master_program_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/* In the child: move fds into place 0..nfds-1 and close everything else. */
static void
child_fds(const int *fds, int nfds)
{
	int high[8], i;

	if (nfds > 8)
		_exit(127);
	for (i = 0; i < nfds; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD, 64)) == -1)
			_exit(127);
	for (i = 0; i < nfds; i++)
		if (dup2(high[i], i) == -1)
			_exit(127);
	close_fds_from(nfds, NULL, 0);
}

pid_t
master_spawn(const char *path, char *const argv[], const int *fds, int nfds)
{
	char *envp[NKEPT + 1], **e;
	size_t i, n = 0, klen;
	sigset_t all;
	pid_t pid;

	for (e = environ; *e != NULL && n < NKEPT; e++)
		for (i = 0; i < NKEPT; i++) {
			klen = strlen(kept_env[i]);
			if (strncmp(*e, kept_env[i], klen) == 0 && (*e)[klen] == '=') {
				envp[n++] = *e;
				break;
			}
		}
	envp[n] = NULL;
	if ((pid = fork()) == -1) {
		log_warn("%s: fork: %s", argv[0], strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* child */
	event_signal_reset_child();
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (setsid() == -1) {
		/* already a group leader: cannot happen after fork */
	}
	child_fds(fds, nfds);
	execve(path, argv, envp);
	log_warn("%s: cannot run %s: %s", argv[0], path, strerror(errno));
	_exit(127);
}
