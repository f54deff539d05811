/*
 * local_program: a system user's ~/.forward in the delivery child, already
 * running as that user: addresses are handed back to the parent (which
 * re-validates them), "|program" lines run without a shell when
 * local.allow_pipe = yes, with a time limit.  File targets are refused.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local_deliver.h"
#include "local_forward.h"
#include "log.h"
#include "util.h"

#define EX_TEMPFAIL	75

static volatile sig_atomic_t prog_pid, prog_timed_out;

static void
on_alarm(int sig)
{
	(void)sig;
	prog_timed_out = 1;
	if (prog_pid > 0)
		kill(-prog_pid, SIGKILL);
}

/* Read ~/.forward: 1 and text, 0 none (or unsafe: ignored), -1 error. */
static int
read_forward(const struct local_child *lc, struct buf *text)
{
	char path[4096];
	struct stat st;
	ssize_t n;
	int fd, r = -1;

	if (str_format(path, sizeof(path), "%s/.forward", lc->t->pw.home) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode) || (st.st_uid != lc->t->pw.uid && st.st_uid != 0) ||
	    (st.st_mode & 022) != 0) {
		log_warn("%s: not a regular file owned by %s and writable only by it; ignored",
		    path, lc->t->pw.name);
		r = 0;
		goto out;
	}
	if (st.st_size > FORWARD_FILE_MAX) {
		errno = EFBIG;
		goto out;
	}
	buf_reset(text);
	if (buf_append(text, "", 0) == -1)
		goto out;
	while ((n = read(fd, path, sizeof(path))) > 0)
		if (buf_append(text, path, (size_t)n) == -1) {
			errno = EFBIG;
			goto out;
		}
	r = n == 0 ? 1 : -1;
out:
	close(fd);
	return r;
}

/* In the program's process: stdin from fd, nothing else, then execve. */
static void __attribute__((noreturn))
exec_program(const struct local_child *lc, struct forward_argv *av, int fd)
{
	char home[4200], user[100], sender[SMTP_ADDR_MAX + 20], rcpt[SMTP_ADDR_MAX + 20];
	char *envp[] = { home, user, sender, rcpt, "PATH=/usr/bin:/bin", NULL };
	int devnull = open("/dev/null", O_RDWR);

	if (setpgid(0, 0) == -1 || dup2(fd, 0) == -1 || devnull == -1 ||
	    dup2(devnull, 1) == -1 || dup2(devnull, 2) == -1)
		_exit(EX_TEMPFAIL);
	close_fds_from(3, NULL, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	if (str_format(home, sizeof(home), "HOME=%s", lc->t->pw.home) == -1 ||
	    str_format(user, sizeof(user), "USER=%s", lc->t->pw.name) == -1 ||
	    str_format(sender, sizeof(sender), "SENDER=%s", lc->job->sender) == -1 ||
	    str_format(rcpt, sizeof(rcpt), "RECIPIENT=%s", lc->rcpt->addr) == -1 ||
	    chdir(lc->t->pw.home) == -1)
		_exit(EX_TEMPFAIL);
	execve(av->argv[0], av->argv, envp);
	_exit(126);
}

/* Feed the message to the program on fd (closed here); EPIPE is fine. */
static void
feed(const struct local_child *lc, int fd)
{
	char chunk[65536];
	uint64_t off = 0;
	ssize_t n;

	if (dprintf(fd, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", lc->job->sender,
	    lc->rcpt->addr) < 0)
		goto out;
	while (off < lc->msglen && !prog_timed_out) {
		size_t want = lc->msglen - off < sizeof(chunk) ? (size_t)(lc->msglen - off) :
		    sizeof(chunk);

		if ((n = pread(lc->msgfd, chunk, want, (off_t)off)) <= 0 ||
		    write_all(fd, chunk, (size_t)n) == -1)
			break;
		off += (uint64_t)n;
	}
out:
	close(fd);
}

/* Run one program line; r->status set, 1 if it succeeded. */
static int
run_program(const struct local_child *lc, const char *cmd, struct local_result *r)
{
	struct sigaction sa;
	struct forward_argv av;
	int p[2], status;
	pid_t pid;

	if (!forward_split_argv(cmd, &av))
		return local_result_set(r, "fail 5.3.5 ~/.forward: program '%s' must be an "
		    "absolute path (no shell is used)", cmd), 0;
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1)
		return local_result_set(r, "defer 4.3.0 cannot start the program: %s",
		    strerror(errno)), 0;
	if (pid == 0) {
		close(p[1]);
		exec_program(lc, &av, p[0]);
	}
	close(p[0]);
	prog_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: writes and waitpid end */
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	alarm(LOCAL_PROGRAM_TIMEOUT);
	feed(lc, p[1]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return local_result_set(r, "defer 4.3.0 waitpid: %s", strerror(errno)), 0;
	alarm(0);
	kill(-pid, SIGKILL);	/* whatever the program left behind */
	log_info("to=<%s>: program %s: %s %d", lc->rcpt->addr, av.argv[0],
	    WIFEXITED(status) ? "exit status" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (prog_timed_out)
		return local_result_set(r, "defer 4.3.0 program %s timed out", av.argv[0]), 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return local_result_set(r, "sent 2.0.0 delivered to program %s", av.argv[0]), 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EX_TEMPFAIL)
		return local_result_set(r, "defer 4.3.0 program %s asked to retry (status 75)",
		    av.argv[0]), 0;
	if (WIFEXITED(status))
		local_result_set(r, "fail 5.3.0 program %s failed (exit status %d)", av.argv[0],
		    WEXITSTATUS(status));
	else
		local_result_set(r, "fail 5.3.0 program %s killed by signal %d", av.argv[0],
		    WTERMSIG(status));
	return 0;
}

/* Check every entry before acting on any.  1 fine (*keep, *naddr set),
 * 0 with r->status set. */
static int
check_entries(const struct local_child *lc, const struct forward *f, int *keep,
    size_t *naddr, struct local_result *r)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct forward_entry *e = &f->v[i];

		if (e->kind == FORWARD_FILE)
			return local_result_set(r, "fail 5.3.5 ~/.forward: file targets are "
			    "not allowed (%s)", e->text), 0;
		if (e->kind == FORWARD_PIPE && !lc->c->local_allow_pipe)
			return local_result_set(r, "fail 5.3.5 ~/.forward: programs are not "
			    "allowed here (local.allow_pipe = no)"), 0;
		if (e->kind == FORWARD_SELF && strcasecmp(e->text, lc->t->pw.name) != 0)
			return local_result_set(r, "fail 5.3.5 ~/.forward: \\%s is not this "
			    "user", e->text), 0;
		if (e->kind == FORWARD_SELF || (e->kind == FORWARD_ADDR &&
		    (strcasecmp(e->text, lc->t->addr) == 0 ||
		    strcasecmp(e->text, lc->rcpt->addr) == 0)))
			*keep = 1;
		else if (e->kind == FORWARD_ADDR)
			(*naddr)++;
	}
	return 1;
}

