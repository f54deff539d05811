/* libFuzzer target: IMAP commands through imap_cmd_parse, line streams
 * through the incremental reader then the parser, and mailbox names
 * through imap_mutf7_decode (imapd/imap_*.c, compiled in).  Nothing
 * may fault; accepted results must keep the documented invariants: a valid
 * tag, indices inside their arrays, strings NUL-terminated in the arena,
 * a search tree that is a tree within the depth cap, valid UTF-8 out,
 * extension fields (mod-sequences, RETURN and LIST options) in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_token.c"
#include "../../imapd/imap_fetch.c"
#include "../../imapd/imap_search.c"
#include "../../imapd/imap_parse.c"
#include "../../imapd/imap_mutf7.c"

static void
check_str(const struct imap_cmd *c, struct imap_str s)
{
	if (s.len == 0 && s.off == 0)
		return;		/* unset (or empty at the start of the arena) */
	if (s.off + s.len >= c->arena.len || c->arena.data[s.off + s.len] != '\0' ||
	    memchr(c->arena.data + s.off, '\0', s.len) != NULL)
		abort();
}

static void
check_set(const struct imap_cmd *c, struct imap_set set, int need)
{
	if ((size_t)set.first + set.n > c->nranges || (need && set.n == 0))
		abort();
}

/* Walk node n at depth d; children always come after their parent. */
static size_t
check_node(const struct imap_cmd *c, int16_t n, int d)
{
	const struct imap_snode *k = &c->search[n];
	size_t count = 1, kids = 0;

	if (n < 0 || (size_t)n >= c->nsearch || d > IMAP_DEPTH_MAX ||
	    (unsigned)k->key >= IMAP_K_COUNT)
		abort();
	for (int16_t ch = k->child; ch != -1; ch = c->search[ch].next) {
		if (ch <= n || (size_t)ch >= c->nsearch)
			abort();
		count += check_node(c, ch, d + 1);
		kids++;
	}
	if ((k->key == IMAP_K_OR && kids != 2) || (k->key == IMAP_K_NOT && kids != 1) ||
	    (k->key == IMAP_K_AND && kids == 0) ||
	    (k->key != IMAP_K_OR && k->key != IMAP_K_NOT && k->key != IMAP_K_AND && kids != 0))
		abort();
	if (k->key == IMAP_K_SEQSET || k->key == IMAP_K_UID)
		check_set(c, k->set, 1);
	if (k->key == IMAP_K_MODSEQ && (k->modseq > (uint64_t)INT64_MAX ||
	    (unsigned)k->entry > IMAP_ENTRY_ALL || ((k->entry != IMAP_ENTRY_NONE) !=
	    (k->str.len > 7))))
		abort();
	if (k->key != IMAP_K_MODSEQ && (k->modseq != 0 || k->entry != IMAP_ENTRY_NONE))
		abort();
	if (k->key >= IMAP_K_BEFORE && k->key <= IMAP_K_SENTSINCE &&
	    (k->date.day < 1 || k->date.day > 31 || k->date.mon < 1 || k->date.mon > 12))
		abort();
	check_str(c, k->str);
	check_str(c, k->str2);
	return count;
}

static void
check_fetch(const struct imap_cmd *c)
{
	for (size_t i = 0; i < c->nfetch; i++) {
		const struct imap_fetch *f = &c->fetch[i];

		if (f->nparts > IMAP_PART_MAX || (f->partial && f->plen == 0) ||
		    (size_t)f->field_first + f->nfields > c->nstrs ||
		    (f->att != IMAP_F_BODY_SECTION && (f->nparts || f->partial || f->peek)) ||
		    (f->spec == IMAP_S_MIME && f->nparts == 0) ||
		    ((f->spec == IMAP_S_HEADER_FIELDS || f->spec == IMAP_S_HEADER_FIELDS_NOT) !=
		    (f->nfields > 0)))
			abort();
		for (size_t k = 0; k < f->nparts; k++)
			if (f->part[k] == 0)
				abort();
	}
}

/* The extension fields (CONDSTORE, ESEARCH, LIST-EXTENDED): in range,
 * and set only by their commands. */
static void
check_ext(const struct imap_cmd *c)
{
	const unsigned recursive_ok = IMAP_LSEL_SUBSCRIBED | IMAP_LSEL_SPECIAL_USE;

	if ((c->has_changedsince && (c->changedsince == 0 ||
	    c->changedsince > (uint64_t)INT64_MAX || c->verb != IMAP_V_FETCH)) ||
	    (!c->has_changedsince && c->changedsince != 0) ||
	    (c->has_unchangedsince && (c->unchangedsince > (uint64_t)INT64_MAX ||
	    c->verb != IMAP_V_STORE)) ||
	    (!c->has_unchangedsince && c->unchangedsince != 0) ||
	    (c->condstore && c->verb != IMAP_V_SELECT && c->verb != IMAP_V_EXAMINE))
		abort();
	if ((c->search_ret & ~0x0fu) != 0 || (c->has_return != (c->search_ret != 0)) ||
	    (c->has_return && c->verb != IMAP_V_SEARCH))
		abort();
	if ((c->status & ~0x3fu) != 0 || (c->list_select & ~0x0fu) != 0 ||
	    (c->list_return & ~0x0fu) != 0 ||
	    ((c->list_select & IMAP_LSEL_RECURSIVEMATCH) && !(c->list_select & recursive_ok)) ||
	    ((c->list_select || c->list_return) && !c->list_extended) ||
	    (c->list_extended && c->verb != IMAP_V_LIST) ||
	    ((c->list_return & IMAP_LRET_STATUS) != 0) != (c->verb == IMAP_V_LIST && c->status))
		abort();
	if (c->verb == IMAP_V_LIST && (c->nstrs == 0 || c->b.off != c->strs[0].off ||
	    c->b.len != c->strs[0].len))
		abort();
}

