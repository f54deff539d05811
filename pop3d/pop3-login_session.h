/*
 * pop3-login_session: the state of one pre-authentication POP3 session
 * (one pop3-login process per connection), the reply helpers, bounded line
 * reads and the AUTHORIZATION-state command loop.  Every byte read here
 * comes from the client and is untrusted.
 */
#ifndef POSTERN_POP3_LOGIN_SESSION_H
#define POSTERN_POP3_LOGIN_SESSION_H
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "config.h"
#include "lineio.h"
#include "login.h"
#include "pop3_cmd.h"
#include "tls.h"

/* RFC 2449 4: a command line is at most 255 octets with its CRLF. */
#define POP3_LOGIN_LINE_MAX	255
/* An AUTH continuation line: the encoded PLAIN response and CRLF. */
#define POP3_LOGIN_SASL_LINE	(POP3_SASL_MAX + 2)
/* Invalid commands before the connection is closed. */
#define POP3_LOGIN_MAX_BAD	10

struct pop3_login {
	const struct config *cf;
	const char *listener;		/* "pop3", "pop3s" */
	int implicit_tls;		/* pop3s: TLS before the greeting */
	struct lineio io;		/* the client, fd 0 */
	struct buf line;		/* the current line; may hold a password */
	SSL_CTX *tls_ctx;		/* NULL: no certificate configured */
	struct tls_conn tls;
	int in_tls;
	char tls_info[160];		/* tls_describe() once in TLS */
	int auth_fd;			/* auth.sock, -1: unreachable */
	struct sockaddr_storage client_sa;	/* from getpeername(0) */
	int client_known;		/* client_sa is an IPv4/IPv6 address */
	char client_addr[64];		/* "192.0.2.1", "2001:db8::1", "unknown" */
	int64_t deadline_ms;		/* pop3.session_timeout from the start */

	char user[LOGIN_USER_MAX + 1];	/* USER, until PASS or STLS */
	int has_user;
	unsigned bad;			/* invalid commands so far */
	unsigned failures;		/* refused logins on this connection */
	int closing;			/* end the loop */
	int handoff;			/* verified: hand over with token */
	char token[LOGIN_TOKEN_LEN + 1];	/* from auth, for master */
};

/* Queue one reply line (CRLF added).  Flushed before the next blocking
 * read. */
void pop3_login_reply(struct pop3_login *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "-ERR text" for an invalid command, counted toward POP3_LOGIN_MAX_BAD;
 * the last one allowed closes the connection with its own -ERR instead. */
void pop3_login_bad(struct pop3_login *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Send "-ERR text", flush, and make the loop end. */
void pop3_login_close(struct pop3_login *s, const char *text);
/* Flush pending replies.  0/-1 (the session is then closing). */
int pop3_login_flush(struct pop3_login *s) WUR;
/* Read one line of at most max octets (CRLF or LF) into s->line, flushing
 * replies first if no input is pending; the terminator is removed.  1 a
 * line; 0 refused (too long: -ERR sent, rest skipped); -1 the session is
 * closing (EOF, timeout, error; reply sent if useful). */
int pop3_login_read_line(struct pop3_login *s, size_t max);
/* Per-read timeout in ms: pop3.timeout, capped by the session deadline. */
int pop3_login_timeout_ms(const struct pop3_login *s);
/* 1 if plaintext credentials (USER/PASS, AUTH PLAIN) may be used now. */
int pop3_login_plaintext_ok(const struct pop3_login *s);
/* Wipe what may have held a password: the line and the consumed input. */
void pop3_login_wipe_input(struct pop3_login *s);

/* Set up s; main fills in listener, TLS context, auth socket and client. */
void pop3_login_init(struct pop3_login *s, const struct config *cf);
/* Greeting (after the pop3s handshake), command loop, cleanup.  Returns
 * when the session is over without a handoff; a handoff exits the process. */
void pop3_login_run(struct pop3_login *s);
void pop3_login_free(struct pop3_login *s);
#endif
