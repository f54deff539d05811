/* Unit tests for pop3d/pop3_cmd.c (compiled in): every verb good and bad,
 * separators, numbers at and past their limits, hostile octets, the state
 * table, and SASL PLAIN decoding. */
#include <stdlib.h>

#include "../../pop3d/pop3_cmd.c"
#include "base64.h"
#include "login.h"
#include "unit.h"

#define OK POP3_E_OK
#define UNK POP3_E_UNKNOWN
#define MISS POP3_E_MISSING
#define MANY POP3_E_TOOMANY
#define NUM POP3_E_NUMBER
#define LONG POP3_E_TOOLONG
#define CTRL POP3_E_CTRL
#define BAD POP3_E_BADARG

struct ct {
	const char *line;
	size_t len;		/* 0: strlen(line) */
	enum pop3_err err;
	enum pop3_verb verb;
	int has_num;
	uint32_t num, lines;
	const char *arg;	/* expected arg ("" if none) */
	const char *ir;		/* expected initial response, NULL: none */
};

static const struct ct cases[] = {
	/* no-argument verbs, case-insensitive, trailing SP tolerated */
	{ "CAPA", 0, OK, POP3_VERB_CAPA, 0, 0, 0, "", NULL },
	{ "capa", 0, OK, POP3_VERB_CAPA, 0, 0, 0, "", NULL },
	{ "StLs", 0, OK, POP3_VERB_STLS, 0, 0, 0, "", NULL },
	{ "QUIT ", 0, OK, POP3_VERB_QUIT, 0, 0, 0, "", NULL },
	{ "STAT  ", 0, OK, POP3_VERB_STAT, 0, 0, 0, "", NULL },
	{ "NOOP", 0, OK, POP3_VERB_NOOP, 0, 0, 0, "", NULL },
	{ "RSET", 0, OK, POP3_VERB_RSET, 0, 0, 0, "", NULL },
	{ "STAT 1", 0, MANY, POP3_VERB_STAT, 0, 0, 0, "", NULL },
	{ "QUIT now", 0, MANY, POP3_VERB_QUIT, 0, 0, 0, "", NULL },
	{ "CAPA x", 0, MANY, POP3_VERB_CAPA, 0, 0, 0, "", NULL },
	{ "STLS x", 0, MANY, POP3_VERB_STLS, 0, 0, 0, "", NULL },
	{ "NOOP x", 0, MANY, POP3_VERB_NOOP, 0, 0, 0, "", NULL },
	{ "RSET 1", 0, MANY, POP3_VERB_RSET, 0, 0, 0, "", NULL },
	/* unknown: other verbs, glued, leading SP, empty */
	{ "APOP mrose c4c9334bac560ecc979e58001b3e22fb", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "XTND XMIT", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "QUITX", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "RETR1", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "QUI", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ " QUIT", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ " ", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "\xc3\x9cSER x", 0, UNK, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	/* RETR / DELE: one number 1..2^31-1 */
	{ "RETR 1", 0, OK, POP3_VERB_RETR, 1, 1, 0, "", NULL },
	{ "retr 2147483647", 0, OK, POP3_VERB_RETR, 1, 2147483647u, 0, "", NULL },
	{ "RETR 007", 0, OK, POP3_VERB_RETR, 1, 7, 0, "", NULL },
	{ "RETR   3  ", 0, OK, POP3_VERB_RETR, 1, 3, 0, "", NULL },
	{ "DELE 42", 0, OK, POP3_VERB_DELE, 1, 42, 0, "", NULL },
	{ "RETR", 0, MISS, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR ", 0, MISS, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "DELE", 0, MISS, POP3_VERB_DELE, 0, 0, 0, "", NULL },
	{ "RETR 0", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR 000", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR -1", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR +1", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR 2147483648", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR 4294967297", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR 99999999999999999999", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR 1x", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR 0x10", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "RETR \xd9\xa1", 0, NUM, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "DELE 1.0", 0, NUM, POP3_VERB_DELE, 0, 0, 0, "", NULL },
	{ "RETR 1 2", 0, MANY, POP3_VERB_RETR, 0, 0, 0, "", NULL },
	{ "DELE 1 2 3", 0, MANY, POP3_VERB_DELE, 0, 0, 0, "", NULL },
	/* LIST / UIDL: optional number */
	{ "LIST", 0, OK, POP3_VERB_LIST, 0, 0, 0, "", NULL },
	{ "LIST ", 0, OK, POP3_VERB_LIST, 0, 0, 0, "", NULL },
	{ "list 5", 0, OK, POP3_VERB_LIST, 1, 5, 0, "", NULL },
	{ "UIDL", 0, OK, POP3_VERB_UIDL, 0, 0, 0, "", NULL },
	{ "UIDL 2147483647", 0, OK, POP3_VERB_UIDL, 1, 2147483647u, 0, "", NULL },
	{ "LIST 0", 0, NUM, POP3_VERB_LIST, 0, 0, 0, "", NULL },
	{ "UIDL -1", 0, NUM, POP3_VERB_UIDL, 0, 0, 0, "", NULL },
	{ "LIST 1 2", 0, MANY, POP3_VERB_LIST, 0, 0, 0, "", NULL },
	{ "UIDL 1 2 3", 0, MANY, POP3_VERB_UIDL, 0, 0, 0, "", NULL },
	/* TOP msg lines (lines may be 0) */
	{ "TOP 1 0", 0, OK, POP3_VERB_TOP, 1, 1, 0, "", NULL },
	{ "top 3 10", 0, OK, POP3_VERB_TOP, 1, 3, 10, "", NULL },
	{ "TOP 2147483647 2147483647", 0, OK, POP3_VERB_TOP, 1, 2147483647u, 2147483647u, "", NULL },
	{ "TOP  1   5 ", 0, OK, POP3_VERB_TOP, 1, 1, 5, "", NULL },
	{ "TOP", 0, MISS, POP3_VERB_TOP, 0, 0, 0, "", NULL },
	{ "TOP 1", 0, MISS, POP3_VERB_TOP, 0, 0, 0, "", NULL },
	{ "TOP 0 1", 0, NUM, POP3_VERB_TOP, 0, 0, 0, "", NULL },
	{ "TOP 1 -1", 0, NUM, POP3_VERB_TOP, 0, 0, 0, "", NULL },
	{ "TOP 1 +1", 0, NUM, POP3_VERB_TOP, 0, 0, 0, "", NULL },
	{ "TOP 1 2147483648", 0, NUM, POP3_VERB_TOP, 0, 0, 0, "", NULL },
	{ "TOP 1 2 3", 0, MANY, POP3_VERB_TOP, 0, 0, 0, "", NULL },
	/* USER: rest of line, SP trimmed, inner SP and 8-bit kept */
	{ "USER mrose", 0, OK, POP3_VERB_USER, 0, 0, 0, "mrose", NULL },
	{ "user  alice@example.test  ", 0, OK, POP3_VERB_USER, 0, 0, 0, "alice@example.test", NULL },
	{ "USER John Smith", 0, OK, POP3_VERB_USER, 0, 0, 0, "John Smith", NULL },
	{ "USER j\xc3\xbcrgen", 0, OK, POP3_VERB_USER, 0, 0, 0, "j\xc3\xbcrgen", NULL },
	{ "USER", 0, MISS, POP3_VERB_USER, 0, 0, 0, "", NULL },
	{ "USER   ", 0, MISS, POP3_VERB_USER, 0, 0, 0, "", NULL },
	{ "USER a\tb", 0, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "USER a\x7f", 0, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	/* PASS: verbatim after the one SP */
	{ "PASS secret", 0, OK, POP3_VERB_PASS, 0, 0, 0, "secret", NULL },
	{ "pass correct horse battery", 0, OK, POP3_VERB_PASS, 0, 0, 0, "correct horse battery", NULL },
	{ "PASS  lead and trail ", 0, OK, POP3_VERB_PASS, 0, 0, 0, " lead and trail ", NULL },
	{ "PASS   ", 0, OK, POP3_VERB_PASS, 0, 0, 0, "  ", NULL },
	{ "PASS p\xc3\xa4ss", 0, OK, POP3_VERB_PASS, 0, 0, 0, "p\xc3\xa4ss", NULL },
	{ "PASS", 0, MISS, POP3_VERB_PASS, 0, 0, 0, "", NULL },
	{ "PASS ", 0, MISS, POP3_VERB_PASS, 0, 0, 0, "", NULL },
	/* AUTH [mechanism [initial-response]] */
	{ "AUTH", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "", NULL },
	{ "AUTH ", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "", NULL },
	{ "AUTH PLAIN", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "PLAIN", NULL },
	{ "auth plain", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "PLAIN", NULL },
	{ "AUTH SCRAM-SHA-256", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "SCRAM-SHA-256", NULL },
	{ "AUTH PLAIN =", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "PLAIN", "" },
	{ "AUTH PLAIN AGFsaWNlAHNlY3JldA==", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "PLAIN",
	  "AGFsaWNlAHNlY3JldA==" },
	{ "AUTH PLAIN  AGFsaWNlAHNlY3JldA==  ", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "PLAIN",
	  "AGFsaWNlAHNlY3JldA==" },
	{ "AUTH PLAIN a b", 0, MANY, POP3_VERB_AUTH, 0, 0, 0, "", NULL },
	{ "AUTH PL@IN", 0, BAD, POP3_VERB_AUTH, 0, 0, 0, "", NULL },
	{ "AUTH ABCDEFGHIJKLMNOPQRSTU", 0, BAD, POP3_VERB_AUTH, 0, 0, 0, "", NULL },
	{ "AUTH ABCDEFGHIJKLMNOPQRST", 0, OK, POP3_VERB_AUTH, 0, 0, 0, "ABCDEFGHIJKLMNOPQRST", NULL },
	{ "AUTH \xc3\x9c", 0, BAD, POP3_VERB_AUTH, 0, 0, 0, "", NULL },
	/* hostile octets: NUL, CR, LF, other controls, anywhere */
	{ "QUIT\0", 5, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "PASS a\0b", 8, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "\0QUIT", 5, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "RETR 1\r", 0, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "USER a\rPASS b", 0, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "USER a\nDELE 1", 0, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "NOOP\x1b[2J", 0, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
	{ "RETR\t1", 0, CTRL, POP3_VERB_UNKNOWN, 0, 0, 0, "", NULL },
};

static void
check_case(const struct ct *t)
{
	struct pop3_cmd c;
	size_t len = t->len ? t->len : strlen(t->line);
	enum pop3_err e = pop3_cmd_parse(t->line, len, &c);

	CHECK(e == t->err);
	CHECK(c.verb == t->verb);
	CHECK(c.has_num == t->has_num);
	CHECK(c.num == t->num);
	CHECK(c.lines == t->lines);
	CHECK_STR(c.arg, t->arg);
	CHECK(c.arglen == strlen(t->arg));
	CHECK(c.has_ir == (t->ir != NULL));
	CHECK_STR(c.ir, t->ir != NULL ? t->ir : "");
	CHECK(c.irlen == strlen(c.ir));
	if (e != t->err)
		fprintf(stderr, "  line \"%s\": got %d (%s)\n", t->line, e, pop3_err_str(e));
	pop3_cmd_wipe(&c);
}

static void
test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* The line limit: POP3_CMD_MAX octets pass, one more and 1 MB do not. */
static void
test_length(void)
{
	size_t big = 1024 * 1024;
	char *l = malloc(big);
	struct pop3_cmd c;

	if (l == NULL)
		abort();
	memcpy(l, "PASS ", 5);
	memset(l + 5, 'x', big - 5);
	CHECK(pop3_cmd_parse(l, POP3_CMD_MAX, &c) == OK);
	CHECK(c.arglen == POP3_CMD_MAX - 5 && strlen(c.arg) == c.arglen);
	CHECK(pop3_cmd_parse(l, POP3_CMD_MAX + 1, &c) == LONG);
	CHECK(c.verb == POP3_VERB_UNKNOWN && c.arg[0] == '\0');
	CHECK(pop3_cmd_parse(l, big, &c) == LONG);
	memcpy(l, "USER ", 5);
	CHECK(pop3_cmd_parse(l, POP3_CMD_MAX, &c) == OK);
	CHECK(c.arglen == POP3_CMD_MAX - 5);
	memcpy(l, "RETR ", 5);
	memset(l + 5, '1', 250);
	CHECK(pop3_cmd_parse(l, 255, &c) == LONG);
	CHECK(pop3_cmd_parse(l, 253, &c) == NUM);
	/* binary junk: every octet value as a whole line */
	for (int i = 0; i < 256; i++) {
		char b = (char)i;

		CHECK(pop3_cmd_parse(&b, 1, &c) == ((i < 0x20 || i == 0x7f) ? CTRL : UNK));
	}
	for (size_t i = 0; i < big; i++)
		l[i] = (char)(i * 131 + 7);
	CHECK(pop3_cmd_parse(l, big, &c) == LONG);
	CHECK(pop3_cmd_parse(l, 200, &c) == CTRL);
	free(l);
}

/* A failed PASS leaves no password in the struct. */
static void
test_wipe(void)
{
	struct pop3_cmd c;

	CHECK(pop3_cmd_parse("PASS hunter2", 12, &c) == OK);
	CHECK_STR(c.arg, "hunter2");
	pop3_cmd_wipe(&c);
	CHECK(c.arg[0] == '\0' && c.arglen == 0 && c.verb == POP3_VERB_UNKNOWN);
	CHECK(pop3_cmd_parse("TOP 1 x", 7, &c) == NUM);
	CHECK(c.verb == POP3_VERB_TOP && c.has_num == 0 && c.num == 0);
}

static void
test_states(void)
{
	static const enum pop3_verb auth_only[] = {
		POP3_VERB_USER, POP3_VERB_PASS, POP3_VERB_AUTH, POP3_VERB_STLS };
	static const enum pop3_verb trans_only[] = {
		POP3_VERB_STAT, POP3_VERB_LIST, POP3_VERB_RETR, POP3_VERB_DELE,
		POP3_VERB_NOOP, POP3_VERB_RSET, POP3_VERB_TOP, POP3_VERB_UIDL };
	enum pop3_state A = POP3_STATE_AUTHORIZATION, T = POP3_STATE_TRANSACTION;

	for (size_t i = 0; i < sizeof(auth_only) / sizeof(auth_only[0]); i++)
		CHECK(pop3_state_allows(A, auth_only[i]) && !pop3_state_allows(T, auth_only[i]));
	for (size_t i = 0; i < sizeof(trans_only) / sizeof(trans_only[0]); i++)
		CHECK(!pop3_state_allows(A, trans_only[i]) && pop3_state_allows(T, trans_only[i]));
	CHECK(pop3_state_allows(A, POP3_VERB_CAPA) && pop3_state_allows(T, POP3_VERB_CAPA));
	CHECK(pop3_state_allows(A, POP3_VERB_QUIT) && pop3_state_allows(T, POP3_VERB_QUIT));
	CHECK(!pop3_state_allows(A, POP3_VERB_UNKNOWN) && !pop3_state_allows(T, POP3_VERB_UNKNOWN));
	CHECK(!pop3_state_allows(A, POP3_VERB_COUNT) && !pop3_state_allows((enum pop3_state)7, POP3_VERB_QUIT));
	/* every verb has a name that parses back to itself */
	for (int v = POP3_VERB_USER; v < POP3_VERB_COUNT; v++) {
		const struct pop3_verbdef *d = pop3_verbdef((enum pop3_verb)v);

		CHECK(d != NULL && d->verb == (enum pop3_verb)v);
		CHECK(strcmp(pop3_verb_name((enum pop3_verb)v), "UNKNOWN") != 0);
	}
	CHECK_STR(pop3_verb_name(POP3_VERB_UNKNOWN), "UNKNOWN");
	CHECK_STR(pop3_verb_name(POP3_VERB_TOP), "TOP");
	for (int e = 0; e <= POP3_E_COUNT; e++)
		CHECK(pop3_err_str((enum pop3_err)e) != NULL && pop3_err_str((enum pop3_err)e)[0] != '\0');
	CHECK_STR(pop3_err_str(POP3_E_NUMBER), "Invalid number");
}

/* Encode raw[0..n) and run login_sasl_plain with field arrays of size sz. */
static int
plain(const char *raw, size_t n, size_t sz, char *z, char *c, char *p)
{
	struct buf e = BUF_INIT(BUF_NOLIMIT);
	int r;

	if (base64_encode(raw, n, &e) == -1)
		abort();
	r = login_sasl_plain(e.data != NULL ? e.data : "", e.len, z, sz, c, sz, p, sz);
	buf_free(&e);
	return r;
}

#define PLAIN(s, sz) plain(s, sizeof(s) - 1, sz, z, c, p)

static void
test_plain(void)
{
	char z[64], c[64], p[64];

	CHECK(PLAIN("\0alice\0secret", 64) == 1);
	CHECK_STR(z, "");
	CHECK_STR(c, "alice");
	CHECK_STR(p, "secret");
	CHECK(PLAIN("alice\0alice\0pass word", 64) == 1);
	CHECK_STR(z, "alice");
	CHECK_STR(p, "pass word");
	CHECK(PLAIN("bob\0alice\0secret", 64) == 0);	/* proxy authzid */
	CHECK(c[0] == '\0' && p[0] == '\0' && z[0] == '\0');
	CHECK(PLAIN("alice\0Alice\0secret", 64) == 0);	/* case matters */
	CHECK(PLAIN("alicesecret", 64) == 0);		/* no NUL */
	CHECK(PLAIN("\0alicesecret", 64) == 0);		/* one NUL */
	CHECK(PLAIN("\0alice\0sec\0ret", 64) == 0);	/* three NULs */
	CHECK(PLAIN("\0\0secret", 64) == 0);		/* empty authcid */
	CHECK(PLAIN("\0alice\0", 64) == 0);		/* empty password */
	CHECK(PLAIN("\0\0", 64) == 0);
	CHECK(PLAIN("\0alice\0secret", 6) == 0);	/* password too long */
	CHECK(PLAIN("\0alicex\0secr", 6) == 0);	/* authcid needs 7 */
	CHECK(PLAIN("\0alic\0secre", 6) == 1);		/* 5 octets + NUL fit */
	CHECK_STR(c, "alic");
	CHECK(login_sasl_plain("", 0, z, 64, c, 64, p, 64) == 0);	/* "=" */
	CHECK(login_sasl_plain("AGFsaWNlAHNlY3JldA", 18, z, 64, c, 64, p, 64) == 0);
	CHECK(login_sasl_plain("AGFsaWNl AHNlY3JldA==", 21, z, 64, c, 64, p, 64) == 0);
	CHECK(login_sasl_plain("AGFsaWNlAHNlY3JldA==", 20, z, 64, c, 64, p, 64) == 1);
	CHECK(login_sasl_plain("AGFsaWNlAHNlY3JldA==", 20, z, 0, c, 64, p, 64) == 0);
	{
		size_t n = LOGIN_SASL_MAX + 4;
		char *big = malloc(n);

		if (big == NULL)
			abort();
		memset(big, 'A', n);
		CHECK(login_sasl_plain(big, n, z, 64, c, 64, p, 64) == 0);
		free(big);
	}
}

int
main(void)
{
	test_table();
	test_length();
	test_wipe();
	test_states();
	test_plain();
	return UNIT_DONE();
}
