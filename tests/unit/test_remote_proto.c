/* Unit tests for deliver/remote_proto.c: reply and EHLO parsing (good and
 * hostile), command builders (xtext, DSN, SMTPUTF8, AUTH), the DATA/BDAT
 * encoder across chunk boundaries, and result mapping (checked against the
 * queue's own status parser, queue/queue_sched.c). */
#include "../../deliver/remote_proto.c"
#include "../../queue/queue_sched.c"
#include "unit.h"

/* Feed a whole reply (lines split at LF); returns the last rc. */
static int
feed_reply(struct remote_reply *r, const char *s, enum remote_perr *err)
{
	const char *nl;
	int rc = 0;

	remote_reply_init(r);
	while (*s != '\0') {
		nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
		if ((rc = remote_reply_line(r, s, n, err)) == -1)
			return -1;
		s += n;
	}
	return rc;
}

static void
test_replies(void)
{
	static const struct {
		const char *in;
		int rc, code;
		const char *enh, *text;
		enum remote_perr err;
	} t[] = {
		{ "250 ok\r\n", 1, 250, "", "ok", 0 },
		{ "250\r\n", 1, 250, "", "", 0 },
		{ "250", 1, 250, "", "", 0 },
		{ "220 mx.example ESMTP\n", 1, 220, "", "mx.example ESMTP", 0 },
		{ "550 5.1.1 no such user\r\n", 1, 550, "5.1.1", "no such user", 0 },
		{ "550 5.1.1\r\n", 1, 550, "5.1.1", "", 0 },
		{ "451 4.3.0 try\r\n", 1, 451, "4.3.0", "try", 0 },
		{ "250 2.100.999 x\r\n", 1, 250, "2.100.999", "x", 0 },
		/* class mismatch or malformed: not an enhanced code, kept as text */
		{ "550 4.1.1 odd\r\n", 1, 550, "", "4.1.1 odd", 0 },
		{ "550 5.1.1000 x\r\n", 1, 550, "", "5.1.1000 x", 0 },
		{ "550 5.1 x\r\n", 1, 550, "", "5.1 x", 0 },
		{ "550 5.1.1x y\r\n", 1, 550, "", "5.1.1x y", 0 },
		{ "550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 third\r\n", 1, 550,
		    "5.1.1", "first second third", 0 },
		{ "550-5.1.1 a\r\n550 5.7.1 b\r\n", 1, 550, "5.1.1", "a 5.7.1 b", 0 },
		{ "250-a\r\n250-\r\n250 b\r\n", 1, 250, "", "a b", 0 },
		{ "250-first\r\n", 0, 250, "", "first", 0 },
		{ "250 t\x01\xff\tx\r\n", 1, 250, "", "t???x", 0 },
		/* garbage */
		{ "25O ok\r\n", -1, 0, "", "", REMOTE_P_NOCODE },
		{ "\r\n", -1, 0, "", "", REMOTE_P_NOCODE },
		{ "hello\r\n", -1, 0, "", "", REMOTE_P_NOCODE },
		{ "150 x\r\n", -1, 0, "", "", REMOTE_P_RANGE },
		{ "600 x\r\n", -1, 0, "", "", REMOTE_P_RANGE },
		{ "260 x\r\n", -1, 0, "", "", REMOTE_P_RANGE },
		{ "250x\r\n", -1, 0, "", "", REMOTE_P_SEP },
		{ "2500 x\r\n", -1, 0, "", "", REMOTE_P_SEP },
		{ "250-a\r\n251 b\r\n", -1, 0, "", "", REMOTE_P_MISMATCH },
		{ "250-a\r\n550 b\r\n", -1, 0, "", "", REMOTE_P_MISMATCH },
		{ "250 a\r\n250 b\r\n", -1, 0, "", "", REMOTE_P_DONE },
		{ "250 a\rb\r\n", -1, 0, "", "", REMOTE_P_CTRL },
	};
	struct remote_reply r;
	enum remote_perr err;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = feed_reply(&r, t[i].in, &err);
		CHECK(rc == t[i].rc);
		if (rc == -1) {
			CHECK(err == t[i].err);
			CHECK(strcmp(remote_perr_str(err), "unknown reply error") != 0);
			continue;
		}
		CHECK(r.code == t[i].code);
		CHECK_STR(r.enh, t[i].enh);
		CHECK_STR(r.text, t[i].text);
	}
	/* NUL inside a line */
	remote_reply_init(&r);
	CHECK(remote_reply_line(&r, "250 a\0b", 7, &err) == -1 && err == REMOTE_P_CTRL);
}

