/* libFuzzer target: any bytes as a message, matched against fixed SEARCH
 * keys that read it (headers, encoded words, bodies, dates) through
 * imapd/imap_match*.c (compiled in, with the parser).  Nothing may fault;
 * the header must end where mime_parse says; each key and its NOT must
 * disagree; the SEARCH/ESEARCH writers get the
 * results of the keys as ids and must end every line with CRLF. */
#define _GNU_SOURCE	/* memmem, before any system header */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_token.c"
#include "../../imapd/imap_fetch.c"
#include "../../imapd/imap_search.c"
#include "../../imapd/imap_parse.c"
#include "../../imapd/imap_match.c"
#include "../../imapd/imap_match_text.c"
#include "../../imapd/imap_match_out.c"

static const char *const keys[] = {
	"BODY a", "TEXT \"\xc3\xa9\"", "SUBJECT x", "HEADER Date \"\"",
	"SENTON 1-Jan-2000", "SENTSINCE 1-Jan-2000", "OR FROM @ TO @",
	"CC \"\xc3\x84\"", "BODY \"=\"", "HEADER Content-Type multipart",
	"TEXT \"a b\"", "(BCC a SEEN) OR UNSEEN BODY \"\xce\xa3\"",
	"OR MODSEQ 300 SUBJECT \"\"",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static struct imap_cmd cmds[2 * NKEYS];
static int ready;

static void
setup(void)
{
	char line[256];

	for (size_t i = 0; i < 2 * NKEYS; i++) {
		if (str_format(line, sizeof(line), "t SEARCH %s%s%s", i % 2 ? "NOT (" : "",
		    keys[i / 2], i % 2 ? ")" : "") == -1 ||
		    imap_cmd_parse(line, strlen(line), &cmds[i]) != IMAP_E_OK)
			abort();
	}
	ready = 1;
}

struct fmsg {
	const char *data;
	size_t len;
};

static int
fload(void *arg, const char **d, size_t *n)
{
	const struct fmsg *f = arg;

	*d = f->data;
	*n = f->len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_box box = { 5, 9, NULL, 0 };
	struct fmsg f = { (const char *)data, size };
	struct imap_matcher s;
	struct imap_match_msg m;
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	uint32_t ids[NKEYS];
	size_t n = 0;
	int r[2];

	if (!ready)
		setup();
	/* the header ends where mime says it does */
	{
		struct mime_part *root = mime_parse(f.data, f.len);

		if (root->hdr_end != imap_match_header_end(f.data, f.len))
			abort();
		mime_free(root);
	}
	for (size_t k = 0; k < NKEYS; k++) {
		for (int neg = 0; neg < 2; neg++) {
			memset(&m, 0, sizeof(m));
			m.seq = 1;
			m.uid = 1;
			m.flags = size > 0 && (data[0] & 1) ? IMAP_MF_SEEN : 0;
			m.modseq = size;
			m.load = fload;
			m.load_arg = &f;
			if (imap_match_prepare(&s, &cmds[2 * k + neg], &box) != IMAP_MATCH_OK)
				abort();
			r[neg] = imap_match_message(&s, &m);
			imap_match_free(&s);
			imap_match_release(&m);
		}
		if (r[0] < 0 || r[0] > 1 || r[1] != !r[0])
			abort();
		if (r[0])
			ids[n++] = (uint32_t)k + 1;
	}
	if (imap_match_write_search(&out, ids, n, size) == -1 ||
	    imap_match_write_esearch(&out, "t", 1, (unsigned)size & 0xf, ids, n, 0) == -1 ||
	    out.len < 2 || memcmp(out.data + out.len - 2, "\r\n", 2) != 0)
		abort();
	buf_free(&out);
	return 0;
}
