/* libFuzzer target: stored messages (any bytes: mail comes from strangers)
 * through the RETR/TOP encoder of pop3d/pop3_box.c, compiled in, fed in two
 * chunks split where the input says.  The response must be unambiguous and
 * exact: no line before the end is a lone ".", undoing the dot-stuffing
 * gives the message with every bare LF made CRLF (plus a CRLF if it did not
 * end a line), and the octets counted equal pop3_wire_size, which LIST and
 * STAT report.  The first two input bytes choose TOP and the split point. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../pop3d/pop3_box.c"

/* The expected RETR octets: LF -> CRLF unless after CR, final CRLF added. */
static void
expected(const uint8_t *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r') && buf_putc(out, '\r') == -1)
			abort();
		if (buf_putc(out, (char)p[i]) == -1)
			abort();
	}
	if (n > 0 && p[n - 1] != '\n' && buf_puts(out, "\r\n") == -1)
		abort();
}

/* Undo the stuffing of a response without its ".\r\n"; checks that no
 * line is a lone "." first. */
static void
unstuff(const char *p, size_t n, struct buf *out)
{
	size_t i = 0, end;
	const char *lf;

	while (i < n) {
		lf = memchr(p + i, '\n', n - i);
		end = lf != NULL ? (size_t)(lf - p) + 1 : n;
		if (end - i == 3 && memcmp(p + i, ".\r\n", 3) == 0)
			abort();	/* would end the response early */
		if (p[i] == '.') {
			if (end - i < 2 || p[i + 1] != '.')
				abort();	/* a dot line not stuffed */
			i++;
		}
		if (buf_append(out, p + i, end - i) == -1)
			abort();
		i = end;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_stuff_state st;
	struct buf out = BUF_INIT(BUF_NOLIMIT), plain = BUF_INIT(BUF_NOLIMIT);
	struct buf want = BUF_INIT(BUF_NOLIMIT);
	uint64_t wire;
	size_t split;
	int top, fd, r;

	if (size < 2)
		return 0;
	top = data[0] & 1;
	split = data[1];
	data += 2;
	size -= 2;
	if (split > size)
		split = size;
	pop3_stuff_init(&st, top, data[-2] >> 1);
	r = pop3_stuff((const char *)data, split, &st, &out);
	if (r == 0)
		r = pop3_stuff((const char *)data + split, size - split, &st, &out);
	if (r == -1 || pop3_stuff_end(&st, &out) == -1)
		abort();
	if (out.len < 3 || memcmp(out.data + out.len - 3, ".\r\n", 3) != 0)
		abort();
	unstuff(out.data, out.len - 3, &plain);
	if (!top) {
		expected(data, size, &want);
		if (plain.len != want.len || memcmp(plain.data, want.data, want.len) != 0 ||
		    st.octets != want.len)
			abort();
		if ((fd = memfd_create("msg", 0)) == -1)
			return 0;
		if (write_all(fd, data, size) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
		    pop3_wire_size(fd, &wire) == 0 && wire != st.octets)
			abort();
		close(fd);
	} else if (st.octets != plain.len)
		abort();
	buf_free(&out);
	buf_free(&plain);
	buf_free(&want);
	return 0;
}
