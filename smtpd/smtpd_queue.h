/*
 * smtpd_queue: the client side of the smtpd -> queue protocol (see
 * docs/queue.md): BEGIN with the envelope, DATA chunks, END or ABORT.
 * Answers from the queue are re-validated before use.
 */
#ifndef POSTERN_SMTPD_QUEUE_H
#define POSTERN_SMTPD_QUEUE_H
#include <stddef.h>

#include "envelope.h"

/* Largest "data" value in one IPC_QUEUE_DATA record. */
#define SMTPD_QUEUE_CHUNK	60000

struct smtpd_queue {
	int fd;			/* queue.sock connection, -1 if none */
	int timeout_ms;		/* for each answer */
	int open;		/* BEGIN answered OK, not yet END/ABORT */
	int failed;		/* a send failed: END will report an error */
	struct buf out;		/* data not yet sent (< SMTPD_QUEUE_CHUNK) */
	char id[ENVELOPE_ID_MAX + 1];	/* the queue id from BEGIN */
};

void smtpd_queue_init(struct smtpd_queue *q, int fd, int timeout_ms);
/* Start a message: send the envelope, get the queue id into q->id.
 * 0 ok, -1 (queue unreachable or refused; logged). */
int smtpd_queue_begin(struct smtpd_queue *q, const struct envelope *e);
/* Stream message bytes (buffered into chunks).  A failure is remembered
 * and reported by smtpd_queue_end. */
void smtpd_queue_write(struct smtpd_queue *q, const void *p, size_t n);
/* Commit: 0 once the queue said the message is on stable storage, -1
 * otherwise (nothing is queued). */
int smtpd_queue_end(struct smtpd_queue *q);
/* Cancel the message in progress (if any). */
void smtpd_queue_abort(struct smtpd_queue *q);
void smtpd_queue_free(struct smtpd_queue *q);
#endif
