/* Unit tests for SEARCH evaluation and the SEARCH/ESEARCH writers,
 * imapd/imap_match*.c (compiled in, with the parser that builds the
 * trees): every key positive and negative, nesting, encoded words,
 * base64/QP/Latin-1 bodies, dates at day boundaries in two zones, sets
 * with "*", laziness of the loader, charsets, hostile messages. */
#define _GNU_SOURCE	/* memmem, before any system header */
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
	int loads, fail;
};

static int
tload(void *arg, const char **d, size_t *n)
{
	struct tmsg *t = arg;

	t->loads++;
	if (t->fail)
		return -1;
	*d = t->data;
	*n = t->len;
	return 0;
}

static const char *const kwtab[] = { "$Forwarded", "Work", NULL, "$Junk" };
static const struct imap_box box = { 10, 50, kwtab, 4 };

/* 2024-03-10 12:00:00 UTC */
#define T_MID ((time_t)1710072000)

static struct tmsg tm;
static struct imap_match_msg msg;

/* A message with seq 3, uid 20, no flags, size 1000, the internal date
 * T_MID, and the given bytes (NULL: none). */
static void
setmsg(const char *text, size_t len)
{
	memset(&msg, 0, sizeof(msg));
	memset(&tm, 0, sizeof(tm));
	tm.data = text;
	tm.len = text != NULL && len == 0 ? strlen(text) : len;
	msg.seq = 3;
	msg.uid = 20;
	msg.size = 1000;
	msg.internal_date = T_MID;
	msg.load = tload;
	msg.load_arg = &tm;
}

/* Match the current message against "t SEARCH args" (or "t UID SEARCH"
 * when args starts with "UID SEARCH"): 1, 0, -1 load failed, -2 parse
 * error, -3 BADCHARSET. */
static int
run(const char *args)
{
	static struct imap_cmd c;
	struct imap_matcher s;
	struct buf line = BUF_INIT(BUF_NOLIMIT);
	int r;

	if (buf_printf(&line, "t SEARCH %s", args) == -1)
		return -2;
	if (imap_cmd_parse(line.data, line.len, &c) != IMAP_E_OK) {
		buf_free(&line);
		imap_cmd_free(&c);
		return -2;
	}
	buf_free(&line);
	if (imap_match_prepare(&s, &c, &box) != IMAP_MATCH_OK)
		r = -3;
	else
		r = imap_match_message(&s, &msg);
	imap_match_free(&s);
	imap_match_release(&msg);
	imap_cmd_free(&c);
	return r;
}

static void
test_flags(void)
{
	static const struct { const char *key, *unkey; unsigned f; } fl[] = {
		{ "ANSWERED", "UNANSWERED", IMAP_MF_ANSWERED },
		{ "DELETED", "UNDELETED", IMAP_MF_DELETED },
		{ "DRAFT", "UNDRAFT", IMAP_MF_DRAFT },
		{ "FLAGGED", "UNFLAGGED", IMAP_MF_FLAGGED },
		{ "SEEN", "UNSEEN", IMAP_MF_SEEN },
	};

	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		setmsg("Subject: x\n\nbody\n", 0);
		CHECK(run(fl[i].key) == 0);
		CHECK(run(fl[i].unkey) == 1);
		msg.flags = fl[i].f;
		CHECK(run(fl[i].key) == 1);
		CHECK(run(fl[i].unkey) == 0);
		msg.flags = ~fl[i].f & 0x7ffffff;
		CHECK(run(fl[i].key) == 0);
		CHECK(run(fl[i].unkey) == 1);
		CHECK(tm.loads == 0);	/* flags never open the message */
	}
	setmsg(NULL, 0);
	CHECK(run("ALL") == 1);
	CHECK(run("RECENT") == 0);
	CHECK(run("NEW") == 0);
	CHECK(run("OLD") == 1);
	msg.flags = IMAP_MF_RECENT;
	CHECK(run("RECENT") == 1);
	CHECK(run("NEW") == 1);
	CHECK(run("OLD") == 0);
	msg.flags = IMAP_MF_RECENT | IMAP_MF_SEEN;
	CHECK(run("NEW") == 0);
	CHECK(run("OLD") == 0);
	CHECK(run("RECENT") == 1);
	/* keywords: bit i of the folder's table, names case-insensitive */
	setmsg(NULL, 0);
	msg.keywords = 1u << 1;
	CHECK(run("KEYWORD Work") == 1);
	CHECK(run("KEYWORD work") == 1);
	CHECK(run("KEYWORD $Forwarded") == 0);
	CHECK(run("UNKEYWORD $Forwarded") == 1);
	CHECK(run("UNKEYWORD Work") == 0);
	CHECK(run("KEYWORD Unknown") == 0);
	CHECK(run("UNKEYWORD Unknown") == 1);
	msg.keywords = 0xf;
	CHECK(run("KEYWORD $Junk") == 1);
	msg.keywords = 0x7;
	CHECK(run("KEYWORD $Junk") == 0);
	CHECK(tm.loads == 0);
}

