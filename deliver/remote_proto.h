/*
 * remote_proto: the pure protocol core of the remote agent's SMTP client
 * (RFC 5321, 1870, 2034, 3030, 3461, 3463, 4954, 6152, 6531, 6533).  Used
 * by deliver/remote (issue 5).  No I/O, no globals, no allocation except
 * through the caller's struct buf: replies are (pointer, length) straight
 * from an untrusted peer; envelope strings come from the queue and are
 * re-checked (no CR, LF, NUL or other control character in a command).
 *
 * Pieces:
 * - reply parser: remote_reply_line() once per received line (each at most
 *   REMOTE_LINE_MAX octets, liberal beyond RFC 5321's 512) until it returns
 *   1; same code on every line, enhanced code (RFC 2034) taken from the
 *   first line, text of all lines joined with one SP, made printable ASCII
 *   and bounded (longer text is cut, r->truncated set).
 * - EHLO: remote_caps_line() on every line of a 250 EHLO reply (the first,
 *   the greeting, is skipped), or remote_ehlo_parse() on the whole reply.
 * - command builders: MAIL, RCPT, AUTH PLAIN/LOGIN, BDAT; parameters only
 *   when the peer offers the extension.  Each appends one line with CRLF.
 * - message encoder: remote_enc_feed()/remote_enc_finish() turn the stored
 *   message into the DATA stream (CRLF line ends, bare LF or bare CR become
 *   CRLF, dot-stuffing, CRLF.CRLF at the end) or BDAT chunks (the same
 *   without dot-stuffing and without the final dot).
 * - result mapping: a reply or a connection failure -> the deliver.sock
 *   status "sent|defer|fail X.Y.Z TEXT" (docs/queue.md).
 */
#ifndef POSTERN_REMOTE_PROTO_H
#define POSTERN_REMOTE_PROTO_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "smtp_parse.h"

#define REMOTE_LINE_MAX		4096	/* one reply line without CRLF */
#define REMOTE_REPLY_LINES	256	/* lines of one reply */
#define REMOTE_REPLY_TEXT	1000	/* kept text of one reply */
#define REMOTE_STATUS_TEXT	500	/* TEXT of a status (= SCHED_TEXT_MAX) */

/* ---- replies ------------------------------------------------------- */

enum remote_perr {
	REMOTE_P_OK = 0,
	REMOTE_P_TOOLONG,	/* line longer than REMOTE_LINE_MAX */
	REMOTE_P_NOCODE,	/* line does not start with three digits */
	REMOTE_P_RANGE,		/* code not 2xx..5xx with second digit 0..5 */
	REMOTE_P_SEP,		/* code not followed by SP, '-' or the end */
	REMOTE_P_MISMATCH,	/* a line's code differs from the first line's */
	REMOTE_P_CTRL,		/* NUL, CR or LF inside the line */
	REMOTE_P_TOOMANY,	/* more than REMOTE_REPLY_LINES lines */
	REMOTE_P_DONE,		/* a line fed after the reply was complete */
};
/* Static text for an error ("reply line too long", ...). */
const char *remote_perr_str(enum remote_perr e);

struct remote_reply {
	int code;		/* 200..559 once a line was accepted, else 0 */
	unsigned nlines;
	int done;		/* the last line ("DDD SP" or "DDD") was seen */
	int truncated;		/* text was cut at REMOTE_REPLY_TEXT */
	char enh[12];		/* "5.1.1" or "" (no, or a bad, enhanced code) */
	char text[REMOTE_REPLY_TEXT + 1];	/* printable ASCII, no code */
	size_t textlen;
};

/* Empty a reply for the next one. */
void remote_reply_init(struct remote_reply *r);
/*
 * Feed one received line; a trailing CRLF (or bare LF) is removed first.
 * Returns 1 when the reply is complete, 0 when more lines must follow, -1
 * on garbage (*err = the reason; r is then unusable, drop the connection).
 */
int remote_reply_line(struct remote_reply *r, const char *line, size_t len,
    enum remote_perr *err) WUR;

/* ---- EHLO ------------------------------------------------------------ */

#define REMOTE_EXT_PIPELINING	0x001
#define REMOTE_EXT_SIZE		0x002
#define REMOTE_EXT_8BITMIME	0x004
#define REMOTE_EXT_SMTPUTF8	0x008
#define REMOTE_EXT_DSN		0x010
#define REMOTE_EXT_CHUNKING	0x020
#define REMOTE_EXT_STARTTLS	0x040
#define REMOTE_EXT_ENHANCED	0x080	/* ENHANCEDSTATUSCODES */
#define REMOTE_EXT_AUTH		0x100
#define REMOTE_EXT_BINARYMIME	0x200

