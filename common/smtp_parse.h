/*
 * smtp_parse: pure parsers for the SMTP server side (RFC 5321, 1870, 3030,
 * 3461, 4954, 6152, 6531).  Used by smtpd (and the queue to re-validate
 * addresses).  Trusts nothing: every input is (pointer, length) straight
 * from the network; results are fixed-size structs, no allocation, no I/O.
 */
#ifndef POSTERN_SMTP_PARSE_H
#define POSTERN_SMTP_PARSE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Limits from RFC 5321 4.5.3.1 and RFC 3461. */
#define SMTP_LOCAL_MAX	64	/* octets of a local part */
#define SMTP_DOMAIN_MAX	255	/* octets of a domain */
#define SMTP_LABEL_MAX	63
#define SMTP_PATH_MAX	256	/* octets of "<...>" including brackets */
#define SMTP_ADDR_MAX	254	/* local@domain (= path minus the brackets) */
#define SMTP_CMD_MAX	998	/* command line without its CRLF; longer: TOOLONG */
#define SMTP_ENVID_MAX	100	/* ENVID= value, encoded (RFC 3461 4.4) */
#define SMTP_ORCPT_MAX	500	/* ORCPT= value, encoded (RFC 3461 4.2) */
#define SMTP_MECH_MAX	20	/* SASL mechanism name */

/*
 * Result of every parser.  SMTP_P_OK is 0; anything else is an error and
 * smtp_perr_code()/smtp_perr_enhanced() give the reply to send.
 */
enum smtp_perr {
	SMTP_P_OK = 0,
	SMTP_P_UNKNOWN,		/* 500 5.5.1 unrecognised command */
	SMTP_P_TOOLONG,		/* 500 5.5.2 line too long */
	SMTP_P_SYNTAX,		/* 501 5.5.4 syntax error in arguments */
	SMTP_P_BADADDR,		/* 553 5.1.3 (5.1.7 for MAIL) bad address syntax */
	SMTP_P_PARAM,		/* 555 5.5.4 parameter unknown or not supported */
	SMTP_P_PARAMVAL,	/* 501 5.5.4 parameter value invalid */
	SMTP_P_UTF8,		/* 553 5.6.7 non-ASCII address without SMTPUTF8 */
};

/* The numeric reply code (500, 501, 553, 555) for an error. */
int smtp_perr_code(enum smtp_perr e);
/* The enhanced status code text ("5.5.4"); mail is 1 for MAIL (5.1.7). */
const char *smtp_perr_enhanced(enum smtp_perr e, int mail);

/* ---- command line -------------------------------------------------- */

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,	/* includes EXPN, TURN, ETRN, ... */
	SMTP_VERB_EHLO, SMTP_VERB_HELO, SMTP_VERB_MAIL, SMTP_VERB_RCPT,
	SMTP_VERB_DATA, SMTP_VERB_BDAT, SMTP_VERB_RSET, SMTP_VERB_NOOP,
	SMTP_VERB_QUIT, SMTP_VERB_VRFY, SMTP_VERB_HELP, SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_COUNT
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;	/* points into the input line; trailing SP removed */
	size_t arglen;		/* 0 if no argument */
};

/*
 * Split one command line (WITHOUT its CRLF) into verb and argument.
 * Trailing SP/HTAB is ignored; the verb is matched case-insensitively and
 * must be followed by SP or the end.  Errors: TOOLONG (len > SMTP_CMD_MAX),
 * SYNTAX (NUL, CR or LF anywhere in the line, verb then UNKNOWN; or an
 * argument given to DATA/RSET/QUIT/STARTTLS), UNKNOWN (verb not in the
 * table; cmd->verb = SMTP_VERB_UNKNOWN).  cmd is always filled.
 */
enum smtp_perr smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd);
/* Upper-case name of a verb ("MAIL"); "UNKNOWN" for SMTP_VERB_UNKNOWN. */
const char *smtp_verb_name(enum smtp_verb v);

/* ---- mailboxes ----------------------------------------------------- */

/* smtp_addr.flags */
#define SMTP_ADDR_QUOTED	0x001	/* local part needs (and has) quotes */
#define SMTP_ADDR_PERCENT	0x002	/* '%' in the local part (relay hack) */
#define SMTP_ADDR_BANG		0x004	/* '!' in the local part (UUCP path) */
#define SMTP_ADDR_AT		0x008	/* '@' inside a quoted local part */
#define SMTP_ADDR_UTF8		0x010	/* non-ASCII octets anywhere */
#define SMTP_ADDR_LITERAL	0x020	/* domain is an address literal */
#define SMTP_ADDR_ROUTE		0x040	/* a source route was given and dropped */
/* Any of these: refuse for non-local (relayed) recipients. */
#define SMTP_ADDR_RELAYTRICK	(SMTP_ADDR_PERCENT | SMTP_ADDR_BANG | SMTP_ADDR_AT | \
				 SMTP_ADDR_ROUTE)

