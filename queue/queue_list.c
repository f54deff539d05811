/*
 * queue_list: the queue listing for mailq and `postern queue`, from the
 * scheduler's index (the authoritative copy of every envelope while the
 * queue runs).  Used by the queue process.
 */
#include <string.h>

#include "envelope.h"
#include "ipc.h"
#include "log.h"
#include "queue_list.h"

/* Room kept free in a record for the fixed fields. */
#define LIST_RESERVE	2048

/* Build the record for one message.  0 ok, -1 (record too small). */
static int
list_record(struct ipc_msg *m, const struct sched_msg *q)
{
	const struct envelope *e = &q->env;
	struct buf line = BUF_INIT(SMTP_ADDR_MAX + 32);
	size_t i, more = 0, need;
	const char *st;

	if (ipc_put_str(m, "id", e->id) == -1 || ipc_put_u64(m, "size", q->size) == -1 ||
	    ipc_put_u64(m, "arrival", (uint64_t)e->arrival) == -1 ||
	    ipc_put_str(m, "sender", e->sender) == -1 ||
	    (e->hold && ipc_put_u64(m, "hold", 1) == -1))
		return -1;
	for (i = 0; i < e->nrcpt; i++) {
		buf_reset(&line);
		st = e->rcpt[i].status;
		need = st != NULL ? strlen(st) + 32 : 0;
		if (buf_printf(&line, "%s %s", envelope_state_name(e->rcpt[i].state),
		    e->rcpt[i].addr) == -1 ||
		    m->body.len + line.len + need + LIST_RESERVE > IPC_MAX_RECORD ||
		    ipc_put(m, "rcpt", line.data, line.len) == -1 ||
		    (st != NULL && ipc_put_str(m, "status", st) == -1)) {
			more = e->nrcpt - i;
			break;
		}
	}
	buf_free(&line);
	if (more > 0 && ipc_put_u64(m, "more", more) == -1)
		return -1;
	return 0;
}

int
queue_list_send(int fd, const struct sched *s)
{
	const struct sched_msg *q;
	struct ipc_msg m;
	int r = 0;

	for (q = s->head; q != NULL && r == 0; q = q->next) {
		if (q->deleted)
			continue;
		ipc_msg_init(&m, IPC_OK);
		if (list_record(&m, q) == 0)
			r = ipc_send(fd, &m);
		else
			log_warn("%s: does not fit a listing record", q->env.id);
		ipc_msg_free(&m);
	}
	if (r == -1)
		return -1;
	ipc_msg_init(&m, IPC_OK);
	if (ipc_put_u64(&m, "end", 1) == -1)
		log_panic("list end record");
	r = ipc_send(fd, &m);
	ipc_msg_free(&m);
	return r;
}
