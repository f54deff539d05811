/* Unit tests for deliver/agent_job.c and deliver/local_loop.c (compiled
 * in): strict validation of the queue's job records (fields exactly as
 * documented, recipients as rcpt/orcpt/notify triples of one domain, one
 * descriptor, no NUL bytes) and the Delivered-To: loop count. */
#include <fcntl.h>
#include <unistd.h>

#include "../../deliver/agent_job.c"
#include "../../deliver/local_loop.c"
#include "unit.h"

struct field {
	const char *k;
	const char *v;
	size_t len;	/* 0: strlen(v) */
};

/* Build a job from fields (NULL-terminated); nfds descriptors attached. */
static int
parse_max(const struct field *f, int nfds, size_t max, struct agent_job *j,
    const char **err)
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
	r = agent_job_parse(&m, max, j, err);
	ipc_msg_free(&m);	/* closes the descriptors not taken */
	if (r == 1 && j->fd < 0)
		return -3;
	return r;
}

/* Parse as the local agent does (one recipient); j is freed by the next
 * call or by free_job. */
static int
parse(const struct field *f, int nfds, struct agent_job *j, const char **err)
{
	return parse_max(f, nfds, 1, j, err);
}

#define GOOD_HEAD { "job", "17", 0 }, { "id", "0123456789ABCDEFGHJKL", 0 }, \
	{ "sender", "bob@example.org", 0 }, { "arrival", "1764856800", 0 }
#define GOOD_RCPT { "rcpt", "alice@example.test", 0 }, { "orcpt", "", 0 }, \
	{ "notify", "0", 0 }

static void
test_good(void)
{
	const struct field f1[] = { GOOD_HEAD, GOOD_RCPT, { NULL, NULL, 0 } };
	const struct field f2[] = { { "job", "1", 0 }, { "id", "X", 0 }, { "sender", "", 0 },
		{ "envid", "abc", 0 }, { "ret", "hdrs", 0 }, { "body", "8bitmime", 0 },
		{ "smtputf8", "1", 0 }, { "arrival", "0", 0 },
		{ "rcpt", "J\xc3\xb6rg@example.test", 0 },
		{ "orcpt", "rfc822;J\xc3\xb6rg@example.test", 0 }, { "notify", "6", 0 },
		{ NULL, NULL, 0 } };
	struct agent_job j;
	const char *err = NULL;

	CHECK(parse(f1, 1, &j, &err) == 1);
	CHECK_STR(j.tag, "17");
	CHECK_STR(j.id, "0123456789ABCDEFGHJKL");
	CHECK_STR(j.sender, "bob@example.org");
	CHECK(j.nrcpt == 1);
	CHECK_STR(j.rcpt[0].a.addr, "alice@example.test");
	CHECK_STR(j.rcpt[0].a.domain, "example.test");
	CHECK_STR(j.domain, "example.test");
	CHECK_STR(j.rcpt[0].orcpt, "");
	CHECK(j.rcpt[0].notify == 0);
	CHECK(j.arrival == 1764856800);
	CHECK(j.ret == SMTP_RET_NONE && j.body == SMTP_BODY_NONE && !j.smtputf8);
	agent_job_free(&j);
	CHECK(parse(f2, 1, &j, &err) == 1);
	CHECK_STR(j.sender, "");
	CHECK_STR(j.envid, "abc");
	CHECK(j.ret == SMTP_RET_HDRS && j.body == SMTP_BODY_8BITMIME && j.smtputf8);
	CHECK_STR(j.rcpt[0].orcpt, "rfc822;J\xc3\xb6rg@example.test");
	CHECK(j.rcpt[0].notify == (SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE));
	agent_job_free(&j);
	agent_job_free(&j);	/* idempotent */
}

/* Remote jobs: up to AGENT_JOB_RCPTS recipients of one domain, in order. */
static void
test_many(void)
{
	const struct field f1[] = { GOOD_HEAD, { "rcpt", "a@Example.ORG", 0 },
		{ "orcpt", "", 0 }, { "notify", "1", 0 }, { "rcpt", "b@example.org", 0 },
		{ "orcpt", "rfc822;x@y.example", 0 }, { "notify", "8", 0 }, { NULL, NULL, 0 } };
	const struct field f2[] = { GOOD_HEAD, { "rcpt", "a@example.org", 0 },
		{ "orcpt", "", 0 }, { "notify", "0", 0 }, { "rcpt", "b@example.net", 0 },
		{ "orcpt", "", 0 }, { "notify", "0", 0 }, { NULL, NULL, 0 } };
	struct field many[4 + 3 * (AGENT_JOB_RCPTS + 1) + 1] = { GOOD_HEAD };
	struct agent_job j;
	const char *err;
	size_t n = 4, i;

	CHECK(parse_max(f1, 1, AGENT_JOB_RCPTS, &j, &err) == 1);
	CHECK(j.nrcpt == 2 && j.rcpt[0].notify == SMTP_NOTIFY_NEVER &&
	    j.rcpt[1].notify == SMTP_NOTIFY_DELAY);
	CHECK_STR(j.domain, "example.org");
	CHECK_STR(j.rcpt[1].orcpt, "rfc822;x@y.example");
	agent_job_free(&j);
	CHECK(parse(f1, 1, &j, &err) == 0);		/* local: one recipient */
	agent_job_free(&j);
	CHECK(parse_max(f2, 1, AGENT_JOB_RCPTS, &j, &err) == 0);	/* two domains */
	agent_job_free(&j);
	for (i = 0; i < AGENT_JOB_RCPTS; i++) {
		many[n++] = (struct field){ "rcpt", "same@example.org", 0 };
		many[n++] = (struct field){ "orcpt", "", 0 };
		many[n++] = (struct field){ "notify", "0", 0 };
	}
	CHECK(parse_max(many, 1, AGENT_JOB_RCPTS, &j, &err) == 1 &&
	    j.nrcpt == AGENT_JOB_RCPTS);
	agent_job_free(&j);
	many[n++] = (struct field){ "rcpt", "same@example.org", 0 };
	many[n++] = (struct field){ "orcpt", "", 0 };
	many[n++] = (struct field){ "notify", "0", 0 };
	CHECK(parse_max(many, 1, AGENT_JOB_RCPTS, &j, &err) == 0);
	agent_job_free(&j);
}

