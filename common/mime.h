/*
 * mime: pure parser of a whole message in memory into its MIME structure
 * (RFC 5322, 2045-2047, 2231) with the byte offsets and ENVELOPE fields that
 * IMAP FETCH BODYSTRUCTURE/ENVELOPE/BODY[section] need.  Used by the imap
 * mail process; the message is untrusted (mail from strangers).
 *
 * Line ends are LF or CRLF (a CR before LF belongs to the line end; a bare
 * CR is an ordinary byte).  A header ends at its first empty line or at the
 * first line that is neither a field nor a continuation (the body then
 * starts on that line).  Malformed structure never fails the parse:
 *  - multipart without a boundary, or with no delimiter line in its body,
 *    or below MIME_DEPTH_MAX, or past MIME_PARTS_MAX, and message/rfc822
 *    with a base64/quoted-printable encoding or at those limits, become
 *    leaves of type application/octet-stream (no parameters) with
 *    MIME_F_BROKEN set; so a multipart always has >= 1 child and a
 *    message/rfc822 exactly one;
 *  - a missing close delimiter ends the last part at its parent's end
 *    (MIME_F_UNTERMINATED);
 *  - a delimiter line of an enclosing multipart ends every nested part,
 *    since parents are split before their children are parsed.
 * Every allocation is bounded by the input size times a constant.
 */
#ifndef POSTERN_MIME_H
#define POSTERN_MIME_H
#include <stddef.h>

#include "buf.h"

#define MIME_DEPTH_MAX	32	/* nesting levels below the root */
#define MIME_PARTS_MAX	10000	/* parts in one message, the root included */
#define MIME_FIELD_MAX	65536	/* unfolded octets kept of one header field */
#define MIME_PARAMS_MAX	64	/* parameters kept of one Content-* field */
#define MIME_ADDRS_MAX	10000	/* addresses kept of one address field */

/* mime_part.flags */
#define MIME_F_BROKEN		0x01	/* structure given up: see above */
#define MIME_F_UNTERMINATED	0x02	/* multipart without close delimiter */
#define MIME_F_BADTYPE		0x04	/* Content-Type unparsable: default */
#define MIME_F_TRUNCATED	0x08	/* a header field over MIME_FIELD_MAX */

/* One Content-Type or Content-Disposition parameter after RFC 2231
 * assembly (continuations joined; an extended form wins over a plain one).
 * value is NUL-terminated but may hold NULs (vlen counts them).  For an
 * extended value, charset and lang are set ("" if empty); when charset is
 * us-ascii, utf-8 or empty the value is percent-decoded, otherwise it is
 * kept raw (still percent-encoded, continuations joined) and encoded = 1,
 * so a writer can send it back as name*=charset'lang'value. */
struct mime_param {
	char *name;		/* lower case, without '*' or section */
	char *value;
	size_t vlen;
	char *charset;		/* NULL: not an extended parameter */
	char *lang;
	int encoded;
};

/* An ENVELOPE address (RFC 3501 7.4.2).  NULL is NIL.  A group starts
 * with {NULL, NULL, group name, NULL} and ends with all four NULL.  A
 * mailbox without a domain has host "" (never NIL). */
struct mime_addr {
	char *name, *adl, *mailbox, *host;
};

struct mime_addrlist {
	struct mime_addr *v;
	size_t n;
};

/* ENVELOPE of a message (the root, or the child of a message/rfc822).
 * Strings are the unfolded field bodies, trimmed, not decoded; NULL if
 * the field is absent.  sender and reply_to are copies of from when their
 * fields are absent or empty, as RFC 3501 asks. */
struct mime_envelope {
	char *date, *subject, *in_reply_to, *message_id;
	struct mime_addrlist from, sender, reply_to, to, cc, bcc;
};

struct mime_part {
	/* Offsets into the message.  The header [hdr_start, hdr_end) includes
	 * its empty line; the body is [body_start, body_end), without the
	 * line end that belongs to the next delimiter. */
	size_t hdr_start, hdr_end, body_start, body_end;
	size_t size;		/* body_end - body_start */
	size_t wire_size;	/* body octets with each bare LF as CRLF */
	size_t lines;		/* body lines (last unterminated one counts) */
	int depth;		/* 0 for the root */
	unsigned flags;
	char *type, *subtype;	/* lower case, never NULL */
	struct mime_param *params;
	size_t nparams;
	char *encoding;		/* lower case; NULL: absent (7bit) */
	char *id, *description, *md5, *language, *location;	/* raw */
	char *disposition;	/* lower case; NULL: absent */
	struct mime_param *dparams;
	size_t ndparams;
	struct mime_envelope *env;	/* set on message roots only */
	struct mime_part *parent, *child, *next;
	size_t nchildren;
};

/* Parse msg[0..len) (any bytes).  Never fails; the caller frees the tree
 * with mime_free. */
struct mime_part *mime_parse(const char *msg, size_t len);
void mime_free(struct mime_part *root);
/* The parameter named name (lower case), or NULL. */
const struct mime_param *mime_param_get(const struct mime_param *v, size_t n,
    const char *name);
/* Number of parts in the tree (the root included). */
size_t mime_count(const struct mime_part *root);

/* Append s[0..n) to out with RFC 2047 encoded-words decoded to UTF-8
 * (charsets us-ascii, utf-8, iso-8859-1; others stay encoded), white space
 * between adjacent encoded-words dropped, invalid UTF-8 in decoded text
 * replaced by U+FFFD and NUL, CR, LF by a space.  Text outside
 * encoded-words is copied unchanged.  0, or -1 (out's limit). */
int mime_decode_words(const char *s, size_t n, struct buf *out) WUR;

/* Parse an address-list field body into *list (appended to); used by
 * mime_parse for the envelope, public for tests and SEARCH. */
void mime_parse_addrs(const char *s, size_t n, struct mime_addrlist *list);
void mime_addrlist_free(struct mime_addrlist *list);
/* The value of a hex digit (either case) or of a base64 character
 * (RFC 4648 alphabet), -1 for any other octet: for the lenient decoders of
 * encoded-words and bodies. */
int mime_hexval(unsigned char ch);
int mime_b64val(unsigned char ch);
/* One field of a header, for walking a part's header [hdr_start, hdr_end)
 * with mime_hfield_next (same line rules as mime_parse).  [start, end) is
 * the field with its continuation lines and their line ends; its name is
 * [start, start + nlen) (nlen 0: a continuation line with no field before
 * it); its value starts at vstart (after the colon). */
struct mime_hfield {
	size_t start, end, nlen, vstart;
};

/* The next field of the header [*pos, hdr_end) of m: 1 with *f set and
 * *pos moved past it, or 0 at the empty line or hdr_end. */
int mime_hfield_next(const char *m, size_t hdr_end, size_t *pos,
    struct mime_hfield *f);
/* 1 if f's name is name (ASCII case-insensitive). */
int mime_hfield_is(const char *m, const struct mime_hfield *f,
    const char *name, size_t nlen);
/* Append f's value unfolded (line ends removed, NULs dropped, not
 * trimmed, not decoded) to out: 0, or -1 (out's limit). */
int mime_hfield_value(const char *m, const struct mime_hfield *f,
    struct buf *out) WUR;
#endif