static void
test_size_sets(void)
{
	setmsg(NULL, 0);
	CHECK(run("LARGER 999") == 1);
	CHECK(run("LARGER 1000") == 0);
	CHECK(run("SMALLER 1001") == 1);
	CHECK(run("SMALLER 1000") == 0);
	CHECK(run("LARGER 0") == 1);
	CHECK(run("SMALLER 0") == 0);
	/* sequence sets: seq 3 of 10 */
	CHECK(run("3") == 1);
	CHECK(run("1,2,4:9") == 0);
	CHECK(run("1:3") == 1);
	CHECK(run("5:2") == 1);
	CHECK(run("*") == 0);
	CHECK(run("4:*") == 0);
	CHECK(run("*:3") == 1);
	msg.seq = 10;
	CHECK(run("*") == 1);
	CHECK(run("4:*") == 1);
	CHECK(run("11:*") == 1);	/* "11:*" is 10:11 */
	CHECK(run("11") == 0);
	/* UID sets: uid 20, largest 50 */
	CHECK(run("UID 20") == 1);
	CHECK(run("UID 1:19,21:*") == 0);
	CHECK(run("UID 19:21") == 1);
	CHECK(run("UID *") == 0);
	msg.uid = 50;
	CHECK(run("UID *") == 1);
	CHECK(run("UID 60:*") == 1);	/* RFC 3501: n:* beyond the last */
	CHECK(run("UID 51:60") == 0);
	CHECK(run("UID 1:49") == 0);
	CHECK(tm.loads == 0);
}

