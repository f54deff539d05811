/*
 * imap_parse: pure IMAP4rev1 command parser shared by imap-login and imap:
 * the command table, each command's arguments, and the incremental reader
 * of lines and literals.  Input is untrusted network text; see
 * imap_parse.h for the limits.
 */
#include <string.h>
#include <strings.h>

#include "imap_token.h"

typedef int (*imap_args_fn)(struct imap_p *);

static const char *const imap_errs[IMAP_E_COUNT] = {
	[IMAP_E_OK] = "OK",
	[IMAP_E_TAG] = "Invalid tag",
	[IMAP_E_UNKNOWN] = "Unknown command",
	[IMAP_E_SYNTAX] = "Syntax error",
	[IMAP_E_MISSING] = "Missing argument",
	[IMAP_E_TRAILING] = "Unexpected extra arguments",
	[IMAP_E_NUMBER] = "Invalid number",
	[IMAP_E_SEQSET] = "Invalid sequence set",
	[IMAP_E_STRING] = "Invalid string",
	[IMAP_E_LITERAL] = "Invalid literal",
	[IMAP_E_TOOBIG] = "Literal too big",
	[IMAP_E_TOOLONG] = "Command line too long",
	[IMAP_E_DEPTH] = "Too deeply nested",
	[IMAP_E_LIMIT] = "Too many items",
	[IMAP_E_MAILBOX] = "Invalid mailbox name",
	[IMAP_E_FETCH] = "Invalid FETCH attribute",
	[IMAP_E_SECTION] = "Invalid BODY section",
	[IMAP_E_FLAG] = "Invalid flag",
	[IMAP_E_STORE] = "Invalid STORE item",
	[IMAP_E_SEARCH] = "Invalid search key",
	[IMAP_E_DATE] = "Invalid date",
	[IMAP_E_STATUS] = "Invalid STATUS item",
	[IMAP_E_AUTH] = "Invalid SASL mechanism or response",
	[IMAP_E_PARAM] = "Invalid parameter or modifier",
	[IMAP_E_LIST] = "Invalid LIST option",
	[IMAP_E_RETURN] = "Invalid RETURN option",
};

const char *
imap_err_str(enum imap_err e)
{
	if ((unsigned)e >= IMAP_E_COUNT)
		return "Invalid command";
	return imap_errs[e];
}

static int
args_none(struct imap_p *s)
{
	return 1;
}

/* RFC 4422 3.1 mechanism: 1..20 of A-Z 0-9 - _ (any case, upper-cased). */
static int
sasl_mech(struct imap_p *s)
{
	struct imap_cmd *c = s->c;
	const char *w;
	size_t n = imap_span(s, &w, imap_atom_char);
	char *m;

	if (n == 0)
		return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_AUTH);
	if (n > 20 || !imap_put(s, w, n, &c->a))
		return imap_fail(s, IMAP_E_AUTH);
	m = c->arena.data + c->a.off;
	for (size_t i = 0; i < n; i++) {
		if (m[i] >= 'a' && m[i] <= 'z')
			m[i] = (char)(m[i] - 'a' + 'A');
		if (!((m[i] >= 'A' && m[i] <= 'Z') || (m[i] >= '0' && m[i] <= '9') ||
		    m[i] == '-' || m[i] == '_'))
			return imap_fail(s, IMAP_E_AUTH);
	}
	return 1;
}

