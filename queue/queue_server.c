/*
 * queue_server: the queue's poll loop.  Clients are smtpd (queue.sock) and
 * sendmail/mailq/postern queue (submit.sock), each sending one message at a
 * time, and the delivery agents (deliver.sock, queue_agent.c).  The loop
 * sleeps until the scheduler's next due time; a commit is scheduled at once.  Nothing
 * a client says is trusted: the envelope is re-parsed and re-checked, the
 * id and arrival time are ours, and local submissions are marked with the
 * kernel's idea of who sent them (SO_PEERCRED).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "event.h"
#include "ipc.h"
#include "log.h"
#include "queue_admin.h"
#include "queue_agent.h"
#include "queue_server.h"
#include "queue_spool.h"
#include "util.h"
#include "xmalloc.h"

#define SEND_TIMEOUT_S	10	/* a client that stops reading is dropped */
#define NFIXED		4	/* signal pipe, queue.sock, submit.sock, deliver.sock */

struct client {
	int fd;			/* -1: free slot */
	int submit;		/* came in on submit.sock */
	uid_t uid;		/* SO_PEERCRED, for submit clients */
	int open;		/* BEGIN accepted, END/ABORT not yet seen */
	struct spool_msg msg;
	struct envelope env;
};

static struct client *clients;
static const struct queue_limits *limits;
static struct result_ctx *ctx;

static void
client_close(struct client *cl, const char *why)
{
	if (why != NULL)
		log_warn("client %d: %s; closing", cl->fd, why);
	if (cl->open) {
		spool_discard(&cl->msg);
		envelope_free(&cl->env);
	}
	cl->open = 0;
	close(cl->fd);
	cl->fd = -1;
}

static int
reply(struct client *cl, int type, const char *key, const char *val)
{
	struct ipc_msg m;
	int r;

	ipc_msg_init(&m, (uint16_t)type);
	if (ipc_put_str(&m, key, val) == -1)
		log_panic("reply record");
	r = ipc_send(cl->fd, &m);
	ipc_msg_free(&m);
	return r;
}

/* Exactly the fields named in keys (each at most once, in any order). */
static int
fields_only(const struct ipc_msg *m, const char *const *keys, int nkeys)
{
	const char *key, *val;
	size_t pos = 0, len;
	unsigned seen = 0;
	int i;

	while (ipc_next(m, &pos, &key, &val, &len) == 1) {
		for (i = 0; i < nkeys && strcmp(key, keys[i]) != 0; i++)
			;
		if (i == nkeys || (seen & (1u << i)))
			return 0;
		seen |= 1u << i;
	}
	return pos == m->body.len && seen == (1u << nkeys) - 1;
}

/* What a client may not decide: recipient state, and for local submission
 * every field about the client.  NULL if e is acceptable. */
static const char *
begin_refusal(const struct client *cl, const struct envelope *e)
{
	size_t i;

	if (e->nrcpt > limits->recipients)
		return "too many recipients";
	if (e->kind != ENV_KIND_MAIL || e->hold || e->warned)
		return "queue-only fields (kind, hold, warned) set by the client";
	for (i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state != ENV_RCPT_PENDING || e->rcpt[i].attempts != 0 ||
		    e->rcpt[i].next_attempt != 0 || e->rcpt[i].status != NULL)
			return "recipient state set by the client";
	if (cl->submit && (e->client_addr != NULL || e->client_helo != NULL ||
	    e->auth_id != NULL || e->protocol != NULL))
		return "client fields in a local submission";
	return NULL;
}

/* Fill in what only the queue decides. */
static void
begin_stamp(struct client *cl)
{
	char uid[32];

	if (str_copy(cl->env.id, sizeof(cl->env.id), cl->msg.id) == -1)
		log_panic("queue id length");
	cl->env.arrival = (int64_t)time(NULL);
	if (!cl->submit)
		return;
	if (str_format(uid, sizeof(uid), "uid=%lu", (unsigned long)cl->uid) == -1)
		log_panic("uid text");
	envelope_set(&cl->env.client_addr, "local");
	envelope_set(&cl->env.protocol, "local");
	envelope_set(&cl->env.auth_id, uid);
}

