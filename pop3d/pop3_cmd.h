/*
 * pop3_cmd: the pure POP3 command parser (RFC 1939, 2449, 2595, 5034).
 * Used by pop3-login (AUTHORIZATION state) and the pop3 mail process
 * (TRANSACTION state); the PLAIN response of AUTH is decoded by
 * login_sasl_plain (common/login.h).  Trusts nothing: input is (pointer,
 * length) straight from the network; results go into a fixed-size struct
 * of NUL-terminated copies.  No I/O, no globals, no allocation.
 */
#ifndef POSTERN_POP3_CMD_H
#define POSTERN_POP3_CMD_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* RFC 2449 4: a command line is at most 255 octets INCLUDING its CRLF, so
 * the line handed to pop3_cmd_parse (CRLF stripped) is at most 253. */
#define POP3_CMD_MAX	253
#define POP3_MECH_MAX	20		/* RFC 4422 3.1: SASL mechanism name */
#define POP3_NUM_MAX	2147483647u	/* 2^31-1: largest number accepted */
#define POP3_SASL_MAX	4096		/* AUTH initial response; = LOGIN_SASL_MAX */

enum pop3_verb {
	POP3_VERB_UNKNOWN = 0,	/* includes APOP, XTND, ... */
	POP3_VERB_USER, POP3_VERB_PASS, POP3_VERB_AUTH, POP3_VERB_CAPA,
	POP3_VERB_STLS, POP3_VERB_QUIT, POP3_VERB_STAT, POP3_VERB_LIST,
	POP3_VERB_RETR, POP3_VERB_DELE, POP3_VERB_NOOP, POP3_VERB_RSET,
	POP3_VERB_TOP, POP3_VERB_UIDL,
	POP3_VERB_COUNT
};

/* Result of pop3_cmd_parse; pop3_err_str() gives the -ERR text. */
enum pop3_err {
	POP3_E_OK = 0,
	POP3_E_UNKNOWN,		/* keyword not known */
	POP3_E_MISSING,		/* a required argument is missing */
	POP3_E_TOOMANY,		/* more arguments than the command takes */
	POP3_E_NUMBER,		/* not a decimal in range */
	POP3_E_TOOLONG,		/* len > POP3_CMD_MAX */
	POP3_E_CTRL,		/* NUL, CR, LF, HTAB or other control octet */
	POP3_E_BADARG,		/* malformed argument (SASL mechanism name) */
	POP3_E_COUNT
};

/* The two states that accept commands (RFC 1939 3); UPDATE takes none. */
enum pop3_state {
	POP3_STATE_AUTHORIZATION,
	POP3_STATE_TRANSACTION,
};

struct pop3_cmd {
	enum pop3_verb verb;
	/* RETR, DELE, TOP (always), LIST and UIDL (if given): 1..2^31-1. */
	int has_num;
	uint32_t num;
	/* TOP: the line count, 0..2^31-1. */
	uint32_t lines;
	/* USER: the name; PASS: the password verbatim; AUTH: the mechanism,
	 * upper-cased ("" for a bare AUTH).  NUL-terminated, arglen octets. */
	char arg[POP3_CMD_MAX + 1];
	size_t arglen;
	/* AUTH with a SASL-IR initial response (RFC 5034 4): the base64 text
	 * as sent, "" when the client sent "=" (an empty response). */
	int has_ir;
	char ir[POP3_CMD_MAX + 1];
	size_t irlen;
};

/*
 * Parse one command line WITHOUT its CRLF.  The keyword is matched
 * case-insensitively and must be followed by SP or the end.  Every octet
 * below 0x20 and 0x7f is refused (POP3_E_CTRL); 8-bit octets are allowed
 * in USER and PASS (UTF-8 names and passwords).
 *
 * Separators: runs of SP between arguments and trailing SP are tolerated
 * (old clients are sloppy; a space cannot smuggle anything), except for
 * PASS, whose argument is everything after the single SP following the
 * keyword, spaces included (RFC 1939 7, PASS: "a POP3 server may treat
 * spaces in the argument as part of the password").  USER takes the rest of the line
 * with leading and trailing SP removed.  Numbers are decimal digits only
 * (no sign, no '+'); leading zeros are accepted ("007" is 7: RFC 1939
 * does not forbid them) and never change the value's range check.
 * "AUTH" with no mechanism is accepted: the de-facto mechanism listing
 * request (RFC 5034 itself always has a mechanism; the server decides).
 *
 * out is always filled (verb set as far as known, zeroed otherwise); it
 * may hold a password: wipe it with pop3_cmd_wipe() when done.
 */
enum pop3_err pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *out) WUR;
/* Human text for an error, for "-ERR <text>"; never NULL. */
const char *pop3_err_str(enum pop3_err e);
/* Upper-case name of a verb ("RETR"); "UNKNOWN" otherwise. */
const char *pop3_verb_name(enum pop3_verb v);
/* 1 if verb may be used in state (RFC 1939 4-6, RFC 2449 5, RFC 2595 4). */
int pop3_state_allows(enum pop3_state state, enum pop3_verb verb);
/* Wipe a parsed command (it may hold a password). */
void pop3_cmd_wipe(struct pop3_cmd *c);
#endif
