/* Unit tests for common/tls: a self-signed certificate made here, handshakes
 * between a forked client and the parent over a socketpair, data both ways
 * (also through lineio), bad key files, verification and timeouts. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lineio.h"
#include "tls.h"
#include "unit.h"

static char dir[] = "/tmp/test_tls.XXXXXX";
static char certpath[64], keypath[64], otherkey[64];
static int client_tls12;	/* client offers at most TLS 1.2 */
static int client_idle;		/* client handshakes, then sends nothing */

static int
write_key(const char *path, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Self-signed P-256 certificate for CN=localhost. */
static int
make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	FILE *f;
	int ok;

	if (k == NULL || k2 == NULL || x == NULL)
		return -1;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
	    -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, k, EVP_sha256()) == 0)
		return -1;
	if ((f = fopen(certpath, "w")) == NULL)
		return -1;
	ok = PEM_write_X509(f, x);
	if (fclose(f) != 0 || !ok || write_key(keypath, k) == -1 || write_key(otherkey, k2) == -1)
		return -1;
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	return 0;
}

static void
reap(pid_t pid, int want)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == want);
}

/* The client: reads a line, answers through lineio, reads a big block. */
static int
client(int fd, int verify)
{
	SSL_CTX *ctx;
	struct tls_conn t;
	struct lineio l;
	struct buf line = BUF_INIT(1000);
	const char *err = NULL;
	char *big;
	size_t got = 0;
	ssize_t n;

	if ((ctx = tls_client_ctx(verify, &err)) == NULL)
		return 10;
	if (client_tls12 && !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION))
		return 19;
	if (tls_connect(&t, ctx, fd, "localhost", 5000, &err) == -1)
		return err != NULL && *err != '\0' ? 11 : 12;
	if (SSL_version(t.ssl) < TLS1_2_VERSION)
		return 13;
	if (client_idle) {
		char c;

		/* send nothing; wait for the server's close_notify */
		return tls_read(&t, &c, 1) == 0 ? 0 : 20;
	}
	lineio_init(&l, fd, 5000);
	if (lineio_start_tls(&l, &t) != 0)
		return 14;
	if (lineio_read_line(&l, &line, 100) != LINEIO_OK || !buf_eq(&line, "220 hello\r\n"))
		return 15;
	if (lineio_printf(&l, "EHLO client\r\nQUIT\r\n") == -1 || lineio_flush(&l) == -1)
		return 16;
	big = malloc(200000);
	while (got < 200000 && (n = tls_read(&t, big + got, 200000 - got)) > 0)
		got += (size_t)n;
	for (size_t i = 0; i < got; i++)
		if (big[i] != (char)i)
			return 17;
	if (got != 200000)
		return 18;
	tls_close(&t);
	SSL_CTX_free(ctx);
	return 0;
}

static pid_t
start_client(int sv[2], int verify)
{
	pid_t pid;

	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(client(sv[1], verify));
	}
	close(sv[1]);
	return pid;
}

static void
test_handshake(SSL_CTX *ctx)
{
	struct tls_conn t;
	struct lineio l;
	struct buf line = BUF_INIT(1000);
	const char *err = NULL;
	char desc[200], *big = malloc(200000), c;
	int sv[2];
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = start_client(sv, 0);
	CHECK(tls_accept(&t, ctx, sv[0], 5000, &err) == 0);
	if (t.ssl == NULL) {
		fprintf(stderr, "accept: %s\n", err);
		return;
	}
	CHECK(SSL_version(t.ssl) >= TLS1_2_VERSION);
	CHECK(tls_describe(&t, desc, sizeof(desc)) == 0);
	if (client_tls12)
		CHECK(SSL_version(t.ssl) == TLS1_2_VERSION && strstr(desc, "ECDHE-ECDSA-") != NULL);
	CHECK(strstr(desc, " with cipher ") != NULL && strstr(desc, "bits)") != NULL);
	printf("negotiated: %s\n", desc);
	CHECK(tls_describe(&t, desc, 10) == -1);
	CHECK(tls_write(&t, "220 hello\r\n", 11) == 0);
	lineio_init(&l, sv[0], 5000);
	CHECK(lineio_start_tls(&l, &t) == 0);
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "EHLO client\r\n");
	/* the second line was decrypted with the first: pending inside lineio or TLS */
	CHECK(lineio_pending(&l) == 6);
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "QUIT\r\n");
	for (size_t i = 0; i < 200000; i++)
		big[i] = (char)i;
	CHECK(lineio_write(&l, big, 200000) == 0);
	CHECK(lineio_flush(&l) == 0);
	/* the client closes after reading: EOF (close_notify) */
	CHECK(tls_read(&t, &c, 1) == 0);
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_EOF);
	reap(pid, 0);
	tls_close(&t);
	CHECK(t.ssl == NULL);
	tls_close(&t);
	lineio_free(&l);
	close(sv[0]);
	buf_free(&line);
	free(big);
}

static void
test_verify_fails(SSL_CTX *ctx)
{
	struct tls_conn t;
	const char *err = NULL;
	int sv[2];
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = start_client(sv, 1);
	CHECK(tls_accept(&t, ctx, sv[0], 5000, &err) == -1);
	CHECK(err != NULL && t.ssl == NULL);
	reap(pid, 11);
	close(sv[0]);
}

static void
test_timeout(SSL_CTX *ctx)
{
	struct tls_conn t;
	const char *err = NULL;
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(tls_accept(&t, ctx, sv[0], 100, &err) == -1);
	CHECK_STR(err, "TLS handshake timed out");
	/* garbage instead of a ClientHello */
	CHECK(write(sv[1], "EHLO x\r\n\r\n\r\n\r\n", 14) == 14);
	CHECK(tls_accept(&t, ctx, sv[0], 1000, &err) == -1);
	CHECK(err != NULL && t.ssl == NULL);
	printf("garbage handshake: %s\n", err);
	/* peer gone */
	close(sv[1]);
	CHECK(tls_accept(&t, ctx, sv[0], 1000, &err) == -1);
	close(sv[0]);
}