static int
do_begin(struct client *cl, const struct ipc_msg *m)
{
	static const char *const keys[] = { "envelope" };
	const char *text, *err = "bad envelope";
	size_t len;

	if (cl->open || !fields_only(m, keys, 1))
		return -1;
	text = ipc_get(m, "envelope", &len);
	envelope_init(&cl->env);
	if (envelope_parse(text, len, &cl->env, &err) == -1 ||
	    (err = begin_refusal(cl, &cl->env)) != NULL) {
		log_warn("client %d: envelope refused: %s", cl->fd, err);
		envelope_free(&cl->env);
		return reply(cl, IPC_ERROR, "error", err);
	}
	if (spool_begin(&cl->msg, limits->message_size + QUEUE_SIZE_MARGIN) == -1) {
		envelope_free(&cl->env);
		return reply(cl, IPC_ERROR, "error", "cannot write message");
	}
	begin_stamp(cl);
	cl->open = 1;
	return reply(cl, IPC_OK, "id", cl->msg.id);
}

static int
do_data(struct client *cl, const struct ipc_msg *m)
{
	static const char *const keys[] = { "data" };
	const char *data;
	size_t len;

	if (!cl->open || !fields_only(m, keys, 1))
		return -1;
	data = ipc_get(m, "data", &len);
	spool_write(&cl->msg, data, len);
	return 0;
}

static void
log_accepted(const struct client *cl, uint64_t size)
{
	const struct envelope *e = &cl->env;

	log_set_qid(e->id);
	log_info("from=<%s>, size=%llu, nrcpt=%zu, client=%s, helo=%s, "
	    "protocol=%s%s%s", e->sender, (unsigned long long)size, e->nrcpt,
	    e->client_addr ? e->client_addr : "unknown",
	    e->client_helo ? e->client_helo : "-",
	    e->protocol ? e->protocol : "-", e->auth_id ? ", auth=" : "",
	    e->auth_id ? e->auth_id : "");
	log_set_qid(NULL);
}

static int
do_end(struct client *cl, const struct ipc_msg *m)
{
	char id[QUEUE_ID_LEN + 1];
	uint64_t size = cl->msg.size;
	const char *err;
	int r;

	if (!cl->open || m->body.len != 0)
		return -1;
	if (str_copy(id, sizeof(id), cl->msg.id) == -1)
		log_panic("queue id length");
	cl->open = 0;
	r = spool_commit(&cl->msg, &cl->env, &err);
	if (r == 1) {
		log_accepted(cl, size);
		result_committed(ctx, &cl->env, size);	/* scheduled at once */
	} else
		log_warn("%s: not queued: %s (%llu bytes)", id, err,
		    (unsigned long long)size);
	envelope_free(&cl->env);
	return r == 1 ? reply(cl, IPC_OK, "id", id) : reply(cl, IPC_ERROR, "error", err);
}

/* One record from a client: 0 go on, -1 close it. */
static int
client_request(struct client *cl, const struct ipc_msg *m)
{
	switch (m->type) {
	case IPC_QUEUE_BEGIN:
		return do_begin(cl, m);
	case IPC_QUEUE_DATA:
		return do_data(cl, m);
	case IPC_QUEUE_END:
		return do_end(cl, m);
	case IPC_QUEUE_ABORT:
		if (m->body.len != 0)
			return -1;
		if (cl->open) {
			spool_discard(&cl->msg);
			envelope_free(&cl->env);
			cl->open = 0;
		}
		return 0;
	default:
		if (!cl->submit || cl->open || !admin_is_request(m))
			return -1;
		return admin_request(ctx, cl->fd, cl->uid, m);
	}
}

static void
client_readable(struct client *cl)
{
	struct ipc_msg m;
	int r = ipc_recv(cl->fd, &m), err = errno;

	if (r == 1 && m.nfds != 0)
		r = -2;
	else if (r == 1 && client_request(cl, &m) == -1)
		r = -2;
	ipc_msg_free(&m);
	if (r == 0)
		client_close(cl, cl->open ? "disconnected mid-message" : NULL);
	else if (r == -1 && err != EAGAIN && err != EINTR)
		client_close(cl, strerror(err));
	else if (r == -2)
		client_close(cl, "protocol error");
}

