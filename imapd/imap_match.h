/*
 * imap_match: evaluate a parsed SEARCH (imap_parse.h) against one message
 * at a time, and write the SEARCH / ESEARCH (RFC 4731) responses.  Used by
 * the imap mail process.  Pure: no I/O of its own; the message bytes come
 * through the caller's loader, only when a key needs them (flag, size,
 * date and set keys never load), and are untrusted (mail from strangers).
 * Implemented by imap_match.c (tree, flags, sets, dates, prepare),
 * imap_match_text.c (headers, bodies, decoding, case folding, the fields
 * the folder's cache keeps) and imap_match_out.c (responses); a program
 * links all three, plus mime.
 *
 * Use in the session: imap_match_prepare once per SEARCH (BADCHARSET:
 * reply "NO " IMAP_BADCHARSET_TEXT); for each message in sequence order
 * fill a zeroed imap_match_msg, imap_match_message, keep its seq (uid for
 * UID SEARCH) when 1, imap_match_release; then imap_match_write_search or
 * imap_match_write_esearch with the kept ids; imap_match_free.
 * s.needs == 0 means no key reads the message (flags, sizes, dates, sets).
 *
 * Semantics chosen (RFC 3501 6.4.4 leaves them to the server):
 * - strings: case-insensitive substring on UTF-8 after simple case
 *   folding: ASCII, Latin-1 supplement, Latin Extended-A, Greek and
 *   Cyrillic capitals to small (Unicode simple lower-case mapping of those
 *   blocks; no normalisation, no multi-character folds, so "ss" does not
 *   match "ß").  Bytes that are not valid UTF-8 compare as themselves.
 * - FROM TO CC BCC SUBJECT HEADER: the unfolded body of every occurrence
 *   of the field in the message's own header, RFC 2047 words decoded
 *   (us-ascii, utf-8, iso-8859-1; see mime_decode_words).  A message
 *   without the field never matches; an empty string matches any message
 *   that has the field.
 * - BODY: the leaves of type text/ (any subtype, HTML searched as is),
 *   base64 and quoted-printable decoded, charset iso-8859-1 / latin1 /
 *   windows-1252 converted to UTF-8 (as Latin-1), utf-8 / us-ascii / none
 *   as is, any other charset searched raw; the header of every embedded
 *   message/rfc822 (words decoded) is body text too.  Attachments of other
 *   types and parts mime marks BROKEN are not searched.  TEXT: the header
 *   (words decoded) or the body.  An empty string matches every message.
 * - BEFORE ON SINCE: the internal date's calendar day in the server's
 *   local time zone (localtime_r).  SENTBEFORE SENTON SENTSINCE: the
 *   calendar day written in the first Date: field, its time and zone
 *   ignored; a missing or unparsable Date: falls back to the internal
 *   date's day (our choice; Dovecot is understood to fall back to its
 *   received date likewise).
 * - a message's cached fields (imap_match_msg.fields, from the folder's
 *   cache): FROM TO CC BCC SUBJECT SENT* and HEADER on a field whose bit
 *   is set read them instead of loading the message; the copy is exact
 *   (imap_match_fields_make), so the answer is the same.
 * - "*" in a sequence set is box->nmsgs, in a UID set box->max_uid; a
 *   range matches both ways ("5:2" = 2:5), so "n:*" with n beyond the
 *   last matches the last message, as RFC 3501 requires.
 * - CHARSET: absent, UTF-8 or US-ASCII (any case); others are refused
 *   (IMAP_MATCH_BADCHARSET); CHARSET "" passes as absent (the parser
 *   does not tell them apart).  Search strings are taken as UTF-8, even
 *   under US-ASCII.
 * - MODSEQ n (CONDSTORE): the message's modseq >= n; an entry name is
 *   ignored (one modseq per message covers all its flags, RFC 7162
 *   3.1.5 allows that).
 */
#ifndef POSTERN_IMAP_MATCH_H
#define POSTERN_IMAP_MATCH_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "imap_parse.h"
#include "mime.h"

/* imap_match_msg.flags: the Maildir info letters' bits (the same values as
 * imap_store.h's IMAP_FLAG(letter), so a store's flag word can be copied),
 * and \Recent, which is per session, above them. */
