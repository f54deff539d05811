/*
 * pop3_cmd: pure POP3 command parser and SASL PLAIN decoder, shared by
 * pop3-login and pop3.  Input is untrusted network text; see pop3_cmd.h
 * for the accepted syntax.
 */
#include <string.h>
#include <strings.h>

#include "pop3_cmd.h"

enum pop3_argkind {
	POP3_ARG_NONE,	/* STAT, NOOP, ... */
	POP3_ARG_NUM,	/* RETR n, DELE n */
	POP3_ARG_OPTNUM,	/* LIST [n], UIDL [n] */
	POP3_ARG_TOP,	/* TOP n lines */
	POP3_ARG_USER,	/* rest of line, SP trimmed */
	POP3_ARG_PASS,	/* rest of line verbatim */
	POP3_ARG_AUTH,	/* [mechanism [initial-response]] */
};

#define POP3_IN_AUTH	0x1	/* allowed in AUTHORIZATION */
#define POP3_IN_TRANS	0x2	/* allowed in TRANSACTION */

static const struct pop3_verbdef {
	const char *name;
	enum pop3_verb verb;
	enum pop3_argkind arg;
	unsigned states;
} pop3_verbs[] = {
	{ "USER", POP3_VERB_USER, POP3_ARG_USER, POP3_IN_AUTH },
	{ "PASS", POP3_VERB_PASS, POP3_ARG_PASS, POP3_IN_AUTH },
	{ "AUTH", POP3_VERB_AUTH, POP3_ARG_AUTH, POP3_IN_AUTH },
	{ "CAPA", POP3_VERB_CAPA, POP3_ARG_NONE, POP3_IN_AUTH | POP3_IN_TRANS },
	{ "STLS", POP3_VERB_STLS, POP3_ARG_NONE, POP3_IN_AUTH },
	{ "QUIT", POP3_VERB_QUIT, POP3_ARG_NONE, POP3_IN_AUTH | POP3_IN_TRANS },
	{ "STAT", POP3_VERB_STAT, POP3_ARG_NONE, POP3_IN_TRANS },
	{ "LIST", POP3_VERB_LIST, POP3_ARG_OPTNUM, POP3_IN_TRANS },
	{ "RETR", POP3_VERB_RETR, POP3_ARG_NUM, POP3_IN_TRANS },
	{ "DELE", POP3_VERB_DELE, POP3_ARG_NUM, POP3_IN_TRANS },
	{ "NOOP", POP3_VERB_NOOP, POP3_ARG_NONE, POP3_IN_TRANS },
	{ "RSET", POP3_VERB_RSET, POP3_ARG_NONE, POP3_IN_TRANS },
	{ "TOP", POP3_VERB_TOP, POP3_ARG_TOP, POP3_IN_TRANS },
	{ "UIDL", POP3_VERB_UIDL, POP3_ARG_OPTNUM, POP3_IN_TRANS },
};
#define POP3_NVERBS (sizeof(pop3_verbs) / sizeof(pop3_verbs[0]))

static const char *const pop3_errs[POP3_E_COUNT] = {
	[POP3_E_OK] = "OK",
	[POP3_E_UNKNOWN] = "Unknown command",
	[POP3_E_MISSING] = "Missing argument",
	[POP3_E_TOOMANY] = "Too many arguments",
	[POP3_E_NUMBER] = "Invalid number",
	[POP3_E_TOOLONG] = "Command line too long",
	[POP3_E_CTRL] = "Control character in command",
	[POP3_E_BADARG] = "Invalid argument",
};

/* Up to 3 SP-separated words of an argument string. */
struct pop3_words {
	const char *w[3];
	size_t l[3];
	size_t n;	/* words found; 3 means "more than two" */
};

const char *
pop3_err_str(enum pop3_err e)
{
	if ((unsigned)e >= POP3_E_COUNT)
		return "Invalid command";
	return pop3_errs[e];
}

static const struct pop3_verbdef *
pop3_verbdef(enum pop3_verb v)
{
	for (size_t i = 0; i < POP3_NVERBS; i++)
		if (pop3_verbs[i].verb == v)
			return &pop3_verbs[i];
	return NULL;
}

const char *
pop3_verb_name(enum pop3_verb v)
{
	const struct pop3_verbdef *d = pop3_verbdef(v);

	return d != NULL ? d->name : "UNKNOWN";
}

int
pop3_state_allows(enum pop3_state state, enum pop3_verb verb)
{
	const struct pop3_verbdef *d = pop3_verbdef(verb);

	if (d == NULL)
		return 0;
	if (state == POP3_STATE_AUTHORIZATION)
		return (d->states & POP3_IN_AUTH) != 0;
	if (state == POP3_STATE_TRANSACTION)
		return (d->states & POP3_IN_TRANS) != 0;
	return 0;
}

void
pop3_cmd_wipe(struct pop3_cmd *c)
{
	explicit_bzero(c, sizeof(*c));
}

/* Decimal digits only, value in [min, POP3_NUM_MAX]; 1 or 0. */
static int
pop3_number(const char *p, size_t n, uint32_t min, uint32_t *v)
{
	uint64_t x = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		x = x * 10 + (uint64_t)(p[i] - '0');
		if (x > POP3_NUM_MAX)
			return 0;
	}
	if (x < min)
		return 0;
	*v = (uint32_t)x;
	return 1;
}

