/*
 * postern_ctl: the subcommands that drive master.  start execs (or forks and
 * execs) PATHS_LIBEXEC/master; stop, reload and status send one IPC request
 * to master.sock.  master's answers are trusted only as text to print.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ipc.h"
#include "postern_ctl.h"
#include "util.h"

#define START_WAIT_MS	10000

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Send one request of type to master.  1 answered (ans filled), 0 master
 * not running, -1 other error (printed unless quiet). */
static int
ask(const struct config *c, uint16_t type, struct ipc_msg *ans, int quiet)
{
	char path[512];
	struct ipc_msg req;
	int fd, rc;

	if (str_format(path, sizeof(path), "%s/master.sock", c->paths_runtime) == -1)
		return -1;
	if ((fd = ipc_connect(path)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			return 0;
		if (!quiet)
			fprintf(stderr, "postern: cannot reach master at %s: %s\n",
			    path, strerror(errno));
		return -1;
	}
	ipc_msg_init(&req, type);
	rc = ipc_call(fd, &req, ans, 10000);
	ipc_msg_free(&req);
	close(fd);
	if (rc != 1) {
		if (!quiet)
			fprintf(stderr, "postern: no answer from master\n");
		return -1;
	}
	return 1;
}

/* 1 while a master holds the pidfile lock, 0 when none does. */
static int
master_alive(const struct config *c)
{
	char path[512];
	int fd, alive;

	if (str_format(path, sizeof(path), "%s/master.pid", c->paths_runtime) == -1)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	alive = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

/* Wait until master answers and no service is still starting. */
static int
wait_ready(const struct config *c)
{
	struct ipc_msg ans;
	const char *text;
	int64_t end = now_ms() + START_WAIT_MS;
	int answered = 0, starting;

	while (now_ms() < end) {
		if (ask(c, IPC_STATUS, &ans, 1) == 1) {
			answered = 1;
			text = ipc_get_str(&ans, "text", IPC_MAX_RECORD);
			starting = text == NULL || strstr(text, "state=starting") != NULL;
			ipc_msg_free(&ans);
			if (!starting)
				return 0;
		}
		sleep_ms(100);
	}
	if (answered)
		return 0;	/* up; a slow service is master's business now */
	fprintf(stderr, "postern: master did not answer within %d s; see %s/master.log"
	    " or syslog\n", START_WAIT_MS / 1000, c->paths_runtime);
	return 1;
}

int
postern_start(const char *conf, const struct config *c, int argc, char **argv)
{
	char prog[512];
	char *margv[] = { "master", "-c", (char *)conf, NULL, NULL };
	int status;
	pid_t pid;

	if (argc == 2 && strcmp(argv[1], "-f") == 0)
		margv[3] = "-f";
	else if (argc != 1) {
		fprintf(stderr, "usage: postern [-c FILE] start [-f]\n");
		return 2;
	}
	if (str_format(prog, sizeof(prog), "%s/master", c->paths_libexec) == -1 ||
	    access(prog, X_OK) == -1) {
		fprintf(stderr, "postern: %s: %s\n", prog, strerror(errno));
		return 1;
	}
	if (margv[3] != NULL) {
		execv(prog, margv);
		fprintf(stderr, "postern: cannot run %s: %s\n", prog, strerror(errno));
		return 1;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, "postern: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execv(prog, margv);
		fprintf(stderr, "postern: cannot run %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;	/* master said why on stderr */
	if (wait_ready(c) != 0)
		return 1;
	printf("postern: started\n");
	return 0;
}

int
postern_stop(const char *conf, const struct config *c, int argc, char **argv)
{
	struct ipc_msg ans;
	int64_t end;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "usage: postern [-c FILE] stop\n");
		return 2;
	}
	if ((rc = ask(c, IPC_STOP, &ans, 0)) == -1)
		return 1;
	if (rc == 0) {
		fprintf(stderr, "postern: master is not running\n");
		return 1;
	}
	ipc_msg_free(&ans);
	end = now_ms() + ((int64_t)c->master_grace_period + 5) * 1000;
	while (master_alive(c)) {
		if (now_ms() >= end) {
			fprintf(stderr, "postern: master did not stop within %lld s\n",
			    (long long)c->master_grace_period + 5);
			return 1;
		}
		sleep_ms(50);
	}
	printf("postern: stopped\n");
	return 0;
}

int
postern_reload(const char *conf, const struct config *c, int argc, char **argv)
{
	struct ipc_msg ans;
	const char *err;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "usage: postern [-c FILE] reload\n");
		return 2;
	}
	if ((rc = ask(c, IPC_RELOAD, &ans, 0)) == -1)
		return 1;
	if (rc == 0) {
		fprintf(stderr, "postern: master is not running\n");
		return 1;
	}
	rc = 0;
	if (ans.type != IPC_OK) {
		err = ipc_get_str(&ans, "error", IPC_MAX_RECORD);
		fprintf(stderr, "%spostern: reload failed; master keeps its old "
		    "configuration\n", err != NULL ? err : "");
		rc = 1;
	} else
		printf("postern: reloaded\n");
	ipc_msg_free(&ans);
	return rc;
}

int
postern_status(const char *conf, const struct config *c, int argc, char **argv)
{
	struct ipc_msg ans;
	const char *text;
	int rc;

	if (argc != 1) {
		fprintf(stderr, "usage: postern [-c FILE] status\n");
		return 2;
	}
	if ((rc = ask(c, IPC_STATUS, &ans, 0)) == -1)
		return 1;
	if (rc == 0) {
		fprintf(stderr, "postern: master is not running\n");
		return 1;
	}
	text = ipc_get_str(&ans, "text", IPC_MAX_RECORD);
	if (ans.type != IPC_OK || text == NULL) {
		fprintf(stderr, "postern: bad answer from master\n");
		ipc_msg_free(&ans);
		return 1;
	}
	fputs(text, stdout);
	ipc_msg_free(&ans);
	return 0;
}
