/*
 * login: what the login processes (pop3-login, imap-login) and the
 * mail processes they hand over to share; DESIGN.md, "The login/auth/mail
 * split", and docs/login.md for the records.
 *
 * A *-login process runs as PREFIXlogin in paths.runtime/empty.  It checks
 * the client's credentials with auth (login_verify), which answers with a
 * one-time token instead of trusting the login process with the identity.
 * login_handoff gives master the token and the client descriptor (the real
 * socket, or with TLS one end of a socketpair the login process keeps
 * proxying with login_proxy).  master starts the mail process as root with
 * an IPC_LOGIN_SESSION record on fd 3; the mail process reads it and redeems
 * the token with auth (login_session_receive) before it drops to the
 * mailbox owner (login_mailbox) and reads a byte from the client.
 */
#ifndef POSTERN_LOGIN_H
#define POSTERN_LOGIN_H
#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"
#include "config.h"
#include "privsep.h"
#include "tls.h"
#include "userdb.h"

#define LOGIN_CHANNEL_FD	3	/* login: to master; mail process: from master */
#define LOGIN_TOKEN_LEN		64	/* hex characters */
#define LOGIN_INPUT_MAX		16384	/* pipelined input passed on at handoff */
#define LOGIN_USER_MAX		255	/* a login name as typed */
#define LOGIN_PASS_MAX		1024
#define LOGIN_MAX_TRIES		3	/* failed logins per connection */
#define LOGIN_AUTH_TIMEOUT_MS	60000	/* > the longest auth.fail_delay */
#define LOGIN_TAG_MAX		64	/* an IMAP command tag handed over */
#define LOGIN_SASL_MAX		4096	/* encoded PLAIN response we decode */

/* Login process, as root: the TLS context (NULL without tls.cert; fatal
 * when listener needs one, implicit_tls) and the connection to auth.sock
 * (-1 when unreachable: logins then fail temporarily). */
void login_process_setup(const struct config *cf, const char *listener, int implicit_tls,
    SSL_CTX **tls_ctx, int *auth_fd);
/* Login process: become PREFIXlogin chrooted in paths.runtime/empty
 * (fatal on failure), before reading a byte from the client. */
void login_process_drop(const struct config *cf);

/* 1 if s[0..len) is a token: exactly LOGIN_TOKEN_LEN lower-case hex digits. */
int login_token_valid(const char *s, size_t len);
/* 1 if u is an address as userdb_address_normalize gives it (copied
 * into out[USERDB_ADDR_MAX + 1]), 0 if not. */
int login_user_valid(const char *u, char *out);

/* 1 if s[0..len) is an IMAP tag (RFC 3501 9: 1*<ASTRING-CHAR except
 * "+">) of at most LOGIN_TAG_MAX octets. */
int login_tag_valid(const char *s, size_t len);

/* 1 if p[0..n) is a login name fit for auth and the log: 1 to
 * LOGIN_USER_MAX octets, no control octet. */
int login_name_ok(const char *p, size_t n);

/*
 * Decode an RFC 4616 PLAIN response: base64 of [authzid] NUL authcid NUL
 * passwd.  Exactly two NULs; authcid and passwd non-empty; authzid empty or
 * equal to authcid (no proxy authorization).  Each field is copied
 * NUL-terminated into the caller's array; a field that does not fit is an
 * error, never truncated.  "=" (empty) and len > LOGIN_SASL_MAX are errors.
 * 1 on success, 0 if refused (then all three outputs are wiped to "").
 * The decoded scratch copy is wiped before return.  Pure: no I/O.
 */
int login_sasl_plain(const char *b64, size_t len, char *authzid, size_t authzid_size,
    char *authcid, size_t authcid_size, char *pass, size_t pass_size) WUR;

/* 1 if plaintext credentials may be used: in TLS, or as the policy says
 * (loopback: 127.0.0.0/8, ::1, v4-mapped loopback). */
int login_plaintext_ok(enum plaintext_auth policy, int in_tls, const struct sockaddr *client);