/* Parser options (flags arguments). */
#define SMTP_PARSE_UTF8		0x01	/* allow RFC 6531 UTF-8 in addresses */

struct smtp_addr {
	/* Normalized local part: a quoted-string whose content is a legal
	 * dot-string is unquoted; otherwise canonically quoted (only '"' and
	 * '\\' escaped) with SMTP_ADDR_QUOTED set.  Case is preserved. */
	char local[SMTP_LOCAL_MAX + 1];
	/* Domain with ASCII letters lower-cased; address literals in
	 * canonical form "[192.0.2.1]" / "[IPv6:2001:db8::1]".  Empty only for
	 * the RCPT <postmaster> special case. */
	char domain[SMTP_DOMAIN_MAX + 1];
	/* local "@" domain (or just "postmaster"); "" for the null path. */
	char addr[SMTP_ADDR_MAX + 1];
	unsigned flags;		/* SMTP_ADDR_* */
};

/*
 * Parse a bare mailbox (no angle brackets, no route): local-part "@" domain.
 * flags: SMTP_PARSE_UTF8.  Returns OK, BADADDR or UTF8.
 */
enum smtp_perr smtp_mailbox_parse(const char *p, size_t len, unsigned flags,
    struct smtp_addr *a);
/*
 * Parse a path "<[@route,@route:]mailbox>" as a whole (p..p+len is exactly
 * the path).  allow_null: "<>" is accepted (a->addr = "").  A route is
 * checked for syntax, dropped, and reported with SMTP_ADDR_ROUTE.
 */
enum smtp_perr smtp_path_parse(const char *p, size_t len, unsigned flags,
    int allow_null, struct smtp_addr *a);
/* Domain (dot-separated LDH labels, or a U-label with SMTP_PARSE_UTF8) or
 * address literal; writes the normalized form into out[SMTP_DOMAIN_MAX+1]
 * and sets *literal.  Returns OK or BADADDR (UTF8 for non-ASCII without the
 * flag). */
enum smtp_perr smtp_domain_parse(const char *p, size_t len, unsigned flags,
    char *out, int *literal);

/* Length (2..4) of the well-formed, non-overlong UTF-8 sequence starting a
 * p[0..n), excluding surrogates and code points past U+10FFFF; 0 if none. */
size_t smtp_utf8_seq(const char *p, size_t n);
/* 1 if p[0..n) is entirely well-formed UTF-8 (ASCII included), else 0. */
int smtp_utf8_valid(const char *p, size_t n);
/* 1 if p[0..n) is well-formed UTF-8 without control characters (C0, DEL):
 * text fit for a log line or a protocol field, else 0. */
int smtp_text_valid(const char *p, size_t n);

/* ---- MAIL / RCPT ----------------------------------------------------- */

/* Extensions the server offers in this session (ext argument): a parameter
 * whose extension is not offered is SMTP_P_PARAM (555). */
#define SMTP_EXT_SIZE		0x01
#define SMTP_EXT_8BITMIME	0x02
#define SMTP_EXT_SMTPUTF8	0x04
#define SMTP_EXT_DSN		0x08
#define SMTP_EXT_AUTH		0x10
#define SMTP_EXT_CHUNKING	0x20	/* also needed for BODY=BINARYMIME */
#define SMTP_EXT_ALL		0x3f

enum smtp_body { SMTP_BODY_NONE = 0, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME };
enum smtp_ret { SMTP_RET_NONE = 0, SMTP_RET_FULL, SMTP_RET_HDRS };

/* NOTIFY= bits; 0 means the parameter was not given. */
#define SMTP_NOTIFY_NEVER	0x01
#define SMTP_NOTIFY_SUCCESS	0x02
#define SMTP_NOTIFY_FAILURE	0x04
#define SMTP_NOTIFY_DELAY	0x08

struct smtp_mail {
	struct smtp_addr from;	/* from.addr == "" for the null sender <> */
	int null_sender;
	int has_size;
	uint64_t size;		/* SIZE= value, if has_size */
	enum smtp_body body;
	int smtputf8;		/* SMTPUTF8 given */
	enum smtp_ret ret;
	int has_envid;
	char envid[SMTP_ENVID_MAX + 1];	/* xtext-decoded, printable ASCII */
	int has_auth;		/* AUTH= given (RFC 4954 5) */
	int auth_null;		/* AUTH=<> */
	char auth[SMTP_ADDR_MAX + 1];	/* xtext-decoded AUTH= mailbox */
};

