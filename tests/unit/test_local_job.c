/* Unit tests for deliver/local_job.c (compiled in): strict validation of
 * the queue's job records (fields exactly as documented, one recipient, one
 * descriptor, no NUL bytes) and the Delivered-To: loop count. */
#include <fcntl.h>
#include <unistd.h>

#include "../../deliver/local_job.c"
#include "unit.h"

struct field {
	const char *k;
	const char *v;
	size_t len;	/* 0: strlen(v) */
};

/* Build a job from fields (NULL-terminated); nfds descriptors attached. */
static int
parse(const struct field *f, int nfds, struct local_job *j, const char **err)
{
	struct ipc_msg m;
	int r;

	ipc_msg_init(&m, IPC_DELIVER_JOB);
	for (; f->k != NULL; f++)
		if (ipc_put(&m, f->k, f->v, f->len ? f->len : strlen(f->v)) == -1)
			return -2;
	for (int i = 0; i < nfds; i++)
		if ((m.fds[m.nfds++] = open("/dev/null", O_RDONLY)) == -1)
			return -2;
	r = local_job_parse(&m, j, err);
	ipc_msg_free(&m);	/* closes the descriptors */
	return r;
}

#define GOOD_HEAD { "job", "17", 0 }, { "id", "0123456789ABCDEFGHJKL", 0 }, \
	{ "sender", "bob@example.org", 0 }, { "arrival", "1764856800", 0 }
#define GOOD_RCPT { "rcpt", "alice@example.test", 0 }, { "orcpt", "", 0 }

static void
test_good(void)
{
	const struct field f1[] = { GOOD_HEAD, GOOD_RCPT, { NULL, NULL, 0 } };
	const struct field f2[] = { { "job", "1", 0 }, { "id", "X", 0 }, { "sender", "", 0 },
		{ "envid", "abc", 0 }, { "ret", "hdrs", 0 }, { "body", "8bitmime", 0 },
		{ "smtputf8", "1", 0 }, { "arrival", "0", 0 },
		{ "rcpt", "J\xc3\xb6rg@example.test", 0 },
		{ "orcpt", "rfc822;J\xc3\xb6rg@example.test", 0 }, { NULL, NULL, 0 } };
	struct local_job j;
	const char *err = NULL;

	CHECK(parse(f1, 1, &j, &err) == 1);
	CHECK_STR(j.tag, "17");
	CHECK_STR(j.id, "0123456789ABCDEFGHJKL");
	CHECK_STR(j.sender, "bob@example.org");
	CHECK_STR(j.rcpt.addr, "alice@example.test");
	CHECK_STR(j.rcpt.domain, "example.test");
	CHECK_STR(j.orcpt, "");
	CHECK(j.arrival == 1764856800);
	CHECK(parse(f2, 1, &j, &err) == 1);
	CHECK_STR(j.sender, "");
	CHECK_STR(j.orcpt, "rfc822;J\xc3\xb6rg@example.test");
}

