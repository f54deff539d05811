/*
 * login_conn: one pre-authentication client session of a login process
 * (pop3-login, imap-login) and the process's main(): the state both
 * protocols share, replies with back-pressure, bounded line reads under an
 * idle and a session timeout, the TLS handshake, the check of credentials
 * with auth and the count of failures, and the handoff of a verified
 * session (common/login.h).  What differs per protocol (the greeting, the
 * command loop, the words of an answer) comes in a struct login_proto.
 * Every byte read here comes from the client and is untrusted.
 */
#ifndef POSTERN_LOGIN_CONN_H
#define POSTERN_LOGIN_CONN_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "config.h"
#include "lineio.h"
#include "login.h"
#include "tls.h"

/* Invalid commands before the connection is closed. */
#define LOGIN_MAX_BAD		10
/* Pending replies beyond this are written out before more are queued, so
 * a client that pipelines without reading cannot grow our buffer. */
#define LOGIN_OUT_FLUSH		32768

struct login_conn;

/* What a protocol plugs into the shared session.  Its own state starts
 * with the struct login_conn the hooks get. */
struct login_proto {
	const char *prog;		/* "imap-login": the log, usage */
	const char *service;		/* "imap": the plain listener, auth's service */
	const char *service_tls;	/* "imaps": the implicit-TLS listener */
	const char *bye;		/* a closing line's prefix: "* BYE ", "-ERR " */
	size_t line_max;		/* the line buffer, allocated once */
	/* After login_conn_init: set idle_ms, session_ms, proxy_ms,
	 * plaintext (and tag), set up the protocol's own state. */
	void (*init)(struct login_conn *c);
	void (*greeting)(struct login_conn *c);
	/* Read, parse and run one command. */
	void (*command)(struct login_conn *c);
	/* Answer an invalid command with text (login_conn_bad counts it). */
	void (*bad)(struct login_conn *c, const char *text);
	/* Answer a handoff that failed (the session then ends). */
	void (*unavailable)(struct login_conn *c);
	/* Wipe and free the protocol's own state. */
	void (*free)(struct login_conn *c);
};

struct login_conn {
	const struct config *cf;
	const struct login_proto *proto;
	const char *listener;		/* "pop3", "pop3s", "imap", "imaps" */
	int implicit_tls;		/* pop3s, imaps: TLS before the greeting */
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
	enum plaintext_auth plaintext;	/* the protocol's policy */
	int64_t idle_ms;		/* the wait allowed for one read or write */
	int64_t session_ms;		/* the whole pre-authentication part */
	int64_t deadline_ms;		/* its end (now_ms() time) */
	int proxy_ms;			/* the TLS proxy's idle limit after handoff */
	const char *tag;		/* IMAP: handed over with the token; NULL */

	unsigned bad;			/* invalid commands so far */
	unsigned failures;		/* refused logins on this connection */
	int closing;			/* end the loop */
	int handoff;			/* verified: hand over with token */
	char token[LOGIN_TOKEN_LEN + 1];	/* from auth, for master */
};

/* The whole login process: arguments (-c config -l SERVICE|SERVICE_TLS),
 * config, login_process_setup as root, the privilege drop, then the
 * session on fd 0 in c (static storage: the protocol's state holding it).
 * The exit status. */
int login_main(int argc, char **argv, const struct login_proto *p, struct login_conn *c);

/* Queue one reply line (CRLF added).  Flushed before the next blocking
 * read, or at once beyond LOGIN_OUT_FLUSH; dropped when closing. */
