/*
 * Unit tests for common/ipc: framing round trips, the size cap, malformed
 * records (table-driven), descriptor passing and leaks, EOF, timeouts,
 * ipc_listen/ipc_connect.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc.h"
#include "util.h"
#include "unit.h"

#define BODYMAX (IPC_MAX_RECORD - IPC_HEADER)

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

static void
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		perror("socketpair");
		exit(2);
	}
}

/* Raw record builder: header then body bytes. */
struct raw {
	unsigned char b[IPC_MAX_RECORD + 2048];
	size_t n;
};

static void
raw_header(struct raw *r, unsigned version, unsigned type, uint32_t blen)
{
	r->b[0] = (unsigned char)(version >> 8);
	r->b[1] = (unsigned char)version;
	r->b[2] = (unsigned char)(type >> 8);
	r->b[3] = (unsigned char)type;
	r->b[4] = (unsigned char)(blen >> 24);
	r->b[5] = (unsigned char)(blen >> 16);
	r->b[6] = (unsigned char)(blen >> 8);
	r->b[7] = (unsigned char)blen;
	r->n = IPC_HEADER;
}

static void
raw_bytes(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void
raw_u32(struct raw *r, uint32_t v)
{
	uint32_t nv = htonl(v);

	raw_bytes(r, &nv, 4);
}

/* Fix the header's body length to what was appended. */
static void
raw_fixlen(struct raw *r)
{
	uint32_t blen = (uint32_t)(r->n - IPC_HEADER);

	r->b[4] = (unsigned char)(blen >> 24);
	r->b[5] = (unsigned char)(blen >> 16);
	r->b[6] = (unsigned char)(blen >> 8);
	r->b[7] = (unsigned char)blen;
}

static void
test_roundtrip(void)
{
	static const char bin[] = { 'a', '\0', (char)0xff, '\n', '\0', 'z' };
	struct ipc_msg m, r;
	const char *v;
	uint64_t u;
	size_t len;
	int sv[2];

	pair(sv);
	ipc_msg_init(&m, IPC_AUTH_VERIFY);
	CHECK(ipc_put_str(&m, "user", "alice@example.org") == 0);
	CHECK(ipc_put(&m, "bin", bin, sizeof(bin)) == 0);
	CHECK(ipc_put(&m, "empty", NULL, 0) == 0);
	CHECK(ipc_put_u64(&m, "big", UINT64_MAX) == 0);
	CHECK(ipc_put_u64(&m, "zero", 0) == 0);
	CHECK(ipc_put_str(&m, "user", "second") == 0);
	CHECK(ipc_put_str(&m, "a.b-c_9", "x") == 0);
	CHECK(ipc_send(sv[0], &m) == 0);
	CHECK(ipc_recv(sv[1], &r) == 1);
	CHECK(r.type == IPC_AUTH_VERIFY);
	CHECK(r.nfds == 0);
	CHECK(r.body.len == m.body.len && memcmp(r.body.data, m.body.data, m.body.len) == 0);
	CHECK_STR(ipc_get_str(&r, "user", 100), "alice@example.org");	/* first wins */
	CHECK(ipc_get_str(&r, "user", 5) == NULL);	/* too long */
	v = ipc_get(&r, "bin", &len);
	CHECK(v != NULL && len == sizeof(bin) && memcmp(v, bin, len) == 0 && v[len] == '\0');
	CHECK(ipc_get_str(&r, "bin", 100) == NULL);	/* holds NULs */
	v = ipc_get(&r, "empty", &len);
	CHECK(v != NULL && len == 0 && v[0] == '\0');
	CHECK_STR(ipc_get_str(&r, "empty", 0), "");
	CHECK(ipc_get_u64(&r, "big", &u) == 0 && u == UINT64_MAX);
	CHECK(ipc_get_u64(&r, "zero", &u) == 0 && u == 0);
	CHECK(ipc_get_u64(&r, "user", &u) == -1);
	CHECK(ipc_get_u64(&r, "empty", &u) == -1);
	CHECK(ipc_get_u64(&r, "nope", &u) == -1);
	CHECK(ipc_get(&r, "nope", &len) == NULL);
	CHECK(ipc_get(&r, "use", &len) == NULL);
	CHECK_STR(ipc_get_str(&r, "a.b-c_9", 1), "x");
	ipc_msg_free(&r);
	ipc_msg_free(&m);

	/* a record with no fields */
	ipc_msg_init(&m, IPC_OK);
	CHECK(ipc_send(sv[0], &m) == 0);
	CHECK(ipc_recv(sv[1], &r) == 1 && r.type == IPC_OK && r.body.len == 0);
	CHECK(ipc_get(&r, "x", NULL) == NULL);
	ipc_msg_free(&r);
	ipc_msg_free(&m);
	close(sv[0]);
	close(sv[1]);
}

static void
test_u64_text(void)
{
	static const struct {
		const char *text;
		int ok;
		uint64_t val;
	} t[] = {
		{ "0", 1, 0 }, { "42", 1, 42 }, { "18446744073709551615", 1, UINT64_MAX },
		{ "18446744073709551616", 0, 0 }, { "99999999999999999999", 0, 0 },
		{ "", 0, 0 }, { "-1", 0, 0 }, { "+1", 0, 0 }, { " 1", 0, 0 },
		{ "1 ", 0, 0 }, { "0x10", 0, 0 }, { "000000000000000000001", 0, 0 },
	};
	struct ipc_msg m;
	uint64_t u;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ipc_msg_init(&m, IPC_OK);
		CHECK(ipc_put_str(&m, "n", t[i].text) == 0);
		u = 12345;
		if (t[i].ok)
			CHECK(ipc_get_u64(&m, "n", &u) == 0 && u == t[i].val);
		else
			CHECK(ipc_get_u64(&m, "n", &u) == -1 && u == 12345);
		ipc_msg_free(&m);
	}
}

