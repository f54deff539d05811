/*
 * auth_server: the auth service's event loop.  Clients are smtpd and the
 * login processes (group authc); each request is re-validated.  A refused
 * request is answered only after auth.fail_delay, without blocking others.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "auth_server.h"
#include "event.h"
#include "ipc.h"
#include "log.h"
#include "util.h"

#define AUTH_TEXT_MAX	256	/* service and client names */

struct client {
	int fd;			/* -1: free slot */
	int pending;		/* an answer waits in reply until due */
	int64_t due;
	struct ipc_msg reply;
};

static struct client clients[AUTH_MAX_CLIENTS];

/* Wipe a record that may hold a password, then free it. */
static void
msg_wipe(struct ipc_msg *m)
{
	if (m->body.data != NULL)
		explicit_bzero(m->body.data, m->body.cap);
	ipc_msg_free(m);
}

static void
client_close(struct client *cl)
{
	if (cl->pending)
		ipc_msg_free(&cl->reply);
	cl->pending = 0;
	close(cl->fd);
	cl->fd = -1;
}

/* Printable ASCII without spaces (safe in a log line), at most max bytes;
 * an absent field is "-".  NULL if present but bad. */
static const char *
text_field(const struct ipc_msg *m, const char *key)
{
	const char *v;
	size_t len, i;

	if ((v = ipc_get(m, key, &len)) == NULL)
		return "-";
	if (len == 0 || len > AUTH_TEXT_MAX)
		return NULL;
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
			return NULL;
	return v;
}

/* The user as given, made safe for the log: non-printing bytes become '?',
 * cut at outsize - 1 bytes; "-" when empty. */
static void
log_user(const char *u, size_t len, char *out, size_t outsize)
{
	size_t i, n = len < outsize - 1 ? len : outsize - 1;

	for (i = 0; i < n; i++)
		out[i] = (unsigned char)u[i] > ' ' && (unsigned char)u[i] < 0x7f ? u[i] : '?';
	out[n] = '\0';
	if (n == 0) {
		out[0] = '-';
		out[1] = '\0';
	}
}

/* Only the known fields, each once. */
static int
fields_known(const struct ipc_msg *m)
{
	static const char *const known[] = { "user", "pass", "service", "client" };
	unsigned seen = 0;
	const char *k, *v;
	size_t pos = 0, len, i;

	while (ipc_next(m, &pos, &k, &v, &len) == 1) {
		for (i = 0; i < 4 && strcmp(k, known[i]) != 0; i++)
			continue;
		if (i == 4 || (seen & (1u << i)))
			return 0;
		seen |= 1u << i;
	}
	return pos == m->body.len && (seen & 3) == 3;
}

/* Check one request and prepare its answer in cl->reply.  -1: the record
 * was not a valid request (the client is dropped). */
static int
handle_request(struct client *cl, struct auth_verifier *v, const struct ipc_msg *req,
    int64_t fail_delay_ms)
{
	char addr[USERDB_ADDR_MAX + 1], shown[101];
	const char *user, *pass, *service, *client;
	size_t ulen, plen;
	int r;

	if (req->type != IPC_AUTH_VERIFY || !fields_known(req) ||
	    (service = text_field(req, "service")) == NULL ||
	    (client = text_field(req, "client")) == NULL) {
		log_warn("bad request (type %u): closing the connection", req->type);
		return -1;
	}
	user = ipc_get(req, "user", &ulen);
	pass = ipc_get(req, "pass", &plen);
	r = auth_verify(v, user, ulen, pass, plen, addr);
	ipc_msg_init(&cl->reply, r == 1 ? IPC_OK : r == 0 ? IPC_AUTH_FAIL : IPC_ERROR);
	if ((r == 1 && ipc_put_str(&cl->reply, "user", addr) == -1) ||
	    (r == 0 && ipc_put_str(&cl->reply, "error", "authentication failed") == -1) ||
	    (r == -1 && ipc_put_str(&cl->reply, "error", "temporary failure") == -1))
		log_panic("auth: answer does not fit");
	if (r == 1)
		log_info("ok user=%s service=%s client=%s", addr, service, client);
	else {
		log_user(user, ulen, shown, sizeof(shown));
		log_info("%s user=%s service=%s client=%s", r == 0 ? "failed" :
		    "temporary failure", shown, service, client);
	}
	cl->pending = 1;
	cl->due = r == 1 ? 0 : now_ms() + fail_delay_ms;
	return 0;
}

