/*
 * imap_parse: the pure IMAP4rev1 command parser (RFC 3501 section 9, with
 * LITERAL+ 7888, SASL-IR 4959, IDLE, ENABLE, ID, NAMESPACE, UNSELECT, MOVE,
 * UIDPLUS UID EXPUNGE, CONDSTORE 7162, ESEARCH 4731, LIST-EXTENDED 5258,
 * LIST-STATUS 5819, SPECIAL-USE 6154 LIST options).  Used by imap-login
 * and imap.  Trusts nothing: input is (pointer, length) straight from the
 * network; no I/O, no globals; every list has a fixed cap and the only
 * allocation is one string arena bounded by the input length.
 * Implemented by imap_parse.c (commands, the reader) with imap_token.c,
 * imap_fetch.c and imap_search.c (internal API in imap_token.h); a program
 * using it links all four.
 */
#ifndef POSTERN_IMAP_PARSE_H
#define POSTERN_IMAP_PARSE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Syntax accepted (RFC 3501 section 9, strictly unless said here):
 * - exactly one SP between tokens and none at the end; keywords (command
 *   names, FETCH/STORE/STATUS items, search keys, NIL) in any case;
 * - atoms and tags are 7-bit; quoted strings take "\\" and "\"" escapes
 *   only, and 8-bit octets (UTF-8 from clients that avoid literals), never
 *   NUL, CR or LF; literals {n} and {n+} (LITERAL+) are accepted wherever
 *   a string is, any octet but NUL (CHAR8); literal8 ~{n} is not;
 * - numbers < 2^32; nz-numbers without a leading zero; "*" in a sequence
 *   set is IMAP_STAR; ranges are kept as sent ("*:3" is *, 3);
 * - the mailbox name INBOX in any case is returned as "INBOX"; other names
 *   are returned as sent (modified UTF-7 is decoded by imap_mutf7.h);
 * - dates are checked against the calendar (29-Feb only in leap years);
 * - mod-sequences (RFC 7162) are 1*DIGIT in 1..2^63-1 (mod-sequence-value)
 *   or 0..2^63-1 (mod-sequence-valzer), leading zeros allowed as the ABNF
 *   does; out of range is IMAP_E_NUMBER;
 * - modifier, parameter and option lists (RFC 4466 SELECT parameters,
 *   FETCH/STORE modifiers, LIST selection/return options, SEARCH RETURN)
 *   take only the names listed below, each at most once where a value
 *   follows it; an unknown name is an error (RFC 5258 3, 4466 2.1).
 */
#define IMAP_TAG_MAX		64	/* octets of a tag */
#define IMAP_DEPTH_MAX		16	/* nested parentheses / search depth */
#define IMAP_RANGES_MAX		1024	/* ranges of all sequence sets */
#define IMAP_FETCH_MAX		64	/* FETCH attributes */
#define IMAP_FLAGS_MAX		64	/* flags of STORE / APPEND */
#define IMAP_STRS_MAX		128	/* header field names, ENABLE, ID */
#define IMAP_SEARCH_MAX		256	/* search-key nodes */
#define IMAP_PART_MAX		16	/* section part numbers: 1.2.3... */
#define IMAP_LITERALS_MAX	32	/* literals in one command */
#define IMAP_STAR		0	/* "*" in a sequence set (never a nz-number) */

