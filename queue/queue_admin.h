/*
 * queue_admin: the administration requests on submit.sock (docs/queue.md,
 * "Administration over submit.sock"): list, show, delete, hold, release,
 * flush.  Everything but the listing needs uid 0 (or the queue's own uid)
 * by SO_PEERCRED.
 */
#ifndef POSTERN_QUEUE_ADMIN_H
#define POSTERN_QUEUE_ADMIN_H
#include <sys/types.h>

#include "ipc.h"
#include "queue_result.h"

/* 1 if m's type is an admin request. */
int admin_is_request(const struct ipc_msg *m);
/* Answer one request from a client with SO_PEERCRED uid.  0 answered,
 * -1 protocol error or send failure (close the client). */
int admin_request(struct result_ctx *x, int fd, uid_t uid, const struct ipc_msg *m);
#endif
