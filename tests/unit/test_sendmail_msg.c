/* Unit tests for queue/sendmail_msg.c (the sendmail command's pure part):
 * address lists, qualification, header rewriting.  The module lives in
 * queue/, outside libpostern, so it is compiled in here. */
#include "../../queue/sendmail_msg.c"
#include "unit.h"

static const struct {
	const char *in;
	int ok;
	const char *want;	/* the addresses, space-separated */
} lists[] = {
	{ "a@example.org", 1, "a@example.org" },
	{ "  a@example.org ,b@Example.NET", 1, "a@example.org b@example.net" },
	{ "Alice <alice@example.org>", 1, "alice@example.org" },
	{ "\"Doe, John\" <jd@example.org>, x@y.example", 1, "jd@example.org x@y.example" },
	{ "a@example.org (comment, with comma)", 1, "a@example.org" },
	{ "group: a@example.org, b@example.org;, c@example.org", 1,
	    "a@example.org b@example.org c@example.org" },
	{ "undisclosed-recipients:;", 1, "" },
	{ "<@relay.example:a@example.org>", 1, "a@example.org" },
	{ "bob", 1, "bob@host.example" },
	{ "\"quoted local\"", 1, "\"quoted local\"@host.example" },
	{ "a@example.org, a@example.org", 1, "a@example.org" },
	{ "", 1, "" },
	{ "a@@example.org", 0, NULL },
	{ "Alice <alice@example.org", 0, NULL },
	{ "a@example.org (unclosed", 0, NULL },
	{ "\"unclosed@example.org", 0, NULL },
	{ "<a@example.org> <b@example.org>", 0, NULL },
	{ "a@exa mple.org", 1, "a@example.org" },
	{ "a b@example.org", 1, "ab@example.org" },
};

static void
test_lists(void)
{
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		struct sm_list l = { NULL, 0, 0 };
		struct buf got = BUF_INIT(4096);
		const char *err = NULL;
		int ok = sm_addr_list(lists[i].in, strlen(lists[i].in), "host.example",
		    &l, &err);

		CHECK(ok == lists[i].ok);
		if (ok && lists[i].want != NULL) {
			for (size_t j = 0; j < l.n; j++)
				CHECK(buf_printf(&got, "%s%s", j ? " " : "", l.v[j]) == 0);
			CHECK_STR(buf_cstr(&got), lists[i].want);
		}
		if (!ok)
			CHECK(err != NULL);
		sm_list_free(&l);
		buf_free(&got);
	}
}

static const struct sm_opts opts = { 1, "host.example", "me@host.example", NULL,
	0, "UNIQUE" };

/* Build in; 1 if it worked and the output equals want (when want given). */
static int
build(const char *in, const struct sm_opts *o, const char *want, size_t nrcpt)
{
	struct sm_list l = { NULL, 0, 0 };
	struct buf out = BUF_INIT(1 << 20);
	const char *err = NULL;
	int ok = sm_msg_build(in, strlen(in), o, &out, &l, &err);

	if (ok && want != NULL && strcmp(buf_cstr(&out), want) != 0) {
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", buf_cstr(&out), want);
		ok = 0;
	}
	if (ok && l.n != nrcpt) {
		fprintf(stderr, "nrcpt %zu, want %zu\n", l.n, nrcpt);
		ok = 0;
	}
	sm_list_free(&l);
	buf_free(&out);
	return ok;
}

#define KEEP "From: a@b.example\r\nDate: x\r\nMessage-ID: <m@x>\r\n"

static void
test_build(void)
{
	struct sm_opts o = opts;
	char big[1200];

	setenv("TZ", "UTC", 1);
	CHECK(build("From: a@b.example\nDate: x\nMessage-ID: <m@x>\nTo: c@d.example\n\nbody\n",
	    &o, KEEP "To: c@d.example\r\n\r\nbody\r\n", 1));
	/* Bcc removed with its continuation, addresses extracted */
	CHECK(build("From: a@b.example\r\nDate: x\r\nMessage-ID: <m@x>\r\nBcc: e@f.example,\r\n"
	    "\tg@h.example\r\nSubject: s\r\n\r\nb", &o,
	    KEEP "Subject: s\r\n\r\nb\r\n", 2));
	/* missing headers added, in this order, at the end of the header */
	CHECK(build("Subject: s\n\nb\n", &o, "Subject: s\r\nFrom: me@host.example\r\n"
	    "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
	    "Message-ID: <19700101000000.UNIQUE@host.example>\r\n\r\nb\r\n", 0));
	/* no header at all: the body starts at once */
	CHECK(build("not a header\n", &o, NULL, 0));
	/* the mbox From_ line goes, a bare CR is a line end */
	CHECK(build("From someone Mon Jan 1\n" KEEP "\r\nx\ry\n", &o, KEEP "\r\nx\r\ny\r\n", 0));
	/* -F name, quoted; non-ASCII encoded */
	o.full_name = "J \"Q\" P";
	CHECK(build(KEEP, &o, NULL, 0));
	CHECK(build("Date: x\nMessage-ID: <m@x>\n\n", &o,
	    "Date: x\r\nMessage-ID: <m@x>\r\nFrom: \"J \\\"Q\\\" P\" <me@host.example>\r\n\r\n", 0));
	o.full_name = "J\xc3\xbcrgen";
	CHECK(build("Date: x\nMessage-ID: <m@x>\n\n", &o,
	    "Date: x\r\nMessage-ID: <m@x>\r\nFrom: =?UTF-8?B?SsO8cmdlbg==?= <me@host.example>\r\n\r\n", 0));
	o.full_name = "bad\x01name";
	CHECK(build("Date: x\nMessage-ID: <m@x>\n\n", &o,
	    "Date: x\r\nMessage-ID: <m@x>\r\nFrom: me@host.example\r\n\r\n", 0));
	o.full_name = NULL;
	/* without -t, To: is not extracted */
	o.extract = 0;
	CHECK(build(KEEP "To: x@y.example\r\n\r\n", &o, NULL, 0));
	o.extract = 1;
	/* refused: long line, NUL, bad address in To: with -t */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(!build(big, &o, NULL, 0));
	CHECK(!sm_msg_build("a\0b\n", 4, &o, &(struct buf)BUF_INIT(100),
	    &(struct sm_list){ NULL, 0, 0 }, &(const char *){ NULL }));
	CHECK(!build("To: a@@b\n\nx\n", &o, NULL, 0));
	/* empty input: just the added headers */
	CHECK(build("", &o, NULL, 0));
}

static void
test_fix(void)
{
	char *out = NULL;

	CHECK(sm_addr_fix("root", 4, "h.example", &out) == 1);
	CHECK_STR(out, "root@h.example");
	free(out);
	CHECK(sm_addr_fix("A@EXAMPLE.ORG", 13, "h.example", &out) == 1);
	CHECK_STR(out, "A@example.org");
	free(out);
	CHECK(sm_addr_fix("", 0, "h.example", &out) == 0);
	CHECK(sm_addr_fix("a@", 2, "h.example", &out) == 0);
	CHECK(sm_addr_fix("a b", 3, "h.example", &out) == 0);
}

int
main(void)
{
	test_lists();
	test_build();
	test_fix();
	return UNIT_DONE();
}