static void
test_reply_limits(void)
{
	static char line[REMOTE_LINE_MAX + 8];
	struct remote_reply r;
	enum remote_perr err;
	unsigned i;

	memset(line, 'a', sizeof(line));
	memcpy(line, "250 ", 4);
	remote_reply_init(&r);	/* exactly the limit (plus CRLF) is fine */
	line[REMOTE_LINE_MAX] = '\r';
	line[REMOTE_LINE_MAX + 1] = '\n';
	CHECK(remote_reply_line(&r, line, REMOTE_LINE_MAX + 2, &err) == 1);
	CHECK(r.truncated && r.textlen == REMOTE_REPLY_TEXT);
	CHECK(strlen(r.text) == REMOTE_REPLY_TEXT);
	remote_reply_init(&r);	/* one more octet is not */
	line[REMOTE_LINE_MAX] = 'a';
	CHECK(remote_reply_line(&r, line, REMOTE_LINE_MAX + 1, &err) == -1);
	CHECK(err == REMOTE_P_TOOLONG);
	remote_reply_init(&r);	/* endless continuation lines */
	for (i = 0; i < REMOTE_REPLY_LINES; i++)
		if (remote_reply_line(&r, "250-x\r\n", 7, &err) != 0)
			break;
	CHECK(i == REMOTE_REPLY_LINES);
	CHECK(remote_reply_line(&r, "250 x\r\n", 7, &err) == -1 && err == REMOTE_P_TOOMANY);
}

static void
test_ehlo(void)
{
	static const struct {
		const char *in;
		int rc;
		unsigned ext, auth;
		uint64_t size;
	} t[] = {
		{ "250-mx.example hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
		  "250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250-CHUNKING\r\n"
		  "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n",
		  1, REMOTE_EXT_PIPELINING | REMOTE_EXT_SIZE | REMOTE_EXT_8BITMIME |
		  REMOTE_EXT_SMTPUTF8 | REMOTE_EXT_DSN | REMOTE_EXT_CHUNKING |
		  REMOTE_EXT_STARTTLS | REMOTE_EXT_ENHANCED | REMOTE_EXT_AUTH,
		  REMOTE_AUTH_PLAIN | REMOTE_AUTH_LOGIN, 10240000 },
		/* case-insensitive keywords, old AUTH= form, SIZE without value */
		{ "250-x\r\n250-pipelining\r\n250-Size\r\n250-auth=login\r\n250 8bitMime\r\n",
		  1, REMOTE_EXT_PIPELINING | REMOTE_EXT_SIZE | REMOTE_EXT_AUTH |
		  REMOTE_EXT_8BITMIME, REMOTE_AUTH_LOGIN, 0 },
		/* the greeting line is not a keyword; near misses are not keywords */
		{ "250-PIPELINING\r\n250-DSNX\r\n250-8BITMIMEX\r\n250-STARTTLS=1\r\n"
		  "250 SIZE 12abc\r\n", 1, REMOTE_EXT_SIZE, 0, 0 },
		{ "250-x\r\n250 SIZE 99999999999999999999999\r\n", 1, REMOTE_EXT_SIZE, 0, 0 },
		{ "250-x\r\n250 SIZE 18446744073709551615\r\n", 1, REMOTE_EXT_SIZE, 0, 0 },
		{ "250-x\r\n250 SIZE 1844674407370955161\r\n", 1, REMOTE_EXT_SIZE, 0,
		  1844674407370955161ull },
		{ "250-x\r\n250 AUTH  SCRAM-SHA-1   plain \r\n", 1, REMOTE_EXT_AUTH,
		  REMOTE_AUTH_PLAIN, 0 },
		{ "250-x\r\n250 AUTH\r\n", 1, REMOTE_EXT_AUTH, 0, 0 },
		{ "250 x\r\n", 1, 0, 0, 0 },
		/* a refusal has no capabilities even if it lists some */
		{ "550-x\r\n550 PIPELINING\r\n", 1, 0, 0, 0 },
		{ "250-x\r\n250-PIPELINING\r\n", 0, REMOTE_EXT_PIPELINING, 0, 0 },
		{ "250-x\r\n250 PIPELINING", 0, 0, 0, 0 },	/* no LF yet */
		{ "250-x\r\n250 a\r\n250 b\r\n", -1, 0, 0, 0 },
		{ "250-x\r\n251 a\r\n", -1, 0, 0, 0 },
	};
	struct remote_reply r;
	struct remote_caps c;
	enum remote_perr err;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = remote_ehlo_parse(t[i].in, strlen(t[i].in), &r, &c, &err);
		CHECK(rc == t[i].rc);
		if (rc == -1)
			continue;
		if (c.ext != t[i].ext)
			fprintf(stderr, "ehlo %zu: ext %#x want %#x\n", i, c.ext, t[i].ext);
		CHECK(c.ext == t[i].ext);
		CHECK(c.auth == t[i].auth);
		CHECK(c.size == t[i].size);
	}
}

