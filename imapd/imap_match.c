/*
 * imap_match: SEARCH evaluation (see imap_match.h): prepare a parsed
 * search once (charset, folded strings, keyword bits, what each subtree
 * needs), then test messages one by one.  Used by the imap mail process.
 * Keys that need no message bytes are tried before those that do, so a
 * search like "UNSEEN BODY x" loads only unseen messages.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif
#include <string.h>
#include <strings.h>

#include "imap_match.h"
#include "xmalloc.h"

/* The string keys: which header field (NULL: not a field key). */
static const char *
mm_field_of(enum imap_skey k)
{
	switch (k) {
	case IMAP_K_FROM: return "from";
	case IMAP_K_TO: return "to";
	case IMAP_K_CC: return "cc";
	case IMAP_K_BCC: return "bcc";
	case IMAP_K_SUBJECT: return "subject";
	default: return NULL;
	}
}

static unsigned
mm_own_needs(enum imap_skey k)
{
	if (mm_field_of(k) != NULL || k == IMAP_K_HEADER || k == IMAP_K_SENTBEFORE ||
	    k == IMAP_K_SENTON || k == IMAP_K_SENTSINCE)
		return IMAP_NEED_HEADER;
	if (k == IMAP_K_BODY || k == IMAP_K_TEXT)
		return IMAP_NEED_HEADER | IMAP_NEED_BODY;
	return 0;
}

/* Fill prep[i] and its subtree's; the needs of the subtree. */
static unsigned
mm_prep_node(struct imap_matcher *s, int16_t i, int depth)
{
	const struct imap_cmd *c = s->cmd;
	const struct imap_snode *n = &c->search[i];
	struct imap_sprep *p = &s->prep[i];
	const char *str = NULL;
	int16_t k;

	p->needs = mm_own_needs(n->key);
	if (mm_field_of(n->key) != NULL || n->key == IMAP_K_BODY || n->key == IMAP_K_TEXT)
		str = imap_str(c, n->str);
	else if (n->key == IMAP_K_HEADER)
		str = imap_str(c, n->str2);
	if (str != NULL && imap_match_fold(str, strlen(str), &p->needle) == -1)
		buf_reset(&p->needle);	/* cannot happen: no limit */
	if (n->key == IMAP_K_KEYWORD || n->key == IMAP_K_UNKEYWORD)
		for (size_t j = 0; j < s->box.nkeywords && j < IMAP_KEYWORDS_MAX; j++)
			if (s->box.keywords[j] != NULL &&
			    strcasecmp(s->box.keywords[j], imap_str(c, n->str)) == 0) {
				p->kw = (int)j;
				break;
			}
	/* the parser guarantees a tree within IMAP_DEPTH_MAX; check anyway */
	if (depth <= 2 * IMAP_DEPTH_MAX + 2)
		for (k = n->child; k > i && (size_t)k < c->nsearch; k = c->search[k].next)
			p->needs |= mm_prep_node(s, k, depth + 1);
	return p->needs;
}

enum imap_match_err
imap_match_prepare(struct imap_matcher *s, const struct imap_cmd *c,
    const struct imap_box *box)
{
	/* an absent CHARSET is {0, 0}: only a non-empty one is looked at
	 * (CHARSET "" passes as absent) */
	const char *cs = c->charset.len > 0 ? imap_str(c, c->charset) : "";

	memset(s, 0, sizeof(*s));
	s->cmd = c;
	s->box = *box;
	s->prep = xcalloc(c->nsearch > 0 ? c->nsearch : 1, sizeof(*s->prep));
	for (size_t i = 0; i < c->nsearch; i++) {
		buf_init(&s->prep[i].needle, BUF_NOLIMIT);
		s->prep[i].kw = -1;
	}
	if (*cs != '\0' && strcasecmp(cs, "UTF-8") != 0 &&
	    strcasecmp(cs, "US-ASCII") != 0)
		return IMAP_MATCH_BADCHARSET;
	if (c->nsearch > 0)
		s->needs = mm_prep_node(s, 0, 0);
	return IMAP_MATCH_OK;
}

void
imap_match_free(struct imap_matcher *s)
{
	if (s->prep != NULL)
		for (size_t i = 0; i < s->cmd->nsearch; i++)
			buf_free(&s->prep[i].needle);
	free(s->prep);
	s->prep = NULL;
}

