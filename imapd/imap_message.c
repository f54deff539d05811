/*
 * imap_message: the IMAP commands on the messages of the selected folder
 * (RFC 3501 6.4: FETCH, STORE, SEARCH, COPY, EXPUNGE and their UID forms;
 * MOVE 6851; UIDPLUS 4315).  Message files are untrusted (mail from
 * strangers): they are parsed by common/mime, rendered by imap_render,
 * searched by imap_match.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imap_cache.h"
#include "imap_match.h"
#include "imap_render.h"
#include "imap_session.h"
#include "log.h"
#include "maildir.h"
#include "xmalloc.h"

#define IMAP_SECTION_CHUNK	16384	/* octets of a section per write */

/* One message file, mapped for reading. */
struct imap_file {
	int fd;
	int have_st;		/* st filled (by fstat, or stat without fd) */
	struct stat st;
	const char *data;	/* NULL when empty or not mapped yet */
	size_t len;
	struct mime_part *mime;
};

/* Map an open message file (an empty one needs no mapping). */
static enum imap_store_err
imap_file_map(struct imap_file *mf)
{
	void *m;

	if (mf->data != NULL || mf->st.st_size == 0)
		return IMAP_STORE_OK;
	m = mmap(NULL, (size_t)mf->st.st_size, PROT_READ, MAP_PRIVATE, mf->fd, 0);
	if (m == MAP_FAILED)
		return IMAP_STORE_IO;
	mf->data = m;
	mf->len = (size_t)mf->st.st_size;
	return IMAP_STORE_OK;
}

static enum imap_store_err
imap_file_open(struct imap *p, uint32_t uid, struct imap_file *mf, int map)
{
	enum imap_store_err e;

	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
	if ((e = imap_folder_open_msg(&p->folder, uid, &mf->fd)) != IMAP_STORE_OK)
		return e;
	if (fstat(mf->fd, &mf->st) == -1)
		return IMAP_STORE_IO;
	mf->have_st = 1;
	return map ? imap_file_map(mf) : IMAP_STORE_OK;
}

/* No file: FLAGS, UID and MODSEQ come from the view. */
static void
imap_file_none(struct imap_file *mf)
{
	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
}

static void
imap_file_close(struct imap_file *mf)
{
	if (mf->mime != NULL)
		mime_free(mf->mime);
	if (mf->data != NULL)
		(void)munmap((void *)mf->data, mf->len);
	if (mf->fd != -1)
		(void)close(mf->fd);
	memset(mf, 0, sizeof(*mf));
	mf->fd = -1;
}

static const struct mime_part *
imap_file_mime(struct imap_file *mf)
{
	if (mf->mime == NULL)
		mf->mime = mime_parse(mf->data != NULL ? mf->data : "", mf->len);
	return mf->mime;
}

/* Bring the client's view of uid in line with the store's after a change
 * made by this session. */
static const struct imap_msg *
imap_known_refresh(struct imap *p, uint32_t uid, uint32_t *seq)
{
	const struct imap_msg *m = imap_folder_find(&p->folder, uid);
	uint32_t s = imap_seq_of(p, uid);

	if (m != NULL && s != 0) {
		struct imap_known *k = &p->known[s - 1];

		k->sys = m->sys;
		k->kw = m->kw;
		k->modseq = m->modseq;
		k->recent = m->recent;
	}
	*seq = s;
	return m;
}

/* ---- FETCH -------------------------------------------------------------- */

/* What an attribute needs of the message: -1 nothing but the view, 0 its
 * file's metadata, 1 its size, 2 its structure (1 and 2 are in the
 * folder's cache), 3 its bytes. */
static int
imap_fetch_needs(const struct imap_fetch *f)
{
	switch (f->att) {
	case IMAP_F_FLAGS: case IMAP_F_UID: case IMAP_F_MODSEQ:
		return -1;
	case IMAP_F_INTERNALDATE:
		return 0;
	case IMAP_F_RFC822_SIZE:
		return 1;
	case IMAP_F_ENVELOPE: case IMAP_F_BODY: case IMAP_F_BODYSTRUCTURE:
		return 2;
	default:
		return 3;
	}
}

