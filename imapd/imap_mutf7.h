/*
 * imap_mutf7: decoding of modified UTF-7 mailbox names (RFC 3501 5.1.3).
 */
#ifndef POSTERN_IMAP_MUTF7_H
#define POSTERN_IMAP_MUTF7_H
#include <stddef.h>

#include "buf.h"

/*
 * Decode a mailbox name in modified UTF-7 (RFC 3501 5.1.3), appending the
 * UTF-8 to out.  Strict, so that each name has one spelling: refused (0)
 * are octets outside 0x20..0x7e, a shift without its closing "-", base64
 * that is not the modified alphabet or has "=" padding, a run that ends
 * inside a UTF-16 unit or with non-zero leftover bits, a shift encoding a
 * character below U+00A0 (ASCII must be written directly; controls are
 * never allowed), unpaired surrogates, two shifts in a row (they must have
 * been one), and out reaching its limit.  "&-" is "&".  1 on success; on
 * 0, out may hold part of the name: reset it.  Whether the decoded name is
 * acceptable as a folder (no "..", no separators) is the store's check.
 */
int imap_mutf7_decode(const char *s, size_t len, struct buf *out) WUR;
#endif
