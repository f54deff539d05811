/* Unit tests for queue/queue_sched.c: backoff arithmetic, routing, the
 * choice of jobs under the global/transport/domain/slot limits, wake-up
 * times, the validation of agents' RESULT and ORPHAN records (untrusted
 * input) and the take-over of orphans. */
#define _GNU_SOURCE
#include "../../queue/queue_sched.c"
#include <stdio.h>
#include "unit.h"

static char *doms[] = { "example.test" };

static void
setup(struct sched *s)
{
	struct sched_limits lim = { 100, 10, { 20, 50 }, 60, 3600, 86400, 0 };

	sched_init(s, &lim, doms, 1);
}

/* A message with n recipients addr-0..addr-(n-1)@domain, arrival t. */
static struct sched_msg *
add_msg(struct sched *s, const char *id, const char *domain, size_t n, int64_t t)
{
	struct envelope e;
	char addr[128];
	size_t i;

	envelope_init(&e);
	if (str_copy(e.id, sizeof(e.id), id) == -1)
		abort();
	e.arrival = t;
	envelope_set(&e.sender, "s@example.org");
	for (i = 0; i < n; i++) {
		if (str_format(addr, sizeof(addr), "u%zu@%s", i, domain) == -1)
			abort();
		envelope_add_rcpt(&e, addr, NULL, 0);
	}
	return sched_add(s, &e, 100);
}

static int
next(struct sched *s, struct sched_cursor *c, struct sched_job *j, int64_t now)
{
	return sched_next_job(s, now, c, j);
}

static void
test_backoff(void)
{
	struct sched_limits lim = { 0 };

	lim.retry_min = 60;
	lim.retry_max = 3600;
	CHECK(sched_backoff(&lim, 1) == 60);
	CHECK(sched_backoff(&lim, 2) == 120);
	CHECK(sched_backoff(&lim, 3) == 240);
	CHECK(sched_backoff(&lim, 6) == 1920);
	CHECK(sched_backoff(&lim, 7) == 3600);	/* 3840 capped */
	CHECK(sched_backoff(&lim, 1000000) == 3600);
	CHECK(sched_backoff(&lim, 0) == 60);
	lim.retry_min = lim.retry_max = 300;
	CHECK(sched_backoff(&lim, 1) == 300 && sched_backoff(&lim, 50) == 300);
	lim.retry_min = 1;
	lim.retry_max = 365 * 86400;
	CHECK(sched_backoff(&lim, 25) == 16777216);
	CHECK(sched_backoff(&lim, 4000000000u) == 365 * 86400);
}

static void
test_route(void)
{
	struct sched s;
	char dom[SMTP_DOMAIN_MAX + 1];

	setup(&s);
	CHECK(sched_route(&s, "a@example.test") == SCHED_LOCAL);
	CHECK(sched_route(&s, "a@EXAMPLE.Test") == SCHED_LOCAL);
	CHECK(sched_route(&s, "postmaster") == SCHED_LOCAL);
	CHECK(sched_route(&s, "a@example.org") == SCHED_REMOTE);
	CHECK(sched_route(&s, "a@sub.example.test") == SCHED_REMOTE);
	CHECK(sched_route(&s, "\"a@example.test\"@evil.example") == SCHED_REMOTE);
	sched_domain_of("x@Mx.Example.ORG", dom);
	CHECK_STR(dom, "mx.example.org");
	sched_free(&s);
}

static void
test_no_agent(void)
{
	struct sched s;
	struct sched_cursor c = { 0 };
	struct sched_job j;

	setup(&s);
	add_msg(&s, "A", "example.test", 1, 1000);
	add_msg(&s, "B", "example.org", 1, 1000);
	CHECK(next(&s, &c, &j, 1000) == 0);	/* nobody to deliver: waits */
	CHECK(s.head->env.rcpt[0].attempts == 0);
	/* no agent: only the expiry wakes us */
	CHECK(sched_wake(&s, 1000) == 1000 + 86400);
	sched_free(&s);
}

