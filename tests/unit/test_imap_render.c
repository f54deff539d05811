/* Unit tests for imapd/imap_render{,_section}.c (compiled in, with the
 * command parser to build FETCH items): IMAP strings, ENVELOPE and
 * BODYSTRUCTURE of the corpus tests/data/mime/NAME.eml against
 * NAME.envelope / NAME.bodystructure written by hand from RFC 3501 7.4.2,
 * 2045-2047 and 2231, BODY, RFC 2231 conversions, and every section kind
 * with nested parts, partials at the edges and CRLF counts. */
#include <stdlib.h>

#include "../../imapd/imap_token.c"
#include "../../imapd/imap_fetch.c"
#include "../../imapd/imap_search.c"
#include "../../imapd/imap_parse.c"
#include "../../imapd/imap_render.c"
#include "../../imapd/imap_render_section.c"
#include "unit.h"

static char out_s[65536];

static const char *
flat(struct buf *b)
{
	if (str_copy(out_s, sizeof(out_s), buf_cstr(b)) == -1)
		abort();
	buf_free(b);
	return out_s;
}

/* ---- strings ---- */

static const char *
str_of(const char *s, size_t n, int kind)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int r;

	if (kind == 0)
		r = imap_put_string(&b, s, n);
	else if (kind == 1)
		r = imap_put_nstring(&b, s);
	else
		r = imap_put_astring(&b, s, n);
	if (r != 0)
		abort();
	return flat(&b);
}

static void
test_strings(void)
{
	struct buf b = BUF_INIT(5);

	CHECK_STR(str_of("", 0, 0), "\"\"");
	CHECK_STR(str_of("abc def", 7, 0), "\"abc def\"");
	CHECK_STR(str_of("a\"b\\c", 5, 0), "\"a\\\"b\\\\c\"");
	CHECK_STR(str_of("\"", 1, 0), "\"\\\"\"");
	CHECK_STR(str_of("a\r\nb", 4, 0), "{4}\r\na\r\nb");
	CHECK_STR(str_of("a\rb", 3, 0), "{3}\r\na\rb");
	CHECK_STR(str_of("\xc3\xa4", 2, 0), "{2}\r\n\xc3\xa4");
	CHECK_STR(str_of("a\0b", 3, 0), "{3}\r\na\x80" "b");
	CHECK_STR(str_of(NULL, 0, 1), "NIL");
	CHECK_STR(str_of("NIL", 3, 1), "\"NIL\"");
	CHECK_STR(str_of("INBOX", 5, 2), "INBOX");
	CHECK_STR(str_of("a]b", 3, 2), "a]b");
	CHECK_STR(str_of("nil", 3, 2), "\"nil\"");
	CHECK_STR(str_of("", 0, 2), "\"\"");
	CHECK_STR(str_of("a b", 3, 2), "\"a b\"");
	CHECK_STR(str_of("a(b", 3, 2), "\"a(b\"");
	CHECK_STR(str_of("a%*", 3, 2), "\"a%*\"");
	CHECK_STR(str_of("\xc3\xa4", 2, 2), "{2}\r\n\xc3\xa4");
	/* the buffer limit is reported */
	CHECK(imap_put_string(&b, "abcdef", 6) == -1);
	buf_free(&b);
}

/* ---- corpus ---- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	char tmp[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (buf_append(&b, tmp, n) == -1)
			abort();
	fclose(f);
	*len = b.len;
	if (b.data == NULL && buf_puts(&b, "") == -1)
		abort();
	return buf_release(&b);
}

static const char *datadir = "tests/data/mime";

static char *
corpus(const char *name, const char *ext, size_t *len)
{
	char path[512];
	char *s;

	if (str_format(path, sizeof(path), "%s/%s.%s", datadir, name, ext) == -1 ||
	    (s = slurp(path, len)) == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	return s;
}

/* The expected one-line file without its final newline. */
static char *
expected(const char *name, const char *ext)
{
	size_t n;
	char *s = corpus(name, ext, &n);

	if (n > 0 && s[n - 1] == '\n')
		s[n - 1] = '\0';
	return s;
}

