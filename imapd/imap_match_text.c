/*
 * imap_match_text: the text side of SEARCH (see imap_match.h): simple case
 * folding of UTF-8, header fields with RFC 2047 words decoded, body text
 * with transfer encodings undone and Latin-1 converted, RFC 5322 dates,
 * and the exact copy of some header fields the folder's cache keeps.
 * Used by the imap mail process; the message bytes are untrusted.  Every
 * pass is linear in the message and every buffer bounded by its size.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem */
#endif
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "imap_match.h"
#include "smtp_parse.h"

/* ---- case folding ---- */

/* Simple lower-case mapping of cp for the blocks folded (imap_match.h);
 * the result always has the same UTF-8 length as cp. */
static unsigned
mt_fold_cp(unsigned cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 32;
	if (cp < 0xc0)
		return cp;
	if (cp <= 0xde)
		return cp == 0xd7 ? cp : cp + 32;
	if (cp >= 0x100 && cp <= 0x17f) {
		if (cp == 0x178)
			return 0xff;
		if ((cp <= 0x137 || (cp >= 0x14a && cp <= 0x177)) && cp % 2 == 0)
			return cp + 1;
		if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e)) &&
		    cp % 2 == 1)
			return cp + 1;
		return cp;
	}
	if (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2)
		return cp + 32;		/* Greek capitals */
	if (cp == 0x3c2)
		return 0x3c3;		/* final sigma folds to sigma */
	if (cp >= 0x410 && cp <= 0x42f)
		return cp + 32;		/* Cyrillic capitals */
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 80;
	return cp;
}

/* Decode the valid UTF-8 sequence at p (smtp_utf8_seq checks it) into
 * *cp: its length, 0 if invalid. */
static size_t
mt_utf8_get(const unsigned char *p, size_t n, unsigned *cp)
{
	size_t len = p[0] < 0x80 ? 1 : smtp_utf8_seq((const char *)p, n), i;

	*cp = len > 1 ? p[0] & (0x7fu >> len) : p[0];
	for (i = 1; i < len; i++)
		*cp = (*cp << 6) | (p[i] & 0x3f);
	return len;
}

int
imap_match_fold(const char *s, size_t n, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l, start = out->len;
	unsigned cp, f;
	char u[2];

	if (buf_append(out, s, n) == -1)	/* same length: fold in place */
		return -1;
	while (i < n) {
		if ((l = mt_utf8_get(p + i, n - i, &cp)) == 0) {
			i++;		/* not UTF-8: the byte as itself */
			continue;
		}
		if ((f = mt_fold_cp(cp)) != cp) {
			if (l == 1)
				out->data[start + i] = (char)f;
			else {		/* 2-octet in, 2-octet out */
				u[0] = (char)(0xc0 | (f >> 6));
				u[1] = (char)(0x80 | (f & 0x3f));
				memcpy(out->data + start + i, u, 2);
			}
		}
		i += l;
	}
	return 0;
}

/* ---- headers ---- */

static size_t
mt_line_end(const char *m, size_t i, size_t end)
{
	const char *lf = memchr(m + i, '\n', end - i);

	return lf != NULL ? (size_t)(lf - m) + 1 : end;
}

static size_t
mt_content_end(const char *m, size_t i, size_t le)
{
	if (le > i && m[le - 1] == '\n') {
		le--;
		if (le > i && m[le - 1] == '\r')
			le--;
	}
	return le;
}

/* If the line [i, ce) starts a field, the offset after its ':', else 0. */
static size_t
mt_field_colon(const char *m, size_t i, size_t ce, size_t *name_end)
{
	size_t j;

	for (j = i; j < ce && m[j] > 32 && m[j] < 127 && m[j] != ':'; j++)
		;
	*name_end = j;
	while (j < ce && (m[j] == ' ' || m[j] == '\t'))
		j++;
	if (j == i || j >= ce || m[j] != ':')
		return 0;
	return j + 1;
}

/* The same rule as mime.c: the header ends after its empty line or before
 * the first line that is neither a field nor a continuation. */
size_t
imap_match_header_end(const char *m, size_t len)
{
	size_t i = 0, le, ce, ne;

	while (i < len) {
		le = mt_line_end(m, i, len);
		ce = mt_content_end(m, i, le);
		if (ce == i && le > i)
			return le;
		if (m[i] != ' ' && m[i] != '\t' && mt_field_colon(m, i, ce, &ne) == 0)
			return i;
		i = le;
	}
	return len;
}

int
imap_match_field_next(const char *h, size_t hlen, size_t *pos, const char *name,
    struct buf *v)
{
	struct mime_hfield f;
	size_t nlen = strlen(name);