static void
test_dates(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	setmsg(NULL, 0);
	CHECK(run("ON 10-Mar-2024") == 1);
	CHECK(run("ON 9-Mar-2024") == 0);
	CHECK(run("ON 11-Mar-2024") == 0);
	CHECK(run("BEFORE 10-Mar-2024") == 0);
	CHECK(run("BEFORE 11-Mar-2024") == 1);
	CHECK(run("SINCE 10-Mar-2024") == 1);
	CHECK(run("SINCE 11-Mar-2024") == 0);
	CHECK(run("SINCE 1-Jan-2023") == 1);
	CHECK(run("BEFORE 1-Jan-2025") == 1);
	msg.internal_date = T_MID - 12 * 3600;		/* 00:00:00 */
	CHECK(run("ON 10-Mar-2024") == 1);
	msg.internal_date = T_MID - 12 * 3600 - 1;	/* 23:59:59 the day before */
	CHECK(run("ON 9-Mar-2024") == 1);
	CHECK(run("BEFORE 10-Mar-2024") == 1);
	msg.internal_date = T_MID + 12 * 3600 - 1;	/* 23:59:59 */
	CHECK(run("ON 10-Mar-2024") == 1);
	/* the server's zone decides the day: 20:00 UTC is the 11th at +10 */
	setenv("TZ", "XYZ-10", 1);
	tzset();
	msg.internal_date = T_MID + 8 * 3600;
	CHECK(run("ON 11-Mar-2024") == 1);
	CHECK(run("ON 10-Mar-2024") == 0);
	setenv("TZ", "UTC", 1);
	tzset();
	CHECK(run("ON 10-Mar-2024") == 1);
	CHECK(tm.loads == 0);

	/* Date: field: its own day, time and zone ignored */
	setmsg("Date: Sun, 10 Mar 2024 23:30:00 -1000\nSubject: d\n\nx\n", 0);
	msg.internal_date = T_MID + 86400 * 30;
	CHECK(run("SENTON 10-Mar-2024") == 1);
	CHECK(run("SENTON 11-Mar-2024") == 0);
	CHECK(run("SENTBEFORE 10-Mar-2024") == 0);
	CHECK(run("SENTBEFORE 11-Mar-2024") == 1);
	CHECK(run("SENTSINCE 10-Mar-2024") == 1);
	CHECK(run("SENTSINCE 11-Mar-2024") == 0);
	CHECK(tm.loads > 0);
	setmsg("Date:  (comment) 1 jan 99 00:00 GMT\n\nx\n", 0);
	CHECK(run("SENTON 1-Jan-1999") == 1);
	setmsg("Date: Fri,\n 29 Feb 2008 10:00:00 +0000\n\nx\n", 0);
	CHECK(run("SENTON 29-Feb-2008") == 1);
	setmsg("date: 5 Jun 07 1:2:3\n\nx\n", 0);
	CHECK(run("SENTON 5-Jun-2007") == 1);
	setmsg("Date: Tue 5 March 2030\n\nx\n", 0);	/* lenient forms */
	CHECK(run("SENTON 5-Mar-2030") == 1);
	setmsg("Date: 5 Mrz 2030\n\nx\n", 0);
	CHECK(run("SENTON 5-Mar-2030") == 0);
	setmsg("Date: 5 Mar 30000\n\nx\n", 0);
	CHECK(run("SENTON 10-Mar-2024") == 1);
	setmsg("Date: 123 Mar 2030\n\nx\n", 0);
	CHECK(run("SENTON 10-Mar-2024") == 1);
	/* unparsable or missing Date: the internal date's day */
	setmsg("Date: yesterday\n\nx\n", 0);
	CHECK(run("SENTON 10-Mar-2024") == 1);
	setmsg("Date: 30 Feb 2024 10:00\n\nx\n", 0);
	CHECK(run("SENTON 10-Mar-2024") == 1);
	setmsg("Subject: no date\n\nx\n", 0);
	CHECK(run("SENTON 10-Mar-2024") == 1);
	CHECK(run("SENTBEFORE 10-Mar-2024") == 0);
	setmsg("Date: 10 Mar 2024\nDate: 1 Jan 2000\n\nx\n", 0);
	CHECK(run("SENTON 10-Mar-2024") == 1);	/* the first one */
}

static const char hdrmsg[] =
    "From: =?utf-8?q?Andr=C3=A9?= <andre@example.org>\r\n"
    "To: bob@example.test,\r\n"
    "  Carol <carol@Example.TEST>\r\n"
    "Cc: dave@example.net\r\n"
    "Subject: =?iso-8859-1?q?r=E9sum=E9?= and\r\n"
    " =?utf-8?b?Q2Fmw6kgbWVudQ==?= plans\r\n"
    "X-Spam-Flag: \r\n"
    "X-Tag: one\r\n"
    "X-Tag: two\r\n"
    "\r\n"
    "Body mentions Zebra only.\r\n";

