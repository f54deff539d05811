/*
 * local_slot: one delivery job in the root spawner, from the queue's record
 * to the RESULT: strict validation, resolution (admin maps and passwd),
 * fork of the delivery child, collection and re-validation of what the
 * child reports.  Neither the child nor the queue is trusted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "local_deliver.h"
#include "local_server.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* ---- lookups for local_resolve ---- */

static int
slot_map(void *ctx, enum local_map_id which, const char *key, struct buf *val)
{
	struct local_server *s = ctx;

	return map_lookup(which == LOCAL_MAP_MAILBOXES ? &s->mailboxes : &s->aliases,
	    key, val);
}

/* A system account that may receive mail: uid 1000 and up, not root, not
 * nobody, with an absolute home. */
static int
slot_passwd(void *ctx, const char *name, struct local_pw *pw)
{
	struct passwd pwd, *res = NULL;
	char mem[16384];
	int r;

	(void)ctx;
	r = getpwnam_r(name, &pwd, mem, sizeof(mem), &res);
	if (r != 0)
		return r == ENOENT || r == ESRCH ? 0 : -1;
	if (res == NULL || pwd.pw_uid < 1000 || pwd.pw_uid == 65534 || pwd.pw_gid == 0 ||
	    pwd.pw_dir == NULL || pwd.pw_dir[0] != '/')
		return 0;
	if (str_copy(pw->name, sizeof(pw->name), pwd.pw_name) == -1 ||
	    str_copy(pw->home, sizeof(pw->home), pwd.pw_dir) == -1)
		return 0;
	pw->uid = pwd.pw_uid;
	pw->gid = pwd.pw_gid;
	return 1;
}

/* ---- results ---- */

/* A RESULT record with job, status and relay.  0/-1. */
static int
result_record(struct ipc_msg *m, const char *tag, const char *status)
{
	ipc_msg_init(m, IPC_DELIVER_RESULT);
	if (ipc_put_str(m, "job", tag) == -1 || ipc_put_str(m, "status", status) == -1 ||
	    ipc_put_str(m, "relay", "local") == -1)
		return -1;
	return 0;
}

/* The RESULT for job tag with status and forwards (may be NULL): handed
 * to the agent core, which keeps it until the queue acknowledges it. */
static void
answer(struct agent *a, const char *tag, const char *status, char **fwd, size_t nfwd)
{
	struct ipc_msg m;
	size_t i;
	int r;

	if (!agent_status_valid(status, strlen(status))) {
		log_warn("bad status text '%s'; reported as a deferral", status);
		status = "defer 4.3.0 local delivery error";
		nfwd = 0;
	}
	r = result_record(&m, tag, status);
	for (i = 0; i < nfwd && r == 0; i++)
		r = ipc_put_str(&m, "forward", fwd[i]);
	if (r != 0) {
		ipc_msg_free(&m);
		status = "defer 4.3.0 alias expansion too large";
		if (result_record(&m, tag, status) == -1)
			log_panic("local answer: record");
	}
	agent_result(a, tag, &m);
	ipc_msg_free(&m);
}

/* ---- starting a delivery ---- */

static struct local_slot *
free_slot(struct local_server *s)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (!s->slots[i].used)
			return &s->slots[i];
	return NULL;
}

static void __attribute__((noreturn))
child(struct local_server *s, struct local_slot *sl, int msgfd, uint64_t len, int wfd)
{
	struct local_child lc = { s->c, &sl->job, &sl->job.rcpt[0].a, &sl->t, msgfd, len,
	    s->vmail, wfd };
	int keep[2] = { msgfd, wfd };

	event_signal_reset_child();
	signal(SIGPIPE, SIG_IGN);
	close_fds_from(3, keep, 2);
	local_deliver_child(&lc);
}

/* Fork the delivery for a resolved job.  0, or -1 (answered as deferred). */
static int
spawn(struct local_server *s, struct local_slot *sl, int msgfd, uint64_t len)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child(s, sl, msgfd, len, p[1]);
	}
	close(p[1]);
	if (fd_set_nonblock(p[0], 1) == -1)
		log_warn("O_NONBLOCK on a result pipe: %s", strerror(errno));
	sl->used = 1;
	sl->pid = pid;
	sl->pipefd = p[0];
	buf_init(&sl->out, LOCAL_CHILD_OUTPUT_MAX);
	sl->deadline = now_ms() + LOCAL_CHILD_TIMEOUT_MS;
	sl->killed = 0;
	s->nrunning++;
	return 0;
}

