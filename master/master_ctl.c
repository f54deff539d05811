/*
 * master_ctl: answers requests on master.sock.  Only root (or, in dev mode,
 * the invoking user) can connect: the socket is 0600 in a 0755 directory.
 * Each connection carries one request; it is answered and closed, and an
 * idle connection is dropped after CTL_TIMEOUT so it cannot hold master.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "master_ctl.h"
#include "master_loop.h"
#include "util.h"

#define CTL_MAX		8
#define CTL_TIMEOUT	5000

static int ctl_fd = -1;
static char ctl_path[512];
static struct { int fd; int64_t deadline; } conns[CTL_MAX];
static int nconns;

int
ctl_open(const char *runtime)
{
	if (str_format(ctl_path, sizeof(ctl_path), "%s/master.sock", runtime) == -1) {
		log_warn("runtime path too long: %s", runtime);
		return -1;
	}
	if (unlink(ctl_path) == -1 && errno != ENOENT)
		log_warn("unlink %s: %s", ctl_path, strerror(errno));
	if ((ctl_fd = ipc_listen(ctl_path, 16)) == -1 ||
	    fd_set_cloexec(ctl_fd, 1) == -1 || fd_set_nonblock(ctl_fd, 1) == -1 ||
	    chmod(ctl_path, 0600) == -1) {
		log_warn("cannot listen on %s: %s", ctl_path, strerror(errno));
		return -1;
	}
	return 0;
}

int
ctl_pollfds(struct pollfd *p, int max)
{
	int i, n = 0;

	if (ctl_fd != -1 && n < max) {
		p[n].fd = ctl_fd;
		p[n].events = POLLIN;
		p[n++].revents = 0;
	}
	for (i = 0; i < nconns && n < max; i++) {
		p[n].fd = conns[i].fd;
		p[n].events = POLLIN;
		p[n++].revents = 0;
	}
	return n;
}

static void
drop(int i)
{
	close(conns[i].fd);
	conns[i] = conns[--nconns];
}

/* Build the answer to one request. */
static void
answer(const struct ipc_msg *req, struct ipc_msg *ans)
{
	struct buf text = BUF_INIT(IPC_MAX_RECORD / 2);

	ipc_msg_init(ans, IPC_OK);
	switch (req->type) {
	case IPC_STATUS:
		if (master_status_text(&text) == -1 ||
		    ipc_put_str(ans, "text", buf_cstr(&text)) == -1) {
			ipc_msg_free(ans);
			ipc_msg_init(ans, IPC_ERROR);
			if (ipc_put_str(ans, "error", "status too long") == -1)
				log_warn("master.sock: cannot build answer");
		}
		break;
	case IPC_RELOAD:
		log_info("reload requested");
		if (master_reload(&text) == -1) {
			ipc_msg_free(ans);
			ipc_msg_init(ans, IPC_ERROR);
			if (ipc_put_str(ans, "error", buf_cstr(&text)) == -1)
				log_warn("master.sock: cannot build answer");
		}
		break;
	case IPC_STOP:
		log_info("stop requested");
		master_stop();
		break;
	default:
		ipc_msg_free(ans);
		ipc_msg_init(ans, IPC_ERROR);
		if (ipc_put_str(ans, "error", "unknown request") == -1)
			log_warn("master.sock: cannot build answer");
	}
	buf_free(&text);
}

static void
serve(int i)
{
	struct ipc_msg req, ans;

	if (ipc_recv(conns[i].fd, &req) == 1) {
		answer(&req, &ans);
		if (ipc_send(conns[i].fd, &ans) == -1)
			log_warn("master.sock: send: %s", strerror(errno));
		ipc_msg_free(&ans);
		ipc_msg_free(&req);
	}
	drop(i);
}

void
ctl_handle(int fd, int64_t now)
{
	int i, c;

	if (fd == ctl_fd && ctl_fd != -1) {
		while ((c = accept4(ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) != -1) {
			if (nconns == CTL_MAX) {
				close(c);
				continue;
			}
			conns[nconns].fd = c;
			conns[nconns++].deadline = now + CTL_TIMEOUT;
		}
		return;
	}
	for (i = 0; i < nconns; i++)
		if (conns[i].fd == fd) {
			serve(i);
			return;
		}
}

void
ctl_expire(int64_t now)
{
	int i;

	for (i = nconns - 1; i >= 0; i--)
		if (conns[i].deadline <= now)
			drop(i);
}

void
ctl_cleanup(void)
{
	while (nconns > 0)
		drop(nconns - 1);
	if (ctl_fd != -1) {
		close(ctl_fd);
		ctl_fd = -1;
		if (unlink(ctl_path) == -1 && errno != ENOENT)
			log_warn("unlink %s: %s", ctl_path, strerror(errno));
	}
}
