/*
 * imap-login_session: the state of one pre-authentication IMAP session
 * (one imap-login process per connection), the reply helpers, bounded
 * reads of whole commands (lines and literals, through imap_reader) and
 * the not-authenticated-state command loop.  Every byte read here comes
 * from the client and is untrusted.
 */
#ifndef POSTERN_IMAP_LOGIN_SESSION_H
#define POSTERN_IMAP_LOGIN_SESSION_H
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "config.h"
#include "imap_parse.h"
#include "lineio.h"
#include "login.h"
#include "tls.h"

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
/* Invalid commands (BAD) before the connection is closed. */
#define IMAP_LOGIN_MAX_BAD	10
/* Before login the idle time is at most 3 minutes (as Dovecot's login
 * processes), whatever imap.timeout says; the whole pre-authentication
 * part at most 15 minutes, whatever imap.session_timeout says. */
#define IMAP_LOGIN_IDLE_MAX	180
#define IMAP_LOGIN_SESSION_MAX	900

struct imap_login {
	const struct config *cf;
	const char *listener;		/* "imap", "imaps" */
	int implicit_tls;		/* imaps: TLS before the greeting */
	struct lineio io;		/* the client, fd 0 */
	struct buf line;		/* the current line; may hold a password */
	struct buf cmdbuf;		/* the current command; may hold a password */
	struct imap_cmd cmd;		/* parsed from cmdbuf */
	char tag[IMAP_TAG_MAX + 1];	/* of the current command, "*" unknown */
	SSL_CTX *tls_ctx;		/* NULL: no certificate configured */
	struct tls_conn tls;
	int in_tls;
	char tls_info[160];		/* tls_describe() once in TLS */
	int auth_fd;			/* auth.sock, -1: unreachable */
	struct sockaddr_storage client_sa;	/* from getpeername(0) */
	int client_known;		/* client_sa is an IPv4/IPv6 address */
	char client_addr[64];		/* "192.0.2.1", "2001:db8::1", "unknown" */
	int64_t deadline_ms;		/* the end of the pre-authentication part */

	unsigned bad;			/* invalid commands so far */
	unsigned failures;		/* refused logins on this connection */
	int closing;			/* end the loop */
	int handoff;			/* verified: hand over with token */
	char token[LOGIN_TOKEN_LEN + 1];	/* from auth, for master */
};

/* Queue one reply line (CRLF added).  Flushed before the next blocking
 * read. */
void imap_login_reply(struct imap_login *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "TAG BAD text" for an invalid command (the tag of the current command,
 * "*" when it has none), counted toward IMAP_LOGIN_MAX_BAD; the last one
 * allowed closes the connection with "* BYE" instead. */
void imap_login_bad(struct imap_login *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Send "* BYE text", flush, and make the loop end. */
void imap_login_bye(struct imap_login *s, const char *text);
/* Flush pending replies.  0/-1 (the session is then closing). */
int imap_login_flush(struct imap_login *s) WUR;
/* Read one line of at most max octets (CRLF or LF) into s->line, flushing
 * replies first if no input is pending; the terminator is removed.  1 a
 * line; 0 too long (the rest of it skipped, nothing answered); -1 the
 * session is closing (EOF, timeout, error; "* BYE" sent if useful). */
int imap_login_read_line(struct imap_login *s, size_t max);
/* Per-read timeout in ms: imap.timeout (at most IMAP_LOGIN_IDLE_MAX),
 * capped by the deadline. */
int imap_login_timeout_ms(const struct imap_login *s);
/* 1 if plaintext credentials (LOGIN, AUTHENTICATE PLAIN) may be used now. */
int imap_login_plaintext_ok(const struct imap_login *s);
/* Wipe what may have held a password: the line, the command and the
 * consumed input. */
void imap_login_wipe_input(struct imap_login *s);

/* Set up s; main fills in listener, TLS context, auth socket and client. */
void imap_login_init(struct imap_login *s, const struct config *cf);
/* Greeting (after the imaps handshake), command loop, cleanup.  Returns
 * when the session is over: logged out, refused, or handed over (and,
 * with TLS, proxied to its end). */
void imap_login_run(struct imap_login *s);
void imap_login_free(struct imap_login *s);
#endif
