/*
 * tls: OpenSSL 3 contexts and connections (see tls.h) for smtpd, the logins
 * and the SMTP client.  The peer is untrusted: every wait has a deadline.
 * The descriptor stays blocking for everyone else; our own BIO does
 * non-blocking send/recv (MSG_DONTWAIT, MSG_NOSIGNAL) and we poll on
 * SSL_ERROR_WANT_READ/WRITE, so a stalled peer cannot hang us.  Sockets only.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "tls.h"

#define TLS_SERVER_CIPHERS \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:HIGH:" \
	"!aNULL:!eNULL:!MD5:!RC4:!3DES:!CAMELLIA:!ARIA:!SHA1:!PSK:!SRP:!DSS"
/* Outbound SMTP is opportunistic: old CBC suites beat plaintext. */
#define TLS_CLIENT_CIPHERS \
	"ECDHE+AESGCM:ECDHE+CHACHA20:HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!PSK:!SRP"

static int64_t
tls_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- a socket BIO that never blocks and never raises SIGPIPE --- */

static int
tls_bio_write(BIO *b, const char *p, int n)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = send(fd, p, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)r;
}

static int
tls_bio_read(BIO *b, char *p, int n)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = recv(fd, p, (size_t)n, MSG_DONTWAIT);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)r;
}

static long
tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
tls_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int
tls_bio_destroy(BIO *b)
{
	(void)b;
	return 1;	/* the descriptor belongs to the caller */
}

static BIO *
tls_bio_new(int fd)
{
	static BIO_METHOD *meth;
	BIO *b;

	if (meth == NULL) {
		meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "postern socket");
		if (meth == NULL ||
		    !BIO_meth_set_write(meth, tls_bio_write) ||
		    !BIO_meth_set_read(meth, tls_bio_read) ||
		    !BIO_meth_set_ctrl(meth, tls_bio_ctrl) ||
		    !BIO_meth_set_create(meth, tls_bio_create) ||
		    !BIO_meth_set_destroy(meth, tls_bio_destroy)) {
			BIO_meth_free(meth);
			meth = NULL;
			return NULL;
		}
	}
	if ((b = BIO_new(meth)) == NULL)
		return NULL;
	BIO_set_data(b, (void *)(intptr_t)fd);
	return b;
}

/* --- contexts --- */

static SSL_CTX *
tls_ctx_common(const SSL_METHOD *method, const char *ciphers)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, ciphers)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	return ctx;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, const char **err)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = tls_ctx_common(TLS_server_method(), TLS_SERVER_CIPHERS)) == NULL) {
		*err = "cannot create TLS server context";
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		*err = "cannot load TLS certificate chain";
	else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		*err = "cannot load TLS private key";
	else if (SSL_CTX_check_private_key(ctx) != 1)
		*err = "TLS private key does not match the certificate";
	else
		return ctx;
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx(int verify, const char **err)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = tls_ctx_common(TLS_client_method(), TLS_CLIENT_CIPHERS)) == NULL) {
		*err = "cannot create TLS client context";
		return NULL;
	}
	if (verify) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			*err = "cannot load the system CA store";
			ERR_clear_error();
			SSL_CTX_free(ctx);
			return NULL;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* --- connections --- */

/*
 * Handle the outcome r of an SSL call: 1 retry (after waiting until the
 * deadline), 0 clean EOF, -1 error or timeout (errno ETIMEDOUT for a
 * timeout, EIO otherwise).
 */
static int
tls_retry(struct tls_conn *t, int r, int64_t deadline)
{
	struct pollfd pfd;
	int e = SSL_get_error(t->ssl, r), left, saved = errno;

	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		if (e == SSL_ERROR_SYSCALL)
			errno = saved != 0 ? saved : ECONNRESET;	/* 0: EOF */
		else
			errno = EIO;
		return -1;
	}
	for (;;) {
		left = -1;
		if (deadline > 0) {
			int64_t now = tls_now_ms();

			if (now >= deadline) {
				errno = ETIMEDOUT;
				return -1;
			}
			left = (int)(deadline - now);
		}
		pfd.fd = t->fd;
		pfd.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		pfd.revents = 0;
		r = poll(&pfd, 1, left);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
	}
}

static int64_t
tls_deadline(int timeout_ms)
{
	return timeout_ms > 0 ? tls_now_ms() + timeout_ms : 0;
}

