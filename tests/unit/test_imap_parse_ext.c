/* Unit tests for the extension syntax of the IMAP command parser
 * (imapd/imap_{token,fetch,search,parse}.c, compiled in): CONDSTORE
 * (RFC 7162: FETCH MODSEQ and CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH
 * MODSEQ, SELECT (CONDSTORE), STATUS HIGHESTMODSEQ), ESEARCH (RFC 4731
 * SEARCH RETURN), LIST-EXTENDED / LIST-STATUS / SPECIAL-USE (RFC 5258,
 * 5819, 6154), and APPEND with an empty LITERAL+ message.  Valid forms,
 * hostile forms, limits and case-insensitivity; test_imap_parse.c has the
 * RFC 3501 base. */
#include <stdlib.h>

#include "../../imapd/imap_token.c"
#include "../../imapd/imap_fetch.c"
#include "../../imapd/imap_search.c"
#include "../../imapd/imap_parse.c"
#include "unit.h"
#include "imap_parse_cases.h"

#define MAXSEQ "9223372036854775807"	/* 2^63 - 1 */
#define OVERSEQ "9223372036854775808"	/* 2^63 */

static const struct ct cases[] = {
	/* FETCH MODSEQ and (CHANGEDSINCE n) */
	{ "a FETCH 1 MODSEQ", E(OK), V(FETCH) },
	{ "a FETCH 1:* (FLAGS modseq UID)", E(OK), V(FETCH) },
	{ "a FETCH 1 (FLAGS) (CHANGEDSINCE 12345)", E(OK), V(FETCH) },
	{ "a UID FETCH 1:* (FLAGS) (changedsince 1)", E(OK), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE " MAXSEQ ")", E(OK), V(FETCH) },
	{ "a FETCH 1 ALL (ChangedSince 0007)", E(OK), V(FETCH) },
	{ "a FETCH 1 BODY[] (CHANGEDSINCE 5)", E(OK), V(FETCH) },
	{ "a FETCH 1 MODSEQ.X", E(FETCH), V(FETCH) },
	{ "a FETCH 1 MODSEQ[]", E(TRAILING), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE " OVERSEQ ")", E(NUMBER), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE 18446744073709551616)", E(NUMBER), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE 99999999999999999999999999)", E(NUMBER), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE 0)", E(NUMBER), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE -1)", E(NUMBER), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE x)", E(NUMBER), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE)", E(SYNTAX), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE ", E(MISSING), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE 5", E(MISSING), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE 5 CHANGEDSINCE 6)", E(PARAM), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE 5 VANISHED)", E(PARAM), V(FETCH) },
	{ "a FETCH 1 FLAGS (VANISHED)", E(PARAM), V(FETCH) },
	{ "a FETCH 1 FLAGS ()", E(PARAM), V(FETCH) },
	{ "a FETCH 1 FLAGS (", E(MISSING), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE 5))", E(TRAILING), V(FETCH) },
	{ "a FETCH 1 FLAGS (CHANGEDSINCE 5) (CHANGEDSINCE 6)", E(TRAILING), V(FETCH) },
	{ "a FETCH 1 FLAGS  (CHANGEDSINCE 5)", E(TRAILING), V(FETCH) },
	{ "a FETCH 1 FLAGS(CHANGEDSINCE 5)", E(TRAILING), V(FETCH) },
	/* STORE (UNCHANGEDSINCE n) */
	{ "a STORE 1 (UNCHANGEDSINCE 12) +FLAGS (\\Seen)", E(OK), V(STORE) },
	{ "a STORE 1 (UNCHANGEDSINCE 0) FLAGS ()", E(OK), V(STORE) },
	{ "a UID STORE 1:* (unchangedsince " MAXSEQ ") -flags.silent \\Seen", E(OK), V(STORE) },
	{ "a STORE 1 (UNCHANGEDSINCE " OVERSEQ ") FLAGS ()", E(NUMBER), V(STORE) },
	{ "a STORE 1 (UNCHANGEDSINCE 12)", E(MISSING), V(STORE) },
	{ "a STORE 1 (UNCHANGEDSINCE 12)FLAGS ()", E(SYNTAX), V(STORE) },
	{ "a STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS ()", E(PARAM), V(STORE) },
	{ "a STORE 1 (CHANGEDSINCE 1) FLAGS ()", E(PARAM), V(STORE) },
	{ "a STORE 1 () FLAGS ()", E(PARAM), V(STORE) },
	{ "a STORE 1 (UNCHANGEDSINCE) FLAGS ()", E(SYNTAX), V(STORE) },
	{ "a STORE 1 FLAGS (x) (UNCHANGEDSINCE 1)", E(TRAILING), V(STORE) },
	/* SEARCH MODSEQ */
	{ "a SEARCH MODSEQ 0", E(OK), V(SEARCH) },
	{ "a SEARCH MODSEQ 620162338", E(OK), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338", E(OK), V(SEARCH) },
	{ "a UID SEARCH modseq \"/FLAGS/$Junk\" PRIV " MAXSEQ, E(OK), V(SEARCH) },
	{ "a SEARCH OR MODSEQ \"/flags/x\" shared 1 NOT MODSEQ 2 SEEN", E(OK), V(SEARCH) },
	{ "a SEARCH MODSEQ", E(MISSING), V(SEARCH) },
	{ "a SEARCH MODSEQ ", E(MISSING), V(SEARCH) },
	{ "a SEARCH MODSEQ x", E(NUMBER), V(SEARCH) },
	{ "a SEARCH MODSEQ -1", E(NUMBER), V(SEARCH) },
	{ "a SEARCH MODSEQ " OVERSEQ, E(NUMBER), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/\\\\draft\" 5", E(SEARCH), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/\\\\draft\" all", E(MISSING), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/\\\\draft\" any 5", E(SEARCH), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/\\\\draft\"  all 5", E(SEARCH), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/other/x\" all 5", E(SEARCH), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/\" all 5", E(SEARCH), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/\\\\\" all 5", E(SEARCH), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/a b\" all 5", E(SEARCH), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/a(\" all 5", E(SEARCH), V(SEARCH) },
	{ "a SEARCH MODSEQ \"/flags/x all 5", E(STRING), V(SEARCH) },
	{ "a SEARCH MODSEQ {9}\r\n/flags/\\x all 5", E(NUMBER), V(SEARCH) },
	{ "a SEARCH MODSEQ 5 6", E(OK), V(SEARCH) },	/* 6: a sequence set */
	{ "a SEARCH MODSEQ 5x", E(TRAILING), V(SEARCH) },
	/* SELECT / EXAMINE (CONDSTORE), STATUS HIGHESTMODSEQ */
	{ "a SELECT INBOX (CONDSTORE)", E(OK), V(SELECT) },
	{ "a EXAMINE \"a b\" (condstore)", E(OK), V(EXAMINE) },
	{ "a SELECT INBOX (CONDSTORE CONDSTORE)", E(OK), V(SELECT) },
	{ "a SELECT INBOX ()", E(PARAM), V(SELECT) },
	{ "a SELECT INBOX (QRESYNC (1 2))", E(PARAM), V(SELECT) },
	{ "a SELECT INBOX (CONDSTORE", E(MISSING), V(SELECT) },
	{ "a SELECT INBOX (CONDSTORE x)", E(PARAM), V(SELECT) },
	{ "a SELECT INBOX CONDSTORE", E(TRAILING), V(SELECT) },
	{ "a SELECT INBOX (CONDSTORE) x", E(TRAILING), V(SELECT) },
	{ "a SELECT INBOX(CONDSTORE)", E(TRAILING), V(SELECT) },
	{ "a CREATE x (CONDSTORE)", E(TRAILING), V(CREATE) },
	{ "a STATUS INBOX (HIGHESTMODSEQ)", E(OK), V(STATUS) },
	{ "a STATUS INBOX (messages HighestModSeq)", E(OK), V(STATUS) },
	{ "a STATUS INBOX (HIGHESTMODSEQ2)", E(STATUS), V(STATUS) },
	/* SEARCH RETURN */
	{ "a SEARCH RETURN (MIN MAX) UNSEEN", E(OK), V(SEARCH) },
	{ "a SEARCH RETURN () ALL", E(OK), V(SEARCH) },
	{ "a UID SEARCH RETURN (COUNT ALL) CHARSET UTF-8 TEXT x", E(OK), V(SEARCH) },
	{ "a search return (min min) seen", E(OK), V(SEARCH) },
	{ "a SEARCH RETURN (SAVE) ALL", E(RETURN), V(SEARCH) },
	{ "a SEARCH RETURN (MIN SAVE) ALL", E(RETURN), V(SEARCH) },
	{ "a SEARCH RETURN (PARTIAL 1:10) ALL", E(RETURN), V(SEARCH) },
	{ "a SEARCH RETURN (MIN)", E(MISSING), V(SEARCH) },
	{ "a SEARCH RETURN (MIN) ", E(MISSING), V(SEARCH) },
	{ "a SEARCH RETURN MIN ALL", E(RETURN), V(SEARCH) },
	{ "a SEARCH RETURN (MIN ALL", E(MISSING), V(SEARCH) },
	{ "a SEARCH RETURN (MIN  MAX) ALL", E(RETURN), V(SEARCH) },
	{ "a SEARCH RETURN (MIN)ALL", E(SYNTAX), V(SEARCH) },
	{ "a SEARCH RETURN ", E(MISSING), V(SEARCH) },
	{ "a SEARCH RETURN", E(SEARCH), V(SEARCH) },
	{ "a SEARCH CHARSET UTF-8 RETURN (MIN) ALL", E(SEARCH), V(SEARCH) },
	{ "a SEARCH RETURN (MIN) RETURN (MAX) ALL", E(SEARCH), V(SEARCH) },
	/* LIST-EXTENDED, LIST-STATUS, SPECIAL-USE */
	{ "a LIST (SUBSCRIBED) \"\" *", E(OK), V(LIST) },
	{ "a list (subscribed recursivematch) \"\" %", E(OK), V(LIST) },
	{ "a LIST (SPECIAL-USE RECURSIVEMATCH) \"\" *", E(OK), V(LIST) },
	{ "a LIST () \"\" *", E(OK), V(LIST) },
	{ "a LIST (REMOTE) \"\" (INBOX Sent* \"a b\" {1}\r\n%)", E(OK), V(LIST) },
	{ "a LIST \"\" % RETURN (CHILDREN)", E(OK), V(LIST) },
	{ "a LIST \"\" % return ()", E(OK), V(LIST) },
	{ "a LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN HIGHESTMODSEQ) SUBSCRIBED "
	    "SPECIAL-USE CHILDREN)", E(OK), V(LIST) },
	{ "a LIST (SPECIAL-USE) \"\" (a b) RETURN (SPECIAL-USE)", E(OK), V(LIST) },
	{ "a LIST (RECURSIVEMATCH) \"\" *", E(LIST), V(LIST) },
	{ "a LIST (REMOTE RECURSIVEMATCH) \"\" *", E(LIST), V(LIST) },
	{ "a LIST (FOO) \"\" *", E(LIST), V(LIST) },
	{ "a LIST (CHILDREN) \"\" *", E(LIST), V(LIST) },
	{ "a LIST (SUBSCRIBED \"\" *", E(LIST), V(LIST) },
	{ "a LIST (SUBSCRIBED", E(MISSING), V(LIST) },
	{ "a LIST (SUBSCRIBED)\"\" *", E(SYNTAX), V(LIST) },
	{ "a LIST ((SUBSCRIBED)) \"\" *", E(LIST), V(LIST) },
	{ "a LIST \"\" % RETURN (STATUS ())", E(STATUS), V(LIST) },
	{ "a LIST \"\" % RETURN (STATUS (SIZE))", E(STATUS), V(LIST) },
	{ "a LIST \"\" % RETURN (STATUS)", E(SYNTAX), V(LIST) },
	{ "a LIST \"\" % RETURN (STATUS (MESSAGES) STATUS (UNSEEN))", E(LIST), V(LIST) },
	{ "a LIST \"\" % RETURN (FOO)", E(LIST), V(LIST) },
	{ "a LIST \"\" % RETURN (REMOTE)", E(LIST), V(LIST) },
	{ "a LIST \"\" % RETURN CHILDREN", E(LIST), V(LIST) },
	{ "a LIST \"\" % RETURN (CHILDREN", E(MISSING), V(LIST) },
	{ "a LIST \"\" % RETURN", E(MISSING), V(LIST) },
	{ "a LIST \"\" % RETURNX", E(TRAILING), V(LIST) },
	{ "a LIST \"\" % RETURN () RETURN ()", E(TRAILING), V(LIST) },
	{ "a LIST \"\" % x", E(TRAILING), V(LIST) },
	{ "a LIST \"\" ()", E(STRING), V(LIST) },
	{ "a LIST \"\" (a", E(MISSING), V(LIST) },
	{ "a LIST \"\" (a (b))", E(STRING), V(LIST) },
	{ "a LIST \"\" (a)b", E(TRAILING), V(LIST) },
	{ "a LIST \"\" (a  b)", E(STRING), V(LIST) },
	{ "a LIST (SUBSCRIBED) (x) *", E(MAILBOX), V(LIST) },
	{ "a LSUB (SUBSCRIBED) \"\" *", E(MAILBOX), V(LSUB) },
	{ "a LSUB \"\" (a b)", E(STRING), V(LSUB) },
	{ "a LSUB \"\" * RETURN (CHILDREN)", E(TRAILING), V(LSUB) },
	/* APPEND with flags, date and an empty (non-synchronising) literal */
	{ "a APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 +0200\" {0+}\r\n", E(OK), V(APPEND) },
	{ "a APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 +0200\" {0}\r\n", E(OK), V(APPEND) },
	{ "a APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 +0200\" {0+}\r\nx",
	    E(TRAILING), V(APPEND) },
	{ "a APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 +0200\" {0+}", E(LITERAL), V(APPEND) },
	{ "a APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 +0200\" {1+}\r\n", E(LITERAL),
	    V(APPEND) },
};

static void
test_condstore(void)
{
	struct imap_cmd *c;
	const struct imap_snode *k;

	c = parse("a UID FETCH 1:* (FLAGS MODSEQ) (CHANGEDSINCE " MAXSEQ ")", 0, E(OK));
	CHECK(c->uid && c->nfetch == 2 && c->fetch[1].att == IMAP_F_MODSEQ);
	CHECK(c->has_changedsince && c->changedsince == (uint64_t)INT64_MAX);
	CHECK(!c->has_unchangedsince && !c->condstore);
	done(c);
	c = parse("a FETCH 1 FLAGS", 0, E(OK));
	CHECK(!c->has_changedsince && c->changedsince == 0);
	done(c);
	c = parse("a STORE 2:4 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)", 0, E(OK));
	CHECK(c->has_unchangedsince && c->unchangedsince == 320162338u);
	CHECK(c->store_op == IMAP_STORE_ADD && c->silent && c->nflags == 1 && c->set.n == 1);
	done(c);
	c = parse("a STORE 1 (UNCHANGEDSINCE 0) FLAGS ()", 0, E(OK));
	CHECK(c->has_unchangedsince && c->unchangedsince == 0);
	done(c);
	c = parse("a STORE 1 FLAGS ()", 0, E(OK));
	CHECK(!c->has_unchangedsince);
	done(c);
	c = parse("a SELECT inbox (CondStore)", 0, E(OK));
	CHECK(c->condstore);
	CHECK_STR(imap_str(c, c->a), "INBOX");
	done(c);
	c = parse("a EXAMINE INBOX", 0, E(OK));
	CHECK(!c->condstore);
	done(c);
	c = parse("a STATUS x (UIDNEXT HIGHESTMODSEQ)", 0, E(OK));
	CHECK(c->status == (IMAP_STATUS_UIDNEXT | IMAP_STATUS_HIGHESTMODSEQ));
	done(c);
	c = parse("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338 MODSEQ 0 "
	    "modseq \"/FLAGS/$x\" Priv 1 MODSEQ \"/flags/y\" SHARED 2", 0, E(OK));
	k = &c->search[c->search[0].child];
	CHECK(k->key == IMAP_K_MODSEQ && k->modseq == 620162338u);
	CHECK(k->entry == IMAP_ENTRY_ALL && k->child == -1);
	CHECK_STR(imap_str(c, k->str), "/flags/\\draft");
	k = &c->search[k->next];
	CHECK(k->key == IMAP_K_MODSEQ && k->modseq == 0 && k->entry == IMAP_ENTRY_NONE);
	CHECK(k->str.len == 0);
	k = &c->search[k->next];
	CHECK(k->entry == IMAP_ENTRY_PRIV && k->modseq == 1);
	CHECK_STR(imap_str(c, k->str), "/FLAGS/$x");
	k = &c->search[k->next];
	CHECK(k->entry == IMAP_ENTRY_SHARED && k->modseq == 2 && k->next == -1);
	done(c);
}

static void
test_esearch(void)
{
	struct imap_cmd *c;

	c = parse("a SEARCH RETURN (MIN MAX) UNSEEN", 0, E(OK));
	CHECK(c->has_return && c->search_ret == (IMAP_RET_MIN | IMAP_RET_MAX));
	CHECK(c->search[c->search[0].child].key == IMAP_K_UNSEEN);
	done(c);
	c = parse("a UID SEARCH return (count ALL) CHARSET US-ASCII FROM x", 0, E(OK));
	CHECK(c->uid && c->has_return && c->search_ret == (IMAP_RET_COUNT | IMAP_RET_ALL));
	CHECK_STR(imap_str(c, c->charset), "US-ASCII");
	done(c);
	c = parse("a SEARCH RETURN () 1:*", 0, E(OK));
	CHECK(c->has_return && c->search_ret == IMAP_RET_ALL);
	done(c);
	c = parse("a SEARCH RETURN (MIN MAX ALL COUNT MIN) ALL", 0, E(OK));
	CHECK(c->search_ret == 0x0f);
	done(c);
	c = parse("a SEARCH ALL", 0, E(OK));
	CHECK(!c->has_return && c->search_ret == 0);
	done(c);
}

static void
test_list(void)
{
	struct imap_cmd *c;

	/* the basic form: as before, plus the pattern in strs[0] */
	c = parse("a LIST \"~/Mail\" %", 0, E(OK));
	CHECK_STR(imap_str(c, c->a), "~/Mail");
	CHECK_STR(imap_str(c, c->b), "%");
	CHECK(!c->list_extended && c->nstrs == 1 && c->list_select == 0 && c->list_return == 0);
	CHECK(c->status == 0);
	done(c);
	c = parse("a LSUB \"\" *", 0, E(OK));
	CHECK_STR(imap_str(c, c->b), "*");
	CHECK(c->nstrs == 0 && !c->list_extended);
	done(c);
	c = parse("a LIST () \"\" %", 0, E(OK));
	CHECK(c->list_extended && c->list_select == 0 && c->nstrs == 1);
	done(c);
	c = parse("a LIST \"\" % RETURN ()", 0, E(OK));
	CHECK(c->list_extended && c->list_return == 0);
	done(c);
	c = parse("a LIST (Subscribed RecursiveMatch Remote) inbox (\"Sent Items\" {3+}\r\n"
	    "a/* Drafts) RETURN (Children Status (Messages HighestModSeq) special-use)",
	    0, E(OK));
	CHECK(c->list_extended);
	CHECK(c->list_select == (IMAP_LSEL_SUBSCRIBED | IMAP_LSEL_RECURSIVEMATCH |
	    IMAP_LSEL_REMOTE));
	CHECK(c->list_return == (IMAP_LRET_CHILDREN | IMAP_LRET_STATUS |
	    IMAP_LRET_SPECIAL_USE));
	CHECK(c->status == (IMAP_STATUS_MESSAGES | IMAP_STATUS_HIGHESTMODSEQ));
	CHECK_STR(imap_str(c, c->a), "INBOX");
	CHECK(c->nstrs == 3);
	CHECK_STR(imap_str(c, c->strs[0]), "Sent Items");
	CHECK_STR(imap_str(c, c->strs[1]), "a/*");
	CHECK_STR(imap_str(c, c->strs[2]), "Drafts");
	CHECK_STR(imap_str(c, c->b), "Sent Items");
	done(c);
	c = parse("a LIST (SPECIAL-USE) \"\" * RETURN (SUBSCRIBED)", 0, E(OK));
	CHECK(c->list_select == IMAP_LSEL_SPECIAL_USE);
	CHECK(c->list_return == IMAP_LRET_SUBSCRIBED && c->status == 0);
	done(c);
}

/* The empty APPEND literal, and LITERAL+ through the reader. */
static void
test_append_empty(void)
{
	static const char head[] = "a APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 +0200\" {0+}";
	struct imap_reader r;
	struct imap_cmd *c;
	enum imap_err e;
	char cmd[128];
	size_t n = strlen(head);

	imap_reader_init(&r, 1000, 100);
	CHECK(imap_reader_line(&r, head, n, &e) == IMAP_R_LITERAL);
	CHECK(r.lit_len == 0 && !r.lit_sync);
	CHECK(imap_reader_line(&r, "", 0, &e) == IMAP_R_DONE && e == E(OK));
	memcpy(cmd, head, n);
	memcpy(cmd + n, "\r\n", 2);
	c = parse(cmd, n + 2, E(OK));
	CHECK(c->has_flags && c->nflags == 1 && c->has_date && c->zone == 120);
	CHECK(c->msg_len == 0 && c->msg_off == n + 2);
	done(c);
}

/* Repeat unit n times between head and tail, then parse. */
static void
check_rep(const char *head, const char *unit, size_t n, const char *tail,
    enum imap_err want)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	if (buf_puts(&b, head) == -1)
		abort();
	for (size_t i = 0; i < n; i++)
		if (buf_puts(&b, unit) == -1)
			abort();
	if (buf_puts(&b, tail) == -1)
		abort();
	done(parse(b.data, b.len, want));
	buf_free(&b);
}

