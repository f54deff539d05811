/*
 * imap_render_section: BODY[section]<partial> and RFC822.* of a message
 * (RFC 3501 6.4.5) as spans of the message, and the reader that streams
 * them converted (bare LF as CRLF, NUL as 0x80); see imap_render.h.
 * Used by the imap mail process; the message is untrusted.
 */
#include "imap_render.h"
#include "xmalloc.h"

static void
span_add(struct imap_section *s, const char *m, size_t off, size_t len)
{
	struct imap_span *sp;
	size_t w;

	if (off != IMAP_SPAN_CRLF && len == 0)
		return;
	if (s->n > 0 && off != IMAP_SPAN_CRLF) {
		sp = &s->v[s->n - 1];
		if (sp->off != IMAP_SPAN_CRLF && sp->off + sp->len == off) {
			/* adjacent: one span, whose LF rule sees the CR
			 * before off */
			w = imap_wire_size(m, off, len);
			if (m[off] == '\n' && m[off - 1] == '\r')
				w--;
			sp->len += len;
			sp->wire += w;
			s->wire += w;
			return;
		}
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	sp = &s->v[s->n++];
	sp->off = off;
	sp->len = off == IMAP_SPAN_CRLF ? 2 : len;
	sp->wire = off == IMAP_SPAN_CRLF ? 2 : imap_wire_size(m, off, len);
	s->wire += sp->wire;
}

static int
is_rfc822(const struct mime_part *p)
{
	return p->child != NULL && strcmp(p->type, "message") == 0;
}

/*
 * The part that the numbers of f name (RFC 3501 6.4.5), or NULL.  The
 * parts of a message are the children of its multipart body, or its
 * body alone as part 1; the parts of a message/rfc822 part are those of
 * the message it holds; a multipart part's are its children.
 */
static const struct mime_part *
find_part(const struct mime_part *root, const struct imap_fetch *f)
{
	const struct mime_part *p = root, *c;
	int at_msg = 1;		/* p is a message whose parts n names */
	uint32_t n, i;
	uint8_t k;

	for (k = 0; k < f->nparts; k++) {
		n = f->part[k];
		if (!at_msg && is_rfc822(p)) {
			p = p->child;
			at_msg = 1;
		}
		if (p->child == NULL || is_rfc822(p)) {
			/* a message with a single-part body: only part 1 */
			if (!at_msg || n != 1)
				return NULL;
		} else {
			for (c = p->child, i = 1; c != NULL && i < n; c = c->next)
				i++;
			if (c == NULL)
				return NULL;
			p = c;
		}
		at_msg = 0;
	}
	return p;
}

/* HEADER.FIELDS(.NOT) of the header [start, end). */
static void
header_fields(struct imap_section *s, const char *m, size_t start, size_t end,
    const struct imap_cmd *c, const struct imap_fetch *f)
{
	struct mime_hfield hf;
	size_t pos = start, i;
	int hit;

	while (mime_hfield_next(m, end, &pos, &hf)) {
		for (hit = 0, i = 0; i < f->nfields && !hit; i++) {
			const struct imap_str *st = &c->strs[f->field_first + i];

			hit = mime_hfield_is(m, &hf, imap_str(c, *st), st->len);
		}
		if (hit != (f->spec == IMAP_S_HEADER_FIELDS))
			continue;
		span_add(s, m, hf.start, hf.end - hf.start);
		if (m[hf.end - 1] != '\n')	/* the header's last line at EOF */
			span_add(s, m, IMAP_SPAN_CRLF, 2);
	}
	span_add(s, m, IMAP_SPAN_CRLF, 2);
}

/* Fill s with the spans of spec of the message msg (a message root). */
static void
message_spec(struct imap_section *s, const char *m, const struct mime_part *msg,
    const struct imap_cmd *c, const struct imap_fetch *f, enum imap_spec spec)
{
	switch (spec) {
	case IMAP_S_ALL:
		span_add(s, m, msg->hdr_start, msg->body_end - msg->hdr_start);
		break;
	case IMAP_S_HEADER:
		span_add(s, m, msg->hdr_start, msg->hdr_end - msg->hdr_start);
		break;
	case IMAP_S_HEADER_FIELDS:
	case IMAP_S_HEADER_FIELDS_NOT:
		header_fields(s, m, msg->hdr_start, msg->hdr_end, c, f);
		break;
	case IMAP_S_TEXT:
		span_add(s, m, msg->body_start, msg->body_end - msg->body_start);
		break;
	case IMAP_S_MIME:
		span_add(s, m, msg->hdr_start, msg->hdr_end - msg->hdr_start);
		break;
	}
}

/* The spans of f's section; 0 if it names nothing. */
static int
section_spans(struct imap_section *s, const char *m, const struct mime_part *root,
    const struct imap_cmd *c, const struct imap_fetch *f)
{
	const struct mime_part *p;

	switch (f->att) {
	case IMAP_F_RFC822:
		message_spec(s, m, root, c, f, IMAP_S_ALL);
		return 1;
	case IMAP_F_RFC822_HEADER:
		message_spec(s, m, root, c, f, IMAP_S_HEADER);
		return 1;
	case IMAP_F_RFC822_TEXT:
		message_spec(s, m, root, c, f, IMAP_S_TEXT);
		return 1;
	case IMAP_F_BODY_SECTION:
		break;
	default:
		return 0;
	}
	if (f->nparts == 0) {
		if (f->spec == IMAP_S_MIME)
			return 0;	/* the parser refuses it already */
		message_spec(s, m, root, c, f, f->spec);
		return 1;
	}
	if ((p = find_part(root, f)) == NULL)
		return 0;
	if (f->spec == IMAP_S_ALL) {
		span_add(s, m, p->body_start, p->body_end - p->body_start);
		return 1;
	}
	if (f->spec == IMAP_S_MIME) {
		span_add(s, m, p->hdr_start, p->hdr_end - p->hdr_start);
		return 1;
	}
	if (!is_rfc822(p))
		return 0;
	message_spec(s, m, p->child, c, f, f->spec);
	return 1;
}

int
imap_section_get(const char *m, size_t mlen, const struct mime_part *root,
    const struct imap_cmd *c, const struct imap_fetch *f, struct imap_section *s)
{
	memset(s, 0, sizeof(*s));
	if (root->body_end > mlen)	/* not this message's tree */
		return 0;
	if (!section_spans(s, m, root, c, f))
		return 0;
	s->len = s->wire;
	if (f->att == IMAP_F_BODY_SECTION && f->partial) {
		s->start = f->poff < s->wire ? f->poff : s->wire;
		s->len = s->wire - s->start;
		if (s->len > f->plen)
			s->len = f->plen;
	}
	return 1;
}

void
imap_section_free(struct imap_section *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static const char *const spec_names[] = {
	[IMAP_S_ALL] = "", [IMAP_S_HEADER] = "HEADER",
	[IMAP_S_HEADER_FIELDS] = "HEADER.FIELDS",
	[IMAP_S_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
	[IMAP_S_TEXT] = "TEXT", [IMAP_S_MIME] = "MIME",
};

int
imap_section_name(struct buf *out, const struct imap_cmd *c,
    const struct imap_fetch *f)
{
	const struct imap_str *st;
	uint16_t i;
	uint8_t k;

	if (f->att == IMAP_F_RFC822)
		return buf_puts(out, "RFC822");
	if (f->att == IMAP_F_RFC822_HEADER)
		return buf_puts(out, "RFC822.HEADER");
	if (f->att == IMAP_F_RFC822_TEXT)
		return buf_puts(out, "RFC822.TEXT");
	if (buf_puts(out, "BODY[") == -1)
		return -1;
	for (k = 0; k < f->nparts; k++)
		if (buf_printf(out, k > 0 ? ".%u" : "%u", (unsigned)f->part[k]) == -1)
			return -1;
	if (f->spec != IMAP_S_ALL && ((f->nparts > 0 && buf_putc(out, '.') == -1) ||
	    buf_puts(out, spec_names[f->spec]) == -1))
		return -1;
	if (f->spec == IMAP_S_HEADER_FIELDS || f->spec == IMAP_S_HEADER_FIELDS_NOT) {
		for (i = 0; i < f->nfields; i++) {
			st = &c->strs[f->field_first + i];
			if (buf_puts(out, i == 0 ? " (" : " ") == -1 ||
			    imap_put_astring(out, imap_str(c, *st), st->len) == -1)
				return -1;
		}
		if (buf_putc(out, ')') == -1)
			return -1;
	}
	if (buf_putc(out, ']') == -1)
		return -1;
	return f->partial ? buf_printf(out, "<%u>", (unsigned)f->poff) : 0;
}

/* ---- the reader ---- */

/* Octets of the span at the reader that need no conversion, at most
 * max: copied to dst unless it is NULL; their count. */
static size_t
sreader_run(struct imap_sreader *r, const struct imap_span *sp, char *dst,
    size_t max)
{
	const char *src = r->m + sp->off;
	size_t k = r->pos, lim = sp->len - r->pos > max ? r->pos + max : sp->len;

	while (k < lim && src[k] != '\n' && src[k] != '\0')
		k++;
	if (dst != NULL)
		memcpy(dst, src + r->pos, k - r->pos);
	k -= r->pos;
	r->pos += k;
	r->left -= k;
	return k;
}

/* Move over up to cap octets of the window, copying them to dst unless
 * it is NULL; the count. */
static size_t
sreader_move(struct imap_sreader *r, char *dst, size_t cap)
{
	const struct imap_span *sp;
	size_t n = 0, k;
	char ch;

	while (n < cap && r->left > 0 && r->span < r->s->n) {
		sp = &r->s->v[r->span];
		if (!r->lf && sp->off != IMAP_SPAN_CRLF && r->pos < sp->len &&
		    (k = sreader_run(r, sp, dst != NULL ? dst + n : NULL,
		    cap - n < r->left ? cap - n : r->left)) > 0) {
			n += k;
			continue;
		}
		if (r->lf) {
			ch = '\n';
			r->lf = 0;
		} else if (r->pos == sp->len) {
			r->span++;
			r->pos = 0;
			continue;
		} else if (sp->off == IMAP_SPAN_CRLF) {
			ch = "\r\n"[r->pos++];
		} else {
			ch = r->m[sp->off + r->pos];
			if (ch == '\n' && (r->pos == 0 || r->m[sp->off + r->pos - 1] != '\r')) {
				ch = '\r';
				r->lf = 1;
			} else if (ch == '\0')
				ch = (char)0x80;
			r->pos++;
		}
		if (dst != NULL)
			dst[n] = ch;
		n++;
		r->left--;
	}
	return n;
}

void
imap_sreader_init(struct imap_sreader *r, const struct imap_section *s,
    const char *m)
{
	size_t skip = s->start;

	memset(r, 0, sizeof(*r));
	r->s = s;
	r->m = m;
	/* whole spans first, then octet by octet */
	while (r->span < s->n && s->v[r->span].wire <= skip)
		skip -= s->v[r->span++].wire;
	r->left = skip;
	(void)sreader_move(r, NULL, skip);
	r->left = s->len;
}

size_t
imap_sreader_read(struct imap_sreader *r, char *dst, size_t cap)
{
	return sreader_move(r, dst, cap);
}

int
imap_section_append(struct buf *out, const struct imap_section *s,
    const char *m)
{
	struct imap_sreader r;
	char tmp[4096];
	size_t n;

	imap_sreader_init(&r, s, m);
	while ((n = imap_sreader_read(&r, tmp, sizeof(tmp))) > 0)
		if (buf_append(out, tmp, n) == -1)
			return -1;
	return 0;
}
