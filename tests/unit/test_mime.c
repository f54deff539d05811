/* Unit tests for common/mime: a corpus of hand-written messages (plain,
 * multipart/mixed with attachment, multipart/alternative, message/rfc822
 * inside multipart, digest defaults, encoded-words, RFC 2231 parameters,
 * address lists with groups) with structures and envelopes written by hand
 * from RFC 2045-2047, 2231, 5322 and 3501 7.4.2, and malformed input. */
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "xmalloc.h"
#include "unit.h"

/* "type/subtype(child,child)" of a tree, for structure checks. */
static void
shape(const struct mime_part *p, struct buf *b)
{
	const struct mime_part *c;

	if (buf_printf(b, "%s/%s", p->type, p->subtype) == -1)
		abort();
	if (p->child == NULL)
		return;
	if (buf_putc(b, '(') == -1)
		abort();
	for (c = p->child; c != NULL; c = c->next)
		if ((c != p->child && buf_putc(b, ',') == -1))
			abort();
		else
			shape(c, b);
	if (buf_putc(b, ')') == -1)
		abort();
}

static char shapebuf[4096];

static const char *
shape_of(const struct mime_part *p)
{
	struct buf b = BUF_INIT(sizeof(shapebuf) - 1);

	shape(p, &b);
	if (str_copy(shapebuf, sizeof(shapebuf), buf_cstr(&b)) == -1)
		abort();
	buf_free(&b);
	return shapebuf;
}

/* Child i (1-based) of p, or NULL. */
static const struct mime_part *
kid(const struct mime_part *p, int i)
{
	for (p = p != NULL ? p->child : NULL; p != NULL && --i > 0; p = p->next)
		;
	return p;
}

static char textbuf[8192];

/* The body (or header, hdr = 1) of p as a C string. */
static const char *
text(const char *m, const struct mime_part *p, int hdr)
{
	size_t s, e;

	if (p == NULL)
		return "(none)";
	s = hdr ? p->hdr_start : p->body_start;
	e = hdr ? p->hdr_end : p->body_end;
	if (e - s >= sizeof(textbuf))
		return "(too long)";
	memcpy(textbuf, m + s, e - s);
	textbuf[e - s] = '\0';
	return textbuf;
}

static const char *
param(const struct mime_part *p, const char *name)
{
	const struct mime_param *v = mime_param_get(p->params, p->nparams, name);

	return v != NULL ? v->value : "(none)";
}

static const char *
dparam(const struct mime_part *p, const char *name)
{
	const struct mime_param *v = mime_param_get(p->dparams, p->ndparams, name);

	return v != NULL ? v->value : "(none)";
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "NIL";
}

/* "name|adl|mailbox|host" */
static const char *
addr(const struct mime_addrlist *l, size_t i)
{
	static char a[512];

	if (i >= l->n)
		return "(none)";
	if (str_format(a, sizeof(a), "%s|%s|%s|%s", nz(l->v[i].name),
	    nz(l->v[i].adl), nz(l->v[i].mailbox), nz(l->v[i].host)) == -1)
		abort();
	return a;
}

static struct mime_part *
parse(const char *m)
{
	return mime_parse(m, strlen(m));
}

static const char plain[] =
    "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
    "To: Mary Smith <mary@x.test>, jdoe@example.org,\r\n"
    "  Who? <one@y.test>\r\n"
    "Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>\r\n"
    "Subject: Saying\r\n Hello\r\n"
    "Date: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
    "Message-ID: <1234@local.machine.example>\r\n"
    "In-Reply-To: <3456@example.net>\r\n"
    "\r\n"
    "This is a message just to say hello.\r\n"
    "So, \"Hello\".\r\n";