/* Programs first; then the addresses as "forward" lines. */
static int
act(const struct local_child *lc, const struct forward *f, int keep, size_t naddr,
    struct local_result *r)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].kind == FORWARD_PIPE && !run_program(lc, f->v[i].text, r))
			return 1;
	for (i = 0; i < f->n; i++)
		if (f->v[i].kind == FORWARD_ADDR && strcasecmp(f->v[i].text, lc->t->addr) != 0 &&
		    strcasecmp(f->v[i].text, lc->rcpt->addr) != 0 &&
		    buf_printf(&r->forwards, "forward %s\n", f->v[i].text) == -1)
			return local_result_set(r, "defer 4.3.0 ~/.forward too large"), 1;
	if (naddr > 0)
		local_result_set(r, "sent 2.0.0 forwarded");
	return keep ? 2 : 1;
}

int
local_forward_run(const struct local_child *lc, struct local_result *r)
{
	struct buf text = BUF_INIT(FORWARD_FILE_MAX);
	char err[128];
	struct forward f;
	size_t naddr = 0;
	int keep = 0, rc;

	if ((rc = read_forward(lc, &text)) != 1) {
		buf_free(&text);
		if (rc == 0)
			return 0;
		return local_result_set(r, "defer 4.3.0 cannot read ~/.forward: %s",
		    strerror(errno)), 1;
	}
	rc = forward_parse(text.data, text.len, lc->t->domain, &f, err, sizeof(err));
	buf_free(&text);
	if (!rc)
		return local_result_set(r, "fail 5.3.5 ~/.forward %s", err), 1;
	if (f.n == 0)
		rc = 0;
	else if (!check_entries(lc, &f, &keep, &naddr, r))
		rc = 1;
	else
		rc = act(lc, &f, keep, naddr, r);
	forward_free(&f);
	return rc;
}