static struct imap_cache *
imap_cache_get(struct imap *p)
{
	if (p->cache == NULL) {
		p->cache = imap_cache_open(p->folder.path, p->folder.uidvalidity);
		(void)imap_cache_compact(p->cache, p->folder.msgs, p->folder.n);
	}
	return p->cache;
}

/* The size m's cache record is keyed by (imap_cache.h): the ",S=" of its
 * name with no system call, else its file's size.  With stat (or no
 * ",S="), mf->st is filled by a stat of the path (no open; a file renamed
 * meanwhile is opened through the store, which finds it).  0, -1 gone. */
static int
imap_msg_key(struct imap *p, const struct imap_msg *m, struct imap_file *mf,
    int stat_it, uint64_t *key)
{
	char path[PATH_MAX];
	int named = maildir_name_size(m->name + 4, key) == 1;	/* past "cur/" */

	if ((named && !stat_it) || mf->have_st)
		goto done;
	if (str_format(path, sizeof(path), "%s/%s", p->folder.path, m->name) == 0 &&
	    stat(path, &mf->st) == 0 && S_ISREG(mf->st.st_mode))
		mf->have_st = 1;
	else if (imap_file_open(p, m->uid, mf, 0) != IMAP_STORE_OK)
		return -1;
done:
	if (!named)
		*key = (uint64_t)mf->st.st_size;
	return 0;
}

/* Cache m's record made from its mapped file mf (key: its key size):
 * wire size, header fields, and the structure when structure (else the
 * structure of the record it replaces, if it has one), written at the
 * next imap_cache_flush (not when it lies in its ",S=", is over the caps,
 * or the cache is disabled).  e: scratch. */
static void
imap_cache_store(struct imap *p, const struct imap_msg *m, struct imap_file *mf,
    uint64_t key, int structure, struct imap_cache_entry *e)
{
	struct buf env = BUF_INIT(IMAP_CACHE_RECORD_MAX), body = BUF_INIT(IMAP_CACHE_RECORD_MAX),
	    bs = BUF_INIT(IMAP_CACHE_RECORD_MAX), fields = BUF_INIT(IMAP_CACHE_RECORD_MAX);
	const char *data = mf->data != NULL ? mf->data : "";
	struct imap_cache_entry ne = { .parts = IMAP_CACHE_HEADER };
	struct imap_cache *c = imap_cache_get(p);
	const struct mime_part *root;

	if ((uint64_t)mf->st.st_size != key || mf->len != (size_t)mf->st.st_size)
		return;
	ne.wire_size = imap_wire_size(data, 0, mf->len);
	ne.parts |= imap_match_fields_make(data, mf->len, &fields);
	ne.fields = fields.data;
	ne.fields_len = fields.len;
	if (structure) {
		root = imap_file_mime(mf);
		if (imap_put_envelope(&env, root->env) == -1 || imap_put_body(&body, root, 0) == -1 ||
		    imap_put_body(&bs, root, 1) == -1)
			goto out;
		ne.parts |= IMAP_CACHE_STRUCT;
		ne.envelope = env.data, ne.envelope_len = env.len;
		ne.body = body.data, ne.body_len = body.len;
		ne.bodystructure = bs.data, ne.bodystructure_len = bs.len;
	} else if (imap_cache_lookup(c, m->uid, m->name, key, e) &&
	    (e->parts & IMAP_CACHE_STRUCT)) {
		/* e points into the cache: the add copies it before anything moves */
		ne.parts |= IMAP_CACHE_STRUCT;
		ne.envelope = e->envelope, ne.envelope_len = e->envelope_len;
		ne.body = e->body, ne.body_len = e->body_len;
		ne.bodystructure = e->bodystructure, ne.bodystructure_len = e->bodystructure_len;
	}
	(void)imap_cache_add_later(c, m->uid, m->name, key, &ne);
out:
	buf_free(&env);
	buf_free(&body);
	buf_free(&bs);
	buf_free(&fields);
}

/* The file metadata (mtime: for INTERNALDATE) and cache entry (needs 1:
 * any record, 2: one with the structure) of m: *ce set to e on a hit,
 * else NULL with the file open and mapped (rendered directly, and cached
 * for the next time).  0, or -1 (gone). */
