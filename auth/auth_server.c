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
#include "auth_token.h"
#include "event.h"
#include "ipc.h"
#include "log.h"
#include "util.h"

#define AUTH_TEXT_MAX	256	/* service and client names */

struct client {
	int fd;			/* -1: free slot */
	uid_t uid;		/* of the peer, from SO_PEERCRED */
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

/* Only the known fields, each once, and the required ones (the first
 * nreq of known). */
static int
fields_known(const struct ipc_msg *m, const char *const *known, size_t nknown,
    size_t nreq)
{
	unsigned seen = 0;
	const char *k, *v;
	size_t pos = 0, len, i;

	while (ipc_next(m, &pos, &k, &v, &len) == 1) {
		for (i = 0; i < nknown && strcmp(k, known[i]) != 0; i++)
			continue;
		if (i == nknown || (seen & (1u << i)))
			return 0;
		seen |= 1u << i;
	}
	return pos == m->body.len && (seen & ((1u << nreq) - 1)) == (1u << nreq) - 1;
}

static void
answer(struct client *cl, uint16_t type, const char *key, const char *val)
{
	ipc_msg_init(&cl->reply, type);
	if (ipc_put_str(&cl->reply, key, val) == -1)
		log_panic("auth: answer does not fit");
}

/* IPC_AUTH_VERIFY: the password check, the per-address limit and, with
 * "handoff", a token.  Answers after the fail delay unless accepted. */
static void
verify(struct client *cl, struct auth_verifier *v, const struct ipc_msg *req,
    const char *service, const char *client, struct auth_policy *p)
{
	char addr[USERDB_ADDR_MAX + 1], shown[101], token[LOGIN_TOKEN_LEN + 1];
	const char *user, *pass, *how;
	size_t ulen, plen;
	int64_t now = now_ms();
	int r, limited = auth_limit_blocked(&p->limit, client, now);

	user = ipc_get(req, "user", &ulen);
	pass = ipc_get(req, "pass", &plen);
	r = limited ? 0 : auth_verify(v, user, ulen, pass, plen, addr);
	if (r == 1 && ipc_get(req, "handoff", &plen) != NULL &&
	    auth_token_issue(addr, service, now, token) == -1) {
		log_warn("too many logins waiting for their handoff");
		r = -1;
	}
	if (r == 1) {
		answer(cl, IPC_OK, "user", addr);
		if (ipc_get(req, "handoff", &plen) != NULL &&
		    ipc_put_str(&cl->reply, "token", token) == -1)
			log_panic("auth: answer does not fit");
		explicit_bzero(token, sizeof(token));
		log_info("ok user=%s service=%s client=%s", addr, service, client);
	} else if (r == 0) {
		answer(cl, IPC_AUTH_FAIL, "error", limited ? "too many failures" :
		    "authentication failed");
		if (limited && ipc_put_str(&cl->reply, "limit", "1") == -1)
			log_panic("auth: answer does not fit");
		if (!limited)
			auth_limit_fail(&p->limit, client, now);
	} else
		answer(cl, IPC_ERROR, "error", "temporary failure");
	if (r != 1) {
		log_user(user, ulen, shown, sizeof(shown));
		how = r == -1 ? "temporary failure" : limited ? "refused (too many failures)" :
		    "failed";
		log_info("%s user=%s service=%s client=%s", how, shown, service, client);
	}
	cl->pending = 1;
	cl->due = r == 1 ? 0 : now + p->fail_delay_ms;
}

/* IPC_AUTH_REDEEM: only from root (the mail process before it drops), or
 * from our own uid in dev mode.  Answered at once. */
static int
redeem(struct client *cl, const struct ipc_msg *req, const char *service)
{
	char user[USERDB_ADDR_MAX + 1];
	const char *token = ipc_get_str(req, "token", LOGIN_TOKEN_LEN);

	if (cl->uid != 0 && cl->uid != geteuid()) {
		log_warn("token redeem from uid %u refused: closing the connection",
		    (unsigned)cl->uid);
		return -1;
	}
	if (token != NULL && auth_token_redeem(token, service, now_ms(), user) == 1) {
		answer(cl, IPC_OK, "user", user);
		log_info("handoff user=%s service=%s", user, service);
	} else {
		answer(cl, IPC_AUTH_FAIL, "error", "unknown or expired token");
		log_warn("handoff refused: unknown or expired token (service=%s)", service);
	}
	cl->pending = 1;
	cl->due = 0;
	return 0;
}

/* Check one request and prepare its answer in cl->reply.  -1: the record
 * was not a valid request (the client is dropped). */
static int
handle_request(struct client *cl, struct auth_verifier *v, const struct ipc_msg *req,
    struct auth_policy *p)
{
	static const char *const vfields[] = { "user", "pass", "service", "client",
	    "handoff" };
	static const char *const rfields[] = { "token", "service" };
	const char *service, *client;

	if (req->type == IPC_AUTH_VERIFY && fields_known(req, vfields, 5, 2) &&
	    (service = text_field(req, "service")) != NULL &&
	    strlen(service) <= AUTH_SERVICE_MAX &&
	    (client = text_field(req, "client")) != NULL &&
	    strlen(client) < AUTH_LIMIT_ADDR) {
		verify(cl, v, req, service, client, p);
		return 0;
	}
	if (req->type == IPC_AUTH_REDEEM && fields_known(req, rfields, 2, 2) &&
	    (service = text_field(req, "service")) != NULL)
		return redeem(cl, req, service);
	log_warn("bad request (type %u): closing the connection", req->type);
	return -1;
}

/* Read one record from a client that polled readable. */
static void
client_read(struct client *cl, struct auth_verifier *v, struct auth_policy *p)
{
	struct ipc_msg req;
	int r;

	r = ipc_recv(cl->fd, &req);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == 1 && handle_request(cl, v, &req, p) == 0) {
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
	struct ucred cred;
	socklen_t len;
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
	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	clients[i].fd = fd;
	clients[i].uid = cred.uid;
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
auth_server_run(int lfd, struct auth_verifier *v, struct auth_policy *p)
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
				client_read(&clients[map[i]], v, p);
		if (pfd[1].fd != -1 && (pfd[1].revents & POLLIN))
			accept_clients(lfd);
	}
}
