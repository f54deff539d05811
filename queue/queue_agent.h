/*
 * queue_agent: the queue's end of deliver.sock (docs/queue.md, "Delivery
 * agents").  Agents (local, remote) connect, say HELLO, and are sent jobs
 * with the message descriptor attached; their results are validated here
 * and applied by queue_result.c.  Nothing an agent says is trusted.
 */
#ifndef POSTERN_QUEUE_AGENT_H
#define POSTERN_QUEUE_AGENT_H
#include <poll.h>
#include <sys/types.h>

#include "queue_result.h"

#define AGENT_MAX	8	/* connections, with and without HELLO */

/* uids allowed per transport (SO_PEERCRED): local, remote. */
void agent_init(struct result_ctx *x, uid_t local_uid, uid_t remote_uid);
/* Accept pending connections on the deliver.sock listener. */
void agent_accept(int lfd);
/* Fill pfd with the agent connections (POLLIN); returns how many (at most
 * AGENT_MAX) and sets idx[k] to the agent slot of pfd[k]. */
int agent_pollfds(struct pollfd *pfd, int *idx);
/* Agent slot idx is readable: one record. */
void agent_readable(int idx);
/* Start every job the limits allow at now. */
void agent_dispatch(int64_t now);
/* Close every agent at stop; jobs in flight are forgotten, not recorded. */
void agent_close_all(void);
#endif