static int
imap_fetch_meta(struct imap *p, const struct imap_msg *m, struct imap_file *mf,
    int needs, int mtime, struct imap_cache_entry *e, struct imap_cache_entry **ce)
{
	uint64_t key;

	*ce = NULL;
	if (imap_msg_key(p, m, mf, mtime, &key) == -1)
		return -1;
	if (needs <= 0)
		return 0;
	if (imap_cache_lookup(imap_cache_get(p), m->uid, m->name, key, e) &&
	    (needs == 1 || (e->parts & IMAP_CACHE_STRUCT))) {
		*ce = e;
		return 0;
	}
	if ((mf->fd == -1 && imap_file_open(p, m->uid, mf, 1) != IMAP_STORE_OK) ||
	    imap_file_map(mf) != IMAP_STORE_OK)
		return -1;
	imap_cache_store(p, m, mf, key, 1, e);
	return 0;
}

static int
imap_fetch_sets_seen(const struct imap_fetch *f)
{
	return (f->att == IMAP_F_BODY_SECTION && !f->peek) || f->att == IMAP_F_RFC822 ||
	    f->att == IMAP_F_RFC822_TEXT;
}

/* Mark the fetched messages \Seen first (RFC 3501 6.4.5), so the FETCH
 * responses carry the new flags. */
static void
imap_fetch_mark_seen(struct imap *p, const uint32_t *uids, size_t n)
{
	struct imap_flag_change ch = { .op = IMAP_FLAGS_ADD, .sys = IMAP_F_SEEN };
	enum imap_change_res *res;
	uint32_t *todo = xreallocarray(NULL, n + 1, sizeof(*todo));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct imap_msg *m = imap_folder_find(&p->folder, uids[i]);

		if (m != NULL && (m->sys & IMAP_F_SEEN) == 0)
			todo[k++] = uids[i];
	}
	res = xreallocarray(NULL, k + 1, sizeof(*res));
	if (k > 0 && imap_folder_store(&p->folder, todo, k, &ch, res) != IMAP_STORE_OK)
		log_warn("user=%s: marking fetched messages seen: %s", p->user,
		    strerror(errno));
	free(res);
	free(todo);
}

static int
imap_put_internaldate(struct buf *b, time_t t)
{
	char s[64];
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%d-%b-%Y %H:%M:%S %z", &tm) == 0)
		return buf_puts(b, "\"01-Jan-1970 00:00:00 +0000\"");
	if (s[0] == '0')
		s[0] = ' ';
	return buf_printf(b, "\"%s\"", s);
}

/* Stream a section as a literal: the name, {n}, then the octets. */
static void
imap_fetch_section(struct imap *p, struct imap_file *mf, const struct imap_fetch *f,
    struct buf *b)
{
	struct imap_section s = { 0 };
	struct imap_sreader r;
	char chunk[IMAP_SECTION_CHUNK];
	size_t n;
	int found;

	found = imap_section_get(mf->data != NULL ? mf->data : "", mf->len,
	    imap_file_mime(mf), p->cmd, f, &s);
	if (imap_section_name(b, p->cmd, f) == -1)
		log_panic("section name too long");
	if (!found) {
		if (buf_puts(b, " NIL") == -1)
			log_panic("FETCH response too long");
		imap_section_free(&s);
		return;
	}
	if (buf_printf(b, " {%zu}\r\n", s.len) == -1)
		log_panic("FETCH response too long");
	imap_out(p, b->data, b->len);
	buf_reset(b);
	imap_sreader_init(&r, &s, mf->data);
	while (!p->closing && (n = imap_sreader_read(&r, chunk, sizeof(chunk))) > 0)
		imap_out(p, chunk, n);
	imap_section_free(&s);
}

/* One FETCH attribute of the message into b (or streamed); ce, when not
 * NULL, is its cache entry. */
