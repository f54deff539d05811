/* Unit tests for common/smtp_parse: commands, paths, parameters, DATA lines. */
#include <stdint.h>

#include "buf.h"
#include "smtp_parse.h"
#include "unit.h"

#define OK SMTP_P_OK
#define UNK SMTP_P_UNKNOWN
#define LONG SMTP_P_TOOLONG
#define SYN SMTP_P_SYNTAX
#define ADDR SMTP_P_BADADDR
#define PARAM SMTP_P_PARAM
#define PVAL SMTP_P_PARAMVAL
#define U8 SMTP_P_UTF8

static void
test_cmd(void)
{
	static const struct {
		const char *line;
		enum smtp_perr err;
		enum smtp_verb verb;
		const char *arg;
	} t[] = {
		{ "EHLO mx.example.org", OK, SMTP_VERB_EHLO, "mx.example.org" },
		{ "ehlo mx", OK, SMTP_VERB_EHLO, "mx" },
		{ "HeLo x", OK, SMTP_VERB_HELO, "x" },
		{ "MAIL FROM:<a@b>", OK, SMTP_VERB_MAIL, "FROM:<a@b>" },
		{ "RCPT TO:<a@b>  ", OK, SMTP_VERB_RCPT, "TO:<a@b>" },
		{ "DATA", OK, SMTP_VERB_DATA, "" },
		{ "data ", OK, SMTP_VERB_DATA, "" },
		{ "DATA x", SYN, SMTP_VERB_DATA, "x" },
		{ "BDAT 100 LAST", OK, SMTP_VERB_BDAT, "100 LAST" },
		{ "RSET", OK, SMTP_VERB_RSET, "" },
		{ "RSET now", SYN, SMTP_VERB_RSET, "now" },
		{ "NOOP anything at all", OK, SMTP_VERB_NOOP, "anything at all" },
		{ "QUIT", OK, SMTP_VERB_QUIT, "" },
		{ "quit\t", OK, SMTP_VERB_QUIT, "" },
		{ "VRFY root", OK, SMTP_VERB_VRFY, "root" },
		{ "HELP", OK, SMTP_VERB_HELP, "" },
		{ "STARTTLS", OK, SMTP_VERB_STARTTLS, "" },
		{ "STARTTLS x", SYN, SMTP_VERB_STARTTLS, "x" },
		{ "AUTH PLAIN AGZvbwBiYXI=", OK, SMTP_VERB_AUTH, "PLAIN AGZvbwBiYXI=" },
		{ "EXPN list", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "TURN", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "ETRN x", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "", UNK, SMTP_VERB_UNKNOWN, "" },
		{ " MAIL FROM:<a@b>", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "MAILFROM:<a@b>", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "MAIL\tFROM:<a@b>", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "GET / HTTP/1.0", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "DAT", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "DATAX", UNK, SMTP_VERB_UNKNOWN, "" },
		{ "NOOP a\rb", SYN, SMTP_VERB_NOOP, "" },
		{ "NOOP a\nb", SYN, SMTP_VERB_NOOP, "" },
		{ "QUIT\r", SYN, SMTP_VERB_UNKNOWN, "" },
	};
	struct smtp_cmd c;
	char big[SMTP_CMD_MAX + 2];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum smtp_perr e = smtp_cmd_parse(t[i].line, strlen(t[i].line), &c);
		if (e != t[i].err)
			fprintf(stderr, "cmd %zu \"%s\": got %d\n", i, t[i].line, e);
		CHECK(e == t[i].err);
		if (t[i].err == OK || t[i].err == UNK)
			CHECK(c.verb == t[i].verb);
		if (t[i].err == OK) {
			CHECK(c.arglen == strlen(t[i].arg));
			CHECK(memcmp(c.arg, t[i].arg, c.arglen) == 0);
		}
	}
	/* NUL inside */
	CHECK(smtp_cmd_parse("NOOP a\0b", 8, &c) == SYN);
	CHECK(smtp_cmd_parse("HELO\0", 5, &c) == SYN);
	memset(big, 'a', sizeof(big));
	memcpy(big, "NOOP ", 5);
	CHECK(smtp_cmd_parse(big, SMTP_CMD_MAX, &c) == OK);
	CHECK(smtp_cmd_parse(big, SMTP_CMD_MAX + 1, &c) == LONG);
	CHECK_STR(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
	CHECK_STR(smtp_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
	CHECK(smtp_perr_code(SYN) == 501);
	CHECK(smtp_perr_code(PVAL) == 501);
	CHECK(smtp_perr_code(PARAM) == 555);
	CHECK(smtp_perr_code(ADDR) == 553);
	CHECK(smtp_perr_code(U8) == 553);
	CHECK(smtp_perr_code(UNK) == 500);
	CHECK(smtp_perr_code(LONG) == 500);
	CHECK_STR(smtp_perr_enhanced(ADDR, 1), "5.1.7");
	CHECK_STR(smtp_perr_enhanced(ADDR, 0), "5.1.3");
	CHECK_STR(smtp_perr_enhanced(LONG, 0), "5.5.2");
}

static const struct {
	const char *path;
	unsigned flags;
	enum smtp_perr err;
	const char *addr;
	unsigned aflags;
} paths[] = {
	{ "<user@example.org>", 0, OK, "user@example.org", 0 },
	{ "<User.Name+tag@EXAMPLE.Org>", 0, OK, "User.Name+tag@example.org", 0 },
	{ "<a!#$&'*+-/=?^_`{|}~@x>", 0, OK, "a!#$&'*+-/=?^_`{|}~@x", SMTP_ADDR_BANG },
	{ "<user%other@dom>", 0, OK, "user%other@dom", SMTP_ADDR_PERCENT },
	{ "<host!user@dom>", 0, OK, "host!user@dom", SMTP_ADDR_BANG },
	{ "<\"user@other\"@dom>", 0, OK, "\"user@other\"@dom", SMTP_ADDR_QUOTED | SMTP_ADDR_AT },
	{ "<\"user\"@dom>", 0, OK, "user@dom", 0 },
	{ "<\"us\\er\"@dom>", 0, OK, "user@dom", 0 },
	{ "<\"a b\"@dom>", 0, OK, "\"a b\"@dom", SMTP_ADDR_QUOTED },
	{ "<\"a\\\"b\"@dom>", 0, OK, "\"a\\\"b\"@dom", SMTP_ADDR_QUOTED },
	{ "<\"a\\\\b\"@dom>", 0, OK, "\"a\\\\b\"@dom", SMTP_ADDR_QUOTED },
	{ "<\"\"@dom>", 0, OK, "\"\"@dom", SMTP_ADDR_QUOTED },
	{ "<\"a..b\"@dom>", 0, OK, "\"a..b\"@dom", SMTP_ADDR_QUOTED },
	{ "<\"a>b\"@dom>", 0, OK, "\"a>b\"@dom", SMTP_ADDR_QUOTED },
	{ "<\"a%b\"@dom>", 0, OK, "a%b@dom", SMTP_ADDR_PERCENT },
	{ "<\"a\x01\"@dom>", 0, ADDR, NULL, 0 },
	{ "<\"abc@dom>", 0, ADDR, NULL, 0 },
	{ "<\"abc\\\">", 0, ADDR, NULL, 0 },
	{ "<user@dom@other>", 0, ADDR, NULL, 0 },
	{ "<user@@dom>", 0, ADDR, NULL, 0 },
	{ "<@evil:user@dom>", 0, OK, "user@dom", SMTP_ADDR_ROUTE },
	{ "<@a.example,@b.example:user@dom>", 0, OK, "user@dom", SMTP_ADDR_ROUTE },
	{ "<@a,b:user@dom>", 0, ADDR, NULL, 0 },
	{ "<@:user@dom>", 0, ADDR, NULL, 0 },
	{ "<@a:>", 0, ADDR, NULL, 0 },
	{ "<@[1.2.3.4]:user@dom>", 0, ADDR, NULL, 0 },
	{ "<@a@b:user@dom>", 0, ADDR, NULL, 0 },
	{ "<user>", 0, ADDR, NULL, 0 },
	{ "<@dom>", 0, ADDR, NULL, 0 },
	{ "<user@>", 0, ADDR, NULL, 0 },
	{ "<.user@dom>", 0, ADDR, NULL, 0 },
	{ "<user.@dom>", 0, ADDR, NULL, 0 },
	{ "<us..er@dom>", 0, ADDR, NULL, 0 },
	{ "<us er@dom>", 0, ADDR, NULL, 0 },
	{ "<us(er)@dom>", 0, ADDR, NULL, 0 },
	{ "<user@dom.>", 0, ADDR, NULL, 0 },
	{ "<user@.dom>", 0, ADDR, NULL, 0 },
	{ "<user@do..m>", 0, ADDR, NULL, 0 },
	{ "<user@-dom>", 0, ADDR, NULL, 0 },
	{ "<user@dom->", 0, ADDR, NULL, 0 },
	{ "<user@d-o-m>", 0, OK, "user@d-o-m", 0 },
	{ "<user@dom_ain>", 0, ADDR, NULL, 0 },
	{ "<user@123.45>", 0, OK, "user@123.45", 0 },
	{ "<user@[192.0.2.1]>", 0, OK, "user@[192.0.2.1]", SMTP_ADDR_LITERAL },
	{ "<user@[192.0.2.256]>", 0, ADDR, NULL, 0 },
	{ "<user@[192.0.2]>", 0, ADDR, NULL, 0 },
	{ "<user@[IPv6:2001:DB8::1]>", 0, OK, "user@[IPv6:2001:db8::1]", SMTP_ADDR_LITERAL },
	{ "<user@[ipv6:0:0:0:0:0:0:0:1]>", 0, OK, "user@[IPv6:::1]", SMTP_ADDR_LITERAL },
	{ "<user@[IPv6:::ffff:192.0.2.1]>", 0, OK, "user@[IPv6:::ffff:192.0.2.1]", SMTP_ADDR_LITERAL },
	{ "<user@[IPv6:1::2::3]>", 0, ADDR, NULL, 0 },
	{ "<user@[IPv6:fe80::1%eth0]>", 0, ADDR, NULL, 0 },
	{ "<user@[IPv6:]>", 0, ADDR, NULL, 0 },
	{ "<user@[2001:db8::1]>", 0, ADDR, NULL, 0 },
	{ "<user@[x-tag:stuff]>", 0, ADDR, NULL, 0 },
	{ "<user@[]>", 0, ADDR, NULL, 0 },
	{ "<user@[1.2.3.4>", 0, ADDR, NULL, 0 },
	{ "<user@[1.2.3.4]x>", 0, ADDR, NULL, 0 },
	{ "<>", 0, OK, "", 0 },
	{ "<", 0, ADDR, NULL, 0 },
	{ "user@dom", 0, ADDR, NULL, 0 },
	{ "<user@dom", 0, ADDR, NULL, 0 },
	{ "<j\xc3\xb6rg@d\xc3\xb6m.example>", 0, U8, NULL, 0 },
	{ "<j\xc3\xb6rg@d\xc3\xb6m.example>", SMTP_PARSE_UTF8, OK,
	  "j\xc3\xb6rg@d\xc3\xb6m.example", SMTP_ADDR_UTF8 },
	{ "<jorg@D\xc3\xb6M.example>", SMTP_PARSE_UTF8, OK, "jorg@d\xc3\xb6m.example", SMTP_ADDR_UTF8 },
	{ "<\"j\xc3\xb6 rg\"@dom>", SMTP_PARSE_UTF8, OK, "\"j\xc3\xb6 rg\"@dom",
	  SMTP_ADDR_UTF8 | SMTP_ADDR_QUOTED },
	{ "<\"j\xc3\xb6rg\"@dom>", 0, U8, NULL, 0 },
	{ "<j\xc3rg@dom>", SMTP_PARSE_UTF8, ADDR, NULL, 0 },
	{ "<j\xc0\xafrg@dom>", SMTP_PARSE_UTF8, ADDR, NULL, 0 },
	{ "<j\xed\xa0\x80rg@dom>", SMTP_PARSE_UTF8, ADDR, NULL, 0 },
	{ "<j\xf4\x90\x80\x80@dom>", SMTP_PARSE_UTF8, ADDR, NULL, 0 },
	{ "<x@\xff.example>", SMTP_PARSE_UTF8, ADDR, NULL, 0 },
};

static void
test_paths(void)
{
	struct smtp_addr a;
	char buf[400];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		enum smtp_perr e = smtp_path_parse(paths[i].path, strlen(paths[i].path),
		    paths[i].flags, 1, &a);
		if (e != paths[i].err)
			fprintf(stderr, "path %zu \"%s\": got %d\n", i, paths[i].path, e);
		CHECK(e == paths[i].err);
		if (e == OK && paths[i].err == OK) {
			CHECK_STR(a.addr, paths[i].addr);
			CHECK(a.flags == paths[i].aflags);
		}
		if (e != OK)
			CHECK(a.addr[0] == '\0');
	}
	CHECK(smtp_path_parse("<>", 2, 0, 0, &a) == ADDR);
	/* Length limits: local part 64, path 256, label 63, domain 255. */
	memset(buf, 'a', sizeof(buf));
	buf[0] = '<';
	memcpy(buf + 65, "@x>", 3);
	CHECK(smtp_path_parse(buf, 68, 0, 0, &a) == OK);
	CHECK(strlen(a.local) == 64);
	memcpy(buf + 66, "@x>", 3);
	CHECK(smtp_path_parse(buf, 69, 0, 0, &a) == ADDR);
	/* <a@ + 63-char label + ... up to 256 */
	memcpy(buf, "<a@", 3);
	for (int i = 3; i < 255; i++)
		buf[i] = (i - 3) % 62 == 61 ? '.' : 'b';
	buf[255] = '>';
	CHECK(smtp_path_parse(buf, 256, 0, 0, &a) == OK);
	buf[255] = 'b';
	buf[256] = '>';
	CHECK(smtp_path_parse(buf, 257, 0, 0, &a) == ADDR);
	memcpy(buf, "<a@", 3);
	memset(buf + 3, 'c', 64);
	memcpy(buf + 67, ".d>", 3);
	CHECK(smtp_path_parse(buf, 70, 0, 0, &a) == ADDR);
	CHECK(smtp_path_parse(buf + 1, 69, 0, 0, &a) == ADDR);
	CHECK(smtp_mailbox_parse("a@b", 3, 0, &a) == OK);
	CHECK(smtp_mailbox_parse("a@b\0c", 5, 0, &a) == ADDR);
	CHECK(smtp_mailbox_parse("a\0@b", 4, 0, &a) == ADDR);
	CHECK(smtp_mailbox_parse("", 0, 0, &a) == ADDR);
}