static void
test_local_slots(void)
{
	struct sched s;
	struct sched_cursor c = { 0 };
	struct sched_job j1, j2, j3;

	setup(&s);
	s.slots[SCHED_LOCAL] = 2;
	add_msg(&s, "A", "example.test", 1, 1000);
	add_msg(&s, "B", "example.test", 1, 1000);
	add_msg(&s, "C", "example.test", 2, 1000);
	CHECK(next(&s, &c, &j1, 1000) == 1 && j1.n == 1 && j1.transport == SCHED_LOCAL);
	CHECK_STR(j1.msg->env.id, "A");
	CHECK(next(&s, &c, &j2, 1000) == 1);
	CHECK_STR(j2.msg->env.id, "B");
	CHECK(next(&s, &c, &j3, 1000) == 0);	/* both slots taken */
	CHECK(s.inflight == 2 && s.tr_inflight[SCHED_LOCAL] == 2);
	sched_job_end(&s, &j1);
	memset(&c, 0, sizeof(c));
	CHECK(next(&s, &c, &j3, 1000) == 1);	/* A again: not recorded yet */
	CHECK_STR(j3.msg->env.id, "A");
	sched_job_end(&s, &j3);
	j1.msg->env.rcpt[0].state = ENV_RCPT_SENT;
	memset(&c, 0, sizeof(c));
	CHECK(next(&s, &c, &j3, 1000) == 1 && j3.n == 1);	/* local: one rcpt */
	CHECK_STR(j3.msg->env.id, "C");
	CHECK(j3.rcpt[0] == 0 && j3.msg->busy[0] && !j3.msg->busy[1]);
	sched_job_end(&s, &j2);
	sched_job_end(&s, &j3);
	CHECK(s.inflight == 0 && s.ndoms == 0);
	/* the transport's own limit below the agent's slots */
	s.lim.transport[SCHED_LOCAL] = 1;
	memset(&c, 0, sizeof(c));
	CHECK(next(&s, &c, &j1, 1000) == 1 && next(&s, &c, &j2, 1000) == 0);
	sched_job_end(&s, &j1);
	sched_free(&s);
}

static void
test_remote_batches(void)
{
	struct sched s;
	struct sched_cursor c = { 0 };
	struct sched_job j1, j2, j3;
	struct sched_msg *m;

	setup(&s);
	s.slots[SCHED_REMOTE] = 50;
	m = add_msg(&s, "A", "example.org", 150, 1000);
	envelope_add_rcpt(&m->env, "x@example.net", NULL, 0);
	free(m->busy);
	free(m->transport);
	free(m->report);
	m->busy = xcalloc(m->env.nrcpt, 1);
	m->transport = xcalloc(m->env.nrcpt, 1);
	m->report = xcalloc(m->env.nrcpt, 1);
	for (size_t i = 0; i < m->env.nrcpt; i++)
		m->transport[i] = SCHED_REMOTE;
	CHECK(next(&s, &c, &j1, 1000) == 1 && j1.n == SCHED_JOB_RCPT);
	CHECK_STR(j1.domain, "example.org");
	CHECK(next(&s, &c, &j2, 1000) == 1 && j2.n == 50);
	CHECK(j2.rcpt[0] == 100 && j2.rcpt[49] == 149);
	CHECK(next(&s, &c, &j3, 1000) == 1 && j3.n == 1 && j3.rcpt[0] == 150);
	CHECK_STR(j3.domain, "example.net");
	CHECK(dom_count(&s, "example.org") == 2);
	sched_job_end(&s, &j1);
	sched_job_end(&s, &j2);
	sched_job_end(&s, &j3);
	CHECK(s.ndoms == 0 && m->injobs == 0);
	sched_free(&s);
}

static void
test_domain_and_global_limits(void)
{
	struct sched s;
	struct sched_cursor c = { 0 };
	struct sched_job j[4];

	setup(&s);
	s.slots[SCHED_REMOTE] = 50;
	s.slots[SCHED_LOCAL] = 50;
	s.lim.domain_concurrency = 1;
	add_msg(&s, "A", "example.org", 1, 1000);
	add_msg(&s, "B", "example.org", 1, 1000);
	add_msg(&s, "C", "example.net", 1, 1000);
	CHECK(next(&s, &c, &j[0], 1000) == 1);
	CHECK_STR(j[0].msg->env.id, "A");
	CHECK(next(&s, &c, &j[1], 1000) == 1);	/* B waits for its domain */
	CHECK_STR(j[1].msg->env.id, "C");
	CHECK(next(&s, &c, &j[2], 1000) == 0);
	sched_job_end(&s, &j[0]);
	j[0].msg->env.rcpt[0].state = ENV_RCPT_SENT;
	memset(&c, 0, sizeof(c));
	CHECK(next(&s, &c, &j[2], 1000) == 1);
	CHECK_STR(j[2].msg->env.id, "B");
	sched_job_end(&s, &j[1]);
	sched_job_end(&s, &j[2]);
	/* global limit */
	s.lim.domain_concurrency = 10;
	s.lim.concurrency = 2;
	add_msg(&s, "D", "example.test", 3, 1000);
	memset(&c, 0, sizeof(c));
	CHECK(next(&s, &c, &j[0], 1000) == 1 && next(&s, &c, &j[1], 1000) == 1);
	CHECK(next(&s, &c, &j[2], 1000) == 0 && s.inflight == 2);
	sched_job_end(&s, &j[0]);
	sched_job_end(&s, &j[1]);
	sched_free(&s);
}