struct smtp_rcpt {
	struct smtp_addr to;
	int postmaster;		/* bare <postmaster> (to.addr "postmaster") */
	unsigned notify;	/* SMTP_NOTIFY_* bits; 0 = not given */
	int has_orcpt;
	/* ORCPT= decoded: addr-type lower-cased ("rfc822", "utf-8") and the
	 * original address (no control characters; UTF-8 only for utf-8). */
	char orcpt_type[32];
	char orcpt[SMTP_ORCPT_MAX + 1];
};

/*
 * arg is the MAIL argument from smtp_cmd_parse: "FROM:<path> [params]"
 * (one optional SP after the colon is tolerated).  ext: SMTP_EXT_* offered.
 * Errors: SYNTAX (501), BADADDR/UTF8 (553), PARAM (555), PARAMVAL (501).
 * UTF-8 in the path is allowed only if SMTPUTF8 is among the parameters.
 */
enum smtp_perr smtp_mail_parse(const char *arg, size_t len, unsigned ext,
    struct smtp_mail *m);
/*
 * arg is "TO:<path> [params]".  flags: SMTP_PARSE_UTF8 when the
 * transaction's MAIL carried SMTPUTF8.  "<>" is BADADDR; "<postmaster>"
 * (any case, no domain) is accepted with rcpt->postmaster set.
 */
enum smtp_perr smtp_rcpt_parse(const char *arg, size_t len, unsigned ext,
    unsigned flags, struct smtp_rcpt *r);

/*
 * Decode RFC 3461 xtext ("+XX" hex escapes, chars 33..126 except '+' '=')
 * into out[outsize] (NUL-terminated).  Returns OK or PARAMVAL (bad syntax,
 * decoded control character or NUL, or too long).
 */
enum smtp_perr smtp_xtext_decode(const char *p, size_t len, char *out,
    size_t outsize);
/* Append the xtext encoding of s[0..len) to out; 0 or -1 (buffer limit). */
int smtp_xtext_encode(const char *s, size_t len, struct buf *out) WUR;

/* ---- EHLO / HELO, AUTH, BDAT --------------------------------------- */

struct smtp_helo {
	char name[SMTP_DOMAIN_MAX + 1];	/* normalized domain or literal */
	int literal;
};
/* The EHLO/HELO argument: a domain or an address literal.  OK or SYNTAX. */
enum smtp_perr smtp_helo_parse(const char *arg, size_t len, struct smtp_helo *h);

struct smtp_auth {
	char mech[SMTP_MECH_MAX + 1];	/* upper-cased mechanism name */
	int has_initial;	/* an initial response was given */
	const char *initial;	/* into arg; base64 text, not yet decoded */
	size_t initial_len;	/* 0 for "=" (empty initial response) */
};
/* "MECH [initial-response]".  OK or SYNTAX (bad name, not base64 chars). */
enum smtp_perr smtp_auth_parse(const char *arg, size_t len, struct smtp_auth *a);

/* "chunk-size [LAST]" (RFC 3030).  OK or SYNTAX. */
enum smtp_perr smtp_bdat_parse(const char *arg, size_t len, uint64_t *size,
    int *last);

/* ---- DATA lines ---------------------------------------------------- */

/* Flags returned by smtp_data_line(). */
#define SMTP_LINE_CRLF		0x01	/* ends with CR LF */
#define SMTP_LINE_BARE_LF	0x02	/* an LF not preceded by CR */
#define SMTP_LINE_BARE_CR	0x04	/* a CR not followed by LF */
#define SMTP_LINE_NO_EOL	0x08	/* no terminator at all */
#define SMTP_LINE_NUL		0x10	/* contains NUL */
#define SMTP_LINE_LF_INSIDE	0x20	/* an LF before the last octet */
#define SMTP_LINE_END		0x40	/* the end-of-data line ".\r\n" */
#define SMTP_LINE_STUFFED	0x80	/* begins with '.', unstuff before storing */
/* Refuse the message (smuggling defence) if any of these is set. */
#define SMTP_LINE_BAD	(SMTP_LINE_BARE_LF | SMTP_LINE_BARE_CR | SMTP_LINE_NO_EOL | \
			 SMTP_LINE_LF_INSIDE)

/*
 * Classify one received DATA line (bytes including the terminator, as a
 * line reader splitting at LF returns it).  after_crlf: the previous line
 * ended with a proper CRLF (1 for the first line after DATA); END is only
 * reported when it is set, so <LF>.<CR><LF> never ends DATA.
 */
unsigned smtp_data_line(const char *line, size_t len, int after_crlf);
/* Remove dot-stuffing: the span of line to store (skips one leading '.'). */
void smtp_data_unstuff(const char *line, size_t len, const char **out,
    size_t *outlen);

#endif
