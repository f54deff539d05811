/*
 * Fuzz target for the remote agent's message encoder
 * (deliver/remote_proto.c, remote_enc_*): the input is a stored message
 * (any octets), fed in chunks whose sizes the first two bytes choose.  The
 * output is read back as smtpd would read it (smtp_data_line) and by a
 * reference decoder; it must give the CRLF-normalised message exactly.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../deliver/remote_proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: bare CR and bare LF become CRLF, a final CRLF is added. */
static void
normalise(const char *p, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		if (p[i] == '\r' || p[i] == '\n') {
			if (buf_append(out, "\r\n", 2) != 0)
				abort();
		} else if (buf_putc(out, p[i]) != 0)
			abort();
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n' &&
	    buf_append(out, "\r\n", 2) != 0)
		abort();
}

/* Read the DATA stream back line by line, as the receiving side does. */
static void
undot(const char *p, size_t n, struct buf *out)
{
	const char *nl, *s;
	size_t pos = 0, len, slen;
	unsigned fl;

	while (pos < n) {
		if ((nl = memchr(p + pos, '\n', n - pos)) == NULL)
			abort();	/* everything ends in CRLF */
		len = (size_t)(nl - (p + pos)) + 1;
		fl = smtp_data_line(p + pos, len, 1);
		if (fl & SMTP_LINE_BAD)
			abort();
		if (fl & SMTP_LINE_END) {
			if (pos + len != n)
				abort();	/* the end only at the end */
			return;
		}
		smtp_data_unstuff(p + pos, len, &s, &slen);
		if (buf_append(out, s, slen) != 0)
			abort();
		pos += len;
	}
	abort();	/* no end line */
}

static void
encode(int dot, const char *p, size_t n, unsigned a, unsigned b, struct buf *out)
{
	struct remote_enc e;
	size_t pos = 0, k = 0, step;

	remote_enc_init(&e, dot);
	while (pos < n) {
		step = 1 + ((k++ % 2) ? a : b);
		if (step > n - pos)
			step = n - pos;
		if (remote_enc_feed(&e, p + pos, step, out) != 0)
			abort();
		pos += step;
	}
	if (remote_enc_finish(&e, out) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf ref = BUF_INIT(BUF_NOLIMIT), enc = BUF_INIT(BUF_NOLIMIT);
	struct buf back = BUF_INIT(BUF_NOLIMIT);
	const char *p = (const char *)data + 2;
	size_t n, i;
	int hi = 0;

	if (size < 2)
		return 0;
	n = size - 2;
	normalise(p, n, &ref);
	encode(1, p, n, data[0] % 17, data[1] % 5, &enc);
	undot(enc.data, enc.len, &back);
	if (back.len != ref.len || (ref.len > 0 && memcmp(back.data, ref.data, ref.len) != 0))
		abort();
	buf_reset(&enc);
	encode(0, p, n, data[1] % 7, data[0] % 3, &enc);	/* BDAT: no stuffing */
	if (enc.len != ref.len || (ref.len > 0 && memcmp(enc.data, ref.data, ref.len) != 0))
		abort();
	for (i = 0; i < n; i++)
		hi |= data[2 + i] >= 0x80;
	if (hi != remote_is_8bit(p, n))
		abort();
	buf_free(&ref);
	buf_free(&enc);
	buf_free(&back);
	return 0;
}
