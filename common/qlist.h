/*
 * qlist: reading the queue's listing records (IPC_QUEUE_LIST answers,
 * docs/queue.md), shared by mailq and `postern queue`, which print them in
 * their own formats.  The queue's answer is re-validated here.
 */
#ifndef POSTERN_QLIST_H
#define POSTERN_QLIST_H
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

struct qlist_entry {
	const char *id;		/* inside the record */
	const char *sender;	/* "" for the null sender */
	uint64_t size, more;	/* octets; recipients left out of the record */
	char when[32];		/* arrival, local time, or "" */
};

/* Fill e from one listing record; text fields longer than field_max are
 * refused.  0, or -1 when the record is malformed. */
int qlist_entry_parse(const struct ipc_msg *m, size_t field_max, struct qlist_entry *e) WUR;
#endif