static const char *const names[] = {
	"plain", "plain-lf", "mixed", "alternative", "rfc822", "nested",
	"encwords", "rfc2231", "notype", "noclose", "noboundary", "group",
	"emptysubj",
};

static int check_all_parts(const char *m, size_t len, const struct mime_part *root);

static void
test_corpus(void)
{
	size_t i, len;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *m = corpus(names[i], "eml", &len);
		char *env = expected(names[i], "envelope");
		char *bs = expected(names[i], "bodystructure");
		struct mime_part *root = mime_parse(m, len);
		struct buf b = BUF_INIT(BUF_NOLIMIT);

		CHECK(imap_put_envelope(&b, root->env) == 0);
		CHECK_STR(flat(&b), env);
		CHECK(imap_put_body(&b, root, 1) == 0);
		CHECK_STR(flat(&b), bs);
		/* BODY[part] of every part sends the size BODYSTRUCTURE says */
		CHECK(check_all_parts(m, len, root) > 0);
		mime_free(root);
		free(m);
		free(env);
		free(bs);
	}
}

static const char *
body_of(const char *m, int ext)
{
	struct mime_part *root = mime_parse(m, strlen(m));
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	if (imap_put_body(&b, root, ext) != 0)
		abort();
	mime_free(root);
	return flat(&b);
}

static void
test_body(void)
{
	size_t len;
	char *m = corpus("rfc822", "eml", &len);

	/* BODY: no extension data, down into the encapsulated message */
	CHECK_STR(body_of(m, 0),
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 1)"
	    "(\"message\" \"rfc822\" NIL NIL \"forwarded message\" \"7bit\" 161 "
	    "(\"Thu, 3 Oct 2024 08:00:00 +0000\" \"lunch\" "
	    "((\"Sam\" NIL \"sam\" \"example.test\")) ((\"Sam\" NIL \"sam\" \"example.test\")) "
	    "((\"Sam\" NIL \"sam\" \"example.test\")) ((NIL NIL \"fwd\" \"example.test\")) "
	    "NIL NIL NIL \"<lunch@example.test>\") "
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 19 2) 8) \"mixed\")");
	free(m);
	m = corpus("mixed", "eml", &len);
	CHECK_STR(body_of(m, 0),
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 21 1)"
	    "(\"application\" \"pdf\" (\"name\" \"report.pdf\") \"<part2.mixed-1@example.test>\" "
	    "\"Quarterly report\" \"base64\" 130) \"mixed\")");
	free(m);
	/* RFC 2231: utf-8 decoded, Latin-1 converted, both 8-bit: literals */
	CHECK_STR(body_of("Content-Type: application/x; a*=utf-8''%E2%82%AC;"
	    " b*=iso-8859-1''caf%E9; c=\"x y\"\n\n", 1),
	    "(\"application\" \"x\" (\"a\" {3}\r\n\xe2\x82\xac \"b\" {5}\r\ncaf\xc3\xa9 "
	    "\"c\" \"x y\") NIL NIL \"7bit\" 0 NIL NIL NIL NIL)");
	/* Content-Language list, Location, MD5, multipart extension data */
	CHECK_STR(body_of("Content-Type: multipart/related; boundary=b; type=\"text/html\"\n"
	    "Content-Disposition: inline\nContent-Language: fr (French)\n"
	    "Content-Location: http://x.example/a\n\n--b\n"
	    "Content-Type: text/html\nContent-Language: (none)\n\n<p>\n--b--\n", 1),
	    "((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL) "
	    "\"related\" (\"boundary\" \"b\" \"type\" \"text/html\") (\"inline\" NIL) (\"fr\") "
	    "\"http://x.example/a\")");
	/* an empty message */
	CHECK_STR(body_of("", 1),
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)");
}

