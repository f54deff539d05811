/*
 * imap_token: cursor and tokens of the IMAP command parser (RFC 3501 9):
 * atoms, quoted strings, literals, numbers, sequence sets, flags, dates.
 * Input is untrusted network text; see imap_token.h.
 */
#include <string.h>
#include <strings.h>

#include "imap_token.h"

/* Record the first error; always 0 so callers can `return imap_fail(...)`. */
int
imap_fail(struct imap_p *s, enum imap_err e)
{
	if (s->err == IMAP_E_OK)
		s->err = e;
	return 0;
}

int
imap_cur(const struct imap_p *s)
{
	return s->i < s->len ? (unsigned char)s->p[s->i] : -1;
}

int
imap_eat(struct imap_p *s, int ch)
{
	if (imap_cur(s) != ch)
		return 0;
	s->i++;
	return 1;
}

/* A required SP: absent at the end means a missing argument. */
int
imap_sp(struct imap_p *s)
{
	if (imap_eat(s, ' '))
		return 1;
	return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_SYNTAX);
}

int
imap_need(struct imap_p *s, int ch, enum imap_err e)
{
	if (imap_eat(s, ch))
		return 1;
	return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : e);
}

/* RFC 3501 9: ATOM-CHAR is any CHAR except atom-specials. */
int
imap_atom_char(int ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\]", ch) == NULL;
}

int
imap_astring_char(int ch)
{
	return imap_atom_char(ch) || ch == ']';
}

/* The span of atom characters from the cursor (may be empty). */
size_t
imap_span(struct imap_p *s, const char **w, int (*ok)(int))
{
	size_t st = s->i;

	while (s->i < s->len && ok((unsigned char)s->p[s->i]))
		s->i++;
	*w = s->p + st;
	return s->i - st;
}

/* Letters, digits and '.', the shape of every keyword. */
int
imap_word_char(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

int
imap_word_is(const char *w, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(w, name, n) == 0;
}

/* The keyword at the cursor among names[0..n): its index, or n after
 * recording e (MISSING at the end). */
size_t
imap_keyword(struct imap_p *s, const char *const *names, size_t n, enum imap_err e)
{
	const char *w;
	size_t len = imap_span(s, &w, imap_word_char), k;

	for (k = 0; k < n && !imap_word_is(w, len, names[k]); k++)
		;
	if (k == n)
		imap_fail(s, len == 0 && s->i == s->len ? IMAP_E_MISSING : e);
	return k;
}

/* Append p[0..n) and a NUL to the arena. */
int
imap_put(struct imap_p *s, const char *p, size_t n, struct imap_str *out)
{
	out->off = s->c->arena.len;
	out->len = n;
	out->nil = 0;
	if (buf_append(&s->c->arena, p, n) == -1 || buf_putc(&s->c->arena, 0) == -1)
		return imap_fail(s, IMAP_E_LIMIT);
	return 1;
}

/* number = 1*DIGIT, < 2^32; nz additionally digit-nz first. */
int
imap_number(struct imap_p *s, int nz, uint32_t *v)
{
	uint64_t x = 0;
	size_t st = s->i;

	if (nz && imap_cur(s) == '0')
		return imap_fail(s, IMAP_E_NUMBER);
	while (imap_cur(s) >= '0' && imap_cur(s) <= '9') {
		x = x * 10 + (uint64_t)(imap_cur(s) - '0');
		if (x > UINT32_MAX)
			return imap_fail(s, IMAP_E_NUMBER);
		s->i++;
	}
	if (s->i == st)
		return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_NUMBER);
	*v = (uint32_t)x;
	return 1;
}

/* mod-sequence-value = 1*DIGIT, 1..2^63-1; valzer ("0" too) if zero. */
int
imap_modseq(struct imap_p *s, int zero, uint64_t *v)
{
	uint64_t x = 0;
	size_t st = s->i;

	while (imap_cur(s) >= '0' && imap_cur(s) <= '9') {
		uint64_t d = (uint64_t)(imap_cur(s) - '0');

		if (x > ((uint64_t)INT64_MAX - d) / 10)
			return imap_fail(s, IMAP_E_NUMBER);
		x = x * 10 + d;
		s->i++;
	}
	if (s->i == st)
		return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_NUMBER);
	if (x == 0 && !zero)
		return imap_fail(s, IMAP_E_NUMBER);
	*v = x;
	return 1;
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE; 8-bit octets are accepted (UTF-8
 * from clients that do not use literals), NUL, CR and LF are not. */