static const struct remote_caps all_caps = {
	REMOTE_EXT_SIZE | REMOTE_EXT_8BITMIME | REMOTE_EXT_SMTPUTF8 | REMOTE_EXT_DSN |
	REMOTE_EXT_CHUNKING, 0, 0 };
static const struct remote_caps no_caps = { 0, 0, 0 };

static void
test_mail(void)
{
	struct buf b = BUF_INIT(4096);
	const char *err = NULL;
	struct remote_mail m = { "a@b.example", 1234, SMTP_BODY_8BITMIME, 0,
		SMTP_RET_HDRS, "id+1=2 x" };

	CHECK(remote_cmd_mail(&m, &all_caps, &b, &err) == 0);
	CHECK(buf_eq(&b, "MAIL FROM:<a@b.example> SIZE=1234 BODY=8BITMIME RET=HDRS "
	    "ENVID=id+2B1+3D2+20x\r\n"));
	buf_reset(&b);
	CHECK(remote_cmd_mail(&m, &no_caps, &b, &err) == 0);
	CHECK(buf_eq(&b, "MAIL FROM:<a@b.example>\r\n"));
	buf_reset(&b);
	m.sender = "";
	m.size = 0;
	m.ret = SMTP_RET_FULL;
	m.envid = NULL;
	m.body = SMTP_BODY_BINARYMIME;
	CHECK(remote_cmd_mail(&m, &all_caps, &b, &err) == 0);
	CHECK(buf_eq(&b, "MAIL FROM:<> BODY=8BITMIME RET=FULL\r\n"));
	buf_reset(&b);
	/* SMTPUTF8 only when needed; refused when needed and not offered */
	m.sender = "j\xc3\xb6rg@b.example";
	m.body = SMTP_BODY_NONE;
	m.ret = SMTP_RET_NONE;
	CHECK(remote_cmd_mail(&m, &all_caps, &b, &err) == 0);
	CHECK(buf_eq(&b, "MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8\r\n"));
	buf_reset(&b);
	CHECK(remote_cmd_mail(&m, &no_caps, &b, &err) == -1 && b.len == 0);
	m.sender = "a@b";
	m.smtputf8 = 1;
	CHECK(remote_cmd_mail(&m, &no_caps, &b, &err) == -1 && b.len == 0);
	m.smtputf8 = 0;
	/* CR, LF and controls are refused; out is left as it was */
	CHECK(buf_puts(&b, "keep") == 0);
	m.sender = "a@b\r\nRCPT TO:<x@y>";
	CHECK(remote_cmd_mail(&m, &all_caps, &b, &err) == -1 && buf_eq(&b, "keep"));
	m.sender = "a@b";
	m.envid = "x\ny";
	CHECK(remote_cmd_mail(&m, &all_caps, &b, &err) == -1 && buf_eq(&b, "keep"));
	buf_reset(&b);
	/* an ENVID too long once encoded is left out */
	m.envid = "++++++++++++++++++++++++++++++++++++++++";	/* 40 -> 120 */
	CHECK(remote_cmd_mail(&m, &all_caps, &b, &err) == 0);
	CHECK(buf_eq(&b, "MAIL FROM:<a@b>\r\n"));
	buf_free(&b);
	/* the buffer limit */
	struct buf small = BUF_INIT(10);
	CHECK(remote_cmd_mail(&m, &all_caps, &small, &err) == -1 && small.len == 0);
	buf_free(&small);
}

