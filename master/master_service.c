/*
 * master_service: supervises the long-lived services.  master creates each
 * service's SOCK_SEQPACKET sockets (owner, group and mode from the table),
 * starts the program as root with the sockets on fd 3, 4, 5 (it drops
 * privileges itself), restarts it with exponential backoff, and gives up on
 * one that fails quickly MAX_QUICK times in a row until the next reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "master_log.h"
#include "master_service.h"
#include "master_spawn.h"
#include "master_status.h"
#include "util.h"

#define BACKOFF_MIN	250	/* ms before the first restart */
#define BACKOFF_MAX	30000
#define QUICK_MS	2000	/* an exit this soon after start is a quick failure */
#define STABLE_MS	10000	/* running this long resets the backoff */
#define MAX_QUICK	5

enum svc_state { SVC_STOPPED, SVC_RUNNING, SVC_BACKOFF, SVC_FAILED };
static const char *const state_names[] = { "stopped", "running", "backoff", "failed" };

struct svc_sock {
	const char *file;	/* in paths.runtime */
	const char *group;	/* role whose group may connect */
};

struct service {
	const char *name;	/* program in paths.libexec and account role */
	struct svc_sock socks[3];
	int nsocks;
	/* runtime */
	int fds[3];
	char paths[3][512];
	char account[64];
	pid_t pid;
	enum svc_state state;
	int restarts, quick;
	int64_t started, next_start, backoff;
	int restart_now;	/* we stopped it (reload): restart without penalty */
};

static struct service services[] = {
	{ "auth", { { "auth.sock", "authc" } }, 1, { -1, -1, -1 }, { "" }, "", 0,
	    SVC_STOPPED, 0, 0, 0, 0, BACKOFF_MIN, 0 },
	{ "queue", { { "queue.sock", "smtpd" }, { "submit.sock", "submit" },
	    { "deliver.sock", "remote" } }, 3,
	    { -1, -1, -1 }, { "" }, "", 0, SVC_STOPPED, 0, 0, 0, 0, BACKOFF_MIN, 0 },
	/* The local-delivery spawner: stays root (it switches to each mailbox
	 * owner per delivery) and connects to the queue's deliver.sock. */
	{ "local", { { NULL, NULL } }, 0, { -1, -1, -1 }, { "" }, "", 0,
	    SVC_STOPPED, 0, 0, 0, 0, BACKOFF_MIN, 0 },
	/* The SMTP client: as PREFIXremote, chrooted in paths.runtime; it
	 * connects to the queue's deliver.sock itself. */
	{ "remote", { { NULL, NULL } }, 0, { -1, -1, -1 }, { "" }, "", 0,
	    SVC_STOPPED, 0, 0, 0, 0, BACKOFF_MIN, 0 },
};
#define NSERVICES (sizeof(services) / sizeof(services[0]))

static int stopping, devmode;

void
service_set_devmode(int on)
{
	devmode = on;
}

static void
close_socks(struct service *s)
{
	int i;

	for (i = 0; i < s->nsocks; i++) {
		if (s->fds[i] != -1)
			close(s->fds[i]);
		s->fds[i] = -1;
		if (s->paths[i][0] != '\0' && unlink(s->paths[i]) == -1 &&
		    errno != ENOENT)
			log_warn("%s: unlink %s: %s", s->name, s->paths[i],
			    strerror(errno));
		s->paths[i][0] = '\0';
	}
}