/* The base64 alphabet of RFC 4648 4, padding apart. */
static int
b64_char(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

/* AUTHENTICATE SP auth-type [SP (base64 / "=")] (RFC 4959) */
static int
args_auth(struct imap_p *s)
{
	struct imap_cmd *c = s->c;
	size_t st, n;

	if (!imap_sp(s) || !sasl_mech(s))
		return 0;
	if (!imap_eat(s, ' '))
		return 1;
	c->has_ir = 1;
	if (imap_eat(s, '='))
		return imap_put(s, "", 0, &c->b);
	for (st = s->i; b64_char(imap_cur(s)); s->i++)
		;
	for (n = 0; n < 2 && imap_eat(s, '='); n++)
		;
	n = s->i - st;
	if (n == 0 || n % 4 != 0)
		return imap_fail(s, IMAP_E_AUTH);
	return imap_put(s, s->p + st, n, &c->b);
}

static int
args_login(struct imap_p *s)
{
	return imap_sp(s) && imap_astring(s, &s->c->a) && imap_sp(s) &&
	    imap_astring(s, &s->c->b);
}

static int
args_mailbox(struct imap_p *s)
{
	return imap_sp(s) && imap_mailbox(s, &s->c->a);
}

/* Step over SP "(" if both are next (an optional parameter or modifier
 * list); 1 or 0 (nothing moved). */
static int
sp_open(struct imap_p *s)
{
	if (s->len - s->i < 2 || s->p[s->i] != ' ' || s->p[s->i + 1] != '(')
		return 0;
	s->i += 2;
	return 1;
}

/* Step over SP and the whole keyword name if they are next; 1 or 0
 * (nothing moved). */
static int
sp_keyword(struct imap_p *s, const char *name)
{
	size_t n = strlen(name), end = s->i + 1 + n;

	if (s->len - s->i < n + 1 || s->p[s->i] != ' ' ||
	    strncasecmp(s->p + s->i + 1, name, n) != 0 ||
	    (end < s->len && imap_word_char((unsigned char)s->p[end])))
		return 0;
	s->i = end;
	return 1;
}

/* select = ("SELECT" / "EXAMINE") SP mailbox [SP "(" select-param
 * *(SP select-param) ")"] (RFC 4466 2.1); the one param is CONDSTORE
 * (RFC 7162 3.1.8). */
static int
args_select(struct imap_p *s)
{
	static const char *const params[] = { "CONDSTORE" };

	if (!args_mailbox(s))
		return 0;
	if (!sp_open(s))
		return 1;	/* the caller judges what follows */
	do {
		if (imap_keyword(s, params, 1, IMAP_E_PARAM) == 1)
			return 0;
		s->c->condstore = 1;
	} while (imap_eat(s, ' '));
	return imap_need(s, ')', IMAP_E_PARAM);
}

/* The modifier list after its "(": name SP mod-sequence, once (RFC 4466
 * fetch-modifiers / store-modifiers with RFC 7162's CHANGEDSINCE and
 * UNCHANGEDSINCE); zero: the value is a mod-sequence-valzer. */
static int
modifiers(struct imap_p *s, const char *name, int zero, int *has, uint64_t *v)
{
	do {
		if (imap_keyword(s, &name, 1, IMAP_E_PARAM) == 1)
			return 0;
		if (*has)
			return imap_fail(s, IMAP_E_PARAM);
		*has = 1;
		if (!imap_sp(s) || !imap_modseq(s, zero, v))
			return 0;
	} while (imap_eat(s, ' '));
	return imap_need(s, ')', IMAP_E_PARAM);
}

static int
args_rename(struct imap_p *s)
{
	return imap_sp(s) && imap_mailbox(s, &s->c->a) && imap_sp(s) &&
	    imap_mailbox(s, &s->c->b);
}

/* list-char = ATOM-CHAR / list-wildcards / resp-specials */
static int
list_char(int ch)
{
	return imap_astring_char(ch) || ch == '%' || ch == '*';
}

/* LSUB SP mailbox SP list-mailbox */
static int
args_list(struct imap_p *s)
{
	return imap_sp(s) && imap_mailbox(s, &s->c->a) && imap_sp(s) &&
	    imap_astring_with(s, &s->c->b, list_char);
}

/* "(" status-att *(SP status-att) ")" into c->status; the bit of
 * atts[k] is 1 << k (IMAP_STATUS_*). */
static int
status_atts(struct imap_p *s)
{
	static const char *const atts[] = { "MESSAGES", "RECENT", "UIDNEXT",
	    "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ" };
	const size_t natts = sizeof(atts) / sizeof(atts[0]);
	size_t k;

	if (!imap_need(s, '(', IMAP_E_STATUS))
		return 0;
	do {
		if ((k = imap_keyword(s, atts, natts, IMAP_E_STATUS)) == natts)
			return 0;
		s->c->status |= 1u << k;
	} while (imap_eat(s, ' '));
	return imap_need(s, ')', IMAP_E_STATUS);
}

static int
args_status(struct imap_p *s)
{
	return imap_sp(s) && imap_mailbox(s, &s->c->a) && imap_sp(s) && status_atts(s);
}

/* list-select-opts after its "(" (RFC 5258 6, 6154 6): "()" allowed;
 * RECURSIVEMATCH needs a base option (SUBSCRIBED or SPECIAL-USE). */
static int
list_select(struct imap_p *s)
{
	static const char *const opts[] = { "SUBSCRIBED", "REMOTE", "RECURSIVEMATCH",
	    "SPECIAL-USE" };
	unsigned *sel = &s->c->list_select;
	size_t k;

	if (!imap_eat(s, ')')) {
		do {
			if ((k = imap_keyword(s, opts, 4, IMAP_E_LIST)) == 4)
				return 0;
			*sel |= 1u << k;	/* IMAP_LSEL_*, in opts' order */
		} while (imap_eat(s, ' '));
		if (!imap_need(s, ')', IMAP_E_LIST))
			return 0;
	}
	if ((*sel & IMAP_LSEL_RECURSIVEMATCH) &&
	    !(*sel & (IMAP_LSEL_SUBSCRIBED | IMAP_LSEL_SPECIAL_USE)))
		return imap_fail(s, IMAP_E_LIST);
	return 1;
}

/* list-return-opts after "RETURN" (RFC 5258, 5819 STATUS, 6154):
 * SP "(" [return-option *(SP return-option)] ")" */
static int
list_return(struct imap_p *s)
{
	static const char *const opts[] = { "SUBSCRIBED", "CHILDREN", "SPECIAL-USE",
	    "STATUS" };
	unsigned *ret = &s->c->list_return;
	size_t k;

	if (!imap_sp(s) || !imap_need(s, '(', IMAP_E_LIST))
		return 0;
	if (imap_eat(s, ')'))
		return 1;
	do {
		if ((k = imap_keyword(s, opts, 4, IMAP_E_LIST)) == 4)
			return 0;
		/* bit k is IMAP_LRET_*, in opts' order; STATUS once, with items */
		if ((1u << k) == IMAP_LRET_STATUS &&
		    ((*ret & IMAP_LRET_STATUS) || !imap_sp(s) || !status_atts(s)))
			return imap_fail(s, IMAP_E_LIST);
		*ret |= 1u << k;
	} while (imap_eat(s, ' '));
	return imap_need(s, ')', IMAP_E_LIST);
}

/* list-mailbox into the next of c->strs */
static int
list_pattern(struct imap_p *s)
{
	struct imap_cmd *c = s->c;

	if (c->nstrs == IMAP_STRS_MAX)
		return imap_fail(s, IMAP_E_LIMIT);
	return imap_astring_with(s, &c->strs[c->nstrs++], list_char);
}

/* list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
 *        [SP list-return-opts]			(RFC 5258 6)
 * mbox-or-pat = list-mailbox / "(" list-mailbox *(SP list-mailbox) ")" */
static int
args_list_ext(struct imap_p *s)
{
	struct imap_cmd *c = s->c;

	if (!imap_sp(s))
		return 0;
	if (imap_eat(s, '(')) {
		c->list_extended = 1;
		if (!list_select(s) || !imap_sp(s))
			return 0;
	}
	if (!imap_mailbox(s, &c->a) || !imap_sp(s))
		return 0;
	if (imap_eat(s, '(')) {
		c->list_extended = 1;
		do {
			if (!list_pattern(s))
				return 0;
		} while (imap_eat(s, ' '));
		if (!imap_need(s, ')', IMAP_E_SYNTAX))
			return 0;
	} else if (!list_pattern(s))
		return 0;
	c->b = c->strs[0];
	if (!sp_keyword(s, "RETURN"))
		return 1;	/* the caller judges what follows */
	c->list_extended = 1;
	return list_return(s);
}

/* append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal */
static int
args_append(struct imap_p *s)
{
	struct imap_cmd *c = s->c;

	if (!imap_sp(s) || !imap_mailbox(s, &c->a) || !imap_sp(s))
		return 0;
	if (imap_cur(s) == '(') {
		c->has_flags = 1;
		if (!imap_flag_list(s) || !imap_sp(s))
			return 0;
	}
	if (imap_cur(s) == '"' && (!imap_date_time(s) || !imap_sp(s)))
		return 0;
	if (imap_cur(s) != '{')
		return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_LITERAL);
	return imap_literal_span(s, &c->msg_off, &c->msg_len);
}

