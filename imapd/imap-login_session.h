/*
 * imap-login_session: the IMAP side of one pre-authentication session
 * (one imap-login process per connection): its state beyond the shared
 * struct login_conn (common/login_conn.h), bounded reads of whole commands
 * (lines and literals, through imap_reader) and the not-authenticated-state
 * command loop.  Every byte read here comes from the client and is
 * untrusted.
 */
#ifndef POSTERN_IMAP_LOGIN_SESSION_H
#define POSTERN_IMAP_LOGIN_SESSION_H
#include "buf.h"
#include "imap_parse.h"
#include "login_conn.h"

/* One line of a command (without its CRLF), and an AUTHENTICATE
 * continuation line (the encoded PLAIN response). */
#define IMAP_LOGIN_LINE_MAX	8192
/* A whole command: its lines, CRLFs and literals.  LOGIN needs at most a
 * 255-octet name and a 1024-octet password, as literals or not. */
#define IMAP_LOGIN_CMD_MAX	16384
/* One literal; larger ones get BAD (synchronising: never sent). */
#define IMAP_LOGIN_LITERAL_MAX	8192
/* A non-synchronising literal over the limit is read and dropped up to
 * this size (then BAD); a larger one ends the connection. */
#define IMAP_LOGIN_DROP_MAX	65536
/* Before login the idle time is at most 3 minutes (as Dovecot's login
 * processes), whatever imap.timeout says; the whole pre-authentication
 * part at most 15 minutes, whatever imap.session_timeout says. */
#define IMAP_LOGIN_IDLE_MAX	180
#define IMAP_LOGIN_SESSION_MAX	900

struct imap_login {
	struct login_conn c;		/* first: what the hooks get */
	struct buf cmdbuf;		/* the current command; may hold a password */
	struct imap_cmd cmd;		/* parsed from cmdbuf */
	char tag[IMAP_TAG_MAX + 1];	/* of the current command, "*" unknown */
};

/* Greeting, command loop, tagged answers (login_main runs them). */
extern const struct login_proto imap_login_proto;

/* The session whose struct login_conn is c. */
static inline struct imap_login *
imap_login_of(struct login_conn *c)
{
	return (struct imap_login *)(void *)c;
}

/* Read one line of at most max octets without its CRLF (or LF) into
 * s->c.line.  1 a line; 0 too long (the rest of it skipped, nothing
 * answered); -1 the session is closing. */
int imap_login_read_line(struct imap_login *s, size_t max);
/* Wipe what may have held a password: the line, the command and the
 * consumed input. */
void imap_login_wipe_input(struct imap_login *s);
#endif
