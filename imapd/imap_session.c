/*
 * imap_session: the command loop of one authenticated IMAP session: reading
 * commands (lines and literals), replies with back-pressure, the dispatch
 * table {verb, handler} and the untagged updates of the selected folder
 * (see imap_session.h).  Runs as the mailbox owner; the client's octets are
 * untrusted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lineio_reply.h"
#include "log.h"
#include "login.h"
#include "maildir.h"
#include "imap_cache.h"
#include "imap_session.h"
#include "util.h"
#include "xmalloc.h"

#define IMAP_BYE_MS	2000	/* best-effort wait for a last BYE line */

/* What the session offers once logged in (and answers with). */
#define IMAP_CAPS "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT " \
	"UIDPLUS MOVE CHILDREN SPECIAL-USE CONDSTORE ESEARCH LIST-EXTENDED LIST-STATUS"

/* ---- output ------------------------------------------------------------- */

/* The wait allowed for one read or write: imap.timeout, capped by what is
 * left of imap.session_timeout. */
static int
imap_timeout_ms(const struct imap *p)
{
	return timeout_left_ms((int64_t)p->cf->imap_timeout * 1000, p->deadline_ms);
}

int
imap_flush(struct imap *p)
{
	return lineio_reply_flush(&p->io, imap_timeout_ms(p), &p->closing, &p->end);
}

int
imap_maybe_flush(struct imap *p)
{
	if (p->closing)
		return -1;
	if (p->io.out.len < IMAP_OUT_FLUSH)
		return 0;
	return imap_flush(p);
}

static void
imap_overflow(struct imap *p)
{
	p->end = "output buffer full";
	p->closing = 1;
}

void
imap_out(struct imap *p, const void *data, size_t n)
{
	if (p->closing)
		return;
	if (buf_append(&p->io.out, data, n) == -1) {
		imap_overflow(p);
		return;
	}
	(void)imap_maybe_flush(p);
}

void
imap_reply(struct imap *p, const char *fmt, ...)
{
	va_list ap;
	int queued;

	va_start(ap, fmt);
	queued = lineio_reply_vline(&p->io, &p->closing, &p->end, fmt, ap);
	va_end(ap);
	if (queued)
		(void)imap_maybe_flush(p);
}

void
imap_done(struct imap *p, const char *status, const char *fmt, ...)
{
	va_list ap;
	int r;

	buf_reset(&p->tagged);
	va_start(ap, fmt);
	r = buf_printf(&p->tagged, "%s %s ", p->cmd->tag, status);
	if (r == 0)
		r = buf_vprintf(&p->tagged, fmt, ap);
	va_end(ap);
	if (r == -1 || buf_puts(&p->tagged, "\r\n") == -1)
		log_panic("tagged reply too long");
}

/* Last words before closing: an untagged BYE and pending output, waiting
 * only briefly for a client that may not read. */
static void
imap_bye(struct imap *p, const char *end, const char *text)
{
	lineio_reply_last(&p->io, &p->closing, &p->end, end, IMAP_BYE_MS, "* BYE %s", text);
}

/* A bad command: BAD with the tag when there is one, counted; too many end
 * the session. */
static void
imap_bad(struct imap *p, const char *tag, const char *text)
{
	imap_reply(p, "%s BAD %s", tag[0] != '\0' ? tag : "*", text);
	if (++p->errors >= IMAP_MAX_ERRORS) {
		log_info("user=%s client=%s: too many errors", p->user, p->client);
		(void)imap_flush(p);
		imap_bye(p, "too many errors", "Too many invalid commands");
	}
}