static void
test_headers(void)
{
	setmsg(hdrmsg, 0);
	CHECK(run("FROM andré") == -2);	/* 8-bit atoms are not IMAP */
	CHECK(run("FROM \"ANDRÉ\"") == 1);
	CHECK(run("FROM andre@EXAMPLE") == 1);
	CHECK(run("FROM bob") == 0);
	CHECK(run("TO carol@example.test") == 1);
	CHECK(run("TO \"bob@example.test, carol\"") == 0);	/* unfolded: 2 spaces */
	CHECK(run("TO dave") == 0);
	CHECK(run("CC DAVE@") == 1);
	CHECK(run("CC bob") == 0);
	CHECK(run("BCC bob") == 0);
	CHECK(run("BCC \"\"") == 0);		/* no Bcc: field */
	CHECK(run("SUBJECT \"\"") == 1);
	CHECK(run("SUBJECT \"RÉSUMÉ\"") == 1);
	CHECK(run("SUBJECT \"résumé and café\"") == 1);	/* unfolded: CRLF dropped */
	CHECK(run("SUBJECT \"and  café\"") == 0);
	CHECK(run("SUBJECT \"CAFÉ MENU plans\"") == 1);
	CHECK(run("SUBJECT resume") == 0);
	CHECK(run("SUBJECT zebra") == 0);
	CHECK(run("HEADER X-Spam-Flag \"\"") == 1);
	CHECK(run("HEADER x-spam-flag yes") == 0);
	CHECK(run("HEADER X-Absent \"\"") == 0);
	CHECK(run("HEADER X-Tag TWO") == 1);	/* any occurrence */
	CHECK(run("HEADER X-Tag one") == 1);
	CHECK(run("HEADER X-Tag three") == 0);
	CHECK(run("HEADER X-Ta \"\"") == 0);
	CHECK(run("HEADER SUBJECT {4}\r\nplan") == 1);
	CHECK(run("TEXT zebra") == 1);
	CHECK(run("TEXT \"café\"") == 1);	/* decoded header */
	CHECK(run("TEXT \"\"") == 1);
	CHECK(run("BODY zebra") == 1);
	CHECK(run("BODY carol") == 0);		/* the header is not body */
	CHECK(run("TEXT giraffe") == 0);
	/* folding beyond ASCII */
	setmsg("Subject: =?utf-8?b?zqPOkc6bzpHOpA==?= =?utf-8?q?=D0=9C=D0=98=D0=A0?= "
	    "=?utf-8?q?=C5=81=C3=93D=C5=B9_stra=C3=9Fe_=C5=B8?=\n\n", 0);
	CHECK(run("SUBJECT \"σαλατ\"") == 1);
	CHECK(run("SUBJECT \"ΣΑΛΑΤ\"") == 1);
	CHECK(run("SUBJECT \"мир\"") == 1);
	CHECK(run("SUBJECT \"łódź\"") == 1);
	CHECK(run("SUBJECT \"STRAßE\"") == 1);
	CHECK(run("SUBJECT \"strasse\"") == 0);	/* no multi-character folds */
	CHECK(run("SUBJECT \"ÿ\"") == 1);
	/* a message without bytes fails the text keys, not the flag keys */
	setmsg(NULL, 0);
	msg.load = NULL;
	CHECK(run("SUBJECT x") == -1);
	CHECK(run("OR SEEN SUBJECT x") == -1);
	CHECK(run("OR UNSEEN SUBJECT x") == 1);
	CHECK(run("SEEN SUBJECT x") == 0);
	setmsg(hdrmsg, 0);
	tm.fail = 1;
	CHECK(run("BODY zebra") == -1);
	CHECK(run("NOT BODY zebra") == -1);
	CHECK(tm.loads == 2);
}

static const char mixed[] =
    "Subject: parts\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\n"
    "\n"
    "preamble Preambleword\n"
    "--b1\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "SGVsbG8gV8O2cmxkLCBiYXNlNjQg\n"
    "dGV4dCBoZXJlLg==\n"
    "--b1\n"
    "Content-Type: text/plain; charset=\"ISO-8859-1\"\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Gr=FC=DFe aus M=FCn=\n"
    "chen, soft=20break\n"
    "--b1\n"
    "Content-Type: text/html\n"
    "\n"
    "<p>Hypertext <b>bold</b></p>\n"
    "--b1\n"
    "Content-Type: application/octet-stream\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "c2VjcmV0YXR0YWNobWVudA==\n"
    "--b1\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: =?utf-8?q?inner_=C3=A9t=C3=A9?=\n"
    "\n"
    "Inner body words.\n"
    "--b1--\n"
    "epilogue Epilogueword\n";