/* fetch = "FETCH" SP sequence-set SP (macro / fetch-att / "(" ... ")")
 * [SP "(" "CHANGEDSINCE" SP mod-sequence-value ")"] (RFC 4466, 7162) */
static int
args_fetch(struct imap_p *s)
{
	struct imap_cmd *c = s->c;

	if (!imap_sp(s) || !imap_seqset(s, &c->set) || !imap_sp(s) || !imap_fetch_atts(s))
		return 0;
	if (!sp_open(s))
		return 1;
	return modifiers(s, "CHANGEDSINCE", 0, &c->has_changedsince, &c->changedsince);
}

/* store = "STORE" SP sequence-set [SP "(" "UNCHANGEDSINCE" SP
 * mod-sequence-valzer ")"] SP store-att-flags (RFC 4466, 7162)
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
 * (flag-list / (flag *(SP flag))) */
static int
args_store(struct imap_p *s)
{
	struct imap_cmd *c = s->c;
	const char *w;
	size_t n;

	if (!imap_sp(s) || !imap_seqset(s, &c->set))
		return 0;
	if (sp_open(s) && !modifiers(s, "UNCHANGEDSINCE", 1, &c->has_unchangedsince,
	    &c->unchangedsince))
		return 0;
	if (!imap_sp(s))
		return 0;
	c->store_op = imap_eat(s, '+') ? IMAP_STORE_ADD : imap_eat(s, '-') ? IMAP_STORE_DEL :
	    IMAP_STORE_SET;
	n = imap_span(s, &w, imap_word_char);
	if (imap_word_is(w, n, "FLAGS.SILENT"))
		c->silent = 1;
	else if (!imap_word_is(w, n, "FLAGS"))
		return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_STORE);
	if (!imap_sp(s))
		return 0;
	if (imap_cur(s) == '(')
		return imap_flag_list(s);
	do {
		if (!imap_flag(s))
			return 0;
	} while (imap_eat(s, ' '));
	return 1;
}