static void
test_not_due(void)
{
	struct sched s;
	struct sched_cursor c = { 0 };
	struct sched_job j;
	struct sched_msg *a, *b, *d, *e, *f;

	setup(&s);
	s.slots[SCHED_LOCAL] = 10;
	a = add_msg(&s, "A", "example.test", 1, 1000);
	a->env.hold = 1;
	b = add_msg(&s, "B", "example.test", 1, 1000);
	b->deleted = 1;
	d = add_msg(&s, "D", "example.test", 1, 1000);
	d->env.rcpt[0].state = ENV_RCPT_DEFERRED;
	d->env.rcpt[0].next_attempt = 1500;
	e = add_msg(&s, "E", "example.test", 1, 1000 - 86400);	/* expired */
	f = add_msg(&s, "F", "example.test", 2, 1000);
	f->env.rcpt[0].state = ENV_RCPT_SENT;
	f->env.rcpt[1].state = ENV_RCPT_FAILED;
	CHECK(next(&s, &c, &j, 1000) == 0);
	CHECK(sched_rcpt_expired(&s, e, 0, 1000) && !sched_rcpt_expired(&s, d, 0, 1000));
	CHECK(sched_msg_done(f) && !sched_msg_done(d));
	CHECK(sched_wake(&s, 1000) == 1500);	/* D's retry */
	memset(&c, 0, sizeof(c));
	CHECK(next(&s, &c, &j, 1500) == 1);
	CHECK_STR(j.msg->env.id, "D");
	CHECK(sched_wake(&s, 1500) == -1);	/* D busy, A held, E expired */
	sched_job_end(&s, &j);
	CHECK(sched_find(&s, "E") == e && sched_find(&s, "Z") == NULL);
	sched_remove(&s, e);
	CHECK(sched_find(&s, "E") == NULL && s.nmsg == 4);
	/* the delay warning time */
	s.lim.warn_after = 3600;
	CHECK(sched_wake(&s, 1000) == 1500);
	d->env.rcpt[0].next_attempt = 9000;
	CHECK(sched_wake(&s, 1000) == 4600);
	d->env.warned = 1;
	CHECK(sched_wake(&s, 1000) == 9000);
	/* expiry never before a retry time already set */
	d->env.rcpt[0].next_attempt = 1000 + 86400 + 50;
	s.slots[SCHED_LOCAL] = 0;
	CHECK(sched_wake(&s, 1000) == 1000 + 86400 + 50);
	sched_free(&s);
}

/* ---- RESULT validation ----------------------------------------------------- */

static int
parse_fields(const char *const *kv, size_t n, struct sched_result *r, const char **err)
{
	struct ipc_msg m;
	size_t i;
	int ok;

	ipc_msg_init(&m, IPC_DELIVER_RESULT);
	for (i = 0; i + 1 < n; i += 2)
		if (ipc_put_str(&m, kv[i], kv[i + 1]) == -1)
			abort();
	ok = sched_result_parse(&m, r, err);
	ipc_msg_free(&m);
	return ok;
}

#define PARSE(r, ...) ({ const char *kv_[] = { __VA_ARGS__ }; const char *e_ = NULL; \
	parse_fields(kv_, sizeof(kv_) / sizeof(kv_[0]), (r), &e_); })

