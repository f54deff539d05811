/*
 * queue_list: answers mailq's IPC_QUEUE_LIST from the spool's envelopes.
 * Runs in the queue process; envelopes are re-parsed (never trusted).
 */
#ifndef POSTERN_QUEUE_LIST_H
#define POSTERN_QUEUE_LIST_H

/* Send one IPC_OK record per queued message ("id", "size", "arrival",
 * "sender", one "rcpt" per recipient as "state address", "more" = number of
 * recipients left out to fit the record), then IPC_OK with "end" = 1.
 * 0, or -1 when sending failed (the caller closes the client). */
int queue_list_send(int fd);
#endif