	while (mime_hfield_next(h, hlen, pos, &f))
		if (mime_hfield_is(h, &f, name, nlen)) {
			buf_reset(v);
			return mime_hfield_value(h, &f, v) == 0;
		}
	*pos = hlen;
	return 0;
}

int
imap_match_field(const char *h, size_t hlen, const char *name,
    const struct buf *needle, int *present)
{
	struct buf v = BUF_INIT(BUF_NOLIMIT), dec = BUF_INIT(BUF_NOLIMIT),
	    fold = BUF_INIT(BUF_NOLIMIT);
	size_t pos = 0;
	int hit = 0;

	*present = 0;
	while (!hit && imap_match_field_next(h, hlen, &pos, name, &v)) {
		*present = 1;
		buf_reset(&dec);
		buf_reset(&fold);
		if (mime_decode_words(buf_cstr(&v), v.len, &dec) == 0 &&
		    imap_match_fold(buf_cstr(&dec), dec.len, &fold) == 0)
			hit = needle->len == 0 || memmem(buf_cstr(&fold), fold.len,
			    needle->data, needle->len) != NULL;
	}
	buf_free(&v);
	buf_free(&dec);
	buf_free(&fold);
	return hit;
}

/* ---- the fields the folder's cache keeps (exact copies) ---- */

/* Bit i of a fields mask: the field imap_match_field_names[i]. */
static const char *const imap_match_field_names[IMAP_MATCH_NFIELDS] = {
	"from", "to", "cc", "bcc", "subject", "date", "message-id",
	"in-reply-to", "references",
};

int
imap_match_field_bit(const char *name)
{
	for (int i = 0; i < IMAP_MATCH_NFIELDS; i++)
		if (strcasecmp(name, imap_match_field_names[i]) == 0)
			return i;
	return -1;
}

/* The bit of field f of m, or -1 if it is not one the cache keeps. */
static int
fields_bit_of(const char *m, const struct mime_hfield *f)
{
	for (int i = 0; i < IMAP_MATCH_NFIELDS; i++)
		if (mime_hfield_is(m, f, imap_match_field_names[i],
		    strlen(imap_match_field_names[i])))
			return i;
	return -1;
}

/* One walk of the header finds the occurrences (at most
 * IMAP_MATCH_FIELDS_SEEN of them; a field with more is left out) and the
 * fields that cannot be copied: one whose last line has no line end (the
 * header's last line at the end of the file: a copy followed by another
 * field would read differently) or over IMAP_MATCH_FIELD_MAX.  Then each
 * field's occurrences are appended in the file's order. */
unsigned
imap_match_fields_make(const char *data, size_t len, struct buf *out)
{
	struct { size_t start, end; int bit; } occ[IMAP_MATCH_FIELDS_SEEN];
	size_t hdr = imap_match_header_end(data, len), pos = 0, n = 0, start,
	    size[IMAP_MATCH_NFIELDS] = { 0 };
	unsigned mask = (1u << IMAP_MATCH_NFIELDS) - 1;
	struct mime_hfield f;
	int b;

	while (mime_hfield_next(data, hdr, &pos, &f)) {
		if ((b = fields_bit_of(data, &f)) < 0 || (mask >> b & 1) == 0)
			continue;
		size[b] += f.end - f.start;
		if (data[f.end - 1] == '\n' && size[b] <= IMAP_MATCH_FIELD_MAX &&
		    n < IMAP_MATCH_FIELDS_SEEN) {
			occ[n].start = f.start, occ[n].end = f.end, occ[n++].bit = b;
			continue;
		}
		mask &= ~(1u << b);	/* left out: forget what it had */
		for (size_t i = 0, k = n; i < k; i++)
			if (occ[i].bit == b)
				n--;
			else
				occ[i - (k - n)] = occ[i];
	}
	for (b = 0; b < IMAP_MATCH_NFIELDS; b++) {
		start = out->len;
		for (size_t i = 0; i < n && (mask >> b & 1) != 0; i++) {
			if (occ[i].bit != b)
				continue;
			if (out->len + (occ[i].end - occ[i].start) > IMAP_MATCH_FIELDS_MAX ||
			    buf_append(out, data + occ[i].start, occ[i].end - occ[i].start) == -1) {
				buf_truncate(out, start);
				mask &= ~(1u << b);
			}
		}
	}
	return mask;
}

/* ---- the message ---- */