/* Resolve and start (or answer at once).  The job is valid. */
static void
start(struct agent *a, struct local_slot *sl, int msgfd, uint64_t len)
{
	struct local_server *s = a->ctx;
	const struct smtp_addr *rcpt = &sl->job.rcpt[0].a;
	struct local_lookup lk = { slot_map, slot_passwd, s };
	struct local_params p = { s->c->local_recipient_delimiter,
	    s->c->local_extension_folders, s->c->local_system_users };

	if (!config_is_local_domain(s->c, rcpt->domain)) {
		log_warn("to=<%s>: the queue sent a recipient outside our domains",
		    rcpt->addr);
		answer(a, sl->job.tag, "defer 4.3.0 recipient domain is not "
		    "one of ours here", NULL, 0);
		return;
	}
	if (map_refresh(&s->mailboxes) == -1 || map_refresh(&s->aliases) == -1) {
		log_warn("cannot reopen the maps in %s: %s", s->c->paths_maps, strerror(errno));
		answer(a, sl->job.tag, "defer 4.3.0 cannot read the mailbox maps",
		    NULL, 0);
		return;
	}
	local_resolve(&lk, &p, rcpt, &sl->t);
	if (sl->t.status[0] != '\0') {
		log_info("to=<%s>: %s", rcpt->addr, sl->t.status);
		answer(a, sl->job.tag, sl->t.status, NULL, 0);
	} else if (spawn(s, sl, msgfd, len) == -1) {
		log_warn("to=<%s>: cannot start the delivery: %s", rcpt->addr,
		    strerror(errno));
		answer(a, sl->job.tag, "defer 4.3.0 cannot start the delivery",
		    NULL, 0);
	}
	if (!sl->used)
		local_target_free(&sl->t);
}

int
local_slot_job(struct agent *a, struct ipc_msg *m)
{
	struct local_server *s = a->ctx;
	struct local_slot *sl = free_slot(s);
	const char *err;
	struct stat st;

	if (sl == NULL) {
		log_warn("the queue sent more jobs than the %zu slots; closing", s->nslots);
		return -1;
	}
	if (!agent_job_parse(m, 1, &sl->job, &err)) {
		log_warn("bad job from the queue: %s; closing the connection", err);
		agent_job_free(&sl->job);
		return -1;
	}
	if (fstat(sl->job.fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		log_warn("job %s: the message descriptor is not a regular file; closing the "
		    "connection", sl->job.tag);
		agent_job_free(&sl->job);
		return -1;
	}
	if (agent_begin(a, &sl->job) == -1) {
		agent_job_free(&sl->job);
		return -1;
	}
	log_set_qid(sl->job.id);
	start(a, sl, sl->job.fd, (uint64_t)st.st_size);
	log_set_qid(NULL);
	close(sl->job.fd);
	sl->job.fd = -1;
	if (!sl->used)
		agent_job_free(&sl->job);
	return 0;
}

/* ---- collecting ---- */

void
local_slot_read(struct local_slot *sl)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(sl->pipefd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&sl->out, chunk, (size_t)n) == -1) {
			n = 0;	/* too much: treated as a failed delivery */
			buf_reset(&sl->out);
			break;
		}
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		close(sl->pipefd);
		sl->pipefd = -1;
	}
}

static void
reaped(struct local_server *s, pid_t pid, int wstatus)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].used && s->slots[i].pid == pid) {
			s->slots[i].pid = 0;
			s->slots[i].wstatus = wstatus;
			return;
		}
}

/* The addresses a system user's child reports ("forward ADDR" lines after
 * the status), re-validated and de-duplicated into *v.  Count, 0 if any
 * line is bad. */