static void
test_many_fields(void)
{
	struct ipc_msg m, r;
	const char *k, *v;
	char key[16], val[32];
	size_t pos = 0, len;
	int sv[2], i, n = 0, ok = 1;
	uint64_t u;

	pair(sv);
	ipc_msg_init(&m, IPC_QUEUE_BEGIN);
	for (i = 0; i < 2000; i++) {
		if (str_format(key, sizeof(key), "rcpt.%d", i) == -1 ||
		    str_format(val, sizeof(val), "%d", i * 7) == -1 ||
		    ipc_put_str(&m, key, val) == -1)
			ok = 0;
	}
	CHECK(ok);
	CHECK(ipc_send(sv[0], &m) == 0);
	CHECK(ipc_recv(sv[1], &r) == 1);
	for (i = 0; i < 2000; i += 97) {
		if (str_format(key, sizeof(key), "rcpt.%d", i) == -1 ||
		    ipc_get_u64(&r, key, &u) == -1 || u != (uint64_t)i * 7)
			ok = 0;
	}
	CHECK(ok);
	while (ipc_next(&r, &pos, &k, &v, &len) == 1) {
		if (str_format(key, sizeof(key), "rcpt.%d", n) == -1 || strcmp(k, key) != 0 ||
		    strlen(v) != len)
			ok = 0;
		n++;
	}
	CHECK(ok);
	CHECK(n == 2000 && pos == r.body.len);
	ipc_msg_free(&r);
	ipc_msg_free(&m);
	close(sv[0]);
	close(sv[1]);
}