#define REMOTE_AUTH_PLAIN	0x01
#define REMOTE_AUTH_LOGIN	0x02

struct remote_caps {
	unsigned ext;		/* REMOTE_EXT_* */
	uint64_t size;		/* SIZE value; 0 = no limit stated (or unreadable) */
	unsigned auth;		/* REMOTE_AUTH_* among the AUTH mechanisms */
};

void remote_caps_init(struct remote_caps *c);
/*
 * One line of an EHLO reply ("250-PIPELINING", CRLF optional); lineno 0 is
 * the greeting and is ignored.  Keywords are case-insensitive; unknown
 * keywords and malformed lines are ignored (the peer's problem, not ours),
 * "AUTH=..." (pre-RFC 4954 form) counts like "AUTH ...".
 */
void remote_caps_line(struct remote_caps *c, unsigned lineno, const char *line,
    size_t len);
/*
 * Parse a whole EHLO response p[0..len) (lines ending in LF or CRLF): into
 * r (the reply) and, when it is a 2xx, c.  1 ok; 0 incomplete (no final
 * line); -1 garbage (*err).
 */
int remote_ehlo_parse(const char *p, size_t len, struct remote_reply *r,
    struct remote_caps *c, enum remote_perr *err) WUR;

/* ---- commands ---------------------------------------------------------- */

struct remote_mail {
	const char *sender;	/* "" for <> */
	uint64_t size;		/* message size, 0 = unknown */
	enum smtp_body body;	/* from the envelope; the agent may raise NONE
				 * or 7BIT to 8BITMIME when remote_is_8bit() */
	int smtputf8;		/* the envelope needs SMTPUTF8 */
	enum smtp_ret ret;
	const char *envid;	/* decoded, or NULL */
};

/*
 * Append "MAIL FROM:<sender> [params]\r\n".  SIZE= when offered and size
 * > 0; BODY=8BITMIME when body is 8BITMIME or BINARYMIME and 8BITMIME is
 * offered (BODY=BINARYMIME only with BINARYMIME and CHUNKING); SMTPUTF8
 * when needed and offered; RET=/ENVID= only with DSN.  0, or -1 with *err
 * (control character in a string, non-ASCII sender while SMTPUTF8 is not
 * sent, out's limit); out unchanged on -1.  An ENVID whose encoding is
 * longer than SMTP_ENVID_MAX is left out (delivery matters more).
 */
int remote_cmd_mail(const struct remote_mail *m, const struct remote_caps *c,
    struct buf *out, const char **err) WUR;
/*
 * Append "RCPT TO:<rcpt> [NOTIFY=..] [ORCPT=..]\r\n"; NOTIFY/ORCPT only
 * with DSN.  orcpt is the envelope's decoded "type;addr" (NULL = none);
 * rfc822 is xtext-encoded, utf-8 is utf-8-addr-xtext (RFC 6533).  utf8:
 * this transaction's MAIL carried SMTPUTF8 (else a non-ASCII rcpt is
 * refused).  An ORCPT that is malformed or longer than SMTP_ORCPT_MAX
 * encoded is left out.  0, or -1 with *err; out unchanged on -1.
 */
int remote_cmd_rcpt(const char *rcpt, unsigned notify, const char *orcpt,
    int utf8, const struct remote_caps *c, struct buf *out,
    const char **err) WUR;
/*
 * "AUTH PLAIN <base64(\0user\0pass)>\r\n" (empty authzid).  The caller
 * wipes out (buf_free_secret).  0, or -1 with *err (user + pass longer
 * than about 1000 octets, or out's limit).
 */
int remote_cmd_auth_plain(const char *user, const char *pass, struct buf *out,
    const char **err) WUR;
/* AUTH LOGIN: step 0 "AUTH LOGIN\r\n", step 1 base64(user), step 2
 * base64(pass), each after a 334.  0, or -1 with *err. */
int remote_cmd_auth_login(int step, const char *user, const char *pass,
    struct buf *out, const char **err) WUR;
/* "BDAT <len>[ LAST]\r\n".  0, or -1 (limit). */
int remote_cmd_bdat(uint64_t len, int last, struct buf *out) WUR;

/* ---- message encoding ---------------------------------------------- *
 * DATA: after the 354, feed the stored message in any chunks, send what
 * each call appended, then finish.  BDAT (dot 0): encode a chunk into an
 * empty out, send remote_cmd_bdat(out.len, 0) and out; for the last
 * chunk call finish too (it may add a CRLF) and send it with LAST.  A
 * BODY=BINARYMIME message is sent raw with BDAT, not through the encoder
 * (which would turn its bare CR/LF into CRLF). */

struct remote_enc {
	int dot;		/* 1: DATA (dot-stuffing, final "."); 0: BDAT */
	int bol;		/* the next octet starts a line */
	int cr;			/* the last octet fed was a CR, not yet emitted */
	int finished;
};