static void
test_rcpt(void)
{
	static const struct {
		const char *rcpt;
		unsigned notify;
		const char *orcpt;
		int utf8, rc;
		const char *out;
	} t[] = {
		{ "u@d.example", 0, NULL, 0, 0, "RCPT TO:<u@d.example>\r\n" },
		{ "u@d", SMTP_NOTIFY_NEVER, NULL, 0, 0, "RCPT TO:<u@d> NOTIFY=NEVER\r\n" },
		{ "u@d", SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY,
		  NULL, 0, 0, "RCPT TO:<u@d> NOTIFY=SUCCESS,FAILURE,DELAY\r\n" },
		{ "u@d", SMTP_NOTIFY_DELAY, "rfc822;u+x@d", 0, 0,
		  "RCPT TO:<u@d> NOTIFY=DELAY ORCPT=rfc822;u+2Bx@d\r\n" },
		{ "u@d", 0, "rfc822;a b=c", 0, 0, "RCPT TO:<u@d> ORCPT=rfc822;a+20b+3Dc\r\n" },
		{ "u@d", 0, "utf-8;j\xc3\xb6+=\\@d", 1, 0,
		  "RCPT TO:<u@d> ORCPT=utf-8;j\\x{F6}\\x{2B}\\x{3D}\\x{5C}@d\r\n" },
		{ "u@d", 0, "utf-8;\xe4\xb8\xad\xf0\x9f\x98\x80@d", 0, 0,
		  "RCPT TO:<u@d> ORCPT=utf-8;\\x{4E2D}\\x{1F600}@d\r\n" },
		/* malformed ORCPT (no type, bad type, bad UTF-8): left out */
		{ "u@d", 0, "u@d", 0, 0, "RCPT TO:<u@d>\r\n" },
		{ "u@d", 0, ";u@d", 0, 0, "RCPT TO:<u@d>\r\n" },
		{ "u@d", 0, "rf c;u@d", 0, 0, "RCPT TO:<u@d>\r\n" },
		{ "u@d", 0, "utf-8;\xc3(@d", 0, 0, "RCPT TO:<u@d>\r\n" },
		/* hostile or impossible */
		{ "u@d\r\nDATA", 0, NULL, 0, -1, "" },
		{ "u@d", 0, "rfc822;x\r\nDATA", 0, -1, "" },
		{ "", 0, NULL, 0, -1, "" },
		{ "j\xc3\xb6@d", 0, NULL, 0, -1, "" },
		{ "j\xc3\xb6@d", 0, NULL, 1, 0, "RCPT TO:<j\xc3\xb6@d>\r\n" },
	};
	struct buf b = BUF_INIT(4096);
	const char *err;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		CHECK(remote_cmd_rcpt(t[i].rcpt, t[i].notify, t[i].orcpt, t[i].utf8,
		    &all_caps, &b, &err) == t[i].rc);
		CHECK_STR(buf_cstr(&b), t[i].out);
	}
	/* without DSN: neither NOTIFY nor ORCPT */
	buf_reset(&b);
	CHECK(remote_cmd_rcpt("u@d", SMTP_NOTIFY_NEVER, "rfc822;u@d", 0, &no_caps,
	    &b, &err) == 0);
	CHECK(buf_eq(&b, "RCPT TO:<u@d>\r\n"));
	/* ORCPT round trip through the server-side parser */
	buf_reset(&b);
	CHECK(remote_cmd_rcpt("u@d", 0, "rfc822;a+b=c\\d\x7e!", 0, &all_caps, &b,
	    &err) == 0);
	{
		struct smtp_rcpt pr;
		const char *s = buf_cstr(&b) + 5;	/* "TO:..." */
		CHECK(smtp_rcpt_parse(s, strlen(s) - 2, SMTP_EXT_ALL, 0, &pr) == SMTP_P_OK);
		CHECK(pr.has_orcpt);
		CHECK_STR(pr.orcpt_type, "rfc822");
		CHECK_STR(pr.orcpt, "a+b=c\\d\x7e!");
	}
	buf_free(&b);
}