/* Split p[0..n) at runs of SP (leading and trailing SP ignored). */
static void
pop3_split(const char *p, size_t n, struct pop3_words *w)
{
	size_t i = 0, s;

	w->n = 0;
	while (w->n < 3) {
		while (i < n && p[i] == ' ')
			i++;
		if (i == n)
			return;
		for (s = i; i < n && p[i] != ' '; i++)
			;
		w->w[w->n] = p + s;
		w->l[w->n++] = i - s;
	}
}

/* Copy p[0..n) NUL-terminated into a POP3_CMD_MAX+1 array (n is bounded
 * by the line length check). */
static void
pop3_copy(char *dst, size_t *dlen, const char *p, size_t n)
{
	memcpy(dst, p, n);
	dst[n] = '\0';
	*dlen = n;
}

/* RFC 4422 3.1: 1..20 of upper-case letters, digits, '-', '_' (any case
 * accepted, stored upper-cased). */
static enum pop3_err
pop3_mech(const char *p, size_t n, struct pop3_cmd *c)
{
	if (n > POP3_MECH_MAX)
		return POP3_E_BADARG;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_'))
			return POP3_E_BADARG;
		c->arg[i] = ch;
	}
	c->arg[n] = '\0';
	c->arglen = n;
	return POP3_E_OK;
}

static enum pop3_err
pop3_args_auth(const struct pop3_words *w, struct pop3_cmd *c)
{
	enum pop3_err e;

	if (w->n > 2)
		return POP3_E_TOOMANY;
	if (w->n == 0)
		return POP3_E_OK;	/* bare AUTH: list mechanisms */
	if ((e = pop3_mech(w->w[0], w->l[0], c)) != POP3_E_OK)
		return e;
	if (w->n == 2) {
		c->has_ir = 1;
		if (w->l[1] == 1 && w->w[1][0] == '=')
			pop3_copy(c->ir, &c->irlen, "", 0);
		else
			pop3_copy(c->ir, &c->irlen, w->w[1], w->l[1]);
	}
	return POP3_E_OK;
}

/* Arguments made of words: numbers, TOP, AUTH, none. */
static enum pop3_err
pop3_args_words(enum pop3_argkind k, const char *p, size_t n, struct pop3_cmd *c)
{
	struct pop3_words w;
	size_t want = k == POP3_ARG_NONE ? 0 : k == POP3_ARG_TOP ? 2 : 1;

	pop3_split(p, n, &w);
	if (k == POP3_ARG_AUTH)
		return pop3_args_auth(&w, c);
	if (w.n > want)
		return POP3_E_TOOMANY;
	if (w.n < want && k != POP3_ARG_OPTNUM)
		return POP3_E_MISSING;
	if (w.n == 0)
		return POP3_E_OK;
	if (!pop3_number(w.w[0], w.l[0], 1, &c->num))
		return POP3_E_NUMBER;
	c->has_num = 1;
	if (k == POP3_ARG_TOP && !pop3_number(w.w[1], w.l[1], 0, &c->lines))
		return POP3_E_NUMBER;
	return POP3_E_OK;
}

/* p[0..n) is everything after the keyword (starting with SP if any). */
static enum pop3_err
pop3_args(enum pop3_argkind k, const char *p, size_t n, struct pop3_cmd *c)
{
	size_t s = 0, e = n;

	if (k == POP3_ARG_PASS) {
		if (n <= 1)
			return POP3_E_MISSING;
		pop3_copy(c->arg, &c->arglen, p + 1, n - 1);
		return POP3_E_OK;
	}
	if (k != POP3_ARG_USER)
		return pop3_args_words(k, p, n, c);
	while (s < e && p[s] == ' ')
		s++;
	while (e > s && p[e - 1] == ' ')
		e--;
	if (s == e)
		return POP3_E_MISSING;
	pop3_copy(c->arg, &c->arglen, p + s, e - s);
	return POP3_E_OK;
}

/* The table entry for the keyword at the start of line, or NULL; *klen is
 * the keyword's length. */
static const struct pop3_verbdef *
pop3_keyword(const char *line, size_t len, size_t *klen)
{
	size_t k = 0;

	while (k < len && line[k] != ' ')
		k++;
	*klen = k;
	for (size_t i = 0; i < POP3_NVERBS; i++)
		if (strlen(pop3_verbs[i].name) == k &&
		    strncasecmp(pop3_verbs[i].name, line, k) == 0)
			return &pop3_verbs[i];
	return NULL;
}

enum pop3_err
pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *out)
{
	const struct pop3_verbdef *d;
	enum pop3_err e;
	size_t klen;

	memset(out, 0, sizeof(*out));
	if (len > POP3_CMD_MAX)
		return POP3_E_TOOLONG;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return POP3_E_CTRL;
	if ((d = pop3_keyword(line, len, &klen)) == NULL)
		return POP3_E_UNKNOWN;
	out->verb = d->verb;
	e = pop3_args(d->arg, line + klen, len - klen, out);
	if (e != POP3_E_OK) {
		explicit_bzero(out, sizeof(*out));
		out->verb = d->verb;
	}
	return e;
}
