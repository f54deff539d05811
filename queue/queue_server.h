/*
 * queue_server: the queue's event loop over queue.sock (smtpd),
 * submit.sock (sendmail, mailq, postern queue) and deliver.sock (agents).  Every record is re-validated; the
 * protocol is in docs/queue.md.
 */
#ifndef POSTERN_QUEUE_SERVER_H
#define POSTERN_QUEUE_SERVER_H
#include <stdint.h>

#define QUEUE_MAX_CLIENTS	2048
/* Allowed on top of limits.message_size: our Received: header, and the
 * From:/Date:/Message-ID: that sendmail adds. */
#define QUEUE_SIZE_MARGIN	(64u * 1024)

struct queue_limits {
	uint64_t message_size;	/* limits.message_size */
	uint64_t recipients;	/* limits.recipients */
};

/* The listening sockets (SOCK_SEQPACKET) master passes. */
struct queue_fds {
	int smtpd;		/* queue.sock */
	int submit;		/* submit.sock */
	int deliver;		/* deliver.sock */
};

struct result_ctx;
/* Serve until SIGTERM (returns 0) or a fatal error (-1); x holds the
 * scheduler's index, loaded from the spool.  The cwd/root is the spool. */
int queue_server_run(const struct queue_fds *fds, const struct queue_limits *lim,
    struct result_ctx *x);
#endif
