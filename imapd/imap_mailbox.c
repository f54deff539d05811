/*
 * imap_mailbox: the IMAP commands on mailboxes (RFC 3501 6.3, UNSELECT
 * 3691, SPECIAL-USE 6154, UIDPLUS APPENDUID 4315) over imap_store.  The
 * names come from the client: the store validates every one of them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_render.h"
#include "imap_session.h"
#include "log.h"
#include "maildir.h"
#include "xmalloc.h"

/* The client's name for the folder being selected, deleted or renamed
 * compared with the selected one, both canonical. */
static int
imap_is_selected(const struct imap *p, const char *name)
{
	char canon[MAILDIR_FOLDER_MAX + 8], dir[MAILDIR_FOLDER_MAX + 8];
	size_t n;

	if (p->state != IMAP_STATE_SELECTED ||
	    !imap_store_name(name, strlen(name), canon, dir, sizeof(canon)))
		return 0;
	if (strcmp(canon, p->folder.name) == 0)
		return 1;
	n = strlen(canon);	/* a parent of the selected folder */
	return strncmp(canon, p->folder.name, n) == 0 &&
	    p->folder.name[n] == IMAP_STORE_DELIM;
}

/* ---- SELECT, EXAMINE, CLOSE, UNSELECT ----------------------------------- */

static void
imap_reply_buf(struct imap *p, struct buf *b)
{
	if (b->len == b->max)
		log_panic("response too long");
	imap_reply(p, "%s", buf_cstr(b));
	buf_reset(b);
}

/* "(\Answered ... kw...)" of the folder: every flag it can hold. */
static int
imap_put_all_flags(struct buf *b, const struct imap_folder *f, int star)
{
	int r = buf_puts(b, "(\\Answered \\Flagged \\Deleted \\Seen \\Draft");

	for (size_t i = 0; r == 0 && i < IMAP_STORE_KEYWORDS; i++)
		if (f->keywords[i] != NULL)
			r = buf_printf(b, " %s", f->keywords[i]);
	if (r == 0 && star)
		r = buf_puts(b, " \\*");
	return r == 0 ? buf_putc(b, ')') : -1;
}