static void
test_status(void)
{
	struct sched_status st;
	char big[SCHED_TEXT_MAX + 32];
	static const char *const bad[] = {
		"", "sent", "sent ", "sent 2", "sent 2.0", "sent 2.0.", "sent 4.0.0 x",
		"defer 2.0.0 x", "fail 4.1.1 x", "sent 2.0000.0 x", "sent 2.0.0000 x",
		"sent 2.a.0 x", "sent 2.0.0x", "SENT 2.0.0 x", "sent  2.0.0 x",
		"sent 2.0.0 a\tb", "sent 2.0.0 a\x7f", "sent 2.0.0 \xc3", "sent 2.0.0 \xed\xa0\x80",
		"bounce 5.0.0 x", "sent 3.0.0 x", "sent 2.0.0 a\r\nb",
	};
	size_t i;

	CHECK(sched_status_parse("sent 2.0.0 delivered to maildir", 31, &st) == 1);
	CHECK(st.verb == SCHED_SENT);
	CHECK_STR(st.text, "2.0.0 delivered to maildir");
	CHECK(sched_status_parse("defer 4.2.2 mailbox full", 24, &st) == 1 &&
	    st.verb == SCHED_DEFER);
	CHECK(sched_status_parse("fail 5.1.1", 10, &st) == 1 && st.verb == SCHED_FAIL);
	CHECK_STR(st.text, "5.1.1");
	CHECK(sched_status_parse("fail 5.999.999 gr\xc3\xbc\xc3\x9f", 21, &st) == 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sched_status_parse(bad[i], strlen(bad[i]), &st) != 0) {
			CHECK(!"bad status accepted");
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		}
	memcpy(big, "sent 2.0.0 ", 11);
	memset(big + 11, 'x', SCHED_TEXT_MAX);
	CHECK(sched_status_parse(big, 11 + SCHED_TEXT_MAX, &st) == 1);
	CHECK(strlen(st.text) == 6 + SCHED_TEXT_MAX);
	big[11 + SCHED_TEXT_MAX] = 'x';
	CHECK(sched_status_parse(big, 12 + SCHED_TEXT_MAX, &st) == 0);
}

static void
test_result(void)
{
	struct sched_result *r = xmalloc(sizeof(*r));
	struct ipc_msg m;
	const char *err;
	char num[16];
	int i;

	CHECK(PARSE(r, "job", "7", "status", "sent 2.0.0 ok", "relay", "local") == 1);
	CHECK(r->job == 7 && r->n == 1 && r->nfwd == 0);
	CHECK_STR(r->relay, "local");
	CHECK(PARSE(r, "job", "18446744073709551615", "status", "fail 5.1.1 no",
	    "status", "defer 4.4.1 later", "relay", "mx.example[192.0.2.1]:25") == 1);
	CHECK(r->n == 2 && r->st[1].verb == SCHED_DEFER);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 forwarded",
	    "forward", "a@example.test", "forward", "B@Example.ORG") == 1);
	CHECK(r->nfwd == 2);
	CHECK_STR(r->fwd[1], "B@example.org");
	/* refused */
	CHECK(PARSE(r, "status", "sent 2.0.0 ok") == 0);	/* no job */
	CHECK(PARSE(r, "job", "1") == 0);			/* no status */
	CHECK(PARSE(r, "job", "1", "job", "2", "status", "sent 2.0.0 ok") == 0);
	CHECK(PARSE(r, "job", "-1", "status", "sent 2.0.0 ok") == 0);
	CHECK(PARSE(r, "job", "1x", "status", "sent 2.0.0 ok") == 0);
	CHECK(PARSE(r, "job", "", "status", "sent 2.0.0 ok") == 0);
	CHECK(PARSE(r, "job", "18446744073709551616", "status", "sent 2.0.0 ok") == 0);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 ok", "extra", "x") == 0);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 ok", "relay", "a b") == 0);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 ok", "relay", "") == 0);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 ok", "relay", "a",
	    "relay", "b") == 0);
	CHECK(PARSE(r, "job", "1", "status", "defer 4.0.0 x", "forward", "a@b.example") == 0);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 x", "status", "sent 2.0.0 x",
	    "forward", "a@b.example") == 0);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 x", "forward", "no-domain") == 0);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 x", "forward", "a@b@c") == 0);
	CHECK(PARSE(r, "job", "1", "status", "sent 2.0.0 x", "forward", "") == 0);
	/* a NUL inside a value */
	ipc_msg_init(&m, IPC_DELIVER_RESULT);
	CHECK(ipc_put_str(&m, "job", "1") == 0 && ipc_put(&m, "status", "sent 2.0.0 a\0b", 14) == 0);
	CHECK(sched_result_parse(&m, r, &err) == 0);
	ipc_msg_free(&m);
	/* SCHED_JOB_RCPT statuses at most */
	ipc_msg_init(&m, IPC_DELIVER_RESULT);
	CHECK(ipc_put_str(&m, "job", "1") == 0);
	for (i = 0; i < SCHED_JOB_RCPT; i++)
		CHECK(ipc_put_str(&m, "status", "sent 2.0.0 ok") == 0);
	CHECK(sched_result_parse(&m, r, &err) == 1 && r->n == SCHED_JOB_RCPT);
	CHECK(ipc_put_str(&m, "status", "sent 2.0.0 ok") == 0);
	CHECK(sched_result_parse(&m, r, &err) == 0);
	ipc_msg_free(&m);
	/* SCHED_FORWARD_MAX forward addresses at most */
	ipc_msg_init(&m, IPC_DELIVER_RESULT);
	CHECK(ipc_put_str(&m, "job", "1") == 0 && ipc_put_str(&m, "status", "sent 2.0.0 f") == 0);
	for (i = 0; i <= SCHED_FORWARD_MAX; i++) {
		if (str_format(num, sizeof(num), "u%d@x.example", i) == -1)
			abort();
		if (ipc_put_str(&m, "forward", num) == -1)
			break;
	}
	if (i > SCHED_FORWARD_MAX)
		CHECK(sched_result_parse(&m, r, &err) == 0);
	ipc_msg_free(&m);
	free(r);
}

