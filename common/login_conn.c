/*
 * login_conn: the pre-authentication session both login processes run
 * (see login_conn.h), as PREFIXlogin in the empty chroot; the protocol's
 * words come through struct login_proto.  Every byte read here comes from
 * the client and is untrusted; a password is never left behind in memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "login_conn.h"
#include "service.h"
#include "util.h"

/* ---- replies ------------------------------------------------------------ */

static void __attribute__((format(printf, 2, 0)))
login_conn_queue(struct login_conn *c, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT(2048);

	if (buf_vprintf(&b, fmt, ap) == -1 || buf_puts(&b, "\r\n") == -1)
		log_panic("%s: reply too long", c->proto->prog);
	if (!c->closing && lineio_write(&c->io, b.data, b.len) == -1) {
		log_warn("client %s: reply buffer full; closing", c->client_addr);
		c->closing = 1;
	}
	buf_free(&b);
	if (!c->closing && c->io.out.len > LOGIN_OUT_FLUSH && login_conn_flush(c) == -1) {
		/* closing: login_conn_flush logged it */
	}
}

void
login_conn_reply(struct login_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	login_conn_queue(c, fmt, ap);
	va_end(ap);
}

void
login_conn_bad(struct login_conn *c, const char *fmt, ...)
{
	struct buf b = BUF_INIT(2048);
	va_list ap;
	int r;

	if (++c->bad >= LOGIN_MAX_BAD) {
		log_info("too many invalid commands from %s", c->client_addr);
		login_conn_bye(c, "Too many invalid commands");
		return;
	}
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r == -1)
		log_panic("%s: reply too long", c->proto->prog);
	c->proto->bad(c, buf_cstr(&b));
	buf_free(&b);
}

int
login_conn_flush(struct login_conn *c)
{
	if (lineio_flush_client(&c->io, login_conn_timeout_ms(c), c->client_addr) == -1) {
		c->closing = 1;
		return -1;
	}
	return 0;
}

void
login_conn_bye(struct login_conn *c, const char *text)
{
	if (c->closing)
		return;
	login_conn_reply(c, "%s%s", c->proto->bye, text);
	if (login_conn_flush(c) == -1) {
		/* closing anyway */
	}
	c->closing = 1;
}

int
login_conn_timeout_ms(const struct login_conn *c)
{
	return timeout_left_ms(c->idle_ms, c->deadline_ms);
}

int
login_conn_plaintext_ok(const struct login_conn *c)
{
	return login_plaintext_ok(c->plaintext, c->in_tls,
	    c->client_known ? (const struct sockaddr *)&c->client_sa : NULL);
}

void
login_conn_wipe(struct login_conn *c)
{
	if (c->line.data != NULL)
		explicit_bzero(c->line.data, c->line.cap);
	explicit_bzero(c->io.in, c->io.inpos);
}

/* ---- reading ------------------------------------------------------------ */

/* RFC 1939 3, RFC 3501 5.4: an autologout is said before hanging up. */
int
login_conn_read_failed(struct login_conn *c, int r)
{
	if (r == LINEIO_TIMEOUT) {
		if (now_ms() >= c->deadline_ms) {
			log_info("session timeout for %s", c->client_addr);
			login_conn_bye(c, "Session time limit exceeded");
		} else {
			log_info("timeout from %s", c->client_addr);
			login_conn_bye(c, "Disconnected for inactivity");
		}
	} else if (r == LINEIO_EOF) {
		log_info("lost connection from %s", c->client_addr);
	} else {
		log_info("read error from %s: %s", c->client_addr, strerror(errno));
	}
	c->closing = 1;
	return -1;
}

int
login_conn_before_read(struct login_conn *c, int has_input)
{
	if (c->closing)
		return -1;
	if (!has_input && login_conn_flush(c) == -1)
		return -1;
	if (now_ms() >= c->deadline_ms)
		return login_conn_read_failed(c, LINEIO_TIMEOUT);
	c->io.timeout_ms = login_conn_timeout_ms(c);
	return 0;
}

