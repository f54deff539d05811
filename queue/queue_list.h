/*
 * queue_list: answers IPC_QUEUE_LIST (mailq, postern queue) from the
 * scheduler's in-memory index, which mirrors env/ (docs/queue.md).
 */
#ifndef POSTERN_QUEUE_LIST_H
#define POSTERN_QUEUE_LIST_H
#include "queue_sched.h"

/* Send one IPC_OK record per queued message ("id", "size", "arrival",
 * "sender", "hold" = 1 when held, one "rcpt" per recipient as "state
 * address", each followed by "status" when it has a last result; "more" =
 * number of recipients left out to fit the record), then IPC_OK with "end"
 * = 1.  0, or -1 when sending failed (the caller closes the client). */
int queue_list_send(int fd, const struct sched *s);
#endif
