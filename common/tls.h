/*
 * tls: OpenSSL 3 contexts and connections for the servers (smtpd, logins)
 * and, later, the SMTP client.  TLS 1.2 or newer, sane ciphers only.
 */
#ifndef POSTERN_TLS_H
#define POSTERN_TLS_H
#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/types.h>

/* Server context with cert chain and key loaded (do this before chroot).
 * NULL and *err (static text) on failure. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char **err);
/* Client context; verify=1 checks the peer against the system CA store. */
SSL_CTX *tls_client_ctx(int verify, const char **err);

struct tls_conn {
	SSL *ssl;
	int fd;
	int timeout_ms;		/* per read/write wait */
};
/* Run the server handshake on fd (blocking with timeout).  0 ok, -1 failed
 * (*err says why). */
int tls_accept(struct tls_conn *t, SSL_CTX *ctx, int fd, int timeout_ms, const char **err);
int tls_connect(struct tls_conn *t, SSL_CTX *ctx, int fd, const char *sni, int timeout_ms,
    const char **err);
/* fd must be a socket (sent/received with MSG_DONTWAIT and MSG_NOSIGNAL,
 * so it may stay blocking and SIGPIPE cannot happen); it stays the caller's:
 * tls_close does not close it.  timeout_ms bounds the whole handshake and
 * each tls_read/tls_write call (<= 0: no limit). */
/* Read up to n bytes: >0 bytes, 0 EOF, -1 error/timeout (errno ETIMEDOUT). */
ssize_t tls_read(struct tls_conn *t, void *p, size_t n);
/* Write all n bytes: 0 ok, -1 error/timeout. */
int tls_write(struct tls_conn *t, const void *p, size_t n);
/* Bytes already decrypted and waiting inside OpenSSL. */
int tls_pending(struct tls_conn *t);
/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" for
 * Received:/logs.  0, -1 (not connected or out too small). */
int tls_describe(struct tls_conn *t, char *out, size_t outsize);
/* Send close_notify (once, without waiting for the peer's) and free t->ssl. */
void tls_close(struct tls_conn *t);
#endif