int
login_conn_read_line(struct login_conn *c, size_t max)
{
	struct buf *l = &c->line;
	int r;

	if (login_conn_before_read(c, lineio_has_line(&c->io)) == -1)
		return -1;
	r = lineio_read_line(&c->io, l, max);
	if (r == LINEIO_TOOLONG) {
		r = lineio_skip_line(&c->io);
		return r == LINEIO_OK ? 0 : login_conn_read_failed(c, r);
	}
	if (r != LINEIO_OK)
		return login_conn_read_failed(c, r);
	/* CRLF, or a bare LF from a sloppy client: a CR left inside the line
	 * is refused by the protocol's parser */
	buf_truncate(l, l->len - 1);
	if (l->len > 0 && l->data[l->len - 1] == '\r')
		buf_truncate(l, l->len - 1);
	return 1;
}

int
login_conn_tls_start(struct login_conn *c)
{
	if (lineio_tls_accept(&c->io, &c->tls, c->tls_ctx, login_conn_timeout_ms(c),
	    c->client_addr, c->tls_info, sizeof(c->tls_info)) == -1)
		return -1;
	c->in_tls = 1;
	return 0;
}

/* ---- credentials -------------------------------------------------------- */

/* A refused login, logged and counted: LAST at LOGIN_MAX_TRIES or when
 * auth says the client address is over auth.max_failures. */
static enum login_auth
login_conn_refused(struct login_conn *c, const char *method, const char *shown,
    int limited)
{
	c->failures++;
	log_info("authentication failed: user=<%s>, method=%s, client=%s", shown, method,
	    c->client_addr);
	if (!limited && c->failures < LOGIN_MAX_TRIES)
		return LOGIN_AUTH_REFUSED;
	log_info("too many authentication failures from %s (user=<%s>, %s); "
	    "disconnecting", c->client_addr, shown,
	    limited ? "auth.max_failures reached" : "on this connection");
	return LOGIN_AUTH_LAST;
}

enum login_auth
login_conn_verify(struct login_conn *c, const char *method, const char *user,
    size_t ulen, const char *pass, size_t plen)
{
	char canon[USERDB_ADDR_MAX + 1];
	int limited = 0, r = -1;

	if (login_conn_flush(c) == -1)
		return LOGIN_AUTH_GONE;
	if (!login_name_ok(user, ulen) || plen == 0 || plen > LOGIN_PASS_MAX)
		return login_conn_refused(c, method, "(malformed)", 0);
	if (c->auth_fd != -1) {
		r = login_verify(c->auth_fd, c->proto->service, c->client_addr, user, ulen,
		    pass, plen, canon, c->token, &limited);
		if (r == -1) {
			close(c->auth_fd);
			c->auth_fd = -1;
		}
	}
	if (r == 0)
		return login_conn_refused(c, method, user, limited);
	if (r == -1) {
		log_warn("auth service unavailable; login of %s refused temporarily",
		    c->client_addr);
		return LOGIN_AUTH_TEMP;
	}
	log_info("login: user=<%s>, method=%s, client=%s%s", canon, method,
	    c->client_addr, c->in_tls ? ", TLS" : "");
	c->handoff = 1;
	c->closing = 1;
	return LOGIN_AUTH_OK;
}

enum login_auth
login_conn_plain(struct login_conn *c, const char *b64, size_t len)
{
	char authzid[LOGIN_USER_MAX + 1], authcid[LOGIN_USER_MAX + 1];
	char pass[LOGIN_PASS_MAX + 1];
	enum login_auth r = LOGIN_AUTH_INVALID;

	if (login_sasl_plain(b64, len, authzid, sizeof(authzid), authcid, sizeof(authcid),
	    pass, sizeof(pass)))
		r = login_conn_verify(c, "PLAIN", authcid, strlen(authcid), pass,
		    strlen(pass));
	explicit_bzero(authzid, sizeof(authzid));
	explicit_bzero(authcid, sizeof(authcid));
	explicit_bzero(pass, sizeof(pass));
	return r;
}

enum login_auth
login_conn_plain_line(struct login_conn *c)
{
	if (c->line.len == 1 && c->line.data[0] == '*')
		return LOGIN_AUTH_CANCELLED;
	return login_conn_plain(c, c->line.data != NULL ? c->line.data : "", c->line.len);
}

