/*
 * Fuzz target for common/lineio: the input (after two control bytes) is
 * sent in packets of fuzzer-chosen sizes over a SOCK_SEQPACKET socketpair
 * (so each read returns one packet) and read back with lineio_read_line,
 * _skip_line and _read under a small maximum.  Every result is compared
 * with a simple model of the same operation, which checks the invariants:
 * lines <= max, '\n' only and always at the end of an OK line, no byte lost
 * or repeated, EOF only at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lineio.h"

#define MAXINPUT 65536
#define MAXPACKETS 64

static uint32_t rng;

static uint32_t
next(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 16;
}

/* Model of lineio_read_line on the remaining bytes: the code and line length. */
static int
model_line(const uint8_t *p, size_t n, size_t max, size_t *len)
{
	size_t lim = n < max ? n : max;
	const uint8_t *nl = memchr(p, '\n', lim);

	if (max == 0) {
		*len = 0;
		return LINEIO_TOOLONG;
	}
	if (nl != NULL) {
		*len = (size_t)(nl - p) + 1;
		return LINEIO_OK;
	}
	if (n >= max) {
		*len = max;
		return LINEIO_TOOLONG;
	}
	*len = n;
	return LINEIO_EOF;
}

static void
send_packets(int fd, const uint8_t *p, size_t n)
{
	size_t chunk = n / MAXPACKETS + 1, k;
	int npackets = 0;

	/* bounded packet count: each queued packet costs socket buffer space */
	while (n > 0) {
		k = ++npackets < 3 * MAXPACKETS ? 1 + next() % (2 * chunk) : n;
		if (k > n)
			k = n;
		if (k > LINEIO_BUFSIZE)
			k = LINEIO_BUFSIZE;
		if (write(fd, p, k) != (ssize_t)k)
			abort();
		p += k;
		n -= k;
	}
	if (shutdown(fd, SHUT_WR) == -1)
		abort();
}

/* Read everything back, checking each call against the model. */
static void
read_back(struct lineio *l, const uint8_t *p, size_t n, size_t max)
{
	struct buf line = BUF_INIT(1024);
	size_t pos = 0, len;
	uint8_t raw[64];
	long got;
	int r, want;

	for (;;) {
		switch (next() % 8) {
		case 0:	/* raw read */
			got = lineio_read(l, raw, 1 + next() % sizeof(raw));
			if (got < 0 || (size_t)got > n - pos || (got == 0 && pos != n) ||
			    memcmp(raw, p + pos, (size_t)got) != 0)
				abort();
			pos += (size_t)got;
			break;
		case 1:	/* skip */
			r = lineio_skip_line(l);
			{
				const uint8_t *nl = memchr(p + pos, '\n', n - pos);

				want = nl != NULL ? LINEIO_OK : LINEIO_EOF;
				pos = nl != NULL ? (size_t)(nl - p) + 1 : n;
			}
			if (r != want)
				abort();
			break;
		default:
			r = lineio_read_line(l, &line, max);
			want = model_line(p + pos, n - pos, max, &len);
			if (r != want || line.len != len || line.len > max ||
			    memcmp(line.data ? line.data : "", p + pos, len) != 0)
				abort();
			if (r == LINEIO_OK && (len == 0 || line.data[len - 1] != '\n' ||
			    memchr(line.data, '\n', len - 1) != NULL))
				abort();
			pos += len;
			break;
		}
		if (pos == n && lineio_pending(l) == 0) {
			if (lineio_read_line(l, &line, max) != (max == 0 ? LINEIO_TOOLONG : LINEIO_EOF)
			    || line.len != 0)
				abort();
			break;
		}
	}
	buf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lineio l;
	size_t max;
	int sv[2];

	if (size < 2 || size - 2 > MAXINPUT)
		return 0;
	max = data[0] % 65;	/* 0..64, 0 included on purpose */
	rng = data[1];
	data += 2;
	size -= 2;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		abort();
	send_packets(sv[1], data, size);
	lineio_init(&l, sv[0], 2000);
	read_back(&l, data, size, max);
	lineio_free(&l);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