static void
imap_fetch_att(struct imap *p, struct imap_file *mf, const struct imap_msg *m,
    const struct imap_fetch *f, const struct imap_cache_entry *ce, struct buf *b)
{
	int r = 0;

	if (ce != NULL && f->att == IMAP_F_RFC822_SIZE) {
		if (buf_printf(b, "RFC822.SIZE %" PRIu64, ce->wire_size) == -1)
			log_panic("FETCH response too long");
		return;
	}
	if (ce != NULL && (f->att == IMAP_F_ENVELOPE || f->att == IMAP_F_BODY ||
	    f->att == IMAP_F_BODYSTRUCTURE)) {
		r = buf_puts(b, f->att == IMAP_F_ENVELOPE ? "ENVELOPE " :
		    f->att == IMAP_F_BODY ? "BODY " : "BODYSTRUCTURE ");
		if (r == 0 && f->att == IMAP_F_ENVELOPE)
			r = buf_append(b, ce->envelope, ce->envelope_len);
		else if (r == 0 && f->att == IMAP_F_BODY)
			r = buf_append(b, ce->body, ce->body_len);
		else if (r == 0)
			r = buf_append(b, ce->bodystructure, ce->bodystructure_len);
		if (r == -1)
			log_panic("FETCH response too long");
		return;
	}

	switch (f->att) {
	case IMAP_F_FLAGS:
		r = buf_puts(b, "FLAGS ");
		if (r == 0)
			r = imap_put_flags(b, &p->folder, m->sys, m->kw, m->recent);
		break;
	case IMAP_F_UID:
		r = buf_printf(b, "UID %" PRIu32, m->uid);
		break;
	case IMAP_F_MODSEQ:
		r = buf_printf(b, "MODSEQ (%" PRIu64 ")", m->modseq);
		break;
	case IMAP_F_INTERNALDATE:
		r = buf_puts(b, "INTERNALDATE ");
		if (r == 0)
			r = imap_put_internaldate(b, mf->st.st_mtime);
		break;
	case IMAP_F_RFC822_SIZE:
		r = buf_printf(b, "RFC822.SIZE %zu", imap_wire_size(mf->data != NULL ?
		    mf->data : "", 0, mf->len));
		break;
	case IMAP_F_ENVELOPE:
		r = buf_puts(b, "ENVELOPE ");
		if (r == 0)
			r = imap_put_envelope(b, imap_file_mime(mf)->env);
		break;
	case IMAP_F_BODY:
	case IMAP_F_BODYSTRUCTURE:
		r = buf_puts(b, f->att == IMAP_F_BODY ? "BODY " : "BODYSTRUCTURE ");
		if (r == 0)
			r = imap_put_body(b, imap_file_mime(mf), f->att == IMAP_F_BODYSTRUCTURE);
		break;
	default:
		imap_fetch_section(p, mf, f, b);
		break;
	}
	if (r == -1)
		log_panic("FETCH response too long");
}

/* "* seq FETCH (...)" of one message (mtime: INTERNALDATE asked).  0,
 * or -1 if it is gone. */
static int
imap_fetch_one(struct imap *p, uint32_t uid, int needs, int mtime, int seen)
{
	const struct imap_cmd *c = p->cmd;
	struct buf b = BUF_INIT(1u << 24);
	struct imap_cache_entry entry, *ce = NULL;
	struct imap_file mf;
	const struct imap_msg *m;
	uint32_t seq;
	int uid_sent = 0, modseq_sent = 0;

	if ((m = imap_known_refresh(p, uid, &seq)) == NULL || seq == 0)
		return -1;
	if (c->has_changedsince && m->modseq <= c->changedsince)
		return 0;	/* RFC 7162 3.1.4.1: only what changed since */
	imap_file_none(&mf);
	if ((needs == 3 && imap_file_open(p, uid, &mf, 1) != IMAP_STORE_OK) ||
	    (needs < 3 && (needs >= 1 || mtime) &&
	    imap_fetch_meta(p, m, &mf, needs, mtime, &entry, &ce) == -1)) {
		imap_file_close(&mf);
		return -1;
	}
	if (buf_printf(&b, "* %" PRIu32 " FETCH (", seq) == -1)
		log_panic("FETCH response too long");
	for (size_t i = 0; i < c->nfetch && !p->closing; i++) {
		if (i > 0 && buf_putc(&b, ' ') == -1)
			log_panic("FETCH response too long");
		imap_fetch_att(p, &mf, m, &c->fetch[i], ce, &b);
		uid_sent |= c->fetch[i].att == IMAP_F_UID;
		modseq_sent |= c->fetch[i].att == IMAP_F_MODSEQ;
		seen |= c->fetch[i].att == IMAP_F_FLAGS;
	}
	if (c->uid && !uid_sent && buf_printf(&b, " UID %" PRIu32, m->uid) == -1)
		log_panic("FETCH response too long");
	if (!seen && (buf_puts(&b, " FLAGS ") == -1 ||
	    imap_put_flags(&b, &p->folder, m->sys, m->kw, m->recent) == -1))
		log_panic("FETCH response too long");
	/* RFC 7162 3.1.4.1: with CHANGEDSINCE, and with flags once enabled */
	if ((c->has_changedsince || p->condstore) && !modseq_sent &&
	    buf_printf(&b, " MODSEQ (%" PRIu64 ")", m->modseq) == -1)
		log_panic("FETCH response too long");
	if (buf_puts(&b, ")\r\n") == -1)
		log_panic("FETCH response too long");
	imap_out(p, b.data, b.len);
	buf_free(&b);
	imap_file_close(&mf);
	return 0;
}

