/* Unit tests for SEARCH from the folder cache's header fields
 * (imap_match_fields_make in imapd/imap_match_text.c, and imap_match
 * reading imap_match_msg.fields): the same searches over the MIME corpus
 * and hostile messages give the same answers with the cached copy as with
 * the file, and a search on cached fields only never loads the file. */
#define _GNU_SOURCE	/* memmem, before any system header */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../imapd/imap_token.c"
#include "../../imapd/imap_fetch.c"
#include "../../imapd/imap_search.c"
#include "../../imapd/imap_parse.c"
#include "../../imapd/imap_match.c"
#include "../../imapd/imap_match_text.c"
#include "../../imapd/imap_match_out.c"
#include "unit.h"

struct tmsg {
	const char *data;
	size_t len;
	int loads;
};

static int
tload(void *arg, const char **d, size_t *n)
{
	struct tmsg *t = arg;

	t->loads++;
	*d = t->data;
	*n = t->len;
	return 0;
}

static const struct imap_box box = { 10, 50, NULL, 0 };

/* Match data[len] against "t SEARCH args", with the cached fields
 * (fields != NULL) or from the file: 1, 0, -1 load failed, -2 parse
 * error.  *loads: how often the file was loaded. */
static int
run(const char *args, const char *data, size_t len, const struct buf *fields,
    unsigned mask, int *loads)
{
	static struct imap_cmd c;
	struct tmsg t = { data, len, 0 };
	struct imap_match_msg m = { .seq = 3, .uid = 20, .size = 1000,
	    .internal_date = (time_t)1710072000, .load = tload, .load_arg = &t };
	struct imap_matcher s;
	struct buf line = BUF_INIT(BUF_NOLIMIT);
	int r = -2;

	if (fields != NULL) {
		m.fields = fields->data != NULL ? fields->data : "";
		m.fields_len = fields->len;
		m.fields_mask = mask;
	}
	if (buf_printf(&line, "t SEARCH %s", args) == -1)
		abort();
	if (imap_cmd_parse(line.data, line.len, &c) == IMAP_E_OK) {
		if (imap_match_prepare(&s, &c, &box) == IMAP_MATCH_OK)
			r = imap_match_message(&s, &m);
		imap_match_free(&s);
	}
	imap_match_release(&m);
	imap_cmd_free(&c);
	buf_free(&line);
	*loads = t.loads;
	return r;
}

/* Every search in one form per key and needle; header-only ones. */
static const char *const keys[] = {
	"FROM", "TO", "CC", "BCC", "SUBJECT", "HEADER Message-ID",
	"HEADER in-reply-to", "HEADER REFERENCES", "HEADER Date",
	"HEADER X-Mailer", "HEADER Content-Type", "NOT FROM", "OR SUBJECT x FROM",
};
static const char *const needles[] = {
	"\"\"", "a", "e", "o", "@", ".", "x", "test", "example", "petrov", "\"=?\"",
	"\"re: \\\"quoted\\\"\"", "\"andré\"", "\"ÄÖÜ\"", "\"café\"", "pirard", "\"<\"",
	"\" \"", "1", "ref", "mid", "caf",
};
static const char *const dates[] = {
	"SENTON 1-Oct-2024", "SENTON 5-Oct-2024", "SENTBEFORE 3-Oct-2024",
	"SENTSINCE 3-Oct-2024", "SENTON 7-Feb-1994", "SENTON 10-Mar-2024",
	"SENTBEFORE 1-Jan-2000", "OR SENTON 2-Oct-2024 SUBJECT nested",
};

/* All searches on one message: cached and file answers agree; a search
 * on cached fields only did not load.  Returns how many matched. */
static int
compare(const char *what, const char *data, size_t len)
{
	struct buf f = BUF_INIT(BUF_NOLIMIT), q = BUF_INIT(BUF_NOLIMIT);
	unsigned mask = imap_match_fields_make(data, len, &f);
	int hits = 0, l1, l2, r1, r2;

	CHECK(f.len <= IMAP_MATCH_FIELDS_MAX);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		for (size_t n = 0; n < sizeof(needles) / sizeof(needles[0]) + 1; n++) {
			buf_reset(&q);
			if (n < sizeof(needles) / sizeof(needles[0]))
				CHECK(buf_printf(&q, "%s %s", keys[k], needles[n]) == 0);
			else
				CHECK(buf_puts(&q, dates[k % 8]) == 0);
			r1 = run(buf_cstr(&q), data, len, NULL, 0, &l1);
			r2 = run(buf_cstr(&q), data, len, &f, mask, &l2);
			if (r1 != r2)
				fprintf(stderr, "%s: %s: file %d, cache %d\n", what,
				    buf_cstr(&q), r1, r2);
			CHECK(r1 == r2 && r1 >= 0);
			hits += r1 == 1;
			/* all cached fields: the file is not read */
			if (mask == (1u << IMAP_MATCH_NFIELDS) - 1 && k < 9 && k != 5 + 4)
				CHECK(l2 == 0);
		}
	buf_free(&f);
	buf_free(&q);
	return hits;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	char tmp[4096];
	size_t n;

	if (fp == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		if (buf_append(&b, tmp, n) == -1)
			abort();
	fclose(fp);
	*len = b.len;
	if (b.data == NULL && buf_puts(&b, "") == -1)
		abort();
	return buf_release(&b);
}

static void
test_corpus(void)
{
	DIR *d = opendir("tests/data/mime");
	struct dirent *e;
	char path[512];
	int files = 0, hits = 0;

	CHECK(d != NULL);
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name), len;
		char *s;

		if (n < 5 || strcmp(e->d_name + n - 4, ".eml") != 0)
			continue;
		CHECK(str_format(path, sizeof(path), "tests/data/mime/%s", e->d_name) == 0);
		CHECK((s = slurp(path, &len)) != NULL);
		if (s == NULL)
			continue;
		hits += compare(e->d_name, s, len);
		files++;
		free(s);
	}
	if (d != NULL)
		closedir(d);
	CHECK(files >= 13);
	CHECK(hits > 100);	/* the searches do find things */
}

