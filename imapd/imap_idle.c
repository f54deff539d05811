/*
 * imap_idle: IDLE (RFC 2177).  Changes to the selected folder wake the
 * session through inotify on its new/ and cur/ directories (deliveries,
 * other sessions, POP3), never by polling; the client ends IDLE with DONE.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "imap_session.h"
#include "log.h"
#include "util.h"

#define IMAP_IDLE_EVENTS (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)

/* An inotify descriptor watching the selected folder, or -1 (then IDLE
 * only ends on DONE or the timeout: nothing can change unseen since no
 * folder is selected). */
static int
imap_idle_watch(struct imap *p)
{
	static const char *const subs[] = { "new", "cur" };
	char path[4096];
	int fd;

	if (p->state != IMAP_STATE_SELECTED)
		return -1;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("user=%s: inotify: %s", p->user, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (str_format(path, sizeof(path), "%s/%s", p->folder.path, subs[i]) == -1 ||
		    inotify_add_watch(fd, path, IMAP_IDLE_EVENTS) == -1)
			log_warn("user=%s: watching %s: %s", p->user, path, strerror(errno));
	return fd;
}

/* Empty the event queue: any event means "look again". */
static void
imap_idle_drain(int fd)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, ev, sizeof(ev)) > 0)
		;
}

/* Wait for the client or the folder: 1 client input, 0 folder changed,
 * -1 timeout or error (the session is closing). */
static int
imap_idle_wait(struct imap *p, int wfd)
{
	struct pollfd pfd[2] = { { .fd = p->io.fd, .events = POLLIN },
	    { .fd = wfd, .events = POLLIN } };
	int ms = timeout_left_ms((int64_t)p->cf->imap_timeout * 1000, p->deadline_ms), r;

	if (lineio_has_line(&p->io))
		return 1;
	for (;;) {
		r = poll(pfd, wfd != -1 ? 2 : 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (pfd[0].revents != 0)
			return 1;
		imap_idle_drain(wfd);
		return 0;
	}
}

void
imap_cmd_idle(struct imap *p)
{
	int wfd = imap_idle_watch(p), r;

	/* an idle session keeps only what it needs: the folder's cache goes,
	 * and the heap freed by earlier answers goes back to the system */
	imap_session_drop_cache(p);
	(void)malloc_trim(0);
	imap_reply(p, "+ idling");
	while (!p->closing) {
		if (imap_flush(p) == -1)
			break;
		if ((r = imap_idle_wait(p, wfd)) == 0) {
			imap_update(p, 1);
			continue;
		}
		if (r == -1) {
			imap_reply(p, "* BYE Autologout; idle for too long");
			(void)imap_flush(p);
			p->end = "idle timeout";
			p->closing = 1;
			break;
		}
		if ((r = imap_read_line(p)) == 1 && p->line.len == 4 &&
		    strncasecmp(p->line.data, "DONE", 4) == 0)
			imap_done(p, "OK", "IDLE terminated");
		else if (r != -1)
			imap_done(p, "BAD", "Expected DONE");
		break;
	}
	if (wfd != -1)
		(void)close(wfd);
}