void
imap_cmd_select(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	int ro = c->verb == IMAP_V_EXAMINE;
	struct buf b = BUF_INIT(8192);
	uint32_t unseen = 0;

	if (imap_open_folder(p, imap_str(c, c->a), ro) == -1)
		return;
	if (c->condstore)
		p->condstore = 1;
	if (buf_puts(&b, "* FLAGS ") == -1 || imap_put_all_flags(&b, &p->folder, 0) == -1)
		log_panic("flags too long");
	imap_reply_buf(p, &b);
	if (ro)
		imap_reply(p, "* OK [PERMANENTFLAGS ()] Read-only mailbox");
	else {
		if (buf_puts(&b, "* OK [PERMANENTFLAGS ") == -1 ||
		    imap_put_all_flags(&b, &p->folder, 1) == -1 ||
		    buf_puts(&b, "] Flags permitted") == -1)
			log_panic("flags too long");
		imap_reply_buf(p, &b);
	}
	imap_reply(p, "* %zu EXISTS", p->nknown);
	imap_reply(p, "* %" PRIu32 " RECENT", p->recent_sent);
	for (size_t i = 0; i < p->nknown && unseen == 0; i++)
		if ((p->known[i].sys & IMAP_F_SEEN) == 0)
			unseen = (uint32_t)i + 1;
	if (unseen != 0)
		imap_reply(p, "* OK [UNSEEN %" PRIu32 "] First unseen", unseen);
	imap_reply(p, "* OK [UIDVALIDITY %" PRIu32 "] UIDs valid", p->folder.uidvalidity);
	imap_reply(p, "* OK [UIDNEXT %" PRIu32 "] Predicted next UID", p->folder.uidnext);
	/* RFC 7162 3.1.2.1: every SELECT of a mailbox with mod-sequences */
	imap_reply(p, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest", p->folder.highestmodseq);
	buf_free(&b);
	imap_done(p, "OK", "[%s] %s completed", ro ? "READ-ONLY" : "READ-WRITE",
	    imap_verb_name(c->verb));
}

void
imap_cmd_close(struct imap *p)
{
	const char *verb = imap_verb_name(p->cmd->verb);
	enum imap_store_err e = IMAP_STORE_OK;

	/* RFC 3501 6.4.2: \Deleted messages go, silently */
	if (p->cmd->verb == IMAP_V_CLOSE && !p->folder.readonly)
		e = imap_folder_expunge_deleted(&p->folder, NULL, 0);
	imap_deselect(p);
	if (e != IMAP_STORE_OK)
		imap_store_fail(p, e, "CLOSE");
	else
		imap_done(p, "OK", "%s completed", verb);
}

/* ---- CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE ---------------------- */

void
imap_cmd_create(struct imap *p)
{
	enum imap_store_err e = imap_store_create(&p->store, imap_str(p->cmd, p->cmd->a));

	if (e != IMAP_STORE_OK)
		imap_store_fail(p, e, "CREATE");
	else
		imap_done(p, "OK", "CREATE completed");
}

void
imap_cmd_delete(struct imap *p)
{
	const char *name = imap_str(p->cmd, p->cmd->a);
	enum imap_store_err e;

	if (imap_is_selected(p, name)) {
		imap_done(p, "NO", "[INUSE] Select another mailbox first");
		return;
	}
	if ((e = imap_store_delete(&p->store, name)) != IMAP_STORE_OK)
		imap_store_fail(p, e, "DELETE");
	else
		imap_done(p, "OK", "DELETE completed");
}

void
imap_cmd_rename(struct imap *p)
{
	const char *from = imap_str(p->cmd, p->cmd->a);
	enum imap_store_err e;

	if (imap_is_selected(p, from) && !imap_store_is_inbox(from)) {
		imap_done(p, "NO", "[INUSE] Select another mailbox first");
		return;
	}
	e = imap_store_rename(&p->store, from, imap_str(p->cmd, p->cmd->b));
	if (e != IMAP_STORE_OK)
		imap_store_fail(p, e, "RENAME");
	else
		imap_done(p, "OK", "RENAME completed");
}

void
imap_cmd_subscribe(struct imap *p)
{
	int on = p->cmd->verb == IMAP_V_SUBSCRIBE;
	enum imap_store_err e = imap_store_subscribe(&p->store,
	    imap_str(p->cmd, p->cmd->a), on);

	if (e != IMAP_STORE_OK)
		imap_store_fail(p, e, imap_verb_name(p->cmd->verb));
	else
		imap_done(p, "OK", "%s completed", imap_verb_name(p->cmd->verb));
}

/* ---- STATUS ------------------------------------------------------------- */

/* "* STATUS name (items)" of st: 0 or -1. */
static int
imap_put_status(struct buf *b, const char *name, unsigned items,
    const struct imap_status *st)
{
	static const struct { unsigned bit; const char *label; } v[] = {
		{ IMAP_STATUS_MESSAGES, "MESSAGES" }, { IMAP_STATUS_RECENT, "RECENT" },
		{ IMAP_STATUS_UIDNEXT, "UIDNEXT" }, { IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY" },
		{ IMAP_STATUS_UNSEEN, "UNSEEN" }, { IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ" },
	};
	const uint64_t val[] = { st->messages, st->recent, st->uidnext, st->uidvalidity,
		st->unseen, st->highestmodseq };
	const char *sep = "";
	int r = buf_puts(b, "* STATUS ");

	if (r == 0)
		r = imap_put_astring(b, name, strlen(name));
	if (r == 0)
		r = buf_puts(b, " (");
	for (size_t i = 0; r == 0 && i < sizeof(v) / sizeof(v[0]); i++)
		if ((items & v[i].bit) != 0) {
			r = buf_printf(b, "%s%s %" PRIu64, sep, v[i].label, val[i]);
			sep = " ";
		}
	return r == 0 ? buf_putc(b, ')') : -1;
}

void
imap_cmd_status(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	const char *name = imap_str(c, c->a);
	struct buf b = BUF_INIT(4096);
	struct imap_status st;
	enum imap_store_err e;

	if ((e = imap_store_status(&p->store, name, &st)) != IMAP_STORE_OK) {
		imap_store_fail(p, e, "STATUS");
		return;
	}
	if (imap_put_status(&b, name, c->status, &st) == -1)
		log_panic("STATUS response too long");
	imap_reply_buf(p, &b);
	buf_free(&b);
	imap_done(p, "OK", "STATUS completed");
}

/* ---- LIST, LSUB --------------------------------------------------------- */

/* What one LIST or LSUB command asks for. */
struct imap_listing {
	const char *verb;
	int lsub;
	unsigned sel, ret;		/* IMAP_LSEL_*, IMAP_LRET_* */
	struct buf *pats;		/* reference + pattern, NUL-separated */
	size_t npats;
	struct imap_list all, subs;	/* every folder; the subscribed names */
};

static int
imap_listing_match(const struct imap_listing *ls, const char *name)
{
	const char *pat = ls->pats->data;

	for (size_t i = 0; i < ls->npats; i++, pat += strlen(pat) + 1)
		if (imap_store_match(pat, name))
			return 1;
	return 0;
}

static const struct imap_list_entry *
imap_list_find(const struct imap_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	return NULL;
}

/* Has name a subscribed descendant (RECURSIVEMATCH's CHILDINFO)? */
static int
imap_list_subscribed_child(const struct imap_listing *ls, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < ls->subs.n; i++)
		if (strncmp(ls->subs.e[i].name, name, n) == 0 &&
		    ls->subs.e[i].name[n] == IMAP_STORE_DELIM)
			return 1;
	return 0;
}

/* One LIST/LSUB line of e (subscribed, or a parent with CHILDINFO). */
static int
imap_put_list_entry(struct buf *b, const struct imap_listing *ls,
    const struct imap_list_entry *e, int subscribed, int childinfo)
{
	const char *sep = "";
	int r = buf_printf(b, "* %s (", ls->verb);

	if (r == 0 && (e->flags & IMAP_LIST_NONEXISTENT) != 0) {
		r = buf_puts(b, ls->lsub ? "\\Noselect" : "\\Noselect \\NonExistent");
		sep = " ";
	}
	if (r == 0 && !ls->lsub) {
		r = buf_printf(b, "%s%s", sep, (e->flags & IMAP_LIST_HASCHILDREN) != 0 ?
		    "\\HasChildren" : "\\HasNoChildren");
		sep = " ";
	}
	if (r == 0 && !ls->lsub && subscribed &&
	    ((ls->sel | ls->ret) & (IMAP_LSEL_SUBSCRIBED | IMAP_LRET_SUBSCRIBED)) != 0)
		r = buf_printf(b, "%s\\Subscribed", sep);
	if (r == 0 && !ls->lsub && e->special != NULL)
		r = buf_printf(b, "%s%s", sep, e->special);
	if (r == 0)
		r = buf_puts(b, ") \".\" ");
	if (r == 0)
		r = imap_put_astring(b, e->name, strlen(e->name));
	if (r == 0 && childinfo)
		r = buf_puts(b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	return r;
}

/* LIST-STATUS (RFC 5819): a STATUS after the LIST line of a selectable
 * folder; a folder that vanished meanwhile is left out. */
static void
imap_list_status(struct imap *p, const struct imap_list_entry *e, struct buf *b)
{
	struct imap_status st;

	if ((e->flags & IMAP_LIST_NONEXISTENT) != 0 ||
	    imap_store_status(&p->store, e->name, &st) != IMAP_STORE_OK)
		return;
	if (imap_put_status(b, e->name, p->cmd->status, &st) == -1)
		log_panic("STATUS response too long");
	imap_reply_buf(p, b);
}

/* RECURSIVEMATCH (RFC 5258 3.5): matching folders that are not
 * subscribed themselves but have a subscribed descendant. */
static void
imap_list_parents(struct imap *p, const struct imap_listing *ls, struct buf *line)
{
	for (size_t i = 0; i < ls->all.n && !p->closing; i++) {
		const struct imap_list_entry *e = &ls->all.e[i];

		if (imap_list_find(&ls->subs, e->name) != NULL ||
		    !imap_listing_match(ls, e->name) || !imap_list_subscribed_child(ls, e->name))
			continue;
		if (imap_put_list_entry(line, ls, e, 0, 1) == -1)
			log_panic("LIST entry too long");
		imap_reply_buf(p, line);
	}
}

/* The lines of a listing: every folder (or, with SUBSCRIBED, every
 * subscribed name) that matches. */
static void
imap_list_lines(struct imap *p, const struct imap_listing *ls)
{
	int by_subs = ls->lsub || (ls->sel & IMAP_LSEL_SUBSCRIBED) != 0;
	const struct imap_list *src = by_subs ? &ls->subs : &ls->all;
	struct buf line = BUF_INIT(1 << 20);

	if (by_subs && !ls->lsub && (ls->sel & IMAP_LSEL_RECURSIVEMATCH) != 0)
		imap_list_parents(p, ls, &line);
	for (size_t i = 0; i < src->n && !p->closing; i++) {
		const struct imap_list_entry *e = &src->e[i], *full;
		int subscribed = by_subs || imap_list_find(&ls->subs, e->name) != NULL;

		if (!imap_listing_match(ls, e->name))
			continue;
		if (by_subs && !ls->lsub && (full = imap_list_find(&ls->all, e->name)) != NULL)
			e = full;	/* its children and special use */
		if ((ls->sel & IMAP_LSEL_SPECIAL_USE) != 0 && e->special == NULL)
			continue;
		if (imap_put_list_entry(&line, ls, e, subscribed, 0) == -1)
			log_panic("LIST entry too long");
		imap_reply_buf(p, &line);
		if ((ls->ret & IMAP_LRET_STATUS) != 0)
			imap_list_status(p, e, &line);
	}
	buf_free(&line);
}

void
imap_cmd_list(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	const char *ref = imap_str(c, c->a);
	struct buf pats = BUF_INIT(IMAP_CMD_MAX + 2 * IMAP_LINE_MAX);
	struct imap_listing ls = {
		.verb = imap_verb_name(c->verb), .lsub = c->verb == IMAP_V_LSUB,
		.sel = c->list_extended ? c->list_select : 0,
		.ret = c->list_extended ? c->list_return : 0, .pats = &pats,
	};
	enum imap_store_err e;
	size_t npat = c->list_extended ? c->nstrs : 1;

	for (size_t i = 0; i < npat; i++) {
		const char *pat = c->list_extended ? imap_str(c, c->strs[i]) : imap_str(c, c->b);

		if (pat[0] == '\0' && !ls.lsub && npat == 1) {
			/* RFC 3501 6.3.8: the delimiter and the root of ref */
			imap_reply(p, "* LIST (\\Noselect) \".\" \"\"");
			imap_done(p, "OK", "LIST completed");
			goto out;
		}
		if (buf_printf(&pats, "%s%s", ref, pat) == -1 || buf_putc(&pats, '\0') == -1)
			log_panic("LIST patterns too long");
		ls.npats++;
	}
	e = imap_store_lsub(&p->store, &ls.subs);
	if (e == IMAP_STORE_OK && !ls.lsub)
		e = imap_store_list(&p->store, &ls.all);
	if (e != IMAP_STORE_OK) {
		imap_store_fail(p, e, ls.verb);
		goto out;
	}
	imap_list_lines(p, &ls);
	imap_done(p, "OK", "%s completed", ls.verb);
out:
	imap_list_free(&ls.all);
	imap_list_free(&ls.subs);
	buf_free(&pats);
}

/* ---- APPEND ------------------------------------------------------------- */

/* The flags of an APPEND or STORE as system bits and keyword names.  0, or
 * -1 after a tagged BAD (a system flag we do not know). */
int
imap_flags_arg(struct imap *p, uint32_t *sys, const char **kw, size_t *nkw)
{
	static const struct { const char *name; uint32_t bit; } sysf[] = {
		{ "\\Answered", IMAP_F_ANSWERED }, { "\\Flagged", IMAP_F_FLAGGED },
		{ "\\Deleted", IMAP_F_DELETED }, { "\\Seen", IMAP_F_SEEN },
		{ "\\Draft", IMAP_F_DRAFT }, { "\\Recent", 0 },
	};
	const struct imap_cmd *c = p->cmd;

	*sys = 0;
	*nkw = 0;
	for (size_t i = 0; i < c->nflags; i++) {
		const char *f = imap_str(c, c->flags[i]);
		size_t k;

		if (f[0] != '\\') {
			kw[(*nkw)++] = f;
			continue;
		}
		for (k = 0; k < sizeof(sysf) / sizeof(sysf[0]); k++)
			if (strcasecmp(f, sysf[k].name) == 0)
				break;
		if (k == sizeof(sysf) / sizeof(sysf[0])) {
			imap_done(p, "BAD", "Invalid system flag %s", f);
			return -1;
		}
		*sys |= sysf[k].bit;
	}
	return 0;
}

/* APPEND's date-time as a time: the parser checked the fields. */
static time_t
imap_append_date(const struct imap_cmd *c)
{
	struct tm tm = {
		.tm_year = c->date.year - 1900, .tm_mon = c->date.mon - 1,
		.tm_mday = c->date.day, .tm_hour = c->hour, .tm_min = c->min,
		.tm_sec = c->sec,
	};

	return timegm(&tm) - (time_t)c->zone * 60;
}

void
imap_cmd_append(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	const char *name = imap_str(c, c->a);
	const char *kw[IMAP_FLAGS_MAX];
	struct imap_append a = { .fd = -1 };
	uint32_t validity = 0, uid = 0;
	enum imap_store_err e;

	if (imap_flags_arg(p, &a.sys, kw, &a.nkeywords) == -1)
		return;
	if (c->msg_len == 0) {
		imap_done(p, "NO", "Cannot append an empty message");
		return;
	}
	if (imap_over_quota(p, c->msg_len))
		return;
	a.keywords = kw;
	a.data = p->cmdbuf.data + c->msg_off;
	a.len = c->msg_len;
	a.limit = p->cf->message_size;
	a.internaldate = c->has_date ? imap_append_date(c) : 0;
	e = imap_store_append(&p->store, name, &a, &validity, &uid);
	if (e == IMAP_STORE_NONEXISTENT)
		imap_done(p, "NO", "[TRYCREATE] No such mailbox");
	else if (e != IMAP_STORE_OK)
		imap_store_fail(p, e, "APPEND");
	else
		imap_done(p, "OK", "[APPENDUID %" PRIu32 " %" PRIu32 "] APPEND completed",
		    validity, uid);
}
