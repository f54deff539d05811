/*
 * master_handoff: checks a login process's handoff record and starts the
 * mail process for it.  master believes nothing in the record but that it
 * is well-formed: the identity is redeemed from auth by the mail process
 * with the token, and the client address comes from master's accept().
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "login.h"
#include "master_handoff.h"
#include "master_log.h"
#include "master_spawn.h"
#include "util.h"

/* 1 if m is a handoff: token of LOGIN_TOKEN_LEN hex characters, input of
 * at most LOGIN_INPUT_MAX octets, an optional IMAP tag, nothing else, one
 * descriptor. */
static int
handoff_valid(const struct ipc_msg *m)
{
	const char *k, *v;
	size_t pos = 0, len;
	int token = 0, input = 0, tag = 0;

	if (m->type != IPC_LOGIN_HANDOFF || m->nfds != 1)
		return 0;
	while (ipc_next(m, &pos, &k, &v, &len) == 1) {
		if (strcmp(k, "token") == 0 && !token && login_token_valid(v, len))
			token = 1;
		else if (strcmp(k, "input") == 0 && !input && len <= LOGIN_INPUT_MAX)
			input = 1;
		else if (strcmp(k, "tag") == 0 && !tag && login_tag_valid(v, len))
			tag = 1;
		else
			return 0;
	}
	return pos == m->body.len && token && input;
}

/* 1 if fd is a Unix socket: the login process proxies TLS to it. */
static int
is_proxied(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX;
}

/* Spawn prog with the client on 0/1 and the session record on fd 3. */
static pid_t
spawn_mail(const char *prog, const char *confpath, const struct ipc_msg *h,
    int client, const char *service, const char *listener, const char *ip)
{
	char *argv[] = { (char *)service, "-c", (char *)confpath, NULL };
	struct ipc_msg s;
	const char *token, *input, *tag;
	size_t tlen, ilen, glen = 0;
	int sp[2], fds[4];
	pid_t pid = -1;

	token = ipc_get(h, "token", &tlen);
	input = ipc_get(h, "input", &ilen);
	tag = ipc_get(h, "tag", &glen);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("%s handoff: socketpair: %s", service, strerror(errno));
		return -1;
	}
	ipc_msg_init(&s, IPC_LOGIN_SESSION);
	if (ipc_put(&s, "token", token, tlen) == -1 || ipc_put_str(&s, "service", service) == -1 ||
	    ipc_put_str(&s, "client", ip) == -1 || ipc_put_str(&s, "listener", listener) == -1 ||
	    ipc_put(&s, "input", input, ilen) == -1 ||
	    ipc_put_str(&s, "tls", is_proxied(client) ? "1" : "0") == -1 ||
	    (tag != NULL && ipc_put(&s, "tag", tag, glen) == -1))
		log_panic("handoff: session record");
	if (ipc_send(sp[0], &s) == -1)
		log_warn("%s handoff: %s", service, strerror(errno));
	else {
		fds[0] = fds[1] = client;
		fds[2] = master_log_write_fd();
		fds[3] = sp[1];
		pid = master_spawn(prog, argv, fds, 4);
	}
	ipc_msg_free(&s);
	close(sp[0]);
	close(sp[1]);
	return pid;
}

pid_t
handoff_start(const struct config *c, const char *confpath, int chan,
    const char *prog, const char *service, const char *listener, const char *ip)
{
	struct ipc_msg m, ans;
	pid_t pid = -1;
	int client, r;

	if ((r = ipc_recv(chan, &m)) != 1)
		return r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) ? -2 : -1;
	if (!handoff_valid(&m))
		log_warn("listen.%s: malformed handoff from the login process for %s",
		    listener, ip);
	else if (!master_program_exists(prog))
		log_warn("listen.%s: %s is not installed", listener, prog);
	else {
		client = ipc_take_fd(&m, 0);
		pid = spawn_mail(prog, confpath, &m, client, service, listener, ip);
		close(client);
	}
	ipc_msg_init(&ans, pid == -1 ? IPC_ERROR : IPC_OK);
	if (pid == -1 && ipc_put_str(&ans, "error", "cannot start the mail process") == -1)
		log_panic("handoff: answer");
	if (ipc_send(chan, &ans) == -1 && errno != EPIPE)
		log_warn("listen.%s: answering the login process: %s", listener,
		    strerror(errno));
	ipc_msg_free(&ans);
	ipc_msg_free(&m);
	return pid;
}