static void
test_cap(void)
{
	static char big[IPC_MAX_RECORD + 64];
	/* one field "x": 1 key + NUL + 4 length + value + NUL */
	size_t vlen = BODYMAX - 7;
	struct ipc_msg m, r;
	struct raw *raw;
	const char *v;
	size_t len;
	int sv[2];

	memset(big, 'v', sizeof(big));
	big[100] = '\0';
	pair(sv);
	ipc_msg_init(&m, IPC_QUEUE_DATA);
	CHECK(ipc_put(&m, "x", big, vlen) == 0);
	CHECK(m.body.len + IPC_HEADER == IPC_MAX_RECORD);
	errno = 0;
	CHECK(ipc_put(&m, "y", NULL, 0) == -1 && errno == EMSGSIZE);
	CHECK(m.body.len + IPC_HEADER == IPC_MAX_RECORD);	/* unchanged */
	CHECK(ipc_send(sv[0], &m) == 0);
	CHECK(ipc_recv(sv[1], &r) == 1);
	v = ipc_get(&r, "x", &len);
	CHECK(v != NULL && len == vlen && memcmp(v, big, vlen) == 0);
	ipc_msg_free(&r);
	ipc_msg_free(&m);

	ipc_msg_init(&m, IPC_QUEUE_DATA);
	CHECK(ipc_put(&m, "x", big, vlen + 1) == -1 && m.body.len == 0);
	CHECK(ipc_put(&m, "x", big, (size_t)-1) == -1);
	CHECK(ipc_put(&m, "x", big, (size_t)UINT32_MAX + 1) == -1);
	CHECK(ipc_put(&m, "a", big, 10) == 0);
	CHECK(ipc_put(&m, "x", big, vlen) == -1 && m.body.len == 17);
	ipc_msg_free(&m);

	/* hand-made packets one byte over the cap, and far over */
	raw = malloc(sizeof(*raw));
	raw_header(raw, IPC_VERSION, IPC_QUEUE_DATA, 0);
	raw_bytes(raw, "x", 2);
	raw_u32(raw, (uint32_t)vlen + 1);
	raw_bytes(raw, big, vlen + 1);
	raw_bytes(raw, "", 1);
	raw_fixlen(raw);
	CHECK(raw->n == IPC_MAX_RECORD + 1);
	CHECK(send(sv[0], raw->b, raw->n, 0) == (ssize_t)raw->n);
	errno = 0;
	CHECK(ipc_recv(sv[1], &r) == -1 && errno == EMSGSIZE);
	CHECK(r.body.len == 0 && r.nfds == 0);
	CHECK(ipc_decode(raw->b, raw->n, &r) == -1 && errno == EMSGSIZE);
	CHECK(send(sv[0], big, sizeof(big), 0) == (ssize_t)sizeof(big));
	CHECK(ipc_recv(sv[1], &r) == -1 && errno == EMSGSIZE);
	/* the exact-cap hand-made packet is fine */
	raw_header(raw, IPC_VERSION, IPC_QUEUE_DATA, 0);
	raw_bytes(raw, "x", 2);
	raw_u32(raw, (uint32_t)vlen);
	raw_bytes(raw, big, vlen);
	raw_bytes(raw, "", 1);
	raw_fixlen(raw);
	CHECK(raw->n == IPC_MAX_RECORD);
	CHECK(send(sv[0], raw->b, raw->n, 0) == (ssize_t)raw->n);
	CHECK(ipc_recv(sv[1], &r) == 1 && r.type == IPC_QUEUE_DATA);
	ipc_msg_free(&r);
	free(raw);
	close(sv[0]);
	close(sv[1]);
}

enum bad { GOOD, SHORT0, SHORT3, SHORT7, VERSION0, VERSION2, TYPE0, TYPEMAX, TYPEFFFF,
	BLEN_MORE, BLEN_LESS, KEY_UPPER, KEY_SPACE, KEY_SLASH, KEY_EMPTY, KEY_33,
	KEY_32, KEY_NONUL, LEN_SHORT, VAL_NONUL, VAL_LENHUGE, VAL_LEN_OVER, TRAILING,
	KEY_HIGHBIT, EMPTY_BODY };

static void
build(struct raw *r, enum bad b)
{
	const char *key = "key";
	uint32_t vlen = 5;

	raw_header(r, b == VERSION0 ? 0 : b == VERSION2 ? 2 : IPC_VERSION,
	    b == TYPE0 ? 0 : b == TYPEMAX ? IPC_TYPE_MAX : b == TYPEFFFF ? 0xffff : IPC_STATUS, 0);
	switch (b) {
	case SHORT0: r->n = 0; return;
	case SHORT3: r->n = 3; return;
	case SHORT7: r->n = 7; return;
	case EMPTY_BODY: return;
	case KEY_UPPER: key = "Key"; break;
	case KEY_SPACE: key = "k y"; break;
	case KEY_SLASH: key = "k/y"; break;
	case KEY_EMPTY: key = ""; break;
	case KEY_33: key = "abcdefghijklmnopqrstuvwxyz0123456"; break;
	case KEY_32: key = "abcdefghijklmnopqrstuvwxyz012345"; break;
	case KEY_HIGHBIT: key = "k\xe9y"; break;
	default: break;
	}
	if (b == KEY_NONUL) {
		raw_bytes(r, "key", 3);
		raw_fixlen(r);
		return;
	}
	raw_bytes(r, key, strlen(key) + 1);
	if (b == LEN_SHORT) {
		raw_bytes(r, "\0\0", 2);
		raw_fixlen(r);
		return;
	}
	raw_u32(r, b == VAL_LENHUGE ? 0xffffffffu : b == VAL_LEN_OVER ? vlen + 1 : vlen);
	raw_bytes(r, "hello", vlen);
	if (b != VAL_NONUL)
		raw_bytes(r, "", 1);
	else
		raw_bytes(r, "!", 1);
	if (b == TRAILING)
		raw_bytes(r, "x", 1);
	raw_fixlen(r);
	if (b == BLEN_MORE || b == BLEN_LESS) {
		r->b[7] = (unsigned char)(r->b[7] + (b == BLEN_MORE ? 1 : -1));
	}
}

