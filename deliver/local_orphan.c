/*
 * local_orphan: the results the queue has not acknowledged yet, and the
 * records waiting for room in the socket (docs/queue.md, "Delivery
 * agents").  A delivery that ends while the queue is away, or whose result
 * the queue may not have recorded, is announced to the next queue as an
 * ORPHAN after HELLO, so a queue restart does not deliver it twice.
 */
#include <errno.h>
#include <string.h>

#include "ipc.h"
#include "local_server.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* A copy of m (no descriptors) into out. */
static void
msg_copy(struct ipc_msg *out, const struct ipc_msg *m)
{
	ipc_msg_init(out, m->type);
	if (buf_append(&out->body, m->body.data, m->body.len) == -1)
		log_panic("msg_copy: record size");
}

void
local_out_flush(struct local_server *s)
{
	size_t k = 0;

	while (k < s->nout && s->sock != -1) {
		if (ipc_send(s->sock, &s->out[k]) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				log_warn("cannot send to the queue: %s", strerror(errno));
				s->send_failed = 1;
			}
			break;
		}
		ipc_msg_free(&s->out[k++]);
	}
	memmove(s->out, s->out + k, (s->nout - k) * sizeof(*s->out));
	s->nout -= k;
}

void
local_out_clear(struct local_server *s)
{
	for (size_t k = 0; k < s->nout; k++)
		ipc_msg_free(&s->out[k]);
	s->nout = 0;
}

/* Queue a copy of m for the queue and send what the socket takes. */
static void
out_add(struct local_server *s, const struct ipc_msg *m)
{
	if (s->nout == s->outcap) {
		s->outcap = s->outcap ? s->outcap * 2 : 32;
		s->out = xreallocarray(s->out, s->outcap, sizeof(*s->out));
	}
	msg_copy(&s->out[s->nout++], m);
	local_out_flush(s);
}

static void
done_drop(struct local_server *s, size_t k)
{
	ipc_msg_free(&s->done[k].res);
	memmove(s->done + k, s->done + k + 1, (s->ndone - k - 1) * sizeof(*s->done));
	s->ndone--;
}

void
local_done_add(struct local_server *s, const struct local_job *j,
    const struct ipc_msg *res)
{
	struct local_done *d;

	if (s->ndone == LOCAL_ORPHANS_MAX) {
		log_warn("job %s: too many results the queue has not acknowledged; "
		    "forgetting the one for <%s> (it may be delivered again)",
		    s->done[0].tag, s->done[0].rcpt);
		done_drop(s, 0);
	}
	if (s->ndone == s->donecap) {
		s->donecap = s->donecap ? s->donecap * 2 : 32;
		s->done = xreallocarray(s->done, s->donecap, sizeof(*s->done));
	}
	d = &s->done[s->ndone++];
	if (str_copy(d->tag, sizeof(d->tag), j->tag) == -1 ||
	    str_copy(d->id, sizeof(d->id), j->id) == -1 ||
	    str_copy(d->rcpt, sizeof(d->rcpt), j->rcpt.addr) == -1)
		log_panic("local_done_add: lengths");
	msg_copy(&d->res, res);
	if (s->sock != -1)
		out_add(s, res);
	else
		log_info("job %s: the queue is not connected; the result is kept for it",
		    j->tag);
}

void
local_done_ack(struct local_server *s, const struct ipc_msg *m)
{
	const char *tag = ipc_get_str(m, "job", 20);
	size_t k;

	for (k = 0; tag != NULL && k < s->ndone && strcmp(s->done[k].tag, tag) != 0; k++)
		continue;
	if (tag == NULL || k == s->ndone)
		log_warn("acknowledgement for an unknown job %s from the queue; ignored",
		    tag != NULL ? tag : "(none)");
	else
		done_drop(s, k);
}

size_t
local_orphan_count(const struct local_server *s)
{
	size_t n = s->ndone;

	for (size_t i = 0; i < s->nslots; i++)
		n += s->slots[i].used ? 1 : 0;
	return n;
}

/* The ORPHAN record for one job. */
static void
orphan_send(struct local_server *s, const char *tag, const char *id, const char *rcpt)
{
	struct ipc_msg m;

	ipc_msg_init(&m, IPC_DELIVER_ORPHAN);
	if (ipc_put_str(&m, "job", tag) == -1 || ipc_put_str(&m, "id", id) == -1 ||
	    ipc_put_str(&m, "rcpt", rcpt) == -1)
		log_panic("orphan record");
	out_add(s, &m);
	ipc_msg_free(&m);
}

void
local_orphan_announce(struct local_server *s)
{
	size_t i;

	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].used) {
			orphan_send(s, s->slots[i].job.tag, s->slots[i].job.id,
			    s->slots[i].job.rcpt.addr);
			s->slots[i].gen = s->gen;
		}
	for (i = 0; i < s->ndone; i++)
		orphan_send(s, s->done[i].tag, s->done[i].id, s->done[i].rcpt);
	for (i = 0; i < s->ndone; i++)
		out_add(s, &s->done[i].res);
}

void
local_orphan_free(struct local_server *s)
{
	local_out_clear(s);
	while (s->ndone > 0)
		done_drop(s, s->ndone - 1);
	free(s->done);
	free(s->out);
}
