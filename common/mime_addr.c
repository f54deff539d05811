/*
 * mime_addr: RFC 5322 address lists into RFC 3501 ENVELOPE addresses, and
 * RFC 2047 encoded-word decoding.  Part of common/mime (see mime.h); pure,
 * input untrusted, lenient as mail clients are (obsolete syntax, missing
 * domains, stray specials, "addr (Name)" comments).
 */
#include <ctype.h>
#include <strings.h>

#include "mime.h"
#include "smtp_parse.h"
#include "xmalloc.h"

enum { T_END, T_ATOM, T_QUOTED, T_DLIT, T_SPECIAL };

struct alex {
	const char *s;
	size_t n, i;
	const char *cm;		/* last top-level comment's text */
	size_t cml;
};

struct tok {
	int type;
	const char *p;		/* quoted/dlit: with the delimiters */
	size_t len;
};

/* Skip white space and comments, remembering the last comment. */
static void
alex_cfws(struct alex *l)
{
	size_t start = 0;
	int depth = 0;

	while (l->i < l->n) {
		char ch = l->s[l->i];

		if (depth > 0 && ch == '\\' && l->i + 1 < l->n)
			l->i++;
		else if (ch == '(') {
			if (depth++ == 0)
				start = l->i + 1;
		} else if (ch == ')' && depth > 0) {
			if (--depth == 0) {
				l->cm = l->s + start;
				l->cml = l->i - start;
			}
		} else if (depth == 0 && ch != ' ' && ch != '\t' && ch != '\r' &&
		    ch != '\n')
			return;
		l->i++;
	}
	if (depth > 0) {	/* unterminated comment */
		l->cm = l->s + start;
		l->cml = l->n - start;
	}
}

static int
atom_char(unsigned char ch)
{
	return ch > 32 && ch != 127 && strchr("()<>@,;:\\\"[]", ch) == NULL;
}

/* Skip a delimited span from l->i (at open) to close, with escapes. */
static void
skip_delimited(struct alex *l, char close)
{
	for (l->i++; l->i < l->n && l->s[l->i] != close; l->i++)
		if (l->s[l->i] == '\\' && l->i + 1 < l->n)
			l->i++;
	if (l->i < l->n)
		l->i++;
}

static void
alex_next(struct alex *l, struct tok *t)
{
	size_t s;

	alex_cfws(l);
	s = l->i;
	t->p = l->s + s;
	if (l->i >= l->n)
		t->type = T_END;
	else if (l->s[s] == '"') {
		t->type = T_QUOTED;
		skip_delimited(l, '"');
	} else if (l->s[s] == '[') {
		t->type = T_DLIT;
		skip_delimited(l, ']');
	} else if (atom_char((unsigned char)l->s[s])) {
		t->type = T_ATOM;
		while (l->i < l->n && atom_char((unsigned char)l->s[l->i]))
			l->i++;
	} else {
		t->type = T_SPECIAL;
		l->i++;
	}
	t->len = l->i - s;
}

static void
alex_peek(struct alex *l, struct tok *t)
{
	size_t save = l->i;

	alex_next(l, t);
	l->i = save;
}

static int
is_special(const struct tok *t, char ch)
{
	return t->type == T_SPECIAL && t->p[0] == ch;
}

/* Append a word: quoted strings unquoted and unescaped. */
static void
put_word(struct buf *b, const struct tok *t)
{
	size_t i, n = t->len;
	int r = 0;

	if (t->type != T_QUOTED) {
		if (buf_append(b, t->p, t->len) == -1)
			return;
		return;
	}
	if (n >= 2 && t->p[n - 1] == '"')
		n--;
	for (i = 1; i < n && r == 0; i++) {
		if (t->p[i] == '\\' && i + 1 < n)
			i++;
		r = buf_putc(b, t->p[i]);
	}
}

/* Collect words (atoms, quoted strings) as a phrase and as a local part. */
static int
get_words(struct alex *l, struct buf *phrase, struct buf *local)
{
	struct tok t;
	int n = 0;

	for (;;) {
		alex_peek(l, &t);
		if (t.type != T_ATOM && t.type != T_QUOTED)
			return n;
		alex_next(l, &t);
		if (n++ > 0 && buf_putc(phrase, ' ') == -1)
			return n;	/* capped: keep what fits */
		put_word(phrase, &t);
		put_word(local, &t);
	}
}

/* A domain: atoms, dots and domain literals, no spaces. */
static void
get_domain(struct alex *l, struct buf *dom)
{
	struct tok t;

	for (;;) {
		alex_peek(l, &t);
		if (t.type != T_ATOM && t.type != T_DLIT)
			return;
		alex_next(l, &t);
		if (buf_append(dom, t.p, t.len) == -1)
			return;
	}
}

static char *
dup_buf(const struct buf *b)
{
	return xstrndup(buf_cstr(b), b->len);
}