/* Hostile and odd headers; some fields must be left out of the copy. */
static void
test_hostile(void)
{
	static const struct { const char *name, *text; size_t len; } msgs[] = {
		{ "no-lf", "From: a@x\nSubject: last line", 0 },
		{ "cr-at-eof", "Subject: x\r", 0 },
		{ "no-lf-then-date", "Date: 1 Oct 2024\nSubject: last", 0 },
		{ "cr-then-date", "Date: 2 Oct 2024\nSubject: x\r", 0 },
		{ "crlf", "From: P\r\n =?utf-8?q?Petrov?=\r\nTo: t@x\r\n\r\nbody", 0 },
		{ "nul", "From: a\0b@x\nSubject: s\0t\n\nb", 26 },
		{ "bare-cr", "From: a\rSubject: b\r\nTo: c\n\n", 0 },
		{ "dups", "To: one\nTo: two\ncc: three\nCC: four\nDATE: bad\nDate: 1 Oct 2024\n\n", 0 },
		{ "space-colon", "From : spaced@x\nSubject\t: tabbed\n\n", 0 },
		{ "lead-cont", " continuation\nFrom: a@x\n\n", 0 },
		{ "nonfield", "From: a@x\nthis is not a field\nSubject: hidden\n\n", 0 },
		{ "empty", "", 0 },
		{ "body-only", "\nFrom: not a header\n", 0 },
		{ "enc", "Subject: =?utf-8?b?w4TDlsOc?= =?iso-8859-1?q?caf=E9?=\n"
		    "From: =?utf-8?q?Petrov_=D0=9F=D1=91=D1=82=D1=80?= <p@x>\n\n", 0 },
		{ "fold-ws", "Subject: a\n \n\tb\nFrom: x\n\n", 0 },
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		compare(msgs[i].name, msgs[i].text,
		    msgs[i].len > 0 ? msgs[i].len : strlen(msgs[i].text));
}

/* Fields over the caps are left out; the others are still kept. */
static void
test_caps(void)
{
	char *big = malloc(IMAP_MATCH_FIELDS_MAX * 2);
	size_t o = 0;

	/* over the caps: References alone too long, many To: over the total */
	CHECK(big != NULL);
	o += (size_t)snprintf(big + o, 64, "From: petrov@x\nReferences:");
	while (o < IMAP_MATCH_FIELD_MAX + 100)
		o += (size_t)snprintf(big + o, 64, " <ref%zu@x>", o);
	big[o++] = '\n';
	while (o < IMAP_MATCH_FIELDS_MAX * 2 - 200)
		o += (size_t)snprintf(big + o, 64, "To: <mid%zu@example>\n", o);
	o += (size_t)snprintf(big + o, 64, "Subject: test\n\nx");
	{
		struct buf f = BUF_INIT(BUF_NOLIMIT);
		unsigned mask = imap_match_fields_make(big, o, &f);

		CHECK((mask & 1) != 0);				/* From */
		CHECK((mask & (1u << 8)) == 0);			/* References */
		CHECK((mask & 2) == 0);				/* To */
		CHECK((mask & (1u << 4)) != 0);			/* Subject */
		CHECK(f.len <= IMAP_MATCH_FIELDS_MAX);
		buf_free(&f);
	}
	compare("big", big, o);
	/* more occurrences than one pass remembers: that field is left out */
	o = (size_t)snprintf(big, 64, "From: petrov@x\n");
	for (int i = 0; i < IMAP_MATCH_FIELDS_SEEN + 10; i++)
		o += (size_t)snprintf(big + o, 64, "Cc: c%d\n", i);
	o += (size_t)snprintf(big + o, 64, "Subject: test\n\nx");
	{
		struct buf f = BUF_INIT(BUF_NOLIMIT);
		unsigned mask = imap_match_fields_make(big, o, &f);

		CHECK(mask == ((1u << IMAP_MATCH_NFIELDS) - 1 - (1u << 2)));
		CHECK(memmem(f.data, f.len, "Cc:", 3) == NULL);
		buf_free(&f);
	}
	compare("many-cc", big, o);
	{
		struct buf f = BUF_INIT(BUF_NOLIMIT);

		/* the header's last field without a line end is left out */
		CHECK(imap_match_fields_make("From: a\nSubject: b", 18, &f) ==
		    ((1u << IMAP_MATCH_NFIELDS) - 1 - (1u << 4)));
		CHECK_STR(buf_cstr(&f), "From: a\n");
		buf_free(&f);
	}
	free(big);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_corpus();
	test_hostile();
	test_caps();
	return UNIT_DONE();
}
