/* Unit tests for the pure checks of common/login.c that master, the login
 * processes and the mail processes share: tags, login names and the
 * per-user session slots; and for the session both login processes run
 * (common/login_conn.c) over a socketpair: line limits, the count of
 * invalid commands, the deadline, the outcomes of a credentials check.
 * (The PLAIN decoder is tested in test_pop3_cmd.c.) */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "login.h"
#include "login_conn.h"
#include "unit.h"
#include "util.h"

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
 * again; mailboxes (directories) do not share slots. */
static void
test_slots(void)
{
	char tmpl[] = "/tmp/test_login.XXXXXX", alice[64], bob[64], cmd[64];
	const char *err;
	int fds[3], other, again;

	if (mkdtemp(tmpl) == NULL ||
	    str_format(alice, sizeof(alice), "%s/alice", tmpl) == -1 ||
	    str_format(bob, sizeof(bob), "%s/bob", tmpl) == -1 ||
	    mkdir(alice, 0700) == -1 || mkdir(bob, 0700) == -1)
		abort();
	CHECK(login_user_slot(alice, 2, &fds[0], &err) == 1);
	CHECK(login_user_slot(alice, 2, &fds[1], &err) == 1);
	CHECK(fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1]);
	CHECK(login_user_slot(alice, 2, &fds[2], &err) == 0);
	CHECK(fds[2] == -1);
	CHECK_STR(err, "too many sessions for this user");
	CHECK(login_user_slot(bob, 2, &other, &err) == 1);
	close(fds[0]);
	CHECK(login_user_slot(alice, 2, &again, &err) == 1);
	close(again);
	close(fds[1]);
	close(other);
	CHECK(login_user_slot("/nonexistent/dir", 2, &again, &err) == -1);
	if (str_format(cmd, sizeof(cmd), "rm -rf %s", tmpl) == -1 || system(cmd) != 0) {
		/* best effort */
	}
}

/* ---- login_conn, with a protocol whose words are "BAD " and "BYE " ---- */

static void
t_init(struct login_conn *c)
{
	c->idle_ms = 10000;
	c->session_ms = 60000;
	c->plaintext = PLAINTEXT_NO;
}

static void
t_nothing(struct login_conn *c)
{
}

static void
t_bad(struct login_conn *c, const char *text)
{
	login_conn_reply(c, "BAD %s", text);
}

static const struct login_proto t_proto = {
	.prog = "test-login", .service = "test", .service_tls = "tests", .bye = "BYE ",
	.line_max = 64, .init = t_init, .greeting = t_nothing, .command = t_nothing,
	.bad = t_bad, .unavailable = t_nothing, .free = t_nothing,
};

/* A session on one end of a socketpair; the test is the client on *peer. */
static void
t_open(struct login_conn *c, struct config *cf, int *peer)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	memset(cf, 0, sizeof(*cf));
	login_conn_init(c, cf, &t_proto);
	lineio_init(&c->io, sv[0], login_conn_timeout_ms(c));
	*peer = sv[1];
}

static void
t_close(struct login_conn *c, int peer)
{
	close(c->io.fd);
	login_conn_free(c);
	close(peer);
}

static void
t_send(int peer, const char *s)
{
	if (write(peer, s, strlen(s)) != (ssize_t)strlen(s))
		abort();
}

/* What the session has written so far ("" if nothing). */
static const char *
t_recv(int peer)
{
	static char got[2048];
	ssize_t n = recv(peer, got, sizeof(got) - 1, MSG_DONTWAIT);

	got[n > 0 ? n : 0] = '\0';
	return got;
}

static void
test_conn_lines(void)
{
	struct login_conn c;
	struct config cf;
	char big[80];
	int peer;

	t_open(&c, &cf, &peer);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	t_send(peer, "abc\r\nxyz\n123456789\n1234567890\n");
	t_send(peer, big);
	t_send(peer, "\nok\r\n");
	CHECK(login_conn_read_line(&c, 10) == 1 && buf_eq(&c.line, "abc"));
	CHECK(login_conn_read_line(&c, 10) == 1 && buf_eq(&c.line, "xyz"));
	CHECK(login_conn_read_line(&c, 10) == 1 && buf_eq(&c.line, "123456789"));
	CHECK(login_conn_read_line(&c, 10) == 0);	/* 11 with its LF */
	CHECK(login_conn_read_line(&c, 10) == 0);	/* the rest skipped */
	CHECK(login_conn_read_line(&c, 10) == 1 && buf_eq(&c.line, "ok"));
	CHECK(!c.closing);
	shutdown(peer, SHUT_WR);
	CHECK(login_conn_read_line(&c, 10) == -1 && c.closing);
	CHECK_STR(t_recv(peer), "");			/* EOF is not answered */
	t_close(&c, peer);
}