void
imap_store_fail(struct imap *p, enum imap_store_err e, const char *what)
{
	static const char *const codes[] = {
		[IMAP_STORE_OK] = "",
		[IMAP_STORE_BADNAME] = "[CANNOT] ",
		[IMAP_STORE_NONEXISTENT] = "[NONEXISTENT] ",
		[IMAP_STORE_EXISTS] = "[ALREADYEXISTS] ",
		[IMAP_STORE_HASCHILDREN] = "[INUSE] ",
		[IMAP_STORE_INBOX] = "[CANNOT] ",
		[IMAP_STORE_TOOBIG] = "[TOOBIG] ",
		[IMAP_STORE_LIMIT] = "[LIMIT] ",
		[IMAP_STORE_IO] = "[SERVERBUG] ",
	};
	const char *code = (unsigned)e < sizeof(codes) / sizeof(codes[0]) ?
	    codes[e] : "[SERVERBUG] ";

	if (e == IMAP_STORE_IO)
		log_warn("user=%s: %s: %s", p->user, what, strerror(errno));
	imap_done(p, "NO", "%s%s", code, imap_store_strerror(e));
}

int
imap_over_quota(struct imap *p, uint64_t add)
{
	uint64_t size;

	if (p->quota == 0)
		return 0;
	if (maildir_size(p->store.root, &size) == -1) {
		log_warn("user=%s: sizing the mailbox: %s", p->user, strerror(errno));
		imap_done(p, "NO", "[SERVERBUG] Cannot check the quota");
		return 1;
	}
	if (!maildir_over_quota(size, add, p->quota))
		return 0;
	log_info("user=%s: over quota: %llu + %llu > %llu octets", p->user,
	    (unsigned long long)size, (unsigned long long)add,
	    (unsigned long long)p->quota);
	imap_done(p, "NO", "[OVERQUOTA] Quota exceeded");
	return 1;
}

/* ---- the client's view and updates -------------------------------------- */

int
imap_put_flags(struct buf *out, const struct imap_folder *f, uint32_t sys,
    uint32_t kw, int recent)
{
	static const struct { uint32_t bit; const char *name; } sysf[] = {
		{ IMAP_F_ANSWERED, "\\Answered" }, { IMAP_F_FLAGGED, "\\Flagged" },
		{ IMAP_F_DELETED, "\\Deleted" }, { IMAP_F_SEEN, "\\Seen" },
		{ IMAP_F_DRAFT, "\\Draft" },
	};
	const char *sep = "";
	size_t i;

	if (buf_putc(out, '(') == -1)
		return -1;
	for (i = 0; i < sizeof(sysf) / sizeof(sysf[0]); i++)
		if ((sys & sysf[i].bit) != 0) {
			if (buf_printf(out, "%s%s", sep, sysf[i].name) == -1)
				return -1;
			sep = " ";
		}
	for (i = 0; i < IMAP_STORE_KEYWORDS; i++)
		if ((kw & (1u << i)) != 0 && f->keywords[i] != NULL) {
			if (buf_printf(out, "%s%s", sep, f->keywords[i]) == -1)
				return -1;
			sep = " ";
		}
	if (recent && buf_printf(out, "%s\\Recent", sep) == -1)
		return -1;
	return buf_putc(out, ')');
}