static void
emit(struct mime_addrlist *list, char *name, char *adl, char *mailbox,
    char *host)
{
	struct mime_addr *a;

	if (list->n >= MIME_ADDRS_MAX) {
		free(name);
		free(adl);
		free(mailbox);
		free(host);
		return;
	}
	/* grow at powers of two */
	if ((list->n & (list->n - 1)) == 0)
		list->v = xreallocarray(list->v, list->n ? list->n * 2 : 1,
		    sizeof(*list->v));
	a = &list->v[list->n++];
	a->name = name;
	a->adl = adl;
	a->mailbox = mailbox;
	a->host = host;
}

/* After '<': [route ":"] local ["@" domain] ">". */
static void
get_angle(struct alex *l, struct buf *adl, struct buf *local, struct buf *dom)
{
	struct buf junk = BUF_INIT(MIME_FIELD_MAX);
	struct tok t;

	alex_peek(l, &t);
	if (is_special(&t, '@')) {	/* obsolete route */
		for (;;) {
			alex_next(l, &t);
			if (t.type == T_END || is_special(&t, ':') || is_special(&t, '>'))
				break;
			if (buf_append(adl, t.p, t.len) == -1)
				break;
		}
		if (is_special(&t, '>'))
			return;
	}
	(void)get_words(l, &junk, local);
	buf_free(&junk);
	alex_peek(l, &t);
	if (is_special(&t, '@')) {
		alex_next(l, &t);
		get_domain(l, dom);
	}
	/* skip junk to '>' and after it, but not past a list separator */
	for (;;) {
		alex_peek(l, &t);
		if (t.type == T_END || is_special(&t, ',') || is_special(&t, ';'))
			return;
		alex_next(l, &t);
	}
}

/* One mailbox at the lexer (after its words were collected). */
static void
get_mailbox(struct alex *l, struct mime_addrlist *list, struct buf *phrase,
    struct buf *local, int nwords, int angle)
{
	struct buf adl = BUF_INIT(MIME_FIELD_MAX), dom = BUF_INIT(MIME_FIELD_MAX);
	struct tok t;
	char *name = NULL;

	if (angle) {
		if (nwords > 0)
			name = dup_buf(phrase);
		buf_reset(local);
		get_angle(l, &adl, local, &dom);
	} else {
		alex_peek(l, &t);
		if (is_special(&t, '@')) {
			alex_next(l, &t);
			get_domain(l, &dom);
		}
		alex_cfws(l);	/* a trailing comment may be the name */
	}
	if (name == NULL && l->cm != NULL) {
		name = xstrndup(l->cm, l->cml);
	}
	emit(list, name, adl.len > 0 ? dup_buf(&adl) : NULL, dup_buf(local),
	    dup_buf(&dom));
	buf_free(&adl);
	buf_free(&dom);
}

void
mime_parse_addrs(const char *s, size_t n, struct mime_addrlist *list)
{
	struct alex l = { s, n, 0, NULL, 0 };
	struct buf phrase = BUF_INIT(MIME_FIELD_MAX), local = BUF_INIT(MIME_FIELD_MAX);
	struct tok t;
	int nw, in_group = 0;

	for (;;) {
		buf_reset(&phrase);
		buf_reset(&local);
		l.cm = NULL;
		nw = get_words(&l, &phrase, &local);
		alex_peek(&l, &t);
		if (is_special(&t, '<')) {
			alex_next(&l, &t);
			get_mailbox(&l, list, &phrase, &local, nw, 1);
			continue;
		}
		if (is_special(&t, ':')) {
			alex_next(&l, &t);
			if (!in_group) {
				emit(list, NULL, NULL, dup_buf(&phrase), NULL);
				in_group = 1;
			}
			continue;
		}
		if (nw > 0 || is_special(&t, '@')) {
			get_mailbox(&l, list, &phrase, &local, nw, 0);
			continue;
		}
		alex_next(&l, &t);
		if (t.type == T_END)
			break;
		if (is_special(&t, ';') && in_group) {
			emit(list, NULL, NULL, NULL, NULL);
			in_group = 0;
		}
		/* ',' and stray specials or literals: skipped */
	}
	if (in_group)
		emit(list, NULL, NULL, NULL, NULL);
	buf_free(&phrase);
	buf_free(&local);
}

void
mime_addrlist_free(struct mime_addrlist *list)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		free(list->v[i].name);
		free(list->v[i].adl);
		free(list->v[i].mailbox);
		free(list->v[i].host);
	}
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

/* ---- RFC 2047 encoded-words ---- */

enum { CS_UTF8, CS_LATIN1 };

/* Longest encoded-word looked for: RFC 2047 says 75, mailers exceed it. */
#define MIME_EW_MAX	4096

struct ew {
	int cs;
	char enc;		/* 'B' or 'Q' */
	const char *text;
	size_t tlen, len;	/* encoded text; whole word */
};

/* Parse an encoded-word at s (which starts "=?"): 1 if it is one in a
 * supported charset, else 0. */
