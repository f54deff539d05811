/*
 * ipc: framed key/value records over SOCK_SEQPACKET Unix sockets, with
 * descriptor passing (see ipc.h).  Used by every process that talks to
 * another.  Trusts nothing it receives: every record is checked whole.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pipe2, getresuid, MSG_CMSG_CLOEXEC */
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <unistd.h>
#include <bsd/stdlib.h>

#include "ipc.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define IPC_MAX_BODY	(IPC_MAX_RECORD - IPC_HEADER)
/* Room for more descriptors than allowed, so a sender that attaches too
 * many is caught (and all of them closed) rather than silently cut. */
#define IPC_CMSG_FDS	(IPC_MAX_FDS * 4)

void
ipc_msg_init(struct ipc_msg *m, uint16_t type)
{
	int i;

	m->type = type;
	buf_init(&m->body, IPC_MAX_BODY);
	for (i = 0; i < IPC_MAX_FDS; i++)
		m->fds[i] = -1;
	m->nfds = 0;
}

void
ipc_msg_free(struct ipc_msg *m)
{
	int i;

	for (i = 0; i < m->nfds && i < IPC_MAX_FDS; i++) {
		if (m->fds[i] != -1)
			close(m->fds[i]);
		m->fds[i] = -1;
	}
	m->nfds = 0;
	buf_free_secret(&m->body);	/* may have carried a password */
}

static int
key_valid(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > IPC_MAX_KEY)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') ||
		    k[i] == '_' || k[i] == '.' || k[i] == '-'))
			return 0;
	}
	return 1;
}

int
ipc_put(struct ipc_msg *m, const char *key, const void *val, size_t len)
{
	size_t klen = strnlen(key, IPC_MAX_KEY + 1);
	unsigned char l4[4];
	uint32_t nl;

	if (!key_valid(key, klen) || (len > 0 && val == NULL)) {
		errno = EINVAL;
		return -1;
	}
	/* key NUL u32 value NUL; checked before appending so a field is
	 * either added whole or not at all */
	if (len > IPC_MAX_BODY || m->body.len > IPC_MAX_BODY ||
	    klen + 6 + len > IPC_MAX_BODY - m->body.len) {
		errno = EMSGSIZE;
		return -1;
	}
	nl = htonl((uint32_t)len);
	memcpy(l4, &nl, 4);
	if (buf_append(&m->body, key, klen + 1) == -1 ||
	    buf_append(&m->body, l4, 4) == -1 ||
	    buf_append(&m->body, val, len) == -1 ||
	    buf_putc(&m->body, '\0') == -1)
		log_panic("ipc_put: field did not fit after the check");
	return 0;
}

int
ipc_put_str(struct ipc_msg *m, const char *key, const char *val)
{
	return ipc_put(m, key, val, strlen(val));
}

int
ipc_put_u64(struct ipc_msg *m, const char *key, uint64_t val)
{
	char num[24];

	if (str_format(num, sizeof(num), "%" PRIu64, val) == -1)
		return -1;
	return ipc_put(m, key, num, strlen(num));
}