static void
test_plain(void)
{
	struct mime_part *p = parse(plain);
	const struct mime_envelope *e = p->env;

	CHECK_STR(shape_of(p), "text/plain");
	CHECK_STR(param(p, "charset"), "us-ascii");
	CHECK(p->encoding == NULL && p->disposition == NULL && p->id == NULL);
	CHECK_STR(text(plain, p, 1) + strlen(text(plain, p, 1)) - 4, "\r\n\r\n");
	CHECK(p->hdr_start == 0);
	CHECK_STR(text(plain, p, 0), "This is a message just to say hello.\r\nSo, \"Hello\".\r\n");
	CHECK(p->size == 52 && p->wire_size == 52 && p->lines == 2);
	CHECK(p->body_end == strlen(plain));
	CHECK(e != NULL);
	CHECK_STR(e->subject, "Saying Hello");
	CHECK_STR(e->date, "Fri, 21 Nov 1997 09:55:06 -0600");
	CHECK_STR(e->message_id, "<1234@local.machine.example>");
	CHECK_STR(e->in_reply_to, "<3456@example.net>");
	CHECK(e->from.n == 1 && e->sender.n == 1 && e->reply_to.n == 1);
	CHECK_STR(addr(&e->from, 0), "Joe Q. Public|NIL|john.q.public|example.com");
	CHECK_STR(addr(&e->sender, 0), "Joe Q. Public|NIL|john.q.public|example.com");
	CHECK_STR(addr(&e->reply_to, 0), "Joe Q. Public|NIL|john.q.public|example.com");
	CHECK(e->to.n == 3);
	CHECK_STR(addr(&e->to, 0), "Mary Smith|NIL|mary|x.test");
	CHECK_STR(addr(&e->to, 1), "NIL|NIL|jdoe|example.org");
	CHECK_STR(addr(&e->to, 2), "Who?|NIL|one|y.test");
	CHECK(e->cc.n == 2);
	CHECK_STR(addr(&e->cc, 0), "NIL|NIL|boss|nil.test");
	CHECK_STR(addr(&e->cc, 1), "Giant; \"Big\" Box|NIL|sysservices|example.net");
	CHECK(e->bcc.n == 0);
	mime_free(p);
}

/* multipart/mixed: preamble, text, multipart/alternative, an attachment,
 * message/rfc822 (whose body is an RFC 2231 named base64 leaf); LF ends. */
static const char mixed[] =
    "From: Pete <pete@silly.example>\n"
    "Sender: <list@silly.example>\n"
    "To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;,\n"
    " Undisclosed recipients:;\n"
    "MIME-Version: 1.0\n"
    "Content-Type: Multipart/Mixed; boundary=\"simple boundary\"\n"
    "\n"
    "This is the preamble.\n"
    "--simple boundary\n"
    "Content-Type: text/plain; charset=UTF-8 (comment)\n"
    "\n"
    "hello\n"
    "--simple boundary\n"
    "Content-Type: multipart/alternative; boundary=alt\n"
    "\n"
    "--alt\n"
    "\n"
    "plain\n"
    "--alt\n"
    "Content-Type: text/html\n"
    "\n"
    "<p>x</p>\n"
    "\n"
    "--alt--\n"
    "--simple boundary\n"
    "Content-Type: application/pdf; name=\"a.pdf\"\n"
    "Content-Transfer-Encoding: BASE64\n"
    "Content-Disposition: attachment;\n"
    "\tfilename=\"a.pdf\"; size=4\n"
    "Content-ID: <part3@x>\n"
    "Content-Description: the pdf\n"
    "Content-Language: en, de\n"
    "Content-Location: http://x.test/a.pdf\n"
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
    "\n"
    "AAAA\n"
    "--simple boundary\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner\n"
    "From: x@y\n"
    "Content-Type: application/octet-stream;\n"
    " name*0*=utf-8'en'%C3%A9; name*1=\".bin\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AAAA\n"
    "--simple boundary--\n"
    "This is the epilogue.\n";

