/*
 * imap_search: SEARCH arguments (RFC 3501 6.4.4, 9: every search-key,
 * CHARSET, nested OR/NOT/parentheses, RFC 7162's MODSEQ key, RFC 4731's
 * RETURN options) into the command's node array, with the depth capped at
 * IMAP_DEPTH_MAX.  Input is untrusted network text.
 */
#include <string.h>
#include <strings.h>

#include "imap_token.h"

enum imap_sarg { SA_NONE, SA_STR, SA_KEYWORD, SA_HEADER, SA_DATE, SA_NUM,
    SA_SET, SA_NOT, SA_OR, SA_MODSEQ };

static const struct {
	const char *name;
	enum imap_skey key;
	enum imap_sarg arg;
} imap_skeys[] = {
	{ "ALL", IMAP_K_ALL, SA_NONE }, { "ANSWERED", IMAP_K_ANSWERED, SA_NONE },
	{ "DELETED", IMAP_K_DELETED, SA_NONE }, { "DRAFT", IMAP_K_DRAFT, SA_NONE },
	{ "FLAGGED", IMAP_K_FLAGGED, SA_NONE }, { "NEW", IMAP_K_NEW, SA_NONE },
	{ "OLD", IMAP_K_OLD, SA_NONE }, { "RECENT", IMAP_K_RECENT, SA_NONE },
	{ "SEEN", IMAP_K_SEEN, SA_NONE }, { "UNANSWERED", IMAP_K_UNANSWERED, SA_NONE },
	{ "UNDELETED", IMAP_K_UNDELETED, SA_NONE }, { "UNDRAFT", IMAP_K_UNDRAFT, SA_NONE },
	{ "UNFLAGGED", IMAP_K_UNFLAGGED, SA_NONE }, { "UNSEEN", IMAP_K_UNSEEN, SA_NONE },
	{ "BCC", IMAP_K_BCC, SA_STR }, { "BODY", IMAP_K_BODY, SA_STR },
	{ "CC", IMAP_K_CC, SA_STR }, { "FROM", IMAP_K_FROM, SA_STR },
	{ "SUBJECT", IMAP_K_SUBJECT, SA_STR }, { "TEXT", IMAP_K_TEXT, SA_STR },
	{ "TO", IMAP_K_TO, SA_STR },
	{ "KEYWORD", IMAP_K_KEYWORD, SA_KEYWORD },
	{ "UNKEYWORD", IMAP_K_UNKEYWORD, SA_KEYWORD },
	{ "HEADER", IMAP_K_HEADER, SA_HEADER },
	{ "BEFORE", IMAP_K_BEFORE, SA_DATE }, { "ON", IMAP_K_ON, SA_DATE },
	{ "SINCE", IMAP_K_SINCE, SA_DATE }, { "SENTBEFORE", IMAP_K_SENTBEFORE, SA_DATE },
	{ "SENTON", IMAP_K_SENTON, SA_DATE }, { "SENTSINCE", IMAP_K_SENTSINCE, SA_DATE },
	{ "LARGER", IMAP_K_LARGER, SA_NUM }, { "SMALLER", IMAP_K_SMALLER, SA_NUM },
	{ "UID", IMAP_K_UID, SA_SET },
	{ "NOT", IMAP_K_NOT, SA_NOT }, { "OR", IMAP_K_OR, SA_OR },
	{ "MODSEQ", IMAP_K_MODSEQ, SA_MODSEQ },
};

static int search_key(struct imap_p *, int depth, int16_t *);

static int
snode(struct imap_p *s, enum imap_skey key, int16_t *idx)
{
	struct imap_cmd *c = s->c;
	struct imap_snode *n;

	if (c->nsearch == IMAP_SEARCH_MAX)
		return imap_fail(s, IMAP_E_LIMIT);
	*idx = (int16_t)c->nsearch;
	n = &c->search[c->nsearch++];
	memset(n, 0, sizeof(*n));
	n->key = key;
	n->child = n->next = -1;
	return 1;
}

/* search-key *(SP search-key) as the children of node parent, up to
 * close (')' or the end when close is -1). */
static int
search_list(struct imap_p *s, int depth, int16_t parent, int close)
{
	int16_t prev = -1, k;

	do {
		if (!search_key(s, depth, &k))
			return 0;
		if (prev == -1)
			s->c->search[parent].child = k;
		else
			s->c->search[prev].next = k;
		prev = k;
	} while (imap_eat(s, ' '));
	return close == -1 || imap_need(s, close, IMAP_E_SEARCH);
}

/* entry-flag-name as decoded: "/flags/" then a flag ("\\" atom or atom),
 * the prefix in any case (RFC 7162 7). */
static int
entry_name(const char *e, size_t n)
{
	size_t i = 7;

	if (n <= i || strncasecmp(e, "/flags/", 7) != 0)
		return 0;
	i += e[i] == '\\';
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!imap_atom_char((unsigned char)e[i]))
			return 0;
	return 1;
}

/* search-modsequence after "MODSEQ" SP (RFC 7162 7):
 * [entry-name SP entry-type-req SP] mod-sequence-valzer */