int
imap_match_load(struct imap_match_msg *m)
{
	if (m->loaded == 0) {
		m->loaded = -1;
		if (m->load != NULL && m->load(m->load_arg, &m->data, &m->len) == 0 &&
		    (m->data != NULL || m->len == 0)) {
			if (m->data == NULL)
				m->data = "";
			m->hdr_len = imap_match_header_end(m->data, m->len);
			m->loaded = 1;
		}
	}
	return m->loaded == 1 ? 0 : -1;
}

/* Append header [s, e) of the message, words decoded, folded. */
static int
mt_add_header(struct imap_match_msg *m, size_t s, size_t e, struct buf *out)
{
	struct buf dec = BUF_INIT(BUF_NOLIMIT);
	int r;

	r = mime_decode_words(m->data + s, e - s, &dec);
	if (r == 0)
		r = imap_match_fold(buf_cstr(&dec), dec.len, out);
	buf_free(&dec);
	return r;
}

int
imap_match_head(struct imap_match_msg *m)
{
	if (imap_match_load(m) == -1)
		return -1;
	if (!m->head_done) {
		buf_init(&m->head, BUF_NOLIMIT);
		m->head_done = 1;
		if (mt_add_header(m, 0, m->hdr_len, &m->head) == -1)
			buf_reset(&m->head);
	}
	return 0;
}

/* Lenient base64: other octets skipped, '=' ends a quantum. */
static int
mt_dec_base64(const char *s, size_t n, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0, v;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			acc = 0;
			bits = 0;
			continue;
		}
		if ((v = mime_b64val((unsigned char)s[i])) < 0)
			continue;
		acc = ((acc << 6) | (unsigned)v) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (buf_putc(out, (char)((acc >> bits) & 0xff)) == -1)
				return -1;
		}
	}
	return 0;
}

/* Lenient quoted-printable: "=XX" decoded, "=" before a line end (after
 * optional white space) is a soft break, any other "=" kept. */
static int
mt_dec_qp(const char *s, size_t n, struct buf *out)
{
	size_t i, j;
	int h1, h2;

	for (i = 0; i < n; i++) {
		if (s[i] != '=') {
			if (buf_putc(out, s[i]) == -1)
				return -1;
			continue;
		}
		if (i + 2 < n && (h1 = mime_hexval((unsigned char)s[i + 1])) >= 0 &&
		    (h2 = mime_hexval((unsigned char)s[i + 2])) >= 0) {
			if (buf_putc(out, (char)(h1 * 16 + h2)) == -1)
				return -1;
			i += 2;
			continue;
		}
		for (j = i + 1; j < n && (s[j] == ' ' || s[j] == '\t' ||
		    s[j] == '\r'); j++)
			;
		if (j == n || s[j] == '\n') {
			i = j;		/* soft line break */
			continue;
		}
		if (buf_putc(out, '=') == -1)
			return -1;
	}
	return 0;
}

static int
mt_latin1_to_utf8(const char *s, size_t n, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	char u[2];
	size_t i, j;

	for (i = 0; i < n; i = j) {
		for (j = i; j < n && p[j] < 0x80; j++)
			;
		if (j > i && buf_append(out, s + i, j - i) == -1)
			return -1;
		if (j < n) {
			u[0] = (char)(0xc0 | (p[j] >> 6));
			u[1] = (char)(0x80 | (p[j] & 0x3f));
			if (buf_append(out, u, 2) == -1)
				return -1;
			j++;
		}
	}
	return 0;
}

static int
mt_is_latin1(const struct mime_part *p)
{
	const struct mime_param *cs = mime_param_get(p->params, p->nparams, "charset");

	return cs != NULL && (strcasecmp(cs->value, "iso-8859-1") == 0 ||
	    strcasecmp(cs->value, "latin1") == 0 ||
	    strcasecmp(cs->value, "iso_8859-1") == 0 ||
	    strcasecmp(cs->value, "windows-1252") == 0);
}

/* Append the folded text of leaf p to out. */
static int
mt_add_text(struct imap_match_msg *m, const struct mime_part *p, struct buf *out)
{
	struct buf dec = BUF_INIT(BUF_NOLIMIT), cv = BUF_INIT(BUF_NOLIMIT);
	const char *s = m->data + p->body_start;
	size_t n = p->body_end - p->body_start;
	const struct buf *t;
	int r = 0;

	if (p->encoding != NULL && strcmp(p->encoding, "base64") == 0)
		r = mt_dec_base64(s, n, &dec);
	else if (p->encoding != NULL && strcmp(p->encoding, "quoted-printable") == 0)
		r = mt_dec_qp(s, n, &dec);
	else
		r = buf_append(&dec, s, n);
	t = &dec;
	if (r == 0 && mt_is_latin1(p)) {
		r = mt_latin1_to_utf8(buf_cstr(&dec), dec.len, &cv);
		t = &cv;
	}
	if (r == 0)
		r = imap_match_fold(buf_cstr(t), t->len, out);
	if (r == 0)
		r = buf_putc(out, '\n');	/* no match across parts */
	buf_free(&dec);
	buf_free(&cv);
	return r;
}

