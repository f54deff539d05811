/*
 * sendmail_io: stdin and the queue connection for the sendmail command.
 * The queue's answers are checked before use; any surprise means "not
 * queued".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "sendmail_io.h"

#define SM_CHUNK	60000
#define SM_TIMEOUT_MS	(5 * 60 * 1000)

/* Does b hold a "." line starting at from (a line start)?  Sets *cut to
 * where the message ends. */
static int
dot_line(const struct buf *b, size_t from, size_t *cut)
{
	const char *p = b->data;
	size_t i = from;

	while (i < b->len) {
		const char *nl = memchr(p + i, '\n', b->len - i);
		size_t end;

		if (nl == NULL)
			return 0;
		end = (size_t)(nl - p);
		if ((end - i == 1 && p[i] == '.') ||
		    (end - i == 2 && p[i] == '.' && p[i + 1] == '\r')) {
			*cut = i;
			return 1;
		}
		i = end + 1;
	}
	return 0;
}

int
sm_read_input(int fd, int dot_ends, struct buf *b)
{
	char chunk[65536];
	size_t scanned = 0, cut;
	const char *nl;
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		if (buf_append(b, chunk, (size_t)n) == -1)
			return 0;
		if (dot_ends) {
			if (dot_line(b, scanned, &cut)) {
				buf_truncate(b, cut);
				break;
			}
			/* complete lines are checked; go on at the partial one */
			nl = memrchr(b->data + scanned, '\n', b->len - scanned);
			if (nl != NULL)
				scanned = (size_t)(nl - b->data) + 1;
		}
	}
	if (dot_ends && b->len > scanned && b->len - scanned == 1 &&
	    b->data[scanned] == '.')
		buf_truncate(b, scanned);	/* "." at EOF without a newline */
	return 1;
}

/* Wait for the answer to req: 1 OK with our id, 0 IPC_ERROR, -1 lost. */
static int
sm_call(int fd, struct ipc_msg *req, char id[ENVELOPE_ID_MAX + 1],
    const char **err)
{
	static char reason[256];
	struct ipc_msg ans;
	const char *s;
	int r = ipc_call(fd, req, &ans, SM_TIMEOUT_MS);

	if (r != 1) {
		*err = r == 0 ? "the queue closed the connection" : strerror(errno);
		ipc_msg_free(&ans);
		return -1;
	}
	if (ans.type == IPC_ERROR) {
		s = ipc_get_str(&ans, "error", 200);
		if (str_copy(reason, sizeof(reason), s ? s : "refused") == -1)
			reason[0] = '\0';
		*err = reason;
		ipc_msg_free(&ans);
		return 0;
	}
	s = ipc_get_str(&ans, "id", ENVELOPE_ID_MAX);
	r = -1;
	*err = "unexpected answer from the queue";
	if (ans.type == IPC_OK && s != NULL && *s != '\0' &&
	    strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz_.-") == strlen(s) &&
	    (id[0] == '\0' || strcmp(id, s) == 0) &&
	    str_copy(id, ENVELOPE_ID_MAX + 1, s) == 0)
		r = 1;
	ipc_msg_free(&ans);
	return r;
}

/* Permanent refusals; anything else may work later. */
static int
sm_refusal(int r, const char *err)
{
	if (r == 0 && (strcmp(err, "message too big") == 0 ||
	    strcmp(err, "too many recipients") == 0))
		return 0;
	return r == 1 ? 1 : -1;
}

int
sm_submit(int fd, const struct envelope *e, const struct buf *msg,
    char id[ENVELOPE_ID_MAX + 1], const char **err)
{
	struct buf text = BUF_INIT(IPC_MAX_RECORD - 1024);
	struct ipc_msg m;
	size_t off, n;
	int r;

	id[0] = '\0';
	if (envelope_serialize(e, &text) == -1) {
		buf_free(&text);
		*err = "too many recipients";
		return 0;
	}
	ipc_msg_init(&m, IPC_QUEUE_BEGIN);
	if (ipc_put(&m, "envelope", text.data, text.len) == -1) {
		r = 0;
		*err = "too many recipients";
	} else
		r = sm_call(fd, &m, id, err);
	ipc_msg_free(&m);
	buf_free(&text);
	if (r != 1)
		return sm_refusal(r, *err);
	for (off = 0; off < msg->len; off += n) {
		n = msg->len - off < SM_CHUNK ? msg->len - off : SM_CHUNK;
		ipc_msg_init(&m, IPC_QUEUE_DATA);
		r = ipc_put(&m, "data", msg->data + off, n) == -1 ||
		    ipc_send(fd, &m) == -1 ? -1 : 0;
		ipc_msg_free(&m);
		if (r == -1) {
			*err = strerror(errno);
			return -1;
		}
	}
	ipc_msg_init(&m, IPC_QUEUE_END);
	r = sm_call(fd, &m, id, err);
	ipc_msg_free(&m);
	return sm_refusal(r, *err);
}