static void
check_cmd(const char *in, size_t len, const struct imap_cmd *c, enum imap_err e)
{
	size_t tl = strnlen(c->tag, sizeof(c->tag));

	if ((unsigned)e >= IMAP_E_COUNT || imap_err_str(e) == NULL ||
	    (unsigned)c->verb >= IMAP_V_COUNT || tl > IMAP_TAG_MAX ||
	    c->nranges > IMAP_RANGES_MAX || c->nfetch > IMAP_FETCH_MAX ||
	    c->nflags > IMAP_FLAGS_MAX || c->nstrs > IMAP_STRS_MAX ||
	    c->nsearch > IMAP_SEARCH_MAX || c->arena.len > 2 * len + 16)
		abort();
	if (e != IMAP_E_OK)
		return;
	if (tl == 0 || c->verb == IMAP_V_UNKNOWN ||
	    strcmp(imap_verb_name(c->verb), "UNKNOWN") == 0)
		abort();
	for (size_t i = 0; i < tl; i++)
		if (!imap_astring_char((unsigned char)c->tag[i]) || c->tag[i] == '+')
			abort();
	check_str(c, c->a);
	check_str(c, c->b);
	check_str(c, c->charset);
	for (size_t i = 0; i < c->nflags; i++)
		check_str(c, c->flags[i]);
	for (size_t i = 0; i < c->nstrs; i++)
		check_str(c, c->strs[i]);
	check_set(c, c->set, c->verb == IMAP_V_FETCH || c->verb == IMAP_V_STORE ||
	    c->verb == IMAP_V_COPY || c->verb == IMAP_V_MOVE);
	check_fetch(c);
	check_ext(c);
	if (c->verb == IMAP_V_FETCH && c->nfetch == 0)
		abort();
	if (c->verb == IMAP_V_SEARCH && check_node(c, 0, 0) > c->nsearch)
		abort();
	if (c->verb == IMAP_V_APPEND && (c->msg_off + c->msg_len != len ||
	    memchr(in + c->msg_off, '\0', c->msg_len) != NULL))
		abort();
}

static void
parse_one(const char *in, size_t len)
{
	struct imap_cmd *c = malloc(sizeof(*c));
	enum imap_err e;

	if (c == NULL)
		abort();
	e = imap_cmd_parse(in, len, c);
	check_cmd(in, len, c, e);
	imap_cmd_free(c);
	free(c);
}

/* Lines split at (CR)LF, literals taken from the input as announced. */
static void
reader_stream(const char *in, size_t len, size_t cmd_max, size_t lit_max)
{
	struct buf cmd = BUF_INIT(cmd_max);
	struct imap_reader r;
	size_t i = 0;

	imap_reader_init(&r, cmd_max, lit_max);
	while (i < len) {
		const char *line = in + i, *nl = memchr(line, '\n', len - i);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - i;
		enum imap_err e;
		enum imap_rstat st;

		i += n + (nl != NULL);
		if (nl != NULL && n > 0 && line[n - 1] == '\r')
			n--;	/* a server strips the CRLF */
		st = imap_reader_line(&r, line, n, &e);
		if (st == IMAP_R_ERROR || r.total > cmd_max)
			break;
		if (buf_append(&cmd, line, n) == -1)
			abort();	/* the reader's total bounds the buffer */
		if (st == IMAP_R_DONE) {
			parse_one(cmd.data != NULL ? cmd.data : "", cmd.len);
			buf_reset(&cmd);
			imap_reader_init(&r, cmd_max, lit_max);
			continue;
		}
		if (r.lit_len > lit_max || len - i < r.lit_len)
			break;
		if (buf_append(&cmd, "\r\n", 2) == -1 ||
		    buf_append(&cmd, in + i, r.lit_len) == -1)
			abort();
		i += r.lit_len;
	}
	buf_free(&cmd);
}

/* Valid UTF-8 (shortest form, no surrogates, <= U+10FFFF), no C0/C1. */
static void
check_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k;

		if (s[i] < 0x80) {
			if (s[i] < 0x20 || s[i] == 0x7f)
				abort();
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			k = 1;
			cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			k = 2;
			cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			k = 3;
			cp = s[i] & 0x07;
		} else
			abort();
		if (i + k >= n)
			abort();
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				abort();
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < 0xa0 || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			abort();
		i += k + 1;
	}
}

static void
mutf7(const char *in, size_t len)
{
	struct buf out = BUF_INIT(4 * len + 16);

	if (imap_mutf7_decode(in, len, &out) == 1)
		check_utf8((const unsigned char *)out.data, out.len);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	/* the first byte picks the limits: tiny to roomy */
	parse_one(in, len);
	reader_stream(in, len, 16 + (size_t)data[0] * 64, 1 + (size_t)(data[0] & 0x0f) * 256);
	mutf7(in, len);
	return 0;
}
