/*
 * smtpd_queue: smtpd's side of the queue protocol (docs/queue.md): one
 * queue.sock connection per session, one message at a time: BEGIN
 * (envelope) -> OK id, DATA chunks (no answers), END -> OK id after the
 * commit, or ABORT.  The queue's answers are checked before use; any
 * protocol surprise closes the connection and later messages get 451.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "smtpd_queue.h"

/* The serialized envelope must fit one record with its framing. */
#define QUEUE_ENVELOPE_MAX	(IPC_MAX_RECORD - 1024)

void
smtpd_queue_init(struct smtpd_queue *q, int fd, int timeout_ms)
{
	struct timeval tv;

	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->timeout_ms = timeout_ms;
	buf_init(&q->out, SMTPD_QUEUE_CHUNK);
	if (fd == -1)
		return;
	/* a stalled queue must not hang the session forever in sendmsg() */
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		log_warn("queue socket: SO_SNDTIMEO: %s", strerror(errno));
}

/* The connection is unusable from now on. */
static void
smtpd_queue_lost(struct smtpd_queue *q, const char *why)
{
	log_warn("queue connection lost: %s", why);
	if (q->fd != -1)
		close(q->fd);
	q->fd = -1;
	q->open = 0;
	buf_reset(&q->out);
}

/* A queue id as DESIGN.md promises it: safe as a file name and in headers. */
static int
smtpd_queue_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n >= 1 && n <= ENVELOPE_ID_MAX && id[0] != '.' &&
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

/* Wait for the answer to a request just sent: 0 and the id in q->id, -1. */
static int
smtpd_queue_answer(struct smtpd_queue *q, struct ipc_msg *req)
{
	struct ipc_msg ans;
	const char *s;
	int r;

	r = ipc_call(q->fd, req, &ans, q->timeout_ms);
	if (r != 1) {
		smtpd_queue_lost(q, r == 0 ? "closed by the queue" : strerror(errno));
		ipc_msg_free(&ans);
		return -1;
	}
	if (ans.type == IPC_ERROR) {
		s = ipc_get_str(&ans, "error", 500);
		log_warn("queue refused the message: %s", s != NULL ? s : "(no reason)");
		ipc_msg_free(&ans);
		return -1;
	}
	s = ipc_get_str(&ans, "id", ENVELOPE_ID_MAX);
	if (ans.type != IPC_OK || s == NULL || !smtpd_queue_id_ok(s)) {
		smtpd_queue_lost(q, "unexpected answer");
		ipc_msg_free(&ans);
		return -1;
	}
	if (str_copy(q->id, sizeof(q->id), s) == -1)
		log_panic("queue id length");
	ipc_msg_free(&ans);
	return 0;
}

int
smtpd_queue_begin(struct smtpd_queue *q, const struct envelope *e)
{
	struct buf env = BUF_INIT(QUEUE_ENVELOPE_MAX);
	struct ipc_msg req;
	int r;

	smtpd_queue_abort(q);
	if (q->fd == -1) {
		log_warn("queue service unavailable");
		return -1;
	}
	if (envelope_serialize(e, &env) == -1) {
		log_warn("envelope does not serialize");
		buf_free(&env);
		return -1;
	}
	ipc_msg_init(&req, IPC_QUEUE_BEGIN);
	if (ipc_put(&req, "envelope", env.data, env.len) == -1)
		log_panic("envelope record too large");
	q->id[0] = '\0';
	r = smtpd_queue_answer(q, &req);
	ipc_msg_free(&req);
	buf_free(&env);
	if (r == -1)
		return -1;
	q->open = 1;
	q->failed = 0;
	buf_reset(&q->out);
	return 0;
}

/* Send the buffered bytes as one DATA record. */
static void
smtpd_queue_send(struct smtpd_queue *q)
{
	struct ipc_msg m;

	if (q->out.len == 0 || q->failed)
		return;
	ipc_msg_init(&m, IPC_QUEUE_DATA);
	if (ipc_put(&m, "data", q->out.data, q->out.len) == -1)
		log_panic("data record too large");
	if (ipc_send(q->fd, &m) == -1) {
		q->failed = 1;
		smtpd_queue_lost(q, strerror(errno));
	}
	ipc_msg_free(&m);
	buf_reset(&q->out);
}

void
smtpd_queue_write(struct smtpd_queue *q, const void *p, size_t n)
{
	const char *c = p;
	size_t room;

	while (q->open && !q->failed && n > 0) {
		room = SMTPD_QUEUE_CHUNK - q->out.len;
		if (room > n)
			room = n;
		if (buf_append(&q->out, c, room) == -1)
			log_panic("queue buffer");
		c += room;
		n -= room;
		if (q->out.len == SMTPD_QUEUE_CHUNK)
			smtpd_queue_send(q);
	}
}

int
smtpd_queue_end(struct smtpd_queue *q)
{
	char id[ENVELOPE_ID_MAX + 1];
	struct ipc_msg req;
	int r;

	if (!q->open)
		return -1;
	smtpd_queue_send(q);
	if (q->failed || q->fd == -1) {
		q->open = 0;
		return -1;
	}
	if (str_copy(id, sizeof(id), q->id) == -1)
		log_panic("queue id length");
	ipc_msg_init(&req, IPC_QUEUE_END);
	r = smtpd_queue_answer(q, &req);
	ipc_msg_free(&req);
	q->open = 0;
	if (r == 0 && strcmp(id, q->id) != 0) {
		smtpd_queue_lost(q, "END answered with another id");
		r = -1;
	}
	return r;
}

void
smtpd_queue_abort(struct smtpd_queue *q)
{
	struct ipc_msg m;

	if (!q->open)
		return;
	q->open = 0;
	buf_reset(&q->out);
	if (q->fd == -1)
		return;
	ipc_msg_init(&m, IPC_QUEUE_ABORT);
	if (ipc_send(q->fd, &m) == -1)
		smtpd_queue_lost(q, strerror(errno));
	ipc_msg_free(&m);
}

void
smtpd_queue_free(struct smtpd_queue *q)
{
	smtpd_queue_abort(q);
	if (q->fd != -1)
		close(q->fd);
	q->fd = -1;
	buf_free(&q->out);
}
