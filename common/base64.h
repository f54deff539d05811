/*
 * base64: RFC 4648 base64 (standard alphabet, padded) for SASL and MIME.
 * Used by smtpd (AUTH), auth, deliver.  Decoding is strict: input is
 * untrusted, anything but canonical base64 is refused.
 */
#ifndef POSTERN_BASE64_H
#define POSTERN_BASE64_H
#include <stddef.h>

#include "buf.h"

/* Append the encoding of p[0..n) to out.  0, or -1 (out's limit; out unchanged). */
int base64_encode(const void *p, size_t n, struct buf *out) WUR;
/*
 * Append the decoding of s[0..n) to out.  Strict: length a multiple of 4,
 * only the alphabet, '=' padding only at the end, unused bits zero, no
 * whitespace.  Empty input decodes to nothing.  0, or -1 (invalid or over
 * out's limit; out unchanged).
 */
int base64_decode(const char *s, size_t n, struct buf *out) WUR;
/* Decoded size for n input octets (upper bound). */
#define BASE64_DECODED_MAX(n) (((n) / 4) * 3)
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)
#endif