void
imap_cmd_fetch(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	uint32_t *uids;
	size_t n, gone = 0;
	int needs = -1, seen = 0, mtime = 0;

	if (imap_set_uids(p, c->set, c->uid, &uids, &n) == -1) {
		imap_done(p, "BAD", "Invalid sequence number");
		return;
	}
	for (size_t i = 0; i < c->nfetch; i++) {
		int k = imap_fetch_needs(&c->fetch[i]);

		needs = k > needs ? k : needs;
		mtime |= c->fetch[i].att == IMAP_F_INTERNALDATE;
		seen |= imap_fetch_sets_seen(&c->fetch[i]);
		if (c->fetch[i].att == IMAP_F_MODSEQ)
			p->condstore = 1;	/* RFC 7162 3.1: enables CONDSTORE */
	}
	if (c->has_changedsince)
		p->condstore = 1;
	seen = seen && !p->folder.readonly;
	if (seen)
		imap_fetch_mark_seen(p, uids, n);
	for (size_t i = 0; i < n && !p->closing; i++)
		if (imap_fetch_one(p, uids[i], needs, mtime, !seen) == -1)
			gone++;
	if (p->cache != NULL)
		(void)imap_cache_flush(p->cache);	/* what this FETCH parsed */
	free(uids);
	if (gone > 0)
		imap_done(p, "NO", "[EXPUNGEISSUED] Some messages were expunged");
	else
		imap_done(p, "OK", "%sFETCH completed", c->uid ? "UID " : "");
}

/* ---- STORE -------------------------------------------------------------- */

/* The FETCH a STORE answers with for a changed message: the new flags
 * (not with .SILENT), and MODSEQ once CONDSTORE is on (RFC 7162 3.2,
 * .SILENT or not). */
static void
imap_store_answer(struct imap *p, uint32_t uid)
{
	const struct imap_cmd *c = p->cmd;
	uint32_t seq;

	if (imap_known_refresh(p, uid, &seq) == NULL || seq == 0 ||
	    (c->silent && !p->condstore))
		return;
	imap_send_flags(p, seq, &p->known[seq - 1], !c->silent, c->uid);
}