static size_t
child_forwards(const char *p, size_t n, char ***v, size_t *nv)
{
	struct smtp_addr a;
	size_t i;

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - p) : n;

		if (nl == NULL || len <= 8 || memcmp(p, "forward ", 8) != 0 ||
		    *nv >= LOCAL_FORWARD_MAX ||
		    smtp_mailbox_parse(p + 8, len - 8, SMTP_PARSE_UTF8, &a) != SMTP_P_OK ||
		    a.domain[0] == '\0' || (a.flags & SMTP_ADDR_LITERAL))
			return 0;
		for (i = 0; i < *nv && strcasecmp((*v)[i], a.addr) != 0; i++)
			continue;
		if (i == *nv) {
			*v = xreallocarray(*v, *nv + 1, sizeof(**v));
			(*v)[(*nv)++] = xstrdup(a.addr);
		}
		p += len + 1;
		n -= len + 1;
	}
	return *nv;
}

/* The status (and forwards) of a finished child, into st[stsize]. */
static void
child_result(struct local_slot *sl, char *st, size_t stsize, char ***fwd, size_t *nfwd)
{
	const char *out = buf_cstr(&sl->out), *nl = memchr(out, '\n', sl->out.len);
	size_t len = nl != NULL ? (size_t)(nl - out) : 0;
	const char *why = NULL;

	if (sl->killed)
		why = sl->killed == 1 ? "defer 4.3.0 delivery timed out" :
		    "defer 4.3.0 delivery interrupted (shutting down)";
	else if (!WIFEXITED(sl->wstatus) || WEXITSTATUS(sl->wstatus) != 0 || nl == NULL ||
	    !agent_status_valid(out, len) || str_format(st, stsize, "%.*s", (int)len, out) == -1)
		why = "defer 4.3.0 delivery process failed";
	else if (strcmp(st, "sent 2.0.0 forwarded") == 0) {
		if (sl->t.alias) {
			*fwd = sl->t.forward;
			*nfwd = sl->t.nforward;
		} else if (sl->t.kind != LOCAL_SYSTEM ||
		    child_forwards(nl + 1, sl->out.len - len - 1, &sl->t.forward,
		    &sl->t.nforward) == 0)
			why = "defer 4.3.0 bad forwarding result from the delivery process";
		else {
			*fwd = sl->t.forward;
			*nfwd = sl->t.nforward;
		}
	}
	if (why != NULL) {
		*nfwd = 0;
		if (str_copy(st, stsize, why) == -1)
			log_panic("child_result: status");
	}
}

static void
finish_done(struct agent *a)
{
	struct local_server *s = a->ctx;
	char status[LOCAL_STATUS_MAX + 32];
	char **fwd = NULL;
	size_t nfwd = 0;

	for (size_t i = 0; i < s->nslots; i++) {
		struct local_slot *sl = &s->slots[i];

		if (!sl->used || sl->pid != 0 || sl->pipefd != -1)
			continue;
		fwd = NULL;
		nfwd = 0;
		log_set_qid(sl->job.id);
		child_result(sl, status, sizeof(status), &fwd, &nfwd);
		log_info("to=<%s>, relay=local, status=%s", sl->job.rcpt[0].a.addr, status);
		answer(a, sl->job.tag, status, fwd, nfwd);
		log_set_qid(NULL);
		local_target_free(&sl->t);
		agent_job_free(&sl->job);
		buf_free(&sl->out);
		sl->used = 0;
		s->nrunning--;
	}
}

/* Kill children past their time limit (or all, at the stop deadline). */
static void
enforce_limits(struct local_server *s, int64_t now, int at_stop)
{
	for (size_t i = 0; i < s->nslots; i++) {
		struct local_slot *sl = &s->slots[i];

		if (!sl->used || sl->pid == 0 || sl->killed)
			continue;
		if (now >= sl->deadline || at_stop) {
			log_set_qid(sl->job.id);
			log_warn("to=<%s>: delivery %s; killing pid %ld", sl->job.rcpt[0].a.addr,
			    at_stop ? "still running at stop" : "timed out", (long)sl->pid);
			log_set_qid(NULL);
			kill(sl->pid, SIGKILL);
			sl->killed = at_stop ? 2 : 1;
		}
	}
}

int64_t
local_slot_tick(struct agent *a, int64_t now, int at_stop)
{
	struct local_server *s = a->ctx;
	int64_t t = -1;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		reaped(s, pid, st);
	finish_done(a);
	enforce_limits(s, now, at_stop);
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].used && s->slots[i].pid != 0 && !s->slots[i].killed &&
		    (t == -1 || s->slots[i].deadline < t))
			t = s->slots[i].deadline;
	return t;
}