int
ipc_put_fd(struct ipc_msg *m, int fd)
{
	int nfd;

	if (m->nfds >= IPC_MAX_FDS) {
		errno = EMFILE;
		return -1;
	}
	if ((nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	m->fds[m->nfds++] = nfd;
	return 0;
}

int
ipc_take_fd(struct ipc_msg *m, int i)
{
	int fd;

	if (i < 0 || i >= m->nfds || i >= IPC_MAX_FDS)
		return -1;
	fd = m->fds[i];
	m->fds[i] = -1;
	return fd;
}

/* Parse the field at *pos of body[0..n): 1 and the field, 0 at the end,
 * -1 malformed.  The single definition of the field layout for readers. */
static int
field_at(const char *body, size_t n, size_t *pos, const char **key,
    const char **val, size_t *len)
{
	const char *k = body + *pos, *nul;
	size_t rest = n - *pos, klen;
	uint32_t l;

	if (*pos >= n)
		return *pos == n ? 0 : -1;
	if ((nul = memchr(k, '\0', rest < IPC_MAX_KEY + 1 ? rest : IPC_MAX_KEY + 1)) == NULL)
		return -1;
	klen = (size_t)(nul - k);
	if (!key_valid(k, klen))
		return -1;
	rest -= klen + 1;
	if (rest < 4)
		return -1;
	memcpy(&l, nul + 1, 4);
	l = ntohl(l);
	rest -= 4;
	if (rest < 1 || l > rest - 1 || nul[5 + l] != '\0')
		return -1;
	*key = k;
	*val = nul + 5;
	*len = l;
	*pos += klen + 1 + 4 + l + 1;
	return 1;
}

int
ipc_next(const struct ipc_msg *m, size_t *pos, const char **key,
    const char **val, size_t *len)
{
	if (m->body.data == NULL)
		return 0;
	return field_at(m->body.data, m->body.len, pos, key, val, len) == 1;
}

const char *
ipc_get(const struct ipc_msg *m, const char *key, size_t *len)
{
	const char *k, *v;
	size_t pos = 0, l;

	while (ipc_next(m, &pos, &k, &v, &l) == 1) {
		if (strcmp(k, key) == 0) {
			if (len != NULL)
				*len = l;
			return v;
		}
	}
	return NULL;
}

const char *
ipc_get_str(const struct ipc_msg *m, const char *key, size_t maxlen)
{
	const char *v;
	size_t l;

	if ((v = ipc_get(m, key, &l)) == NULL || l > maxlen ||
	    memchr(v, '\0', l) != NULL)
		return NULL;
	return v;
}

int
ipc_get_u64(const struct ipc_msg *m, const char *key, uint64_t *out)
{
	const char *v;
	uint64_t x = 0;
	size_t l, i;

	if ((v = ipc_get(m, key, &l)) == NULL || l == 0 || l > 20)
		return -1;
	for (i = 0; i < l; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

int
ipc_decode(const void *p, size_t n, struct ipc_msg *m)
{
	const unsigned char *h = p;
	const char *k, *v;
	uint16_t version, type;
	uint32_t blen;
	size_t pos = 0, l;
	int r;

	ipc_msg_init(m, IPC_NONE);
	if (n > IPC_MAX_RECORD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (n < IPC_HEADER)
		goto bad;
	version = (uint16_t)(h[0] << 8 | h[1]);
	type = (uint16_t)(h[2] << 8 | h[3]);
	blen = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	if (version != IPC_VERSION || type == IPC_NONE || type >= IPC_TYPE_MAX ||
	    blen != n - IPC_HEADER)
		goto bad;
	while ((r = field_at((const char *)h + IPC_HEADER, blen, &pos, &k, &v, &l)) == 1)
		;
	if (r == -1)
		goto bad;
	if (buf_set(&m->body, h + IPC_HEADER, blen) == -1)
		log_panic("ipc_decode: body over the cap after the check");
	m->type = type;
	return 1;
bad:
	errno = EPROTO;
	return -1;
}

/* The 8-byte header of m in network order. */
static void
encode_header(const struct ipc_msg *m, unsigned char h[IPC_HEADER])
{
	uint32_t blen = (uint32_t)m->body.len;

	h[0] = (IPC_VERSION >> 8) & 0xff;
	h[1] = IPC_VERSION & 0xff;
	h[2] = (unsigned char)(m->type >> 8);
	h[3] = (unsigned char)m->type;
	h[4] = (unsigned char)(blen >> 24);
	h[5] = (unsigned char)(blen >> 16);
	h[6] = (unsigned char)(blen >> 8);
	h[7] = (unsigned char)blen;
}

int
ipc_send(int sock, const struct ipc_msg *m)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} cm;
	unsigned char h[IPC_HEADER];
	struct iovec iov[2];
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t r;
	int i;

	if (m->type == IPC_NONE || m->type >= IPC_TYPE_MAX || m->body.len > IPC_MAX_BODY ||
	    m->nfds < 0 || m->nfds > IPC_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < m->nfds; i++) {
		if (m->fds[i] < 0) {	/* taken: the record would be short of one */
			errno = EBADF;
			return -1;
		}
	}
	encode_header(m, h);
	memset(&mh, 0, sizeof(mh));
	iov[0].iov_base = h;
	iov[0].iov_len = IPC_HEADER;
	iov[1].iov_base = m->body.data;
	iov[1].iov_len = m->body.len;
	mh.msg_iov = iov;
	mh.msg_iovlen = m->body.len > 0 ? 2 : 1;
	if (m->nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.space;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)m->nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)m->nfds);
		memcpy(CMSG_DATA(c), m->fds, sizeof(int) * (size_t)m->nfds);
	}
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if ((size_t)r != IPC_HEADER + m->body.len) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* Collect the descriptors of every SCM_RIGHTS message; -1 if more than
 * max arrived (all are still collected into fds[0..*n) for closing). */
static int
collect_fds(struct msghdr *mh, int *fds, int *n, int room)
{
	struct cmsghdr *c;
	size_t k, i;
	int fd;

	*n = 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k && *n < room; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			fds[(*n)++] = fd;
		}
	}
	return *n > IPC_MAX_FDS ? -1 : 0;
}