static void
test_conn_bad(void)
{
	struct login_conn c;
	struct config cf;
	int peer, i;

	t_open(&c, &cf, &peer);
	for (i = 1; i < LOGIN_MAX_BAD; i++)
		login_conn_bad(&c, "no %d", i);
	CHECK(!c.closing && c.bad == LOGIN_MAX_BAD - 1);
	CHECK(login_conn_flush(&c) == 0);
	CHECK_STR(t_recv(peer), "BAD no 1\r\nBAD no 2\r\nBAD no 3\r\nBAD no 4\r\n"
	    "BAD no 5\r\nBAD no 6\r\nBAD no 7\r\nBAD no 8\r\nBAD no 9\r\n");
	login_conn_bad(&c, "no %d", i);
	CHECK(c.closing);
	CHECK_STR(t_recv(peer), "BYE Too many invalid commands\r\n");
	login_conn_reply(&c, "late");			/* closing: dropped */
	login_conn_bye(&c, "again");
	CHECK(login_conn_flush(&c) == 0);
	CHECK_STR(t_recv(peer), "");
	t_close(&c, peer);
}

static void
test_conn_deadline(void)
{
	struct login_conn c;
	struct config cf;
	int peer;

	t_open(&c, &cf, &peer);
	t_send(peer, "a line that is never read\r\n");
	c.deadline_ms = now_ms() - 1;
	CHECK(login_conn_timeout_ms(&c) >= 1);
	CHECK(login_conn_read_line(&c, 64) == -1 && c.closing);
	CHECK_STR(t_recv(peer), "BYE Session time limit exceeded\r\n");
	t_close(&c, peer);
}

/* Without auth (auth_fd -1) a well-formed login fails temporarily; a
 * malformed one is refused and counted up to LOGIN_MAX_TRIES. */
static void
test_conn_verify(void)
{
	struct login_conn c;
	struct config cf;
	int peer;

	t_open(&c, &cf, &peer);
	CHECK(login_conn_plaintext_ok(&c) == 0);
	c.in_tls = 1;
	CHECK(login_conn_plaintext_ok(&c) == 1);
	CHECK(login_conn_verify(&c, "LOGIN", "bob", 3, "pw", 2) == LOGIN_AUTH_TEMP);
	CHECK(login_conn_plain(&c, "AGJvYgBwdw==", 12) == LOGIN_AUTH_TEMP);
	CHECK(c.failures == 0 && !c.handoff && !c.closing);
	CHECK(login_conn_plain(&c, "!!", 2) == LOGIN_AUTH_INVALID);
	CHECK(login_conn_verify(&c, "LOGIN", "", 0, "pw", 2) == LOGIN_AUTH_REFUSED);
	CHECK(login_conn_verify(&c, "LOGIN", "bob", 3, "", 0) == LOGIN_AUTH_REFUSED);
	CHECK(login_conn_verify(&c, "LOGIN", "a\rb", 3, "pw", 2) == LOGIN_AUTH_LAST);
	CHECK(c.failures == LOGIN_MAX_TRIES && !c.handoff);
	t_send(peer, "*\r\n");
	CHECK(login_conn_read_line(&c, 64) == 1);
	CHECK(login_conn_plain_line(&c) == LOGIN_AUTH_CANCELLED);
	login_conn_wipe(&c);
	CHECK(c.line.data[0] == '\0' && c.io.in[0] == '\0');
	CHECK_STR(t_recv(peer), "");		/* the protocol answers, not this */
	t_close(&c, peer);
}

int
main(void)
{
	test_tag();
	test_name();
	test_slots();
	test_conn_lines();
	test_conn_bad();
	test_conn_deadline();
	test_conn_verify();
	return UNIT_DONE();
}