uint32_t
imap_seq_of(const struct imap *p, uint32_t uid)
{
	size_t lo = 0, hi = p->nknown;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->known[mid].uid == uid)
			return (uint32_t)mid + 1;
		if (p->known[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void
imap_known_add(struct imap *p, const struct imap_msg *m)
{
	if (p->nknown == p->known_cap) {
		p->known_cap = p->known_cap == 0 ? 64 : p->known_cap * 2;
		p->known = xreallocarray(p->known, p->known_cap, sizeof(*p->known));
	}
	p->known[p->nknown++] = (struct imap_known){ .uid = m->uid, .sys = m->sys,
	    .kw = m->kw, .modseq = m->modseq, .recent = m->recent };
}

void
imap_send_flags(struct imap *p, uint32_t seq, const struct imap_known *k, int flags,
    int uid)
{
	struct buf b = BUF_INIT(65536);
	const char *sep = "";
	int r = buf_printf(&b, "* %" PRIu32 " FETCH (", seq);

	if (r == 0 && flags) {
		r = buf_puts(&b, "FLAGS ");
		if (r == 0)
			r = imap_put_flags(&b, &p->folder, k->sys, k->kw, k->recent);
		sep = " ";
	}
	if (r == 0 && uid) {
		r = buf_printf(&b, "%sUID %" PRIu32, sep, k->uid);
		sep = " ";
	}
	if (r == 0 && p->condstore)
		r = buf_printf(&b, "%sMODSEQ (%" PRIu64 ")", sep, k->modseq);
	if (r == -1 || buf_puts(&b, ")") == -1)
		imap_overflow(p);
	else
		imap_reply(p, "%s", buf_cstr(&b));
	buf_free(&b);
}

/* Vanished messages, highest sequence number first so that the numbers
 * still to be sent stay valid. */
static void
imap_update_expunges(struct imap *p)
{
	size_t i = p->nknown, w;

	while (i-- > 0)
		if (imap_folder_find(&p->folder, p->known[i].uid) == NULL) {
			imap_reply(p, "* %zu EXPUNGE", i + 1);
			p->known[i].uid = 0;	/* no message has UID 0 */
		}
	for (i = w = 0; i < p->nknown; i++)
		if (p->known[i].uid != 0)
			p->known[w++] = p->known[i];
	p->nknown = w;
}

void
imap_update(struct imap *p, int expunges)
{
	const struct imap_folder *f = &p->folder;
	uint32_t maxuid = p->nknown > 0 ? p->known[p->nknown - 1].uid : 0, recent = 0;
	enum imap_store_err e;
	size_t i, before;

	if (p->state != IMAP_STATE_SELECTED || p->closing)
		return;
	if ((e = imap_folder_sync(&p->folder)) != IMAP_STORE_OK) {
		log_warn("user=%s: sync %s: %s", p->user, f->name,
		    e == IMAP_STORE_IO ? strerror(errno) : imap_store_strerror(e));
		return;
	}
	if (f->uidvalidity != p->uidvalidity) {
		/* the folder's UID list was rebuilt: none of the client's
		 * sequence numbers or UIDs mean anything any more */
		log_warn("user=%s: %s: UIDVALIDITY changed during the session", p->user,
		    f->name);
		imap_bye(p, "uidvalidity changed", "Mailbox was rebuilt; please reconnect");
		return;
	}
	if (expunges)
		imap_update_expunges(p);
	before = p->nknown;
	for (i = 0; i < p->nknown; i++) {
		struct imap_known *k = &p->known[i];
		const struct imap_msg *m = imap_folder_find(f, k->uid);

		if (m == NULL || (m->sys == k->sys && m->kw == k->kw &&
		    m->recent == k->recent))
			continue;
		k->sys = m->sys;
		k->kw = m->kw;
		k->modseq = m->modseq;
		k->recent = m->recent;
		imap_send_flags(p, (uint32_t)i + 1, k, 1, 0);
	}
	for (i = 0; i < f->n; i++)
		if (f->msgs[i].uid > maxuid)
			imap_known_add(p, &f->msgs[i]);
	for (i = 0; i < p->nknown; i++)
		recent += p->known[i].recent;
	if (p->nknown != before)
		imap_reply(p, "* %zu EXISTS", p->nknown);
	if (p->nknown != before || recent != p->recent_sent) {
		imap_reply(p, "* %" PRIu32 " RECENT", recent);
		p->recent_sent = recent;
	}
}

/* Start the client's view of a just opened folder. */
static void
imap_known_reset(struct imap *p)
{
	p->nknown = 0;
	p->recent_sent = 0;
	for (size_t i = 0; i < p->folder.n; i++) {
		imap_known_add(p, &p->folder.msgs[i]);
		p->recent_sent += p->folder.msgs[i].recent;
	}
}

void
imap_session_drop_cache(struct imap *p)
{
	if (p->cache != NULL)
		imap_cache_close(p->cache);
	p->cache = NULL;
}

void
imap_deselect(struct imap *p)
{
	if (p->state != IMAP_STATE_SELECTED)
		return;
	imap_session_drop_cache(p);
	imap_folder_close(&p->folder);
	memset(&p->folder, 0, sizeof(p->folder));
	p->nknown = 0;
	p->recent_sent = 0;
	p->state = IMAP_STATE_AUTH;
}

int
imap_open_folder(struct imap *p, const char *name, int readonly)
{
	enum imap_store_err e;

	imap_deselect(p);
	if ((e = imap_folder_open(&p->store, name, readonly, &p->folder)) !=
	    IMAP_STORE_OK) {
		memset(&p->folder, 0, sizeof(p->folder));
		imap_store_fail(p, e, name);
		return -1;
	}
	p->state = IMAP_STATE_SELECTED;
	p->uidvalidity = p->folder.uidvalidity;
	imap_known_reset(p);
	return 0;
}

int
imap_set_uids(struct imap *p, struct imap_set set, int uid, uint32_t **uids,
    size_t *n)
{
	const struct imap_range *r = &p->cmd->ranges[set.first];
	uint32_t star = uid ? (p->nknown > 0 ? p->known[p->nknown - 1].uid : 0) :
	    (uint32_t)p->nknown;
	size_t i, k, cnt = 0;
	uint32_t *v;

	*uids = NULL;
	*n = 0;
	if (p->nknown == 0)
		return uid ? 0 : -1;	/* no sequence number is valid */
	v = xreallocarray(NULL, p->nknown, sizeof(*v));
	for (i = 0; i < p->nknown; i++) {
		uint32_t id = uid ? p->known[i].uid : (uint32_t)i + 1;

		for (k = 0; k < set.n; k++) {
			uint32_t lo = r[k].lo == IMAP_STAR ? star : r[k].lo;
			uint32_t hi = r[k].hi == IMAP_STAR ? star : r[k].hi;

			if (lo > hi) {
				uint32_t t = lo;

				lo = hi;
				hi = t;
			}
			if (id >= lo && id <= hi)
				break;
		}
		if (k < set.n)
			v[cnt++] = p->known[i].uid;
	}
	if (!uid && cnt == 0) {
		free(v);
		return -1;	/* a sequence number beyond the mailbox */
	}
	*uids = v;
	*n = cnt;
	return 0;
}

/* ---- commands without a mailbox --------------------------------------- */

static void
imap_cmd_capability(struct imap *p)
{
	imap_reply(p, "* CAPABILITY " IMAP_CAPS);
	imap_done(p, "OK", "CAPABILITY completed");
}

static void
imap_cmd_noop(struct imap *p)
{
	imap_done(p, "OK", "%s completed", imap_verb_name(p->cmd->verb));
}

static void
imap_cmd_logout(struct imap *p)
{
	imap_reply(p, "* BYE Logging out");
	imap_done(p, "OK", "LOGOUT completed");
	p->end = "logout";	/* imap_dispatch closes after the answer */
}

static void
imap_cmd_authenticated(struct imap *p)
{
	imap_done(p, "BAD", "Already logged in");
}

static void
imap_cmd_starttls(struct imap *p)
{
	imap_done(p, "BAD", "TLS is negotiated before login");
}

static void
imap_cmd_namespace(struct imap *p)
{
	imap_reply(p, "* NAMESPACE ((\"\" \".\")) NIL NIL");
	imap_done(p, "OK", "NAMESPACE completed");
}

static void
imap_cmd_id(struct imap *p)
{
	imap_reply(p, "* ID (\"name\" \"postern\")");
	imap_done(p, "OK", "ID completed");
}

/* ENABLE (RFC 5161): CONDSTORE is the one extension that needs it;
 * others are ignored, as the RFC asks. */
static void
imap_cmd_enable(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	int was = p->condstore;

	for (size_t i = 0; i < c->nstrs; i++)
		if (strcasecmp(imap_str(c, c->strs[i]), "CONDSTORE") == 0)
			p->condstore = 1;
	imap_reply(p, "* ENABLED%s", p->condstore && !was ? " CONDSTORE" : "");
	imap_done(p, "OK", "ENABLE completed");
}

/* The handler of each verb the parser knows (all of them). */
static void (*const imap_commands[IMAP_V_COUNT])(struct imap *) = {
	[IMAP_V_CAPABILITY] = imap_cmd_capability,
	[IMAP_V_NOOP] = imap_cmd_noop,
	[IMAP_V_CHECK] = imap_cmd_noop,
	[IMAP_V_LOGOUT] = imap_cmd_logout,
	[IMAP_V_STARTTLS] = imap_cmd_starttls,
	[IMAP_V_LOGIN] = imap_cmd_authenticated,
	[IMAP_V_AUTHENTICATE] = imap_cmd_authenticated,
	[IMAP_V_NAMESPACE] = imap_cmd_namespace,
	[IMAP_V_ID] = imap_cmd_id,
	[IMAP_V_ENABLE] = imap_cmd_enable,
	[IMAP_V_SELECT] = imap_cmd_select,
	[IMAP_V_EXAMINE] = imap_cmd_select,
	[IMAP_V_CREATE] = imap_cmd_create,
	[IMAP_V_DELETE] = imap_cmd_delete,
	[IMAP_V_RENAME] = imap_cmd_rename,
	[IMAP_V_SUBSCRIBE] = imap_cmd_subscribe,
	[IMAP_V_UNSUBSCRIBE] = imap_cmd_subscribe,
	[IMAP_V_LIST] = imap_cmd_list,
	[IMAP_V_LSUB] = imap_cmd_list,
	[IMAP_V_STATUS] = imap_cmd_status,
	[IMAP_V_APPEND] = imap_cmd_append,
	[IMAP_V_CLOSE] = imap_cmd_close,
	[IMAP_V_UNSELECT] = imap_cmd_close,
	[IMAP_V_EXPUNGE] = imap_cmd_expunge,
	[IMAP_V_SEARCH] = imap_cmd_search,
	[IMAP_V_FETCH] = imap_cmd_fetch,
	[IMAP_V_STORE] = imap_cmd_store,
	[IMAP_V_COPY] = imap_cmd_copy,
	[IMAP_V_MOVE] = imap_cmd_copy,
	[IMAP_V_IDLE] = imap_cmd_idle,
};

/* May EXPUNGE responses go out after this command (RFC 3501 7.4.1)? */
static int
imap_expunges_allowed(const struct imap_cmd *c)
{
	if (c->uid)
		return 1;
	return c->verb != IMAP_V_FETCH && c->verb != IMAP_V_STORE &&
	    c->verb != IMAP_V_SEARCH;
}

/* Parse and run the command in p->cmdbuf. */
static void
imap_dispatch(struct imap *p)
{
	struct imap_cmd *c = p->cmd;
	enum imap_err e = imap_cmd_parse(p->cmdbuf.data, p->cmdbuf.len, c);

	buf_reset(&p->tagged);
	if (e != IMAP_E_OK) {
		imap_bad(p, c->tag, imap_err_str(e));
		goto out;
	}
	if (!imap_state_allows(p->state, c->verb) && c->verb != IMAP_V_LOGIN &&
	    c->verb != IMAP_V_AUTHENTICATE && c->verb != IMAP_V_STARTTLS) {
		imap_bad(p, c->tag, p->state == IMAP_STATE_SELECTED ?
		    "Command not valid with a mailbox selected" :
		    "No mailbox selected");
		goto out;
	}
	if ((unsigned)c->verb >= IMAP_V_COUNT || imap_commands[c->verb] == NULL)
		log_panic("no handler for %s", imap_verb_name(c->verb));
	imap_commands[c->verb](p);
	if (p->tagged.len > 0 && c->verb != IMAP_V_LOGOUT)
		imap_update(p, imap_expunges_allowed(c));
	if (p->tagged.len > 0)
		imap_out(p, p->tagged.data, p->tagged.len);
	if (c->verb == IMAP_V_LOGOUT)
		p->closing = 1;
out:
	imap_cmd_free(c);
}

/* ---- reading commands --------------------------------------------------- */

void
imap_read_failed(struct imap *p, int r)
{
	if (r == LINEIO_TIMEOUT && now_ms() >= p->deadline_ms)
		imap_bye(p, "session time limit", "Session time limit exceeded");
	else if (r == LINEIO_TIMEOUT)
		imap_bye(p, "timeout", "Autologout; idle for too long");
	else
		p->end = r == LINEIO_EOF ? "connection closed" : "read error";
	p->closing = 1;
}

int
imap_read_line(struct imap *p)
{
	int r;

	if (p->closing)
		return -1;
	if (!lineio_has_line(&p->io) && imap_flush(p) == -1)
		return -1;
	if (now_ms() >= p->deadline_ms) {
		imap_read_failed(p, LINEIO_TIMEOUT);
		return -1;
	}
	p->io.timeout_ms = imap_timeout_ms(p);
	if ((r = lineio_reply_read(&p->io, &p->line, IMAP_LINE_MAX)) == LINEIO_TOOLONG) {
		imap_bad(p, "", imap_err_str(IMAP_E_TOOLONG));
		return 0;
	}
	if (r != LINEIO_OK) {
		imap_read_failed(p, r);
		return -1;
	}
	return 1;
}

/* The tag at the start of the command being read, for a BAD/NO before it
 * could be parsed ("" if none is valid yet). */
static void
imap_partial_tag(const struct buf *b, char *tag, size_t size)
{
	const char *sp = memchr(b->data, ' ', b->len);
	size_t n = sp != NULL ? (size_t)(sp - b->data) : 0;

	tag[0] = '\0';
	if (n > 0 && n < size && login_tag_valid(b->data, n)) {
		memcpy(tag, b->data, n);
		tag[n] = '\0';
	}
}

/* Read the n octets of a literal into the command. */
static int
imap_read_literal(struct imap *p, uint32_t n)
{
	char chunk[16384];

	while (n > 0) {
		long r;

		p->io.timeout_ms = imap_timeout_ms(p);
		r = lineio_read(&p->io, chunk, n < sizeof(chunk) ? n : sizeof(chunk));
		if (r <= 0) {
			imap_read_failed(p, r == 0 ? LINEIO_EOF : (int)r);
			return -1;
		}
		if (buf_append(&p->cmdbuf, chunk, (size_t)r) == -1)
			log_panic("literal over the reader's limit");
		n -= (uint32_t)r;
	}
	return 0;
}

/* A literal the reader refused (too big, too many). */
static int
imap_literal_refused(struct imap *p, const struct imap_reader *r, enum imap_err e)
{
	char tag[IMAP_TAG_MAX + 1];

	imap_partial_tag(&p->cmdbuf, tag, sizeof(tag));
	if (!r->lit_sync) {
		/* RFC 7888 4: the octets are coming; we will not read them */
		imap_bye(p, "literal too big", "[TOOBIG] Literal too big");
		return -1;
	}
	if (e == IMAP_E_TOOBIG && tag[0] != '\0')
		imap_reply(p, "%s NO [TOOBIG] %s", tag, imap_err_str(e));
	else
		imap_bad(p, tag, imap_err_str(e));
	return 0;
}

/* A command the reader refused (too long, malformed literal): BAD, and
 * its next line is taken as a new command -- unless the line announced a
 * non-synchronising literal, whose octets are on their way: then it
 * cannot be known where the next command starts, and the session ends. */
static int
imap_command_refused(struct imap *p, enum imap_err e)
{
	char tag[IMAP_TAG_MAX + 1];

	imap_partial_tag(&p->cmdbuf, tag, sizeof(tag));
	if (p->line.len > 1 && memcmp(p->line.data + p->line.len - 2, "+}", 2) == 0) {
		imap_reply(p, "%s BAD %s", tag[0] != '\0' ? tag : "*", imap_err_str(e));
		imap_bye(p, "bad literal", "Cannot resynchronise after a bad literal");
		return -1;
	}
	imap_bad(p, tag, imap_err_str(e));
	return 0;
}

/* Read one whole command into p->cmdbuf.  1 read, 0 refused (answered),
 * -1 closing. */
static int
imap_read_command(struct imap *p)
{
	struct imap_reader rd;
	enum imap_rstat st;
	enum imap_err e;
	int r;

	buf_reset(&p->cmdbuf);
	imap_reader_init(&rd, IMAP_CMD_MAX + p->cf->message_size, p->cf->message_size);
	for (;;) {
		if ((r = imap_read_line(p)) != 1)
			return r;
		st = imap_reader_line(&rd, p->line.data, p->line.len, &e);
		if (buf_append(&p->cmdbuf, p->line.data, p->line.len) == -1)
			log_panic("command over the reader's limit");
		if (st == IMAP_R_DONE)
			return 1;
		if (st == IMAP_R_ERROR) {
			if (e == IMAP_E_TOOBIG || e == IMAP_E_LIMIT)
				return imap_literal_refused(p, &rd, e);
			return imap_command_refused(p, e);
		}
		if (buf_puts(&p->cmdbuf, "\r\n") == -1)
			log_panic("command over the reader's limit");
		if (rd.lit_sync) {
			imap_reply(p, "+ Ready for literal data");
			if (imap_flush(p) == -1)
				return -1;
		}
		if (imap_read_literal(p, rd.lit_len) == -1)
			return -1;
	}
}

/* ---- the session -------------------------------------------------------- */

void
imap_session_init(struct imap *p, const struct config *cf, const char *user,
    const char *client)
{
	memset(p, 0, sizeof(*p));
	p->cf = cf;
	p->user = user;
	p->client = client;
	lineio_init(&p->io, 0, 0);
	buf_init(&p->line, IMAP_LINE_MAX);
	buf_init(&p->cmdbuf, IMAP_CMD_MAX + cf->message_size + 2);
	buf_init(&p->tagged, 4096);
	p->cmd = xcalloc(1, sizeof(*p->cmd));
	p->state = IMAP_STATE_AUTH;
	p->deadline_ms = now_ms() + (int64_t)cf->imap_session_timeout * 1000;
	p->end = "unknown";
}

int
imap_session_run(struct imap *p, const char *root, const char *tag,
    const void *input, size_t inlen)
{
	enum imap_store_err e;
	int r;

	if (lineio_preload(&p->io, input, inlen) == -1) {
		log_warn("user=%s: %zu octets of pipelined input", p->user, inlen);
		imap_reply(p, "%s NO [UNAVAILABLE] Internal error", tag);
		imap_bye(p, "bad input", "Internal error");
		return 1;
	}
	if (imap_store_init(&p->store, root, p->cf->hostname) == -1 ||
	    (e = imap_store_login(&p->store)) != IMAP_STORE_OK) {
		log_warn("user=%s: opening the mailbox: %s", p->user, strerror(errno));
		imap_reply(p, "%s NO [UNAVAILABLE] Cannot open the mailbox", tag);
		imap_bye(p, "no mailbox", "Try again later");
		return 1;
	}
	log_info("user=%s client=%s logged in", p->user, p->client);
	imap_reply(p, "%s OK [CAPABILITY " IMAP_CAPS "] Logged in", tag);
	while ((r = imap_read_command(p)) != -1)
		if (r == 1)
			imap_dispatch(p);
	(void)imap_flush(p);
	log_info("user=%s client=%s end=%s", p->user, p->client, p->end);
	return 0;
}

void
imap_session_free(struct imap *p)
{
	imap_deselect(p);
	imap_store_free(&p->store);
	free(p->known);
	p->known = NULL;
	imap_cmd_free(p->cmd);
	free(p->cmd);
	lineio_free(&p->io);
	buf_free(&p->line);
	buf_free_secret(&p->cmdbuf);
	buf_free(&p->tagged);
}