static void
test_mail(void)
{
	static const struct {
		const char *arg;
		unsigned ext;
		enum smtp_perr err;
		const char *from;
	} t[] = {
		{ "FROM:<a@b>", SMTP_EXT_ALL, OK, "a@b" },
		{ "from:<a@b>", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM: <a@b>", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:  <a@b>", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:a@b", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM <a@b>", SMTP_EXT_ALL, SYN, NULL },
		{ "TO:<a@b>", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<>", SMTP_EXT_ALL, OK, "" },
		{ "FROM:<a@b>x", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b> SIZE=1000", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b>  SIZE=1000  BODY=8BITMIME", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> SIZE=abc", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> SIZE=", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b> SIZE", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> SIZE=-1", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> SIZE=18446744073709551615", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> SIZE=18446744073709551616", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> SIZE=99999999999999999999999", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> SIZE=10 SIZE=10", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b> SIZE=10 size=10", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b> SIZE=10", 0, PARAM, NULL },
		{ "FROM:<a@b> FOO=bar", SMTP_EXT_ALL, PARAM, NULL },
		{ "FROM:<a@b> X-Y", SMTP_EXT_ALL, PARAM, NULL },
		{ "FROM:<a@b> -X", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b> A=b=c", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b> A=b\x01", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b> BODY=7BIT", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> BODY=BINARYMIME", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> BODY=BINARYMIME", SMTP_EXT_ALL & ~SMTP_EXT_CHUNKING, PARAM, NULL },
		{ "FROM:<a@b> BODY=9BIT", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> BODY", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> SMTPUTF8", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> SMTPUTF8=yes", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<\xc3\xa4@b>", SMTP_EXT_ALL, U8, NULL },
		{ "FROM:<\xc3\xa4@b> SMTPUTF8", SMTP_EXT_ALL, OK, "\xc3\xa4@b" },
		{ "FROM:<\xc3\xa4@b> SMTPUTF8", SMTP_EXT_ALL & ~SMTP_EXT_SMTPUTF8, PARAM, NULL },
		{ "FROM:<a@b> RET=FULL", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> RET=hdrs", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> RET=BOTH", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> RET=FULL", 0, PARAM, NULL },
		{ "FROM:<a@b> ENVID=QQ+2B1", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> ENVID=QQ+2", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> ENVID=QQ+ZZ", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> ENVID=a+0Db", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> ENVID=a+00b", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> NOTIFY=NEVER", SMTP_EXT_ALL, PARAM, NULL },
		{ "FROM:<a@b> ORCPT=rfc822;a@b", SMTP_EXT_ALL, PARAM, NULL },
		{ "FROM:<a@b> AUTH=<>", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> AUTH=e+3Dmc2@example.com", SMTP_EXT_ALL, OK, "a@b" },
		{ "FROM:<a@b> AUTH=notanaddress", SMTP_EXT_ALL, PVAL, NULL },
		{ "FROM:<a@b> AUTH=<>", 0, PARAM, NULL },
		{ "FROM:<@evil:user@dom>", SMTP_EXT_ALL, OK, "user@dom" },
		{ "FROM:<user@dom@other>", SMTP_EXT_ALL, ADDR, NULL },
		{ "FROM:<\"a b\"@dom> SIZE=1", SMTP_EXT_ALL, OK, "\"a b\"@dom" },
		{ "FROM:<\"a> SIZE=1", SMTP_EXT_ALL, SYN, NULL },
		{ "FROM:<a@b> 1=2 3=4 5=6 7=8 9=0 a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=0 k=1 l=2",
		  SMTP_EXT_ALL, SYN, NULL },
	};
	struct smtp_mail m;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum smtp_perr e = smtp_mail_parse(t[i].arg, strlen(t[i].arg), t[i].ext, &m);
		if (e != t[i].err)
			fprintf(stderr, "mail %zu \"%s\": got %d\n", i, t[i].arg, e);
		CHECK(e == t[i].err);
		if (e == OK && t[i].from != NULL)
			CHECK_STR(m.from.addr, t[i].from);
	}
	{
		const char *s = "FROM:<> SIZE=123 BODY=8bitmime RET=HDRS ENVID=x+2By "
		    "SMTPUTF8 AUTH=a+2Bb@c";
		CHECK(smtp_mail_parse(s, strlen(s), SMTP_EXT_ALL, &m) == OK);
	}
	CHECK(m.null_sender && m.has_size && m.size == 123);
	CHECK(m.body == SMTP_BODY_8BITMIME && m.ret == SMTP_RET_HDRS && m.smtputf8);
	CHECK(m.has_envid);
	CHECK_STR(m.envid, "x+y");
	CHECK(m.has_auth && !m.auth_null);
	CHECK_STR(m.auth, "a+b@c");
	CHECK(smtp_mail_parse("FROM:<a@b> AUTH=<>", 18, SMTP_EXT_ALL, &m) == OK);
	CHECK(m.has_auth && m.auth_null);
	CHECK(smtp_mail_parse("FROM:<@x,@y:a@B>", 16, SMTP_EXT_ALL, &m) == OK);
	CHECK(m.from.flags & SMTP_ADDR_ROUTE);
	CHECK_STR(m.from.domain, "b");
	CHECK(!m.has_size && m.body == SMTP_BODY_NONE && m.ret == SMTP_RET_NONE);
	/* ENVID length: 100 encoded chars ok, 101 not. */
	{
		char arg[200];
		memcpy(arg, "FROM:<a@b> ENVID=", 17);
		memset(arg + 17, 'e', 101);
		CHECK(smtp_mail_parse(arg, 117, SMTP_EXT_ALL, &m) == OK);
		CHECK(strlen(m.envid) == 100);
		CHECK(smtp_mail_parse(arg, 118, SMTP_EXT_ALL, &m) == PVAL);
	}
}

static void
test_rcpt(void)
{
	static const struct {
		const char *arg;
		unsigned flags;
		enum smtp_perr err;
		const char *to;
		unsigned notify;
		const char *orcpt;
	} t[] = {
		{ "TO:<a@b>", 0, OK, "a@b", 0, NULL },
		{ "to: <A@B>", 0, OK, "A@b", 0, NULL },
		{ "TO:<>", 0, ADDR, NULL, 0, NULL },
		{ "TO:<postmaster>", 0, OK, "postmaster", 0, NULL },
		{ "TO:<PostMaster>", 0, OK, "postmaster", 0, NULL },
		{ "TO:<postmistress>", 0, ADDR, NULL, 0, NULL },
		{ "TO:<root>", 0, ADDR, NULL, 0, NULL },
		{ "TO:<@evil:user@dom>", 0, OK, "user@dom", 0, NULL },
		{ "TO:<user%other@dom>", 0, OK, "user%other@dom", 0, NULL },
		{ "TO:<\"user@other\"@dom>", 0, OK, "\"user@other\"@dom", 0, NULL },
		{ "TO:<user@dom@other>", 0, ADDR, NULL, 0, NULL },
		{ "TO:a@b", 0, SYN, NULL, 0, NULL },
		{ "TO:<a@b> NOTIFY=NEVER", 0, OK, "a@b", SMTP_NOTIFY_NEVER, NULL },
		{ "TO:<a@b> NOTIFY=success,FAILURE,Delay", 0, OK, "a@b",
		  SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY, NULL },
		{ "TO:<a@b> NOTIFY=NEVER,SUCCESS", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> NOTIFY=SUCCESS,SUCCESS", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> NOTIFY=SUCCESS,", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> NOTIFY=,", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> NOTIFY=ALWAYS", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> NOTIFY", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=rfc822;x+2By@z", 0, OK, "a@b", 0, "x+y@z" },
		{ "TO:<a@b> ORCPT=RFC822;a@b", 0, OK, "a@b", 0, "a@b" },
		{ "TO:<a@b> ORCPT=rfc822;", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=;a@b", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=rfc822", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=rfc822;a+0D+0Ab", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=rfc822;a+C3+A4", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;j\\x{F6}rg@x", 0, OK, "a@b", 0, "j\xc3\xb6rg@x" },
		{ "TO:<a@b> ORCPT=utf-8;\\x{1F600}", 0, OK, "a@b", 0, "\xf0\x9f\x98\x80" },
		{ "TO:<a@b> ORCPT=utf-8;\\x{D800}", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;\\x{110000}", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;\\x{A}", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;\\x{}", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;\\x{0000041}", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;\\y", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;a+b", 0, PVAL, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;j\xc3\xb6rg", 0, SYN, NULL, 0, NULL },
		{ "TO:<a@b> ORCPT=utf-8;j\xc3\xb6rg", SMTP_PARSE_UTF8, OK, "a@b", 0, "j\xc3\xb6rg" },
		{ "TO:<j\xc3\xb6rg@b>", 0, U8, NULL, 0, NULL },
		{ "TO:<j\xc3\xb6rg@b>", SMTP_PARSE_UTF8, OK, "j\xc3\xb6rg@b", 0, NULL },
		{ "TO:<a@b> SIZE=10", 0, PARAM, NULL, 0, NULL },
		{ "TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", 0, SYN, NULL, 0, NULL },
	};
	struct smtp_rcpt r;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum smtp_perr e = smtp_rcpt_parse(t[i].arg, strlen(t[i].arg), SMTP_EXT_ALL,
		    t[i].flags, &r);
		if (e != t[i].err)
			fprintf(stderr, "rcpt %zu \"%s\": got %d\n", i, t[i].arg, e);
		CHECK(e == t[i].err);
		if (e != OK || t[i].err != OK)
			continue;
		CHECK_STR(r.to.addr, t[i].to);
		CHECK(r.notify == t[i].notify);
		CHECK(r.has_orcpt == (t[i].orcpt != NULL));
		if (t[i].orcpt != NULL)
			CHECK_STR(r.orcpt, t[i].orcpt);
	}
	CHECK(smtp_rcpt_parse("TO:<a@b> NOTIFY=NEVER", 21, SMTP_EXT_ALL & ~SMTP_EXT_DSN, 0,
	    &r) == PARAM);
	CHECK(smtp_rcpt_parse("TO:<postmaster>", 15, 0, 0, &r) == OK && r.postmaster);
	CHECK(smtp_rcpt_parse("TO:<@x:a@b>", 11, 0, 0, &r) == OK &&
	    (r.to.flags & SMTP_ADDR_RELAYTRICK));
	CHECK(smtp_rcpt_parse("TO:<a%b@c>", 10, 0, 0, &r) == OK &&
	    (r.to.flags & SMTP_ADDR_RELAYTRICK));
	CHECK(smtp_rcpt_parse("TO:<\"a@b\"@c>", 12, 0, 0, &r) == OK &&
	    (r.to.flags & SMTP_ADDR_RELAYTRICK));
	CHECK(smtp_rcpt_parse("TO:<a.b@c>", 10, 0, 0, &r) == OK &&
	    !(r.to.flags & SMTP_ADDR_RELAYTRICK));
	CHECK_STR(r.orcpt_type, "");
	CHECK(smtp_rcpt_parse("TO:<a@b> ORCPT=RFC822;x", 23, SMTP_EXT_ALL, 0, &r) == OK);
	CHECK_STR(r.orcpt_type, "rfc822");
}

static void
test_xtext(void)
{
	static const struct {
		const char *in;
		int ok;
		const char *out;
	} t[] = {
		{ "", 1, "" }, { "abc", 1, "abc" }, { "a+2Bb", 1, "a+b" },
		{ "a+3db", 1, "a=b" }, { "+20", 1, " " }, { "+", 0, NULL },
		{ "+2", 0, NULL }, { "+G0", 0, NULL }, { "a=b", 0, NULL },
		{ "a b", 0, NULL }, { "+00", 0, NULL }, { "+7F", 0, NULL },
		{ "+80", 0, NULL }, { "\xc3\xa4", 0, NULL }, { "+0A", 0, NULL },
		{ "~!\"#", 1, "~!\"#" },
	};
	char out[16];
	struct buf b = BUF_INIT(100);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum smtp_perr e = smtp_xtext_decode(t[i].in, strlen(t[i].in), out,
		    sizeof(out));
		CHECK((e == OK) == t[i].ok);
		if (t[i].ok && e == OK)
			CHECK_STR(out, t[i].out);
	}
	CHECK(smtp_xtext_decode("0123456789abcdef", 16, out, sizeof(out)) == PVAL);
	CHECK(smtp_xtext_decode("0123456789abcde", 15, out, sizeof(out)) == OK);
	CHECK(smtp_xtext_encode("a+b=c d\x01\xc3", 9, &b) == 0);
	CHECK_STR(buf_cstr(&b), "a+2Bb+3Dc+20d+01+C3");
	buf_free(&b);
	buf_init(&b, 4);
	CHECK(smtp_xtext_encode("ab+", 3, &b) == -1);
	CHECK(b.len == 0);
	buf_free(&b);
}

static void
test_helo_auth_bdat(void)
{
	static const struct {
		const char *arg;
		int ok;
		const char *name;
	} h[] = {
		{ "mx.Example.ORG", 1, "mx.example.org" }, { "localhost", 1, "localhost" },
		{ "[192.0.2.1]", 1, "[192.0.2.1]" }, { "[IPv6:::1]", 1, "[IPv6:::1]" },
		{ "", 0, NULL }, { "a b", 0, NULL }, { "my_pc", 0, NULL }, { "-x", 0, NULL },
		{ "x.", 0, NULL }, { "[1.2.3]", 0, NULL }, { "\xc3\xa4.example", 0, NULL },
		{ "a\0b", 0, NULL },
	};
	struct smtp_helo hh;
	struct smtp_auth a;
	uint64_t size;
	int last;

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		enum smtp_perr e = smtp_helo_parse(h[i].arg, strlen(h[i].arg) +
		    (i == sizeof(h) / sizeof(h[0]) - 1 ? 3 : 0), &hh);
		CHECK((e == OK) == h[i].ok);
		if (!h[i].ok)
			CHECK(e == SYN);
		if (h[i].ok && e == OK)
			CHECK_STR(hh.name, h[i].name);
	}
	CHECK(smtp_helo_parse("[192.0.2.1]", 11, &hh) == OK && hh.literal);

	CHECK(smtp_auth_parse("plain", 5, &a) == OK);
	CHECK_STR(a.mech, "PLAIN");
	CHECK(!a.has_initial);
	CHECK(smtp_auth_parse("PLAIN AGZvbwBiYXI=", 18, &a) == OK);
	CHECK(a.has_initial && a.initial_len == 12 && memcmp(a.initial, "AGZvbwBiYXI=", 12) == 0);
	CHECK(smtp_auth_parse("LOGIN =", 7, &a) == OK && a.has_initial && a.initial_len == 0);
	CHECK(smtp_auth_parse("SCRAM-SHA-256", 13, &a) == OK);
	CHECK_STR(a.mech, "SCRAM-SHA-256");
	CHECK(smtp_auth_parse("", 0, &a) == SYN);
	CHECK(smtp_auth_parse("PLAIN ", 6, &a) == SYN);
	CHECK(smtp_auth_parse("PLAIN  AAAA", 11, &a) == SYN);
	CHECK(smtp_auth_parse("PLAIN AA AA", 11, &a) == SYN);
	CHECK(smtp_auth_parse("PLAIN AA*A", 10, &a) == SYN);
	CHECK(smtp_auth_parse("PL@IN", 5, &a) == SYN);
	CHECK(smtp_auth_parse("ABCDEFGHIJKLMNOPQRSTU", 21, &a) == SYN);
	CHECK(smtp_auth_parse("ABCDEFGHIJKLMNOPQRST", 20, &a) == OK);

	CHECK(smtp_bdat_parse("100", 3, &size, &last) == OK && size == 100 && !last);
	CHECK(smtp_bdat_parse("0 LAST", 6, &size, &last) == OK && size == 0 && last);
	CHECK(smtp_bdat_parse("5 last", 6, &size, &last) == OK && last);
	CHECK(smtp_bdat_parse("", 0, &size, &last) == SYN);
	CHECK(smtp_bdat_parse("x", 1, &size, &last) == SYN);
	CHECK(smtp_bdat_parse("10 FIRST", 8, &size, &last) == SYN);
	CHECK(smtp_bdat_parse("10 LAST x", 9, &size, &last) == SYN);
	CHECK(smtp_bdat_parse("-1", 2, &size, &last) == SYN);
	CHECK(smtp_bdat_parse("99999999999999999999", 20, &size, &last) == SYN);
}

static void
test_data(void)
{
	static const struct {
		const char *line;
		int after_crlf;
		unsigned flags;
	} t[] = {
		{ "hello\r\n", 1, SMTP_LINE_CRLF },
		{ "\r\n", 1, SMTP_LINE_CRLF },
		{ ".\r\n", 1, SMTP_LINE_CRLF | SMTP_LINE_END },
		{ ".\r\n", 0, SMTP_LINE_CRLF | SMTP_LINE_STUFFED },
		{ "..\r\n", 1, SMTP_LINE_CRLF | SMTP_LINE_STUFFED },
		{ ".hidden\r\n", 1, SMTP_LINE_CRLF | SMTP_LINE_STUFFED },
		{ "hello\n", 1, SMTP_LINE_BARE_LF },
		{ ".\n", 1, SMTP_LINE_BARE_LF | SMTP_LINE_STUFFED },
		{ "a\rb\r\n", 1, SMTP_LINE_CRLF | SMTP_LINE_BARE_CR },
		{ "a\r\n.\r\n", 1, SMTP_LINE_CRLF | SMTP_LINE_LF_INSIDE },
		{ "a\n.\r\n", 1, SMTP_LINE_CRLF | SMTP_LINE_BARE_LF | SMTP_LINE_LF_INSIDE },
		{ "partial", 1, SMTP_LINE_NO_EOL },
		{ "partial\r", 1, SMTP_LINE_NO_EOL | SMTP_LINE_BARE_CR },
		{ "", 1, SMTP_LINE_NO_EOL },
		{ "\n", 1, SMTP_LINE_BARE_LF },
		{ "\r\r\n", 1, SMTP_LINE_CRLF | SMTP_LINE_BARE_CR },
	};
	const char *o;
	size_t ol;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned f = smtp_data_line(t[i].line, strlen(t[i].line), t[i].after_crlf);
		if (f != t[i].flags)
			fprintf(stderr, "data %zu: got %#x\n", i, f);
		CHECK(f == t[i].flags);
		CHECK(((f & SMTP_LINE_BAD) != 0) == ((t[i].flags & SMTP_LINE_BAD) != 0));
	}
	CHECK(smtp_data_line("a\0b\r\n", 5, 1) == (SMTP_LINE_CRLF | SMTP_LINE_NUL));
	smtp_data_unstuff("..x\r\n", 5, &o, &ol);
	CHECK(ol == 4 && memcmp(o, ".x\r\n", 4) == 0);
	smtp_data_unstuff("x\r\n", 3, &o, &ol);
	CHECK(ol == 3 && memcmp(o, "x\r\n", 3) == 0);
	smtp_data_unstuff("", 0, &o, &ol);
	CHECK(ol == 0);
	CHECK(smtp_utf8_valid("a\xc3\xa4", 3));
	CHECK(!smtp_utf8_valid("a\xc3", 2));
	CHECK(!smtp_utf8_valid("\xe0\x80\x80", 3));
	CHECK(smtp_text_valid("a \xc3\xa4 ~", 6) && smtp_text_valid("", 0));
	CHECK(!smtp_text_valid("a\tb", 3) && !smtp_text_valid("a\x7f", 2));
	CHECK(!smtp_text_valid("a\0b", 3) && !smtp_text_valid("a\r\n", 3));
	CHECK(!smtp_text_valid("a\xc3", 2));
	CHECK(smtp_utf8_valid("\xf4\x8f\xbf\xbf", 4));
}

int
main(void)
{
	test_cmd();
	test_paths();
	test_mail();
	test_rcpt();
	test_xtext();
	test_helo_auth_bdat();
	test_data();
	return UNIT_DONE();
}