static void
accept_clients(int lfd, int submit)
{
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	struct ucred cred;
	socklen_t len;
	int fd, i;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		for (i = 0; i < QUEUE_MAX_CLIENTS && clients[i].fd != -1; i++)
			;
		len = sizeof(cred);
		if (i == QUEUE_MAX_CLIENTS) {
			log_warn("too many clients (%d); refusing one", QUEUE_MAX_CLIENTS);
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
			log_warn("new client: %s", strerror(errno));
			close(fd);
			continue;
		}
		memset(&clients[i], 0, sizeof(clients[i]));
		clients[i].fd = fd;
		clients[i].submit = submit;
		clients[i].uid = cred.uid;
		clients[i].msg.fd = -1;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warn("accept: %s", strerror(errno));
}

/* Drain the signal pipe: 1 if we were told to stop. */
static int
signals_stop(void)
{
	int sig, stop = 0;

	while ((sig = event_signal_next()) != 0)
		if (sig == SIGTERM || sig == SIGINT)
			stop = 1;
	return stop;
}

/* Time-driven work, then every job the limits allow; returns the poll
 * timeout in milliseconds until the next due time (-1: none). */
static int
schedule(void)
{
	int64_t now = (int64_t)time(NULL), wake;

	result_tick(ctx, now);
	agent_dispatch(now);
	wake = sched_wake(&ctx->sched, now);
	if (wake == -1)
		return -1;
	if (wake - now > 3600)
		return 3600 * 1000;
	return (int)(wake - now) * 1000;
}

/* Fill the poll set: fixed fds, then clients (slot[]), then agents. */
static int
poll_set(struct pollfd *pfd, int *slot, int *aslot, int *nclients)
{
	int i, n = NFIXED;

	for (i = 0; i < QUEUE_MAX_CLIENTS; i++)
		if (clients[i].fd != -1) {
			pfd[n].fd = clients[i].fd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			slot[n - NFIXED] = i;
			n++;
		}
	*nclients = n - NFIXED;
	return n + agent_pollfds(&pfd[n], aslot);
}

int
queue_server_run(const struct queue_fds *fds, const struct queue_limits *lim,
    struct result_ctx *x)
{
	struct pollfd *pfd = xcalloc(QUEUE_MAX_CLIENTS + NFIXED + AGENT_MAX, sizeof(*pfd));
	int *slot = xcalloc(QUEUE_MAX_CLIENTS, sizeof(*slot)), aslot[AGENT_MAX];
	int i, n, nclients, timeout, stop = 0;

	limits = lim;
	ctx = x;
	clients = xcalloc(QUEUE_MAX_CLIENTS, sizeof(*clients));
	for (i = 0; i < QUEUE_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if (fd_set_nonblock(fds->smtpd, 1) == -1 || fd_set_nonblock(fds->submit, 1) == -1 ||
	    fd_set_nonblock(fds->deliver, 1) == -1)
		log_fatal("listening sockets: %s", strerror(errno));
	pfd[0].fd = event_signal_fd();
	pfd[1].fd = fds->smtpd;
	pfd[2].fd = fds->submit;
	pfd[3].fd = fds->deliver;
	for (i = 0; i < NFIXED; i++)
		pfd[i].events = POLLIN;
	event_signal_catch(SIGTERM);
	event_signal_catch(SIGINT);
	signal(SIGPIPE, SIG_IGN);
	while (!stop) {
		timeout = schedule();
		n = poll_set(pfd, slot, aslot, &nclients);
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			log_fatal("poll: %s", strerror(errno));
		}
		if (pfd[0].revents)
			stop = signals_stop();
		for (i = NFIXED; i < NFIXED + nclients; i++)
			if (pfd[i].revents)
				client_readable(&clients[slot[i - NFIXED]]);
		for (; i < n; i++)
			if (pfd[i].revents)
				agent_readable(aslot[i - NFIXED - nclients]);
		if (pfd[1].revents)
			accept_clients(fds->smtpd, 0);
		if (pfd[2].revents)
			accept_clients(fds->submit, 1);
		if (pfd[3].revents)
			agent_accept(fds->deliver);
	}
	for (i = 0; i < QUEUE_MAX_CLIENTS; i++)
		if (clients[i].fd != -1)
			client_close(&clients[i], NULL);
	agent_close_all();
	free(clients);
	free(slot);
	free(pfd);
	log_info("stopping");
	return 0;
}