static int
orphan_fields(const char **kv, size_t n, struct sched_orphan *o)
{
	struct ipc_msg m;
	const char *err = NULL;
	size_t i;
	int ok;

	ipc_msg_init(&m, IPC_DELIVER_ORPHAN);
	for (i = 0; i + 1 < n; i += 2)
		if (ipc_put_str(&m, kv[i], kv[i + 1]) == -1)
			abort();
	ok = sched_orphan_parse(&m, o, &err);
	if (!ok && err == NULL)
		abort();
	ipc_msg_free(&m);
	return ok;
}

#define ORPHAN(o, ...) ({ const char *kv_[] = { __VA_ARGS__ }; \
	orphan_fields(kv_, sizeof(kv_) / sizeof(kv_[0]), (o)); })

#define QID "0000000000001AAAAAAAA"

static void
test_orphan_parse(void)
{
	struct sched_orphan o;
	struct ipc_msg m;
	const char *err;

	CHECK(ORPHAN(&o, "job", "4611686018427387904", "id", QID, "rcpt",
	    "Alice@Example.TEST") == 1);
	CHECK(o.job == 4611686018427387904ull);
	CHECK_STR(o.id, QID);
	CHECK_STR(o.rcpt[0], "Alice@example.test");	/* normalized */
	CHECK(o.n == 1);
	CHECK(ORPHAN(&o, "rcpt", "a@example.test", "id", QID, "job", "1") == 1);
	/* refused */
	CHECK(ORPHAN(&o, "id", QID, "rcpt", "a@example.test") == 0);	/* no job */
	CHECK(ORPHAN(&o, "job", "1", "rcpt", "a@example.test") == 0);	/* no id */
	CHECK(ORPHAN(&o, "job", "1", "id", QID) == 0);			/* no rcpt */
	CHECK(ORPHAN(&o, "job", "1", "job", "2", "id", QID, "rcpt", "a@example.test") == 0);
	CHECK(ORPHAN(&o, "job", "1", "id", QID, "id", QID, "rcpt", "a@example.test") == 0);
	/* a remote job's recipients, in order; at most SCHED_JOB_RCPT */
	CHECK(ORPHAN(&o, "job", "1", "id", QID, "rcpt", "a@example.test",
	    "rcpt", "b@example.test") == 1 && o.n == 2);
	CHECK_STR(o.rcpt[1], "b@example.test");
	ipc_msg_init(&m, IPC_DELIVER_ORPHAN);
	CHECK(ipc_put_str(&m, "job", "1") == 0 && ipc_put_str(&m, "id", QID) == 0);
	for (int i = 0; i < SCHED_JOB_RCPT; i++)
		CHECK(ipc_put_str(&m, "rcpt", "a@example.test") == 0);
	CHECK(sched_orphan_parse(&m, &o, &err) == 1 && o.n == SCHED_JOB_RCPT);
	CHECK(ipc_put_str(&m, "rcpt", "a@example.test") == 0);
	CHECK(sched_orphan_parse(&m, &o, &err) == 0);
	ipc_msg_free(&m);
	CHECK(ORPHAN(&o, "job", "-1", "id", QID, "rcpt", "a@example.test") == 0);
	CHECK(ORPHAN(&o, "job", "+1", "id", QID, "rcpt", "a@example.test") == 0);
	CHECK(ORPHAN(&o, "job", "", "id", QID, "rcpt", "a@example.test") == 0);
	CHECK(ORPHAN(&o, "job", "18446744073709551616", "id", QID, "rcpt",
	    "a@example.test") == 0);
	CHECK(ORPHAN(&o, "job", "1", "id", "0000000000001aaaaaaaa", "rcpt",
	    "a@example.test") == 0);				/* lower case */
	CHECK(ORPHAN(&o, "job", "1", "id", "0000000000001AAAAAAA", "rcpt",
	    "a@example.test") == 0);				/* short */
	CHECK(ORPHAN(&o, "job", "1", "id", "../../etc/passwd12345", "rcpt",
	    "a@example.test") == 0);
	CHECK(ORPHAN(&o, "job", "1", "id", QID, "rcpt", "no-domain") == 0);
	CHECK(ORPHAN(&o, "job", "1", "id", QID, "rcpt", "a@b@c") == 0);
	CHECK(ORPHAN(&o, "job", "1", "id", QID, "rcpt", "") == 0);
	CHECK(ORPHAN(&o, "job", "1", "id", QID, "rcpt", "a@example.test", "x", "y") == 0);
	ipc_msg_init(&m, IPC_DELIVER_ORPHAN);
	CHECK(ipc_put_str(&m, "job", "1") == 0 && ipc_put_str(&m, "id", QID) == 0 &&
	    ipc_put(&m, "rcpt", "a@example.test\0x", 16) == 0);
	CHECK(sched_orphan_parse(&m, &o, &err) == 0);
	ipc_msg_free(&m);
}