/* Error kinds; imap_err_str() gives the text after "BAD". */
enum imap_err {
	IMAP_E_OK = 0,
	IMAP_E_TAG,		/* missing or invalid tag: reply "* BAD" */
	IMAP_E_UNKNOWN,		/* command name not known */
	IMAP_E_SYNTAX,		/* octet out of place */
	IMAP_E_MISSING,		/* a required argument is missing */
	IMAP_E_TRAILING,	/* more after the last argument */
	IMAP_E_NUMBER,		/* not a number in range */
	IMAP_E_SEQSET,		/* malformed sequence set */
	IMAP_E_STRING,		/* malformed atom / quoted string / octet */
	IMAP_E_LITERAL,		/* malformed literal */
	IMAP_E_TOOBIG,		/* literal over the caller's limit */
	IMAP_E_TOOLONG,		/* command over the caller's limit */
	IMAP_E_DEPTH,		/* nesting deeper than IMAP_DEPTH_MAX */
	IMAP_E_LIMIT,		/* more items than a fixed cap allows */
	IMAP_E_MAILBOX,		/* invalid mailbox name */
	IMAP_E_FETCH,		/* unknown FETCH attribute */
	IMAP_E_SECTION,		/* malformed BODY[section]<partial> */
	IMAP_E_FLAG,		/* malformed flag or flag list */
	IMAP_E_STORE,		/* unknown STORE item */
	IMAP_E_SEARCH,		/* unknown or malformed search key */
	IMAP_E_DATE,		/* malformed date or date-time */
	IMAP_E_STATUS,		/* unknown STATUS item */
	IMAP_E_AUTH,		/* bad SASL mechanism or initial response */
	IMAP_E_PARAM,		/* SELECT parameter / FETCH or STORE modifier
				 * unknown, repeated or malformed */
	IMAP_E_LIST,		/* LIST selection or return option unknown,
				 * repeated STATUS, or RECURSIVEMATCH alone */
	IMAP_E_RETURN,		/* SEARCH RETURN option unknown or malformed;
				 * SAVE (RFC 5182) is refused too */
	IMAP_E_COUNT
};

enum imap_verb {
	IMAP_V_UNKNOWN = 0,
	IMAP_V_CAPABILITY, IMAP_V_NOOP, IMAP_V_LOGOUT, IMAP_V_STARTTLS,
	IMAP_V_AUTHENTICATE, IMAP_V_LOGIN, IMAP_V_SELECT, IMAP_V_EXAMINE,
	IMAP_V_CREATE, IMAP_V_DELETE, IMAP_V_RENAME, IMAP_V_SUBSCRIBE,
	IMAP_V_UNSUBSCRIBE, IMAP_V_LIST, IMAP_V_LSUB, IMAP_V_STATUS,
	IMAP_V_APPEND, IMAP_V_CHECK, IMAP_V_CLOSE, IMAP_V_EXPUNGE,
	IMAP_V_SEARCH, IMAP_V_FETCH, IMAP_V_STORE, IMAP_V_COPY, IMAP_V_MOVE,
	IMAP_V_IDLE, IMAP_V_ENABLE, IMAP_V_ID, IMAP_V_NAMESPACE,
	IMAP_V_UNSELECT,
	IMAP_V_COUNT
};

/* The states that take commands (RFC 3501 3); Logout takes none. */
enum imap_state {
	IMAP_STATE_NOTAUTH,
	IMAP_STATE_AUTH,
	IMAP_STATE_SELECTED,
};

/* A string decoded into the command's arena: arena.data + off, len octets,
 * NUL-terminated and NUL-free (quoted strings and literals refuse NUL). */
struct imap_str {
	size_t off, len;
	int nil;		/* NIL where nstring is allowed */
};

struct imap_range {
	uint32_t lo, hi;	/* as sent ("5:2" is 5, 2); IMAP_STAR = "*"; lo == hi: one */
};

/* A sequence set: ranges [first, first + n) of cmd->ranges. */
struct imap_set {
	uint16_t first, n;
};

enum imap_fatt {
	IMAP_F_FLAGS, IMAP_F_INTERNALDATE, IMAP_F_RFC822_SIZE, IMAP_F_ENVELOPE,
	IMAP_F_BODY, IMAP_F_BODYSTRUCTURE, IMAP_F_UID, IMAP_F_RFC822,
	IMAP_F_RFC822_HEADER, IMAP_F_RFC822_TEXT,
	IMAP_F_BODY_SECTION,	/* BODY[...] / BODY.PEEK[...] */
	IMAP_F_MODSEQ,		/* MODSEQ (RFC 7162 3.1.4) */
};

enum imap_spec {
	IMAP_S_ALL,		/* BODY[] or BODY[1.2]: the whole part */
	IMAP_S_HEADER, IMAP_S_HEADER_FIELDS, IMAP_S_HEADER_FIELDS_NOT,
	IMAP_S_TEXT, IMAP_S_MIME,
};

