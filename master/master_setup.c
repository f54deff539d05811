/*
 * master_setup: the one-time steps before master's loop: runtime dirs,
 * pidfile (flock: a second master refuses), daemonizing.  Runs as root;
 * trusts the config it was given.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "master_setup.h"
#include "util.h"

static int pid_fd = -1;

static int
make_dir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0) {
		if (chmod(path, mode) == -1) {
			log_warn("chmod %s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	log_warn("cannot create directory %s: %s", path, strerror(errno));
	return -1;
}

int
setup_runtime(const struct config *c)
{
	char empty[512];

	if (str_format(empty, sizeof(empty), "%s/empty", c->paths_runtime) == -1) {
		log_warn("paths.runtime too long");
		return -1;
	}
	if (make_dir(c->paths_runtime, 0755) == -1 || make_dir(empty, 0555) == -1)
		return -1;
	return 0;
}

int
setup_pidfile_lock(const struct config *c, char *pidfile, size_t size)
{
	char text[32];
	ssize_t n;

	if (str_format(pidfile, size, "%s/master.pid", c->paths_runtime) == -1)
		return -1;
	pid_fd = open(pidfile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (pid_fd == -1) {
		log_warn("%s: %s", pidfile, strerror(errno));
		return -1;
	}
	if (fchmod(pid_fd, 0644) == -1)
		log_warn("chmod %s: %s", pidfile, strerror(errno));
	if (flock(pid_fd, LOCK_EX | LOCK_NB) == -1) {
		n = pread(pid_fd, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		text[strcspn(text, "\n")] = '\0';
		log_warn("already running, pid %s", text[0] ? text : "unknown");
		close(pid_fd);
		pid_fd = -1;
		return -1;
	}
	return 0;
}

int
setup_pidfile_write(void)
{
	char text[32];

	if (str_format(text, sizeof(text), "%ld\n", (long)getpid()) == -1 ||
	    ftruncate(pid_fd, 0) == -1 ||
	    pwrite(pid_fd, text, strlen(text), 0) != (ssize_t)strlen(text)) {
		log_warn("cannot write pidfile: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
setup_daemon(const struct config *c)
{
	char logpath[512];
	int fd, logfd;
	pid_t pid;

	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	logfd = fd;
	if (!c->log_syslog) {
		if (str_format(logpath, sizeof(logpath), "%s/master.log",
		    c->paths_runtime) == -1 ||
		    (logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT |
		    O_NOFOLLOW, 0600)) == -1) {
			log_warn("cannot open log file %s: %s", logpath, strerror(errno));
			close(fd);
			return -1;
		}
	}
	if ((pid = fork()) == -1) {
		log_warn("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() == -1 || dup2(fd, STDIN_FILENO) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1 || dup2(logfd, STDERR_FILENO) == -1)
		return -1;
	if (logfd != fd)
		close(logfd);
	close(fd);
	if (c->log_syslog)
		log_init("master", LOGDEST_SYSLOG);
	return 0;
}
