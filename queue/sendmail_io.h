/*
 * sendmail_io: the sendmail command's I/O: reading the message from stdin
 * and handing it to the queue over submit.sock (docs/queue.md).
 */
#ifndef POSTERN_SENDMAIL_IO_H
#define POSTERN_SENDMAIL_IO_H
#include <stddef.h>

#include "buf.h"
#include "envelope.h"

/* Read the message from fd into b until EOF or, when dot_ends, a line
 * holding only "." (not stored).  1 ok, 0 over b's limit, -1 read error. */
int sm_read_input(int fd, int dot_ends, struct buf *b);
/* BEGIN with e, DATA with msg, END.  1 queued (id set), 0 refused by the
 * queue for good, -1 temporary failure; *err explains 0 and -1. */
int sm_submit(int fd, const struct envelope *e, const struct buf *msg,
    char id[ENVELOPE_ID_MAX + 1], const char **err);
#endif