static int
args_copy(struct imap_p *s)
{
	return imap_sp(s) && imap_seqset(s, &s->c->set) && imap_sp(s) && imap_mailbox(s, &s->c->b);
}

static int
args_seqset(struct imap_p *s)
{
	return imap_sp(s) && imap_seqset(s, &s->c->set);
}

/* ENABLE 1*(SP capability) */
static int
args_enable(struct imap_p *s)
{
	struct imap_cmd *c = s->c;
	const char *w;
	size_t n;

	if (!imap_sp(s))
		return 0;
	do {
		if ((n = imap_span(s, &w, imap_atom_char)) == 0)
			return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_SYNTAX);
		if (c->nstrs == IMAP_STRS_MAX)
			return imap_fail(s, IMAP_E_LIMIT);
		if (!imap_put(s, w, n, &c->strs[c->nstrs++]))
			return 0;
	} while (imap_eat(s, ' '));
	return 1;
}

/* RFC 2971: ID SP ("(" [string SP nstring *(SP string SP nstring)] ")" /
 * NIL); at most 30 pairs, fields of 30 octets, values of 1024. */
static int
args_id(struct imap_p *s)
{
	struct imap_cmd *c = s->c;
	struct imap_str *f, *v;

	if (!imap_sp(s))
		return 0;
	if (!imap_eat(s, '(')) {
		if (s->len - s->i < 3 || strncasecmp(s->p + s->i, "NIL", 3) != 0)
			return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_SYNTAX);
		s->i += 3;
		c->id_nil = 1;
		return 1;
	}
	if (imap_eat(s, ')'))
		return 1;
	do {
		if (c->nstrs >= 60)
			return imap_fail(s, IMAP_E_LIMIT);
		f = &c->strs[c->nstrs++];
		v = &c->strs[c->nstrs++];
		if (!imap_string(s, f) || !imap_sp(s) || !imap_nstring(s, v))
			return 0;
		if (f->len > 30 || v->len > 1024)
			return imap_fail(s, IMAP_E_LIMIT);
	} while (imap_eat(s, ' '));
	return imap_need(s, ')', IMAP_E_SYNTAX);
}