/* Is v in the set (with "*" = max)? */
static int
mm_in_set(const struct imap_cmd *c, struct imap_set set, uint32_t v, uint32_t max)
{
	uint32_t lo, hi, t;

	for (size_t i = set.first; i < (size_t)set.first + set.n && i < c->nranges; i++) {
		lo = c->ranges[i].lo == IMAP_STAR ? max : c->ranges[i].lo;
		hi = c->ranges[i].hi == IMAP_STAR ? max : c->ranges[i].hi;
		if (lo > hi) {
			t = lo;
			lo = hi;
			hi = t;
		}
		if (v >= lo && v <= hi)
			return 1;
	}
	return 0;
}

static long
mm_ymd(const struct imap_date *d)
{
	return (long)d->year * 10000 + d->mon * 100 + d->day;
}

/* The internal date's day in the server's zone (0 if out of range). */
static long
mm_internal_ymd(const struct imap_match_msg *m)
{
	struct tm tm;

	if (localtime_r(&m->internal_date, &tm) == NULL)
		return 0;
	return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* The header to read field name in: the cached fields when they hold it,
 * else the message's own header (loaded).  0, or -1 (not loaded). */
static int
mm_header_of(struct imap_match_msg *m, const char *name, const char **h, size_t *hlen)
{
	int bit = imap_match_field_bit(name);

	if (m->fields != NULL && bit >= 0 && (m->fields_mask >> bit & 1) != 0) {
		*h = m->fields;
		*hlen = m->fields_len;
		return 0;
	}
	if (imap_match_load(m) == -1)
		return -1;
	*h = m->data;
	*hlen = m->hdr_len;
	return 0;
}

/* The first Date: field's day; the internal date's if none parses. */
static int
mm_sent_ymd(struct imap_match_msg *m, long *out)
{
	struct buf v = BUF_INIT(BUF_NOLIMIT);
	struct imap_date d;
	const char *h;
	size_t pos = 0, hlen;

	if (mm_header_of(m, "date", &h, &hlen) == -1)
		return -1;
	*out = mm_internal_ymd(m);
	if (imap_match_field_next(h, hlen, &pos, "date", &v) &&
	    imap_match_date(buf_cstr(&v), v.len, &d))
		*out = mm_ymd(&d);
	buf_free(&v);
	return 0;
}

static int
mm_date_cmp(enum imap_skey k, long have, long want)
{
	switch (k) {
	case IMAP_K_BEFORE: case IMAP_K_SENTBEFORE: return have < want;
	case IMAP_K_ON: case IMAP_K_SENTON: return have == want;
	default: return have >= want;	/* SINCE, SENTSINCE */
	}
}

/* The keys that read the message. */
static int
mm_eval_text(struct imap_matcher *s, struct imap_match_msg *m, int16_t i)
{
	const struct imap_snode *n = &s->cmd->search[i];
	const struct buf *nd = &s->prep[i].needle;
	const char *name = mm_field_of(n->key), *h;
	size_t hlen;
	int present;
	long have;

	switch (n->key) {
	case IMAP_K_SENTBEFORE: case IMAP_K_SENTON: case IMAP_K_SENTSINCE:
		if (mm_sent_ymd(m, &have) == -1)
			return -1;
		return mm_date_cmp(n->key, have, mm_ymd(&n->date));
	case IMAP_K_BODY:
		if (imap_match_body(m) == -1)
			return -1;
		return nd->len == 0 || memmem(buf_cstr(&m->body), m->body.len,
		    nd->data, nd->len) != NULL;
	case IMAP_K_TEXT:
		if (imap_match_head(m) == -1 || imap_match_body(m) == -1)
			return -1;
		return nd->len == 0 ||
		    memmem(buf_cstr(&m->head), m->head.len, nd->data, nd->len) != NULL ||
		    memmem(buf_cstr(&m->body), m->body.len, nd->data, nd->len) != NULL;
	default:
		break;
	}
	if (name == NULL)
		name = imap_str(s->cmd, n->str);	/* HEADER */
	if (mm_header_of(m, name, &h, &hlen) == -1)
		return -1;
	return imap_match_field(h, hlen, name, nd, &present);
}

static int
mm_has(const struct imap_match_msg *m, unsigned f)
{
	return (m->flags & f) != 0;
}

/* The keys answered from the message's metadata. */
static int
mm_eval_meta(struct imap_matcher *s, struct imap_match_msg *m, int16_t i)
{
	const struct imap_snode *n = &s->cmd->search[i];
	int kw = s->prep[i].kw;

	switch (n->key) {
	case IMAP_K_ALL: return 1;
	case IMAP_K_ANSWERED: return mm_has(m, IMAP_MF_ANSWERED);
	case IMAP_K_DELETED: return mm_has(m, IMAP_MF_DELETED);
	case IMAP_K_DRAFT: return mm_has(m, IMAP_MF_DRAFT);
	case IMAP_K_FLAGGED: return mm_has(m, IMAP_MF_FLAGGED);
	case IMAP_K_SEEN: return mm_has(m, IMAP_MF_SEEN);
	case IMAP_K_RECENT: return mm_has(m, IMAP_MF_RECENT);
	case IMAP_K_NEW: return mm_has(m, IMAP_MF_RECENT) && !mm_has(m, IMAP_MF_SEEN);
	case IMAP_K_OLD: return !mm_has(m, IMAP_MF_RECENT);
	case IMAP_K_UNANSWERED: return !mm_has(m, IMAP_MF_ANSWERED);
	case IMAP_K_UNDELETED: return !mm_has(m, IMAP_MF_DELETED);
	case IMAP_K_UNDRAFT: return !mm_has(m, IMAP_MF_DRAFT);
	case IMAP_K_UNFLAGGED: return !mm_has(m, IMAP_MF_FLAGGED);
	case IMAP_K_UNSEEN: return !mm_has(m, IMAP_MF_SEEN);
	case IMAP_K_KEYWORD: return kw >= 0 && (m->keywords >> kw & 1) != 0;
	case IMAP_K_UNKEYWORD: return kw < 0 || (m->keywords >> kw & 1) == 0;
	case IMAP_K_LARGER: return m->size > n->num;
	case IMAP_K_SMALLER: return m->size < n->num;
	case IMAP_K_BEFORE: case IMAP_K_ON: case IMAP_K_SINCE:
		return mm_date_cmp(n->key, mm_internal_ymd(m), mm_ymd(&n->date));
	case IMAP_K_SEQSET: return mm_in_set(s->cmd, n->set, m->seq, s->box.nmsgs);
	case IMAP_K_UID: return mm_in_set(s->cmd, n->set, m->uid, s->box.max_uid);
	case IMAP_K_MODSEQ: return m->modseq >= n->modseq;
	default: return 0;
	}
}

static int mm_eval(struct imap_matcher *, struct imap_match_msg *, int16_t, int);

/* AND (all) or OR (any) of the children from first, cheap ones first;
 * -1 only when the others leave the answer open. */
static int
mm_eval_list(struct imap_matcher *s, struct imap_match_msg *m, int16_t first, int any,
    int depth)
{
	int16_t k;
	int r, err = 0;

	for (int pass = 0; pass < 2; pass++)
		for (k = first; k >= 0 && (size_t)k < s->cmd->nsearch;
		    k = s->cmd->search[k].next) {
			if ((s->prep[k].needs != 0) != pass)
				continue;
			r = mm_eval(s, m, k, depth + 1);
			if (r == -1)
				err = 1;
			else if (r == any)
				return any;
		}
	return err ? -1 : !any;
}

static int
mm_eval(struct imap_matcher *s, struct imap_match_msg *m, int16_t i, int depth)
{
	const struct imap_snode *n = &s->cmd->search[i];
	int r;

	if (depth > 2 * IMAP_DEPTH_MAX + 2)
		return 0;
	switch (n->key) {
	case IMAP_K_AND:
		return mm_eval_list(s, m, n->child, 0, depth);
	case IMAP_K_OR:
		return mm_eval_list(s, m, n->child, 1, depth);
	case IMAP_K_NOT:
		if (n->child < 0)
			return 0;
		r = mm_eval(s, m, n->child, depth + 1);
		return r == -1 ? -1 : !r;
	default:
		break;
	}
	if (mm_own_needs(n->key) != 0)
		return mm_eval_text(s, m, i);
	return mm_eval_meta(s, m, i);
}

int
imap_match_message(struct imap_matcher *s, struct imap_match_msg *m)
{
	if (s->cmd->nsearch == 0)
		return 1;
	return mm_eval(s, m, 0, 0);
}
