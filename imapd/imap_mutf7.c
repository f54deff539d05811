/*
 * imap_mutf7: modified UTF-7 mailbox names (RFC 3501 5.1.3) to UTF-8,
 * strictly: every name has exactly one valid encoding.  Pure; used by
 * imap on every mailbox name a client sends.
 */
#include <stdint.h>

#include "imap_mutf7.h"

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == ',')
		return 63;
	return -1;
}

static int
put_utf8(struct buf *out, uint32_t cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, u, n) == 0;
}

/* Decode the base64 run s[0..n) of one shift into UTF-8; 1 or 0. */
static int
mutf7_run(const char *s, size_t n, struct buf *out)
{
	uint32_t bits = 0, hi = 0;
	unsigned nbits = 0;
	size_t units = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);
		uint32_t u;

		if (v < 0)
			return 0;
		bits = (bits << 6 | (uint32_t)v) & 0xffffff;
		if ((nbits += 6) < 16)
			continue;
		nbits -= 16;
		u = (bits >> nbits) & 0xffff;
		units++;
		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff ||
			    !put_utf8(out, 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00)))
				return 0;
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff)
			hi = u;
		else if ((u >= 0xdc00 && u <= 0xdfff) || u < 0xa0 || !put_utf8(out, u))
			return 0;	/* lone low surrogate, ASCII or a control */
	}
	/* leftover bits: fewer than 6 and all zero (RFC 2152 via 3501 5.1.3) */
	return units > 0 && hi == 0 && nbits < 6 &&
	    (bits & ((1u << nbits) - 1)) == 0;
}

int
imap_mutf7_decode(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;
	int after_shift = 0;

	while (i < len) {
		unsigned char ch = (unsigned char)s[i];
		size_t e;

		if (ch < 0x20 || ch > 0x7e)
			return 0;
		if (ch != '&') {
			if (buf_putc(out, ch) == -1)
				return 0;
			i++;
			after_shift = 0;
			continue;
		}
		for (e = i + 1; e < len && s[e] != '-'; e++)
			;
		if (e == len)
			return 0;	/* unterminated shift */
		if (e == i + 1) {
			if (buf_putc(out, '&') == -1)
				return 0;
			after_shift = 0;
		} else {
			/* two shifts in a row must have been one */
			if (after_shift || !mutf7_run(s + i + 1, e - i - 1, out))
				return 0;
			after_shift = 1;
		}
		i = e + 1;
	}
	return 1;
}

