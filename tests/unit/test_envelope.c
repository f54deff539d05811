/* Unit tests for common/envelope: round trips with hostile strings, and
 * refusal of corrupted or hand-crafted bad input. */
#include "envelope.h"
#include "unit.h"

static void
fill(struct envelope *e)
{
	struct envelope_rcpt *r;

	envelope_init(e);
	CHECK(str_copy(e->id, sizeof(e->id), "1700000000.abc123") == 0);
	e->arrival = 1700000000;
	envelope_set(&e->sender, "\"odd % sender\"@example.org");
	envelope_set(&e->envid, "env id with spaces+%=");
	e->ret = SMTP_RET_HDRS;
	e->body = SMTP_BODY_8BITMIME;
	e->smtputf8 = 1;
	envelope_set(&e->client_addr, "2001:db8::1");
	envelope_set(&e->client_helo, "h\xc3\xa9lo [x] %41");
	envelope_set(&e->auth_id, "user name");
	envelope_set(&e->protocol, "ESMTPSA");
	envelope_add_rcpt(e, "a@example.org", NULL, 0);
	r = envelope_add_rcpt(e, "j\xc3\xb6rg@d\xc3\xb6m.example", "rfc822;x y@z",
	    SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY);
	r->state = ENV_RCPT_DEFERRED;
	r->attempts = 3;
	r->next_attempt = 1700003600;
	envelope_set(&r->status, "451 4.7.1 try again\tlater \"%\" =");
	r = envelope_add_rcpt(e, "b@[192.0.2.1]", NULL, SMTP_NOTIFY_NEVER);
	r->state = ENV_RCPT_SENT;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
same(const struct envelope *a, const struct envelope *b)
{
	if (strcmp(a->id, b->id) || a->arrival != b->arrival || !same_str(a->sender, b->sender) ||
	    !same_str(a->envid, b->envid) || a->ret != b->ret || a->body != b->body ||
	    a->smtputf8 != b->smtputf8 || !same_str(a->client_addr, b->client_addr) ||
	    !same_str(a->client_helo, b->client_helo) || !same_str(a->auth_id, b->auth_id) ||
	    !same_str(a->protocol, b->protocol) || a->nrcpt != b->nrcpt ||
	    a->kind != b->kind || a->hold != b->hold || a->warned != b->warned)
		return 0;
	for (size_t i = 0; i < a->nrcpt; i++) {
		const struct envelope_rcpt *x = &a->rcpt[i], *y = &b->rcpt[i];
		if (!same_str(x->addr, y->addr) || !same_str(x->orcpt, y->orcpt) ||
		    x->notify != y->notify || x->state != y->state ||
		    x->attempts != y->attempts || x->next_attempt != y->next_attempt ||
		    !same_str(x->status, y->status))
			return 0;
	}
	return 1;
}

static void
test_roundtrip(void)
{
	struct envelope e, p;
	struct buf b = BUF_INIT(ENVELOPE_SIZE_MAX), b2 = BUF_INIT(ENVELOPE_SIZE_MAX);
	const char *err = NULL;

	fill(&e);
	CHECK(envelope_check(&e, &err) == 1);
	CHECK(envelope_serialize(&e, &b) == 0);
	/* No raw control characters in the text form, every line terminated. */
	for (size_t i = 0; i < b.len; i++)
		CHECK_STR((b.data[i] == '\r' || b.data[i] == '\0' || b.data[i] == '\t' ||
		    (unsigned char)b.data[i] >= 0x80) ? "raw" : "ok", "ok");
	CHECK(b.data[b.len - 1] == '\n');
	envelope_init(&p);
	CHECK(envelope_parse(b.data, b.len, &p, &err) == 0);
	CHECK(same(&e, &p));
	CHECK(envelope_serialize(&p, &b2) == 0);
	CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
	/* Parse into an already-filled envelope frees the old contents. */
	CHECK(envelope_parse(b.data, b.len, &p, NULL) == 0);
	CHECK(same(&e, &p));

	/* Null sender, minimal fields. */
	envelope_free(&e);
	envelope_init(&e);
	CHECK(str_copy(e.id, sizeof(e.id), "X") == 0);
	envelope_set(&e.sender, "");
	envelope_add_rcpt(&e, "postmaster@example.org", NULL, 0);
	buf_reset(&b);
	CHECK(envelope_serialize(&e, &b) == 0);
	CHECK_STR(buf_cstr(&b), "postern-envelope 1\nid X\narrival 0\nsender \n"
	    "rcpt postmaster@example.org state=pending attempts=0 next=0\nend\n");
	CHECK(envelope_parse(b.data, b.len, &p, &err) == 0);
	CHECK(same(&e, &p));
	CHECK_STR(p.sender, "");

	/* Queue-only fields: a double bounce on hold, already warned. */
	e.kind = ENV_KIND_DOUBLE_BOUNCE;
	e.hold = e.warned = 1;
	buf_reset(&b);
	CHECK(envelope_serialize(&e, &b) == 0);
	CHECK(strstr(buf_cstr(&b), "\nkind double-bounce\nhold 1\nwarned 1\n") != NULL);
	CHECK(envelope_parse(b.data, b.len, &p, &err) == 0);
	CHECK(same(&e, &p));
	/* ...and a bounce must come from the null sender. */
	envelope_set(&e.sender, "a@example.org");
	CHECK(envelope_check(&e, &err) == 0);
	CHECK(envelope_serialize(&e, &b) == -1);
	envelope_free(&e);
	envelope_free(&p);
	buf_free(&b);
	buf_free(&b2);
}

static void
test_invalid_envelopes(void)
{
	struct envelope e;
	struct buf b = BUF_INIT(ENVELOPE_SIZE_MAX);
	const char *err = NULL;

	fill(&e);
	e.id[0] = '.';
	CHECK(envelope_check(&e, &err) == 0);
	CHECK(envelope_serialize(&e, &b) == -1);
	e.id[0] = '1';
	e.id[3] = '/';
	CHECK(envelope_check(&e, &err) == 0);
	e.id[3] = '0';
	CHECK(envelope_check(&e, &err) == 1);
	envelope_set(&e.sender, "not an address");
	CHECK(envelope_check(&e, &err) == 0);
	envelope_set(&e.sender, "a@b");
	e.smtputf8 = 0;	/* rcpt 1 is UTF-8 */
	CHECK(envelope_check(&e, &err) == 0);
	e.smtputf8 = 1;
	envelope_set(&e.client_helo, "evil\r\nX-Injected: 1");
	CHECK(envelope_check(&e, &err) == 0);
	envelope_set(&e.client_helo, "bad utf8 \xc3");
	CHECK(envelope_check(&e, &err) == 0);
	envelope_set(&e.client_helo, NULL);
	envelope_set(&e.protocol, "ESMTP SA");
	CHECK(envelope_check(&e, &err) == 0);
	envelope_set(&e.protocol, "ESMTPSA");
	e.rcpt[0].notify = SMTP_NOTIFY_NEVER | SMTP_NOTIFY_DELAY;
	CHECK(envelope_check(&e, &err) == 0);
	e.rcpt[0].notify = 0;
	e.rcpt[0].attempts = 1000001;
	CHECK(envelope_check(&e, &err) == 0);
	e.rcpt[0].attempts = 0;
	e.rcpt[0].next_attempt = -1;
	CHECK(envelope_check(&e, &err) == 0);
	e.rcpt[0].next_attempt = 0;
	e.rcpt[0].state = (enum envelope_state)7;
	CHECK(envelope_check(&e, &err) == 0);
	e.rcpt[0].state = ENV_RCPT_FAILED;
	envelope_set(&e.rcpt[0].orcpt, "no-semicolon");
	CHECK(envelope_check(&e, &err) == 0);
	envelope_set(&e.rcpt[0].orcpt, NULL);
	envelope_set(&e.envid, "");
	CHECK(envelope_check(&e, &err) == 0);
	envelope_set(&e.envid, NULL);
	CHECK(envelope_check(&e, &err) == 1);
	envelope_free(&e);
	envelope_init(&e);
	CHECK(str_copy(e.id, sizeof(e.id), "X") == 0);
	envelope_set(&e.sender, "");
	CHECK(envelope_check(&e, &err) == 0);	/* no recipients */
	envelope_free(&e);
	buf_free(&b);
}

#define HDR "postern-envelope 1\nid X\narrival 5\nsender a@b\n"
#define RC "rcpt c@d state=pending attempts=0 next=0\n"

static void
test_corrupt(void)
{
	static const char *bad[] = {
		"",
		"postern-envelope 2\nid X\narrival 5\nsender a@b\n" RC "end\n",
		HDR RC,					/* truncated: no end */
		HDR RC "end",				/* no final newline */
		HDR RC "end\nmore\n",
		HDR "end\n",				/* no recipients */
		"postern-envelope 1\nid X\narrival 5\n" RC "end\n",	/* no sender */
		HDR "id Y\n" RC "end\n",		/* duplicate */
		HDR "colour blue\n" RC "end\n",		/* unknown key */
		HDR "kind mail\n" RC "end\n",		/* the default is never written */
		HDR "kind bounce\n" RC "end\n",		/* bounce with a sender */
		HDR "hold 0\n" RC "end\n",
		HDR "hold 1\nhold 1\n" RC "end\n",
		HDR "warned yes\n" RC "end\n",
		HDR RC "envid x\nend\n",		/* header after rcpt */
		"postern-envelope 1\nid X\narrival 05\nsender a@b\n" RC "end\n",
		"postern-envelope 1\nid X\narrival -5\nsender a@b\n" RC "end\n",
		"postern-envelope 1\nid X\narrival 99999999999999999999\nsender a@b\n" RC "end\n",
		"postern-envelope 1\nid X\narrival 5x\nsender a@b\n" RC "end\n",
		"postern-envelope 1\nid ../../etc\narrival 5\nsender a@b\n" RC "end\n",
		"postern-envelope 1\nid a%2Fb\narrival 5\nsender a@b\n" RC "end\n",
		"postern-envelope 1\r\nid X\narrival 5\nsender a@b\n" RC "end\n",
		HDR "rcpt c@d state=pending attempts=0\nend\n",
		HDR "rcpt c@d state=bogus attempts=0 next=0\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 state=sent\nend\n",
		HDR "rcpt c@d state=pending attempts=0  next=0\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 \nend\n",
		HDR "rcpt c@d state=pending attempts=1000001 next=0\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 notify=never,delay\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 notify=sometimes\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 colour=blue\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 status=a%0Db\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 status=a%00b\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 status=a%4\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 status=a%4a\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 status=a%41\nend\n",
		HDR "rcpt c@d state=pending attempts=0 next=0 orcpt=x\nend\n",
		HDR "rcpt c%40d@e state=pending attempts=0 next=0\nend\n",
		HDR "rcpt c@d@e state=pending attempts=0 next=0\nend\n",
		HDR "rcpt j%C3%B6rg@d state=pending attempts=0 next=0\nend\n",	/* no smtputf8 */
		HDR "rcpt  state=pending attempts=0 next=0\nend\n",
		HDR "ret none\n" RC "end\n",
		HDR "body 9bit\n" RC "end\n",
		HDR "smtputf8 0\n" RC "end\n",
		HDR "client-helo a\tb\n" RC "end\n",
		HDR "client-helo a%0Ab\n" RC "end\n",
		HDR "protocol ES%20MTP\n" RC "end\n",
		HDR "client-addr 1.2.3.4%20x\n" RC "end\n",
	};
	static const char *good[] = {
		HDR RC "end\n",
		HDR "smtputf8 1\nrcpt j%C3%B6rg@d state=pending attempts=0 next=0\nend\n",
		HDR "client-helo a%09b%20c\n" RC "end\n",
		HDR "rcpt c@d next=7 attempts=2 state=failed status=550%205.1.1%20no\nend\n",
	};
	struct envelope e;
	const char *err;

	envelope_init(&e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		int r = envelope_parse(bad[i], strlen(bad[i]), &e, &err);
		if (r != -1)
			fprintf(stderr, "accepted bad envelope %zu\n", i);
		CHECK(r == -1 && err != NULL);
		CHECK(e.nrcpt == 0 && e.sender == NULL);
	}
	/* NUL in the middle */
	CHECK(envelope_parse(HDR "\0" RC "end\n", sizeof(HDR RC "end\n"), &e, &err) == -1);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err = "";
		int r = envelope_parse(good[i], strlen(good[i]), &e, &err);
		if (r != 0)
			fprintf(stderr, "refused good envelope %zu: %s\n", i, err);
		CHECK(r == 0 && e.nrcpt == 1);
	}
	CHECK(e.rcpt[0].state == ENV_RCPT_FAILED && e.rcpt[0].attempts == 2);
	CHECK(e.rcpt[0].next_attempt == 7);
	CHECK_STR(e.rcpt[0].status, "550 5.1.1 no");
	CHECK_STR(envelope_state_name(ENV_RCPT_DEFERRED), "deferred");
	envelope_free(&e);
}

static void
test_many(void)
{
	struct envelope e, p;
	struct buf b = BUF_INIT(ENVELOPE_SIZE_MAX);
	char addr[64];

	envelope_init(&e);
	envelope_init(&p);
	CHECK(str_copy(e.id, sizeof(e.id), "many") == 0);
	envelope_set(&e.sender, "s@x");
	for (int i = 0; i < 5000; i++) {
		CHECK(str_format(addr, sizeof(addr), "user%d@example.org", i) == 0);
		envelope_add_rcpt(&e, addr, NULL, 0);
	}
	CHECK(envelope_serialize(&e, &b) == 0);
	CHECK(envelope_parse(b.data, b.len, &p, NULL) == 0);
	CHECK(same(&e, &p));
	CHECK_STR(p.rcpt[4999].addr, "user4999@example.org");
	envelope_free(&e);
	envelope_free(&p);
	buf_free(&b);
}

int
main(void)
{
	test_roundtrip();
	test_invalid_envelopes();
	test_corrupt();
	test_many();
	return UNIT_DONE();
}