#define IMAP_MF_LETTER(c)	(1u << ((c) - 'A'))
#define IMAP_MF_DRAFT		IMAP_MF_LETTER('D')
#define IMAP_MF_FLAGGED		IMAP_MF_LETTER('F')
#define IMAP_MF_ANSWERED	IMAP_MF_LETTER('R')
#define IMAP_MF_SEEN		IMAP_MF_LETTER('S')
#define IMAP_MF_DELETED		IMAP_MF_LETTER('T')
#define IMAP_MF_RECENT		(1u << 26)

#define IMAP_KEYWORDS_MAX	64	/* bits of imap_match_msg.keywords */

/* The selected mailbox during one SEARCH. */
struct imap_box {
	uint32_t nmsgs;			/* messages: "*" of sequence sets */
	uint32_t max_uid;		/* highest UID in use: "*" of UID sets */
	/* The folder's keyword table: name i is bit i of
	 * imap_match_msg.keywords (at most IMAP_KEYWORDS_MAX; compared
	 * case-insensitively; NULL entries are unused bits, so a store's
	 * letter table a..z can be passed as it is). */
	const char *const *keywords;
	size_t nkeywords;
};

/*
 * Loader of a message's bytes, called at most once per message and only
 * when a key needs them: *data, *len set and 0, or -1 (gone, unreadable).
 * The bytes stay the caller's (e.g. an mmap) until after
 * imap_match_release.
 */
typedef int imap_match_loader(void *arg, const char **data, size_t *len);

/* One message as the mail process sees it.  Zero it, fill the fields
 * above the line, match, then imap_match_release. */
struct imap_match_msg {
	uint32_t seq, uid;
	unsigned flags;			/* IMAP_MF_* (RECENT: \Recent) */
	uint64_t keywords;		/* bit i: box->keywords[i] set */
	time_t internal_date;
	uint64_t size;			/* RFC822.SIZE: octets sent (CRLF) */
	uint64_t modseq;		/* CONDSTORE (for the writer) */
	imap_match_loader *load;		/* NULL: no bytes (text keys fail) */
	void *load_arg;
	/* Optional: a tree of the same bytes the caller already has (it
	 * stays the caller's); else imap_match parses one when needed. */
	struct mime_part *mime;
	/* Optional: the cached copy of some header fields
	 * (imap_match_fields_make output, its mask; NULL: none). */
	const char *fields;
	size_t fields_len;
	unsigned fields_mask;
	/* ---- the matcher's cache; imap_match_release frees it ---- */
	const char *data;
	size_t len;
	size_t hdr_len;			/* the message's header: [0, hdr_len) */
	int loaded;			/* 0 not tried, 1 loaded, -1 failed */
	int own_mime;
	struct buf body;		/* folded body text */
	int body_done;
	struct buf head;		/* folded decoded header text */
	int head_done;
};

/* Free what matching cached in m (not the bytes, not a caller's tree). */
void imap_match_release(struct imap_match_msg *m);

/* What a prepared search needs of each message (imap_matcher.needs). */
#define IMAP_NEED_HEADER	0x01	/* the header bytes */
#define IMAP_NEED_BODY		0x02	/* the whole message and its tree */

/* What prepare derives for one node of the search tree. */
struct imap_sprep {
	struct buf needle;		/* folded search string */
	int kw;				/* KEYWORD bit, -1: not in the table */
	unsigned needs;			/* IMAP_NEED_* of the node's subtree */
};

/* A search prepared once per command, applied to each message. */
struct imap_matcher {
	const struct imap_cmd *cmd;	/* not owned; must outlive this */
	struct imap_box box;
	struct imap_sprep *prep;	/* cmd->nsearch of them */
	unsigned needs;			/* of the whole search */
};

enum imap_match_err {
	IMAP_MATCH_OK = 0,
	IMAP_MATCH_BADCHARSET,	/* reply NO [BADCHARSET (UTF-8 US-ASCII)] */
};

/* Prepare the SEARCH of c (c->verb SEARCH, parsed OK) against box (its
 * keyword names are copied by reference: keep them alive).  s must be
 * freed with imap_match_free whatever the result. */