static int
parse_ew(const char *s, size_t n, struct ew *w)
{
	const char *q1, *q2, *end, *star;
	size_t cl, i;
	char cs[32];

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	if (n > MIME_EW_MAX)
		n = MIME_EW_MAX;	/* keeps the decoder linear */
	if ((q1 = memchr(s + 2, '?', n - 2)) == NULL ||
	    (size_t)(q1 - s) + 3 >= n || q1[2] != '?')
		return 0;
	w->enc = (char)toupper((unsigned char)q1[1]);
	if (w->enc != 'B' && w->enc != 'Q')
		return 0;
	q2 = q1 + 3;
	/* encoded-text holds no '?' and no white space (RFC 2047 2) */
	for (end = q2; end < s + n && *end != '?'; end++)
		if (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			return 0;
	if (end + 1 >= s + n || end[1] != '=')
		return 0;
	cl = (size_t)(q1 - s - 2);
	if ((star = memchr(s + 2, '*', cl)) != NULL)	/* RFC 2231 language */
		cl = (size_t)(star - s - 2);
	if (cl == 0 || cl >= sizeof(cs))
		return 0;
	for (i = 0; i < cl; i++)
		cs[i] = s[2 + i];
	cs[cl] = '\0';
	if (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "us-ascii") == 0 ||
	    strcasecmp(cs, "utf8") == 0)
		w->cs = CS_UTF8;
	else if (strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0)
		w->cs = CS_LATIN1;
	else
		return 0;
	w->text = q2;
	w->tlen = (size_t)(end - q2);
	w->len = (size_t)(end + 2 - s);
	return 1;
}

int
mime_hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (unsigned char)toupper(ch);
	return ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

int
mime_b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Decode the text of w into raw octets (lenient). */
static int
ew_decode(const struct ew *w, struct buf *out)
{
	unsigned acc = 0;
	size_t i;
	int bits = 0, v;

	for (i = 0; i < w->tlen; i++) {
		unsigned char ch = (unsigned char)w->text[i];

		if (w->enc == 'Q') {
			if (ch == '_')
				ch = ' ';
			else if (ch == '=' && i + 2 < w->tlen &&
			    mime_hexval((unsigned char)w->text[i + 1]) >= 0 &&
			    mime_hexval((unsigned char)w->text[i + 2]) >= 0) {
				ch = (unsigned char)(mime_hexval((unsigned char)w->text[i + 1]) * 16 +
				    mime_hexval((unsigned char)w->text[i + 2]));
				i += 2;
			}
			if (buf_putc(out, (char)ch) == -1)
				return -1;
			continue;
		}
		if (ch == '=')
			break;
		if ((v = mime_b64val(ch)) < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (buf_putc(out, (char)((acc >> bits) & 0xff)) == -1)
				return -1;
		}
	}
	return 0;
}

/* Append decoded octets in charset cs to out as clean UTF-8. */
static int
flush_utf8(const struct buf *raw, int cs, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)raw->data;
	size_t i = 0, l;
	char u[2];

	while (i < raw->len) {
		if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n') {
			l = 1;
			if (buf_putc(out, ' ') == -1)
				return -1;
		} else if (cs == CS_LATIN1 && p[i] >= 0x80) {
			l = 1;
			u[0] = (char)(0xc0 | (p[i] >> 6));
			u[1] = (char)(0x80 | (p[i] & 0x3f));
			if (buf_append(out, u, 2) == -1)
				return -1;
		} else if (cs == CS_LATIN1 || (l = p[i] < 0x80 ? 1 :
		    smtp_utf8_seq((const char *)p + i, raw->len - i)) > 0) {
			if (cs == CS_LATIN1)
				l = 1;
			if (buf_append(out, p + i, l) == -1)
				return -1;
		} else {
			l = 1;
			if (buf_append(out, "\xef\xbf\xbd", 3) == -1)
				return -1;
		}
		i += l;
	}
	return 0;
}

static int
is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

int
mime_decode_words(const char *s, size_t n, struct buf *out)
{
	struct buf pend = BUF_INIT(BUF_NOLIMIT);
	struct ew w, nw;
	size_t i = 0, j, save = out->len;
	int pcs = -1, r = 0;

	pend.max = n;	/* decoding never grows the text */
	while (i < n && r == 0) {
		if (s[i] == '=' && parse_ew(s + i, n - i, &w)) {
			if (pcs != -1 && pcs != w.cs) {
				r = flush_utf8(&pend, pcs, out);
				buf_reset(&pend);
			}
			pcs = w.cs;
			if (r == 0)
				r = ew_decode(&w, &pend);
			i += w.len;
			/* white space before another encoded-word is dropped */
			for (j = i; j < n && is_ws(s[j]); j++)
				;
			if (j > i && j < n && parse_ew(s + j, n - j, &nw))
				i = j;
			continue;
		}
		if (pcs != -1) {
			r = flush_utf8(&pend, pcs, out);
			buf_reset(&pend);
			pcs = -1;
		}
		for (j = i + 1; j < n && s[j] != '='; j++)
			;
		if (r == 0)
			r = buf_append(out, s + i, j - i);
		i = j;
	}
	if (r == 0 && pcs != -1)
		r = flush_utf8(&pend, pcs, out);
	buf_free(&pend);
	if (r == -1)
		buf_truncate(out, save);
	return r;
}