static int args_uid(struct imap_p *);

#define IMAP_UIDOK	0x1	/* may follow UID */
#define IMAP_NOTOP	0x2	/* only after UID (UID EXPUNGE seq-set) */

#define IMAP_IN_N	0x1	/* not authenticated */
#define IMAP_IN_A	0x2	/* authenticated */
#define IMAP_IN_S	0x4	/* selected */
#define IMAP_IN_AS	(IMAP_IN_A | IMAP_IN_S)
#define IMAP_IN_ANY	(IMAP_IN_N | IMAP_IN_AS)

static const struct imap_verbdef {
	const char *name;
	enum imap_verb verb;
	imap_args_fn args;
	unsigned flags;
	unsigned states;
} imap_verbs[] = {
	{ "CAPABILITY", IMAP_V_CAPABILITY, args_none, 0, IMAP_IN_ANY },
	{ "NOOP", IMAP_V_NOOP, args_none, 0, IMAP_IN_ANY },
	{ "LOGOUT", IMAP_V_LOGOUT, args_none, 0, IMAP_IN_ANY },
	{ "STARTTLS", IMAP_V_STARTTLS, args_none, 0, IMAP_IN_N },
	{ "AUTHENTICATE", IMAP_V_AUTHENTICATE, args_auth, 0, IMAP_IN_N },
	{ "LOGIN", IMAP_V_LOGIN, args_login, 0, IMAP_IN_N },
	{ "SELECT", IMAP_V_SELECT, args_select, 0, IMAP_IN_AS },
	{ "EXAMINE", IMAP_V_EXAMINE, args_select, 0, IMAP_IN_AS },
	{ "CREATE", IMAP_V_CREATE, args_mailbox, 0, IMAP_IN_AS },
	{ "DELETE", IMAP_V_DELETE, args_mailbox, 0, IMAP_IN_AS },
	{ "RENAME", IMAP_V_RENAME, args_rename, 0, IMAP_IN_AS },
	{ "SUBSCRIBE", IMAP_V_SUBSCRIBE, args_mailbox, 0, IMAP_IN_AS },
	{ "UNSUBSCRIBE", IMAP_V_UNSUBSCRIBE, args_mailbox, 0, IMAP_IN_AS },
	{ "LIST", IMAP_V_LIST, args_list_ext, 0, IMAP_IN_AS },
	{ "LSUB", IMAP_V_LSUB, args_list, 0, IMAP_IN_AS },
	{ "STATUS", IMAP_V_STATUS, args_status, 0, IMAP_IN_AS },
	{ "APPEND", IMAP_V_APPEND, args_append, 0, IMAP_IN_AS },
	{ "CHECK", IMAP_V_CHECK, args_none, 0, IMAP_IN_S },
	{ "CLOSE", IMAP_V_CLOSE, args_none, 0, IMAP_IN_S },
	{ "EXPUNGE", IMAP_V_EXPUNGE, args_none, 0, IMAP_IN_S },
	{ "EXPUNGE", IMAP_V_EXPUNGE, args_seqset, IMAP_UIDOK | IMAP_NOTOP, IMAP_IN_S },
	{ "SEARCH", IMAP_V_SEARCH, imap_search_args, IMAP_UIDOK, IMAP_IN_S },
	{ "FETCH", IMAP_V_FETCH, args_fetch, IMAP_UIDOK, IMAP_IN_S },
	{ "STORE", IMAP_V_STORE, args_store, IMAP_UIDOK, IMAP_IN_S },
	{ "COPY", IMAP_V_COPY, args_copy, IMAP_UIDOK, IMAP_IN_S },
	{ "MOVE", IMAP_V_MOVE, args_copy, IMAP_UIDOK, IMAP_IN_S },
	{ "IDLE", IMAP_V_IDLE, args_none, 0, IMAP_IN_AS },
	{ "ENABLE", IMAP_V_ENABLE, args_enable, 0, IMAP_IN_A },
	{ "ID", IMAP_V_ID, args_id, 0, IMAP_IN_ANY },
	{ "NAMESPACE", IMAP_V_NAMESPACE, args_none, 0, IMAP_IN_AS },
	{ "UNSELECT", IMAP_V_UNSELECT, args_none, 0, IMAP_IN_S },
	{ "UID", IMAP_V_UNKNOWN, args_uid, 0, IMAP_IN_S },
};
#define IMAP_NVERBS (sizeof(imap_verbs) / sizeof(imap_verbs[0]))