/* A peer that goes quiet after the handshake: reads time out. */
static void
test_read_timeout(SSL_CTX *ctx)
{
	struct tls_conn t;
	struct lineio l;
	struct buf line = BUF_INIT(100);
	const char *err = NULL;
	char c;
	int sv[2];
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	client_idle = 1;
	pid = start_client(sv, 0);
	client_idle = 0;
	CHECK(tls_accept(&t, ctx, sv[0], 100, &err) == 0);
	if (t.ssl == NULL)
		return;
	errno = 0;
	CHECK(tls_read(&t, &c, 1) == -1 && errno == ETIMEDOUT);
	lineio_init(&l, sv[0], 100);
	CHECK(lineio_start_tls(&l, &t) == 0);
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_TIMEOUT);
	tls_close(&t);
	reap(pid, 0);
	lineio_free(&l);
	close(sv[0]);
	buf_free(&line);
}

/* lineio_tls_accept: plaintext read ahead is dropped, the handshake runs on
 * the lineio's descriptor and info describes it ("TLS" when it does not
 * fit); a failed handshake leaves the lineio in plaintext.  And
 * lineio_flush_client, through TLS and to a peer that is gone. */
static void
test_lineio_accept(SSL_CTX *ctx)
{
	struct tls_conn t;
	struct lineio l;
	struct buf line = BUF_INIT(1000);
	char info[200], *big = malloc(200000);
	int sv[2];
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = start_client(sv, 0);
	lineio_init(&l, sv[0], 5000);
	CHECK(lineio_preload(&l, "INJECTED\r\n", 10) == 0);
	CHECK(lineio_tls_accept(&l, &t, ctx, 5000, "test", info, sizeof(info)) == 0);
	CHECK(l.tls == &t && strstr(info, " with cipher ") != NULL);
	CHECK(lineio_printf(&l, "220 hello\r\n") == 0 && lineio_flush(&l) == 0);
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "EHLO client\r\n");
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "QUIT\r\n");
	for (size_t i = 0; i < 200000; i++)
		big[i] = (char)i;
	CHECK(lineio_write(&l, big, 200000) == 0);
	CHECK(lineio_flush_client(&l, 5000, "test") == 0);
	CHECK(lineio_flush_client(&l, 5000, "test") == 0);	/* nothing left */
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_EOF);
	reap(pid, 0);
	tls_close(&t);
	lineio_free(&l);
	close(sv[0]);

	/* the description does not fit: "TLS"; the client then sees EOF */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = start_client(sv, 0);
	lineio_init(&l, sv[0], 5000);
	CHECK(lineio_tls_accept(&l, &t, ctx, 5000, "test", info, 10) == 0);
	CHECK_STR(info, "TLS");
	tls_close(&t);
	reap(pid, 15);
	lineio_free(&l);
	close(sv[0]);

	/* the client refuses our certificate */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = start_client(sv, 1);
	lineio_init(&l, sv[0], 5000);
	CHECK(lineio_tls_accept(&l, &t, ctx, 5000, "test", info, sizeof(info)) == -1);
	CHECK(l.tls == NULL && t.ssl == NULL);
	reap(pid, 11);
	/* the client is gone: the flush fails (and is logged) */
	CHECK(lineio_write(&l, "-ERR bye\r\n", 10) == 0);
	CHECK(lineio_flush_client(&l, 5000, "test") == -1);
	lineio_free(&l);
	close(sv[0]);
	buf_free(&line);
	free(big);
}

static void
test_ctx_errors(void)
{
	const char *err = NULL;
	SSL_CTX *ctx;

	CHECK(tls_server_ctx(certpath, "/nonexistent/key.pem", &err) == NULL);
	CHECK_STR(err, "cannot load TLS private key");
	CHECK(tls_server_ctx("/nonexistent/cert.pem", keypath, &err) == NULL);
	CHECK_STR(err, "cannot load TLS certificate chain");
	CHECK(tls_server_ctx(certpath, otherkey, &err) == NULL);
	CHECK(err != NULL);
	CHECK(tls_server_ctx(keypath, keypath, &err) == NULL);
	ctx = tls_client_ctx(1, &err);
	CHECK(ctx != NULL);
	SSL_CTX_free(ctx);
}

int
main(void)
{
	const char *err = NULL;
	SSL_CTX *ctx;

	if (mkdtemp(dir) == NULL || str_format(certpath, sizeof(certpath), "%s/cert.pem", dir) ||
	    str_format(keypath, sizeof(keypath), "%s/key.pem", dir) ||
	    str_format(otherkey, sizeof(otherkey), "%s/other.pem", dir) || make_cert() == -1) {
		fprintf(stderr, "cannot make test certificate\n");
		return 1;
	}
	ctx = tls_server_ctx(certpath, keypath, &err);
	CHECK(ctx != NULL);
	if (ctx == NULL) {
		fprintf(stderr, "server ctx: %s\n", err);
		return UNIT_DONE();
	}
	test_handshake(ctx);
	client_tls12 = 1;
	test_handshake(ctx);
	client_tls12 = 0;
	test_verify_fails(ctx);
	test_timeout(ctx);
	test_read_timeout(ctx);
	test_lineio_accept(ctx);
	test_ctx_errors();
	SSL_CTX_free(ctx);
	unlink(certpath);
	unlink(keypath);
	unlink(otherkey);
	if (rmdir(dir) == -1)
		CHECK(0);
	return UNIT_DONE();
}
