/*
 * imap_fetch: the FETCH attribute list (RFC 3501 6.4.5, 9: fetch-att,
 * section, partial, the ALL/FAST/FULL macros, RFC 7162's MODSEQ) for the
 * command parser.
 * Input is untrusted network text.
 */
#include <string.h>

#include "imap_token.h"

static int
fetch_add(struct imap_p *s, enum imap_fatt att, struct imap_fetch **f)
{
	struct imap_cmd *c = s->c;

	if (c->nfetch == IMAP_FETCH_MAX)
		return imap_fail(s, IMAP_E_LIMIT);
	*f = &c->fetch[c->nfetch++];
	memset(*f, 0, sizeof(**f));
	(*f)->att = att;
	return 1;
}

/* header-fld-name = astring, and a field name (RFC 5322 ftext). */
static int
field_name(struct imap_p *s)
{
	struct imap_cmd *c = s->c;
	struct imap_str *f;
	const char *t;

	if (c->nstrs == IMAP_STRS_MAX)
		return imap_fail(s, IMAP_E_LIMIT);
	f = &c->strs[c->nstrs++];
	if (!imap_astring(s, f))
		return 0;
	t = imap_str(c, *f);
	if (f->len == 0)
		return imap_fail(s, IMAP_E_SECTION);
	for (size_t i = 0; i < f->len; i++)
		if ((unsigned char)t[i] < 33 || (unsigned char)t[i] > 126 || t[i] == ':')
			return imap_fail(s, IMAP_E_SECTION);
	return 1;
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")" */
static int
header_list(struct imap_p *s, struct imap_fetch *f)
{
	f->field_first = (uint16_t)s->c->nstrs;
	if (!imap_need(s, ' ', IMAP_E_SECTION) || !imap_need(s, '(', IMAP_E_SECTION))
		return 0;
	do {
		if (!field_name(s))
			return 0;
		f->nfields++;
	} while (imap_eat(s, ' '));
	return imap_need(s, ')', IMAP_E_SECTION);
}

/* section-msgtext / "MIME" after the parts (if any); mime: allowed. */
static int
section_text(struct imap_p *s, struct imap_fetch *f, int mime)
{
	const char *w;
	size_t n = imap_span(s, &w, imap_word_char);

	if (imap_word_is(w, n, "HEADER"))
		f->spec = IMAP_S_HEADER;
	else if (imap_word_is(w, n, "TEXT"))
		f->spec = IMAP_S_TEXT;
	else if (mime && imap_word_is(w, n, "MIME"))
		f->spec = IMAP_S_MIME;
	else if (imap_word_is(w, n, "HEADER.FIELDS")) {
		f->spec = IMAP_S_HEADER_FIELDS;
		return header_list(s, f);
	} else if (imap_word_is(w, n, "HEADER.FIELDS.NOT")) {
		f->spec = IMAP_S_HEADER_FIELDS_NOT;
		return header_list(s, f);
	} else
		return imap_fail(s, IMAP_E_SECTION);
	return 1;
}

/* section = "[" [section-spec] "]" ["<" number "." nz-number ">"] */
static int
section(struct imap_p *s, struct imap_fetch *f)
{
	s->i++;		/* "[" */
	if (imap_cur(s) >= '0' && imap_cur(s) <= '9') {
		do {
			if (f->nparts == IMAP_PART_MAX)
				return imap_fail(s, IMAP_E_LIMIT);
			if (!imap_number(s, 1, &f->part[f->nparts++])) {
				s->err = IMAP_E_SECTION;
				return 0;
			}
		} while (imap_eat(s, '.') && imap_cur(s) >= '0' && imap_cur(s) <= '9');
		if (s->p[s->i - 1] == '.' && !section_text(s, f, 1))
			return 0;
	} else if (imap_cur(s) != ']' && !section_text(s, f, 0))
		return 0;
	if (!imap_need(s, ']', IMAP_E_SECTION))
		return 0;
	if (!imap_eat(s, '<'))
		return 1;
	f->partial = 1;
	if (!imap_number(s, 0, &f->poff) || !imap_eat(s, '.') || !imap_number(s, 1, &f->plen) ||
	    !imap_eat(s, '>')) {
		s->err = IMAP_E_SECTION;
		return 0;
	}
	return 1;
}

static const struct {
	const char *name;
	enum imap_fatt att;
} imap_fatts[] = {
	{ "FLAGS", IMAP_F_FLAGS }, { "INTERNALDATE", IMAP_F_INTERNALDATE },
	{ "RFC822.SIZE", IMAP_F_RFC822_SIZE }, { "ENVELOPE", IMAP_F_ENVELOPE },
	{ "BODY", IMAP_F_BODY }, { "BODYSTRUCTURE", IMAP_F_BODYSTRUCTURE },
	{ "UID", IMAP_F_UID }, { "RFC822", IMAP_F_RFC822 },
	{ "RFC822.HEADER", IMAP_F_RFC822_HEADER }, { "RFC822.TEXT", IMAP_F_RFC822_TEXT },
	{ "BODY.PEEK", IMAP_F_BODY_SECTION },
	{ "MODSEQ", IMAP_F_MODSEQ },		/* RFC 7162 3.1.4 */
};

/* One fetch-att. */
static int
fetch_att(struct imap_p *s)
{
	struct imap_fetch *f = NULL;
	const char *w;
	size_t n = imap_span(s, &w, imap_word_char);

	for (size_t i = 0; i < sizeof(imap_fatts) / sizeof(imap_fatts[0]); i++) {
		if (!imap_word_is(w, n, imap_fatts[i].name))
			continue;
		if (!fetch_add(s, imap_fatts[i].att, &f))
			return 0;
		if (f->att == IMAP_F_BODY_SECTION)
			f->peek = 1;
		if (imap_cur(s) == '[' && (f->att == IMAP_F_BODY || f->peek)) {
			f->att = IMAP_F_BODY_SECTION;
			return section(s, f);
		}
		if (f->peek)
			return imap_fail(s, IMAP_E_SECTION);
		return 1;
	}
	return imap_fail(s, n == 0 && s->i == s->len ? IMAP_E_MISSING : IMAP_E_FETCH);
}

/* "ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")" */
int
imap_fetch_atts(struct imap_p *s)
{
	static const enum imap_fatt full[] = { IMAP_F_FLAGS, IMAP_F_INTERNALDATE,
	    IMAP_F_RFC822_SIZE, IMAP_F_ENVELOPE, IMAP_F_BODY };
	size_t st = s->i, nm = 0;
	struct imap_fetch *f = NULL;
	const char *w;
	size_t n;

	if (imap_eat(s, '(')) {
		do {
			if (!fetch_att(s))
				return 0;
		} while (imap_eat(s, ' '));
		return imap_need(s, ')', IMAP_E_FETCH);
	}
	n = imap_span(s, &w, imap_word_char);
	if (imap_word_is(w, n, "ALL"))
		nm = 4;
	else if (imap_word_is(w, n, "FAST"))
		nm = 3;
	else if (imap_word_is(w, n, "FULL"))
		nm = 5;
	else {
		s->i = st;
		return fetch_att(s);
	}
	for (size_t i = 0; i < nm; i++)
		if (!fetch_add(s, full[i], &f))
			return 0;
	return 1;
}