static void
test_malformed(void)
{
	static const struct {
		enum bad b;
		int ok;
	} t[] = {
		{ GOOD, 1 }, { SHORT0, 0 }, { SHORT3, 0 }, { SHORT7, 0 }, { VERSION0, 0 },
		{ VERSION2, 0 }, { TYPE0, 0 }, { TYPEMAX, 0 }, { TYPEFFFF, 0 },
		{ BLEN_MORE, 0 }, { BLEN_LESS, 0 }, { KEY_UPPER, 0 }, { KEY_SPACE, 0 },
		{ KEY_SLASH, 0 }, { KEY_EMPTY, 0 }, { KEY_33, 0 }, { KEY_32, 1 },
		{ KEY_NONUL, 0 }, { LEN_SHORT, 0 }, { VAL_NONUL, 0 }, { VAL_LENHUGE, 0 },
		{ VAL_LEN_OVER, 0 }, { TRAILING, 0 }, { KEY_HIGHBIT, 0 }, { EMPTY_BODY, 1 },
	};
	static struct raw r;
	struct ipc_msg m;
	size_t i;
	int sv[2], rc;

	pair(sv);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		build(&r, t[i].b);
		errno = 0;
		rc = ipc_decode(r.b, r.n, &m);
		if (t[i].ok ? rc != 1 : (rc != -1 || errno != EPROTO))
			fprintf(stderr, "case %d: decode %d errno %d\n", (int)t[i].b, rc, errno);
		CHECK(t[i].ok ? rc == 1 : rc == -1 && errno == EPROTO);
		CHECK(t[i].ok || (m.body.len == 0 && m.type == IPC_NONE));
		if (rc == 1 && t[i].b != EMPTY_BODY)
			CHECK(ipc_get_str(&m, t[i].b == KEY_32 ?
			    "abcdefghijklmnopqrstuvwxyz012345" : "key", 5) != NULL);
		ipc_msg_free(&m);
		if (r.n == 0)
			continue;	/* an empty packet reads as EOF */
		/* the same bytes over a socket */
		CHECK(send(sv[0], r.b, r.n, 0) == (ssize_t)r.n);
		errno = 0;
		rc = ipc_recv(sv[1], &m);
		CHECK(t[i].ok ? rc == 1 : rc == -1 && errno == EPROTO);
		ipc_msg_free(&m);
	}
	close(sv[0]);
	close(sv[1]);

	/* keys refused by ipc_put */
	ipc_msg_init(&m, IPC_OK);
	CHECK(ipc_put_str(&m, "", "v") == -1);
	CHECK(ipc_put_str(&m, "Key", "v") == -1);
	CHECK(ipc_put_str(&m, "a=b", "v") == -1);
	CHECK(ipc_put_str(&m, "a\nb", "v") == -1);
	CHECK(ipc_put_str(&m, "abcdefghijklmnopqrstuvwxyz0123456", "v") == -1);
	CHECK(ipc_put_str(&m, "abcdefghijklmnopqrstuvwxyz012345", "v") == 0);
	ipc_msg_free(&m);
	/* types refused by ipc_send */
	pair(sv);
	ipc_msg_init(&m, IPC_NONE);
	CHECK(ipc_send(sv[0], &m) == -1 && errno == EINVAL);
	m.type = IPC_TYPE_MAX;
	CHECK(ipc_send(sv[0], &m) == -1 && errno == EINVAL);
	ipc_msg_free(&m);
	close(sv[0]);
	close(sv[1]);
}

static int
fd_is_cloexec(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f != -1 && (f & FD_CLOEXEC);
}

