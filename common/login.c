/*
 * login: the login/auth/mail handoff shared by the login processes and the
 * mail processes (see login.h and docs/login.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "ipc.h"
#include "log.h"
#include "login.h"
#include "net.h"
#include "util.h"

#define HANDOFF_TIMEOUT_MS	10000
#define PROXY_CHUNK		16384
#define PROXY_GRACE_MS		5000	/* the mail process's autologout goes first */

void
login_process_setup(const struct config *cf, const char *listener, int implicit_tls,
    SSL_CTX **tls_ctx, int *auth_fd)
{
	char path[4096];
	const char *err = NULL;

	*tls_ctx = NULL;
	if (cf->tls_cert[0] != '\0' &&
	    (*tls_ctx = tls_server_ctx(cf->tls_cert, cf->tls_key, &err)) == NULL)
		log_fatal("tls.cert %s / tls.key %s: %s", cf->tls_cert, cf->tls_key, err);
	if (implicit_tls && *tls_ctx == NULL)
		log_fatal("listen.%s needs tls.cert and tls.key", listener);
	if (str_format(path, sizeof(path), "%s/auth.sock", cf->paths_runtime) == -1)
		log_fatal("%s/auth.sock: path too long", cf->paths_runtime);
	if ((*auth_fd = ipc_connect(path)) == -1)
		log_warn("%s: %s (logins will fail temporarily)", path, strerror(errno));
}

void
login_process_drop(const struct config *cf)
{
	char empty[4096];

	if (str_format(empty, sizeof(empty), "%s/empty", cf->paths_runtime) == -1)
		log_fatal("%s/empty: path too long", cf->paths_runtime);
	priv_drop_role(cf, "login", empty);
}

int
login_plaintext_ok(enum plaintext_auth policy, int in_tls, const struct sockaddr *client)
{
	if (in_tls || policy == PLAINTEXT_YES)
		return 1;
	if (policy == PLAINTEXT_NO || client == NULL)
		return 0;
	return net_is_loopback(client);
}

int
login_name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > LOGIN_USER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

/* Copy field p[0..n) into dst[size]; 0 if it does not fit. */
static int
plain_field(char *dst, size_t size, const char *p, size_t n)
{
	if (size == 0 || n >= size)
		return 0;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 1;
}

/* Split the decoded PLAIN message d[0..n) and copy its fields; 1 or 0. */
static int
plain_fields(const char *d, size_t n, char *z, size_t zs, char *c, size_t cs,
    char *p, size_t ps)
{
	const char *n1, *n2, *end = d + n;
	size_t zl, cl, pl;

	if ((n1 = memchr(d, '\0', n)) == NULL ||
	    (n2 = memchr(n1 + 1, '\0', (size_t)(end - n1 - 1))) == NULL ||
	    memchr(n2 + 1, '\0', (size_t)(end - n2 - 1)) != NULL)
		return 0;
	zl = (size_t)(n1 - d);
	cl = (size_t)(n2 - n1 - 1);
	pl = (size_t)(end - n2 - 1);
	if (cl == 0 || pl == 0)
		return 0;
	if (zl != 0 && (zl != cl || memcmp(d, n1 + 1, cl) != 0))
		return 0;
	return plain_field(z, zs, d, zl) && plain_field(c, cs, n1 + 1, cl) &&
	    plain_field(p, ps, n2 + 1, pl);
}

int
login_sasl_plain(const char *b64, size_t len, char *authzid, size_t authzid_size,
    char *authcid, size_t authcid_size, char *pass, size_t pass_size)
{
	struct buf d = BUF_INIT(BASE64_DECODED_MAX(LOGIN_SASL_MAX));
	int ok = 0;

	if (len > 0 && len <= LOGIN_SASL_MAX && base64_decode(b64, len, &d) == 0 &&
	    d.len > 0)
		ok = plain_fields(d.data, d.len, authzid, authzid_size,
		    authcid, authcid_size, pass, pass_size);
	buf_free_secret(&d);
	if (!ok) {
		if (authzid_size > 0)
			explicit_bzero(authzid, authzid_size);
		if (authcid_size > 0)
			explicit_bzero(authcid, authcid_size);
		if (pass_size > 0)
			explicit_bzero(pass, pass_size);
	}
	return ok;
}