struct imap_fetch {
	enum imap_fatt att;
	int peek;			/* BODY.PEEK */
	uint32_t part[IMAP_PART_MAX];	/* section-part, each >= 1 */
	uint8_t nparts;
	enum imap_spec spec;
	uint16_t field_first, nfields;	/* HEADER.FIELDS: cmd->strs */
	int partial;			/* <off.len> given */
	uint32_t poff, plen;		/* plen >= 1 */
};

enum imap_store_op { IMAP_STORE_SET, IMAP_STORE_ADD, IMAP_STORE_DEL };

enum imap_skey {
	IMAP_K_AND,		/* parenthesised list / the top level */
	IMAP_K_OR, IMAP_K_NOT,
	IMAP_K_ALL, IMAP_K_ANSWERED, IMAP_K_DELETED, IMAP_K_DRAFT,
	IMAP_K_FLAGGED, IMAP_K_NEW, IMAP_K_OLD, IMAP_K_RECENT, IMAP_K_SEEN,
	IMAP_K_UNANSWERED, IMAP_K_UNDELETED, IMAP_K_UNDRAFT,
	IMAP_K_UNFLAGGED, IMAP_K_UNSEEN,
	/* str */
	IMAP_K_BCC, IMAP_K_BODY, IMAP_K_CC, IMAP_K_FROM, IMAP_K_SUBJECT,
	IMAP_K_TEXT, IMAP_K_TO, IMAP_K_KEYWORD, IMAP_K_UNKEYWORD,
	IMAP_K_HEADER,		/* field in str, value in str2 */
	/* date */
	IMAP_K_BEFORE, IMAP_K_ON, IMAP_K_SINCE, IMAP_K_SENTBEFORE,
	IMAP_K_SENTON, IMAP_K_SENTSINCE,
	/* number */
	IMAP_K_LARGER, IMAP_K_SMALLER,
	/* set */
	IMAP_K_SEQSET, IMAP_K_UID,
	/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162
	 * 3.1.5): modseq, entry name in str, type in entry */
	IMAP_K_MODSEQ,
	IMAP_K_COUNT
};

struct imap_date {
	uint16_t year;		/* 1..9999 */
	uint8_t mon, day;	/* 1..12, 1..31 (checked against the month) */
};

/* The entry-type-req of a MODSEQ search key (RFC 7162 3.1.5). */
enum imap_entry { IMAP_ENTRY_NONE, IMAP_ENTRY_PRIV, IMAP_ENTRY_SHARED, IMAP_ENTRY_ALL };

/* A search node; children are linked through child/next (-1: none).
 * AND: all children; OR: exactly two; NOT: exactly one. */
struct imap_snode {
	enum imap_skey key;
	int16_t child, next;
	struct imap_str str, str2;
	struct imap_date date;
	uint32_t num;
	struct imap_set set;
	uint64_t modseq;	/* MODSEQ: 0..2^63-1 */
	/* MODSEQ: the entry-type-req when an entry name was given (str: a
	 * quoted string, "/flags/" (any case) then a flag, decoded: the
	 * wire's "/flags/\\draft" is /flags/\draft);
	 * IMAP_ENTRY_NONE and str unset otherwise.  May be ignored. */
	enum imap_entry entry;
};

#define IMAP_STATUS_MESSAGES	0x01
#define IMAP_STATUS_RECENT	0x02
#define IMAP_STATUS_UIDNEXT	0x04
#define IMAP_STATUS_UIDVALIDITY	0x08
#define IMAP_STATUS_UNSEEN	0x10
#define IMAP_STATUS_HIGHESTMODSEQ 0x20	/* RFC 7162 3.1.2.3 */

/* ESEARCH RETURN options (RFC 4731 3), bits of imap_cmd.search_ret. */
#define IMAP_RET_MIN	0x01
#define IMAP_RET_MAX	0x02
#define IMAP_RET_ALL	0x04
#define IMAP_RET_COUNT	0x08