static void
test_orphan_adopt(void)
{
	struct sched s;
	struct sched_cursor c = { 0 };
	struct sched_orphan o;
	struct sched_job j1, j2, j3;
	struct sched_msg *m;

	setup(&s);
	m = add_msg(&s, QID, "Example.TEST", 3, 1000);
	add_msg(&s, "0000000000002BBBBBBBB", "example.org", 1, 1000);
	CHECK(ORPHAN(&o, "job", "77", "id", QID, "rcpt", "u1@example.test") == 1);
	/* taken over before the agent has slots: counted, busy, same tag */
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j1) == 1);
	CHECK(j1.tag == 77 && j1.n == 1 && j1.rcpt[0] == 1 && j1.msg == m && m->busy[1]);
	CHECK(s.inflight == 1 && s.tr_inflight[SCHED_LOCAL] == 1 && m->injobs == 1);
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j2) == 0);	/* busy now */
	/* it takes one of the agent's slots */
	s.slots[SCHED_LOCAL] = 2;
	CHECK(next(&s, &c, &j2, 1000) == 1 && j2.rcpt[0] == 0);
	CHECK(next(&s, &c, &j3, 1000) == 0);
	sched_job_end(&s, &j2);
	/* final recipients, unknown messages, the other transport: not taken */
	m->env.rcpt[2].state = ENV_RCPT_SENT;
	CHECK(ORPHAN(&o, "job", "78", "id", QID, "rcpt", "u2@example.test") == 1);
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j2) == 0);
	CHECK(ORPHAN(&o, "job", "79", "id", "0000000000009ZZZZZZZZ", "rcpt",
	    "u0@example.test") == 1);
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j2) == 0);
	CHECK(ORPHAN(&o, "job", "80", "id", "0000000000002BBBBBBBB", "rcpt",
	    "u0@example.org") == 1);
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j2) == 0);
	CHECK(ORPHAN(&o, "job", "81", "id", QID, "rcpt", "nobody@example.test") == 1);
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j2) == 0);
	/* a deleted message: not taken */
	CHECK(ORPHAN(&o, "job", "82", "id", QID, "rcpt", "u0@example.test") == 1);
	m->deleted = 1;
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j2) == 0);
	m->deleted = 0;
	/* the stored address's domain case does not matter */
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j2) == 1 && j2.rcpt[0] == 0);
	CHECK(s.inflight == 2);
	/* several recipients: all or nothing, each once */
	CHECK(ORPHAN(&o, "job", "83", "id", QID, "rcpt", "u2@example.test", "rcpt",
	    "u1@example.test") == 1);
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j3) == 0);	/* u2 final */
	CHECK(!m->busy[2] && s.inflight == 2);
	sched_job_end(&s, &j1);
	m->env.rcpt[2].state = ENV_RCPT_PENDING;
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j1) == 1);
	CHECK(j1.n == 2 && j1.rcpt[0] == 2 && j1.rcpt[1] == 1 && m->busy[1] && m->busy[2]);
	CHECK(s.inflight == 2 && m->injobs == 2);
	sched_job_end(&s, &j1);
	CHECK(ORPHAN(&o, "job", "84", "id", QID, "rcpt", "u1@example.test", "rcpt",
	    "u1@example.test") == 1);
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j1) == 0);	/* only one u1 */
	CHECK(!m->busy[1]);
	CHECK(ORPHAN(&o, "job", "85", "id", QID, "rcpt", "u1@example.test") == 1);
	CHECK(sched_orphan_adopt(&s, &o, SCHED_LOCAL, &j1) == 1);
	/* a discarded orphan's slot */
	sched_reserve(&s, SCHED_LOCAL, 1);
	CHECK(s.inflight == 3 && s.tr_inflight[SCHED_LOCAL] == 3);
	sched_reserve(&s, SCHED_LOCAL, -1);
	sched_job_end(&s, &j1);
	sched_job_end(&s, &j2);
	CHECK(s.inflight == 0 && s.tr_inflight[SCHED_LOCAL] == 0 && s.ndoms == 0 &&
	    m->injobs == 0 && !m->busy[0] && !m->busy[1]);
	sched_free(&s);
}

