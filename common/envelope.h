/*
 * envelope: the queue's per-message envelope and its on-disk/IPC text form.
 * Written by queue (from what smtpd/sendmail send) and read back by queue
 * from disk; envelope_parse() trusts nothing and re-validates every field.
 */
#ifndef POSTERN_ENVELOPE_H
#define POSTERN_ENVELOPE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "smtp_parse.h"

#define ENVELOPE_VERSION	1
#define ENVELOPE_ID_MAX		64	/* [A-Za-z0-9_.-], not starting with '.' */
#define ENVELOPE_RCPT_MAX	100000
#define ENVELOPE_TEXT_MAX	1000	/* status text, helo, auth identity */
#define ENVELOPE_SIZE_MAX	(64u * 1024 * 1024)	/* serialized form */

enum envelope_state {
	ENV_RCPT_PENDING = 0, ENV_RCPT_SENT, ENV_RCPT_FAILED, ENV_RCPT_DEFERRED
};

struct envelope_rcpt {
	char *addr;		/* mailbox as smtp_mailbox_parse accepts it */
	char *orcpt;		/* "type;original-address" or NULL */
	unsigned notify;	/* SMTP_NOTIFY_* bits, 0 = not given */
	enum envelope_state state;
	unsigned attempts;	/* <= 1000000 */
	int64_t next_attempt;	/* unix time, 0 = now */
	char *status;		/* last status text or NULL */
};

/* What a message is, for bounce handling: a bounce that fails goes to the
 * postmaster as a double bounce; a double bounce that fails is dropped. */
enum envelope_kind {
	ENV_KIND_MAIL = 0, ENV_KIND_BOUNCE, ENV_KIND_DOUBLE_BOUNCE
};

struct envelope {
	char id[ENVELOPE_ID_MAX + 1];
	int64_t arrival;	/* unix time, >= 0 */
	char *sender;		/* "" for the null sender; never NULL once set */
	char *envid;		/* ENVID (decoded) or NULL */
	enum smtp_ret ret;
	enum smtp_body body;
	int smtputf8;		/* addresses may hold UTF-8 */
	char *client_addr;	/* "192.0.2.1", "2001:db8::1", "local"; or NULL */
	char *client_helo;	/* or NULL */
	char *auth_id;		/* authenticated identity or NULL */
	char *protocol;		/* "ESMTPSA", "SMTP", "local", ... or NULL */
	enum envelope_kind kind;	/* "kind bounce|double-bounce"; absent = mail */
	int hold;		/* "hold 1": on hold, not scheduled (postern queue hold) */
	int warned;		/* "warned 1": the delay warning was sent */
	struct envelope_rcpt *rcpt;
	size_t nrcpt, rcpt_cap;
};

/* Zero an envelope (all strings NULL, no recipients). */
void envelope_init(struct envelope *e);
/* Free every string and the recipient array; e is left initialised. */
void envelope_free(struct envelope *e);
/* Set a string field: *field = copy of s (NULL allowed), old value freed. */
void envelope_set(char **field, const char *s);
/* Add a recipient (state pending, attempts 0); strings are copied, orcpt may
 * be NULL.  Returns the new recipient (owned by e). */
struct envelope_rcpt *envelope_add_rcpt(struct envelope *e, const char *addr,
    const char *orcpt, unsigned notify);
/* 1 valid, 0 invalid with *err set to a static reason. */
int envelope_check(const struct envelope *e, const char **err) WUR;
/* Append the text form to out.  0, or -1 (envelope fails envelope_check,
 * or out's limit); out may be partly written on -1. */
int envelope_serialize(const struct envelope *e, struct buf *out) WUR;
/* Parse the text form p[0..len) into e (initialised or previously parsed;
 * old contents are freed).  0 ok; -1 invalid, *err (if err != NULL) a static
 * reason, e left empty.  Runs envelope_check on the result. */
int envelope_parse(const char *p, size_t len, struct envelope *e,
    const char **err) WUR;
const char *envelope_state_name(enum envelope_state s);
#endif