int
login_verify(int auth_fd, const char *service, const char *client,
    const char *user, size_t ulen, const char *pass, size_t plen,
    char *user_out, char *token, int *limited)
{
	struct ipc_msg req, ans;
	const char *u, *t, *lim;
	size_t tlen, llen;
	int r, v = -1;

	*limited = 0;
	if (ulen == 0 || ulen > LOGIN_USER_MAX || plen == 0 || plen > LOGIN_PASS_MAX)
		return 0;
	if (auth_fd == -1)
		return -1;
	ipc_msg_init(&req, IPC_AUTH_VERIFY);
	if (ipc_put(&req, "user", user, ulen) == -1 || ipc_put(&req, "pass", pass, plen) == -1 ||
	    ipc_put_str(&req, "service", service) == -1 ||
	    ipc_put_str(&req, "client", client) == -1 ||
	    ipc_put_str(&req, "handoff", "1") == -1)
		log_panic("login: auth request too large");
	r = ipc_call(auth_fd, &req, &ans, LOGIN_AUTH_TIMEOUT_MS);
	ipc_msg_free(&req);
	if (r != 1)
		log_warn("auth service: %s", r == 0 ? "connection closed" : strerror(errno));
	else if (ans.type == IPC_OK) {
		u = ipc_get_str(&ans, "user", USERDB_ADDR_MAX);
		t = ipc_get(&ans, "token", &tlen);
		if (login_user_valid(u, user_out) && login_token_valid(t, tlen)) {
			memcpy(token, t, LOGIN_TOKEN_LEN + 1);
			v = 1;
		} else
			log_warn("auth service: malformed answer");
	} else if (ans.type == IPC_AUTH_FAIL) {
		lim = ipc_get(&ans, "limit", &llen);
		*limited = lim != NULL && llen == 1 && lim[0] == '1';
		v = 0;
	} else
		log_warn("auth service: answer type %u", ans.type);
	ipc_msg_free(&ans);
	return v;
}

int
login_handoff(int master_fd, const char *token, const char *tag, int client_fd,
    const void *input, size_t inlen)
{
	struct ipc_msg req, ans;
	int r, v = -1;

	if (inlen > LOGIN_INPUT_MAX ||
	    (tag != NULL && !login_tag_valid(tag, strlen(tag))))
		return -1;
	ipc_msg_init(&req, IPC_LOGIN_HANDOFF);
	if (ipc_put_str(&req, "token", token) == -1 ||
	    (tag != NULL && ipc_put_str(&req, "tag", tag) == -1) ||
	    ipc_put(&req, "input", input != NULL ? input : "", inlen) == -1 ||
	    ipc_put_fd(&req, client_fd) == -1)
		log_panic("login: handoff record");
	r = ipc_call(master_fd, &req, &ans, HANDOFF_TIMEOUT_MS);
	ipc_msg_free(&req);
	if (r != 1)
		log_warn("handoff to master: %s", r == 0 ? "connection closed" :
		    strerror(errno));
	else if (ans.type == IPC_OK)
		v = 0;
	else
		log_warn("handoff to master refused: %s",
		    ipc_get_str(&ans, "error", 200) ? ipc_get_str(&ans, "error", 200) : "?");
	ipc_msg_free(&ans);
	return v;
}

/* Send what we can of pending to the non-blocking fd.  0, or -1 when the
 * mail process is gone. */
static int
proxy_push(int fd, struct buf *pending)
{
	ssize_t n;

	while (pending->len > 0) {
		n = send(fd, pending->data, pending->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		buf_consume(pending, (size_t)n);
	}
	return 0;
}

/* One round of the client -> mail direction.  0 go on, -1 over. */
static int
proxy_from_client(struct tls_conn *t, struct buf *c2m)
{
	char chunk[PROXY_CHUNK];
	ssize_t n;

	n = tls_read(t, chunk, sizeof(chunk));
	if (n <= 0)
		return -1;
	return buf_append(c2m, chunk, (size_t)n);
}

/* One round of the mail -> client direction.  0 go on, -1 over. */
static int
proxy_from_mail(struct tls_conn *t, int fd)
{
	char chunk[PROXY_CHUNK];
	ssize_t n;

	n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	return tls_write(t, chunk, (size_t)n);
}

void
login_proxy(struct tls_conn *t, int mail_fd, const void *input, size_t inlen,
    int idle_ms)
{
	struct buf c2m = BUF_INIT(4 * PROXY_CHUNK);
	struct pollfd p[2];
	int r;

	if (inlen > 0 && buf_append(&c2m, input, inlen) == -1)
		goto done;
	for (;;) {
		if (proxy_push(mail_fd, &c2m) == -1)
			break;
		/* read the client only while there is room for what it sends */
		p[0].fd = c2m.len <= PROXY_CHUNK * 3 ? t->fd : -1;
		p[0].events = POLLIN;
		p[1].fd = mail_fd;
		p[1].events = POLLIN | (c2m.len > 0 ? POLLOUT : 0);
		p[0].revents = p[1].revents = 0;
		if (p[0].fd != -1 && tls_pending(t) > 0)
			r = 1, p[0].revents = POLLIN;
		else
			r = poll(p, 2, idle_ms + PROXY_GRACE_MS);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;	/* idle for too long, or poll failed */
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    proxy_from_mail(t, mail_fd) == -1)
			break;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    proxy_from_client(t, &c2m) == -1)
			break;
	}
done:
	if (c2m.data != NULL)
		explicit_bzero(c2m.data, c2m.cap);
	buf_free(&c2m);
	tls_close(t);
}

int
login_handoff_client(struct tls_conn *t, const char *token, const char *tag,
    const void *input, size_t inlen, int idle_ms)
{
	int sp[2];

	if (t == NULL)
		return login_handoff(LOGIN_CHANNEL_FD, token, tag, 0, input, inlen);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("socketpair: %s", strerror(errno));
		return -1;
	}
	if (login_handoff(LOGIN_CHANNEL_FD, token, tag, sp[0], NULL, 0) == -1) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	close(sp[0]);
	login_proxy(t, sp[1], input, inlen, idle_ms);
	close(sp[1]);
	return 0;
}