static int
quoted(struct imap_p *s, struct imap_str *out)
{
	struct buf *a = &s->c->arena;

	s->i++;		/* DQUOTE */
	out->off = a->len;
	out->nil = 0;
	for (;;) {
		int ch = imap_cur(s);

		if (ch == -1 || ch == 0 || ch == '\r' || ch == '\n')
			return imap_fail(s, IMAP_E_STRING);
		s->i++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			ch = imap_cur(s);
			if (ch != '"' && ch != '\\')
				return imap_fail(s, IMAP_E_STRING);
			s->i++;
		}
		if (buf_putc(a, ch) == -1)
			return imap_fail(s, IMAP_E_LIMIT);
	}
	out->len = a->len - out->off;
	if (buf_putc(a, 0) == -1)
		return imap_fail(s, IMAP_E_LIMIT);
	return 1;
}

/* literal = "{" number ["+"] "}" CRLF *CHAR8; the octets are in the
 * input already (the reader checked the size against the limit). */
int
imap_literal_span(struct imap_p *s, size_t *off, size_t *n)
{
	uint32_t v;

	s->i++;		/* "{" */
	if (!imap_number(s, 0, &v)) {
		s->err = IMAP_E_LITERAL;
		return 0;
	}
	imap_eat(s, '+');
	if (!imap_eat(s, '}') || !imap_eat(s, '\r') || !imap_eat(s, '\n') || s->len - s->i < v)
		return imap_fail(s, IMAP_E_LITERAL);
	if (memchr(s->p + s->i, '\0', v) != NULL)
		return imap_fail(s, IMAP_E_STRING);
	*off = s->i;
	*n = v;
	s->i += v;
	return 1;
}

static int
literal(struct imap_p *s, struct imap_str *out)
{
	size_t off, n;

	return imap_literal_span(s, &off, &n) && imap_put(s, s->p + off, n, out);
}

/* string = quoted / literal */
int
imap_string(struct imap_p *s, struct imap_str *out)
{
	if (imap_cur(s) == '"')
		return quoted(s, out);
	if (imap_cur(s) == '{')
		return literal(s, out);
	return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_STRING);
}

/* astring = 1*ASTRING-CHAR / string; ok selects the bare characters. */
int
imap_astring_with(struct imap_p *s, struct imap_str *out, int (*ok)(int))
{
	const char *w;
	size_t n;

	if (imap_cur(s) == '"' || imap_cur(s) == '{')
		return imap_string(s, out);
	if ((n = imap_span(s, &w, ok)) == 0)
		return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_STRING);
	return imap_put(s, w, n, out);
}

int
imap_astring(struct imap_p *s, struct imap_str *out)
{
	return imap_astring_with(s, out, imap_astring_char);
}

/* nstring = string / "NIL" */
int
imap_nstring(struct imap_p *s, struct imap_str *out)
{
	if (s->len - s->i >= 3 && strncasecmp(s->p + s->i, "NIL", 3) == 0) {
		s->i += 3;
		if (!imap_put(s, "", 0, out))
			return 0;
		out->nil = 1;
		return 1;
	}
	return imap_string(s, out);
}

/* mailbox = "INBOX" / astring; INBOX in any case becomes "INBOX". */
int
imap_mailbox(struct imap_p *s, struct imap_str *out)
{
	if (!imap_astring(s, out)) {
		if (s->err == IMAP_E_STRING)
			s->err = IMAP_E_MAILBOX;
		return 0;
	}
	if (out->len == 5 && strncasecmp(s->c->arena.data + out->off, "INBOX", 5) == 0)
		memcpy(s->c->arena.data + out->off, "INBOX", 5);
	return 1;
}

/* ---- sequence sets ---- */

static int
seq_number(struct imap_p *s, uint32_t *v)
{
	if (imap_eat(s, '*')) {
		*v = IMAP_STAR;
		return 1;
	}
	return imap_number(s, 1, v);
}

/* sequence-set = (seq-number / seq-range) ["," sequence-set] */
int
imap_seqset(struct imap_p *s, struct imap_set *set)
{
	struct imap_cmd *c = s->c;

	set->first = (uint16_t)c->nranges;
	set->n = 0;
	do {
		struct imap_range r;

		if (!seq_number(s, &r.lo)) {
			s->err = s->i == s->len ? IMAP_E_MISSING : IMAP_E_SEQSET;
			return 0;
		}
		r.hi = r.lo;
		if (imap_eat(s, ':') && !seq_number(s, &r.hi)) {
			s->err = IMAP_E_SEQSET;
			return 0;
		}
		if (c->nranges == IMAP_RANGES_MAX)
			return imap_fail(s, IMAP_E_LIMIT);
		c->ranges[c->nranges++] = r;
		set->n++;
	} while (imap_eat(s, ','));
	return 1;
}