static void
test_mixed(void)
{
	struct mime_part *p = parse(mixed);
	const struct mime_part *c, *inner;
	const struct mime_param *pm;
	const struct mime_envelope *e = p->env;

	CHECK_STR(shape_of(p), "multipart/mixed(text/plain,multipart/alternative("
	    "text/plain,text/html),application/pdf,message/rfc822("
	    "application/octet-stream))");
	CHECK_STR(param(p, "boundary"), "simple boundary");
	CHECK(p->nchildren == 4 && p->flags == 0);
	CHECK(mime_count(p) == 8);
	c = kid(p, 1);
	CHECK_STR(param(c, "charset"), "UTF-8");
	CHECK_STR(text(mixed, c, 0), "hello");
	CHECK_STR(text(mixed, c, 1), "Content-Type: text/plain; charset=UTF-8 (comment)\n\n");
	CHECK(c->size == 5 && c->lines == 1 && c->wire_size == 5 && c->depth == 1);
	CHECK(c->env == NULL);
	c = kid(p, 2);
	CHECK_STR(text(mixed, c, 0), "--alt\n\nplain\n--alt\nContent-Type: text/html\n\n"
	    "<p>x</p>\n\n--alt--");
	CHECK_STR(text(mixed, kid(c, 1), 1), "\n");
	CHECK_STR(text(mixed, kid(c, 1), 0), "plain");
	CHECK_STR(param(kid(c, 1), "charset"), "us-ascii");
	CHECK_STR(text(mixed, kid(c, 2), 0), "<p>x</p>\n");
	CHECK(kid(c, 2)->lines == 1 && kid(c, 2)->depth == 2);
	c = kid(p, 3);
	CHECK_STR(c->encoding, "base64");
	CHECK_STR(c->disposition, "attachment");
	CHECK_STR(dparam(c, "filename"), "a.pdf");
	CHECK_STR(dparam(c, "size"), "4");
	CHECK_STR(param(c, "name"), "a.pdf");
	CHECK_STR(c->id, "<part3@x>");
	CHECK_STR(c->description, "the pdf");
	CHECK_STR(c->language, "en, de");
	CHECK_STR(c->location, "http://x.test/a.pdf");
	CHECK_STR(c->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
	CHECK_STR(text(mixed, c, 0), "AAAA");
	c = kid(p, 4);
	CHECK(c->nchildren == 1 && c->env == NULL);
	CHECK(c->lines == 7);
	inner = kid(c, 1);
	CHECK(inner->hdr_start == c->body_start && inner->body_end == c->body_end);
	CHECK(inner->env != NULL && inner->depth == 2);
	CHECK_STR(inner->env->subject, "inner");
	CHECK_STR(addr(&inner->env->from, 0), "NIL|NIL|x|y");
	CHECK_STR(addr(&inner->env->reply_to, 0), "NIL|NIL|x|y");
	CHECK(inner->env->to.n == 0 && inner->env->date == NULL);
	pm = mime_param_get(inner->params, inner->nparams, "name");
	CHECK(pm != NULL && pm->vlen == 6 && !pm->encoded);
	CHECK_STR(pm->value, "\xc3\xa9.bin");
	CHECK_STR(pm->charset, "utf-8");
	CHECK_STR(pm->lang, "en");
	CHECK_STR(text(mixed, inner, 0), "AAAA");
	/* envelope with groups */
	CHECK_STR(addr(&e->sender, 0), "NIL|NIL|list|silly.example");
	CHECK_STR(addr(&e->reply_to, 0), "Pete|NIL|pete|silly.example");
	CHECK(e->to.n == 7);
	CHECK_STR(addr(&e->to, 0), "NIL|NIL|A Group|NIL");
	CHECK_STR(addr(&e->to, 1), "Ed Jones|NIL|c|a.test");
	CHECK_STR(addr(&e->to, 2), "NIL|NIL|joe|where.test");
	CHECK_STR(addr(&e->to, 3), "John|NIL|jdoe|one.test");
	CHECK_STR(addr(&e->to, 4), "NIL|NIL|NIL|NIL");
	CHECK_STR(addr(&e->to, 5), "NIL|NIL|Undisclosed recipients|NIL");
	CHECK_STR(addr(&e->to, 6), "NIL|NIL|NIL|NIL");
	mime_free(p);
}

/* multipart/alternative with CRLF, digest defaults (RFC 2046 5.1.5). */
static void
test_alternative_digest(void)
{
	static const char alt[] =
	    "Content-Type: multipart/alternative;\r\n boundary=\"=_b\"\r\n\r\n"
	    "--=_b\r\nContent-Type: text/plain\r\n\r\nHi\r\nthere\r\n"
	    "--=_b\r\nContent-Type: text/html; charset=\"iso-8859-1\"\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n<b>Hi</b>\r\n"
	    "--=_b--  \r\n";
	static const char dig[] =
	    "Content-Type: multipart/digest; boundary=d\n\n"
	    "--d\n\nSubject: one\n\nbody\n"
	    "--d\nContent-Type: text/plain\n\nt\n"
	    "--d\nContent-Type: multipart/mixed; boundary=e\n\n--e\n\nx\n--e--\n"
	    "--d--\n";
	struct mime_part *p = parse(alt);
	const struct mime_part *c;

	CHECK_STR(shape_of(p), "multipart/alternative(text/plain,text/html)");
	CHECK_STR(text(alt, kid(p, 1), 0), "Hi\r\nthere");
	CHECK(kid(p, 1)->lines == 2 && kid(p, 1)->size == 9);
	CHECK_STR(text(alt, kid(p, 2), 0), "<b>Hi</b>");
	CHECK_STR(param(kid(p, 2), "charset"), "iso-8859-1");
	CHECK_STR(kid(p, 2)->encoding, "quoted-printable");
	CHECK(p->flags == 0);
	mime_free(p);

	p = parse(dig);
	CHECK_STR(shape_of(p), "multipart/digest(message/rfc822(text/plain),"
	    "text/plain,multipart/mixed(text/plain))");
	c = kid(kid(p, 1), 1);
	CHECK(c != NULL && c->env != NULL);
	CHECK_STR(c->env->subject, "one");
	CHECK_STR(text(dig, c, 0), "body");
	/* the default is per parent: inside the nested mixed, text/plain */
	CHECK_STR(param(kid(kid(p, 3), 1), "charset"), "us-ascii");
	mime_free(p);
}

struct wcase {
	const char *in, *out;
};

static const struct wcase words[] = {
	{ "plain text", "plain text" },
	{ "=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9" },
	{ "=?UTF-8?B?w6k=?=", "\xc3\xa9" },
	{ "=?utf-8?b?w6k?=", "\xc3\xa9" },			/* no padding */
	{ "=?iso-8859-1?q?=E9t=E9?=", "\xc3\xa9t\xc3\xa9" },
	/* RFC 2047 section 8 examples */
	{ "(=?ISO-8859-1?Q?a?=)", "(a)" },
	{ "(=?ISO-8859-1?Q?a?= b)", "(a b)" },
	{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "(=?ISO-8859-1?Q?a_b?=)", "(a b)" },
	{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a =?ISO-8859-2?Q?_b?=)" },
	{ "=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore" },	/* RFC 2231 5 */
	{ "Re: =?utf-8?B?SGVsbG8=?= =?utf-8?Q?_world?= !", "Re: Hello world !" },
	/* a character split across adjacent words */
	{ "=?utf-8?q?=C3?= =?utf-8?q?=A9?=", "\xc3\xa9" },
	{ "=?utf-8?q?=C3?= x", "\xef\xbf\xbd x" },
	/* bad ones stay as they are or are made safe */
	{ "=?utf-8?q?=FF?=", "\xef\xbf\xbd" },
	{ "=?utf-8?q?a=00b=0D=0Ac?=", "a b  c" },
	{ "=?koi8-r?q?x?=", "=?koi8-r?q?x?=" },
	{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
	{ "=?utf-8?q?a b?=", "=?utf-8?q?a b?=" },
	{ "=?utf-8?q?abc", "=?utf-8?q?abc" },
	{ "=??q?a?=", "=??q?a?=" },
	{ "=?utf-8?q?=E?=", "=E" },
	{ "a = b =? c ?=", "a = b =? c ?=" },
	{ "=?utf-8?b?####?=", "" },
};

static void
test_words(void)
{
	struct buf b = BUF_INIT(1024), small = BUF_INIT(3);
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		buf_reset(&b);
		CHECK(mime_decode_words(words[i].in, strlen(words[i].in), &b) == 0);
		CHECK_STR(buf_cstr(&b), words[i].out);
	}
	CHECK(buf_puts(&small, "x") == 0);
	CHECK(mime_decode_words("=?utf-8?q?abcd?=", 16, &small) == -1);
	CHECK_STR(buf_cstr(&small), "x");
	buf_free(&b);
	buf_free(&small);
}

struct pcase {
	const char *ctype, *name, *value, *charset, *lang;
	int encoded;
};

static const struct pcase pcases[] = {
	/* RFC 2231 3, 4, 4.1 */
	{ "message/external-body; access-type=URL;\r\n"
	  " URL*0=\"ftp://\";\r\n URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
	  "url", "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar", NULL, NULL, 0 },
	{ "application/x-stuff;\r\n title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
	  "title", "This is ***fun***", "us-ascii", "en-us", 0 },
	{ "application/x-stuff;\r\n title*0*=us-ascii'en'This%20is%20even%20more%20"
	  ";\r\n title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n title*2=\"isn't it!\"",
	  "title", "This is even more ***fun*** isn't it!", "us-ascii", "en", 0 },
	/* other charsets stay raw, plain sections percent-encoded to match */
	{ "text/plain; title*=iso-8859-1'fr'%E9t%E9", "title", "%E9t%E9",
	  "iso-8859-1", "fr", 1 },
	{ "text/plain; title*0*=iso-8859-1''%E9; title*1=\"a b\"", "title",
	  "%E9a%20b", "iso-8859-1", "", 1 },
	/* an extended form wins; order of sections does not matter; a gap ends */
	{ "text/plain; name=\"plain.txt\"; name*=utf-8''%C3%A9.txt", "name",
	  "\xc3\xa9.txt", "utf-8", "", 0 },
	{ "text/plain; x*1=b; x*0=a", "x", "ab", NULL, NULL, 0 },
	{ "text/plain; x*0=a; x*2=c", "x", "a", NULL, NULL, 0 },
	{ "text/plain; x*0*=''%41%4g%; x*1*=%42", "x", "A%4g%B", "", "", 0 },
	{ "text/plain; x*=no-quotes%41", "x", "no-quotesA", "", "", 0 },
	/* quoting, comments, case, junk */
	{ "text/plain; (c) CHARSET = \"a\\\"b\" (c)", "charset", "a\"b", NULL, NULL, 0 },
	{ "text/plain;;; a=1;junk; b=2", "b", "2", NULL, NULL, 0 },
	{ "text/plain; a=1; a=2", "a", "1", NULL, NULL, 0 },
	{ "text/plain; a=\"unterminated", "a", "unterminated", NULL, NULL, 0 },
};

static void
test_params(void)
{
	struct buf m = BUF_INIT(4096);
	struct mime_part *p;
	const struct mime_param *v;
	size_t i;

	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		const struct pcase *c = &pcases[i];

		buf_reset(&m);
		CHECK(buf_printf(&m, "Content-Type: %s\r\n\r\nbody", c->ctype) == 0);
		p = mime_parse(m.data, m.len);
		v = mime_param_get(p->params, p->nparams, c->name);
		CHECK(v != NULL);
		if (v == NULL) {
			fprintf(stderr, "  case %zu\n", i);
			mime_free(p);
			continue;
		}
		CHECK_STR(v->value, c->value);
		CHECK(v->encoded == c->encoded);
		if (c->charset == NULL)
			CHECK(v->charset == NULL && v->lang == NULL);
		else {
			CHECK_STR(v->charset, c->charset);
			CHECK_STR(v->lang, c->lang);
		}
		mime_free(p);
	}
	/* Content-Disposition takes RFC 2231 too */
	p = parse("Content-Disposition: Attachment; filename*0*=utf-8''%E2%82%AC;"
	    " filename*1=.txt\n\nx");
	CHECK_STR(p->disposition, "attachment");
	CHECK_STR(dparam(p, "filename"), "\xe2\x82\xac.txt");
	mime_free(p);
	buf_free(&m);
}