/* Read one record from a client that polled readable. */
static void
client_read(struct client *cl, struct auth_verifier *v, int64_t fail_delay_ms)
{
	struct ipc_msg req;
	int r;

	r = ipc_recv(cl->fd, &req);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == 1 && handle_request(cl, v, &req, fail_delay_ms) == 0) {
		msg_wipe(&req);
		return;
	}
	if (r == -1)
		log_warn("client: %s: closing the connection", strerror(errno));
	msg_wipe(&req);
	client_close(cl);
}

/* Send the answers whose time has come. */
static void
send_due(int64_t now)
{
	struct client *cl;
	size_t i;

	for (i = 0; i < AUTH_MAX_CLIENTS; i++) {
		cl = &clients[i];
		if (cl->fd == -1 || !cl->pending || cl->due > now)
			continue;
		cl->pending = 0;
		if (ipc_send(cl->fd, &cl->reply) == -1) {
			/* gone, or not reading its answers: drop it */
			ipc_msg_free(&cl->reply);
			client_close(cl);
			continue;
		}
		ipc_msg_free(&cl->reply);
	}
}

static void
accept_clients(int lfd)
{
	size_t i;
	int fd;

	for (i = 0; i < AUTH_MAX_CLIENTS && clients[i].fd != -1; i++)
		continue;
	if (i == AUTH_MAX_CLIENTS)
		return;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	clients[i].fd = fd;
	clients[i].pending = 0;
}

/* Fill pfd (signal pipe, listener, readable clients); *map maps pfd
 * indexes back to clients.  Returns the count and the poll timeout. */
static nfds_t
build_poll(int sigfd, int lfd, struct pollfd *pfd, size_t *map, int *timeout)
{
	int64_t now = now_ms(), next = -1;
	size_t i, used = 0;
	nfds_t n = 2;

	pfd[0].fd = sigfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = lfd;
	pfd[1].events = POLLIN;
	for (i = 0; i < AUTH_MAX_CLIENTS; i++) {
		if (clients[i].fd == -1)
			continue;
		used++;
		if (clients[i].pending) {
			if (next == -1 || clients[i].due < next)
				next = clients[i].due;
			continue;	/* one request at a time per client */
		}
		pfd[n].fd = clients[i].fd;
		pfd[n].events = POLLIN;
		map[n++] = i;
	}
	if (used == AUTH_MAX_CLIENTS)
		pfd[1].fd = -1;		/* full: let new ones wait in the backlog */
	*timeout = next == -1 ? -1 : next <= now ? 0 : (int)(next - now);
	return n;
}

int
auth_server_run(int lfd, struct auth_verifier *v, int64_t fail_delay_ms)
{
	struct pollfd pfd[AUTH_MAX_CLIENTS + 2];
	size_t map[AUTH_MAX_CLIENTS + 2], i;
	int sigfd, timeout, sig;
	nfds_t n;

	for (i = 0; i < AUTH_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if (fd_set_nonblock(lfd, 1) == -1)
		log_fatal("listening socket: %s", strerror(errno));
	event_signal_catch(SIGTERM);
	event_signal_catch(SIGINT);
	event_signal_catch(SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	sigfd = event_signal_fd();
	for (;;) {
		n = build_poll(sigfd, lfd, pfd, map, &timeout);
		if (poll(pfd, n, timeout) == -1 && errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		while ((sig = event_signal_next()) != 0)
			if (sig == SIGTERM || sig == SIGINT) {
				log_info("stopping on signal %d", sig);
				return 0;
			}
		send_due(now_ms());
		for (i = 2; i < n; i++)
			if (pfd[i].revents != 0 && clients[map[i]].fd == pfd[i].fd)
				client_read(&clients[map[i]], v, fail_delay_ms);
		if (pfd[1].fd != -1 && (pfd[1].revents & POLLIN))
			accept_clients(lfd);
	}
}
