/*
 * pop3_box: the pop3 mail process's view of one Maildir INBOX (RFC 1939
 * TRANSACTION and UPDATE states).  Runs as the mailbox owner; trusts the
 * Maildir path master handed over, nothing found inside the directories.
 *
 * The view is taken once, at open: the regular files of new/ and cur/
 * (dot-files, tmp/, symlinks and anything else skipped), ordered by
 * delivery time (the unique name's leading seconds, then its ".M<usec>",
 * then the name), numbered 1..N for the whole session.  Mail delivered
 * later is not seen until the next session.
 *
 * Sizes are the octets RETR sends before dot-stuffing: every file is read
 * once at open and each bare LF counts as CRLF, and a last line without a
 * line end counts two more octets (pop3_stuff_end sends a CRLF for it).
 * ",S=" in a name is never trusted: it is the file size, not the wire size,
 * and other delivery agents write LF-only files.
 *
 * UIDL is the Maildir unique name (the file name before ":2,"), so it
 * survives flag changes and the move from new/ to cur/.  A unique name that
 * is not 1..70 octets of 0x21..0x7E (RFC 1939 7) is replaced by "H" and the
 * first 32 octets of its SHA-256 in hex (65 characters): stable, since it
 * depends on the name alone.
 *
 * DELE/RSET only mark; pop3_box_commit (QUIT) unlinks, moves retrieved
 * messages from new/ to cur/ with the S flag, fsyncs both directories.  A
 * session that ends without commit changes nothing.
 */
#ifndef POSTERN_POP3_BOX_H
#define POSTERN_POP3_BOX_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define POP3_UIDL_MAX	70	/* RFC 1939 7 */

/* pop3_box_open_msg: the message was removed by another process. */
#define POP3_BOX_GONE	(-2)

struct pop3_msg {
	char *name;		/* current file name in new/ or cur/ (owned) */
	size_t baselen;		/* octets of name before ":2," */
	char uidl[POP3_UIDL_MAX + 1];
	uint64_t size;		/* octets as sent (CRLF), before dot-stuffing */
	int64_t secs;		/* delivery time from the name, for ordering */
	long usec;
	int in_cur;		/* 0: new/, 1: cur/ */
	int deleted;		/* DELE'd in this session */
	int retrieved;		/* RETR'd: marked seen at commit */
};

struct pop3_box {
	int dfd[2];		/* new/ and cur/ directories */
	struct pop3_msg *msgs;	/* msgs[0..n-1] = messages 1..n */
	size_t n;
};

/* Scan maildir/new and maildir/cur (the session's view) and compute sizes
 * and UIDLs.  0, or -1 with errno (b is then empty; pop3_box_close is
 * still safe).  Files vanishing during the scan are skipped. */
int pop3_box_open(struct pop3_box *b, const char *maildir) WUR;
/* Count and total size of the messages not deleted. */
void pop3_box_stat(const struct pop3_box *b, size_t *count, uint64_t *size);
/* Message n (1-based), or NULL if out of range or deleted.  Owned by b. */
const struct pop3_msg *pop3_box_get(const struct pop3_box *b, size_t n);
/* Mark message n deleted.  1, or 0 if no such message (or already deleted). */
int pop3_box_dele(struct pop3_box *b, size_t n) WUR;
/* Unmark every deleted message (RSET).  Retrieved marks stay. */
void pop3_box_rset(struct pop3_box *b);
/* Open message n read-only (O_NOFOLLOW) into *fd (the caller closes it);
 * retr = 1 (RETR) marks it retrieved, 0 (TOP) does not.  A file renamed by
 * another process (flags changed, moved to cur/) is found again by its
 * unique name.  1, 0 if no such message, POP3_BOX_GONE if it was removed
 * by someone else, -1 on other errors (errno). */
int pop3_box_open_msg(struct pop3_box *b, size_t n, int retr, int *fd) WUR;
/* UPDATE state: unlink the deleted messages, give retrieved ones the S
 * flag (new/NAME -> cur/NAME:2,S; cur/NAME:2,FL -> cur/NAME:2,FLS with the
 * flags kept in ASCII order), then fsync cur/ and new/.  A message that is
 * already gone counts as done.  *failed = messages left unchanged by an
 * error.  0 when everything is durable, -1 (errno) otherwise: the server
 * answers -ERR [SYS/TEMP] (RFC 3206). */
int pop3_box_commit(struct pop3_box *b, size_t *failed) WUR;
/* Free the view and close the directories. */
void pop3_box_close(struct pop3_box *b);

/* Stored message bytes -> POP3 wire form, in chunks of any size: bare LF
 * becomes CRLF (CR LF and a bare CR pass unchanged), a line starting with
 * '.' gets another '.'.  For TOP (top = 1) output stops after the header,
 * the blank line and top_lines body lines. */
struct pop3_stuff_state {
	int top;		/* set by the caller: TOP */
	uint64_t top_lines;	/* set by the caller: TOP's line count */
	int bol;		/* at the beginning of a line */
	int cr;			/* the last byte sent was CR */
	int in_body;		/* the header's blank line has been sent */
	int done;		/* TOP limit reached: ignore further input */
	size_t linelen;		/* octets of the current line (saturates at 2) */
	uint64_t body_lines;	/* body lines sent */
	uint64_t octets;	/* message octets sent, without stuffing dots
				   and terminator: equals the LIST size */
};

/* Start state for RETR (top = 0) or TOP n. */
void pop3_stuff_init(struct pop3_stuff_state *st, int top, uint64_t top_lines);
/* Append the wire form of in[0..n) to out.  1 when TOP's limit is reached
 * (stop reading), 0 for more, -1 if out is over its limit. */
int pop3_stuff(const char *in, size_t n, struct pop3_stuff_state *st,
    struct buf *out) WUR;
/* End the response: CRLF if the message did not end with a line end
 * (counted in octets and in the size), then ".\r\n".  0/-1 (out full). */
int pop3_stuff_end(struct pop3_stuff_state *st, struct buf *out) WUR;
/* The wire size of the message in fd (read from its current offset to
 * EOF), as pop3_stuff + pop3_stuff_end count it.  0/-1 (errno). */
int pop3_wire_size(int fd, uint64_t *size) WUR;
#endif