static void
close_all(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

int
ipc_recv(int sock, struct ipc_msg *m)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * IPC_CMSG_FDS)];
	} cm;
	int fds[IPC_CMSG_FDS], nfds, toomany, i;
	struct iovec iov;
	struct msghdr mh;
	char *pkt;
	ssize_t r;
	size_t n;

	ipc_msg_init(m, IPC_NONE);
	pkt = xmalloc(IPC_MAX_RECORD + 1);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = pkt;
	iov.iov_len = IPC_MAX_RECORD + 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.space;
	mh.msg_controllen = sizeof(cm.space);
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		free(pkt);
		return -1;
	}
	n = (size_t)r > IPC_MAX_RECORD ? IPC_MAX_RECORD + 1 : (size_t)r;
	toomany = collect_fds(&mh, fds, &nfds, IPC_CMSG_FDS) == -1;
	if (r == 0 && !(mh.msg_flags & MSG_CTRUNC) && nfds == 0) {
		free(pkt);
		return 0;	/* orderly EOF (or an empty packet, as bad) */
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || toomany ||
	    (size_t)r > IPC_MAX_RECORD) {
		close_all(fds, nfds);
		freezero(pkt, n);
		errno = EMSGSIZE;
		return -1;
	}
	if (ipc_decode(pkt, (size_t)r, m) != 1) {
		close_all(fds, nfds);
		freezero(pkt, n);
		return -1;
	}
	freezero(pkt, n);	/* records may carry passwords */
	for (i = 0; i < nfds; i++)
		m->fds[i] = fds[i];
	m->nfds = nfds;
	return 1;
}

/* Fill a sockaddr_un; -1 (ENAMETOOLONG) if path does not fit. */
static int
unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path[0] == '\0' || str_copy(sun->sun_path, sizeof(sun->sun_path), path) == -1) {
		errno = path[0] == '\0' ? ENOENT : ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
ipc_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, r, e;

	if (unix_addr(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	while (r == -1 && errno == EINTR) {
		r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		if (r == -1 && errno == EISCONN)
			r = 0;
	}
	if (r == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
ipc_listen(const char *path, int backlog)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, e;

	if (unix_addr(path, &sun) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		if (unlink(path) == -1)
			return -1;
	} else if (errno != ENOENT)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, backlog) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Wait until sock is readable or the deadline (ms, -1 none) passes. */
static int
wait_readable(int sock, int64_t deadline)
{
	struct pollfd p;
	int64_t left;
	int r;

	for (;;) {
		left = -1;
		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left < 0)
				left = 0;
		}
		p.fd = sock;
		p.events = POLLIN;
		p.revents = 0;
		r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0 && deadline >= 0 && now_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r == 0)
			continue;
		if (p.revents & POLLNVAL) {
			errno = EBADF;
			return -1;
		}
		return 0;	/* readable, hangup or error: recvmsg tells which */
	}
}

int
ipc_call(int sock, const struct ipc_msg *req, struct ipc_msg *ans, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : -1;

	ipc_msg_init(ans, IPC_NONE);
	if (ipc_send(sock, req) == -1)
		return -1;
	if (wait_readable(sock, deadline) == -1)
		return -1;
	return ipc_recv(sock, ans);
}
