/*
 * imap_idle: IDLE (RFC 2177).  Changes to the selected folder wake the
 * session through inotify on its new/ and cur/ directories (deliveries,
 * other sessions, POP3), not by polling, unless the kernel grants no
 * inotify instance: then the folder is looked at every 30 s, as Dovecot
 * does.  The client ends IDLE with DONE.
 * The folder view's own watch is used when it has one (one inotify
 * instance per session: they are counted per uid, and every mailbox has
 * the same one); the store drains it.  While waiting, the session holds
 * no message list: the view is released and reloaded on each wake-up.
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
/* With no watch (the kernel's inotify instances for the user are used
 * up), a selected folder is looked at this often instead. */
#define IMAP_IDLE_CHECK_MS	30000

/* An inotify descriptor watching the selected folder, or -1 (none
 * granted, or no folder selected). */
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

/* Wait for the client or the folder (wfd; own: ours to drain) until end
 * (a now_ms() time): 1 client input, 0 folder changed (or, with no watch
 * on a selected folder, IMAP_IDLE_CHECK_MS passed: look again), -1
 * timeout or error (the session is closing). */
static int
imap_idle_wait(struct imap *p, int wfd, int own, int64_t end)
{
	struct pollfd pfd[2] = { { .fd = p->io.fd, .events = POLLIN },
	    { .fd = wfd, .events = POLLIN } };
	int blind = wfd == -1 && p->state == IMAP_STATE_SELECTED, ms, r;

	if (lineio_has_line(&p->io))
		return 1;
	for (;;) {
		ms = timeout_left_ms((int64_t)p->cf->imap_timeout * 1000,
		    end < p->deadline_ms ? end : p->deadline_ms);
		if (blind && ms > IMAP_IDLE_CHECK_MS)
			ms = IMAP_IDLE_CHECK_MS;
		r = poll(pfd, wfd != -1 ? 2 : 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0 && blind && now_ms() < end && now_ms() < p->deadline_ms)
			return 0;
		if (r <= 0)
			return -1;
		if (pfd[0].revents != 0)
			return 1;
		if (own)	/* the folder's own watch is the store's to read */
			imap_idle_drain(wfd);
		return 0;
	}
}

/* An idle session keeps only what it needs: the folder's cache and its
 * message list go (the client's view, known[], stays), and the heap
 * freed by earlier answers goes back to the system. */
static void
imap_idle_shrink(struct imap *p)
{
	imap_session_drop_cache(p);
	if (p->state == IMAP_STATE_SELECTED)
		imap_folder_release(&p->folder);
	(void)malloc_trim(0);
}

void
imap_cmd_idle(struct imap *p)
{
	int own = p->state != IMAP_STATE_SELECTED ||
	    imap_folder_watch_fd(&p->folder) == -1;
	int wfd = own ? imap_idle_watch(p) : imap_folder_watch_fd(&p->folder), r;
	int64_t end = now_ms() + (int64_t)p->cf->imap_timeout * 1000;

	imap_idle_shrink(p);
	imap_reply(p, "+ idling");
	while (!p->closing) {
		if (imap_flush(p) == -1)
			break;
		if ((r = imap_idle_wait(p, wfd, own, end)) == 0) {
			imap_update(p, 1);	/* reloads the view */
			imap_idle_shrink(p);
			continue;
		}
		if (r == -1) {
			imap_read_failed(p, LINEIO_TIMEOUT);
			break;
		}
		if ((r = imap_read_line(p)) == 1 && p->line.len == 4 &&
		    strncasecmp(p->line.data, "DONE", 4) == 0)
			imap_done(p, "OK", "IDLE terminated");
		else if (r != -1)
			imap_done(p, "BAD", "Expected DONE");
		break;
	}
	/* the next command finds the message list loaded */
	if (p->state == IMAP_STATE_SELECTED && !p->closing &&
	    (r = imap_folder_sync(&p->folder)) != IMAP_STORE_OK)
		log_warn("user=%s: sync %s: %s", p->user, p->folder.name,
		    r == IMAP_STORE_IO ? strerror(errno) : imap_store_strerror(r));
	if (own && wfd != -1)
		(void)close(wfd);
}