static void
test_auth(void)
{
	struct buf b = BUF_INIT(4096);
	const char *err;

	CHECK(remote_cmd_auth_plain("user", "p\xc3\xa4ss", &b, &err) == 0);
	CHECK(buf_eq(&b, "AUTH PLAIN AHVzZXIAcMOkc3M=\r\n"));
	buf_reset(&b);
	CHECK(remote_cmd_auth_login(0, "user", "pw", &b, &err) == 0);
	CHECK(remote_cmd_auth_login(1, "user", "pw", &b, &err) == 0);
	CHECK(remote_cmd_auth_login(2, "user", "pw", &b, &err) == 0);
	CHECK(buf_eq(&b, "AUTH LOGIN\r\ndXNlcg==\r\ncHc=\r\n"));
	CHECK(remote_cmd_auth_login(3, "user", "pw", &b, &err) == -1);
	buf_reset(&b);
	CHECK(remote_cmd_bdat(0, 1, &b) == 0 && buf_eq(&b, "BDAT 0 LAST\r\n"));
	buf_reset(&b);
	CHECK(remote_cmd_bdat(65536, 0, &b) == 0 && buf_eq(&b, "BDAT 65536\r\n"));
	buf_free_secret(&b);
}

/* Encode msg split into pieces at every offset in cuts (0-terminated). */
static void
enc(int dot, const char *msg, size_t n, const size_t *cuts, struct buf *out)
{
	struct remote_enc e;
	size_t pos = 0, i;

	remote_enc_init(&e, dot);
	buf_reset(out);
	for (i = 0; cuts != NULL && cuts[i] != 0; i++) {
		CHECK(remote_enc_feed(&e, msg + pos, cuts[i] - pos, out) == 0);
		pos = cuts[i];
	}
	CHECK(remote_enc_feed(&e, msg + pos, n - pos, out) == 0);
	CHECK(remote_enc_finish(&e, out) == 0);
	CHECK(remote_enc_finish(&e, out) == -1);	/* only once */
}

static void
test_encoder(void)
{
	static const struct {
		const char *in, *data, *bdat;
	} t[] = {
		{ "", ".\r\n", "" },
		{ "a", "a\r\n.\r\n", "a\r\n" },
		{ "a\r\n", "a\r\n.\r\n", "a\r\n" },
		{ ".", "..\r\n.\r\n", ".\r\n" },
		{ ".\r\n", "..\r\n.\r\n", ".\r\n" },
		{ "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n" },
		{ "..x\r\n", "...x\r\n.\r\n", "..x\r\n" },
		{ "a.b\r\n.", "a.b\r\n..\r\n.\r\n", "a.b\r\n.\r\n" },
		{ "a\nb\n.\n", "a\r\nb\r\n..\r\n.\r\n", "a\r\nb\r\n.\r\n" },
		{ "a\rb\r.x", "a\r\nb\r\n..x\r\n.\r\n", "a\r\nb\r\n.x\r\n" },
		{ "a\r", "a\r\n.\r\n", "a\r\n" },
		{ "a\r\r\n", "a\r\n\r\n.\r\n", "a\r\n\r\n" },
		{ "\n\n", "\r\n\r\n.\r\n", "\r\n\r\n" },
		{ "\r\n.", "\r\n..\r\n.\r\n", "\r\n.\r\n" },
	};
	struct buf out = BUF_INIT(1 << 20);
	size_t i, c1, c2, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = strlen(t[i].in);
		/* every split into up to three pieces gives the same output */
		for (c1 = 0; c1 <= n; c1++)
			for (c2 = c1; c2 <= n; c2++) {
				size_t cuts[3] = { c1, c2, 0 };
				if (c1 == 0)
					cuts[0] = c2, cuts[1] = 0;
				enc(1, t[i].in, n, cuts, &out);
				CHECK_STR(buf_cstr(&out), t[i].data);
				enc(0, t[i].in, n, cuts, &out);
				CHECK_STR(buf_cstr(&out), t[i].bdat);
			}
	}
	/* the '.' of a line start arriving alone in the second feed() */
	{
		struct remote_enc e;
		buf_reset(&out);
		remote_enc_init(&e, 1);
		CHECK(remote_enc_feed(&e, "x\r\n", 3, &out) == 0);
		CHECK(remote_enc_feed(&e, ".", 1, &out) == 0);
		CHECK(remote_enc_feed(&e, "\r\n", 2, &out) == 0);
		CHECK(remote_enc_finish(&e, &out) == 0);
		CHECK(buf_eq(&out, "x\r\n..\r\n.\r\n"));
	}
	buf_free(&out);
	CHECK(remote_is_8bit("", 0) == 0);
	CHECK(remote_is_8bit("abc\x7f\r\n", 6) == 0);
	CHECK(remote_is_8bit("ab\x80", 3) == 1);
	CHECK(remote_is_8bit("\xff", 1) == 1);
	CHECK(remote_is_8bit("a\0\xc3\xa4", 4) == 1);
}