/* ---- the session -------------------------------------------------------- */

/* Give the client to master (login_handoff_client), with the input read
 * past the authenticating command; answer a failure. */
static void
login_conn_handoff(struct login_conn *c)
{
	const char *input = c->io.in + c->io.inpos;
	size_t inlen = c->io.inlen - c->io.inpos;
	int r;

	r = login_handoff_client(c->in_tls ? &c->tls : NULL, c->token, c->tag, input, inlen,
	    c->proxy_ms);
	explicit_bzero(c->token, sizeof(c->token));
	c->handoff = 0;
	if (r == -1) {
		log_warn("handoff of %s to master failed", c->client_addr);
		c->closing = 0;
		c->proto->unavailable(c);
	}
}

void
login_conn_prealloc(struct buf *b, size_t max)
{
	static const char zeros[4096];
	size_t n;

	buf_init(b, max);
	while (b->len < max) {
		n = max - b->len < sizeof(zeros) ? max - b->len : sizeof(zeros);
		if (buf_append(b, zeros, n) == -1)
			log_panic("login_conn_prealloc: %zu octets", max);
	}
	buf_reset(b);
}

void
login_conn_init(struct login_conn *c, const struct config *cf, const struct login_proto *p)
{
	memset(c, 0, sizeof(*c));
	c->cf = cf;
	c->proto = p;
	c->auth_fd = -1;
	login_conn_prealloc(&c->line, p->line_max);
	if (str_copy(c->client_addr, sizeof(c->client_addr), "unknown") == -1)
		log_panic("%s: client address", p->prog);
	p->init(c);
	c->deadline_ms = now_ms() + c->session_ms;
}

void
login_conn_run(struct login_conn *c)
{
	lineio_init(&c->io, 0, login_conn_timeout_ms(c));
	log_info("connect from %s (%s)", c->client_addr, c->listener);
	if (c->implicit_tls && login_conn_tls_start(c) == -1)
		c->closing = 1;
	else
		c->proto->greeting(c);
	while (!c->closing)
		c->proto->command(c);
	if (c->handoff)
		login_conn_handoff(c);
	else if (login_conn_flush(c) == -1) {
		/* the peer is gone; nothing more to say */
	}
	log_info("disconnect from %s", c->client_addr);
}

void
login_conn_free(struct login_conn *c)
{
	tls_close(&c->tls);	/* also after a failed handshake; idempotent */
	c->in_tls = 0;
	c->proto->free(c);
	login_conn_wipe(c);
	lineio_free(&c->io);
	buf_free_secret(&c->line);
}

int
login_main(int argc, char **argv, const struct login_proto *p, struct login_conn *c)
{
	static struct config cf;
	const char *confpath = NULL, *listener = NULL, *err = NULL;

	/* SIGTERM (master stopping): nothing is pending that could be lost */
	if (service_conn_init(p->prog, LOGIN_CHANNEL_FD + 1) == -1)
		log_fatal("signal: %s", strerror(errno));
	if (service_args(argc, argv, &confpath, &listener) == -1 ||
	    (strcmp(listener, p->service) != 0 && strcmp(listener, p->service_tls) != 0))
		log_fatal("usage: %s -c config -l %s|%s", p->prog, p->service, p->service_tls);
	service_check_listener(LOGIN_CHANNEL_FD);
	if (service_config(confpath, &cf, &err) == -1)
		log_fatal("%s", err);
	login_conn_init(c, &cf, p);
	c->listener = listener;
	c->implicit_tls = strcmp(listener, p->service_tls) == 0;
	login_process_setup(&cf, listener, c->implicit_tls, &c->tls_ctx, &c->auth_fd);
	/* kept as a sockaddr too, for the plaintext policy */
	c->client_known = service_client(0, &c->client_sa, c->client_addr,
	    sizeof(c->client_addr));
	login_process_drop(&cf);
	login_conn_run(c);
	login_conn_free(c);
	if (c->auth_fd != -1)
		close(c->auth_fd);
	if (c->tls_ctx != NULL)
		SSL_CTX_free(c->tls_ctx);
	config_free(&cf);
	return 0;
}