void login_conn_reply(struct login_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An invalid command, counted toward LOGIN_MAX_BAD: answered through
 * proto->bad, or at the last one allowed "Too many invalid commands"
 * through login_conn_bye. */
void login_conn_bad(struct login_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Send proto->bye and text, flush, and make the loop end (nothing when
 * already closing). */
void login_conn_bye(struct login_conn *c, const char *text);
/* Flush pending replies.  0/-1 (the session is then closing). */
int login_conn_flush(struct login_conn *c) WUR;
/* Per-read timeout in ms: idle_ms, capped by the deadline. */
int login_conn_timeout_ms(const struct login_conn *c);
/* 1 if plaintext credentials may be used now. */
int login_conn_plaintext_ok(const struct login_conn *c);
/* Wipe what may have held a password: the line and the consumed input. */
void login_conn_wipe(struct login_conn *c);

/* Before a read that may block (has_input 0): flush, check the deadline
 * and set the read timeout.  0, or -1 the session is closing. */
int login_conn_before_read(struct login_conn *c, int has_input);
/* Map a failed read (a LINEIO_* code) to the end of the session: a
 * timeout is answered through login_conn_bye.  -1. */
int login_conn_read_failed(struct login_conn *c, int r);
/* Read one line of at most max octets with its terminator (CRLF or LF)
 * into c->line, flushing replies first if no whole line is pending; the
 * terminator is removed.  1 a line; 0 too long (the line holds its
 * start, the rest is skipped, nothing answered); -1 the session is
 * closing (EOF, timeout, error; answered if useful). */
int login_conn_read_line(struct login_conn *c, size_t max);

/* Run the server handshake (STARTTLS/STLS, or implicit TLS before the
 * greeting); plaintext the client sent ahead is discarded and logged.
 * 0 in TLS, -1 failed (logged; the session must end). */
int login_conn_tls_start(struct login_conn *c) WUR;

/* The outcome of a check of credentials, for the protocol to answer. */
enum login_auth {
	LOGIN_AUTH_OK,		/* verified: handoff set, the loop ends; no answer */
	LOGIN_AUTH_REFUSED,	/* answer "authentication failed" */
	LOGIN_AUTH_LAST,	/* refused, and too many: answer it and end */
	LOGIN_AUTH_TEMP,	/* auth unavailable: a temporary failure */
	LOGIN_AUTH_INVALID,	/* a malformed PLAIN response */
	LOGIN_AUTH_CANCELLED,	/* "*" instead of a PLAIN response */
	LOGIN_AUTH_TOOLONG,	/* a PLAIN response over its line limit */
	LOGIN_AUTH_GONE,	/* flushing earlier answers failed: closing */
};

/* Check user/pass with auth for method ("USER", "LOGIN", "PLAIN"),
 * flushing earlier answers first (the mail process may answer next),
 * logging the outcome and counting refusals (LOGIN_MAX_TRIES, or auth's
 * limit, make LOGIN_AUTH_LAST).  Verified: the token is kept for the
 * handoff.  OK, REFUSED, LAST, TEMP or GONE. */
enum login_auth login_conn_verify(struct login_conn *c, const char *method,
    const char *user, size_t ulen, const char *pass, size_t plen);
/* Decode an RFC 4616 PLAIN response b64[0..len) and check it
 * (login_conn_verify, or INVALID); every copy is wiped. */
enum login_auth login_conn_plain(struct login_conn *c, const char *b64, size_t len);
/* The PLAIN response now in c->line: CANCELLED for "*", or checked. */
enum login_auth login_conn_plain_line(struct login_conn *c);

/* Initialise b (at most max octets) allocated once at its limit: a
 * password is never left behind in memory freed by a reallocation. */
void login_conn_prealloc(struct buf *b, size_t max);
/* Set up c for the protocol p (its init hook included); login_main
 * fills in listener, TLS context, auth socket and client. */
void login_conn_init(struct login_conn *c, const struct config *cf,
    const struct login_proto *p);
/* Greeting (after an implicit-TLS handshake), command loop, then the
 * handoff of a verified session (with TLS proxied to its end; a failed
 * one answered through proto->unavailable).  Returns when the session is
 * over. */
void login_conn_run(struct login_conn *c);
void login_conn_free(struct login_conn *c);
#endif