/* LIST selection options (RFC 5258 3.1, 6154 5.1), imap_cmd.list_select */
#define IMAP_LSEL_SUBSCRIBED	 0x01
#define IMAP_LSEL_REMOTE	 0x02
#define IMAP_LSEL_RECURSIVEMATCH 0x04	/* only with SUBSCRIBED/SPECIAL-USE */
#define IMAP_LSEL_SPECIAL_USE	 0x08
/* LIST return options (RFC 5258 3.2, 5819, 6154 5.2), imap_cmd.list_return */
#define IMAP_LRET_SUBSCRIBED	0x01
#define IMAP_LRET_CHILDREN	0x02
#define IMAP_LRET_SPECIAL_USE	0x04
#define IMAP_LRET_STATUS	0x08	/* items in imap_cmd.status */

/* One parsed command.  It is large (about 40 KB, the fixed arrays): a
 * session allocates one and reuses it. */
struct imap_cmd {
	char tag[IMAP_TAG_MAX + 1];
	enum imap_verb verb;
	int uid;			/* UID FETCH/SEARCH/STORE/COPY/MOVE/EXPUNGE */
	struct buf arena;		/* decoded strings; freed by imap_cmd_free */
	/* a: LOGIN user, AUTHENTICATE mechanism (upper-cased), the mailbox
	 * of SELECT EXAMINE CREATE DELETE SUBSCRIBE UNSUBSCRIBE STATUS
	 * APPEND, RENAME's source, LIST/LSUB's reference.
	 * b: LOGIN password, AUTHENTICATE initial response (base64 as sent),
	 * RENAME's target, COPY/MOVE's target, LIST/LSUB's pattern (LIST:
	 * the first of strs, see list_extended below). */
	struct imap_str a, b;
	int has_ir;			/* AUTHENTICATE: IR given ("=": empty) */
	struct imap_set set;		/* FETCH/STORE/COPY/MOVE/UID EXPUNGE */
	/* FETCH */
	struct imap_fetch fetch[IMAP_FETCH_MAX];
	size_t nfetch;
	/* STORE, APPEND flags */
	enum imap_store_op store_op;
	int silent;
	struct imap_str flags[IMAP_FLAGS_MAX];
	size_t nflags;
	int has_flags;			/* APPEND: flag list given */
	/* APPEND date-time */
	int has_date;
	struct imap_date date;
	uint8_t hour, min, sec;
	int zone;			/* minutes east of UTC */
	size_t msg_off, msg_len;	/* APPEND literal: cmd[msg_off..+msg_len) */
	/* STATUS items (IMAP_STATUS_*); also LIST ... RETURN (STATUS (...)) */
	unsigned status;
	/* SEARCH: root is node 0 (AND) */
	struct imap_str charset;
	struct imap_snode search[IMAP_SEARCH_MAX];
	size_t nsearch;
	/* ENABLE capabilities, ID field/value pairs (value nil: NIL),
	 * HEADER.FIELDS names, LIST patterns */
	struct imap_str strs[IMAP_STRS_MAX];
	size_t nstrs;
	int id_nil;			/* ID NIL */
	struct imap_range ranges[IMAP_RANGES_MAX];
	size_t nranges;

