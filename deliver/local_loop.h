/*
 * local_loop: the mail-loop check on a message header before local
 * delivery (pure; runs in the unprivileged delivery child).
 */
#ifndef POSTERN_LOCAL_LOOP_H
#define POSTERN_LOCAL_LOOP_H
#include <stddef.h>

#define LOCAL_LOOP_MAX		100	/* Delivered-To: lines that mean a loop */
#define LOCAL_HEADER_MAX	(1024 * 1024)	/* header octets scanned for them */

/* Delivered-To: header fields in the header of msg[0..len) (up to the first
 * empty line; pure).  Counting stops at LOCAL_LOOP_MAX. */
unsigned local_count_delivered_to(const char *msg, size_t len);
#endif
