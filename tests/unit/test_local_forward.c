/* Unit tests for deliver/local_forward.c (compiled in): the ~/.forward
 * parser (addresses, programs, files, "\user", comments, limits) and the
 * shell-free argv split of program lines. */
#include "../../deliver/local_forward.c"
#include "unit.h"

/* The entries as "KIND:text" joined with " | ". */
static const char *
show(const struct forward *f)
{
	static const char *const kinds[] = { "addr", "pipe", "file", "self" };
	static char out[2048];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < f->n; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s:%s", i ? " | " : "",
		    kinds[f->v[i].kind], f->v[i].text);
	return out;
}

static void
test_parse(void)
{
	static const struct {
		const char *text;
		int ok;
		const char *want;	/* entries, or the error */
	} t[] = {
		{ "", 1, "" },
		{ "# only a comment\n\n   \n", 1, "" },
		{ "bob@example.org\n", 1, "addr:bob@example.org" },
		{ "  Bob@Example.ORG  \r\n", 1, "addr:Bob@example.org" },
		{ "<bob@example.org>", 1, "addr:bob@example.org" },
		{ "carol\n", 1, "addr:carol@home.test" },
		{ "\\me\nbob@example.org", 1, "self:me | addr:bob@example.org" },
		{ "|/usr/bin/procmail -f-\n", 1, "pipe:/usr/bin/procmail -f-" },
		{ "\"| /usr/bin/vacation me\"\n", 1, "pipe:/usr/bin/vacation me" },
		{ "/home/me/mbox\n", 1, "file:/home/me/mbox" },
		{ "~/mbox\n", 1, "file:~/mbox" },
		{ ":include:/etc/list\n", 1, "file::include:/etc/list" },
		{ "a@b.example\n# c@d.example\nc@d.example", 1,
		    "addr:a@b.example | addr:c@d.example" },
		{ "not an address\n", 0, "line 1: bad address" },
		{ "ok@example.org\nx@[192.0.2.1]\n", 0, "line 2: bad address" },
		{ "|\n", 0, "line 1: empty program" },
		{ "\"\"\n", 0, "line 1: empty target" },
		{ "\\\n", 0, "line 1: bad name" },
		{ "a@b.example\rc@d.example\n", 0, "line 1: control character in line" },
	};
	struct forward f;
	char err[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = forward_parse(t[i].text, strlen(t[i].text), "home.test", &f, err,
		    sizeof(err));

		CHECK(r == t[i].ok);
		if (r)
			CHECK_STR(show(&f), t[i].want);
		else {
			CHECK_STR(err, t[i].want);
			CHECK(f.n == 0 && f.v == NULL);
		}
		forward_free(&f);
	}
}

static void
test_limits(void)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct forward f;
	char err[128];
	int i;

	CHECK(forward_parse("a@b.example\0c", 13, "d", &f, err, sizeof(err)) == 0);
	CHECK_STR(err, "line 1: control character in line");
	for (i = 0; i < FORWARD_LINE_MAX + 1; i++)
		if (buf_putc(&b, 'a') == -1)
			CHECK(0);
	CHECK(forward_parse(b.data, b.len, "d", &f, err, sizeof(err)) == 0);
	CHECK_STR(err, "line 1: line too long");
	buf_reset(&b);
	for (i = 0; i < FORWARD_ENTRIES_MAX; i++)
		CHECK(buf_printf(&b, "u%d@example.org\n", i) == 0);
	CHECK(forward_parse(b.data, b.len, "d", &f, err, sizeof(err)) == 1 &&
	    f.n == FORWARD_ENTRIES_MAX);
	forward_free(&f);
	CHECK(buf_puts(&b, "one@too.many\n") == 0);
	CHECK(forward_parse(b.data, b.len, "d", &f, err, sizeof(err)) == 0);
	CHECK(strstr(err, "too many targets") != NULL);
	buf_reset(&b);
	for (i = 0; i < FORWARD_FILE_MAX + 1; i++)
		if (buf_putc(&b, '\n') == -1)
			CHECK(0);
	CHECK(forward_parse(b.data, b.len, "d", &f, err, sizeof(err)) == 0);
	CHECK_STR(err, "line 0: file too large");
	buf_free(&b);
}

static void
test_argv(void)
{
	struct forward_argv a;

	CHECK(forward_split_argv("/usr/bin/procmail -f- -a  x", &a) == 1);
	CHECK(a.argc == 4);
	CHECK_STR(a.argv[0], "/usr/bin/procmail");
	CHECK_STR(a.argv[1], "-f-");
	CHECK_STR(a.argv[3], "x");
	CHECK(a.argv[4] == NULL);
	/* no shell: metacharacters are plain words */
	CHECK(forward_split_argv("/bin/echo $(id);rm -rf /", &a) == 1);
	CHECK(a.argc == 4);
	CHECK_STR(a.argv[1], "$(id);rm");
	CHECK(forward_split_argv("procmail", &a) == 0);
	CHECK(forward_split_argv("   ", &a) == 0);
	CHECK(forward_split_argv("", &a) == 0);
	CHECK(forward_split_argv("/a b c d e f g h i j k l m n o p q r s t u v w x y z "
	    "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m",
	    &a) == 0);
}

int
main(void)
{
	test_parse();
	test_limits();
	test_argv();
	return UNIT_DONE();
}