/* Shared handshake for both sides: 0 ok, -1 (*err set, t->ssl freed). */
static int
tls_handshake(struct tls_conn *t, int server, const char **err)
{
	int64_t deadline = tls_deadline(t->timeout_ms);
	long v;
	int r;

	for (;;) {
		errno = 0;
		r = server ? SSL_accept(t->ssl) : SSL_connect(t->ssl);
		if (r == 1)
			return 0;
		if ((r = tls_retry(t, r, deadline)) != 1)
			break;
	}
	if (r == -1 && errno == ETIMEDOUT)
		*err = "TLS handshake timed out";
	else if (!server && (v = SSL_get_verify_result(t->ssl)) != X509_V_OK)
		*err = X509_verify_cert_error_string(v);
	else if ((*err = ERR_reason_error_string(ERR_peek_error())) == NULL)
		*err = r == 0 || errno == ECONNRESET || errno == EPIPE ?
		    "connection closed during TLS handshake" : "TLS handshake failed";
	ERR_clear_error();
	SSL_free(t->ssl);
	t->ssl = NULL;
	return -1;
}

static int
tls_setup(struct tls_conn *t, SSL_CTX *ctx, int fd, int timeout_ms, const char **err)
{
	BIO *b;

	ERR_clear_error();
	t->fd = fd;
	t->timeout_ms = timeout_ms;
	if ((t->ssl = SSL_new(ctx)) == NULL || (b = tls_bio_new(fd)) == NULL) {
		SSL_free(t->ssl);
		t->ssl = NULL;
		*err = "cannot create TLS connection";
		return -1;
	}
	SSL_set_bio(t->ssl, b, b);
	return 0;
}

int
tls_accept(struct tls_conn *t, SSL_CTX *ctx, int fd, int timeout_ms, const char **err)
{
	if (tls_setup(t, ctx, fd, timeout_ms, err) == -1)
		return -1;
	return tls_handshake(t, 1, err);
}

/* sni: server name sent and, when ctx verifies, checked against the
 * certificate; NULL for none. */
int
tls_connect(struct tls_conn *t, SSL_CTX *ctx, int fd, const char *sni, int timeout_ms,
    const char **err)
{
	if (tls_setup(t, ctx, fd, timeout_ms, err) == -1)
		return -1;
	if (sni != NULL && (!SSL_set_tlsext_host_name(t->ssl, sni) ||
	    ((SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) && !SSL_set1_host(t->ssl, sni)))) {
		*err = "cannot set TLS server name";
		ERR_clear_error();
		SSL_free(t->ssl);
		t->ssl = NULL;
		return -1;
	}
	return tls_handshake(t, 0, err);
}

/* The deadline covers the whole call: a peer dribbling one partial record
 * cannot hold us longer than timeout_ms. */
ssize_t
tls_read(struct tls_conn *t, void *p, size_t n)
{
	int64_t deadline = tls_deadline(t->timeout_ms);
	size_t got;
	int r;

	if (t->ssl == NULL) {
		errno = EBADF;
		return -1;
	}
	for (;;) {
		errno = 0;
		r = SSL_read_ex(t->ssl, p, n, &got);
		if (r == 1)
			return (ssize_t)got;
		if ((r = tls_retry(t, r, deadline)) != 1) {
			ERR_clear_error();
			return r;
		}
	}
}

int
tls_write(struct tls_conn *t, const void *p, size_t n)
{
	int64_t deadline = tls_deadline(t->timeout_ms);
	size_t done;
	int r;

	if (t->ssl == NULL) {
		errno = EBADF;
		return -1;
	}
	if (n == 0)
		return 0;
	for (;;) {
		errno = 0;
		r = SSL_write_ex(t->ssl, p, n, &done);
		if (r == 1)
			return 0;	/* without partial-write mode, all of it */
		if ((r = tls_retry(t, r, deadline)) != 1) {
			ERR_clear_error();
			if (r == 0)
				errno = EPIPE;
			return -1;
		}
	}
}

int
tls_pending(struct tls_conn *t)
{
	return t->ssl != NULL ? SSL_pending(t->ssl) : 0;
}

/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)".  0/-1. */
int
tls_describe(struct tls_conn *t, char *out, size_t outsize)
{
	const SSL_CIPHER *c;
	int bits, alg = 0;

	if (t->ssl == NULL || (c = SSL_get_current_cipher(t->ssl)) == NULL) {
		if (outsize > 0)
			out[0] = '\0';
		return -1;
	}
	bits = SSL_CIPHER_get_bits(c, &alg);
	return str_format(out, outsize, "%s with cipher %s (%d/%d bits)",
	    SSL_get_version(t->ssl), SSL_CIPHER_get_name(c), bits, alg);
}

/* Send close_notify once without waiting for the peer's, free the
 * connection.  The descriptor stays open (the caller owns it). */
void
tls_close(struct tls_conn *t)
{
	if (t->ssl == NULL)
		return;
	if (SSL_is_init_finished(t->ssl) && SSL_shutdown(t->ssl) < 0)
		ERR_clear_error();
	ERR_clear_error();
	SSL_free(t->ssl);
	t->ssl = NULL;
}