enum imap_match_err imap_match_prepare(struct imap_matcher *s,
    const struct imap_cmd *c, const struct imap_box *box) WUR;
void imap_match_free(struct imap_matcher *s);

/* 1: m matches, 0: it does not, -1: its bytes were needed and could not
 * be loaded (the session treats it as not matching: expunged under us). */
int imap_match_message(struct imap_matcher *s, struct imap_match_msg *m) WUR;

/* The response text of a BADCHARSET refusal, after "tag NO ". */
#define IMAP_BADCHARSET_TEXT "[BADCHARSET (UTF-8 US-ASCII)] charset not supported"

/* ---- responses (imap_match_out.c) ----
 * ids: the matching sequence numbers or UIDs, ascending.  modseq: the
 * highest mod-sequence of the matches when the search had a MODSEQ key
 * (RFC 7162 3.1.5), 0 for none.  Both append one line with CRLF to out:
 * 0, or -1 (out's limit; out unchanged). */
int imap_match_write_search(struct buf *out, const uint32_t *ids, size_t n,
    uint64_t modseq) WUR;

/* ESEARCH RETURN options: IMAP_RET_* of imap_parse.h; none means ALL. */
int imap_match_write_esearch(struct buf *out, const char *tag, int uid,
    unsigned ret, const uint32_t *ids, size_t n, uint64_t modseq) WUR;
/* Append ids (ascending) as a compressed sequence set: "2:4,9". */
int imap_match_write_set(struct buf *out, const uint32_t *ids, size_t n) WUR;

/* ---- cached header fields (imap_match_text.c) ---- */
#define IMAP_MATCH_NFIELDS	9	/* From To Cc Bcc Subject Date Message-ID
					 * In-Reply-To References */
#define IMAP_MATCH_FIELD_MAX	4096	/* octets of one field's occurrences */
#define IMAP_MATCH_FIELDS_MAX	16384	/* octets of all of them */
#define IMAP_MATCH_FIELDS_SEEN	256	/* occurrences of all of them */
/* Bit of field name (any case) in a fields mask, or -1 if not cached. */
int imap_match_field_bit(const char *name);
/* Append to out every occurrence of the cached fields in the header of
 * message data[0..len), raw (as in the file: folded, words encoded, line
 * ends kept), field by field in the file's order; a field is left out
 * when over IMAP_MATCH_FIELD_MAX, when it would take out's length over
 * IMAP_MATCH_FIELDS_MAX, when the fields occur more than
 * IMAP_MATCH_FIELDS_SEEN times in all (the later ones' fields), or when
 * its last line has no line end.  Returns
 * the mask of fields copied (a field the message lacks counts as copied:
 * absent from the copy means absent from the file). */
unsigned imap_match_fields_make(const char *data, size_t len, struct buf *out);

/* ---- internal to imap_match*.c ---- */
/* Append the simple case folding of UTF-8 s[0..n) to out: 0 or -1. */
int imap_match_fold(const char *s, size_t n, struct buf *out) WUR;
/* The next occurrence of field name in the header h[0..hlen) from *pos
 * (start at 0): 1 with its body unfolded (line ends dropped) in v, or 0. */
int imap_match_field_next(const char *h, size_t hlen, size_t *pos, const char *name,
    struct buf *v);
/* Is the folded needle in any occurrence of header field name in the
 * header [0, hlen) (unfolded, words decoded, folded)?  1, 0; *present set
 * to whether the field occurs at all. */
int imap_match_field(const char *h, size_t hlen, const char *name,
    const struct buf *needle, int *present);
/* End of the message's own header in data[0..len) (the body's start). */
size_t imap_match_header_end(const char *data, size_t len);
/* Load m's bytes once (m->data, len, hdr_len): 0 or -1. */
int imap_match_load(struct imap_match_msg *m) WUR;
/* Fill m->head / m->body (folded text) once; 0 or -1 (not loaded). */
int imap_match_head(struct imap_match_msg *m);
int imap_match_body(struct imap_match_msg *m);
/* Parse the calendar date of an RFC 5322 date-time: 1 or 0. */
int imap_match_date(const char *s, size_t n, struct imap_date *d);
#endif