/* A full buffer: -1 and nothing changed, then the same chunk again. */
static void
test_encoder_full(void)
{
	struct buf small = BUF_INIT(8);
	struct remote_enc e;

	remote_enc_init(&e, 1);
	/* 4 octets may need 4 * 2 + 2 = 10 > 8: refused before any work */
	CHECK(remote_enc_feed(&e, "abc\r", 4, &small) == -1 && small.len == 0);
	buf_free(&small);
	buf_init(&small, 8);
	remote_enc_init(&e, 1);
	CHECK(remote_enc_feed(&e, "abc", 3, &small) == 0);
	CHECK(remote_enc_feed(&e, "\n.d", 3, &small) == -1);
	CHECK(buf_eq(&small, "abc") && e.bol == 0 && e.cr == 0);
	buf_reset(&small);
	CHECK(remote_enc_feed(&e, "\n.d", 3, &small) == 0);
	CHECK(remote_enc_finish(&e, &small) == -1);	/* "\r\n..d" + 5 > 8 */
	buf_reset(&small);
	CHECK(remote_enc_finish(&e, &small) == 0);
	CHECK(buf_eq(&small, "\r\n.\r\n"));
	buf_free(&small);
}

static void
test_results(void)
{
	static const struct {
		const char *reply, *stage, *status;
	} t[] = {
		{ "550 5.1.1 no such user\r\n", "RCPT TO",
		  "fail 5.1.1 host mx.example[192.0.2.1] said: 550 5.1.1 no such user "
		  "(in reply to RCPT TO)" },
		{ "250 ok queued\r\n", NULL,
		  "sent 2.0.0 host mx.example[192.0.2.1] said: 250 ok queued" },
		{ "452-4.2.2 mailbox\r\n452 4.2.2 full\r\n", NULL,
		  "defer 4.2.2 host mx.example[192.0.2.1] said: 452 4.2.2 mailbox full" },
		{ "554 go away\r\n", "end of DATA",
		  "fail 5.0.0 host mx.example[192.0.2.1] said: 554 go away "
		  "(in reply to end of DATA)" },
		{ "354 go ahead\r\n", NULL,
		  "defer 4.5.0 host mx.example[192.0.2.1] said: 354 go ahead" },
		{ "421\r\n", NULL, "defer 4.0.0 host mx.example[192.0.2.1] said: 421" },
	};
	struct remote_reply r;
	struct remote_result res;
	struct sched_status st;
	enum remote_perr err;
	struct buf b = BUF_INIT(4096);
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(feed_reply(&r, t[i].reply, &err) == 1);
		remote_result_reply(&r, "mx.example", "192.0.2.1", t[i].stage, &res);
		buf_reset(&b);
		CHECK(remote_status_format(&res, &b) == 0);
		CHECK_STR(buf_cstr(&b), t[i].status);
		CHECK(sched_status_parse(b.data, b.len, &st) == 1);	/* the contract */
	}
	/* hostile host name and a huge text: printable and bounded */
	{
		static char big[REMOTE_LINE_MAX];
		memset(big, 'x', sizeof(big));
		memcpy(big, "550 5.7.1 ", 10);
		remote_reply_init(&r);
		CHECK(remote_reply_line(&r, big, sizeof(big), &err) == 1);
		remote_result_reply(&r, "evil\x1b[31m host", "1.2.3.4]x", "DATA", &res);
		CHECK(strlen(res.text) == REMOTE_STATUS_TEXT);
		CHECK(strncmp(res.text, "host evil??31m?host[1.2.3.4?x] said: 550 5.7.1 xxx",
		    50) == 0);
		CHECK(res.verb == REMOTE_FAIL);
	}
	buf_free(&b);
}