static void
test_bodies(void)
{
	setmsg(mixed, 0);
	CHECK(run("BODY \"hello wörld\"") == 1);
	CHECK(run("BODY \"HELLO WÖRLD, BASE64 TEXT HERE.\"") == 1);
	CHECK(run("BODY SGVsbG8") == 0);		/* the encoded form is not text */
	CHECK(run("BODY \"grüße aus münchen\"") == 1);	/* QP soft break, Latin-1 */
	CHECK(run("BODY \"GRÜSSE\"") == 0);
	CHECK(run("BODY \"soft break\"") == 1);
	CHECK(run("BODY \"=FC\"") == 0);
	CHECK(run("BODY hypertext") == 1);
	CHECK(run("BODY \"<b>bold\"") == 1);		/* HTML searched as is */
	CHECK(run("BODY secretattachment") == 0);	/* not a text part */
	CHECK(run("BODY \"inner été\"") == 1);		/* embedded header */
	CHECK(run("BODY \"inner body\"") == 1);
	CHECK(run("BODY preambleword") == 0);
	CHECK(run("BODY epilogueword") == 0);
	CHECK(run("BODY \"here.grüße\"") == 0);	/* no match across parts */
	CHECK(run("BODY parts") == 0);
	CHECK(run("TEXT parts") == 1);
	CHECK(run("SUBJECT inner") == 0);		/* not the top header */
	CHECK(run("BODY \"\"") == 1);
	/* the caller's own tree is used and left to the caller */
	setmsg(mixed, 0);
	msg.mime = mime_parse(mixed, strlen(mixed));
	{
		struct mime_part *own = msg.mime;

		CHECK(run("BODY \"hello wörld\"") == 1);
		CHECK(msg.mime == own && mime_count(own) == 7);
		CHECK(run("BODY secretattachment") == 0);
		mime_free(own);
	}
	/* a plain message without MIME; a Latin-1 single part */
	setmsg("Subject: s\n\nPlain Old Text\n", 0);
	CHECK(run("BODY \"old text\"") == 1);
	CHECK(run("BODY \"old  text\"") == 0);
	setmsg("Content-Type: text/plain; charset=latin1\n\ncaf\xe9 CR\xc8ME\n", 0);
	CHECK(run("BODY \"CAFÉ crème\"") == 1);
	/* a needle that is not UTF-8 is compared as raw bytes: the text
	 * is UTF-8 by now, so Latin-1 bytes in the search never match */
	CHECK(run("BODY \"caf\xe9\"") == 0);
}