static void
test_bad(void)
{
	static const struct {
		const char *why;
		struct field f[12];
		int nfds;
	} t[] = {
		{ "no fd", { GOOD_HEAD, GOOD_RCPT }, 0 },
		{ "two fds", { GOOD_HEAD, GOOD_RCPT }, 2 },
		{ "no rcpt", { GOOD_HEAD, { "orcpt", "", 0 } }, 1 },
		{ "no orcpt", { GOOD_HEAD, { "rcpt", "a@example.test", 0 } }, 1 },
		{ "two rcpts", { GOOD_HEAD, GOOD_RCPT, GOOD_RCPT }, 1 },
		{ "no job", { { "id", "X", 0 }, { "sender", "", 0 }, { "arrival", "1", 0 },
		    GOOD_RCPT }, 1 },
		{ "no sender", { { "job", "1", 0 }, { "id", "X", 0 }, { "arrival", "1", 0 },
		    GOOD_RCPT }, 1 },
		{ "unknown", { GOOD_HEAD, GOOD_RCPT, { "owner", "root", 0 } }, 1 },
		{ "twice", { GOOD_HEAD, { "id", "Y", 0 }, GOOD_RCPT }, 1 },
		{ "job tag", { { "job", "1a", 0 }, { "id", "X", 0 }, { "sender", "", 0 },
		    { "arrival", "1", 0 }, GOOD_RCPT }, 1 },
		{ "long tag", { { "job", "123456789012345678901", 0 }, { "id", "X", 0 },
		    { "sender", "", 0 }, { "arrival", "1", 0 }, GOOD_RCPT }, 1 },
		{ "id dot", { { "job", "1", 0 }, { "id", ".x", 0 }, { "sender", "", 0 },
		    { "arrival", "1", 0 }, GOOD_RCPT }, 1 },
		{ "id slash", { { "job", "1", 0 }, { "id", "a/b", 0 }, { "sender", "", 0 },
		    { "arrival", "1", 0 }, GOOD_RCPT }, 1 },
		{ "NUL rcpt", { GOOD_HEAD, { "rcpt", "a\0b@example.test", 16 },
		    { "orcpt", "", 0 } }, 1 },
		{ "NUL sender", { { "job", "1", 0 }, { "id", "X", 0 },
		    { "sender", "a\0@b.example", 12 }, { "arrival", "1", 0 }, GOOD_RCPT }, 1 },
		{ "bad rcpt", { GOOD_HEAD, { "rcpt", "a b@example.test", 0 },
		    { "orcpt", "", 0 } }, 1 },
		{ "literal", { GOOD_HEAD, { "rcpt", "a@[192.0.2.1]", 0 }, { "orcpt", "", 0 } }, 1 },
		{ "no domain", { GOOD_HEAD, { "rcpt", "postmaster", 0 }, { "orcpt", "", 0 } }, 1 },
		{ "bad ret", { GOOD_HEAD, { "ret", "all", 0 }, GOOD_RCPT }, 1 },
		{ "bad body", { GOOD_HEAD, { "body", "8bit", 0 }, GOOD_RCPT }, 1 },
		{ "bad utf8", { GOOD_HEAD, { "smtputf8", "yes", 0 }, GOOD_RCPT }, 1 },
		{ "arrival", { { "job", "1", 0 }, { "id", "X", 0 }, { "sender", "", 0 },
		    { "arrival", "-1", 0 }, GOOD_RCPT }, 1 },
		{ "orcpt", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "orcpt", "no-semicolon", 0 } }, 1 },
		{ "orcpt ctl", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "orcpt", "rfc822;a\r\n@b", 0 } }, 1 },
	};
	struct local_job j;
	const char *err;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err = NULL;
		if (parse(t[i].f, t[i].nfds, &j, &err) != 0 || err == NULL)
			fprintf(stderr, "case '%s' accepted\n", t[i].why);
		CHECK(parse(t[i].f, t[i].nfds, &j, &err) == 0 && err != NULL);
	}
}

static void
test_wrong_type(void)
{
	struct ipc_msg m;
	struct local_job j;
	const char *err;

	ipc_msg_init(&m, IPC_DELIVER_RESULT);
	CHECK(local_job_parse(&m, &j, &err) == 0);
	ipc_msg_free(&m);
}

static void
test_delivered_to(void)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int i;

	CHECK(local_count_delivered_to("", 0) == 0);
	CHECK(local_count_delivered_to("Delivered-To: a\r\n\r\n", 19) == 1);
	CHECK(local_count_delivered_to("delivered-to:a\nDELIVERED-TO: b\n\nDelivered-To: c\n",
	    48) == 2);
	/* only the header counts; X-Delivered-To does not */
	CHECK(local_count_delivered_to("X-Delivered-To: a\r\n\r\nDelivered-To: b\r\n", 39) == 0);
	CHECK(local_count_delivered_to("Delivered-To", 12) == 0);
	for (i = 0; i < 150; i++)
		CHECK(buf_puts(&b, "Delivered-To: x@example.test\r\n") == 0);
	CHECK(local_count_delivered_to(b.data, b.len) == LOCAL_LOOP_MAX);
	buf_reset(&b);
	for (i = 0; i < 99; i++)
		CHECK(buf_puts(&b, "Received: x\r\nDelivered-To: x@example.test\r\n") == 0);
	CHECK(local_count_delivered_to(b.data, b.len) == 99);
	buf_free(&b);
}

int
main(void)
{
	test_good();
	test_bad();
	test_wrong_type();
	test_delivered_to();
	return UNIT_DONE();
}
