/* libFuzzer target: any bytes through mime_parse, then imapd/imap_render
 * (compiled in): ENVELOPE of every message, BODY and BODYSTRUCTURE, and
 * every section of every part (numbered as RFC 3501 6.4.5 says: the whole
 * part, MIME, and HEADER, TEXT, HEADER.FIELDS(.NOT) of messages), streamed
 * through the reader with partial windows.  Checks: the rendered items
 * are balanced (parentheses, quoted strings, literal counts) with nothing
 * after the last parenthesis; every part's BODY[n] sends exactly the size
 * its BODYSTRUCTURE declares; sections never hold NUL nor a bare LF; the
 * window is what the partial asks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_token.c"
#include "../../imapd/imap_fetch.c"
#include "../../imapd/imap_search.c"
#include "../../imapd/imap_parse.c"
#include "../../imapd/imap_render.c"
#include "../../imapd/imap_render_section.c"

static struct imap_cmd fields_cmd;	/* HEADER.FIELDS (Subject To From) */
static int fields_ready;

/* One parenthesised item: balanced, strings well formed, nothing after. */
static void
check_balanced(const struct buf *b)
{
	const char *s = b->data;
	size_t i = 0, n = b->len, lit;
	int depth = 0;

	if (n == 0 || s[0] != '(')
		abort();
	while (i < n) {
		char ch = s[i];

		if (ch == '(')
			depth++;
		else if (ch == ')') {
			if (--depth < 0)
				abort();
			if (depth == 0 && i + 1 != n)
				abort();
		} else if (ch == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\') {
					i++;
					if (i >= n || (s[i] != '"' && s[i] != '\\'))
						abort();
				} else if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0' ||
				    (unsigned char)s[i] >= 0x80)
					abort();
			}
			if (i >= n)
				abort();
		} else if (ch == '{') {
			lit = strtoul(s + i + 1, NULL, 10);
			while (i < n && s[i] != '}')
				i++;
			if (i + 2 >= n || s[i + 1] != '\r' || s[i + 2] != '\n')
				abort();
			i += 2;
			if (lit > n - i - 1 || memchr(s + i + 1, '\0', lit) != NULL)
				abort();
			i += lit;
		} else if (ch == '\r' || ch == '\n' || ch == '\0')
			abort();
		i++;
	}
	if (depth != 0)
		abort();
}

/* Get, stream and check one section; its wire size. */
static size_t
check_section(const char *m, size_t len, const struct mime_part *root,
    struct imap_fetch *f, size_t expect)
{
	struct imap_section s;
	struct imap_sreader r;
	char tmp[7];
	size_t n, got = 0, wire;
	char prev = 0;

	if (imap_section_get(m, len, root, &fields_cmd, f, &s) != 1)
		abort();
	if (expect != (size_t)-1 && s.wire != expect)
		abort();
	imap_sreader_init(&r, &s, m);
	while ((n = imap_sreader_read(&r, tmp, sizeof(tmp))) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (tmp[i] == '\0' || (tmp[i] == '\n' && prev != '\r' &&
			    !(got == 0 && i == 0 && s.start > 0)))
				abort();
			prev = tmp[i];
		}
		got += n;
	}
	if (got != s.len || s.len != s.wire - s.start)
		abort();
	wire = s.wire;
	imap_section_free(&s);
	/* a window in the middle and one past the end */
	f->partial = 1;
	f->poff = (uint32_t)(wire / 3);
	f->plen = (uint32_t)(wire / 2 + 1);
	if (imap_section_get(m, len, root, &fields_cmd, f, &s) != 1 ||
	    s.start != f->poff || s.len != (wire - s.start < f->plen ? wire - s.start : f->plen))
		abort();
	imap_sreader_init(&r, &s, m);
	for (got = 0; (n = imap_sreader_read(&r, tmp, sizeof(tmp))) > 0; )
		got += n;
	if (got != s.len)
		abort();
	imap_section_free(&s);
	f->poff = (uint32_t)wire;
	if (imap_section_get(m, len, root, &fields_cmd, f, &s) != 1 || s.len != 0)
		abort();
	imap_section_free(&s);
	f->partial = 0;
	return wire;
}

static void
check_message_specs(const char *m, size_t len, const struct mime_part *root,
    struct imap_fetch *f, const struct mime_part *msg)
{
	static const enum imap_spec specs[] = { IMAP_S_HEADER, IMAP_S_TEXT,
	    IMAP_S_HEADER_FIELDS, IMAP_S_HEADER_FIELDS_NOT };
	size_t i;

	f->field_first = fields_cmd.fetch[0].field_first;
	f->nfields = fields_cmd.fetch[0].nfields;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		f->spec = specs[i];
		(void)check_section(m, len, root, f,
		    specs[i] == IMAP_S_HEADER ? imap_wire_size(m, msg->hdr_start,
		    msg->hdr_end - msg->hdr_start) : specs[i] == IMAP_S_TEXT ?
		    msg->wire_size : (size_t)-1);
	}
	f->spec = IMAP_S_ALL;
}

static void
walk(const char *m, size_t len, const struct mime_part *root,
    const struct mime_part *p, struct imap_fetch *f, int at_msg)
{
	const struct mime_part *c;
	uint32_t i = 1;
	uint8_t depth = f->nparts;

	if (depth >= IMAP_PART_MAX)
		return;
	if (!at_msg && is_rfc822(p)) {
		p = p->child;
		at_msg = 1;
	}
	c = p->child == NULL || is_rfc822(p) ? (at_msg ? p : NULL) : p->child;
	for (; c != NULL; c = c == p ? NULL : c->next, i++) {
		f->part[depth] = i;
		f->nparts = depth + 1;
		f->spec = IMAP_S_ALL;
		(void)check_section(m, len, root, f, c->wire_size);
		f->spec = IMAP_S_MIME;
		(void)check_section(m, len, root, f,
		    imap_wire_size(m, c->hdr_start, c->hdr_end - c->hdr_start));
		f->spec = IMAP_S_ALL;
		if (is_rfc822(c))
			check_message_specs(m, len, root, f, c->child);
		walk(m, len, root, c, f, 0);
		f->nparts = depth;
	}
}

static void
check_envelopes(const struct mime_part *p)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	if (p->env != NULL) {
		if (imap_put_envelope(&b, p->env) != 0)
			abort();
		check_balanced(&b);
		buf_free(&b);
	}
	for (p = p->child; p != NULL; p = p->next)
		check_envelopes(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char fc[] = "t FETCH 1 BODY[HEADER.FIELDS (Subject To FROM)]";
	const char *m = (const char *)data;
	struct mime_part *root;
	struct imap_fetch f;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int ext;

	if (!fields_ready) {
		if (imap_cmd_parse(fc, sizeof(fc) - 1, &fields_cmd) != IMAP_E_OK)
			abort();
		fields_ready = 1;
	}
	root = mime_parse(m, size);
	check_envelopes(root);
	for (ext = 0; ext <= 1; ext++) {
		if (imap_put_body(&b, root, ext) != 0)
			abort();
		check_balanced(&b);
		buf_reset(&b);
	}
	buf_free(&b);
	memset(&f, 0, sizeof(f));
	f.att = IMAP_F_BODY_SECTION;
	if (check_section(m, size, root, &f, imap_wire_size(m, 0, size)) !=
	    imap_wire_size(m, 0, size))
		abort();
	check_message_specs(m, size, root, &f, root);
	walk(m, size, root, root, &f, 1);
	mime_free(root);
	return 0;
}
