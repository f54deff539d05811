/* Unit tests for the IMAP command parser, imapd/imap_{token,fetch,search,
 * parse,mutf7}.c (compiled in): tags, command names,
 * every argument shape good and bad, literals and the incremental reader,
 * sequence sets, FETCH items, STORE, SEARCH trees, dates, limits, hostile
 * octets, and modified UTF-7. */
#include <stdlib.h>

#include "../../imapd/imap_token.c"
#include "../../imapd/imap_fetch.c"
#include "../../imapd/imap_search.c"
#include "../../imapd/imap_parse.c"
#include "../../imapd/imap_mutf7.c"
#include "unit.h"
#include "imap_parse_cases.h"


static const struct ct cases[] = {
	/* tags and names */
	{ "a1 CAPABILITY", E(OK), V(CAPABILITY) },
	{ "a1 capability", E(OK), V(CAPABILITY) },
	{ "A.B]c NoOp", E(OK), V(NOOP) },
	{ "t LOGOUT", E(OK), V(LOGOUT) },
	{ "t STARTTLS", E(OK), V(STARTTLS) },
	{ "t CHECK", E(OK), V(CHECK) },
	{ "t CLOSE", E(OK), V(CLOSE) },
	{ "t EXPUNGE", E(OK), V(EXPUNGE) },
	{ "t IDLE", E(OK), V(IDLE) },
	{ "t NAMESPACE", E(OK), V(NAMESPACE) },
	{ "t UNSELECT", E(OK), V(UNSELECT) },
	{ "t NOOP ", E(TRAILING), V(NOOP) },
	{ "t NOOP x", E(TRAILING), V(NOOP) },
	{ "t EXPUNGE 1:2", E(TRAILING), V(EXPUNGE) },
	{ "t NOOPX", E(UNKNOWN), V(UNKNOWN) },
	{ "t XLIST \"\" *", E(UNKNOWN), V(UNKNOWN) },
	{ "t DONE", E(UNKNOWN), V(UNKNOWN) },
	{ "t", E(UNKNOWN), V(UNKNOWN) },
	{ "t ", E(UNKNOWN), V(UNKNOWN) },
	{ "", E(TAG), V(UNKNOWN) },
	{ " NOOP", E(TAG), V(UNKNOWN) },
	{ "+ NOOP", E(TAG), V(UNKNOWN) },
	{ "a+b NOOP", E(TAG), V(UNKNOWN) },
	{ "* NOOP", E(TAG), V(UNKNOWN) },
	{ "a(b NOOP", E(TAG), V(UNKNOWN) },
	{ "\"a\" NOOP", E(TAG), V(UNKNOWN) },
	{ "a\x01 NOOP", E(TAG), V(UNKNOWN) },
	{ "\xc3\xa4 NOOP", E(TAG), V(UNKNOWN) },
	{ "a  NOOP", E(UNKNOWN), V(UNKNOWN) },
	{ "a\tNOOP", E(TAG), V(UNKNOWN) },
	{ "0123456789012345678901234567890123456789012345678901234567890123 NOOP", E(OK), V(NOOP) },
	{ "01234567890123456789012345678901234567890123456789012345678901234 NOOP",
	    E(TAG), V(UNKNOWN) },
	/* LOGIN / AUTHENTICATE */
	{ "a LOGIN user pass", E(OK), V(LOGIN) },
	{ "a LOGIN \"us er\" \"p\\\"w\\\\\"", E(OK), V(LOGIN) },
	{ "a LOGIN {4}\r\nuser {2+}\r\npw", E(OK), V(LOGIN) },
	{ "a LOGIN user", E(MISSING), V(LOGIN) },
	{ "a LOGIN user ", E(MISSING), V(LOGIN) },
	{ "a LOGIN", E(MISSING), V(LOGIN) },
	{ "a LOGIN user pass x", E(TRAILING), V(LOGIN) },
	{ "a LOGIN \"user pass", E(STRING), V(LOGIN) },
	{ "a LOGIN \"u\\ser\" p", E(STRING), V(LOGIN) },
	{ "a LOGIN (user) p", E(STRING), V(LOGIN) },
	{ "a LOGIN {5}\r\nuser p", E(SYNTAX), V(LOGIN) },
	{ "a LOGIN {4}user p", E(LITERAL), V(LOGIN) },
	{ "a LOGIN {4\r\nuser p", E(LITERAL), V(LOGIN) },
	{ "a LOGIN {}\r\n p", E(LITERAL), V(LOGIN) },
	{ "a LOGIN {-1}\r\n p", E(LITERAL), V(LOGIN) },
	{ "a LOGIN {4294967296}\r\n p", E(LITERAL), V(LOGIN) },
	{ "a LOGIN {4294967295}\r\n p", E(LITERAL), V(LOGIN) },
	{ "a AUTHENTICATE PLAIN", E(OK), V(AUTHENTICATE) },
	{ "a authenticate plain AGZvbwBiYXI=", E(OK), V(AUTHENTICATE) },
	{ "a AUTHENTICATE PLAIN =", E(OK), V(AUTHENTICATE) },
	{ "a AUTHENTICATE SCRAM-SHA-256", E(OK), V(AUTHENTICATE) },
	{ "a AUTHENTICATE", E(MISSING), V(AUTHENTICATE) },
	{ "a AUTHENTICATE PL.AIN", E(AUTH), V(AUTHENTICATE) },
	{ "a AUTHENTICATE ABCDEFGHIJKLMNOPQRSTU", E(AUTH), V(AUTHENTICATE) },
	{ "a AUTHENTICATE PLAIN AGZvbw", E(AUTH), V(AUTHENTICATE) },
	{ "a AUTHENTICATE PLAIN AGZv=bwBi", E(AUTH), V(AUTHENTICATE) },
	{ "a AUTHENTICATE PLAIN AGZvbw===", E(TRAILING), V(AUTHENTICATE) },
	{ "a AUTHENTICATE PLAIN ==", E(TRAILING), V(AUTHENTICATE) },
	{ "a AUTHENTICATE PLAIN AGZvbwBiYXI= x", E(TRAILING), V(AUTHENTICATE) },
	/* mailboxes */
	{ "a SELECT INBOX", E(OK), V(SELECT) },
	{ "a EXAMINE \"Sent Items\"", E(OK), V(EXAMINE) },
	{ "a CREATE a/b]c", E(OK), V(CREATE) },
	{ "a DELETE {3}\r\nfoo", E(OK), V(DELETE) },
	{ "a SUBSCRIBE x", E(OK), V(SUBSCRIBE) },
	{ "a UNSUBSCRIBE x", E(OK), V(UNSUBSCRIBE) },
	{ "a RENAME a b", E(OK), V(RENAME) },
	{ "a RENAME a", E(MISSING), V(RENAME) },
	{ "a SELECT", E(MISSING), V(SELECT) },
	{ "a SELECT a*", E(TRAILING), V(SELECT) },
	{ "a SELECT %", E(MAILBOX), V(SELECT) },
	{ "a SELECT (x)", E(MAILBOX), V(SELECT) },
	{ "a LIST \"\" *", E(OK), V(LIST) },
	{ "a LIST \"\" %/a]*", E(OK), V(LIST) },
	{ "a LSUB \"#news.\" \"comp.mail.*\"", E(OK), V(LSUB) },
	{ "a LIST \"\"", E(MISSING), V(LIST) },
	{ "a LIST \"\" (", E(MISSING), V(LIST) },	/* a pattern list (RFC 5258) */
	{ "a STATUS INBOX (MESSAGES UIDNEXT)", E(OK), V(STATUS) },
	{ "a STATUS INBOX (messages recent uidnext uidvalidity unseen)", E(OK), V(STATUS) },
	{ "a STATUS INBOX ()", E(STATUS), V(STATUS) },
	{ "a STATUS INBOX (SIZE)", E(STATUS), V(STATUS) },
	{ "a STATUS INBOX MESSAGES", E(STATUS), V(STATUS) },
	{ "a STATUS INBOX (MESSAGES", E(MISSING), V(STATUS) },
	{ "a STATUS INBOX (MESSAGES  UNSEEN)", E(STATUS), V(STATUS) },
	/* APPEND */
	{ "a APPEND INBOX {5}\r\nhello", E(OK), V(APPEND) },
	{ "a APPEND INBOX {5+}\r\nhello", E(OK), V(APPEND) },
	{ "a APPEND INBOX (\\Seen) {5}\r\nhello", E(OK), V(APPEND) },
	{ "a APPEND INBOX () {0}\r\n", E(OK), V(APPEND) },
	{ "a APPEND INBOX (\\Seen $Junk) \" 7-Feb-1994 21:52:25 -0800\" {1}\r\nx",
	    E(OK), V(APPEND) },
	{ "a APPEND INBOX \"17-Jul-1996 02:44:25 +0200\" {1}\r\nx", E(OK), V(APPEND) },
	{ "a APPEND INBOX \"7-Feb-1994 21:52:25 -0800\" {1}\r\nx", E(DATE), V(APPEND) },
	{ "a APPEND INBOX \"17-Jul-1996 24:44:25 +0200\" {1}\r\nx", E(DATE), V(APPEND) },
	{ "a APPEND INBOX \"30-Feb-1996 02:44:25 +0200\" {1}\r\nx", E(DATE), V(APPEND) },
	{ "a APPEND INBOX \"17-Jul-1996 02:44:25 0200\" {1}\r\nx", E(DATE), V(APPEND) },
	{ "a APPEND INBOX hello", E(LITERAL), V(APPEND) },
	{ "a APPEND INBOX", E(MISSING), V(APPEND) },
	{ "a APPEND INBOX (\\Seen", E(MISSING), V(APPEND) },
	{ "a APPEND INBOX (\\) {1}\r\nx", E(FLAG), V(APPEND) },
	{ "a APPEND INBOX (\\*) {1}\r\nx", E(FLAG), V(APPEND) },
	/* FETCH */
	{ "a FETCH 1 FLAGS", E(OK), V(FETCH) },
	{ "a FETCH 1:* ALL", E(OK), V(FETCH) },
	{ "a FETCH 2,4:7,9:* FAST", E(OK), V(FETCH) },
	{ "a FETCH * full", E(OK), V(FETCH) },
	{ "a FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE UID RFC822 "
	    "RFC822.HEADER RFC822.TEXT)", E(OK), V(FETCH) },
	{ "a FETCH 1 BODY[]", E(OK), V(FETCH) },
	{ "a FETCH 1 BODY.PEEK[HEADER.FIELDS (From To Subject)]<0.1024>", E(OK), V(FETCH) },
	{ "a FETCH 1 (BODY[1.2.3.MIME] BODY[4.TEXT] BODY[2.HEADER] BODY[TEXT] BODY[HEADER])",
	    E(OK), V(FETCH) },
	{ "a FETCH 1 body.peek[header.fields.not (\"X-A\" {3}\r\nX-B)]", E(OK), V(FETCH) },
	{ "a FETCH 1 (ALL)", E(FETCH), V(FETCH) },
	{ "a FETCH 1 ()", E(FETCH), V(FETCH) },
	{ "a FETCH 1 (FLAGS", E(MISSING), V(FETCH) },
	{ "a FETCH 1 (FLAGS)x", E(TRAILING), V(FETCH) },
	{ "a FETCH 1 FLAGS UID", E(TRAILING), V(FETCH) },
	{ "a FETCH 1 BODY.PEEK", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[MIME]", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[0]", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[1.]", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[1.0]", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[.1]", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[HEADER.FIELDS]", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[HEADER.FIELDS ()]", E(STRING), V(FETCH) },
	{ "a FETCH 1 BODY[HEADER.FIELDS (a:b)]", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[HEADER.FIELDS (\"\")]", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[TEXT", E(MISSING), V(FETCH) },
	{ "a FETCH 1 BODY[]<0>", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[]<0.0>", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY[]<.5>", E(SECTION), V(FETCH) },
	{ "a FETCH 1 BODY<0.5>", E(TRAILING), V(FETCH) },
	{ "a FETCH 1 RFC822[]", E(TRAILING), V(FETCH) },
	{ "a FETCH 1 BINARY[]", E(FETCH), V(FETCH) },
	{ "a FETCH 1", E(MISSING), V(FETCH) },
	{ "a FETCH 1 ", E(MISSING), V(FETCH) },
	{ "a FETCH", E(MISSING), V(FETCH) },
	/* sequence sets */
	{ "a FETCH 0 FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH 01 FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH 1: FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH :1 FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH 1, FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH ,1 FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH 1::2 FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH 1:2:3 FLAGS", E(SYNTAX), V(FETCH) },
	{ "a FETCH $ FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH -1 FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH 4294967295 FLAGS", E(OK), V(FETCH) },
	{ "a FETCH 4294967296 FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH 99999999999999999999 FLAGS", E(SEQSET), V(FETCH) },
	{ "a FETCH *:* FLAGS", E(OK), V(FETCH) },
	/* STORE */
	{ "a STORE 1 FLAGS (\\Seen)", E(OK), V(STORE) },
	{ "a STORE 1:* +FLAGS.SILENT (\\Deleted $Label1)", E(OK), V(STORE) },
	{ "a STORE 1 -flags \\Seen \\Flagged", E(OK), V(STORE) },
	{ "a STORE 1 FLAGS ()", E(OK), V(STORE) },
	{ "a STORE 1 +FLAGS", E(MISSING), V(STORE) },
	{ "a STORE 1 *FLAGS (\\Seen)", E(STORE), V(STORE) },
	{ "a STORE 1 +-FLAGS (\\Seen)", E(STORE), V(STORE) },
	{ "a STORE 1 FLAGS.LOUD (\\Seen)", E(STORE), V(STORE) },
	{ "a STORE 1 X-GM-LABELS (\\Seen)", E(STORE), V(STORE) },
	{ "a STORE 1 FLAGS (\\Seen", E(MISSING), V(STORE) },
	{ "a STORE 1 FLAGS (\\Seen))", E(TRAILING), V(STORE) },
	{ "a STORE 1 FLAGS ((\\Seen))", E(FLAG), V(STORE) },
	{ "a STORE 1 FLAGS (\"\\Seen\")", E(FLAG), V(STORE) },
	{ "a STORE 1 FLAGS (\\\\Seen)", E(FLAG), V(STORE) },
	{ "a STORE 1 FLAGS (\\*)", E(FLAG), V(STORE) },
	/* COPY / MOVE / UID */
	{ "a COPY 1:3 Trash", E(OK), V(COPY) },
	{ "a MOVE 1:3 \"Trash\"", E(OK), V(MOVE) },
	{ "a COPY 1:3", E(MISSING), V(COPY) },
	{ "a UID FETCH 1:* (UID FLAGS)", E(OK), V(FETCH) },
	{ "a uid store 7 +FLAGS (\\Seen)", E(OK), V(STORE) },
	{ "a UID COPY 1 x", E(OK), V(COPY) },
	{ "a UID MOVE 1 x", E(OK), V(MOVE) },
	{ "a UID SEARCH ALL", E(OK), V(SEARCH) },
	{ "a UID EXPUNGE 3:5", E(OK), V(EXPUNGE) },
	{ "a UID EXPUNGE", E(MISSING), V(EXPUNGE) },
	{ "a UID NOOP", E(UNKNOWN), V(UNKNOWN) },
	{ "a UID UID FETCH 1 FLAGS", E(UNKNOWN), V(UNKNOWN) },
	{ "a UID", E(MISSING), V(UNKNOWN) },
	{ "a UID ", E(MISSING), V(UNKNOWN) },
	/* ENABLE / ID */
	{ "a ENABLE CONDSTORE UTF8=ACCEPT", E(OK), V(ENABLE) },
	{ "a ENABLE", E(MISSING), V(ENABLE) },
	{ "a ENABLE (X)", E(SYNTAX), V(ENABLE) },
	{ "a ID NIL", E(OK), V(ID) },
	{ "a ID ()", E(OK), V(ID) },
	{ "a ID (\"name\" \"mutt\" \"version\" NIL)", E(OK), V(ID) },
	{ "a ID (\"name\")", E(SYNTAX), V(ID) },
	{ "a ID (name mutt)", E(STRING), V(ID) },
	{ "a ID", E(MISSING), V(ID) },
	{ "a ID (\"0123456789012345678901234567890\" NIL)", E(LIMIT), V(ID) },
	/* SEARCH */
	{ "a SEARCH ALL", E(OK), V(SEARCH) },
	{ "a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", E(OK), V(SEARCH) },
	{ "a SEARCH TEXT \"string not in mailbox\"", E(OK), V(SEARCH) },
	{ "a SEARCH CHARSET UTF-8 TEXT {6}\r\n\xd0\xbf\xd1\x80\xd0\xb8", E(OK), V(SEARCH) },
	{ "a SEARCH OR (FROM a TO b) NOT (SEEN 1:5) UID 3,4:*", E(OK), V(SEARCH) },
	{ "a SEARCH ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED "
	    "UNDRAFT UNFLAGGED UNSEEN", E(OK), V(SEARCH) },
	{ "a SEARCH BCC a BODY b CC c FROM d SUBJECT e TEXT f TO g KEYWORD $x UNKEYWORD $y "
	    "HEADER X-Y z", E(OK), V(SEARCH) },
	{ "a SEARCH BEFORE \"01-Jan-2000\" ON 29-Feb-2000 SENTBEFORE 1-Mar-2001 "
	    "SENTON 31-Dec-1999 SENTSINCE 9-sep-2009", E(OK), V(SEARCH) },
	{ "a SEARCH LARGER 0 SMALLER 4294967295 *", E(OK), V(SEARCH) },
	{ "a SEARCH", E(MISSING), V(SEARCH) },
	{ "a SEARCH ", E(MISSING), V(SEARCH) },
	{ "a SEARCH CHARSET UTF-8", E(MISSING), V(SEARCH) },
	{ "a SEARCH FROM", E(MISSING), V(SEARCH) },
	{ "a SEARCH FOO", E(SEARCH), V(SEARCH) },
	{ "a SEARCH OR SEEN", E(MISSING), V(SEARCH) },
	{ "a SEARCH NOT", E(MISSING), V(SEARCH) },
	{ "a SEARCH ()", E(SEARCH), V(SEARCH) },
	{ "a SEARCH (SEEN", E(MISSING), V(SEARCH) },
	{ "a SEARCH SEEN)", E(TRAILING), V(SEARCH) },
	{ "a SEARCH SINCE 29-Feb-1900", E(DATE), V(SEARCH) },
	{ "a SEARCH SINCE 32-Jan-2000", E(DATE), V(SEARCH) },
	{ "a SEARCH SINCE 0-Jan-2000", E(DATE), V(SEARCH) },
	{ "a SEARCH SINCE 1-Jan-00", E(DATE), V(SEARCH) },
	{ "a SEARCH SINCE 1-Foo-2000", E(DATE), V(SEARCH) },
	{ "a SEARCH SINCE 100-Jan-2000", E(DATE), V(SEARCH) },
	{ "a SEARCH SINCE \"1-Jan-2000", E(DATE), V(SEARCH) },
	{ "a SEARCH SINCE 2000-01-01", E(DATE), V(SEARCH) },
	{ "a SEARCH LARGER -1", E(NUMBER), V(SEARCH) },
	{ "a SEARCH LARGER 4294967296", E(NUMBER), V(SEARCH) },
	{ "a SEARCH UID 0", E(SEQSET), V(SEARCH) },
	{ "a SEARCH 0", E(SEARCH), V(SEARCH) },
	{ "a SEARCH KEYWORD \\Seen", E(FLAG), V(SEARCH) },
	{ "a SEARCH HEADER X-Y", E(MISSING), V(SEARCH) },
	{ "a SEARCH SEEN  UNSEEN", E(SEARCH), V(SEARCH) },
	/* hostile octets */
	{ "a NOOP\r\n", E(TRAILING), V(NOOP) },
	{ "a LOGIN \xff p", E(STRING), V(LOGIN) },
	{ "a LOGIN \"\xc3\xa4\" p", E(OK), V(LOGIN) },
};

static void
test_strings(void)
{
	struct imap_cmd *c;

	c = parse("a001 LOGIN \"fr\\\\ed\" {8}\r\nsec\"r et", 0, E(OK));
	CHECK_STR(c->tag, "a001");
	CHECK_STR(imap_str(c, c->a), "fr\\ed");
	CHECK(c->a.len == 5);
	CHECK_STR(imap_str(c, c->b), "sec\"r et");
	CHECK(c->b.len == 8);
	done(c);
	c = parse("a LOGIN \"\" {0}\r\n", 0, E(OK));
	CHECK(c->a.len == 0 && c->b.len == 0);
	done(c);
	c = parse("b SELECT inBoX", 0, E(OK));
	CHECK_STR(imap_str(c, c->a), "INBOX");
	done(c);
	c = parse("b SELECT \"inbox\"", 0, E(OK));
	CHECK_STR(imap_str(c, c->a), "INBOX");
	done(c);
	c = parse("b SELECT inbox2", 0, E(OK));
	CHECK_STR(imap_str(c, c->a), "inbox2");
	done(c);
	c = parse("b RENAME \"a b\" c]d", 0, E(OK));
	CHECK_STR(imap_str(c, c->a), "a b");
	CHECK_STR(imap_str(c, c->b), "c]d");
	done(c);
	c = parse("b LIST \"\" \"%\"", 0, E(OK));
	CHECK_STR(imap_str(c, c->a), "");
	CHECK_STR(imap_str(c, c->b), "%");
	done(c);
	c = parse("b AUTHENTICATE plain AGZvbwBiYXI=", 0, E(OK));
	CHECK_STR(imap_str(c, c->a), "PLAIN");
	CHECK(c->has_ir);
	CHECK_STR(imap_str(c, c->b), "AGZvbwBiYXI=");
	done(c);
	c = parse("b AUTHENTICATE PLAIN =", 0, E(OK));
	CHECK(c->has_ir && c->b.len == 0);
	done(c);
	c = parse("b AUTHENTICATE LOGIN", 0, E(OK));
	CHECK(!c->has_ir);
	done(c);
	c = parse("b ENABLE CONDSTORE X-Y", 0, E(OK));
	CHECK(c->nstrs == 2);
	CHECK_STR(imap_str(c, c->strs[1]), "X-Y");
	done(c);
	c = parse("b ID (\"name\" \"x\" \"os\" NIL)", 0, E(OK));
	CHECK(c->nstrs == 4 && !c->strs[1].nil && c->strs[3].nil);
	CHECK_STR(imap_str(c, c->strs[2]), "os");
	done(c);
	c = parse("b ID nil", 0, E(OK));
	CHECK(c->id_nil);
	done(c);
	c = parse("b STATUS x (UIDNEXT UNSEEN)", 0, E(OK));
	CHECK(c->status == (IMAP_STATUS_UIDNEXT | IMAP_STATUS_UNSEEN));
	done(c);
	/* NUL: inside a quoted string, a literal, an atom */
	c = parse("a LOGIN \"u\0\" p", 14, E(STRING));
	done(c);
	c = parse("a LOGIN {2}\r\nu\0 p", 19, E(STRING));
	done(c);
	c = parse("a LOGIN u\0 p", 12, E(SYNTAX));
	done(c);
	c = parse("a\0 NOOP", 7, E(TAG));
	done(c);
	c = parse("a NOOP\0", 7, E(TRAILING));
	CHECK_STR(c->tag, "a");
	done(c);
}

static void
test_seqset(void)
{
	struct imap_cmd *c = parse("x FETCH 2,4:7,9:*,*:3,4294967295 UID", 0, E(OK));
	const struct imap_range *r = c->ranges + c->set.first;

	CHECK(c->set.n == 5 && c->nranges == 5);
	CHECK(r[0].lo == 2 && r[0].hi == 2);
	CHECK(r[1].lo == 4 && r[1].hi == 7);
	CHECK(r[2].lo == 9 && r[2].hi == IMAP_STAR);
	CHECK(r[3].lo == IMAP_STAR && r[3].hi == 3);
	CHECK(r[4].lo == 4294967295u && r[4].hi == 4294967295u);
	done(c);
}

static void
test_fetch(void)
{
	struct imap_cmd *c;
	const struct imap_fetch *f;

	c = parse("x FETCH 1 ALL", 0, E(OK));
	CHECK(c->nfetch == 4 && c->fetch[3].att == IMAP_F_ENVELOPE);
	done(c);
	c = parse("x FETCH 1 FAST", 0, E(OK));
	CHECK(c->nfetch == 3 && c->fetch[2].att == IMAP_F_RFC822_SIZE);
	done(c);
	c = parse("x FETCH 1 FULL", 0, E(OK));
	CHECK(c->nfetch == 5 && c->fetch[4].att == IMAP_F_BODY);
	done(c);
	c = parse("x FETCH 1 BODY", 0, E(OK));
	CHECK(c->nfetch == 1 && c->fetch[0].att == IMAP_F_BODY);
	done(c);
	c = parse("x UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\" {7}\r\n"
	    "Subject)]<0.1024>)", 0, E(OK));
	CHECK(c->uid && c->nfetch == 2);
	f = &c->fetch[1];
	CHECK(f->att == IMAP_F_BODY_SECTION && f->peek && f->nparts == 0);
	CHECK(f->spec == IMAP_S_HEADER_FIELDS && f->nfields == 3);
	CHECK_STR(imap_str(c, c->strs[f->field_first + 2]), "Subject");
	CHECK(f->partial && f->poff == 0 && f->plen == 1024);
	done(c);
	c = parse("x FETCH 1 (BODY[1.2.3.MIME] BODY[4.TEXT] body[2] BODY[] "
	    "BODY[HEADER.FIELDS.NOT (A B)] RFC822.HEADER)", 0, E(OK));
	CHECK(c->nfetch == 6);
	f = &c->fetch[0];
	CHECK(!f->peek && f->nparts == 3 && f->part[2] == 3 && f->spec == IMAP_S_MIME);
	CHECK(!f->partial);
	f = &c->fetch[1];
	CHECK(f->nparts == 1 && f->part[0] == 4 && f->spec == IMAP_S_TEXT);
	f = &c->fetch[2];
	CHECK(f->nparts == 1 && f->part[0] == 2 && f->spec == IMAP_S_ALL);
	f = &c->fetch[3];
	CHECK(f->nparts == 0 && f->spec == IMAP_S_ALL);
	f = &c->fetch[4];
	CHECK(f->spec == IMAP_S_HEADER_FIELDS_NOT && f->nfields == 2 && f->field_first == 0);
	CHECK(c->fetch[5].att == IMAP_F_RFC822_HEADER);
	done(c);
	c = parse("x FETCH 1 BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16]", 0, E(OK));
	CHECK(c->fetch[0].nparts == IMAP_PART_MAX && c->fetch[0].part[15] == 16);
	done(c);
	c = parse("x FETCH 1 BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17]", 0, E(LIMIT));
	done(c);
	c = parse("x FETCH 1 BODY[]<4294967295.4294967295>", 0, E(OK));
	CHECK(c->fetch[0].poff == 4294967295u && c->fetch[0].plen == 4294967295u);
	done(c);
	c = parse("x FETCH 1 BODY[]<4294967296.1>", 0, E(SECTION));
	done(c);
}

#define APPEND_HEAD "x APPEND saved-messages (\\Seen) \" 7-Feb-1994 21:52:25 -0830\" {5+}\r\n"

static void
test_store_append(void)
{
	struct imap_cmd *c;

	c = parse("x STORE 2:4 +FLAGS.SILENT (\\Deleted $Junk)", 0, E(OK));
	CHECK(c->store_op == IMAP_STORE_ADD && c->silent && c->nflags == 2);
	CHECK_STR(imap_str(c, c->flags[0]), "\\Deleted");
	CHECK_STR(imap_str(c, c->flags[1]), "$Junk");
	done(c);
	c = parse("x STORE 1 -FLAGS \\Seen", 0, E(OK));
	CHECK(c->store_op == IMAP_STORE_DEL && !c->silent && c->nflags == 1);
	done(c);
	c = parse("x STORE 1 flags ()", 0, E(OK));
	CHECK(c->store_op == IMAP_STORE_SET && c->nflags == 0);
	done(c);
	c = parse(APPEND_HEAD "hello", 0, E(OK));
	CHECK_STR(imap_str(c, c->a), "saved-messages");
	CHECK(c->has_flags && c->nflags == 1 && c->has_date);
	CHECK(c->date.day == 7 && c->date.mon == 2 && c->date.year == 1994);
	CHECK(c->hour == 21 && c->min == 52 && c->sec == 25 && c->zone == -510);
	CHECK(c->msg_len == 5 && c->msg_off == strlen(APPEND_HEAD));
	done(c);
	c = parse("x APPEND INBOX {3}\r\nabc", 0, E(OK));
	CHECK(!c->has_flags && !c->has_date && c->msg_len == 3);
	done(c);
}

/* The child list of node n as key names, for comparing trees. */
static void
tree(const struct imap_cmd *c, int16_t n, struct buf *b)
{
	static const char *const names[IMAP_K_COUNT] = {
		[IMAP_K_AND] = "AND", [IMAP_K_OR] = "OR", [IMAP_K_NOT] = "NOT",
		[IMAP_K_FROM] = "FROM", [IMAP_K_TO] = "TO", [IMAP_K_SEEN] = "SEEN",
		[IMAP_K_SEQSET] = "SET", [IMAP_K_UID] = "UID", [IMAP_K_HEADER] = "HEADER",
		[IMAP_K_SINCE] = "SINCE", [IMAP_K_LARGER] = "LARGER",
		[IMAP_K_FLAGGED] = "FLAGGED", [IMAP_K_KEYWORD] = "KEYWORD",
	};
	const struct imap_snode *k = &c->search[n];

	if (buf_puts(b, names[k->key] ? names[k->key] : "?") == -1)
		abort();
	if (k->child == -1)
		return;
	if (buf_putc(b, '(') == -1)
		abort();
	for (int16_t ch = k->child; ch != -1; ch = c->search[ch].next) {
		tree(c, ch, b);
		if (c->search[ch].next != -1 && buf_putc(b, ' ') == -1)
			abort();
	}
	if (buf_putc(b, ')') == -1)
		abort();
}

static void
check_tree(const char *line, const char *want)
{
	struct imap_cmd *c = parse(line, 0, E(OK));
	struct buf b = BUF_INIT(4096);

	tree(c, 0, &b);
	CHECK_STR(buf_cstr(&b), want);
	buf_free(&b);
	done(c);
}

static void
test_search(void)
{
	struct imap_cmd *c;
	const struct imap_snode *k;

	check_tree("a SEARCH SEEN", "AND(SEEN)");
	check_tree("a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
	    "AND(FLAGGED SINCE NOT(FROM))");
	check_tree("a SEARCH OR (FROM a TO b) NOT (SEEN 1:5) UID 3,4:*",
	    "AND(OR(AND(FROM TO) NOT(AND(SEEN SET))) UID)");
	check_tree("a SEARCH OR OR SEEN FLAGGED NOT NOT SEEN ((SEEN))",
	    "AND(OR(OR(SEEN FLAGGED) NOT(NOT(SEEN))) AND(AND(SEEN)))");
	c = parse("a SEARCH CHARSET UTF-8 HEADER \"X-Spam\" yes LARGER 1024 "
	    "SINCE \"9-Sep-2009\" KEYWORD $Junk", 0, E(OK));
	CHECK_STR(imap_str(c, c->charset), "UTF-8");
	k = &c->search[c->search[0].child];
	CHECK(k->key == IMAP_K_HEADER);
	CHECK_STR(imap_str(c, k->str), "X-Spam");
	CHECK_STR(imap_str(c, k->str2), "yes");
	k = &c->search[k->next];
	CHECK(k->key == IMAP_K_LARGER && k->num == 1024);
	k = &c->search[k->next];
	CHECK(k->key == IMAP_K_SINCE && k->date.day == 9 && k->date.mon == 9);
	CHECK(k->date.year == 2009);
	k = &c->search[k->next];
	CHECK(k->key == IMAP_K_KEYWORD && k->next == -1);
	CHECK_STR(imap_str(c, k->str), "$Junk");
	done(c);
	c = parse("a SEARCH CHARSET \"US-ASCII\" ALL", 0, E(OK));
	CHECK_STR(imap_str(c, c->charset), "US-ASCII");
	done(c);
	c = parse("a SEARCH ON 29-Feb-2000 ON 29-feb-2004", 0, E(OK));
	done(c);
}

/* Repeat unit n times between head and tail into a fresh buffer. */
static struct buf
rep(const char *head, const char *unit, size_t n, const char *tail)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	if (buf_puts(&b, head) == -1)
		abort();
	for (size_t i = 0; i < n; i++)
		if (buf_puts(&b, unit) == -1)
			abort();
	if (buf_puts(&b, tail) == -1)
		abort();
	return b;
}

static void
check_rep(const char *head, const char *unit, size_t n, const char *tail,
    enum imap_err want)
{
	struct buf b = rep(head, unit, n, tail);

	done(parse(b.data, b.len, want));
	buf_free(&b);
}

static void
test_limits(void)
{
	check_rep("a FETCH 1", ",1", IMAP_RANGES_MAX - 1, " UID", E(OK));
	check_rep("a FETCH 1", ",1", IMAP_RANGES_MAX, " UID", E(LIMIT));
	check_rep("a SEARCH 1", " 1:2,3", IMAP_RANGES_MAX / 2, "", E(LIMIT));
	check_rep("a FETCH 1 (UID", " UID", IMAP_FETCH_MAX - 1, ")", E(OK));
	check_rep("a FETCH 1 (UID", " UID", IMAP_FETCH_MAX, ")", E(LIMIT));
	check_rep("a STORE 1 FLAGS (a", " a", IMAP_FLAGS_MAX - 1, ")", E(OK));
	check_rep("a STORE 1 FLAGS (a", " a", IMAP_FLAGS_MAX, ")", E(LIMIT));
	check_rep("a STORE 1 FLAGS a", " a", IMAP_FLAGS_MAX, "", E(LIMIT));
	check_rep("a FETCH 1 BODY[HEADER.FIELDS (a", " a", IMAP_STRS_MAX - 1, ")]", E(OK));
	check_rep("a FETCH 1 BODY[HEADER.FIELDS (a", " a", IMAP_STRS_MAX, ")]", E(LIMIT));
	check_rep("a ENABLE a", " a", IMAP_STRS_MAX, "", E(LIMIT));
	check_rep("a ID (", "\"a\" NIL ", 30, "\"a\" NIL)", E(LIMIT));
	check_rep("a ID (\"a\" NIL", " \"a\" NIL", 29, ")", E(OK));
	check_rep("a SEARCH SEEN", " SEEN", IMAP_SEARCH_MAX - 2, "", E(OK));
	check_rep("a SEARCH SEEN", " SEEN", IMAP_SEARCH_MAX - 1, "", E(LIMIT));
	/* depth: NOT and parentheses each count one level */
	check_rep("a SEARCH ", "NOT ", IMAP_DEPTH_MAX - 1, "SEEN", E(OK));
	check_rep("a SEARCH ", "NOT ", IMAP_DEPTH_MAX, "SEEN", E(DEPTH));
	check_rep("a SEARCH ", "(", IMAP_DEPTH_MAX - 1, "SEEN", E(MISSING));
	check_rep("a SEARCH ", "(", IMAP_DEPTH_MAX, "SEEN", E(DEPTH));
	check_rep("a SEARCH ", "OR SEEN ", IMAP_DEPTH_MAX, "SEEN", E(DEPTH));
	check_rep("a SEARCH ", "(", 1000000, "", E(DEPTH));
	check_rep("a SEARCH ", "NOT ", 1000000, "", E(DEPTH));
	/* big inputs: a 1 MB atom, a 1 MB quoted string, deep FETCH parens */
	check_rep("a LOGIN ", "x", 1000000, " y", E(OK));
	check_rep("a LOGIN \"", "\\\"", 500000, "\" y", E(OK));
	check_rep("a FETCH 1 ", "(", 100000, "", E(FETCH));
	check_rep("a FETCH ", "1,", 1000000, "1 UID", E(LIMIT));
}

/* Every octet after a valid prefix: none may crash; exactly the valid
 * completions are accepted. */
static void
test_octets(void)
{
	static const char *const pre[] = { "", "a", "a ", "a LOGIN ", "a LOGIN \"",
	    "a FETCH 1 ", "a FETCH 1 BODY[", "a SEARCH ", "a STORE 1 FLAGS (",
	    "a LOGIN {", "a SEARCH SINCE 1-" };
	char line[64];

	for (size_t p = 0; p < sizeof(pre) / sizeof(pre[0]); p++)
		for (int o = 0; o < 256; o++) {
			size_t n = strlen(pre[p]);
			struct imap_cmd *c = malloc(sizeof(*c));

			if (c == NULL)
				abort();
			memcpy(line, pre[p], n);
			line[n] = (char)o;
			int ok = (p == 6 && o == ']') || (p == 8 && o == ')') ||
			    (p == 7 && (o == '*' || (o >= '1' && o <= '9')));

			CHECK((imap_cmd_parse(line, n + 1, c) == E(OK)) == ok);
			imap_cmd_free(c);
			free(c);
		}
}

#define L(x) (x), strlen(x)

/* Feed a command line by line through the reader as a server would. */
static void
test_reader(void)
{
	struct imap_reader r;
	enum imap_err e;

	imap_reader_init(&r, 1000, 100);
	CHECK(imap_reader_line(&r, L("a NOOP"), &e) == IMAP_R_DONE && e == E(OK));
	CHECK(r.total == 8);
	imap_reader_init(&r, 1000, 100);
	CHECK(imap_reader_line(&r, L("a LOGIN {4}"), &e) == IMAP_R_LITERAL);
	CHECK(r.lit_len == 4 && r.lit_sync);
	CHECK(imap_reader_line(&r, L(" {3+}"), &e) == IMAP_R_LITERAL);
	CHECK(r.lit_len == 3 && !r.lit_sync);
	CHECK(imap_reader_line(&r, L(""), &e) == IMAP_R_DONE);
	CHECK(r.total == 13 + 4 + 7 + 3 + 2);
	/* braces inside a quoted string are not a literal */
	imap_reader_init(&r, 1000, 100);
	CHECK(imap_reader_line(&r, L("a LOGIN \"{4}\""), &e) == IMAP_R_DONE);
	CHECK(imap_reader_line(&r, L("a LOGIN \"\\\"{4}\""), &e) == IMAP_R_DONE);
	CHECK(imap_reader_line(&r, L("a LOGIN \"\\\\\" {4}"), &e) == IMAP_R_LITERAL);
	CHECK(imap_reader_line(&r, L("a LOGIN \"x {4}"), &e) == IMAP_R_DONE);
	CHECK(imap_reader_line(&r, L("a LOGIN x}"), &e) == IMAP_R_DONE);
	CHECK(imap_reader_line(&r, L("a LOGIN \"{\" x}"), &e) == IMAP_R_DONE);
	CHECK(imap_reader_line(&r, L("a LOGIN {3} x}"), &e) == IMAP_R_DONE);
	CHECK(imap_reader_line(&r, L("}"), &e) == IMAP_R_DONE);
	CHECK(imap_reader_line(&r, L("a LOGIN \"x\" {2}"), &e) == IMAP_R_LITERAL);
	CHECK(r.lit_len == 2 && r.lit_sync);
	CHECK(imap_reader_line(&r, L("{0+}"), &e) == IMAP_R_LITERAL);
	CHECK(r.lit_len == 0 && !r.lit_sync);
	/* malformed announcements */
	imap_reader_init(&r, 1000, 100);
	CHECK(imap_reader_line(&r, L("a LOGIN {}"), &e) == IMAP_R_ERROR && e == E(LITERAL));
	CHECK(imap_reader_line(&r, L("a LOGIN {+}"), &e) == IMAP_R_ERROR && e == E(LITERAL));
	CHECK(imap_reader_line(&r, L("a LOGIN {1x}"), &e) == IMAP_R_ERROR && e == E(LITERAL));
	CHECK(imap_reader_line(&r, L("a LOGIN {4294967296}"), &e) == IMAP_R_ERROR);
	CHECK(e == E(LITERAL));
	CHECK(imap_reader_line(&r, L("a LOGIN {1++}"), &e) == IMAP_R_ERROR && e == E(LITERAL));
	CHECK(imap_reader_line(&r, L("a LOGIN {+1}"), &e) == IMAP_R_ERROR && e == E(LITERAL));
	CHECK(imap_reader_line(&r, L("a LOGIN { 1}"), &e) == IMAP_R_ERROR && e == E(LITERAL));
	CHECK(imap_reader_line(&r, L("a LOGIN {"), &e) == IMAP_R_DONE);
	CHECK(imap_reader_line(&r, L("{1}"), &e) == IMAP_R_LITERAL);
	/* limits: literal, whole command, number of literals */
	imap_reader_init(&r, 1000, 100);
	CHECK(imap_reader_line(&r, L("a LOGIN {100}"), &e) == IMAP_R_LITERAL);
	CHECK(imap_reader_line(&r, L(" {101+}"), &e) == IMAP_R_ERROR && e == E(TOOBIG));
	CHECK(r.lit_len == 101 && !r.lit_sync);
	imap_reader_init(&r, 100, 1000);
	CHECK(imap_reader_line(&r, L("a LOGIN {89}"), &e) == IMAP_R_ERROR && e == E(TOOBIG));
	imap_reader_init(&r, 100, 1000);
	CHECK(imap_reader_line(&r, L("a LOGIN {84}"), &e) == IMAP_R_LITERAL);
	CHECK(imap_reader_line(&r, L(""), &e) == IMAP_R_DONE);
	CHECK(r.total == 100);
	imap_reader_init(&r, 100, 1000);
	CHECK(imap_reader_line(&r, L("a LOGIN {84}"), &e) == IMAP_R_LITERAL);
	CHECK(imap_reader_line(&r, L("x"), &e) == IMAP_R_ERROR && e == E(TOOLONG));
	imap_reader_init(&r, 10, 10);
	CHECK(imap_reader_line(&r, L("a NOOP 123"), &e) == IMAP_R_ERROR && e == E(TOOLONG));
	imap_reader_init(&r, 1000000, 10);
	for (int i = 0; i < IMAP_LITERALS_MAX; i++)
		CHECK(imap_reader_line(&r, L(" {1}"), &e) == IMAP_R_LITERAL);
	CHECK(imap_reader_line(&r, L(" {1}"), &e) == IMAP_R_ERROR && e == E(LIMIT));
	imap_reader_init(&r, (size_t)-1, (size_t)-1);
	CHECK(imap_reader_line(&r, L("a {4294967295}"), &e) == IMAP_R_LITERAL);
	CHECK(r.lit_len == 4294967295u);
}

static void
check_mutf7(const char *in, const char *want)
{
	struct buf b = BUF_INIT(1024);
	int ok = imap_mutf7_decode(in, strlen(in), &b);

	CHECK(ok == (want != NULL));
	if (want != NULL)
		CHECK_STR(buf_cstr(&b), want);
	else if (ok)
		fprintf(stderr, "  mutf7 \"%s\" accepted as \"%s\"\n", in, buf_cstr(&b));
	buf_free(&b);
}

static void
test_mutf7(void)
{
	check_mutf7("INBOX", "INBOX");
	check_mutf7("", "");
	check_mutf7("&-", "&");
	check_mutf7("a&-b&-", "a&b&");
	check_mutf7("Entw&APw-rfe", "Entw\xc3\xbcrfe");
	check_mutf7("&Jjo-!", "\xe2\x98\xba!");
	check_mutf7("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	    "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	check_mutf7("&2D3eAA-", "\xf0\x9f\x98\x80");
	check_mutf7("&AOQA9gD8-", "\xc3\xa4\xc3\xb6\xc3\xbc");
	check_mutf7("&", NULL);		/* unterminated */
	check_mutf7("&Jjo", NULL);
	check_mutf7("&Jjo-&Jjo-", NULL);	/* should have been one shift */
	check_mutf7("&AGE-", NULL);	/* "a" encoded */
	check_mutf7("&ACY-", NULL);	/* "&" encoded */
	check_mutf7("&Jj-", NULL);	/* 12 bits: no whole unit */
	check_mutf7("&Jjp-", NULL);	/* non-zero padding bits */
	check_mutf7("&Jjo=-", NULL);	/* base64 padding */
	check_mutf7("&Jj/-", NULL);	/* '/' is not in the alphabet */
	check_mutf7("&2D0-", NULL);	/* lone high surrogate */
	check_mutf7("&3gA-", NULL);	/* lone low surrogate */
	check_mutf7("&2D3YPQ-", NULL);	/* high followed by high */
	check_mutf7("&2D0AYQ-", NULL);	/* high followed by 'a' */
	check_mutf7("&AAA-", NULL);	/* U+0000 */
	check_mutf7("&AB8-", NULL);	/* U+001F */
	check_mutf7("&AH8-", NULL);	/* U+007F */
	check_mutf7("&AJ8-", NULL);	/* U+009F */
	check_mutf7("&AKA-", "\xc2\xa0");
	check_mutf7("\xc3\xa4", NULL);	/* raw 8-bit */
	check_mutf7("a\tb", NULL);
	check_mutf7("a~b", "a~b");
	/* the output limit */
	{
		struct buf b = BUF_INIT(3);

		CHECK(imap_mutf7_decode("abc", 3, &b) == 1);
		buf_reset(&b);
		CHECK(imap_mutf7_decode("abcd", 4, &b) == 0);
		buf_reset(&b);
		CHECK(imap_mutf7_decode("&Jjo-a", 6, &b) == 0);
		buf_free(&b);
	}
}

static void
test_states(void)
{
	const enum imap_state N = IMAP_STATE_NOTAUTH, A = IMAP_STATE_AUTH,
	    S = IMAP_STATE_SELECTED;

	CHECK(imap_state_allows(N, V(CAPABILITY)) && imap_state_allows(A, V(NOOP)) &&
	    imap_state_allows(S, V(LOGOUT)) && imap_state_allows(N, V(ID)));
	CHECK(imap_state_allows(N, V(LOGIN)) && !imap_state_allows(A, V(LOGIN)));
	CHECK(imap_state_allows(N, V(AUTHENTICATE)) && !imap_state_allows(S, V(AUTHENTICATE)));
	CHECK(imap_state_allows(N, V(STARTTLS)) && !imap_state_allows(A, V(STARTTLS)));
	CHECK(!imap_state_allows(N, V(SELECT)) && imap_state_allows(A, V(SELECT)) &&
	    imap_state_allows(S, V(SELECT)));
	CHECK(!imap_state_allows(N, V(APPEND)) && imap_state_allows(S, V(APPEND)));
	CHECK(imap_state_allows(A, V(ENABLE)) && !imap_state_allows(S, V(ENABLE)));
	CHECK(imap_state_allows(A, V(IDLE)) && imap_state_allows(S, V(IDLE)));
	CHECK(!imap_state_allows(A, V(FETCH)) && imap_state_allows(S, V(FETCH)));
	CHECK(!imap_state_allows(A, V(EXPUNGE)) && imap_state_allows(S, V(EXPUNGE)));
	CHECK(!imap_state_allows(A, V(UNSELECT)) && imap_state_allows(S, V(MOVE)));
	CHECK(!imap_state_allows(S, V(UNKNOWN)) && !imap_state_allows(4, V(NOOP)));
	CHECK_STR(imap_verb_name(V(FETCH)), "FETCH");
	CHECK_STR(imap_verb_name(V(EXPUNGE)), "EXPUNGE");
	CHECK_STR(imap_verb_name(V(UNKNOWN)), "UNKNOWN");
	CHECK_STR(imap_verb_name(V(COUNT)), "UNKNOWN");
	for (int v = 1; v < IMAP_V_COUNT; v++)
		CHECK(strcmp(imap_verb_name(v), "UNKNOWN") != 0);
	for (int e = 0; e <= IMAP_E_COUNT; e++)
		CHECK(imap_err_str(e) != NULL && imap_err_str(e)[0] != '\0');
}

int
main(void)
{
	test_states();
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
	test_strings();
	test_seqset();
	test_fetch();
	test_store_append();
	test_search();
	test_limits();
	test_octets();
	test_reader();
	test_mutf7();
	return UNIT_DONE();
}
