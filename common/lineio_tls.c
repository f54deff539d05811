/*
 * lineio_tls: switching a lineio to TLS.  Kept apart from lineio.c, which
 * reaches the TLS layer only through the table set here, so a program
 * that never speaks TLS (the imap mail process: imap-login proxies TLS
 * for it) links neither this file nor OpenSSL, and does not carry
 * libcrypto's relocated data in every session's private memory.
 */
#include "lineio.h"
#include "log.h"
#include "buf.h"

static const struct lineio_tls_ops lineio_tls_ops = {
	.read = tls_read,
	.write = tls_write,
	.pending = tls_pending,
};

size_t
lineio_start_tls(struct lineio *l, struct tls_conn *t)
{
	size_t n = l->inlen - l->inpos;

	l->inpos = l->inlen = 0;
	l->tls = t;
	l->tls_ops = &lineio_tls_ops;
	return n;
}

int
lineio_tls_accept(struct lineio *l, struct tls_conn *t, SSL_CTX *ctx, int timeout_ms,
    const char *client, char *info, size_t infosize)
{
	const char *err = NULL;
	size_t dropped;

	dropped = lineio_start_tls(l, t);
	if (dropped > 0)
		log_warn("client %s: discarded %zu octets sent before the TLS handshake "
		    "(command injection attempt?)", client, dropped);
	if (tls_accept(t, ctx, l->fd, timeout_ms, &err) == -1) {
		log_info("TLS handshake with %s failed: %s", client,
		    err != NULL ? err : "unknown error");
		l->tls = NULL;
		return -1;
	}
	if (tls_describe(t, info, infosize) == -1 && str_copy(info, infosize, "TLS") == -1)
		info[0] = '\0';
	log_info("TLS established with %s: %s", client, info);
	return 0;
}