struct acase {
	const char *in;
	size_t n;
	const char *a[5];
};

static const struct acase acases[] = {
	{ "a@b (Comment Name)", 1, { "Comment Name|NIL|a|b" } },
	{ "<@route1,@route2:user@host>", 1, { "NIL|@route1,@route2|user|host" } },
	{ "undisclosed", 1, { "NIL|NIL|undisclosed|" } },
	{ "<>", 1, { "NIL|NIL||" } },
	{ "\"john doe\"@x.test", 1, { "NIL|NIL|john doe|x.test" } },
	{ "x@[127.0.0.1], ,,y@z", 2, { "NIL|NIL|x|[127.0.0.1]", "NIL|NIL|y|z" } },
	{ "Empty:;", 2, { "NIL|NIL|Empty|NIL", "NIL|NIL|NIL|NIL" } },
	{ "Open: a@b", 3, { "NIL|NIL|Open|NIL", "NIL|NIL|a|b", "NIL|NIL|NIL|NIL" } },
	{ "=?utf-8?q?J=C3=B6rg?= <j@x>", 1, { "=?utf-8?q?J=C3=B6rg?=|NIL|j|x" } },
	{ "Bad <a@b", 1, { "Bad|NIL|a|b" } },
	{ "Mary Smith <mary@x.test> junk, b@c", 2, { "Mary Smith|NIL|mary|x.test",
	  "NIL|NIL|b|c" } },
	{ "", 0, { NULL } },
	{ "(only a comment)", 0, { NULL } },
	{ "<<>>;;::@@", 5, { "NIL|NIL||", "NIL|NIL||NIL", "NIL|NIL||", "NIL|NIL||",
	  "NIL|NIL|NIL|NIL" } },
	{ "g: <a@b> x, c@d; e@f", 5, { "NIL|NIL|g|NIL", "NIL|NIL|a|b", "NIL|NIL|c|d",
	  "NIL|NIL|NIL|NIL", "NIL|NIL|e|f" } },
};