static int
search_modseq(struct imap_p *s, struct imap_snode *n)
{
	static const char *const types[] = { "PRIV", "SHARED", "ALL" };
	size_t k;

	if (imap_cur(s) == '"') {
		if (!imap_string(s, &n->str))
			return 0;
		if (!entry_name(imap_str(s->c, n->str), n->str.len))
			return imap_fail(s, IMAP_E_SEARCH);
		if (!imap_sp(s))
			return 0;
		if ((k = imap_keyword(s, types, 3, IMAP_E_SEARCH)) == 3)
			return 0;
		n->entry = (enum imap_entry)(IMAP_ENTRY_PRIV + k);
		if (!imap_sp(s))
			return 0;
	}
	return imap_modseq(s, 1, &n->modseq);
}

/* The argument of key *idx as kind a. */
static int
search_arg(struct imap_p *s, int depth, enum imap_sarg a, int16_t idx)
{
	struct imap_snode *n = &s->c->search[idx];
	int16_t k1, k2;
	const char *w;

	if (a == SA_NONE)
		return 1;
	if (!imap_sp(s))
		return 0;
	switch (a) {
	case SA_STR:
		return imap_astring(s, &n->str);
	case SA_KEYWORD:
		if (imap_span(s, &w, imap_atom_char) == 0)
			return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_FLAG);
		return imap_put(s, w, (size_t)(s->p + s->i - w), &n->str);
	case SA_HEADER:
		return imap_astring(s, &n->str) && imap_sp(s) && imap_astring(s, &n->str2);
	case SA_DATE:
		return imap_date_text(s, &n->date);
	case SA_NUM:
		return imap_number(s, 0, &n->num);
	case SA_SET:
		return imap_seqset(s, &n->set);
	case SA_NOT:
		if (!search_key(s, depth + 1, &k1))
			return 0;
		s->c->search[idx].child = k1;
		return 1;
	case SA_MODSEQ:
		return search_modseq(s, n);
	case SA_OR:
		if (!search_key(s, depth + 1, &k1) || !imap_sp(s) ||
		    !search_key(s, depth + 1, &k2))
			return 0;
		s->c->search[idx].child = k1;
		s->c->search[k1].next = k2;
		return 1;
	default:
		return imap_fail(s, IMAP_E_SEARCH);
	}
}

static int
search_key(struct imap_p *s, int depth, int16_t *idx)
{
	const char *w;
	size_t n;

	if (depth >= IMAP_DEPTH_MAX)
		return imap_fail(s, IMAP_E_DEPTH);
	if (imap_eat(s, '(')) {
		if (!snode(s, IMAP_K_AND, idx))
			return 0;
		return search_list(s, depth + 1, *idx, ')');
	}
	if (imap_cur(s) == '*' || (imap_cur(s) >= '1' && imap_cur(s) <= '9')) {
		if (!snode(s, IMAP_K_SEQSET, idx))
			return 0;
		return imap_seqset(s, &s->c->search[*idx].set);
	}
	n = imap_span(s, &w, imap_word_char);
	for (size_t i = 0; i < sizeof(imap_skeys) / sizeof(imap_skeys[0]); i++)
		if (imap_word_is(w, n, imap_skeys[i].name))
			return snode(s, imap_skeys[i].key, idx) &&
			    search_arg(s, depth, imap_skeys[i].arg, *idx);
	return imap_fail(s, n == 0 && s->i == s->len ? IMAP_E_MISSING : IMAP_E_SEARCH);
}

/* search-return-opts after "RETURN" SP (RFC 4731 3): "(" [opt *(SP opt)]
 * ")" then SP; "()" means ALL.  SAVE (RFC 5182) is refused. */
static int
search_return(struct imap_p *s)
{
	static const char *const opts[] = { "MIN", "MAX", "ALL", "COUNT" };
	struct imap_cmd *c = s->c;
	size_t k;

	c->has_return = 1;
	if (!imap_need(s, '(', IMAP_E_RETURN))
		return 0;
	if (imap_eat(s, ')')) {
		c->search_ret = IMAP_RET_ALL;
		return imap_sp(s);
	}
	do {
		if ((k = imap_keyword(s, opts, 4, IMAP_E_RETURN)) == 4)
			return 0;
		c->search_ret |= 1u << k;	/* IMAP_RET_*, in opts' order */
	} while (imap_eat(s, ' '));
	return imap_need(s, ')', IMAP_E_RETURN) && imap_sp(s);
}

/* search = "SEARCH" [SP "RETURN" SP "(" ... ")"] [SP "CHARSET" SP astring]
 * 1*(SP search-key) */
int
imap_search_args(struct imap_p *s)
{
	int16_t root;

	if (!imap_sp(s))
		return 0;
	if (s->len - s->i >= 7 && strncasecmp(s->p + s->i, "RETURN ", 7) == 0) {
		s->i += 7;
		if (!search_return(s))
			return 0;
	}
	if (s->len - s->i >= 8 && strncasecmp(s->p + s->i, "CHARSET ", 8) == 0) {
		s->i += 8;
		if (!imap_astring(s, &s->c->charset) || !imap_sp(s))
			return 0;
	}
	return snode(s, IMAP_K_AND, &root) && search_list(s, 0, root, -1);
}