static void
test_nesting_charset(void)
{
	setmsg(hdrmsg, 0);
	msg.flags = IMAP_MF_SEEN;
	CHECK(run("SEEN FROM andre") == 1);
	CHECK(run("SEEN FROM bob") == 0);
	CHECK(run("OR FROM bob SEEN") == 1);
	CHECK(run("OR FROM bob UNSEEN") == 0);
	CHECK(run("NOT SEEN") == 0);
	CHECK(run("NOT NOT SEEN") == 1);
	CHECK(run("(SEEN (UNDELETED (FROM andre)))") == 1);
	CHECK(run("(SEEN (DELETED (FROM andre)))") == 0);
	CHECK(run("OR (DELETED FROM andre) (NOT UNSEEN SUBJECT café)") == -2);
	CHECK(run("OR (DELETED FROM andre) (NOT UNSEEN SUBJECT \"café\")") == 1);
	CHECK(run("NOT OR DELETED OR FLAGGED TO carol") == 0);
	CHECK(run("NOT OR DELETED OR FLAGGED TO nobody") == 1);
	CHECK(run("3 UID 20 SEEN") == 1);
	CHECK(run("3 UID 21 SEEN") == 0);
	/* cheap keys first: a failing flag key spares the load */
	setmsg(hdrmsg, 0);
	CHECK(run("BODY zebra SEEN") == 0);
	CHECK(run("OR BODY zebra UNSEEN") == 1);
	CHECK(run("NOT (SUBJECT x DELETED)") == 1);
	CHECK(tm.loads == 0);
	CHECK(run("BODY zebra UNSEEN") == 1);
	CHECK(tm.loads == 1);
	/* charsets */
	CHECK(run("CHARSET UTF-8 FROM andre") == 1);
	CHECK(run("CHARSET utf-8 FROM andre") == 1);
	CHECK(run("CHARSET US-ASCII FROM andre") == 1);
	CHECK(run("CHARSET \"us-ascii\" ALL") == 1);
	CHECK(run("CHARSET ISO-8859-1 ALL") == -3);
	CHECK(run("CHARSET KOI8-R FROM x") == -3);
	CHECK(run("CHARSET UTF-7 ALL") == -3);
	/* CONDSTORE MODSEQ: the message's modseq at least n */
	setmsg(NULL, 0);
	msg.modseq = 620162338;
	CHECK(run("MODSEQ 620162338") == 1);
	CHECK(run("MODSEQ 620162339") == 0);
	CHECK(run("MODSEQ 0") == 1);
	CHECK(run("MODSEQ \"/flags/\\\\draft\" all 620162337") == 1);
	CHECK(run("MODSEQ \"/flags/\\\\draft\" priv 620162339") == 0);
	CHECK(run("NOT MODSEQ 620162339") == 1);
	CHECK(run("OR MODSEQ 9223372036854775807 SEEN") == 0);
	CHECK(run("MODSEQ 9223372036854775808") == -2);
	CHECK(tm.loads == 0);
}

/* Hostile messages: each must finish with the right answer; the work is
 * linear (no timing asserted here: bench/ measures speed). */
static void
test_hostile(void)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int ok = 1;

	/* no header end at all */
	setmsg("Subject: never ends\nX-A: b", 0);
	CHECK(run("SUBJECT never") == 1);
	CHECK(run("HEADER X-A b") == 1);
	CHECK(run("BODY never") == 0);
	setmsg("", 0);
	CHECK(run("SUBJECT \"\"") == 0);
	CHECK(run("BODY \"\"") == 1);
	CHECK(run("TEXT x") == 0);
	CHECK(run("SENTON 10-Mar-2024") == 1);
	setmsg("\n", 0);
	CHECK(run("BODY x") == 0);
	/* NULs in header and body */
	setmsg("Subject: a\0b zebra\nX-N\0: y\n\nnul\0body zebra\n", 43);
	CHECK(run("SUBJECT zebra") == 1);
	CHECK(run("BODY zebra") == 1);
	CHECK(run("BODY body") == 1);
	/* 10,000 header lines, the wanted one last */
	for (int i = 0; i < 10000 && ok; i++)
		ok = buf_printf(&b, "X-Line-%d: filler %d\n", i, i) == 0;
	ok = ok && buf_puts(&b, "X-Last: found\n\nbody\n") == 0;
	CHECK(ok);
	setmsg(b.data, b.len);
	CHECK(run("HEADER X-Last found") == 1);
	CHECK(run("HEADER X-Line-9999 \"filler 9999\"") == 1);
	CHECK(run("HEADER X-Line-9999 \"filler 9998\"") == 0);
	CHECK(run("TEXT \"filler 5000\"") == 1);
	CHECK(run("BODY filler") == 0);
	/* a huge base64 text part (8 MB encoded) with the word at the end */
	buf_reset(&b);
	ok = buf_puts(&b, "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n") == 0;
	for (int i = 0; i < 8 * 1024 * 1024 / 77 && ok; i++)
		ok = buf_puts(&b, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n") == 0;
	ok = ok && buf_puts(&b, "ZW5kd29yZA==\n") == 0;	/* "endword" */
	CHECK(ok);
	setmsg(b.data, b.len);
	CHECK(run("BODY ENDWORD") == 1);
	CHECK(run("BODY aaaaaaaab") == 0);
	/* garbage base64 and QP do not confuse the decoders */
	setmsg("Content-Transfer-Encoding: base64\n\n!!!=== =a=b\xff\n", 0);
	CHECK(run("BODY zzz") == 0);
	setmsg("Content-Transfer-Encoding: quoted-printable\n\n=\n=4=G= \n=", 0);
	CHECK(run("BODY \"=4=G\"") == 1);
	/* encoded-words that never close, an unterminated comment in Date: */
	setmsg("Subject: =?utf-8?q?abc\nDate: (((((\n\nx", 0);
	CHECK(run("SUBJECT \"=?utf-8?q?abc\"") == 1);
	CHECK(run("SENTON 10-Mar-2024") == 1);
	/* deep MIME nesting */
	buf_reset(&b);
	ok = 1;
	for (int i = 0; i < 100 && ok; i++)
		ok = buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i) == 0;
	ok = ok && buf_puts(&b, "Content-Type: text/plain\n\ndeep text\n") == 0;
	CHECK(ok);
	setmsg(b.data, b.len);
	CHECK(run("BODY nothere") == 0);
	buf_free(&b);
}