static void
test_addrs(void)
{
	struct mime_addrlist l = { NULL, 0 };
	size_t i, j;

	for (i = 0; i < sizeof(acases) / sizeof(acases[0]); i++) {
		mime_parse_addrs(acases[i].in, strlen(acases[i].in), &l);
		CHECK(l.n == acases[i].n);
		if (l.n != acases[i].n)
			fprintf(stderr, "  case %zu: %zu addresses\n", i, l.n);
		for (j = 0; j < acases[i].n && j < l.n; j++)
			CHECK_STR(addr(&l, j), acases[i].a[j]);
		mime_addrlist_free(&l);
	}
}

static void
test_malformed_structure(void)
{
	static const char nested[] =
	    "Content-Type: multipart/mixed; boundary=a\n\n"
	    "--a\nContent-Type: multipart/mixed; boundary=b\n\n"
	    "--b\n\ninner one\n"
	    "--a\n\nouter two\n"
	    "--ab\n"
	    "--a--\n";
	static const char unterm[] =
	    "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
	    "--a\r\n\r\none\r\n--a\r\n\r\ntwo\r\n";
	struct mime_part *p;

	/* multipart without boundary, without any delimiter, empty boundary */
	p = parse("Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n");
	CHECK_STR(shape_of(p), "application/octet-stream");
	CHECK(p->flags & MIME_F_BROKEN && p->nparams == 0);
	mime_free(p);
	p = parse("Content-Type: multipart/mixed; boundary=x\n\nno parts\n");
	CHECK_STR(shape_of(p), "application/octet-stream");
	CHECK(p->flags & MIME_F_BROKEN);
	mime_free(p);
	p = parse("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\n");
	CHECK_STR(shape_of(p), "application/octet-stream");
	mime_free(p);
	/* only a close delimiter: no body part */
	p = parse("Content-Type: multipart/mixed; boundary=x\n\n--x--\n");
	CHECK(p->flags & MIME_F_BROKEN);
	mime_free(p);

	/* the outer boundary ends the inner multipart; "--ab" is no delimiter */
	p = parse(nested);
	CHECK_STR(shape_of(p), "multipart/mixed(multipart/mixed(text/plain),text/plain)");
	CHECK(kid(p, 1)->flags & MIME_F_UNTERMINATED);
	CHECK_STR(text(nested, kid(kid(p, 1), 1), 0), "inner one");
	CHECK_STR(text(nested, kid(p, 2), 0), "outer two\n--ab");
	CHECK(!(p->flags & MIME_F_UNTERMINATED));
	mime_free(p);

	/* no close delimiter: the last part runs to the end */
	p = parse(unterm);
	CHECK_STR(shape_of(p), "multipart/mixed(text/plain,text/plain)");
	CHECK(p->flags & MIME_F_UNTERMINATED);
	CHECK_STR(text(unterm, kid(p, 1), 0), "one");
	CHECK_STR(text(unterm, kid(p, 2), 0), "two\r\n");
	mime_free(p);

	/* delimiter with trailing white space; a delimiter at the very end */
	p = parse("Content-Type: multipart/mixed; boundary=a\n\n--a \t\nx\n--a");
	CHECK_STR(shape_of(p), "multipart/mixed(text/plain,text/plain)");
	mime_free(p);

	/* message/rfc822 with a transfer encoding cannot be parsed inside */
	p = parse("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA==\n");
	CHECK_STR(shape_of(p), "application/octet-stream");
	CHECK(p->flags & MIME_F_BROKEN);
	mime_free(p);
	/* an empty message/rfc822 is an empty message */
	p = parse("Content-Type: message/rfc822\n\n");
	CHECK_STR(shape_of(p), "message/rfc822(text/plain)");
	CHECK(kid(p, 1)->env != NULL && kid(p, 1)->size == 0);
	mime_free(p);
}

