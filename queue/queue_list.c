/*
 * queue_list: the spool listing for mailq.  Walks env/XX/ID, re-parses each
 * envelope, takes the size from msg/XX/ID and sends one record a message.
 * Used by the queue process; a damaged envelope is skipped with a warning.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "envelope.h"
#include "ipc.h"
#include "log.h"
#include "queue_list.h"
#include "queue_spool.h"
#include "util.h"

/* Room kept free in a record for the fixed fields. */
#define LIST_RESERVE	2048

/* Build the record for one envelope.  0 ok, -1 (record too small). */
static int
list_record(struct ipc_msg *m, const struct envelope *e, uint64_t size)
{
	struct buf line = BUF_INIT(SMTP_ADDR_MAX + 32);
	size_t i, more = 0;

	if (ipc_put_str(m, "id", e->id) == -1 || ipc_put_u64(m, "size", size) == -1 ||
	    ipc_put_u64(m, "arrival", (uint64_t)e->arrival) == -1 ||
	    ipc_put_str(m, "sender", e->sender) == -1)
		return -1;
	for (i = 0; i < e->nrcpt; i++) {
		buf_reset(&line);
		if (buf_printf(&line, "%s %s", envelope_state_name(e->rcpt[i].state),
		    e->rcpt[i].addr) == -1 ||
		    m->body.len + line.len + LIST_RESERVE > IPC_MAX_RECORD ||
		    ipc_put(m, "rcpt", line.data, line.len) == -1) {
			more = e->nrcpt - i;
			break;
		}
	}
	buf_free(&line);
	if (more > 0 && ipc_put_u64(m, "more", more) == -1)
		return -1;
	return 0;
}

/* Send the record for env/XX/ID.  0 (also for skipped ones), -1 send error. */
static int
list_one(int fd, const char *xx, const char *id)
{
	struct buf text = BUF_INIT(ENVELOPE_SIZE_MAX);
	struct envelope e;
	struct ipc_msg m;
	struct stat st;
	char path[128];
	const char *err = "unreadable";
	int r = 0;

	envelope_init(&e);
	if (str_format(path, sizeof(path), "env/%s/%s", xx, id) == -1 ||
	    read_file(path, &text, ENVELOPE_SIZE_MAX) == -1 ||
	    envelope_parse(text.data, text.len, &e, &err) == -1) {
		if (errno != ENOENT)	/* ENOENT: delivered meanwhile */
			log_warn("%s: %s", path, err);
		goto out;
	}
	if (str_format(path, sizeof(path), "msg/%s/%s", xx, id) == -1 ||
	    stat(path, &st) == -1)
		goto out;
	ipc_msg_init(&m, IPC_OK);
	if (list_record(&m, &e, (uint64_t)st.st_size) == 0)
		r = ipc_send(fd, &m);
	ipc_msg_free(&m);
out:
	envelope_free(&e);
	buf_free(&text);
	return r;
}

static int
list_sub(int fd, const char *xx)
{
	char path[64];
	struct dirent *d;
	DIR *dh;
	int r = 0;

	if (str_format(path, sizeof(path), "env/%s", xx) == -1 ||
	    (dh = opendir(path)) == NULL)
		return 0;
	while (r == 0 && (d = readdir(dh)) != NULL)
		if (d->d_name[0] != '.' && strchr(d->d_name, '.') == NULL)
			r = list_one(fd, xx, d->d_name);
	closedir(dh);
	return r;
}

int
queue_list_send(int fd)
{
	struct dirent *d;
	struct ipc_msg m;
	DIR *dh;
	int r = 0;

	if ((dh = opendir("env")) == NULL) {
		log_warn("env: %s", strerror(errno));
	} else {
		while (r == 0 && (d = readdir(dh)) != NULL)
			if (strlen(d->d_name) == 2 && d->d_name[0] != '.')
				r = list_sub(fd, d->d_name);
		closedir(dh);
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