const char *
imap_verb_name(enum imap_verb v)
{
	for (size_t i = 0; i < IMAP_NVERBS; i++)
		if (imap_verbs[i].verb == v && v != IMAP_V_UNKNOWN)
			return imap_verbs[i].name;
	return "UNKNOWN";
}

int
imap_state_allows(enum imap_state state, enum imap_verb verb)
{
	static const unsigned bit[] = { [IMAP_STATE_NOTAUTH] = IMAP_IN_N,
	    [IMAP_STATE_AUTH] = IMAP_IN_A, [IMAP_STATE_SELECTED] = IMAP_IN_S };

	if ((unsigned)state > IMAP_STATE_SELECTED || verb == IMAP_V_UNKNOWN)
		return 0;
	for (size_t i = 0; i < IMAP_NVERBS; i++)
		if (imap_verbs[i].verb == verb)
			return (imap_verbs[i].states & bit[state]) != 0;
	return 0;
}

/* The command name at the cursor, then its arguments; uid: after "UID". */
static int
command(struct imap_p *s, int uid)
{
	const char *w;
	size_t n = imap_span(s, &w, imap_atom_char);

	for (size_t i = 0; i < IMAP_NVERBS; i++) {
		const struct imap_verbdef *d = &imap_verbs[i];

		if (!imap_word_is(w, n, d->name) || (uid && !(d->flags & IMAP_UIDOK)) ||
		    (!uid && (d->flags & IMAP_NOTOP)))
			continue;
		s->c->verb = d->verb;
		return d->args(s);
	}
	return imap_fail(s, n == 0 && s->i == s->len && uid ? IMAP_E_MISSING :
	    IMAP_E_UNKNOWN);
}