static void
test_malformed_header(void)
{
	static const char nul[] = "Subject: a\0b\nX: y\n\nbody\0with NUL\n";
	struct mime_part *p;
	struct buf m = BUF_INIT(BUF_NOLIMIT);
	size_t i;

	/* empty message */
	p = mime_parse("", 0);
	CHECK_STR(shape_of(p), "text/plain");
	CHECK(p->hdr_end == 0 && p->body_start == 0 && p->size == 0 && p->lines == 0);
	CHECK(p->env != NULL && p->env->subject == NULL && p->env->from.n == 0);
	mime_free(p);
	/* a header without its empty line: no body */
	p = parse("Subject: x\r\nFrom: a@b");
	CHECK(p->hdr_end == 21 && p->body_start == 21 && p->size == 0);
	CHECK_STR(p->env->subject, "x");
	CHECK_STR(addr(&p->env->from, 0), "NIL|NIL|a|b");
	mime_free(p);
	/* a line that is no field starts the body */
	p = parse("Subject: x\nthis is body\nmore\n");
	CHECK(p->body_start == 11 && p->lines == 2);
	mime_free(p);
	/* only a body */
	p = parse("\nbody\n");
	CHECK(p->hdr_end == 1 && p->size == 5);
	mime_free(p);
	/* invalid Content-Type: the default */
	p = parse("Content-Type: text\n\nx");
	CHECK_STR(shape_of(p), "text/plain");
	CHECK_STR(param(p, "charset"), "us-ascii");
	CHECK(p->flags & MIME_F_BADTYPE);
	mime_free(p);
	p = parse("Content-Type: (comment) Text / HTML ; charset=x\n\nx");
	CHECK_STR(shape_of(p), "text/html");
	CHECK(p->flags == 0);
	mime_free(p);
	/* first field wins; field names are case-insensitive; space before ':' */
	p = parse("SUBJECT : one\nSubject: two\n\n");
	CHECK_STR(p->env->subject, "one");
	mime_free(p);
	/* NULs are dropped from header values and kept in bodies */
	p = mime_parse(nul, sizeof(nul) - 1);
	CHECK_STR(p->env->subject, "ab");
	CHECK(p->size == 14 && p->lines == 1);
	mime_free(p);
	/* mixed line ends: bare LF counts two octets on the wire */
	p = parse("X: y\n\na\nb\r\nc");
	CHECK(p->size == 6 && p->wire_size == 7 && p->lines == 3);
	mime_free(p);
	/* a huge header field is cut at MIME_FIELD_MAX */
	CHECK(buf_puts(&m, "Subject: ") == 0);
	for (i = 0; i < 20000; i++)
		if (buf_puts(&m, "word word\r\n ") == -1)
			abort();
	CHECK(buf_puts(&m, "end\r\n\r\nbody") == 0);
	p = mime_parse(m.data, m.len);
	CHECK(p->flags & MIME_F_TRUNCATED);
	CHECK(p->env->subject != NULL && strlen(p->env->subject) <= MIME_FIELD_MAX);
	CHECK_STR(text(m.data, p, 0), "body");
	mime_free(p);
	buf_free(&m);
}