static void
test_fds(void)
{
	struct ipc_msg m, r;
	int sv[2], p[2], i, fd, before, ok;
	char got[8];

	pair(sv);
	before = count_fds();
	CHECK(pipe(p) == 0);
	ipc_msg_init(&m, IPC_QUEUE_BEGIN);
	CHECK(ipc_put_fd(&m, p[1]) == 0);
	CHECK(ipc_put_str(&m, "what", "pipe") == 0);
	close(p[1]);	/* only the record's copy remains */
	CHECK(ipc_send(sv[0], &m) == 0);
	ipc_msg_free(&m);	/* closes the sent copy */
	CHECK(ipc_recv(sv[1], &r) == 1 && r.nfds == 1);
	fd = ipc_take_fd(&r, 0);
	CHECK(fd >= 0 && fd_is_cloexec(fd));
	CHECK(ipc_take_fd(&r, 0) == -1);
	CHECK(ipc_take_fd(&r, 1) == -1);
	CHECK(ipc_take_fd(&r, -1) == -1);
	ipc_msg_free(&r);
	CHECK(write(fd, "hi", 2) == 2);
	close(fd);	/* the last write end: the reader sees EOF after "hi" */
	CHECK(read(p[0], got, sizeof(got)) == 2 && memcmp(got, "hi", 2) == 0);
	CHECK(read(p[0], got, sizeof(got)) == 0);
	close(p[0]);
	CHECK(count_fds() == before);

	/* four is the maximum; untaken descriptors are closed by ipc_msg_free */
	ipc_msg_init(&m, IPC_OK);
	for (i = 0, ok = 1; i < IPC_MAX_FDS; i++)
		if (ipc_put_fd(&m, 0) == -1)
			ok = 0;
	CHECK(ok);
	CHECK(ipc_put_fd(&m, 0) == -1);
	CHECK(ipc_put_fd(&m, -1) == -1);
	CHECK(ipc_send(sv[0], &m) == 0);
	ipc_msg_free(&m);
	CHECK(count_fds() == before);
	CHECK(ipc_recv(sv[1], &r) == 1 && r.nfds == IPC_MAX_FDS);
	CHECK(count_fds() == before + IPC_MAX_FDS);
	ipc_msg_free(&r);
	CHECK(count_fds() == before);
	/* a record with a taken descriptor cannot be sent */
	ipc_msg_init(&m, IPC_OK);
	CHECK(ipc_put_fd(&m, 0) == 0);
	fd = ipc_take_fd(&m, 0);
	CHECK(ipc_send(sv[0], &m) == -1 && errno == EBADF);
	close(fd);
	ipc_msg_free(&m);
	close(sv[0]);
	close(sv[1]);
}

/* sendmsg a valid empty IPC_OK record with n copies of fd 0 attached. */
static int
send_raw_fds(int sock, int n)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * 64)];
	} cm;
	struct raw r;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;
	int fds[64], i;

	for (i = 0; i < n; i++)
		fds[i] = 0;
	raw_header(&r, IPC_VERSION, IPC_OK, 0);
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = r.b;
	iov.iov_len = r.n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.space;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	return sendmsg(sock, &mh, 0) == (ssize_t)r.n ? 0 : -1;
}

static void
test_too_many_fds(void)
{
	struct ipc_msg m;
	int sv[2], before, n;
	static const int counts[] = { 4, 5, 16, 17, 60 };
	size_t i;

	pair(sv);
	before = count_fds();
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		n = counts[i];
		CHECK(send_raw_fds(sv[0], n) == 0);
		errno = 0;
		if (n <= IPC_MAX_FDS) {
			CHECK(ipc_recv(sv[1], &m) == 1 && m.nfds == n);
		} else {
			CHECK(ipc_recv(sv[1], &m) == -1 && errno == EMSGSIZE);
			CHECK(m.nfds == 0);
		}
		ipc_msg_free(&m);
		CHECK(count_fds() == before);
	}
	/* descriptors riding on a malformed record are closed too */
	{
		union {
			struct cmsghdr align;
			char space[CMSG_SPACE(sizeof(int))];
		} cm;
		struct iovec iov;
		struct msghdr mh;
		struct cmsghdr *c;
		int zero = 0;

		memset(&mh, 0, sizeof(mh));
		memset(&cm, 0, sizeof(cm));
		iov.iov_base = "\0\2\0\1\0\0\0\0";	/* version 2 */
		iov.iov_len = 8;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.space;
		mh.msg_controllen = sizeof(cm.space);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &zero, sizeof(int));
		CHECK(sendmsg(sv[0], &mh, 0) == 8);
		CHECK(ipc_recv(sv[1], &m) == -1 && errno == EPROTO);
		CHECK(count_fds() == before);
	}
	close(sv[0]);
	close(sv[1]);
}

