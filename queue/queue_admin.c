/*
 * queue_admin: `postern queue` requests in the queue process.  The client
 * is identified by the kernel (SO_PEERCRED); ids are checked for form
 * before they are looked up.  Changes that must survive a restart (hold,
 * release, delete) are durable before the answer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "queue_admin.h"
#include "queue_list.h"
#include "queue_spool.h"
#include "util.h"

#define HEADERS_MAX	(32 * 1024)

enum op { OP_DELETE, OP_HOLD, OP_RELEASE };

int
admin_is_request(const struct ipc_msg *m)
{
	switch (m->type) {
	case IPC_QUEUE_LIST:
	case IPC_QUEUE_SHOW:
	case IPC_QUEUE_DELETE:
	case IPC_QUEUE_HOLD:
	case IPC_QUEUE_RELEASE:
	case IPC_QUEUE_FLUSH:
		return 1;
	default:
		return 0;
	}
}

static int
answer(int fd, int type, const char *key, const char *text, uint64_t num)
{
	struct ipc_msg m;
	int r;

	ipc_msg_init(&m, (uint16_t)type);
	if ((text != NULL ? ipc_put_str(&m, key, text) : ipc_put_u64(&m, key, num)) == -1)
		log_panic("admin answer");
	r = ipc_send(fd, &m);
	ipc_msg_free(&m);
	return r;
}

/* The only field is "id": its value (an id or "all"), or NULL. */
static const char *
only_id(const struct ipc_msg *m)
{
	const char *key, *val;
	size_t pos = 0, len;

	if (ipc_next(m, &pos, &key, &val, &len) != 1 || strcmp(key, "id") != 0 ||
	    memchr(val, '\0', len) != NULL || len > QUEUE_ID_LEN)
		return NULL;
	if (ipc_next(m, &pos, &key, &val, &len) != 0 || pos != m->body.len)
		return NULL;
	return val;
}

/* The header of msg/XX/ID (up to the empty line), at most HEADERS_MAX. */
static int
read_headers(const char *id, struct buf *out)
{
	char *p, *end;
	ssize_t n;
	int fd;

	if ((fd = spool_open_msg(id)) == -1)
		return -1;
	if ((p = malloc(HEADERS_MAX)) == NULL) {
		close(fd);
		return -1;
	}
	while ((n = pread(fd, p, HEADERS_MAX, 0)) == -1 && errno == EINTR)
		;
	close(fd);
	if (n >= 0) {
		end = memmem(p, (size_t)n, "\r\n\r\n", 4);
		if (end != NULL)
			n = end - p + 2;
		if (buf_append(out, p, (size_t)n) == -1)
			n = -1;
	}
	free(p);
	return n < 0 ? -1 : 0;
}

static int
show(struct result_ctx *x, int fd, const char *id)
{
	struct buf env = BUF_INIT(IPC_MAX_RECORD), hdr = BUF_INIT(HEADERS_MAX);
	struct sched_msg *q = spool_id_valid(id) ? sched_find(&x->sched, id) : NULL;
	struct ipc_msg m;
	int r;

	if (q == NULL || q->deleted)
		return answer(fd, IPC_ERROR, "error", "no such message", 0);
	if (envelope_serialize(&q->env, &env) == -1 || read_headers(id, &hdr) == -1) {
		buf_free(&env);
		buf_free(&hdr);
		return answer(fd, IPC_ERROR, "error", "cannot show the message", 0);
	}
	ipc_msg_init(&m, IPC_OK);
	if (ipc_put(&m, "envelope", env.data, env.len) == -1 ||
	    ipc_put(&m, "headers", hdr.data ? hdr.data : "", hdr.len) == -1)
		r = answer(fd, IPC_ERROR, "error", "message too large to show", 0);
	else
		r = ipc_send(fd, &m);
	ipc_msg_free(&m);
	buf_free(&env);
	buf_free(&hdr);
	return r;
}

/* Apply op to one message.  1 counted, 0 not. */
static int
apply(struct result_ctx *x, struct sched_msg *q, enum op op)
{
	log_set_qid(q->env.id);
	if (op == OP_DELETE) {
		log_info("deleted by the administrator");
		q->deleted = 1;
		log_set_qid(NULL);
		result_finish(x, q);	/* q may be gone */
		return 1;
	}
	if (q->env.hold == (op == OP_HOLD)) {
		log_set_qid(NULL);
		return 0;
	}
	q->env.hold = op == OP_HOLD;
	if (result_rewrite(q) == -1) {
		q->env.hold = !q->env.hold;
		log_set_qid(NULL);
		return 0;
	}
	log_info("%s", op == OP_HOLD ? "on hold" : "released from hold");
	log_set_qid(NULL);
	return 1;
}

static int
change(struct result_ctx *x, int fd, const char *id, enum op op)
{
	struct sched_msg *q, *next;
	uint64_t count = 0;

	if (strcmp(id, "all") == 0) {
		for (q = x->sched.head; q != NULL; q = next) {
			next = q->next;
			if (!q->deleted)
				count += (uint64_t)apply(x, q, op);
		}
	} else {
		q = spool_id_valid(id) ? sched_find(&x->sched, id) : NULL;
		if (q == NULL || q->deleted)
			return answer(fd, IPC_ERROR, "error", "no such message", 0);
		count = (uint64_t)apply(x, q, op);
	}
	return answer(fd, IPC_OK, "count", NULL, count);
}

/* Every deferred recipient is due now (held messages stay held). */
static int
flush(struct result_ctx *x, int fd)
{
	struct sched_msg *q;
	uint64_t count = 0;
	size_t i;

	for (q = x->sched.head; q != NULL; q = q->next) {
		if (q->deleted || q->env.hold)
			continue;
		for (i = 0; i < q->env.nrcpt; i++)
			if (sched_rcpt_open(q, i) && !q->busy[i] &&
			    q->env.rcpt[i].next_attempt > 0) {
				q->env.rcpt[i].next_attempt = 0;
				count++;
			}
	}
	sched_dest_clear(&x->sched);	/* suspended destinations are tried again */
	log_info("flush: %llu recipients due now", (unsigned long long)count);
	return answer(fd, IPC_OK, "count", NULL, count);
}

int
admin_request(struct result_ctx *x, int fd, uid_t uid, const struct ipc_msg *m)
{
	const char *id = NULL;

	if (m->nfds != 0)
		return -1;
	if (m->type == IPC_QUEUE_LIST)
		return m->body.len == 0 ? queue_list_send(fd, &x->sched) : -1;
	if (m->type == IPC_QUEUE_FLUSH ? m->body.len != 0 : (id = only_id(m)) == NULL)
		return -1;
	if (uid != 0 && uid != geteuid()) {
		log_warn("queue request %u from uid %u refused", (unsigned)m->type,
		    (unsigned)uid);
		return answer(fd, IPC_ERROR, "error", "permission denied", 0);
	}
	switch (m->type) {
	case IPC_QUEUE_SHOW:
		return show(x, fd, id);
	case IPC_QUEUE_DELETE:
		return change(x, fd, id, OP_DELETE);
	case IPC_QUEUE_HOLD:
		return change(x, fd, id, OP_HOLD);
	case IPC_QUEUE_RELEASE:
		return change(x, fd, id, OP_RELEASE);
	default:
		return flush(x, fd);
	}
}