static void
test_limits(void)
{
	check_rep("a LIST \"\" (a", " a", IMAP_STRS_MAX - 1, ")", E(OK));
	check_rep("a LIST \"\" (a", " a", IMAP_STRS_MAX, ")", E(LIMIT));
	check_rep("a LIST (SUBSCRIBED", " REMOTE", 1000, ") \"\" *", E(OK));
	check_rep("a LIST \"\" * RETURN (CHILDREN", " SUBSCRIBED", 1000, ")", E(OK));
	check_rep("a SEARCH RETURN (MIN", " MAX", 1000, ") ALL", E(OK));
	check_rep("a SELECT x (CONDSTORE", " CONDSTORE", 1000, ")", E(OK));
	check_rep("a SEARCH MODSEQ 1", " MODSEQ 1", IMAP_SEARCH_MAX - 2, "", E(OK));
	check_rep("a SEARCH MODSEQ 1", " MODSEQ 1", IMAP_SEARCH_MAX - 1, "", E(LIMIT));
	check_rep("a SEARCH MODSEQ ", "0", 100000, "", E(OK));
	check_rep("a SEARCH MODSEQ ", "0", 100000, "1", E(OK));
	check_rep("a SEARCH MODSEQ 1", "0", 19, "", E(NUMBER));
	check_rep("a FETCH 1 FLAGS (CHANGEDSINCE 1", "0", 18, ")", E(OK));
	check_rep("a FETCH 1 FLAGS (CHANGEDSINCE 1", "0", 19, ")", E(NUMBER));
	check_rep("a STATUS x (MESSAGES", " HIGHESTMODSEQ", 1000, ")", E(OK));
}

int
main(void)
{
	check_cases(cases, sizeof(cases) / sizeof(cases[0]));
	test_condstore();
	test_esearch();
	test_list();
	test_append_empty();
	test_limits();
	for (int e = 0; e <= IMAP_E_COUNT; e++)
		CHECK(imap_err_str(e) != NULL && imap_err_str(e)[0] != '\0');
	return UNIT_DONE();
}