static void
test_bad(void)
{
	static const struct {
		const char *why;
		struct field f[16];
		int nfds;
	} t[] = {
		{ "no fd", { GOOD_HEAD, GOOD_RCPT }, 0 },
		{ "two fds", { GOOD_HEAD, GOOD_RCPT }, 2 },
		{ "no rcpt", { GOOD_HEAD, { "orcpt", "", 0 } }, 1 },
		{ "no orcpt", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "notify", "0", 0 } }, 1 },
		{ "no notify", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "orcpt", "", 0 } }, 1 },
		{ "order", { GOOD_HEAD, { "rcpt", "a@example.test", 0 }, { "notify", "0", 0 },
		    { "orcpt", "", 0 } }, 1 },
		{ "head after rcpt", { GOOD_HEAD, GOOD_RCPT, { "envid", "x", 0 } }, 1 },
		{ "notify never+", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "orcpt", "", 0 }, { "notify", "3", 0 } }, 1 },
		{ "notify 16", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "orcpt", "", 0 }, { "notify", "16", 0 } }, 1 },
		{ "notify text", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "orcpt", "", 0 }, { "notify", "never", 0 } }, 1 },
		{ "two rcpts", { GOOD_HEAD, GOOD_RCPT, GOOD_RCPT }, 1 },
		{ "no job", { { "id", "X", 0 }, { "sender", "", 0 }, { "arrival", "1", 0 },
		    GOOD_RCPT }, 1 },
		{ "no sender", { { "job", "1", 0 }, { "id", "X", 0 }, { "arrival", "1", 0 },
		    GOOD_RCPT }, 1 },
		{ "unknown", { GOOD_HEAD, { "owner", "root", 0 }, GOOD_RCPT }, 1 },
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
		    { "orcpt", "", 0 }, { "notify", "0", 0 } }, 1 },
		{ "NUL sender", { { "job", "1", 0 }, { "id", "X", 0 },
		    { "sender", "a\0@b.example", 12 }, { "arrival", "1", 0 }, GOOD_RCPT }, 1 },
		{ "bad rcpt", { GOOD_HEAD, { "rcpt", "a b@example.test", 0 },
		    { "orcpt", "", 0 }, { "notify", "0", 0 } }, 1 },
		{ "literal", { GOOD_HEAD, { "rcpt", "a@[192.0.2.1]", 0 }, { "orcpt", "", 0 }, { "notify", "0", 0 } }, 1 },
		{ "no domain", { GOOD_HEAD, { "rcpt", "postmaster", 0 }, { "orcpt", "", 0 }, { "notify", "0", 0 } }, 1 },
		{ "bad ret", { GOOD_HEAD, { "ret", "all", 0 }, GOOD_RCPT }, 1 },
		{ "bad body", { GOOD_HEAD, { "body", "8bit", 0 }, GOOD_RCPT }, 1 },
		{ "bad utf8", { GOOD_HEAD, { "smtputf8", "yes", 0 }, GOOD_RCPT }, 1 },
		{ "arrival", { { "job", "1", 0 }, { "id", "X", 0 }, { "sender", "", 0 },
		    { "arrival", "-1", 0 }, GOOD_RCPT }, 1 },
		{ "orcpt", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "orcpt", "no-semicolon", 0 }, { "notify", "0", 0 } }, 1 },
		{ "orcpt ctl", { GOOD_HEAD, { "rcpt", "a@example.test", 0 },
		    { "orcpt", "rfc822;a\r\n@b", 0 }, { "notify", "0", 0 } }, 1 },
	};
	struct agent_job j;
	const char *err;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err = NULL;
		if (parse(t[i].f, t[i].nfds, &j, &err) != 0 || err == NULL)
			fprintf(stderr, "case '%s' accepted\n", t[i].why);
		agent_job_free(&j);
		CHECK(parse(t[i].f, t[i].nfds, &j, &err) == 0 && err != NULL);
		agent_job_free(&j);
	}
}

static void
test_wrong_type(void)
{
	struct ipc_msg m;
	struct agent_job j;
	const char *err;

	ipc_msg_init(&m, IPC_DELIVER_RESULT);
	CHECK(agent_job_parse(&m, 1, &j, &err) == 0);
	agent_job_free(&j);
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
	test_many();
	test_bad();
	test_wrong_type();
	test_delivered_to();
	return UNIT_DONE();
}
