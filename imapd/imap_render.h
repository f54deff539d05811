/*
 * imap_render: what FETCH sends of a message, from its bytes and its
 * common/mime tree: IMAP strings, ENVELOPE, BODY and BODYSTRUCTURE
 * (imap_render.c), and BODY[section]<partial> / RFC822.* octets
 * (imap_render_section.c).  Used by the imap mail process.  Pure: no I/O,
 * no globals; the message is untrusted (mail from strangers).
 *
 * Choices (RFC 3501 leaves them to the server):
 * - Octets sent of the message: every bare LF becomes CRLF (a LF at the
 *   start of a span counts as bare, the rule of mime's wire_size) and NUL
 *   becomes 0x80 (a literal may not hold NUL), so the counts of octets
 *   equal RFC822.SIZE and the part sizes of BODYSTRUCTURE.  Bare CR is
 *   sent as is.
 * - Strings: quoted when every octet is a 7-bit TEXT-CHAR (no NUL, CR,
 *   LF), else a literal; ENVELOPE and BODYSTRUCTURE strings are sent as
 *   the message has them (encoded-words not decoded, as Dovecot does).
 * - Tokens mime lower-cases (type, subtype, encoding, disposition,
 *   parameter names) are sent lower case; values as received.  Missing
 *   encoding is "7bit"; to a text part without charset, ("charset"
 *   "us-ascii") is appended to its parameters (Dovecot's default).
 * - RFC 2231 parameters are sent decoded under their plain name, as
 *   current Dovecot does (its rfc2231-parser converts to UTF-8): charsets
 *   us-ascii, utf-8 or none as the bytes decoded, iso-8859-1/latin1
 *   converted to UTF-8.  Any other charset (we cannot convert it) is sent
 *   as received, continuations joined, under "name*" with the value
 *   "charset'lang'%XX..." so a client can still decode it (Dovecot would
 *   send the raw value under the plain name, losing the charset).
 * - BODY[n.HEADER], [n.TEXT], [n.HEADER.FIELDS...] of a part that is not
 *   message/rfc822, and part numbers that do not exist, give "not found"
 *   (the caller sends NIL).
 * - HEADER is the header as stored (with its empty line if it has one);
 *   HEADER.FIELDS(.NOT) are the chosen fields followed by CRLF, always.
 */
#ifndef POSTERN_IMAP_RENDER_H
#define POSTERN_IMAP_RENDER_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_parse.h"
#include "mime.h"

/* ---- strings (RFC 3501 4.3, 9) ----
 * Each appends to out: 0, or -1 (out's limit; out may hold part of it). */
/* string: quoted if possible, else a literal {n}\r\n... */
int imap_put_string(struct buf *out, const char *s, size_t n) WUR;
/* nstring: NIL for s == NULL. */
int imap_put_nstring(struct buf *out, const char *s) WUR;
/* astring: an atom when every octet is an ASTRING-CHAR (and it is not
 * "NIL"), else as imap_put_string. */
int imap_put_astring(struct buf *out, const char *s, size_t n) WUR;

/* ---- FETCH data items of a message ----
 * root is mime_parse's tree of the message.  Append to out: 0 or -1. */
int imap_put_envelope(struct buf *out, const struct mime_envelope *env) WUR;
/* BODYSTRUCTURE (ext = 1) or BODY (ext = 0) of the part p (for FETCH: the
 * root). */
int imap_put_body(struct buf *out, const struct mime_part *p, int ext) WUR;

/* Octets sent for m[off, off + len): len plus its bare LFs. */
size_t imap_wire_size(const char *m, size_t off, size_t len);

/* ---- sections ----
 * A section to send is a list of spans: ranges of the message, each sent
 * converted as above, or the two octets CRLF (off == IMAP_SPAN_CRLF).
 * Nothing is copied: a session streams it with imap_sreader at the pace
 * its socket takes. */
#define IMAP_SPAN_CRLF	((size_t)-1)

struct imap_span {
	size_t off, len;	/* in the message */
	size_t wire;		/* octets sent */
};

struct imap_section {
	struct imap_span *v;
	size_t n, cap;
	size_t wire;		/* octets of the whole section */
	size_t start, len;	/* what to send: the <partial> window */
};

/*
 * The section f asks for (IMAP_F_BODY_SECTION, IMAP_F_RFC822,
 * IMAP_F_RFC822_HEADER, IMAP_F_RFC822_TEXT) of the message m[0, mlen)
 * with tree root; c holds the HEADER.FIELDS names.  1: s filled, send
 * s->len octets from s->start (0 octets when the partial origin is past
 * the end, RFC 3501 6.4.5); 0: no such part (send NIL).  s must be freed
 * with imap_section_free whatever the result.
 */
int imap_section_get(const char *m, size_t mlen, const struct mime_part *root,
    const struct imap_cmd *c, const struct imap_fetch *f,
    struct imap_section *s) WUR;
void imap_section_free(struct imap_section *s);

/* The response name of f: "BODY[1.2.HEADER.FIELDS (To Cc)]<10>",
 * "RFC822.TEXT"...  0 or -1. */
int imap_section_name(struct buf *out, const struct imap_cmd *c,
    const struct imap_fetch *f) WUR;

/* Streams the window of a section: init, then read until 0. */
struct imap_sreader {
	const struct imap_section *s;
	const char *m;
	size_t span, pos;	/* next octet: s->v[span], pos in it */
	size_t left;		/* octets of the window still to send */
	int lf;			/* the LF of a CRLF made of a bare LF is due */
};

void imap_sreader_init(struct imap_sreader *r, const struct imap_section *s,
    const char *m);
/* Copy up to cap next octets to dst: their count, 0 at the end. */
size_t imap_sreader_read(struct imap_sreader *r, char *dst, size_t cap);
/* Append the whole window to out (small sections, tests): 0 or -1. */
int imap_section_append(struct buf *out, const struct imap_section *s,
    const char *m) WUR;
#endif
