/*
 * event: the self-pipe for poll(2) loops (see event.h).  Used by master and
 * the long-lived services.  Handlers only set a flag and write a byte; the
 * flags are the truth, so a full pipe can delay a wakeup but not lose one.
 * Several deliveries of one signal before the loop looks coalesce into one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pipe2, getresuid, MSG_CMSG_CLOEXEC */
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "log.h"

#define EVENT_NSIG	65	/* signal numbers 1..64 on Linux */

static int pipefd[2] = { -1, -1 };
static volatile sig_atomic_t pending[EVENT_NSIG];
static unsigned char caught[EVENT_NSIG];

static void
event_handler(int signo)
{
	int saved = errno, fd = pipefd[1];
	unsigned char c = (unsigned char)signo;

	if (signo > 0 && signo < EVENT_NSIG)
		pending[signo] = 1;
	if (fd != -1 && write(fd, &c, 1) == -1) {
		/* pipe full: a wakeup is already queued */
	}
	errno = saved;
}

int
event_signal_fd(void)
{
	if (pipefd[0] == -1 && pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) == -1) {
		pipefd[0] = pipefd[1] = -1;
		return -1;
	}
	return pipefd[0];
}

void
event_signal_catch(int signo)
{
	struct sigaction sa;

	if (signo <= 0 || signo >= EVENT_NSIG)
		log_panic("event_signal_catch: bad signal %d", signo);
	if (event_signal_fd() == -1)
		log_fatal("event: pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = event_handler;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: blocking calls return EINTR */
	if (sigaction(signo, &sa, NULL) == -1)
		log_fatal("event: sigaction %d: %s", signo, strerror(errno));
	caught[signo] = 1;
}

void
event_signal_default(int signo)
{
	struct sigaction sa;

	if (signo <= 0 || signo >= EVENT_NSIG)
		log_panic("event_signal_default: bad signal %d", signo);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL) == -1)
		log_fatal("event: sigaction %d: %s", signo, strerror(errno));
	caught[signo] = 0;
	pending[signo] = 0;
}

int
event_signal_next(void)
{
	unsigned char junk[64];
	ssize_t r;
	int s;

	if (pipefd[0] != -1) {
		/* drain first: a signal after this leaves a byte for the next poll */
		do
			r = read(pipefd[0], junk, sizeof(junk));
		while (r > 0 || (r == -1 && errno == EINTR));
	}
	for (s = 1; s < EVENT_NSIG; s++) {
		if (pending[s]) {
			pending[s] = 0;
			return s;
		}
	}
	return 0;
}

void
event_signal_reset_child(void)
{
	sigset_t set;
	int s;

	sigemptyset(&set);
	for (s = 1; s < EVENT_NSIG; s++) {
		if (caught[s]) {
			event_signal_default(s);
			sigaddset(&set, s);
		}
		pending[s] = 0;
	}
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) == -1)
		log_fatal("event: sigprocmask: %s", strerror(errno));
	/* handlers are gone, so the descriptors can go without a stray write
	 * landing on a reused number */
	if (pipefd[0] != -1)
		close(pipefd[0]);
	if (pipefd[1] != -1)
		close(pipefd[1]);
	pipefd[0] = pipefd[1] = -1;
}
