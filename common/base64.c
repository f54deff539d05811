/*
 * base64: RFC 4648 section 4 encoding with strict decoding.  Used by smtpd
 * and auth for SASL exchanges; decoder input is untrusted client text.
 */
#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_encode(const void *p, size_t n, struct buf *out)
{
	const unsigned char *s = p;
	size_t save = out->len, i;
	char q[4];

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = alphabet[(v >> 18) & 63];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? alphabet[v & 63] : '=';
		if (buf_append(out, q, 4) == -1) {
			buf_truncate(out, save);
			return -1;
		}
	}
	return 0;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode one quantum q[0..4); the last one may carry padding.  Returns the
 * number of output octets (1..3) or -1. */
static int
quantum(const char *q, int last, unsigned char *o)
{
	int v[4], pad = 0;
	unsigned w;

	for (int i = 0; i < 4; i++) {
		if (q[i] == '=' && last && i >= 2) {
			pad++;
			v[i] = 0;
			continue;
		}
		if (pad || (v[i] = b64val((unsigned char)q[i])) < 0)
			return -1;	/* data after '=' or bad character */
	}
	w = ((unsigned)v[0] << 18) | ((unsigned)v[1] << 12) | ((unsigned)v[2] << 6) |
	    (unsigned)v[3];
	/* Unused bits must be zero (canonical encoding). */
	if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
		return -1;
	o[0] = (unsigned char)(w >> 16);
	o[1] = (unsigned char)(w >> 8);
	o[2] = (unsigned char)w;
	return 3 - pad;
}

int
base64_decode(const char *s, size_t n, struct buf *out)
{
	size_t save = out->len;
	unsigned char o[3];
	int k;

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		if ((k = quantum(s + i, i + 4 == n, o)) < 0 ||
		    buf_append(out, o, (size_t)k) == -1) {
			buf_truncate(out, save);
			explicit_bzero(o, sizeof(o));
			return -1;
		}
	}
	explicit_bzero(o, sizeof(o));	/* SASL data may be a password */
	return 0;
}
