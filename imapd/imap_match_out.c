/*
 * imap_match_out: the SEARCH (RFC 3501 7.2.5) and ESEARCH (RFC 4731 3)
 * responses, with the CONDSTORE MODSEQ item (RFC 7162 3.1.5).  Used by
 * the imap mail process; its input is its own result list.
 */
#include <inttypes.h>

#include "imap_match.h"

int
imap_match_write_set(struct buf *out, const uint32_t *ids, size_t n)
{
	size_t i = 0, j, save = out->len;

	while (i < n) {
		for (j = i; j + 1 < n && ids[j + 1] == ids[j] + 1 && ids[j + 1] != 0; j++)
			;
		if (buf_printf(out, i > 0 ? ",%" PRIu32 : "%" PRIu32, ids[i]) == -1 ||
		    (j > i && buf_printf(out, ":%" PRIu32, ids[j]) == -1)) {
			buf_truncate(out, save);
			return -1;
		}
		i = j + 1;
	}
	return 0;
}

int
imap_match_write_search(struct buf *out, const uint32_t *ids, size_t n,
    uint64_t modseq)
{
	size_t save = out->len;
	int r;

	r = buf_puts(out, "* SEARCH");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = buf_printf(out, " %" PRIu32, ids[i]);
	/* RFC 7162 3.1.5: MODSEQ only with a non-empty result */
	if (r == 0 && modseq != 0 && n > 0)
		r = buf_printf(out, " (MODSEQ %" PRIu64 ")", modseq);
	if (r == 0)
		r = buf_puts(out, "\r\n");
	if (r == -1)
		buf_truncate(out, save);
	return r;
}

/* The tag as a quoted string (a valid tag holds no '"' or '\\', but the
 * writer does not rely on it). */
static int
mo_put_quoted(struct buf *out, const char *s)
{
	int r = buf_putc(out, '"');

	for (; r == 0 && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			r = buf_putc(out, '\\');
		if (r == 0)
			r = buf_putc(out, *s);
	}
	return r == 0 ? buf_putc(out, '"') : -1;
}

int
imap_match_write_esearch(struct buf *out, const char *tag, int uid,
    unsigned ret, const uint32_t *ids, size_t n, uint64_t modseq)
{
	size_t save = out->len;
	int r;

	if ((ret & (IMAP_RET_MIN | IMAP_RET_MAX | IMAP_RET_ALL | IMAP_RET_COUNT)) == 0)
		ret = IMAP_RET_ALL;
	r = buf_puts(out, "* ESEARCH (TAG ");
	if (r == 0)
		r = mo_put_quoted(out, tag);
	if (r == 0)
		r = buf_puts(out, uid ? ") UID" : ")");
	/* RFC 4731 3.1: MIN, MAX and ALL are left out when nothing matched */
	if (r == 0 && (ret & IMAP_RET_MIN) && n > 0)
		r = buf_printf(out, " MIN %" PRIu32, ids[0]);
	if (r == 0 && (ret & IMAP_RET_MAX) && n > 0)
		r = buf_printf(out, " MAX %" PRIu32, ids[n - 1]);
	if (r == 0 && (ret & IMAP_RET_COUNT))
		r = buf_printf(out, " COUNT %zu", n);
	if (r == 0 && (ret & IMAP_RET_ALL) && n > 0)
		r = buf_puts(out, " ALL ") == 0 ? imap_match_write_set(out, ids, n) : -1;
	if (r == 0 && modseq != 0 && n > 0)
		r = buf_printf(out, " MODSEQ %" PRIu64, modseq);
	if (r == 0)
		r = buf_puts(out, "\r\n");
	if (r == -1)
		buf_truncate(out, save);
	return r;
}