/* Walk the tree below the header of p (whose type describes its body). */
static int
mt_add_body(struct imap_match_msg *m, const struct mime_part *p, struct buf *out)
{
	const struct mime_part *c;

	if (p->flags & MIME_F_BROKEN)
		return 0;
	if (strcmp(p->type, "multipart") == 0) {
		for (c = p->child; c != NULL; c = c->next)
			if (mt_add_body(m, c, out) == -1)
				return -1;
		return 0;
	}
	if (strcmp(p->type, "message") == 0 && p->child != NULL) {
		c = p->child;
		if (mt_add_header(m, c->hdr_start, c->hdr_end, out) == -1 ||
		    buf_putc(out, '\n') == -1)
			return -1;
		return mt_add_body(m, c, out);
	}
	if (strcmp(p->type, "text") == 0)
		return mt_add_text(m, p, out);
	return 0;
}

int
imap_match_body(struct imap_match_msg *m)
{
	if (imap_match_load(m) == -1)
		return -1;
	if (!m->body_done) {
		buf_init(&m->body, BUF_NOLIMIT);
		m->body_done = 1;
		if (m->mime == NULL) {
			m->mime = mime_parse(m->data, m->len);
			m->own_mime = 1;
		}
		if (mt_add_body(m, m->mime, &m->body) == -1)
			buf_reset(&m->body);
	}
	return 0;
}

void
imap_match_release(struct imap_match_msg *m)
{
	if (m->own_mime && m->mime != NULL)
		mime_free(m->mime);
	if (m->own_mime)
		m->mime = NULL;
	m->own_mime = 0;
	if (m->body_done)
		buf_free(&m->body);
	if (m->head_done)
		buf_free(&m->head);
	m->body_done = m->head_done = 0;
	m->loaded = 0;
	m->data = NULL;
	m->len = m->hdr_len = 0;
}

/* ---- RFC 5322 date: [day-name ","] day month year ... ---- */

static void
mt_skip_cfws(const char *s, size_t n, size_t *i)
{
	int depth = 0;

	while (*i < n) {
		if (s[*i] == '(')
			depth++;
		else if (s[*i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && s[*i] != ' ' && s[*i] != '\t' &&
		    s[*i] != '\r' && s[*i] != '\n')
			return;
		(*i)++;
	}
}

static unsigned
mt_digits(const char *s, size_t n, size_t *i, size_t *nd)
{
	unsigned v = 0;

	for (*nd = 0; *i < n && *nd < 5 && s[*i] >= '0' && s[*i] <= '9'; (*i)++, (*nd)++)
		v = v * 10 + (unsigned)(s[*i] - '0');
	return v;
}

int
imap_match_date(const char *s, size_t n, struct imap_date *d)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const uint8_t mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t i = 0, nd, k;
	unsigned day, mon = 0, year;
	int leap;

	mt_skip_cfws(s, n, &i);
	if (i < n && isalpha((unsigned char)s[i])) {	/* day-name "," */
		while (i < n && isalpha((unsigned char)s[i]))
			i++;
		mt_skip_cfws(s, n, &i);
		if (i < n && s[i] == ',')	/* lenient: the comma may lack */
			i++;
		mt_skip_cfws(s, n, &i);
	}
	day = mt_digits(s, n, &i, &nd);
	if (nd < 1 || nd > 2 || day < 1)
		return 0;
	mt_skip_cfws(s, n, &i);
	if (n - i < 3)
		return 0;
	for (k = 0; k < 12 && mon == 0; k++)
		if (strncasecmp(s + i, months + 3 * k, 3) == 0)
			mon = (unsigned)k + 1;
	if (mon == 0)
		return 0;
	for (i += 3; i < n && isalpha((unsigned char)s[i]); i++)
		;			/* lenient: "March" */
	mt_skip_cfws(s, n, &i);
	year = mt_digits(s, n, &i, &nd);
	if (nd < 2 || nd > 4)
		return 0;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	else if (nd == 3)
		year += 1900;
	leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	if (year < 1 || day > mdays[mon - 1] || (mon == 2 && day == 29 && !leap))
		return 0;
	d->year = (uint16_t)year;
	d->mon = (uint8_t)mon;
	d->day = (uint8_t)day;
	return 1;
}