/* The header ends where mime_parse says, whatever the shape. */
static void
test_header_end(void)
{
	static const char *const msgs[] = {
		"", "\n", "\r\n", "A: b\n\nbody", "A: b\r\n\r\nbody", "A: b\nnot a field\nC: d\n",
		" cont first\nA: b\n\n", "A: b\n c\n\td\n\nx", "A : b\n\nx", ": b\n\nx",
		"A\n\nx", "A: b", "A: b\r", "A: b\n\r\n", "A: b\n \nx", "X\0: y\n\n",
	};
	struct mime_part *root;
	struct buf v = BUF_INIT(BUF_NOLIMIT);
	size_t pos = 0;

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		root = mime_parse(msgs[i], strlen(msgs[i]));
		CHECK(root->hdr_end == imap_match_header_end(msgs[i], strlen(msgs[i])));
		mime_free(root);
	}
	CHECK(imap_match_header_end("A: b\n\nx", 7) == 6);
	/* field bodies: every occurrence, unfolded, in order */
	CHECK(imap_match_field_next(hdrmsg, sizeof(hdrmsg) - 1, &pos, "x-tag", &v) == 1);
	CHECK_STR(buf_cstr(&v), " one");
	CHECK(imap_match_field_next(hdrmsg, sizeof(hdrmsg) - 1, &pos, "X-TAG", &v) == 1);
	CHECK_STR(buf_cstr(&v), " two");
	CHECK(imap_match_field_next(hdrmsg, sizeof(hdrmsg) - 1, &pos, "x-tag", &v) == 0);
	pos = 0;
	CHECK(imap_match_field_next(hdrmsg, sizeof(hdrmsg) - 1, &pos, "to", &v) == 1);
	CHECK_STR(buf_cstr(&v), " bob@example.test,  Carol <carol@Example.TEST>");
	buf_free(&v);
}