/* ---- flags ---- */

/* flag = "\" atom / atom (flag-keyword); "\*" is only for responses. */
int
imap_flag(struct imap_p *s)
{
	struct imap_cmd *c = s->c;
	size_t st = s->i;
	const char *w;

	imap_eat(s, '\\');
	if (imap_span(s, &w, imap_atom_char) == 0)
		return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_FLAG);
	if (c->nflags == IMAP_FLAGS_MAX)
		return imap_fail(s, IMAP_E_LIMIT);
	return imap_put(s, s->p + st, s->i - st, &c->flags[c->nflags++]);
}

/* flag-list = "(" [flag *(SP flag)] ")" */
int
imap_flag_list(struct imap_p *s)
{
	if (!imap_need(s, '(', IMAP_E_FLAG))
		return 0;
	if (imap_eat(s, ')'))
		return 1;
	do {
		if (!imap_flag(s))
			return 0;
	} while (imap_eat(s, ' '));
	return imap_need(s, ')', IMAP_E_FLAG);
}

/* ---- dates ---- */

static const char *const imap_months[12] = { "Jan", "Feb", "Mar", "Apr",
    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* n digits exactly; 1 or 0. */
static int
digits(struct imap_p *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t k = 0; k < n; k++) {
		if (imap_cur(s) < '0' || imap_cur(s) > '9')
			return 0;
		*v = *v * 10 + (unsigned)(imap_cur(s) - '0');
		s->i++;
	}
	return 1;
}

/* "-" date-month "-" date-year, then check the day against the month. */
static int
date_rest(struct imap_p *s, unsigned day, struct imap_date *d)
{
	static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, m;

	if (!imap_eat(s, '-') || s->len - s->i < 4)
		return 0;
	for (m = 0; m < 12; m++)
		if (strncasecmp(s->p + s->i, imap_months[m], 3) == 0)
			break;
	if (m == 12)
		return 0;
	s->i += 3;
	if (!imap_eat(s, '-') || !digits(s, 4, &y) || y == 0 || day == 0 || day > mdays[m])
		return 0;
	if (m == 1 && day == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	d->year = (uint16_t)y;
	d->mon = (uint8_t)(m + 1);
	d->day = (uint8_t)day;
	return 1;
}

/* date = date-text / DQUOTE date-text DQUOTE; date-day = 1*2DIGIT */
int
imap_date_text(struct imap_p *s, struct imap_date *d)
{
	int q = imap_eat(s, '"');
	unsigned day;

	if (!digits(s, 1, &day))
		return imap_fail(s, s->i == s->len ? IMAP_E_MISSING : IMAP_E_DATE);
	if (imap_cur(s) >= '0' && imap_cur(s) <= '9') {
		day = day * 10 + (unsigned)(imap_cur(s) - '0');
		s->i++;
	}
	if (!date_rest(s, day, d) || (q && !imap_eat(s, '"')))
		return imap_fail(s, IMAP_E_DATE);
	return 1;
}

/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time
 * SP zone DQUOTE (APPEND). */
int
imap_date_time(struct imap_p *s)
{
	struct imap_cmd *c = s->c;
	unsigned day, h, m, sec, z;
	int sign;

	s->i++;		/* DQUOTE */
	if (imap_eat(s, ' ')) {
		if (!digits(s, 1, &day))
			return imap_fail(s, IMAP_E_DATE);
	} else if (!digits(s, 2, &day))
		return imap_fail(s, IMAP_E_DATE);
	if (!date_rest(s, day, &c->date) || !imap_eat(s, ' ') || !digits(s, 2, &h) ||
	    !imap_eat(s, ':') || !digits(s, 2, &m) || !imap_eat(s, ':') || !digits(s, 2, &sec) ||
	    !imap_eat(s, ' ') || (imap_cur(s) != '+' && imap_cur(s) != '-'))
		return imap_fail(s, IMAP_E_DATE);
	sign = imap_cur(s) == '-' ? -1 : 1;
	s->i++;
	if (!digits(s, 4, &z) || !imap_eat(s, '"') || h > 23 || m > 59 || sec > 60 ||
	    z % 100 > 59 || z / 100 > 23)
		return imap_fail(s, IMAP_E_DATE);
	c->has_date = 1;
	c->hour = (uint8_t)h;
	c->min = (uint8_t)m;
	c->sec = (uint8_t)sec;
	c->zone = sign * (int)(z / 100 * 60 + z % 100);
	return 1;
}