/* Nesting below MIME_DEPTH_MAX and more than MIME_PARTS_MAX parts. */
static void
test_limits(void)
{
	struct buf m = BUF_INIT(BUF_NOLIMIT);
	struct mime_part *p;
	const struct mime_part *c;
	int i, depth;

	for (i = 0; i < 40; i++)
		CHECK(buf_printf(&m, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n",
		    i, i) == 0);
	CHECK(buf_puts(&m, "\nleaf\n") == 0);
	p = mime_parse(m.data, m.len);
	for (c = p, depth = 0; c->child != NULL; c = c->child)
		depth++;
	CHECK(depth == MIME_DEPTH_MAX);
	CHECK(c->depth == MIME_DEPTH_MAX && (c->flags & MIME_F_BROKEN));
	CHECK(c->body_end == m.len);
	mime_free(p);

	/* message/rfc822 nesting, with a header each time */
	buf_reset(&m);
	for (i = 0; i < 40; i++)
		CHECK(buf_puts(&m, "Subject: s\nContent-Type: message/rfc822\n\n") == 0);
	p = mime_parse(m.data, m.len);
	for (c = p, depth = 0; c->child != NULL; c = c->child)
		depth++;
	CHECK(depth == MIME_DEPTH_MAX);
	mime_free(p);

	buf_reset(&m);
	CHECK(buf_puts(&m, "Content-Type: multipart/mixed; boundary=b\n\n") == 0);
	for (i = 0; i < MIME_PARTS_MAX + 500; i++)
		if (buf_puts(&m, "--b\n\nx\n") == -1)
			abort();
	CHECK(buf_puts(&m, "--b--\n") == 0);
	p = mime_parse(m.data, m.len);
	CHECK(mime_count(p) == MIME_PARTS_MAX);
	CHECK(p->nchildren == MIME_PARTS_MAX - 1);
	mime_free(p);
	buf_free(&m);
}

int
main(void)
{
	test_plain();
	test_mixed();
	test_alternative_digest();
	test_words();
	test_params();
	test_addrs();
	test_malformed_structure();
	test_malformed_header();
	test_limits();
	return UNIT_DONE();
}
