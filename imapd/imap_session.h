/*
 * imap_session: the authenticated IMAP session of the imap mail process
 * (RFC 3501 authenticated and selected states, with the extensions listed
 * in IMAP_CAPS).  Runs as the mailbox owner, chrooted in the Maildir;
 * every byte read from fd 0 comes from the client and is untrusted.  The
 * identity is master's and auth's, never the client's.
 *
 * imap_session.c: command reading (lines and literals), replies with
 * back-pressure, dispatch, the untagged updates; imap_mailbox.c: the
 * commands on mailboxes; imap_message.c: the commands on messages;
 * imap_idle.c: IDLE.
 */
#ifndef POSTERN_IMAP_SESSION_H
#define POSTERN_IMAP_SESSION_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "imap_parse.h"
#include "imap_store.h"
#include "lineio.h"

struct imap_cache;

#define IMAP_LINE_MAX	65536	/* one line of a command, CRLF included */
#define IMAP_CMD_MAX	(1u << 20)	/* a command without APPEND's message */
#define IMAP_MAX_ERRORS	20	/* bad commands per session, then BYE */
#define IMAP_OUT_FLUSH	65536	/* pending output written out beyond this */

/* What the client knows of one message of the selected mailbox: its
 * sequence number is its index + 1.  Changes reach the client only at the
 * points RFC 3501 7.4.1 allows, so this view can lag the store's. */
struct imap_known {
	uint32_t uid;
	uint32_t sys;		/* IMAP_F_* as last sent */
	uint32_t kw;
	uint64_t modseq;
	unsigned recent : 1;
};

struct imap {
	const struct config *cf;
	const char *user;		/* from auth, for the log */
	const char *client;		/* from master, for the log */
	struct lineio io;		/* the client: fd 0 (fd 1 is the same socket) */
	struct buf line;		/* one line being read */
	struct buf cmdbuf;		/* the whole command: lines and literals */
	struct buf tagged;		/* the command's completion, sent after
					   the updates (imap_done) */
	struct imap_cmd *cmd;		/* the parsed command (large: allocated) */
	enum imap_state state;		/* AUTH or SELECTED */
	struct imap_store store;
	struct imap_folder folder;	/* when SELECTED */
	struct imap_cache *cache;	/* its FETCH cache, opened when first needed */
	struct imap_known *known;	/* the client's view of the folder */
	size_t nknown, known_cap;
	uint32_t recent_sent;		/* RECENT last reported */
	uint32_t uidvalidity;		/* of the folder when it was selected */
	int condstore;			/* enabled (ENABLE, or a CONDSTORE command) */
	uint64_t quota;			/* octets, from mailboxes.cdb; 0: none */
	int64_t deadline_ms;		/* imap.session_timeout */
	unsigned errors;		/* bad commands so far */
	int closing;			/* end the session after this command */
	const char *end;		/* why it ended, for the log */
};

/* ---- imap_session.c ---- */
void imap_session_init(struct imap *p, const struct config *cf, const char *user,
    const char *client);
/* Open the store at root, answer the authenticating command (tag), run
 * input (inlen octets the login process read past it) and then the
 * client's commands until LOGOUT or the end.  The exit status for main. */
int imap_session_run(struct imap *p, const char *root, const char *tag,
    const void *input, size_t inlen);
void imap_session_free(struct imap *p);

/* Queue an untagged or continuation line (CRLF added). */
void imap_reply(struct imap *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Queue raw octets of a response being built (no CRLF added). */
void imap_out(struct imap *p, const void *data, size_t n);
/* Queue the tagged completion "TAG OK|NO|BAD text" of the command. */
void imap_done(struct imap *p, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Write pending output once over IMAP_OUT_FLUSH octets: 0, -1 closing. */
int imap_maybe_flush(struct imap *p);
int imap_flush(struct imap *p);
/* Report changes of the selected folder (RFC 3501 7.4.1): new messages
 * (EXISTS, RECENT), flag changes (FETCH) and, when expunges may be sent,
 * vanished messages (EXPUNGE, highest first). */
void imap_update(struct imap *p, int expunges);
/* "* seq FETCH ([FLAGS (...)] [UID u] [MODSEQ (m)])" of what the client
 * now knows of a message: FLAGS if flags, UID if uid, MODSEQ once
 * CONDSTORE is enabled (RFC 7162 3.1.4.1). */
void imap_send_flags(struct imap *p, uint32_t seq, const struct imap_known *k, int flags,
    int uid);
/* The flag list of m in the folder: "\Seen $Label1 \Recent". */
int imap_put_flags(struct buf *out, const struct imap_folder *f, uint32_t sys,
    uint32_t kw, int recent) WUR;
/* A read ended with r (a LINEIO_* code): end the session, with BYE for a
 * timeout (the session time limit, or imap.timeout of silence). */
void imap_read_failed(struct imap *p, int r);
/* One line into p->line without its line end (pending output is written
 * first unless a whole line is waiting).  1, 0 (too long: skipped and
 * answered BAD), -1 (closing: timeout, EOF). */
int imap_read_line(struct imap *p) WUR;
/* APPEND's and STORE's flag list as system bits and keyword names (kw has
 * room for IMAP_FLAGS_MAX).  0, or -1 after a tagged BAD. */
int imap_flags_arg(struct imap *p, uint32_t *sys, const char **kw, size_t *nkw) WUR;
/* 1 if adding add octets would take the Maildir over the user's quota
 * (then NO [OVERQUOTA] is queued), else 0. */
int imap_over_quota(struct imap *p, uint64_t add);
/* A store error as the tagged NO (with the RFC 5530 code). */
void imap_store_fail(struct imap *p, enum imap_store_err e, const char *what);
/* Select name (readonly: EXAMINE), after leaving any selected folder;
 * 0, or -1 with the tagged NO queued. */
int imap_open_folder(struct imap *p, const char *name, int readonly) WUR;
/* Close the folder's FETCH cache (it is reopened when needed): its
 * memory is not kept while the session only waits. */
void imap_session_drop_cache(struct imap *p);
/* Leave the selected state (CLOSE, UNSELECT, SELECT of another). */
void imap_deselect(struct imap *p);
/* The uids of the client's view named by set (seq or uid numbers), in
 * ascending order, into *uids (malloc'd, *n of them; NULL when none). */
int imap_set_uids(struct imap *p, struct imap_set set, int uid, uint32_t **uids,
    size_t *n) WUR;
/* The sequence number of uid in the client's view, 0 if not there. */
uint32_t imap_seq_of(const struct imap *p, uint32_t uid);

/* ---- imap_mailbox.c ---- */
void imap_cmd_select(struct imap *p);	/* SELECT and EXAMINE */
void imap_cmd_create(struct imap *p);
void imap_cmd_delete(struct imap *p);
void imap_cmd_rename(struct imap *p);
void imap_cmd_subscribe(struct imap *p);	/* and UNSUBSCRIBE */
void imap_cmd_list(struct imap *p);	/* LIST and LSUB */
void imap_cmd_status(struct imap *p);
void imap_cmd_append(struct imap *p);
void imap_cmd_close(struct imap *p);	/* CLOSE and UNSELECT */

/* ---- imap_message.c ---- */
void imap_cmd_fetch(struct imap *p);
void imap_cmd_store(struct imap *p);
void imap_cmd_search(struct imap *p);
void imap_cmd_copy(struct imap *p);	/* COPY and MOVE */
void imap_cmd_expunge(struct imap *p);

/* ---- imap_idle.c ---- */
void imap_cmd_idle(struct imap *p);
#endif
