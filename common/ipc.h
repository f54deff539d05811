/*
 * ipc: the one way processes talk.  SOCK_SEQPACKET Unix sockets; one record
 * per packet: a header {version, type, body length} and a body of
 * key/value fields, at most IPC_MAX_RECORD bytes in all, with up to
 * IPC_MAX_FDS descriptors attached (SCM_RIGHTS).  A short, oversized,
 * malformed or truncated record is an error: the caller closes the channel.
 */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IPC_VERSION	1
#define IPC_MAX_RECORD	65536	/* header + body */
#define IPC_HEADER	8	/* u16 version, u16 type, u32 body length */
#define IPC_MAX_FDS	4
#define IPC_MAX_KEY	32

/* Every record type, in one place. */
enum ipc_type {
	IPC_NONE = 0,
	IPC_ERROR,		/* answer: "error" text */
	IPC_OK,			/* answer: success, fields depend on request */
	IPC_AUTH_VERIFY,	/* "user", "pass", "service", "client", ["handoff"] ->
				   OK "user" ["token"] / IPC_AUTH_FAIL ["limit"] */
	IPC_AUTH_FAIL,
	IPC_STATUS,		/* postern status -> master */
	IPC_QUEUE_BEGIN,	/* envelope fields -> OK "id" */
	IPC_QUEUE_DATA,		/* "data" chunk of the message */
	IPC_QUEUE_END,		/* -> OK "id" after commit, or IPC_ERROR */
	IPC_QUEUE_ABORT,
	IPC_QUEUE_LIST,		/* mailq */
	IPC_STOP,		/* postern stop -> master: OK, then graceful stop */
	IPC_RELOAD,		/* postern reload -> master: OK, or IPC_ERROR "error" */
	IPC_DELIVER_HELLO,	/* agent -> queue: "transport", "slots" */
	IPC_DELIVER_JOB,	/* queue -> agent, message fd attached (docs/queue.md) */
	IPC_DELIVER_RESULT,	/* agent -> queue: "job", "status"..., "forward"... */
	IPC_QUEUE_SHOW,		/* postern queue show: "id" */
	IPC_QUEUE_DELETE,	/* "id" or "all" */
	IPC_QUEUE_HOLD,
	IPC_QUEUE_RELEASE,
	IPC_QUEUE_FLUSH,
	IPC_DELIVER_ORPHAN,	/* agent -> queue after HELLO: "job", "id", "rcpt" */
	IPC_AUTH_REDEEM,	/* root -> auth: "token", "service" -> OK "user" / AUTH_FAIL */
	IPC_LOGIN_HANDOFF,	/* *-login -> master: "token", "input", ["tag"],
				   client fd -> OK */
	IPC_LOGIN_SESSION,	/* master -> mail process on fd 3: "token", "service",
				   "client", "listener", "input", "tls", ["tag"] */
	IPC_TYPE_MAX
};

/* A record being built or one received.  Fields are stored in body as
 * key NUL u32(len) value; values may hold any bytes. */
struct ipc_msg {
	uint16_t type;
	struct buf body;
	int fds[IPC_MAX_FDS];
	int nfds;
};

void ipc_msg_init(struct ipc_msg *m, uint16_t type);
/* Free the body and close any descriptors still attached. */
void ipc_msg_free(struct ipc_msg *m);
/* Add fields; -1 if the record would exceed the cap or the key is bad. */
int ipc_put(struct ipc_msg *m, const char *key, const void *val, size_t len) WUR;
int ipc_put_str(struct ipc_msg *m, const char *key, const char *val) WUR;
int ipc_put_u64(struct ipc_msg *m, const char *key, uint64_t val) WUR;
/* Attach a descriptor (dup'ed: caller keeps its own); -1 if full. */
int ipc_put_fd(struct ipc_msg *m, int fd) WUR;
/* Value of the first field named key, or NULL; *len its length.  The
 * returned text is NUL-terminated inside the record (values are stored with
 * a NUL after them) but may contain NULs: check len. */
const char *ipc_get(const struct ipc_msg *m, const char *key, size_t *len);
/* A field that must be text: no NUL, at most maxlen bytes; NULL otherwise. */
const char *ipc_get_str(const struct ipc_msg *m, const char *key, size_t maxlen);
/* 0 and *out on success, -1 if missing or not a decimal number. */
int ipc_get_u64(const struct ipc_msg *m, const char *key, uint64_t *out) WUR;
/* Take ownership of attached descriptor i (-1 if none). */
int ipc_take_fd(struct ipc_msg *m, int i);
/* Walk the fields in order: start with *pos = 0; 1 and the field (key is
 * NUL-terminated, val is followed by a NUL) or 0 at the end or on a
 * malformed body.  Lets a receiver reject fields it does not know. */
int ipc_next(const struct ipc_msg *m, size_t *pos, const char **key,
    const char **val, size_t *len);

/* Send one record (blocking; retries EINTR).  0 ok, -1 error. */
int ipc_send(int sock, const struct ipc_msg *m) WUR;
/* Receive one record into m (initialised by the call).  1 ok, 0 orderly
 * EOF, -1 error or malformed record (errno EPROTO/EMSGSIZE/...).  On 0 and
 * -1, m is left empty (descriptors that came with a bad record are closed),
 * so freeing it is optional.  A non-blocking socket with nothing queued
 * gives -1/EAGAIN. */
int ipc_recv(int sock, struct ipc_msg *m) WUR;
/* Decode a raw packet (used by ipc_recv and the fuzzer).  1 ok, -1 bad. */
int ipc_decode(const void *p, size_t n, struct ipc_msg *m) WUR;
/* Connect to a SEQPACKET socket at path; fd or -1. */
int ipc_connect(const char *path) WUR;
/* Send a request and wait for the answer (timeout_ms <= 0: forever). 1/0/-1 as ipc_recv
 * (-1 with errno ETIMEDOUT when no answer came in time).  ans is always
 * initialised, so ipc_msg_free(ans) is safe whatever the result. */
int ipc_call(int sock, const struct ipc_msg *req, struct ipc_msg *ans, int timeout_ms) WUR;
/* Server side: remove a stale socket at path (only if it is a socket),
 * bind a new SEQPACKET socket (cloexec) there and listen.  The socket is
 * created under the caller's umask; the caller sets owner and mode.
 * fd or -1 (ENAMETOOLONG, EEXIST for a non-socket file in the way, ...). */
int ipc_listen(const char *path, int backlog) WUR;
#endif
