/*
 * Fuzz target for common/ipc: the input is one raw packet.  ipc_decode must
 * accept or refuse it without fault; ipc_recv on the same bytes over a
 * SEQPACKET socketpair must agree.  An accepted record is walked with
 * ipc_next and every getter, then rebuilt with ipc_put, which must give the
 * same body byte for byte (the reader and the writer agree on the layout).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc.h"

static void
check_fields(const struct ipc_msg *m)
{
	struct ipc_msg re;
	const char *k, *v, *first, *s;
	size_t pos = 0, len, flen, klen;
	uint64_t u;

	ipc_msg_init(&re, m->type);
	while (ipc_next(m, &pos, &k, &v, &len) == 1) {
		klen = strlen(k);
		if (klen == 0 || klen > IPC_MAX_KEY || v[len] != '\0' || pos > m->body.len)
			abort();
		first = ipc_get(m, k, &flen);
		if (first == NULL || first > v || (first == v && flen != len))
			abort();
		s = ipc_get_str(m, k, len);
		if (first == v && (s != NULL) != (memchr(v, '\0', len) == NULL))
			abort();
		if (ipc_get_u64(m, k, &u) == 0 && (flen == 0 || flen > 20))
			abort();
		if (ipc_put(&re, k, v, len) == -1)
			abort();
	}
	if (pos != m->body.len || re.body.len != m->body.len ||
	    (m->body.len > 0 && memcmp(re.body.data, m->body.data, m->body.len) != 0))
		abort();
	ipc_msg_free(&re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg m, r;
	int sv[2], rd, rr;

	if (size > IPC_MAX_RECORD + 16)
		return 0;
	rd = ipc_decode(data, size, &m);
	if (rd != 1 && rd != -1)
		abort();
	if (rd == -1 && (m.body.len != 0 || m.nfds != 0 || m.type != IPC_NONE))
		abort();
	if (rd == 1) {
		if (m.type == IPC_NONE || m.type >= IPC_TYPE_MAX ||
		    m.body.len + IPC_HEADER != size)
			abort();
		check_fields(&m);
	}

	/* the same packet through a socket */
	if (size > 0) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
			abort();
		if (send(sv[0], data, size, 0) != (ssize_t)size)
			abort();
		rr = ipc_recv(sv[1], &r);
		if (rr != rd || (rr == 1 && (r.type != m.type || r.body.len != m.body.len ||
		    memcmp(r.body.data ? r.body.data : "", m.body.data ? m.body.data : "",
		    m.body.len) != 0)))
			abort();
		if (rr == 1) {
			/* and back out: ipc_send reproduces the packet exactly */
			if (ipc_send(sv[1], &r) != 0)
				abort();
			ipc_msg_free(&r);
			if (ipc_recv(sv[0], &r) != 1 || r.body.len != m.body.len)
				abort();
		}
		ipc_msg_free(&r);
		close(sv[0]);
		close(sv[1]);
	}
	ipc_msg_free(&m);
	return 0;
}
