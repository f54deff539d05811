/*
 * sendmail_msg: the pure part of the sendmail command: header handling,
 * address lists, line-end conversion.  No I/O; input is a (pointer,
 * length) the invoking user wrote, trusted for nothing.
 */
#ifndef POSTERN_SENDMAIL_MSG_H
#define POSTERN_SENDMAIL_MSG_H
#include <stddef.h>
#include <time.h>

#include "buf.h"

/* Longest line of the stored message, without its CRLF (RFC 5322). */
#define SM_LINE_MAX	998

/* A list of distinct mailboxes (normalized by smtp_mailbox_parse). */
struct sm_list {
	char **v;
	size_t n, cap;
};

struct sm_opts {
	int extract;		/* -t: recipients from To:/Cc:/Bcc: */
	const char *hostname;	/* qualifies bare local parts */
	const char *from_addr;	/* login@hostname, for a missing From: */
	const char *full_name;	/* -F, or NULL */
	time_t now;		/* for a missing Date: and Message-ID: */
	const char *unique;	/* random part of a new Message-ID */
};

void sm_list_free(struct sm_list *l);
/* Qualify (local part alone -> @hostname) and check one address; *out is
 * a new string (caller frees).  1 ok, 0 bad (a null "" is bad too). */
int sm_addr_fix(const char *a, size_t n, const char *hostname, char **out);
/* Parse an RFC 5322 address list (display names, comments, groups,
 * <route:addr>) and add each mailbox to l.  1 ok, 0 bad (*err set). */
int sm_addr_list(const char *p, size_t n, const char *hostname,
    struct sm_list *l, const char **err);
/* Turn the message as read (LF or CRLF lines) into the stored form: CRLF
 * line ends, Bcc: removed, From:/Date:/Message-ID: added when missing; with
 * o->extract, add the To:/Cc:/Bcc: addresses to rcpts.  1 ok (out
 * appended), 0 bad message or out's limit (*err set). */
int sm_msg_build(const char *p, size_t n, const struct sm_opts *o,
    struct buf *out, struct sm_list *rcpts, const char **err);
#endif