/* The header walker added to common/mime for HEADER.FIELDS and SEARCH. */
static void
test_hfield(void)
{
	static const char m[] = " lead\nSubject : a\r\n\tb\nX-N: 1\0" "2\nbad line\n\nbody";
	struct mime_part *root = mime_parse(m, sizeof(m) - 1);
	struct mime_hfield f;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	size_t pos = root->hdr_start;

	CHECK(mime_hfield_next(m, root->hdr_end, &pos, &f) == 1);
	CHECK(f.start == 0 && f.nlen == 0 && f.end == 6);
	CHECK(mime_hfield_next(m, root->hdr_end, &pos, &f) == 1);
	CHECK(mime_hfield_is(m, &f, "SUBJECT", 7) && !mime_hfield_is(m, &f, "Subj", 4));
	CHECK(mime_hfield_value(m, &f, &b) == 0);
	CHECK_STR(flat(&b), " a\tb");
	CHECK(mime_hfield_next(m, root->hdr_end, &pos, &f) == 1);
	CHECK(mime_hfield_is(m, &f, "x-n", 3));
	CHECK(mime_hfield_value(m, &f, &b) == 0);
	CHECK_STR(flat(&b), " 12");
	/* "bad line" is not a field: mime ends the header before it */
	CHECK(mime_hfield_next(m, root->hdr_end, &pos, &f) == 0);
	CHECK(pos == root->hdr_end);
	pos = 0;
	CHECK(mime_hfield_next(m, sizeof(m) - 1, &pos, &f) == 1);
	pos = 31;	/* "bad line": a line that is no field has no name */
	CHECK(mime_hfield_next(m, sizeof(m) - 1, &pos, &f) == 1 && f.nlen == 0);
	CHECK(mime_hfield_next(m, sizeof(m) - 1, &pos, &f) == 0);	/* empty line */
	mime_free(root);
}

/* ---- sections ---- */

static struct imap_cmd cmd;
static char name_s[1024];
static char sect_s[65536];

/* Section "what" ("BODY[1.MIME]<0.5>") of m: its octets in sect_s (NULL:
 * not found), its response name in name_s. */
static const char *
sect(const char *m, size_t len, const char *what)
{
	char line[512];
	struct mime_part *root = mime_parse(m, len);
	struct imap_section s;
	struct buf b = BUF_INIT(sizeof(sect_s) - 1), nb = BUF_INIT(sizeof(name_s) - 1);
	int found;

	if (str_format(line, sizeof(line), "t FETCH 1 (%s)", what) == -1 ||
	    imap_cmd_parse(line, strlen(line), &cmd) != IMAP_E_OK || cmd.nfetch != 1)
		abort();
	found = imap_section_get(m, len, root, &cmd, &cmd.fetch[0], &s);
	if (imap_section_name(&nb, &cmd, &cmd.fetch[0]) != 0 ||
	    str_copy(name_s, sizeof(name_s), buf_cstr(&nb)) == -1)
		abort();
	buf_free(&nb);
	if (found) {
		if (imap_section_append(&b, &s, m) != 0 || b.len != s.len ||
		    memchr(buf_cstr(&b), '\0', b.len) != NULL)
			abort();
		memcpy(sect_s, buf_cstr(&b), b.len + 1);
	}
	buf_free(&b);
	imap_section_free(&s);
	imap_cmd_free(&cmd);
	mime_free(root);
	return found ? sect_s : NULL;
}

#define S(m, what) sect((m), strlen(m), (what))

