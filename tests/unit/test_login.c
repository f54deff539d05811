/* Unit tests for the pure checks of common/login.c that master, the login
 * processes and the mail processes share: tags, login names and the
 * per-user session slots.  (The PLAIN decoder is tested in
 * test_pop3_cmd.c.) */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "login.h"
#include "unit.h"

#define TAG(s) login_tag_valid(s, sizeof(s) - 1)

static void
test_tag(void)
{
	char big[LOGIN_TAG_MAX + 2];

	CHECK(TAG("a1") == 1);
	CHECK(TAG("A.001") == 1);
	CHECK(TAG("x]y") == 1);			/* resp-specials are ASTRING-CHARs */
	CHECK(TAG("~!#$&'-/:;<=>?@[^_`|") == 1);
	CHECK(TAG("") == 0);
	CHECK(TAG("a+b") == 0);			/* RFC 3501 9: not "+" */
	CHECK(TAG("a b") == 0);
	CHECK(TAG("a(") == 0 && TAG("a)") == 0 && TAG("a{") == 0);
	CHECK(TAG("a%") == 0 && TAG("a*") == 0);
	CHECK(TAG("a\"") == 0 && TAG("a\\") == 0);
	CHECK(TAG("a\r") == 0 && TAG("a\n") == 0 && TAG("a\x7f") == 0);
	CHECK(TAG("a\xc3\xa9") == 0);			/* 8-bit */
	CHECK(login_tag_valid("a\0b", 3) == 0);
	CHECK(login_tag_valid(NULL, 0) == 0);
	memset(big, 'a', sizeof(big));
	CHECK(login_tag_valid(big, LOGIN_TAG_MAX) == 1);
	CHECK(login_tag_valid(big, LOGIN_TAG_MAX + 1) == 0);
}

#define NAME(s) login_name_ok(s, sizeof(s) - 1)

static void
test_name(void)
{
	char big[LOGIN_USER_MAX + 2];

	CHECK(NAME("alice@example.test") == 1);
	CHECK(NAME("al ice") == 1);			/* auth judges the rest */
	CHECK(NAME("caf\xc3\xa9") == 1);
	CHECK(NAME("") == 0);
	CHECK(NAME("a\tb") == 0 && NAME("a\rb") == 0 && NAME("a\x7f") == 0);
	CHECK(login_name_ok("a\0b", 3) == 0);
	memset(big, 'a', sizeof(big));
	CHECK(login_name_ok(big, LOGIN_USER_MAX) == 1);
	CHECK(login_name_ok(big, LOGIN_USER_MAX + 1) == 0);
}

/* imap.max_sessions_per_user: max slots, then 0, a freed slot is taken
 * again; users do not share slots. */
static void
test_slots(void)
{
	char tmpl[] = "/tmp/test_login.XXXXXX", cmd[64];
	struct config c;
	const char *err;
	int fds[3], other, again;

	if (mkdtemp(tmpl) == NULL)
		abort();
	memset(&c, 0, sizeof(c));
	c.paths_runtime = tmpl;
	CHECK(login_user_slot(&c, "alice@example.test", 2, &fds[0], &err) == 1);
	CHECK(login_user_slot(&c, "alice@example.test", 2, &fds[1], &err) == 1);
	CHECK(fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1]);
	CHECK(login_user_slot(&c, "alice@example.test", 2, &fds[2], &err) == 0);
	CHECK(fds[2] == -1);
	CHECK_STR(err, "too many sessions for this user");
	CHECK(login_user_slot(&c, "bob@example.test", 2, &other, &err) == 1);
	close(fds[0]);
	CHECK(login_user_slot(&c, "alice@example.test", 2, &again, &err) == 1);
	close(again);
	close(fds[1]);
	close(other);
	c.paths_runtime = (char *)"/nonexistent/dir";
	CHECK(login_user_slot(&c, "alice@example.test", 2, &again, &err) == -1);
	if (str_format(cmd, sizeof(cmd), "rm -rf %s", tmpl) == -1 || system(cmd) != 0) {
		/* best effort */
	}
}

int
main(void)
{
	test_tag();
	test_name();
	test_slots();
	return UNIT_DONE();
}