	/* ---- extensions; all 0 unless the syntax was sent ---- */
	/* SELECT/EXAMINE mailbox (CONDSTORE) (RFC 7162 3.1.8) */
	int condstore;
	/* FETCH / UID FETCH ... (CHANGEDSINCE n) (RFC 7162 3.1.4.1):
	 * has_changedsince set, changedsince 1..2^63-1.  The server must
	 * then also return MODSEQ (not added to fetch[]).  QRESYNC's
	 * VANISHED modifier is refused (IMAP_E_PARAM). */
	int has_changedsince;
	uint64_t changedsince;
	/* STORE / UID STORE set (UNCHANGEDSINCE n) ... (RFC 7162 3.1.3):
	 * has_unchangedsince set, unchangedsince 0..2^63-1 (0 is a real
	 * condition that every message fails: test has_unchangedsince) */
	int has_unchangedsince;
	uint64_t unchangedsince;
	/* SEARCH / UID SEARCH RETURN (...) (RFC 4731): has_return set and
	 * search_ret the IMAP_RET_* bits given; "RETURN ()" is IMAP_RET_ALL.
	 * Without RETURN both are 0 (a plain SEARCH response). */
	int has_return;
	unsigned search_ret;
	/* LIST (not LSUB) in the extended form of RFC 5258: list_extended is
	 * set when selection options (even "()"), a parenthesised pattern
	 * list or RETURN (even "()") was given.  Every pattern, the single
	 * one of the basic form included, is in strs[0..nstrs) (b is
	 * strs[0]); a is the reference as before.  list_select: the
	 * IMAP_LSEL_* bits; list_return: the IMAP_LRET_* bits, with the
	 * STATUS items of IMAP_LRET_STATUS (RFC 5819) in status. */
	int list_extended;
	unsigned list_select, list_return;
};

/*
 * The incremental reader: the caller feeds one line at a time WITHOUT its
 * CRLF.  IMAP_R_LITERAL means the line ended with a literal announcement
 * (outside any quoted string): lit_len octets follow; if lit_sync the
 * caller must first send "+ ...".  The caller appends to its command
 * buffer the line, then "\r\n" and the literal octets, then the next line,
 * and so on; at IMAP_R_DONE the buffer is one whole command for
 * imap_cmd_parse.  Each line counts len + 2 towards cmd_max, each literal
 * its size; a literal also may not exceed lit_max, and a command may have
 * IMAP_LITERALS_MAX of them.
 * IMAP_R_ERROR: *err says why (TOOLONG, TOOBIG, LITERAL, LIMIT).  For
 * TOOBIG and LIMIT lit_len and lit_sync are set: a synchronising literal
 * was not sent yet (reply BAD and go on); a non-synchronising one comes
 * anyway, so the caller must read and drop lit_len octets (or hang up).
 * After TOOLONG or LITERAL the caller cannot know where the next command
 * starts: reply BAD and hang up, or skip to the next line.
 */
enum imap_rstat { IMAP_R_ERROR = -1, IMAP_R_DONE = 0, IMAP_R_LITERAL = 1 };

struct imap_reader {
	size_t total;		/* octets of the command so far */
	size_t cmd_max;		/* limit of the whole command */
	size_t lit_max;		/* limit of one literal */
	uint32_t lit_len;
	int lit_sync;
	unsigned nlit;
};

void imap_reader_init(struct imap_reader *r, size_t cmd_max, size_t lit_max);
enum imap_rstat imap_reader_line(struct imap_reader *r, const char *line, size_t len,
    enum imap_err *err) WUR;

/*
 * Parse one whole command as assembled above (CRLF after each literal
 * announcement, no final CRLF).  out is always initialised: call
 * imap_cmd_free(out) afterwards whatever the result.  On an error only
 * tag (set as soon as it is valid, "" for IMAP_E_TAG), verb and uid are
 * meaningful, so the BAD reply can carry the tag.  The continuation lines
 * of AUTHENTICATE and IDLE's "DONE" are not commands: the caller reads
 * them itself.
 */
enum imap_err imap_cmd_parse(const char *cmd, size_t len, struct imap_cmd *out) WUR;
/* Free out's arena (wiped: it may hold a password). */
void imap_cmd_free(struct imap_cmd *c);
/* The NUL-terminated text of a string of c (valid until imap_cmd_free). */
const char *imap_str(const struct imap_cmd *c, struct imap_str s);
const char *imap_err_str(enum imap_err e);
/* Upper-case name of a verb ("FETCH"); "UNKNOWN" otherwise. */
const char *imap_verb_name(enum imap_verb v);
/* 1 if verb may be used in state (RFC 3501 6, 5161 3.1 for ENABLE: only
 * before a mailbox is selected, 2177 IDLE, 3691 UNSELECT, 6851 MOVE). */
int imap_state_allows(enum imap_state state, enum imap_verb verb);

#endif