static void
test_sections_rfc822(void)
{
	size_t len;
	char *m = corpus("rfc822", "eml", &len);
	const char *whole;

	CHECK(sect(m, len, "BODY[]") != NULL && strlen(sect_s) == 480);
	CHECK(strncmp(sect_s, "From: fwd@example.test\r\nTo:", 27) == 0);
	CHECK_STR(name_s, "BODY[]");
	CHECK(sect(m, len, "RFC822") != NULL && strlen(sect_s) == 480);
	CHECK_STR(name_s, "RFC822");
	CHECK(imap_wire_size(m, 0, len) == 480);	/* RFC822.SIZE */
	CHECK_STR(sect(m, len, "RFC822.HEADER"),
	    "From: fwd@example.test\r\nTo: boss@example.test\r\nSubject: Fwd: lunch\r\n"
	    "Date: Fri, 4 Oct 2024 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n");
	CHECK_STR(name_s, "RFC822.HEADER");
	whole = "--outer\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n--outer\r\n";
	CHECK(strncmp(S(m, "BODY.PEEK[TEXT]"), whole, strlen(whole)) == 0);
	CHECK_STR(name_s, "BODY[TEXT]");
	CHECK(sect(m, len, "RFC822.TEXT") != NULL && strncmp(sect_s, whole, strlen(whole)) == 0);
	CHECK_STR(sect(m, len, "BODY[1]"), "See below.");
	CHECK_STR(name_s, "BODY[1]");
	CHECK_STR(sect(m, len, "BODY[1.MIME]"), "Content-Type: text/plain\r\n\r\n");
	CHECK_STR(sect(m, len, "BODY[2.MIME]"),
	    "Content-Type: message/rfc822\r\nContent-Description: forwarded message\r\n\r\n");
	CHECK(sect(m, len, "BODY[2]") != NULL && strlen(sect_s) == 161);
	CHECK(strncmp(sect_s, "From: Sam <sam@example.test>\r\n", 30) == 0);
	CHECK_STR(sect(m, len, "BODY[2.HEADER]"),
	    "From: Sam <sam@example.test>\r\nTo: fwd@example.test\r\nSubject: lunch\r\n"
	    "Date: Thu, 3 Oct 2024 08:00:00 +0000\r\nMessage-ID: <lunch@example.test>\r\n\r\n");
	CHECK_STR(sect(m, len, "BODY[2.TEXT]"), "Lunch at noon?\r\nSam");
	CHECK_STR(sect(m, len, "BODY[2.1]"), "Lunch at noon?\r\nSam");
	CHECK_STR(sect(m, len, "BODY[2.HEADER.FIELDS (subject FROM)]"),
	    "From: Sam <sam@example.test>\r\nSubject: lunch\r\n\r\n");
	CHECK_STR(name_s, "BODY[2.HEADER.FIELDS (subject FROM)]");
	CHECK_STR(sect(m, len, "BODY[2.HEADER.FIELDS.NOT (Subject From Date Message-ID)]"),
	    "To: fwd@example.test\r\n\r\n");
	CHECK_STR(name_s, "BODY[2.HEADER.FIELDS.NOT (Subject From Date Message-ID)]");
	CHECK_STR(sect(m, len, "BODY[HEADER.FIELDS (X-None)]"), "\r\n");
	/* parts that do not exist, HEADER/TEXT of a part that is no message */
	CHECK(sect(m, len, "BODY[3]") == NULL);
	CHECK(sect(m, len, "BODY[1.1]") == NULL);
	CHECK(sect(m, len, "BODY[2.2]") == NULL);
	CHECK(sect(m, len, "BODY[2.1.1]") == NULL);
	CHECK(sect(m, len, "BODY[1.HEADER]") == NULL);
	CHECK(sect(m, len, "BODY[1.TEXT]") == NULL);
	CHECK_STR(name_s, "BODY[1.TEXT]");
	free(m);
}

