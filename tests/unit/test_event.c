/*
 * Unit tests for common/event: signals arrive through the self-pipe, errno
 * survives the handler, blocking calls see EINTR (no SA_RESTART), and
 * event_signal_reset_child undoes everything in a child.
 */
#include <sys/time.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "event.h"
#include "unit.h"

static int
readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void
test_basic(void)
{
	int fd = event_signal_fd(), fl, a, b;

	CHECK(fd >= 0);
	CHECK(event_signal_fd() == fd);	/* created once */
	fl = fcntl(fd, F_GETFL);
	CHECK(fl != -1 && (fl & O_NONBLOCK));
	fl = fcntl(fd, F_GETFD);
	CHECK(fl != -1 && (fl & FD_CLOEXEC));
	CHECK(event_signal_next() == 0);
	CHECK(!readable(fd, 0));

	event_signal_catch(SIGUSR1);
	event_signal_catch(SIGHUP);
	errno = ENOTTY;
	CHECK(raise(SIGUSR1) == 0);
	CHECK(errno == ENOTTY);	/* the handler preserved it */
	CHECK(raise(SIGHUP) == 0);
	CHECK(readable(fd, 0));
	a = event_signal_next();
	b = event_signal_next();
	CHECK((a == SIGUSR1 && b == SIGHUP) || (a == SIGHUP && b == SIGUSR1));
	CHECK(event_signal_next() == 0);
	CHECK(!readable(fd, 0));

	/* repeated deliveries before the loop looks coalesce */
	CHECK(raise(SIGUSR1) == 0);
	CHECK(raise(SIGUSR1) == 0);
	CHECK(event_signal_next() == SIGUSR1);
	CHECK(event_signal_next() == 0);
}

/* Many signals overfill nothing: the pipe is drained and the flags hold. */
static void
test_flood(void)
{
	int i, ok = 1;

	for (i = 0; i < 100000; i++)
		if (raise(SIGUSR1) != 0)
			ok = 0;
	CHECK(ok);
	CHECK(raise(SIGHUP) == 0);	/* after the pipe is full */
	CHECK(readable(event_signal_fd(), 0));
	i = event_signal_next();
	CHECK(i == SIGHUP || i == SIGUSR1);
	i = event_signal_next() + i;
	CHECK(i == SIGHUP + SIGUSR1);
	CHECK(event_signal_next() == 0);
	CHECK(!readable(event_signal_fd(), 0));
}

static void
test_eintr(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	struct pollfd p;
	int pp[2], r;
	char c;

	event_signal_catch(SIGALRM);
	/* a blocking read is interrupted, not restarted */
	CHECK(pipe(pp) == 0);
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	errno = 0;
	r = (int)read(pp[0], &c, 1);
	CHECK(r == -1 && errno == EINTR);
	CHECK(event_signal_next() == SIGALRM);
	/* a poll loop wakes: either EINTR or the self-pipe is readable */
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	p.fd = event_signal_fd();
	p.events = POLLIN;
	p.revents = 0;
	r = poll(&p, 1, 5000);
	CHECK((r == -1 && errno == EINTR) || (r == 1 && (p.revents & POLLIN)));
	CHECK(readable(event_signal_fd(), 0));
	CHECK(event_signal_next() == SIGALRM);
	CHECK(event_signal_next() == 0);
	close(pp[0]);
	close(pp[1]);
}

static void
test_default(void)
{
	struct sigaction sa;

	event_signal_default(SIGHUP);
	CHECK(sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL);
	event_signal_catch(SIGHUP);
	CHECK(sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
	    !(sa.sa_flags & SA_RESTART));
}

/* In a child: handlers back to default, caught signals unblocked, pipe closed. */
static void
test_reset_child(void)
{
	sigset_t set, old;
	pid_t pid;
	int st, fd = event_signal_fd();

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0);
	CHECK(raise(SIGUSR1) == 0);	/* pending, blocked: the child must not see it */
	pid = fork();
	if (pid == 0) {
		struct sigaction sa;
		sigset_t cur;
		int bad = 0;

		event_signal_reset_child();
		if (sigaction(SIGUSR1, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
			bad |= 1;
		if (sigaction(SIGHUP, NULL, &sa) != 0 || sa.sa_handler != SIG_DFL)
			bad |= 2;
		if (sigprocmask(SIG_SETMASK, NULL, &cur) != 0 || sigismember(&cur, SIGUSR1))
			bad |= 4;
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			bad |= 8;
		if (event_signal_next() != 0)
			bad |= 16;
		if (bad)
			_exit(bad);
		/* default disposition again: SIGUSR1 now kills */
		if (raise(SIGUSR1) == 0)
			pause();
		_exit(100);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1);
	if (WIFEXITED(st))
		fprintf(stderr, "child exit %d\n", WEXITSTATUS(st));
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);	/* delivers to us */
	CHECK(event_signal_next() == SIGUSR1);
	CHECK(fcntl(fd, F_GETFD) != -1);	/* parent's pipe untouched */
}

int
main(void)
{
	test_basic();
	test_flood();
	test_eintr();
	test_default();
	test_reset_child();
	return UNIT_DONE();
}