static int
args_uid(struct imap_p *s)
{
	s->c->uid = 1;
	return imap_sp(s) && command(s, 1);
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static int
tag(struct imap_p *s)
{
	const char *w;
	size_t n = imap_span(s, &w, imap_astring_char);

	if (n == 0 || n > IMAP_TAG_MAX || memchr(w, '+', n) != NULL)
		return imap_fail(s, IMAP_E_TAG);
	memcpy(s->c->tag, w, n);
	s->c->tag[n] = '\0';
	return 1;
}

const char *
imap_str(const struct imap_cmd *c, struct imap_str s)
{
	if (c->arena.data == NULL || s.off >= c->arena.len)
		return "";
	return c->arena.data + s.off;
}

void
imap_cmd_free(struct imap_cmd *c)
{
	buf_free_secret(&c->arena);
}

enum imap_err
imap_cmd_parse(const char *cmd, size_t len, struct imap_cmd *out)
{
	struct imap_p s = { cmd, len, 0, out, IMAP_E_OK };

	memset(out, 0, sizeof(*out));
	/* every decoded string is no longer than its encoding plus a NUL */
	buf_init(&out->arena, len < BUF_NOLIMIT / 2 ? 2 * len + 16 : BUF_NOLIMIT);
	if (!tag(&s))
		return s.err;
	if (s.i == s.len)
		return IMAP_E_UNKNOWN;
	if (!imap_eat(&s, ' '))
		return IMAP_E_TAG;
	if (!command(&s, 0))
		return s.err != IMAP_E_OK ? s.err : IMAP_E_SYNTAX;
	if (s.i != s.len)
		return IMAP_E_TRAILING;
	return IMAP_E_OK;
}


/* ---- the reader ---- */

void
imap_reader_init(struct imap_reader *r, size_t cmd_max, size_t lit_max)
{
	memset(r, 0, sizeof(*r));
	r->cmd_max = cmd_max;
	r->lit_max = lit_max;
}

/* Does line end with a literal announcement outside a quoted string?
 * 1 with *v and *sync set, 0 if not, -1 if it is malformed.  Outside
 * quotes '{' always starts a literal ('}' may be part of an atom). */
static int
reader_lit(const char *line, size_t len, uint32_t *v, int *sync)
{
	size_t i, lb = len, end;
	uint64_t x = 0;
	int inq = 0;

	for (i = 0; i < len; i++) {
		if (inq && line[i] == '\\' && i + 1 < len)
			i++;
		else if (line[i] == '"')
			inq = !inq;
		else if (!inq && line[i] == '{')
			lb = i;
	}
	if (inq || lb == len || line[len - 1] != '}' ||
	    memchr(line + lb, '}', len - 1 - lb) != NULL)
		return 0;	/* no announcement at the end: the parser judges */
	end = len - 1;
	*sync = !(end > lb + 1 && line[end - 1] == '+');
	end -= !*sync;
	if (end == lb + 1)
		return -1;
	for (i = lb + 1; i < end; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(line[i] - '0');
		if (x > UINT32_MAX)
			return -1;
	}
	*v = (uint32_t)x;
	return 1;
}

enum imap_rstat
imap_reader_line(struct imap_reader *r, const char *line, size_t len,
    enum imap_err *err)
{
	uint32_t v = 0;
	int sync = 1, k;

	*err = IMAP_E_OK;
	r->lit_len = 0;
	r->lit_sync = 1;
	if (len > r->cmd_max || r->cmd_max - len < r->total + 2) {
		*err = IMAP_E_TOOLONG;
		return IMAP_R_ERROR;
	}
	r->total += len + 2;
	if ((k = reader_lit(line, len, &v, &sync)) == 0)
		return IMAP_R_DONE;
	if (k == -1) {
		*err = IMAP_E_LITERAL;
		return IMAP_R_ERROR;
	}
	r->lit_len = v;
	r->lit_sync = sync;
	if (v > r->lit_max || r->cmd_max - r->total < v) {
		*err = IMAP_E_TOOBIG;
		return IMAP_R_ERROR;
	}
	if (++r->nlit > IMAP_LITERALS_MAX) {
		*err = IMAP_E_LIMIT;
		return IMAP_R_ERROR;
	}
	r->total += v;
	return IMAP_R_LITERAL;
}