static void
test_sections_nested(void)
{
	size_t len;
	char *m = corpus("nested", "eml", &len);

	CHECK_STR(sect(m, len, "BODY[1.2]"), "<b>html</b>");
	CHECK_STR(sect(m, len, "BODY[1.1]"), "plain");
	CHECK_STR(sect(m, len, "BODY[1.1.MIME]"),
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
	CHECK(sect(m, len, "BODY[1]") != NULL && strlen(sect_s) == 131);
	CHECK(strncmp(sect_s, "--in\r\n", 6) == 0);
	CHECK(strcmp(sect_s + 131 - 8, "--in--\r\n") == 0);
	CHECK_STR(sect(m, len, "BODY[2]"), "AAECAwQ=");
	CHECK(sect(m, len, "BODY[1.3]") == NULL);
	free(m);

	/* a single-part message: part 1 is its body */
	m = corpus("plain", "eml", &len);
	CHECK_STR(sect(m, len, "BODY[1]"),
	    "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n");
	CHECK(sect(m, len, "BODY[1.MIME]") != NULL &&
	    strncmp(sect_s, "Date: Mon, 7 Feb", 16) == 0);
	CHECK(sect(m, len, "BODY[2]") == NULL);
	CHECK(sect(m, len, "BODY[1.1]") == NULL);
	CHECK(sect(m, len, "BODY[1.HEADER]") == NULL);
	CHECK(sect(m, len, "BODY[]") != NULL && strlen(sect_s) == len);	/* CRLF already */
	free(m);

	/* a message whose own type is message/rfc822 */
	CHECK_STR(S("Content-Type: message/rfc822\n\nSubject: in\n\nbody\n", "BODY[1]"),
	    "Subject: in\r\n\r\nbody\r\n");
	CHECK_STR(S("Content-Type: message/rfc822\n\nSubject: in\n\nbody\n", "BODY[1.1]"),
	    "body\r\n");
	CHECK_STR(S("Content-Type: message/rfc822\n\nSubject: in\n\nbody\n", "BODY[1.HEADER]"),
	    "Subject: in\r\n\r\n");
}

static void
test_sections_partial(void)
{
	size_t len;
	char *m = corpus("plain-lf", "eml", &len);

	/* TEXT: "line one\r\nline two\r\n\r\nline four\r\n", 33 octets */
	CHECK_STR(sect(m, len, "BODY[TEXT]"), "line one\r\nline two\r\n\r\nline four\r\n");
	CHECK_STR(sect(m, len, "BODY[TEXT]<0.4>"), "line");
	CHECK_STR(name_s, "BODY[TEXT]<0>");
	CHECK_STR(sect(m, len, "BODY[TEXT]<8.1>"), "\r");
	CHECK_STR(sect(m, len, "BODY[TEXT]<9.1>"), "\n");
	CHECK_STR(name_s, "BODY[TEXT]<9>");
	CHECK_STR(sect(m, len, "BODY[TEXT]<9.3>"), "\nli");
	CHECK_STR(sect(m, len, "BODY[TEXT]<20.3>"), "\r\nl");
	CHECK_STR(sect(m, len, "BODY[TEXT]<0.33>"), "line one\r\nline two\r\n\r\nline four\r\n");
	CHECK_STR(sect(m, len, "BODY[TEXT]<0.4294967295>"),
	    "line one\r\nline two\r\n\r\nline four\r\n");
	CHECK_STR(sect(m, len, "BODY[TEXT]<32.5>"), "\n");
	CHECK_STR(sect(m, len, "BODY[TEXT]<33.1>"), "");
	CHECK_STR(name_s, "BODY[TEXT]<33>");
	CHECK_STR(sect(m, len, "BODY[TEXT]<1000.10>"), "");
	CHECK_STR(sect(m, len, "BODY.PEEK[1]<5.3>"), "one");
	CHECK_STR(name_s, "BODY[1]<5>");
	CHECK(sect(m, len, "BODY[]<0.100000>") != NULL && strlen(sect_s) == 391);
	CHECK(sect(m, len, "BODY[]<390.100>") != NULL && strcmp(sect_s, "\n") == 0);
	CHECK_STR(sect(m, len, "BODY[HEADER.FIELDS (Cc)]<4.100>"),
	    "dave@example.com\r\n\r\n");
	free(m);
}

static void
test_sections_hostile(void)
{
	const char *m;
	struct imap_section s;
	struct imap_sreader r;
	struct mime_part *root;
	char one[2];
	size_t n, total = 0;

	/* folded fields, WSP before the colon, repeated fields, a leading
	 * continuation line, NUL as 0x80, bare CR kept */
	static const char hm[] = " orphan\nSubject: one\n two\nX-A :  v\n"
	    "subject: again\nTo: a\0b\r\n\nx\ry\n";

	CHECK(sect(hm, sizeof(hm) - 1, "BODY[HEADER.FIELDS (SUBJECT X-A)]") != NULL);
	CHECK_STR(sect_s, "Subject: one\r\n two\r\nX-A :  v\r\nsubject: again\r\n\r\n");
	CHECK(sect(hm, sizeof(hm) - 1, "BODY[HEADER.FIELDS.NOT (SUBJECT X-A)]") != NULL);
	CHECK_STR(sect_s, " orphan\r\nTo: a\x80" "b\r\n\r\n");
	CHECK(sect(hm, sizeof(hm) - 1, "BODY[TEXT]") != NULL);
	CHECK_STR(sect_s, "x\ry\r\n");
	/* a header without an empty line nor a final LF */
	CHECK_STR(S("Subject: x", "BODY[HEADER]"), "Subject: x");
	CHECK_STR(S("Subject: x", "BODY[HEADER.FIELDS (Subject)]"), "Subject: x\r\n\r\n");
	CHECK_STR(S("Subject: x", "BODY[TEXT]"), "");
	CHECK_STR(S("", "BODY[]"), "");
	CHECK_STR(S("", "BODY[1]"), "");
	CHECK_STR(S("\n\n\n", "BODY[HEADER]"), "\r\n");
	CHECK_STR(S("\n\n\n", "BODY[TEXT]"), "\r\n\r\n");
	CHECK_STR(S("\r\n\n", "BODY[TEXT]"), "\r\n");
	/* a CRLF split by a span end: LF at a span start is bare */
	CHECK_STR(S("A: 1\r\nB: 2\r\n\r\n", "BODY[HEADER.FIELDS (A B)]"),
	    "A: 1\r\nB: 2\r\n\r\n");
	/* the reader octet by octet equals the whole */
	m = "Subject: s\n\nab\ncd\n";
	root = mime_parse(m, strlen(m));
	if (imap_cmd_parse("t FETCH 1 BODY[]<3.12>", 22, &cmd) != IMAP_E_OK)
		abort();
	CHECK(imap_section_get(m, strlen(m), root, &cmd, &cmd.fetch[0], &s) == 1);
	CHECK(s.wire == 22 && s.start == 3 && s.len == 12);
	imap_sreader_init(&r, &s, m);
	sect_s[0] = '\0';
	while ((n = imap_sreader_read(&r, one, 1)) > 0) {
		CHECK(n == 1);
		sect_s[total++] = one[0];
	}
	sect_s[total] = '\0';
	CHECK_STR(sect_s, "ject: s\r\n\r\na");
	imap_section_free(&s);
	imap_cmd_free(&cmd);
	mime_free(root);
}

/* Every part of the tree, numbered as RFC 3501 6.4.5 says: BODY[n] sends
 * exactly wire_size octets, BODY[n.MIME] its header.  The parts checked. */
static int
walk(const char *m, size_t len, const struct mime_part *root,
    const struct mime_part *p, uint32_t *path, int depth, int at_msg)
{
	const struct mime_part *c;
	struct imap_fetch f;
	struct imap_section s;
	uint32_t i = 1;
	int n = 0;

	if (depth >= IMAP_PART_MAX)
		return 0;
	if (!at_msg && is_rfc822(p)) {
		p = p->child;
		at_msg = 1;
	}
	c = p->child == NULL || is_rfc822(p) ? (at_msg ? p : NULL) : p->child;
	for (; c != NULL; c = c == p ? NULL : c->next, i++) {
		memset(&f, 0, sizeof(f));
		f.att = IMAP_F_BODY_SECTION;
		path[depth] = i;
		memcpy(f.part, path, (size_t)(depth + 1) * sizeof(*path));
		f.nparts = (uint8_t)(depth + 1);
		CHECK(imap_section_get(m, len, root, NULL, &f, &s) == 1);
		CHECK(s.wire == c->wire_size && s.len == s.wire);
		imap_section_free(&s);
		f.spec = IMAP_S_MIME;
		CHECK(imap_section_get(m, len, root, NULL, &f, &s) == 1);
		CHECK(s.wire == imap_wire_size(m, c->hdr_start, c->hdr_end - c->hdr_start));
		imap_section_free(&s);
		n += 1 + walk(m, len, root, c, path, depth + 1, 0);
	}
	return n;
}

static int
check_all_parts(const char *m, size_t len, const struct mime_part *root)
{
	uint32_t path[IMAP_PART_MAX];

	return walk(m, len, root, root, path, 0, 1);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		datadir = argv[1];
	test_strings();
	test_corpus();
	test_body();
	test_sections_rfc822();
	test_sections_nested();
	test_sections_partial();
	test_sections_hostile();
	test_hfield();
	return UNIT_DONE();
}
