/*
 * queue_server: the queue's event loop over queue.sock (smtpd) and
 * submit.sock (sendmail, mailq).  Every record is re-validated; the
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

/* Serve until SIGTERM (returns 0) or a fatal error (-1).  Both listening
 * sockets are SOCK_SEQPACKET; the cwd/root is the spool. */
int queue_server_run(int smtpd_fd, int submit_fd, const struct queue_limits *lim);
#endif