static void
test_writer(void)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT), small = BUF_INIT(20);
	static const uint32_t ids[] = { 2, 3, 4, 9, 11, 12, 4294967294u, 4294967295u };

	CHECK(imap_match_write_search(&b, NULL, 0, 0) == 0);
	CHECK_STR(buf_cstr(&b), "* SEARCH\r\n");
	buf_reset(&b);
	CHECK(imap_match_write_search(&b, ids, 4, 0) == 0);
	CHECK_STR(buf_cstr(&b), "* SEARCH 2 3 4 9\r\n");
	buf_reset(&b);
	CHECK(imap_match_write_search(&b, ids, 2, 917162500) == 0);
	CHECK_STR(buf_cstr(&b), "* SEARCH 2 3 (MODSEQ 917162500)\r\n");
	buf_reset(&b);
	CHECK(imap_match_write_search(&b, NULL, 0, 5) == 0);
	CHECK_STR(buf_cstr(&b), "* SEARCH\r\n");
	buf_reset(&b);
	CHECK(imap_match_write_set(&b, ids, 8) == 0);
	CHECK_STR(buf_cstr(&b), "2:4,9,11:12,4294967294:4294967295");
	buf_reset(&b);
	CHECK(imap_match_write_set(&b, ids + 3, 1) == 0);
	CHECK_STR(buf_cstr(&b), "9");
	buf_reset(&b);
	CHECK(imap_match_write_esearch(&b, "x", 1, IMAP_RET_MIN | IMAP_RET_MAX |
	    IMAP_RET_COUNT | IMAP_RET_ALL, ids, 4, 0) == 0);
	CHECK_STR(buf_cstr(&b), "* ESEARCH (TAG \"x\") UID MIN 2 MAX 9 COUNT 4 ALL 2:4,9\r\n");
	buf_reset(&b);
	CHECK(imap_match_write_esearch(&b, "A282", 0, 0, ids, 6, 0) == 0);
	CHECK_STR(buf_cstr(&b), "* ESEARCH (TAG \"A282\") ALL 2:4,9,11:12\r\n");
	buf_reset(&b);
	CHECK(imap_match_write_esearch(&b, "t", 0, IMAP_RET_MIN | IMAP_RET_COUNT, NULL, 0, 7) == 0);
	CHECK_STR(buf_cstr(&b), "* ESEARCH (TAG \"t\") COUNT 0\r\n");
	buf_reset(&b);
	CHECK(imap_match_write_esearch(&b, "t", 1, IMAP_RET_ALL, NULL, 0, 0) == 0);
	CHECK_STR(buf_cstr(&b), "* ESEARCH (TAG \"t\") UID\r\n");
	buf_reset(&b);
	CHECK(imap_match_write_esearch(&b, "a\"b", 0, IMAP_RET_MAX, ids, 3, 42) == 0);
	CHECK_STR(buf_cstr(&b), "* ESEARCH (TAG \"a\\\"b\") MAX 4 MODSEQ 42\r\n");
	/* over the buffer's limit: -1, nothing appended */
	CHECK(buf_puts(&small, "ab") == 0);
	CHECK(imap_match_write_search(&small, ids, 8, 0) == -1);
	CHECK_STR(buf_cstr(&small), "ab");
	CHECK(imap_match_write_esearch(&small, "x", 1, 0, ids, 8, 0) == -1);
	CHECK_STR(buf_cstr(&small), "ab");
	CHECK(imap_match_write_set(&small, ids, 8) == -1);
	CHECK_STR(buf_cstr(&small), "ab");
	buf_free(&b);
	buf_free(&small);
}

static void
test_fold(void)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	CHECK(imap_match_fold("AbC ÀÉÎÕÜ×Þß ĀāĹŸŽ ΣΆ ДЁ \xff\xc3", strlen("AbC ÀÉÎÕÜ×Þß ĀāĹŸŽ ΣΆ ДЁ \xff\xc3"), &b) == 0);
	CHECK(b.len == strlen("abc àéîõü×þß āāĺÿž σΆ дё \xff\xc3"));
	CHECK_STR(buf_cstr(&b), "abc àéîõü×þß āāĺÿž σΆ дё \xff\xc3");
	buf_free(&b);
}

int
main(void)
{
	test_fold();
	test_flags();
	test_size_sets();
	test_dates();
	test_headers();
	test_bodies();
	test_nesting_charset();
	test_hostile();
	test_header_end();
	test_writer();
	return UNIT_DONE();
}
