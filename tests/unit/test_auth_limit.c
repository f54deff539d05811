/*
 * Unit tests for auth/auth_limit.c (failures per client address) and
 * auth/auth_token.c (one-time handoff tokens).
 */
#include "../../auth/auth_limit.c"
#include "../../auth/auth_token.c"
#include <stdio.h>
#include "unit.h"

static void
test_limit(void)
{
	struct auth_limit l;
	int i;

	auth_limit_init(&l, 3, 1000);
	CHECK(!auth_limit_blocked(&l, "127.0.0.5", 0));
	auth_limit_fail(&l, "127.0.0.5", 0);
	auth_limit_fail(&l, "127.0.0.5", 100);
	CHECK(!auth_limit_blocked(&l, "127.0.0.5", 100));
	auth_limit_fail(&l, "127.0.0.5", 200);
	CHECK(auth_limit_blocked(&l, "127.0.0.5", 200));
	CHECK(auth_limit_blocked(&l, "127.0.0.5", 999));
	CHECK(!auth_limit_blocked(&l, "127.0.0.6", 200));	/* per address */
	/* the window counts from the first failure */
	CHECK(!auth_limit_blocked(&l, "127.0.0.5", 1000));
	auth_limit_fail(&l, "127.0.0.5", 1000);		/* a new window */
	CHECK(!auth_limit_blocked(&l, "127.0.0.5", 1001));
	/* a full table forgets the oldest address, never refuses to count */
	for (i = 0; i < AUTH_LIMIT_SLOTS + 10; i++) {
		char a[32];

		CHECK(str_format(a, sizeof(a), "10.0.%d.%d", i / 256, i % 256) == 0);
		auth_limit_fail(&l, a, 2000 + i);
	}
	CHECK(l.n == AUTH_LIMIT_SLOTS);
	for (i = 0; i < 3; i++)
		auth_limit_fail(&l, "::1", 9000);
	CHECK(auth_limit_blocked(&l, "::1", 9000));
	auth_limit_free(&l);
}

static void
test_token(void)
{
	char t1[LOGIN_TOKEN_LEN + 1], t2[LOGIN_TOKEN_LEN + 1], user[USERDB_ADDR_MAX + 1];
	size_t i;
	int n, hex = 1;

	CHECK(auth_token_issue("a@example.test", "pop3", 0, t1) == 0);
	CHECK(auth_token_issue("b@example.test", "pop3", 0, t2) == 0);
	CHECK(strlen(t1) == LOGIN_TOKEN_LEN && strcmp(t1, t2) != 0);
	for (i = 0; i < LOGIN_TOKEN_LEN; i++)
		hex &= (t1[i] >= '0' && t1[i] <= '9') || (t1[i] >= 'a' && t1[i] <= 'f');
	CHECK(hex);
	/* once, for the right service only */
	CHECK(auth_token_redeem(t1, "pop3", 10, user) == 1);
	CHECK_STR(user, "a@example.test");
	CHECK(auth_token_redeem(t1, "pop3", 10, user) == 0);
	CHECK(auth_token_redeem(t2, "imap", 10, user) == 0);
	CHECK(auth_token_redeem(t2, "pop3", 10, user) == 0);	/* burnt */
	/* expiry */
	CHECK(auth_token_issue("c@example.test", "pop3", 0, t1) == 0);
	CHECK(auth_token_redeem(t1, "pop3", AUTH_TOKEN_TTL_MS, user) == 0);
	/* garbage */
	CHECK(auth_token_redeem("", "pop3", 0, user) == 0);
	CHECK(auth_token_redeem("0123", "pop3", 0, user) == 0);
	CHECK(auth_token_issue("d@example.test", "a-service-name-too-long", 0, t1) == -1);
	/* a full table refuses until tokens expire */
	for (n = 0; auth_token_issue("e@example.test", "pop3", 100, t1) == 0; n++)
		continue;
	CHECK(n == AUTH_TOKENS_MAX);
	CHECK(auth_token_issue("e@example.test", "pop3", 100 + AUTH_TOKEN_TTL_MS, t1) == 0);
}

int
main(void)
{
	test_limit();
	test_token();
	return UNIT_DONE();
}