void remote_enc_init(struct remote_enc *e, int dot);
/*
 * Append the encoding of p[0..n) to out.  At most 2n + 2 octets are
 * appended; if out cannot take that many, -1 and nothing changes (state
 * included), so the caller flushes out and feeds the same chunk again.
 */
int remote_enc_feed(struct remote_enc *e, const char *p, size_t n,
    struct buf *out) WUR;
/* Append the end: a CRLF if the message did not end with one, then (DATA
 * only) ".\r\n".  0, or -1 (at most 5 octets did not fit; nothing changed). */
int remote_enc_finish(struct remote_enc *e, struct buf *out) WUR;
/* 1 if p[0..n) has an octet > 127 (the message needs 8BITMIME). */
int remote_is_8bit(const char *p, size_t n);

/* ---- results --------------------------------------------------------- */

enum remote_verb { REMOTE_SENT = 0, REMOTE_DEFER, REMOTE_FAIL };

enum remote_connerr {
	REMOTE_CONN_REFUSED,	/* 4.4.1 connect refused / unreachable */
	REMOTE_CONN_TIMEOUT,	/* 4.4.1 connect timed out */
	REMOTE_CONN_LOST,	/* 4.4.2 connection dropped */
	REMOTE_CONN_IDLE,	/* 4.4.2 timeout during the conversation */
	REMOTE_CONN_PROTO,	/* 4.5.0 garbage from the peer */
	REMOTE_CONN_TLS,	/* 4.7.5 TLS handshake or verification failed */
};

struct remote_result {
	enum remote_verb verb;
	char enh[12];		/* "5.1.1" */
	char text[REMOTE_STATUS_TEXT + 1];	/* printable ASCII */
};

/*
 * Map a complete reply from host[addr] to a result: 2xx sent, 4xx defer,
 * 5xx fail, anything else defer 4.5.0; the enhanced code is the reply's if
 * its class matches, else X.0.0.  Text "host H[A] said: 550 5.1.1 TEXT"
 * plus " (in reply to STAGE)" when stage != NULL; cut at
 * REMOTE_STATUS_TEXT, made printable.
 */
void remote_result_reply(const struct remote_reply *r, const char *host,
    const char *addr, const char *stage, struct remote_result *res);
/* A connection-level failure: always defer; detail (may be NULL) is e.g.
 * "Connection refused" or "while sending RCPT TO". */
void remote_result_conn(enum remote_connerr ce, const char *host,
    const char *addr, const char *detail, struct remote_result *res);
/* Append "sent|defer|fail X.Y.Z TEXT" (the deliver.sock status field).
 * 0, or -1 (limit). */
int remote_status_format(const struct remote_result *res, struct buf *out) WUR;
const char *remote_verb_name(enum remote_verb v);

/* ---- policy values (configuration and maps, trusted but checked) ---- */

enum remote_tls_level {
	REMOTE_TLS_NONE = 0,	/* never STARTTLS */
	REMOTE_TLS_MAY,		/* STARTTLS when offered (opportunistic) */
	REMOTE_TLS_ENCRYPT,	/* STARTTLS required, any certificate */
	REMOTE_TLS_VERIFY,	/* STARTTLS required, certificate verified
				 * (CA store, host name) */
};
/* "none", "may", "encrypt" or "verify" in s[0..len) (case-insensitive,
 * blanks around ignored): remote.tls or a remote.tls_policy value.  0, or
 * -1 (anything else). */
int remote_tls_level_parse(const char *s, size_t len,
    enum remote_tls_level *lv) WUR;
const char *remote_tls_level_name(enum remote_tls_level lv);

/*
 * A remote.transport value in s[0..len): "host", "host:port", "[addr]" or
 * "[addr]:port" (blanks around ignored), host a domain name or an IPv4
 * address, addr an IPv4 or IPv6 address; no port means defport.  host
 * (brackets removed) into host[hostsize], *port 1..65535.  0, or -1 with
 * *err (static).
 */
int remote_nexthop_parse(const char *s, size_t len, int defport, char *host,
    size_t hostsize, int *port, const char **err) WUR;

#define REMOTE_CRED_MAX	255	/* user name or password, octets */
/*
 * The remote.smarthost_auth file p[0..len): one line "USER PASSWORD" (one
 * or more blanks between; the password is the rest of the line and may hold
 * blanks), ending in LF, CRLF or nothing; nothing after it.  No control
 * characters, neither part empty nor longer than REMOTE_CRED_MAX.  0, or
 * -1 with *err (static; it never quotes the file).
 */
int remote_cred_parse(const char *p, size_t len, char *user, size_t usize,
    char *pass, size_t psize, const char **err) WUR;

#endif