/* Create one socket: bind, then mode and (as root) owner/group. */
static int
open_sock(const struct config *c, struct service *s, int i)
{
	char group[64];
	struct passwd *pw;
	struct group *gr;
	char *path = s->paths[i];

	if (str_format(path, sizeof(s->paths[i]), "%s/%s", c->paths_runtime,
	    s->socks[i].file) == -1 ||
	    config_account(c, s->socks[i].group, group, sizeof(group)) == -1)
		return -1;
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s: unlink %s: %s", s->name, path, strerror(errno));
	if ((s->fds[i] = ipc_listen(path, 128)) == -1) {
		log_warn("%s: cannot listen on %s: %s", s->name, path, strerror(errno));
		return -1;
	}
	if (fd_set_cloexec(s->fds[i], 1) == -1)
		return -1;
	if (!devmode) {
		if ((pw = getpwnam(s->account)) == NULL ||
		    (gr = getgrnam(group)) == NULL) {
			log_warn("%s: account %s or group %s does not exist",
			    s->name, s->account, group);
			return -1;
		}
		if (chown(path, pw->pw_uid, gr->gr_gid) == -1) {
			log_warn("%s: chown %s: %s", s->name, path, strerror(errno));
			return -1;
		}
	}
	if (chmod(path, 0660) == -1) {
		log_warn("%s: chmod %s: %s", s->name, path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
mark_failed(struct service *s, const char *why)
{
	log_warn("%s: %s; not restarting (fix it and run postern reload)",
	    s->name, why);
	close_socks(s);
	s->state = SVC_FAILED;
}

/* Fork and exec the service with its sockets; sets its state. */
static void
start_one(const struct config *c, const char *confpath, struct service *s,
    int64_t now)
{
	char prog[512];
	char *argv[] = { (char *)s->name, "-c", (char *)confpath, NULL };
	int fds[6], i;

	if (str_format(prog, sizeof(prog), "%s/%s", c->paths_libexec, s->name) == -1)
		return;
	if (strcmp(s->name, "local") == 0) {
		if (str_copy(s->account, sizeof(s->account), "root") == -1)
			return;
	} else if (config_account(c, s->name, s->account, sizeof(s->account)) == -1)
		return;
	if (s->fds[0] == -1)
		for (i = 0; i < s->nsocks; i++)
			if (open_sock(c, s, i) == -1) {
				mark_failed(s, "cannot create its sockets");
				return;
			}
	fds[0] = fds[1] = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fds[0] == -1) {
		log_warn("%s: /dev/null: %s", s->name, strerror(errno));
		return;
	}
	fds[2] = master_log_write_fd();
	for (i = 0; i < s->nsocks; i++)
		fds[3 + i] = s->fds[i];
	s->pid = master_spawn(prog, argv, fds, 3 + s->nsocks);
	close(fds[0]);
	s->started = now;
	if (s->pid == -1) {
		s->pid = 0;
		s->state = SVC_BACKOFF;
		s->next_start = now + s->backoff;
		return;
	}
	s->state = SVC_RUNNING;
	log_info("%s: started, pid %ld", s->name, (long)s->pid);
}

/* 1 if the service's program is installed. */
static int
installed(const struct config *c, const struct service *s)
{
	char prog[512];

	return str_format(prog, sizeof(prog), "%s/%s", c->paths_libexec,
	    s->name) == 0 && master_program_exists(prog);
}

void
service_start_all(const struct config *c, const char *confpath)
{
	size_t i;

	for (i = 0; i < NSERVICES; i++) {
		struct service *s = &services[i];

		if (s->state == SVC_RUNNING || !installed(c, s))
			continue;
		s->quick = 0;
		s->backoff = BACKOFF_MIN;
		start_one(c, confpath, s, now_ms());
	}
}

void
service_tick(const struct config *c, const char *confpath, int64_t now)
{
	size_t i;

	if (stopping)
		return;
	for (i = 0; i < NSERVICES; i++)
		if (services[i].state == SVC_BACKOFF && services[i].next_start <= now) {
			services[i].restarts++;
			start_one(c, confpath, &services[i], now);
		}
}

int64_t
service_next_deadline(void)
{
	int64_t t = -1;
	size_t i;

	for (i = 0; i < NSERVICES; i++)
		if (services[i].state == SVC_BACKOFF &&
		    (t == -1 || services[i].next_start < t))
			t = services[i].next_start;
	return t;
}

/* "exited with status 1" / "killed by signal 9" */
static void
describe(int status, char *out, size_t outsize)
{
	if (WIFSIGNALED(status)) {
		if (str_format(out, outsize, "killed by signal %d", WTERMSIG(status)) == 0)
			return;
	} else if (str_format(out, outsize, "exited with status %d",
	    WEXITSTATUS(status)) == 0)
		return;
	out[0] = '\0';
}

/* Decide what happens after an unexpected exit: backoff or failed. */
static void
after_crash(struct service *s, const char *how, int64_t now)
{
	int64_t ran = now - s->started;

	if (ran >= STABLE_MS)
		s->backoff = BACKOFF_MIN;
	if (ran < QUICK_MS)
		s->quick++;
	else
		s->quick = 0;
	if (s->quick >= MAX_QUICK) {
		char why[64];

		if (str_format(why, sizeof(why), "failed %d times in a row",
		    s->quick) == -1)
			why[0] = '\0';
		log_warn("%s: pid %ld %s", s->name, (long)s->pid, how);
		mark_failed(s, why);
		return;
	}
	log_warn("%s: pid %ld %s; restarting in %lld ms", s->name, (long)s->pid,
	    how, (long long)s->backoff);
	s->state = SVC_BACKOFF;
	s->next_start = now + s->backoff;
	s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
}

int
service_reaped(pid_t pid, int status, int64_t now)
{
	char how[64];
	size_t i;

	for (i = 0; i < NSERVICES; i++) {
		struct service *s = &services[i];

		if (s->pid != pid || pid <= 0)
			continue;
		describe(status, how, sizeof(how));
		if (stopping) {
			log_info("%s: pid %ld %s", s->name, (long)pid, how);
			s->state = SVC_STOPPED;
		} else if (s->restart_now) {
			log_info("%s: pid %ld stopped for restart", s->name, (long)pid);
			s->restart_now = 0;
			s->quick = 0;
			s->backoff = BACKOFF_MIN;
			s->state = SVC_BACKOFF;
			s->next_start = now;
		} else
			after_crash(s, how, now);
		s->pid = 0;
		return 1;
	}
	return 0;
}

void
service_restart_all(void)
{
	size_t i;

	for (i = 0; i < NSERVICES; i++)
		if (services[i].state == SVC_RUNNING && services[i].pid > 0 &&
		    kill(services[i].pid, SIGTERM) == 0)
			services[i].restart_now = 1;
}

void
service_stop_all(int sig)
{
	size_t i;

	stopping = 1;
	for (i = 0; i < NSERVICES; i++) {
		if (services[i].pid > 0 && kill(services[i].pid, sig) == -1)
			log_warn("%s: kill %ld: %s", services[i].name,
			    (long)services[i].pid, strerror(errno));
		if (services[i].state == SVC_BACKOFF)
			services[i].state = SVC_STOPPED;
	}
}

int
service_alive(void)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NSERVICES; i++)
		if (services[i].pid > 0)
			n++;
	return n;
}

int
service_status(struct buf *out)
{
	size_t i;

	for (i = 0; i < NSERVICES; i++) {
		struct service *s = &services[i];

		if (s->state == SVC_STOPPED && s->pid == 0 && s->restarts == 0 &&
		    s->account[0] == '\0')
			continue;	/* not installed */
		if (status_line(out, s->name, s->pid, state_names[s->state],
		    s->restarts, s->account,
		    !devmode && strcmp(s->name, "local") != 0) == -1)
			return -1;
	}
	return 0;
}

void
service_cleanup(void)
{
	size_t i;

	for (i = 0; i < NSERVICES; i++)
		close_socks(&services[i]);
}