/* A destination that failed at the connection level is suspended: its
 * other messages wait (and the wake-up time says when), others go on. */
static void
test_dead_destination(void)
{
	struct sched s;
	struct sched_cursor c = { 0 };
	struct sched_job j;

	setup(&s);
	s.slots[SCHED_REMOTE] = 50;
	add_msg(&s, "A", "dead.example", 1, 1000);
	add_msg(&s, "B", "dead.example", 1, 1000);
	add_msg(&s, "C", "alive.example", 1, 1000);
	CHECK(sched_dest_until(&s, "dead.example") == 0);
	sched_dest_result(&s, "dead.example", 1, 1000);
	CHECK(sched_dest_until(&s, "dead.example") == 1060);	/* retry_min */
	CHECK(next(&s, &c, &j, 1000) == 1);
	CHECK_STR(j.domain, "alive.example");
	CHECK(next(&s, &c, &j, 1000) == 0);
	CHECK(sched_wake(&s, 1000) == 1060);
	/* in a row: the suspension grows; success ends it */
	sched_dest_result(&s, "dead.example", 1, 1000);
	CHECK(sched_dest_until(&s, "dead.example") == 1120);
	memset(&c, 0, sizeof(c));
	CHECK(next(&s, &c, &j, 1119) == 0);
	memset(&c, 0, sizeof(c));
	CHECK(next(&s, &c, &j, 1120) == 1);
	CHECK_STR(j.domain, "dead.example");
	sched_dest_result(&s, "dead.example", 0, 1121);
	CHECK(sched_dest_until(&s, "dead.example") == 0 && s.ndead == 0);
	/* a flush forgets every suspension */
	sched_dest_result(&s, "x.example", 1, 1000);
	sched_dest_result(&s, "y.example", 1, 1000);
	CHECK(s.ndead == 2);
	sched_dest_clear(&s);
	CHECK(s.ndead == 0 && sched_dest_until(&s, "x.example") == 0);
	sched_free(&s);
}

int
main(void)
{
	test_backoff();
	test_route();
	test_no_agent();
	test_local_slots();
	test_remote_batches();
	test_domain_and_global_limits();
	test_not_due();
	test_status();
	test_result();
	test_orphan_parse();
	test_orphan_adopt();
	test_dead_destination();
	return UNIT_DONE();
}