/* Ask auth (connected socket auth_fd) to check user/pass for service
 * ("pop3", "imap"), client the address text, with a handoff token.
 * 1 verified: canonical address in user_out[USERDB_ADDR_MAX + 1] and the
 * token in token[LOGIN_TOKEN_LEN + 1]; 0 refused (*limited = 1 when auth
 * refused because the client address is over auth.max_failures); -1 the
 * auth service failed (answer [SYS/TEMP]).  The request is wiped. */
int login_verify(int auth_fd, const char *service, const char *client,
    const char *user, size_t ulen, const char *pass, size_t plen,
    char *user_out, char *token, int *limited) WUR;

/* Hand the client to master over LOGIN_CHANNEL_FD: the token, the IMAP
 * tag of the authenticating command (NULL for POP3: no tag field), the
 * input already read past the authenticating command (at most
 * LOGIN_INPUT_MAX), and client_fd.  Waits for master's answer.  0 the mail
 * process was started (it answers the client from now on), -1 not (answer
 * [SYS/TEMP] / [UNAVAILABLE]). */
int login_handoff(int master_fd, const char *token, const char *tag, int client_fd,
    const void *input, size_t inlen) WUR;

/* The whole handoff of a verified session on LOGIN_CHANNEL_FD.  Without
 * TLS (t NULL) the client socket (fd 0) itself goes to master with input;
 * with TLS the mail process gets one end of a socketpair and this keeps
 * proxying the other end to t (login_proxy, idle_ms) until the session
 * ends.  0 handed over (and, with TLS, over); -1 the handoff failed
 * (logged; the client is still ours to answer). */
int login_handoff_client(struct tls_conn *t, const char *token, const char *tag,
    const void *input, size_t inlen, int idle_ms) WUR;

/* After a TLS handoff: copy between the TLS client t and the plaintext
 * socket mail_fd (non-blocking internally, bounded buffers both ways) until
 * either side closes, an error, or idle_ms without traffic in either
 * direction.  input (already decrypted, not yet consumed) goes to mail_fd
 * first.  Never returns an error to act on: the session is over. */
void login_proxy(struct tls_conn *t, int mail_fd, const void *input, size_t inlen,
    int idle_ms);

/* What the mail process learns from master and auth. */
struct login_session {
	char user[USERDB_ADDR_MAX + 1];	/* from auth, normalized */
	char client[64];		/* from master's accept() */
	char listener[32];		/* "pop3", "pop3s", "imap", "imaps" */
	char tag[LOGIN_TAG_MAX + 1];	/* IMAP: the tag to answer; "" for POP3 */
	int tls;			/* the client is behind the TLS proxy */
	struct buf input;		/* bytes to process before reading fd 0 */
};

/* Mail process, as root: read the IPC_LOGIN_SESSION record from fd
 * LOGIN_CHANNEL_FD (and close it), redeem its token for service with the
 * auth service at paths.runtime/auth.sock.  0 and s filled; -1 with *err
 * (static text) when the session must not go on. */
int login_session_receive(const struct config *c, const char *service,
    struct login_session *s, const char **err) WUR;
void login_session_free(struct login_session *s);

/* Mail process (login_mail.c), as the mailbox owner in the Maildir dir:
 * take one of max concurrent-session slots (imap.max_sessions_per_user):
 * an exclusive flock on dir/LOGIN_SLOT_FILE.i (i < max; created 0600,
 * opened read-only), kept while *fd_out stays open and released by the
 * kernel when the process ends, crash or not.  The Maildir is the user's
 * own, so no name needs deriving from the user.  1 and *fd_out; 0 all
 * slots are taken (answer [LIMIT]); -1 with *err. */
#define LOGIN_SLOT_FILE	"postern-session"
int login_user_slot(const char *dir, unsigned max, int *fd_out, const char **err) WUR;

/* The Maildir of a virtual user (paths.mail/DOMAIN/LOCAL) and the account
 * that owns it (PREFIXvmail; in dev mode the invoking user).  0, or -1 with
 * *err. */
int login_mailbox(const struct config *c, const char *user, char *dir, size_t dirsize,
    struct priv_account *owner, const char **err) WUR;
#endif