void
imap_cmd_store(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	static const enum imap_flag_op ops[] = {
		[IMAP_STORE_SET] = IMAP_FLAGS_SET, [IMAP_STORE_ADD] = IMAP_FLAGS_ADD,
		[IMAP_STORE_DEL] = IMAP_FLAGS_REMOVE,
	};
	const char *kw[IMAP_FLAGS_MAX];
	struct imap_flag_change ch = { .op = ops[c->store_op], .keywords = kw,
	    .unchangedsince = c->has_unchangedsince ? c->unchangedsince : 0 };
	struct buf b = BUF_INIT(1u << 24);
	enum imap_change_res *res;
	enum imap_store_err e = IMAP_STORE_OK;
	uint32_t *uids, *modified;
	size_t n, nmod = 0;

	if (p->folder.readonly) {
		imap_done(p, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_flags_arg(p, &ch.sys, kw, &ch.nkeywords) == -1)
		return;
	if (imap_set_uids(p, c->set, c->uid, &uids, &n) == -1) {
		imap_done(p, "BAD", "Invalid sequence number");
		return;
	}
	if (c->has_unchangedsince)
		p->condstore = 1;	/* RFC 7162 3.1: enables CONDSTORE */
	res = xreallocarray(NULL, n + 1, sizeof(*res));
	modified = xreallocarray(NULL, n + 1, sizeof(*modified));
	if (c->has_unchangedsince && c->unchangedsince == 0)
		for (size_t i = 0; i < n; i++)	/* every modseq is > 0 */
			res[i] = IMAP_CHANGE_MODIFIED;
	else
		e = imap_folder_store(&p->folder, uids, n, &ch, res);
	if (e != IMAP_STORE_OK) {
		imap_store_fail(p, e, "STORE");
		goto out;
	}
	for (size_t i = 0; i < n && !p->closing; i++) {
		if (res[i] == IMAP_CHANGE_MODIFIED)
			modified[nmod++] = c->uid ? uids[i] : imap_seq_of(p, uids[i]);
		if (res[i] == IMAP_CHANGE_DONE)
			imap_store_answer(p, uids[i]);
	}
	if (nmod > 0) {
		if (buf_puts(&b, "[MODIFIED ") == -1 ||
		    imap_match_write_set(&b, modified, nmod) == -1 || buf_puts(&b, "] ") == -1)
			log_panic("MODIFIED too long");
		imap_done(p, "OK", "%sConditional STORE failed for some messages",
		    buf_cstr(&b));
	} else
		imap_done(p, "OK", "%sSTORE completed", c->uid ? "UID " : "");
out:
	buf_free(&b);
	free(modified);
	free(res);
	free(uids);
}

/* ---- SEARCH ------------------------------------------------------------- */

struct imap_search_load {
	struct imap *p;
	uint32_t uid;
	struct imap_file mf;
	int mapped;		/* mf open and mapped */
};

static int
imap_search_loader(void *arg, const char **data, size_t *len)
{
	struct imap_search_load *l = arg;

	if ((l->mf.fd == -1 && imap_file_open(l->p, l->uid, &l->mf, 1) != IMAP_STORE_OK) ||
	    imap_file_map(&l->mf) != IMAP_STORE_OK)
		return -1;
	l->mapped = 1;
	*data = l->mf.data != NULL ? l->mf.data : "";
	*len = l->mf.len;
	return 0;
}

/* Which per-message facts the search's keys read: 1 size, 2 dates, and 4
 * whether it searches by MODSEQ. */
static unsigned
imap_search_facts(const struct imap_cmd *c)
{
	unsigned facts = 0;

	for (size_t i = 0; i < c->nsearch; i++)
		switch (c->search[i].key) {
		case IMAP_K_LARGER: case IMAP_K_SMALLER:
			facts |= 1;
			break;
		case IMAP_K_BEFORE: case IMAP_K_ON: case IMAP_K_SINCE:
		case IMAP_K_SENTBEFORE: case IMAP_K_SENTON: case IMAP_K_SENTSINCE:
			facts |= 2;
			break;
		case IMAP_K_MODSEQ:
			facts |= 4;
			break;
		default:
			break;
		}
	return facts;
}

static unsigned
imap_match_flags(const struct imap_known *k)
{
	return ((k->sys & IMAP_F_SEEN) ? IMAP_MF_SEEN : 0) |
	    ((k->sys & IMAP_F_ANSWERED) ? IMAP_MF_ANSWERED : 0) |
	    ((k->sys & IMAP_F_FLAGGED) ? IMAP_MF_FLAGGED : 0) |
	    ((k->sys & IMAP_F_DELETED) ? IMAP_MF_DELETED : 0) |
	    ((k->sys & IMAP_F_DRAFT) ? IMAP_MF_DRAFT : 0) |
	    (k->recent ? IMAP_MF_RECENT : 0);
}

/* The facts of message fm for the search from the folder's cache (use:
 * the search reads no body): its wire size, its header fields when the
 * record has them.  Dates (facts 2) need the file's mtime: a stat.  0,
 * or -1 (gone); *hit whether the cache had a record, *key its key. */
static int
imap_search_facts_of(struct imap *p, const struct imap_msg *fm, unsigned facts,
    int use, struct imap_search_load *l, struct imap_match_msg *m,
    struct imap_cache_entry *e, int *hit, uint64_t *key)
{
	*hit = 0;
	if (fm == NULL)
		return (facts & 3) != 0 ? -1 : 0;	/* not in the store: gone */
	if ((facts & 2) || use) {
		if (imap_msg_key(p, fm, &l->mf, (facts & 2) != 0, key) == -1)
			return -1;
		m->internal_date = l->mf.st.st_mtime;
	}
	if (use && imap_cache_lookup(imap_cache_get(p), fm->uid, fm->name, *key, e)) {
		*hit = 1;
		m->size = e->wire_size;
		if (e->parts & IMAP_CACHE_HEADER) {
			m->fields = e->fields;
			m->fields_len = e->fields_len;
			m->fields_mask = e->parts & IMAP_CACHE_FIELD_BITS;
		}
	} else if (facts & 1) {
		if (imap_search_loader(l, &m->data, &m->len) == -1)
			return -1;
		m->size = imap_wire_size(m->data, 0, m->len);
		m->data = NULL, m->len = 0;	/* the matcher loads its own */
	}
	return 0;
}

/* Does message i of the client's view match?  1, 0.  A search that
 * reads no body is answered from the folder's cache where it can, and a
 * file it had to read is cached for the next one. */
static int
imap_search_one(struct imap *p, struct imap_matcher *s, size_t i, unsigned facts)
{
	const struct imap_known *k = &p->known[i];
	const struct imap_msg *fm = imap_folder_find(&p->folder, k->uid);
	struct imap_search_load l = { .p = p, .uid = k->uid, .mf = { .fd = -1 } };
	struct imap_match_msg m = {
		.seq = (uint32_t)i + 1, .uid = k->uid, .flags = imap_match_flags(k),
		.keywords = k->kw, .modseq = k->modseq,
		.load = imap_search_loader, .load_arg = &l,
	};
	struct imap_cache_entry e;
	int use = (s->needs & IMAP_NEED_BODY) == 0 && (s->needs != 0 || (facts & 1)),
	    hit = 0, r = 0;
	uint64_t key = 0;

	if (imap_search_facts_of(p, fm, facts, use, &l, &m, &e, &hit, &key) == 0)
		r = imap_match_message(s, &m);
	imap_match_release(&m);
	if (use && fm != NULL && l.mapped && (!hit || !(e.parts & IMAP_CACHE_HEADER)))
		imap_cache_store(p, fm, &l.mf, key, 0, &e);
	imap_file_close(&l.mf);
	return r == 1;
}

void
imap_cmd_search(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	const char *names[IMAP_STORE_KEYWORDS];
	struct imap_box box = {
		.nmsgs = (uint32_t)p->nknown, .keywords = names,
		.nkeywords = IMAP_STORE_KEYWORDS,
		.max_uid = p->nknown > 0 ? p->known[p->nknown - 1].uid : 0,
	};
	struct imap_matcher s;
	struct buf b = BUF_INIT(64u << 20);
	unsigned facts = imap_search_facts(c);
	uint32_t *ids = xreallocarray(NULL, p->nknown + 1, sizeof(*ids));
	uint64_t modseq = 0;
	size_t n = 0;

	for (size_t i = 0; i < IMAP_STORE_KEYWORDS; i++)
		names[i] = p->folder.keywords[i] != NULL ? p->folder.keywords[i] : "";
	if (imap_match_prepare(&s, c, &box) != IMAP_MATCH_OK) {
		imap_done(p, "NO", IMAP_BADCHARSET_TEXT);
		goto out;
	}
	for (size_t i = 0; i < p->nknown && !p->closing; i++)
		if (imap_search_one(p, &s, i, facts)) {
			ids[n++] = c->uid ? p->known[i].uid : (uint32_t)i + 1;
			if (p->known[i].modseq > modseq)
				modseq = p->known[i].modseq;
		}
	if (p->cache != NULL)
		(void)imap_cache_flush(p->cache);	/* what the search read */
	if (!(facts & 4))
		modseq = 0;	/* RFC 7162 3.1.5: only for a search by MODSEQ */
	else
		p->condstore = 1;
	if ((c->has_return ? imap_match_write_esearch(&b, c->tag, c->uid, c->search_ret,
	    ids, n, modseq) : imap_match_write_search(&b, ids, n, modseq)) == -1)
		log_panic("SEARCH response too long");
	imap_out(p, b.data, b.len);
	imap_done(p, "OK", "%sSEARCH completed", c->uid ? "UID " : "");
out:
	imap_match_free(&s);
	buf_free(&b);
	free(ids);
}

/* ---- COPY, MOVE, EXPUNGE ------------------------------------------------ */

/* Octets a COPY adds (the ",S=" of each name, or its file's size). */
static uint64_t
imap_copy_size(struct imap *p, const uint32_t *uids, size_t n)
{
	uint64_t total = 0, size;

	if (p->quota == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct imap_msg *m = imap_folder_find(&p->folder, uids[i]);
		struct imap_file mf;

		if (m == NULL)
			continue;
		if (maildir_name_size(m->name + 4, &size) == 1) {	/* past "cur/" */
			total += size;
			continue;
		}
		if (imap_file_open(p, uids[i], &mf, 0) == IMAP_STORE_OK)
			total += (uint64_t)mf.st.st_size;
		imap_file_close(&mf);
	}
	return total;
}

void
imap_cmd_copy(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	int move = c->verb == IMAP_V_MOVE;
	struct buf code = BUF_INIT(1u << 24);
	uint32_t *uids, *src, *dst, validity = 0;
	enum imap_store_err e;
	size_t n, nout = 0;

	if (move && p->folder.readonly) {
		imap_done(p, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (imap_set_uids(p, c->set, c->uid, &uids, &n) == -1) {
		imap_done(p, "BAD", "Invalid sequence number");
		return;
	}
	if (!move && imap_over_quota(p, imap_copy_size(p, uids, n))) {
		free(uids);
		return;
	}
	src = xreallocarray(NULL, n + 1, sizeof(*src));
	dst = xreallocarray(NULL, n + 1, sizeof(*dst));
	e = (move ? imap_folder_move : imap_folder_copy)(&p->folder, uids, n,
	    imap_str(c, c->b), &validity, src, dst, &nout);
	if (e == IMAP_STORE_NONEXISTENT)
		imap_done(p, "NO", "[TRYCREATE] No such mailbox");
	else if (e != IMAP_STORE_OK)
		imap_store_fail(p, e, imap_verb_name(c->verb));
	else {
		if (nout > 0 && (buf_printf(&code, "[COPYUID %" PRIu32 " ", validity) == -1 ||
		    imap_match_write_set(&code, src, nout) == -1 || buf_putc(&code, ' ') == -1 ||
		    imap_match_write_set(&code, dst, nout) == -1 || buf_puts(&code, "] ") == -1))
			log_panic("COPYUID too long");
		if (move) {
			/* RFC 6851 4.3: COPYUID before the EXPUNGEs */
			if (code.len > 0)
				imap_reply(p, "* OK %s", buf_cstr(&code));
			imap_done(p, "OK", "%sMOVE completed", c->uid ? "UID " : "");
		} else
			imap_done(p, "OK", "%s%sCOPY completed", buf_cstr(&code),
			    c->uid ? "UID " : "");
	}
	buf_free(&code);
	free(src);
	free(dst);
	free(uids);
}

void
imap_cmd_expunge(struct imap *p)
{
	const struct imap_cmd *c = p->cmd;
	enum imap_store_err e;
	uint32_t *uids = NULL;
	size_t n = 0;

	if (p->folder.readonly) {
		imap_done(p, "NO", "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (c->uid && imap_set_uids(p, c->set, 1, &uids, &n) == -1) {
		imap_done(p, "BAD", "Invalid UID set");
		return;
	}
	/* only what has \Deleted under the store's lock: a flag another
	 * session just cleared is respected; the EXPUNGE responses come from
	 * the update that follows */
	e = c->uid && n == 0 ? IMAP_STORE_OK :
	    imap_folder_expunge_deleted(&p->folder, c->uid ? uids : NULL, n);
	if (e != IMAP_STORE_OK)
		imap_store_fail(p, e, "EXPUNGE");
	else
		imap_done(p, "OK", "%sEXPUNGE completed", c->uid ? "UID " : "");
	free(uids);
}