static void
test_eof_and_call(void)
{
	struct ipc_msg m, r, a;
	int sv[2], st;
	int64_t t0, dt;

	pair(sv);
	close(sv[0]);
	CHECK(ipc_recv(sv[1], &r) == 0 && r.nfds == 0 && r.body.len == 0);
	close(sv[1]);

	/* no answer: timeout */
	pair(sv);
	ipc_msg_init(&m, IPC_STATUS);
	t0 = now_ms();
	errno = 0;
	CHECK(ipc_call(sv[0], &m, &a, 150) == -1 && errno == ETIMEDOUT);
	dt = now_ms() - t0;
	CHECK(dt >= 140 && dt < 3000);
	ipc_msg_free(&a);
	CHECK(ipc_recv(sv[1], &r) == 1 && r.type == IPC_STATUS);	/* request went out */
	ipc_msg_free(&r);

	/* an answer already waiting */
	ipc_msg_init(&r, IPC_OK);
	CHECK(ipc_put_str(&r, "text", "fine") == 0);
	CHECK(ipc_send(sv[1], &r) == 0);
	ipc_msg_free(&r);
	CHECK(ipc_call(sv[0], &m, &a, 1000) == 1 && a.type == IPC_OK);
	CHECK_STR(ipc_get_str(&a, "text", 10), "fine");
	ipc_msg_free(&a);
	CHECK(ipc_recv(sv[1], &r) == 1 && r.type == IPC_STATUS);
	ipc_msg_free(&r);
	/* peer gone: EPIPE, and no SIGPIPE thanks to MSG_NOSIGNAL */
	close(sv[1]);
	CHECK(ipc_call(sv[0], &m, &a, 1000) == -1 && errno == EPIPE);
	ipc_msg_free(&a);
	close(sv[0]);

	/* the server reads the request and hangs up: EOF */
	pair(sv);
	if (fork() == 0) {
		close(sv[0]);
		_exit(ipc_recv(sv[1], &r) == 1 ? 0 : 1);
	}
	close(sv[1]);
	CHECK(ipc_call(sv[0], &m, &a, 5000) == 0 && a.nfds == 0);
	ipc_msg_free(&a);
	ipc_msg_free(&m);
	close(sv[0]);
	CHECK(wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_listen_connect(void)
{
	char dir[] = "/tmp/test_ipc.XXXXXX", path[256], longp[200];
	struct ipc_msg m, r;
	struct stat st;
	int l, c, s, fd;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(str_format(path, sizeof(path), "%s/x.sock", dir) == 0);
	CHECK((l = ipc_listen(path, 4)) >= 0 && fd_is_cloexec(l));
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK((c = ipc_connect(path)) >= 0 && fd_is_cloexec(c));
	CHECK((s = accept(l, NULL, NULL)) >= 0);
	ipc_msg_init(&m, IPC_STOP);
	CHECK(ipc_send(c, &m) == 0);
	CHECK(ipc_recv(s, &r) == 1 && r.type == IPC_STOP);
	ipc_msg_free(&r);
	ipc_msg_free(&m);
	close(s);
	close(c);
	close(l);
	/* a stale socket is replaced */
	CHECK((l = ipc_listen(path, 4)) >= 0);
	CHECK((c = ipc_connect(path)) >= 0);
	close(c);
	close(l);
	CHECK(unlink(path) == 0);
	errno = 0;
	CHECK(ipc_connect(path) == -1 && errno == ENOENT);
	/* a regular file is not removed */
	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	close(fd);
	CHECK(ipc_listen(path, 4) == -1 && errno == EEXIST);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(unlink(path) == 0);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CHECK(ipc_connect(longp) == -1 && errno == ENAMETOOLONG);
	CHECK(ipc_listen(longp, 4) == -1 && errno == ENAMETOOLONG);
	CHECK(rmdir(dir) == 0);
}

int
main(void)
{
	test_roundtrip();
	test_u64_text();
	test_many_fields();
	test_cap();
	test_malformed();
	test_fds();
	test_too_many_fds();
	test_eof_and_call();
	test_listen_connect();
	return UNIT_DONE();
}