static void
test_results_conn(void)
{
	struct remote_result res;
	struct buf b = BUF_INIT(4096);

	remote_result_conn(REMOTE_CONN_REFUSED, "mx.example", "192.0.2.1",
	    "Connection refused", &res);
	buf_reset(&b);
	CHECK(remote_status_format(&res, &b) == 0);
	CHECK_STR(buf_cstr(&b),
	    "defer 4.4.1 connect to mx.example[192.0.2.1]: Connection refused");
	remote_result_conn(REMOTE_CONN_IDLE, "mx.example", "2001:db8::1",
	    "while sending message body", &res);
	CHECK_STR(res.text, "conversation with mx.example[2001:db8::1] timed out "
	    "while sending message body");
	CHECK_STR(res.enh, "4.4.2");
	remote_result_conn(REMOTE_CONN_TLS, "mx.example", "192.0.2.1", NULL, &res);
	CHECK_STR(res.text, "TLS with mx.example[192.0.2.1] failed");
	CHECK(res.verb == REMOTE_DEFER && res.enh[0] == '4');
	remote_result_conn(REMOTE_CONN_TIMEOUT, NULL, NULL, NULL, &res);
	CHECK_STR(res.text, "connect to unknown[] timed out");
	buf_free(&b);
}

static void
test_tls_level(void)
{
	static const struct { const char *in; int rc; enum remote_tls_level lv; } t[] = {
		{ "none", 0, REMOTE_TLS_NONE }, { "may", 0, REMOTE_TLS_MAY },
		{ " Encrypt\t", 0, REMOTE_TLS_ENCRYPT }, { "VERIFY", 0, REMOTE_TLS_VERIFY },
		{ "", -1, 0 }, { "verif", -1, 0 }, { "verify2", -1, 0 },
		{ "may may", -1, 0 }, { "secure", -1, 0 },
	};
	enum remote_tls_level lv;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		lv = 99;
		CHECK(remote_tls_level_parse(t[i].in, strlen(t[i].in), &lv) == t[i].rc);
		if (t[i].rc == 0)
			CHECK(lv == t[i].lv);
	}
	/* length-bounded: "mayXX" cut to 3 */
	CHECK(remote_tls_level_parse("mayXX", 3, &lv) == 0 && lv == REMOTE_TLS_MAY);
	CHECK(remote_tls_level_parse("ma\0y", 4, &lv) == -1);
	CHECK_STR(remote_tls_level_name(REMOTE_TLS_VERIFY), "verify");
	CHECK_STR(remote_tls_level_name((enum remote_tls_level)7), "?");
}

static void
test_nexthop(void)
{
	static const struct { const char *in; int rc; const char *host; int port; } t[] = {
		{ "relay.example", 0, "relay.example", 25 },
		{ "relay.example:2525", 0, "relay.example", 2525 },
		{ " 192.0.2.1:587 ", 0, "192.0.2.1", 587 },
		{ "[192.0.2.1]", 0, "192.0.2.1", 25 },
		{ "[192.0.2.1]:26", 0, "192.0.2.1", 26 },
		{ "[2001:db8::1]:26", 0, "2001:db8::1", 26 },
		{ "[2001:db8::1]", 0, "2001:db8::1", 25 },
		{ "", -1, NULL, 0 }, { "   ", -1, NULL, 0 }, { ":25", -1, NULL, 0 },
		{ "host:", -1, NULL, 0 }, { "host:0", -1, NULL, 0 },
		{ "host:65536", -1, NULL, 0 }, { "host:123456", -1, NULL, 0 },
		{ "host:2x", -1, NULL, 0 }, { "host:25:26", -1, NULL, 0 },
		{ "2001:db8::1", -1, NULL, 0 }, { "[2001:db8::1", -1, NULL, 0 },
		{ "[2001:db8::1]x", -1, NULL, 0 }, { "[relay.example]", -1, NULL, 0 },
		{ "[]:25", -1, NULL, 0 }, { "bad_host", -1, NULL, 0 },
		{ "a..b", -1, NULL, 0 }, { "host name", -1, NULL, 0 },
		{ "host\r\n", -1, NULL, 0 }, { "-host", -1, NULL, 0 },
	};
	char host[64], big[400];
	const char *err;
	int port;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err = NULL;
		CHECK(remote_nexthop_parse(t[i].in, strlen(t[i].in), 25, host, sizeof(host),
		    &port, &err) == t[i].rc);
		if (t[i].rc == 0) {
			CHECK_STR(host, t[i].host);
			CHECK(port == t[i].port);
		} else
			CHECK(err != NULL);
	}
	CHECK(remote_nexthop_parse("a\0b", 3, 25, host, sizeof(host), &port, &err) == -1);
	/* a name longer than the caller's buffer, and one over any limit */
	memset(big, 'a', sizeof(big));
	CHECK(remote_nexthop_parse(big, 63, 25, host, sizeof(host), &port, &err) == 0);
	CHECK(remote_nexthop_parse(big, 64, 25, host, sizeof(host), &port, &err) == -1);
	CHECK(remote_nexthop_parse(big, sizeof(big), 25, host, sizeof(host), &port,
	    &err) == -1);
}

static void
test_cred(void)
{
	static const struct { const char *in; int rc; const char *user, *pass; } t[] = {
		{ "alice secret\n", 0, "alice", "secret" },
		{ "alice secret", 0, "alice", "secret" },
		{ "alice\t  pass with spaces\r\n", 0, "alice", "pass with spaces" },
		{ "a@b.example p:w\n", 0, "a@b.example", "p:w" },
		{ "", -1, NULL, NULL }, { "\n", -1, NULL, NULL },
		{ "alice\n", -1, NULL, NULL }, { "alice \n", -1, NULL, NULL },
		{ " secret\n", -1, NULL, NULL }, { "alice secret\n\n", -1, NULL, NULL },
		{ "alice secret\nbob other\n", -1, NULL, NULL },
		{ "alice sec\x01ret\n", -1, NULL, NULL }, { "alice sec\rret", -1, NULL, NULL },
		{ "al\x7f" "ice secret", -1, NULL, NULL },
	};
	char user[REMOTE_CRED_MAX + 1], pass[REMOTE_CRED_MAX + 1], big[600];
	const char *err;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err = NULL;
		CHECK(remote_cred_parse(t[i].in, strlen(t[i].in), user, sizeof(user), pass,
		    sizeof(pass), &err) == t[i].rc);
		if (t[i].rc == 0) {
			CHECK_STR(user, t[i].user);
			CHECK_STR(pass, t[i].pass);
		} else
			CHECK(err != NULL && strstr(err, "sec") == NULL);
	}
	CHECK(remote_cred_parse("alice se\0cret", 13, user, sizeof(user), pass,
	    sizeof(pass), &err) == -1);
	memset(big, 'x', sizeof(big));
	big[3] = ' ';
	CHECK(remote_cred_parse(big, 4 + REMOTE_CRED_MAX, user, sizeof(user), pass,
	    sizeof(pass), &err) == 0);
	CHECK(strlen(pass) == REMOTE_CRED_MAX);
	CHECK(remote_cred_parse(big, 5 + REMOTE_CRED_MAX, user, sizeof(user), pass,
	    sizeof(pass), &err) == -1);
	CHECK(user[0] == '\0');		/* wiped on a bad password */
}

int
main(void)
{
	test_replies();
	test_reply_limits();
	test_ehlo();
	test_mail();
	test_rcpt();
	test_auth();
	test_encoder();
	test_encoder_full();
	test_results();
	test_results_conn();
	test_tls_level();
	test_nexthop();
	test_cred();
	return UNIT_DONE();
}
