/* Unit tests for queue/queue_bounce.c: each report is parsed back (MIME
 * structure, every DSN field, the returned original) and checked for CRLF
 * line ends and line lengths; hostile originals must not break it. */
#define _GNU_SOURCE
#include "../../queue/queue_bounce.c"
#include <stdlib.h>
#include <sys/mman.h>
#include "unit.h"
#include "util.h"
#include "xmalloc.h"

#define HOST	"mx.example.org"

/* ---- a small parser for our own output -------------------------------- */

struct part {
	char *head, *body;	/* NUL-terminated copies */
	size_t bodylen;
};

struct report {
	char *head;		/* top-level header */
	char boundary[80];
	struct part part[4];
	int nparts;
	int closed;		/* "--B--" seen */
};

/* Every line ends in CRLF, no bare CR or LF, none longer than 998. */
static int
lines_ok(const char *p, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
		} else if (p[i] == '\n' || ++col > 998) {
			return 0;
		}
	}
	return n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n';
}

/* Value of header field `name` in head (unfolded; static buffer). */
static const char *
field(const char *head, const char *name)
{
	static char out[16384];
	size_t nl = strlen(name), o = 0;
	const char *p = head;

	for (; p != NULL && *p != '\0'; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL) {
		if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
			continue;
		p += nl + 1;
		while (*p == ' ')
			p++;
		for (;;) {
			const char *e = strstr(p, "\r\n");
			size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
			if (o + len >= sizeof(out))
				return NULL;
			memcpy(out + o, p, len);
			o += len;
			if (e == NULL || (e[2] != ' ' && e[2] != '\t'))
				break;
			p = e + 2;
		}
		out[o] = '\0';
		return out;
	}
	return NULL;
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "(none)";
}

/* Human text with its wrapping undone (static buffer). */
static const char *
flat(const char *s)
{
	static char out[16384];
	size_t o = 0;

	while (*s != '\0' && o + 1 < sizeof(out)) {
		if (s[0] == '\r' && s[1] == '\n' && s[2] == ' ') {
			s += 2;
			while (*s == ' ')
				s++;
			out[o++] = ' ';
		} else if (s[0] == '\r' && s[1] == '\n' && s[2] != '\r' && s[2] != '<' &&
		    s[2] != '\0' && o > 0 && out[o - 1] != '\n') {
			s += 2;
			out[o++] = ' ';
		} else
			out[o++] = *s++;
	}
	out[o] = '\0';
	return out;
}

static char *
dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* Split head/body at the first empty line. */
static int
split(const char *p, size_t n, char **head, char **body, size_t *bodylen)
{
	const char *e = memmem(p, n, "\r\n\r\n", 4);

	if (e == NULL)
		return -1;
	*head = dup_n(p, (size_t)(e - p) + 2);
	*body = dup_n(e + 4, n - (size_t)(e + 4 - p));
	*bodylen = n - (size_t)(e + 4 - p);
	return 0;
}

static int
parse_report(const struct buf *m, struct report *r)
{
	char *body, delim[90], *b, *next;
	size_t blen;
	const char *ct, *q;

	memset(r, 0, sizeof(*r));
	if (split(m->data, m->len, &r->head, &body, &blen) == -1)
		return -1;
	ct = field(r->head, "Content-Type");
	if (ct == NULL || (q = strstr(ct, "boundary=\"")) == NULL)
		return free(body), -1;
	q += 10;
	if (strchr(q, '"') == NULL || (size_t)(strchr(q, '"') - q) >= sizeof(r->boundary))
		return free(body), -1;
	memcpy(r->boundary, q, (size_t)(strchr(q, '"') - q));
	if (str_format(delim, sizeof(delim), "\r\n--%s", r->boundary) == -1)
		return free(body), -1;
	b = strstr(body, delim);	/* the preamble ends here */
	while (b != NULL && r->nparts < 4) {
		b += strlen(delim);
		if (strncmp(b, "--\r\n", 4) == 0) {
			r->closed = 1;
			break;
		}
		if (strncmp(b, "\r\n", 2) != 0)
			break;
		b += 2;
		next = memmem(b, blen - (size_t)(b - body), delim, strlen(delim));
		if (next == NULL)
			break;
		struct part *pt = &r->part[r->nparts++];
		if (split(b, (size_t)(next - b), &pt->head, &pt->body, &pt->bodylen) == -1) {
			/* a part with an empty body ends right after its header */
			pt->head = dup_n(b, (size_t)(next - b));
			pt->body = dup_n("", 0);
		}
		b = next;
	}
	free(body);
	return r->closed && r->nparts == 3 ? 0 : -1;
}

static void
free_report(struct report *r)
{
	free(r->head);
	for (int i = 0; i < r->nparts; i++) {
		free(r->part[i].head);
		free(r->part[i].body);
	}
}

/* The n-th (0 = per-message) group of DSN fields, as a header block. */
static char *
dsn_group(const char *body, int n)
{
	const char *p = body, *e;

	for (int i = 0; i < n && p != NULL; i++)
		if ((p = strstr(p, "\r\n\r\n")) != NULL)
			p += 4;
	if (p == NULL || *p == '\0')
		return NULL;
	e = strstr(p, "\r\n\r\n");
	return dup_n(p, e != NULL ? (size_t)(e - p) + 2 : strlen(p));
}

/* ---- fixtures ----------------------------------------------------------- */

static int
memfd_with(const char *p, size_t n)
{
	int fd = memfd_create("orig", 0);

	if (fd == -1 || write_all(fd, p, n) == -1)
		abort();
	return fd;
}

static void
orig_env(struct envelope *e, const char *sender)
{
	envelope_init(e);
	CHECK(str_copy(e->id, sizeof(e->id), "0123456789ABCDEFGHIJK") == 0);
	e->arrival = 1764858526;	/* Thu, 04 Dec 2025 14:28:46 */
	envelope_set(&e->sender, sender);
}

struct built {
	struct bounce_output out;
	struct report r;
	int rc;
};

static void
build(struct built *bt, const struct envelope *e, const size_t *idx, size_t n,
    enum dsn_action a, const char *msg, size_t msglen, uint64_t max_full)
{
	struct bounce_input in = {
		.orig = e, .rcpt = idx, .nrcpt = n, .action = a,
		.msgfd = memfd_with(msg, msglen), .hostname = HOST,
		.to = e->sender[0] != '\0' ? e->sender : "postmaster@example.org",
		.now = 1764862126, .id = "NEWID0000000000000001",
		.retry_until = a == DSN_DELAYED ? 1765290526 : 0,
	};

	memset(bt, 0, sizeof(*bt));
	envelope_init(&bt->out.env);
	bt->rc = bounce_build(&in, max_full, &bt->out);
	close(in.msgfd);
	CHECK(bt->rc == 0);
	if (bt->rc == 0) {
		CHECK(lines_ok(bt->out.msg.data, bt->out.msg.len));
		CHECK(parse_report(&bt->out.msg, &bt->r) == 0);
	}
}

static void
built_free(struct built *bt)
{
	free_report(&bt->r);
	buf_free(&bt->out.msg);
	envelope_free(&bt->out.env);
}

static const char simple_msg[] =
	"Received: from client by mx.example.org; Thu, 4 Dec 2025 14:28:46 +0000\r\n"
	"From: Alice <alice@example.com>\r\n"
	"To: bob@example.org\r\n"
	"Subject: hello\r\n"
	"\r\n"
	"Hi Bob,\r\n"
	"\r\n"
	"the body.\r\n";

/* ---- tests ---------------------------------------------------------------- */

static void
test_failed_full(void)
{
	struct envelope e;
	struct built bt;
	size_t idx[] = { 0, 2 };
	char *g;
	const char *err;

	orig_env(&e, "alice@example.com");
	envelope_set(&e.envid, "QQ314159");
	envelope_add_rcpt(&e, "bob@example.org", "rfc822;Bob@Example.org", 0)->status =
	    xstrdup("5.1.1 no such user");
	envelope_add_rcpt(&e, "carol@example.org", NULL, 0);
	envelope_add_rcpt(&e, "dave@remote.example", NULL, SMTP_NOTIFY_FAILURE)->status =
	    xstrdup("5.1.1 host mx.remote.example[192.0.2.7] said: 550 5.1.1 <dave>: unknown");
	build(&bt, &e, idx, 2, DSN_FAILED, simple_msg, sizeof(simple_msg) - 1, 1 << 20);
	if (bt.rc != 0 || bt.r.nparts != 3)
		goto out;
	/* top-level header */
	CHECK_STR(field(bt.r.head, "From"), "Mail Delivery System <MAILER-DAEMON@" HOST ">");
	CHECK_STR(field(bt.r.head, "To"), "<alice@example.com>");
	CHECK_STR(field(bt.r.head, "Subject"), "Undelivered Mail Returned to Sender");
	CHECK_STR(field(bt.r.head, "Date"), "Thu, 04 Dec 2025 15:28:46 +0000");
	CHECK_STR(field(bt.r.head, "Message-ID"), "<NEWID0000000000000001@" HOST ">");
	CHECK_STR(field(bt.r.head, "Auto-Submitted"), "auto-replied");
	CHECK_STR(field(bt.r.head, "MIME-Version"), "1.0");
	CHECK(strncmp(nz(field(bt.r.head, "Content-Type")),
	    "multipart/report; report-type=delivery-status;", 46) == 0);
	CHECK(field(bt.r.head, "Content-Transfer-Encoding") == NULL);
	/* human part */
	CHECK_STR(field(bt.r.part[0].head, "Content-Type"), "text/plain; charset=us-ascii");
	CHECK(strstr(flat(bt.r.part[0].body), "<bob@example.org>: failed: no such user (5.1.1)") != NULL);
	CHECK(strstr(flat(bt.r.part[0].body), "<dave@remote.example>: failed:") != NULL);
	CHECK(strstr(flat(bt.r.part[0].body), "carol") == NULL);
	CHECK(strstr(flat(bt.r.part[0].body), "Your message is attached.") != NULL);
	/* delivery-status part */
	CHECK_STR(field(bt.r.part[1].head, "Content-Type"), "message/delivery-status");
	g = dsn_group(bt.r.part[1].body, 0);
	CHECK(g != NULL);
	if (g != NULL) {
		CHECK_STR(field(g, "Reporting-MTA"), "dns; " HOST);
		CHECK_STR(field(g, "Original-Envelope-Id"), "QQ314159");
		CHECK_STR(field(g, "Arrival-Date"), "Thu, 04 Dec 2025 14:28:46 +0000");
		CHECK_STR(field(g, "X-Postern-Queue-ID"), "0123456789ABCDEFGHIJK");
		CHECK(field(g, "Final-Recipient") == NULL);
	}
	free(g);
	g = dsn_group(bt.r.part[1].body, 1);
	CHECK(g != NULL);
	if (g != NULL) {
		CHECK_STR(field(g, "Original-Recipient"), "rfc822; Bob@Example.org");
		CHECK_STR(field(g, "Final-Recipient"), "rfc822; bob@example.org");
		CHECK_STR(field(g, "Action"), "failed");
		CHECK_STR(field(g, "Status"), "5.1.1");
		CHECK_STR(field(g, "Diagnostic-Code"), "X-Postern; no such user");
		CHECK_STR(field(g, "Last-Attempt-Date"), "Thu, 04 Dec 2025 15:28:46 +0000");
		CHECK(field(g, "Will-Retry-Until") == NULL);
		CHECK(field(g, "Remote-MTA") == NULL);
	}
	free(g);
	g = dsn_group(bt.r.part[1].body, 2);
	CHECK(g != NULL);
	if (g != NULL) {
		CHECK(field(g, "Original-Recipient") == NULL);
		CHECK_STR(field(g, "Final-Recipient"), "rfc822; dave@remote.example");
		CHECK_STR(field(g, "Status"), "5.1.1");
		CHECK_STR(field(g, "Remote-MTA"), "dns; mx.remote.example");
		CHECK_STR(field(g, "Diagnostic-Code"), "smtp; 550 5.1.1 <dave>: unknown");
	}
	free(g);
	CHECK(dsn_group(bt.r.part[1].body, 3) == NULL);
	/* the original, byte for byte */
	CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "message/rfc822");
	CHECK(field(bt.r.part[2].head, "Content-Transfer-Encoding") == NULL);
	CHECK(bt.r.part[2].bodylen == sizeof(simple_msg) - 1);
	CHECK(memcmp(bt.r.part[2].body, simple_msg, sizeof(simple_msg) - 1) == 0);
	/* the boundary is nowhere in the content */
	CHECK(strstr(bt.r.part[2].body, bt.r.boundary) == NULL);
	/* envelope */
	CHECK_STR(bt.out.env.sender, "");
	CHECK(bt.out.env.nrcpt == 1);
	CHECK_STR(bt.out.env.rcpt[0].addr, "alice@example.com");
	CHECK(bt.out.env.rcpt[0].notify == SMTP_NOTIFY_NEVER);
	CHECK(bt.out.env.kind == ENV_KIND_BOUNCE);
	CHECK(bt.out.env.body == SMTP_BODY_NONE);
	CHECK_STR(bt.out.env.id, "NEWID0000000000000001");
	CHECK(envelope_check(&bt.out.env, &err) == 1);
out:
	built_free(&bt);
	envelope_free(&e);
}

static void
test_ret_hdrs_and_too_big(void)
{
	struct envelope e;
	struct built bt;
	size_t idx[] = { 0 };
	const char *hdr_end = strstr(simple_msg, "\r\n\r\n");
	size_t hlen = (size_t)(hdr_end - simple_msg) + 2;

	orig_env(&e, "alice@example.com");
	envelope_add_rcpt(&e, "bob@example.org", NULL, 0)->status = xstrdup("5.2.2 mailbox full");
	e.ret = SMTP_RET_HDRS;
	build(&bt, &e, idx, 1, DSN_FAILED, simple_msg, sizeof(simple_msg) - 1, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "text/rfc822-headers");
		CHECK(bt.r.part[2].bodylen == hlen);
		CHECK(memcmp(bt.r.part[2].body, simple_msg, hlen) == 0);
		CHECK(strstr(flat(bt.r.part[0].body), "headers of your message") != NULL);
	}
	built_free(&bt);

	/* RET=FULL, but larger than max_full: headers and a word why */
	e.ret = SMTP_RET_FULL;
	build(&bt, &e, idx, 1, DSN_FAILED, simple_msg, sizeof(simple_msg) - 1, 100);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "text/rfc822-headers");
		CHECK(bt.r.part[2].bodylen == hlen);
		CHECK(strstr(flat(bt.r.part[0].body), "larger than 100 octets") != NULL);
	}
	built_free(&bt);

	/* exactly max_full octets still goes in full */
	build(&bt, &e, idx, 1, DSN_FAILED, simple_msg, sizeof(simple_msg) - 1,
	    sizeof(simple_msg) - 1);
	if (bt.rc == 0 && bt.r.nparts == 3)
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "message/rfc822");
	built_free(&bt);
	envelope_free(&e);
}

static void
test_delayed_delivered(void)
{
	struct envelope e;
	struct built bt;
	size_t idx[] = { 0 };
	char *g;

	orig_env(&e, "alice@example.com");
	envelope_add_rcpt(&e, "bob@example.org", NULL, SMTP_NOTIFY_DELAY)->status =
	    xstrdup("4.2.2 mailbox full");
	build(&bt, &e, idx, 1, DSN_DELAYED, simple_msg, sizeof(simple_msg) - 1, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK_STR(field(bt.r.head, "Subject"), "Delayed Mail (still being retried)");
		g = dsn_group(bt.r.part[1].body, 1);
		CHECK(g != NULL);
		if (g != NULL) {
			CHECK_STR(field(g, "Action"), "delayed");
			CHECK_STR(field(g, "Status"), "4.2.2");
			CHECK_STR(field(g, "Will-Retry-Until"), "Tue, 09 Dec 2025 14:28:46 +0000");
		}
		free(g);
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "text/rfc822-headers");
		CHECK(strstr(flat(bt.r.part[0].body), "warning only") != NULL);
		CHECK(strstr(flat(bt.r.part[0].body), "Tue, 09 Dec 2025") != NULL);
		CHECK(strstr(flat(bt.r.part[0].body), "<bob@example.org>: delayed: mailbox full (4.2.2)") != NULL);
	}
	built_free(&bt);

	free(e.rcpt[0].status);
	e.rcpt[0].status = xstrdup("2.0.0 delivered to maildir");
	build(&bt, &e, idx, 1, DSN_DELIVERED, simple_msg, sizeof(simple_msg) - 1, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK_STR(field(bt.r.head, "Subject"), "Successful Mail Delivery Report");
		g = dsn_group(bt.r.part[1].body, 1);
		CHECK(g != NULL);
		if (g != NULL) {
			CHECK_STR(field(g, "Action"), "delivered");
			CHECK_STR(field(g, "Status"), "2.0.0");
			CHECK(field(g, "Will-Retry-Until") == NULL);
		}
		free(g);
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "text/rfc822-headers");
	}
	built_free(&bt);
	envelope_free(&e);
}

static void
test_status_texts(void)
{
	struct envelope e;
	struct built bt;
	size_t idx[] = { 0, 1, 2, 3 };
	char longtext[1001], *g;

	orig_env(&e, "");	/* null sender: double bounce to the postmaster */
	envelope_add_rcpt(&e, "a@example.org", NULL, 0)->status =
	    xstrdup("4.4.1 connection timed out");	/* expired: class forced */
	envelope_add_rcpt(&e, "b@example.org", NULL, 0);	/* no status */
	envelope_add_rcpt(&e, "c@example.org", NULL, 0)->status = xstrdup("5.1 garbled");
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[0] = '5', longtext[1] = '.', longtext[2] = '0', longtext[3] = '.';
	longtext[4] = '0', longtext[5] = ' ';
	longtext[sizeof(longtext) - 1] = '\0';
	envelope_add_rcpt(&e, "d@example.org", NULL, 0)->status = xstrdup(longtext);
	build(&bt, &e, idx, 4, DSN_FAILED, simple_msg, sizeof(simple_msg) - 1, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK(bt.out.env.kind == ENV_KIND_DOUBLE_BOUNCE);
		CHECK_STR(bt.out.env.rcpt[0].addr, "postmaster@example.org");
		CHECK_STR(field(bt.r.head, "To"), "<postmaster@example.org>");
		g = dsn_group(bt.r.part[1].body, 1);
		CHECK(g != NULL && strcmp(nz(field(g, "Status")), "5.4.1") == 0);
		free(g);
		g = dsn_group(bt.r.part[1].body, 2);
		CHECK(g != NULL && strcmp(nz(field(g, "Status")), "5.0.0") == 0);
		CHECK(g != NULL && field(g, "Diagnostic-Code") == NULL);
		free(g);
		g = dsn_group(bt.r.part[1].body, 3);
		CHECK(g != NULL && strcmp(nz(field(g, "Status")), "5.0.0") == 0);
		CHECK(g != NULL && strcmp(nz(field(g, "Diagnostic-Code")),
		    "X-Postern; 5.1 garbled") == 0);
		free(g);
		g = dsn_group(bt.r.part[1].body, 4);
		/* 994 x's: folded before them, the long line still fits */
		CHECK(g != NULL && strncmp(nz(field(g, "Diagnostic-Code")), "X-Postern; xxx", 14) == 0);
		CHECK(g != NULL && strlen(nz(field(g, "Diagnostic-Code"))) == 11 + 994);
		free(g);
	}
	built_free(&bt);
	envelope_free(&e);
}

static void
test_utf8(void)
{
	struct envelope e;
	struct built bt;
	size_t idx[] = { 0 };
	static const char msg[] = "From: J\xc3\xb6rg <j\xc3\xb6rg@example.com>\r\n"
	    "Subject: gr\xc3\xbc\xc3\x9f" "e\r\n\r\nb\xc3\xb6" "dy\r\n";
	char *g;
	const char *err;

	orig_env(&e, "j\xc3\xb6rg@example.com");
	e.smtputf8 = 1;
	envelope_add_rcpt(&e, "b\xc3\xb8@example.org", "utf-8;B\xc3\xb8+x@example.org", 0)->status =
	    xstrdup("5.1.1 unknown user \xe2\x80\x9c" "b\xc3\xb8\xe2\x80\x9d");
	build(&bt, &e, idx, 1, DSN_FAILED, msg, sizeof(msg) - 1, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK(strstr(nz(field(bt.r.head, "Content-Type")),
		    "report-type=global-delivery-status") != NULL);
		CHECK_STR(field(bt.r.head, "Content-Transfer-Encoding"), "8bit");
		CHECK_STR(field(bt.r.part[0].head, "Content-Type"), "text/plain; charset=utf-8");
		CHECK_STR(field(bt.r.part[1].head, "Content-Type"), "message/global-delivery-status");
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "message/global");
		CHECK(bt.r.part[2].bodylen == sizeof(msg) - 1 &&
		    memcmp(bt.r.part[2].body, msg, sizeof(msg) - 1) == 0);
		g = dsn_group(bt.r.part[1].body, 1);
		CHECK(g != NULL);
		if (g != NULL) {
			CHECK_STR(field(g, "Original-Recipient"), "utf-8; B\xc3\xb8\\x{2B}x@example.org");
			CHECK_STR(field(g, "Final-Recipient"), "utf-8; b\xc3\xb8@example.org");
			CHECK_STR(field(g, "Diagnostic-Code"),
			    "X-Postern; unknown user \xe2\x80\x9c" "b\xc3\xb8\xe2\x80\x9d");
		}
		free(g);
		CHECK(bt.out.env.smtputf8 == 1);
		CHECK(bt.out.env.body == SMTP_BODY_8BITMIME);
		CHECK(envelope_check(&bt.out.env, &err) == 1);
	}
	built_free(&bt);
	envelope_free(&e);

	/* not SMTPUTF8: a utf-8 ORCPT becomes utf-8-addr-xtext, 8-bit status
	 * text becomes '?', and the report stays ASCII */
	orig_env(&e, "alice@example.com");
	envelope_add_rcpt(&e, "bob@example.org", "utf-8;b\xc3\xb8" "b@example.org", 0)->status =
	    xstrdup("5.1.1 n\xc3\xb8 such user");
	build(&bt, &e, idx, 1, DSN_FAILED, simple_msg, sizeof(simple_msg) - 1, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK_STR(field(bt.r.part[1].head, "Content-Type"), "message/delivery-status");
		g = dsn_group(bt.r.part[1].body, 1);
		CHECK(g != NULL && strcmp(nz(field(g, "Original-Recipient")),
		    "utf-8; b\\x{F8}b@example.org") == 0);
		CHECK(g != NULL && strcmp(nz(field(g, "Diagnostic-Code")),
		    "X-Postern; n?? such user") == 0);
		free(g);
		CHECK(!has_8bit(&bt.out.msg));
		CHECK(bt.out.env.smtputf8 == 0);
	}
	built_free(&bt);
	envelope_free(&e);
}

/* Originals a well-behaved smtpd never stores, and worse. */
static void
test_malformed(void)
{
	struct envelope e;
	struct built bt;
	size_t idx[] = { 0 };
	struct buf m = BUF_INIT(BUF_NOLIMIT);
	static const char nul_msg[] = "Subject: a\0b\r\nX: bare\nlf\r\n\r\nbody\0\r\n";
	static const char nosep[] = "Subject: no separator\r\nX: y";
	int grown = 0;

	orig_env(&e, "alice@example.com");
	envelope_add_rcpt(&e, "bob@example.org", NULL, 0);

	build(&bt, &e, idx, 1, DSN_FAILED, nul_msg, sizeof(nul_msg) - 1, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "text/rfc822-headers");
		CHECK_STR(bt.r.part[2].body, "Subject: a?b\r\nX: bare\r\nlf\r\n");
		CHECK(memchr(bt.out.msg.data, '\0', bt.out.msg.len) == NULL);
		CHECK(strstr(flat(bt.r.part[0].body), "not a well-formed") != NULL);
	}
	built_free(&bt);

	build(&bt, &e, idx, 1, DSN_FAILED, nosep, sizeof(nosep) - 1, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {	/* valid as is, final CRLF added */
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "message/rfc822");
		CHECK_STR(bt.r.part[2].body, "Subject: no separator\r\nX: y\r\n");
	}
	built_free(&bt);

	build(&bt, &e, idx, 1, DSN_FAILED, "", 0, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3)
		CHECK(bt.r.part[2].bodylen == 0);
	built_free(&bt);

	/* a 5000-octet header line with and without white space, binary junk */
	CHECK(buf_puts(&m, "Subject: ") == 0);
	for (int i = 0; i < 500; i++)
		grown |= buf_puts(&m, "word word ");
	CHECK(buf_puts(&m, "\r\nX-Long: ") == 0);
	for (int i = 0; i < 5000; i++)
		grown |= buf_putc(&m, 'a' + i % 26);
	CHECK(buf_puts(&m, "\r\nX-Bin: \x01\x02\xff\xfe\x7f\r\n\r\nbody\r\n") == 0);
	CHECK(grown == 0);
	build(&bt, &e, idx, 1, DSN_FAILED, m.data, m.len, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK_STR(field(bt.r.part[2].head, "Content-Type"), "text/rfc822-headers");
		CHECK_STR(field(bt.r.part[2].head, "Content-Transfer-Encoding"), "8bit");
		CHECK(strstr(bt.r.part[2].body, "X-Bin: ??\xff\xfe?\r\n") != NULL);
		CHECK(strncmp(nz(field(bt.r.part[2].body, "Subject")), "word word", 9) == 0);
		{	/* folded and cut, but not one letter lost */
			const char *v = nz(field(bt.r.part[2].body, "X-Long"));
			size_t k = 0;
			int same = 1;
			for (; *v != '\0'; v++)
				if (*v != ' ' && *v != (char)('a' + k++ % 26))
					same = 0;
			CHECK(same && k == 5000);
		}
		CHECK(bt.out.env.body == SMTP_BODY_8BITMIME);
	}
	built_free(&bt);

	/* a header that never ends: cut near HDR_MAX at a line end */
	buf_reset(&m);
	while (m.len < 3 * HDR_MAX && grown == 0)
		grown |= buf_puts(&m, "X-Filler: 0123456789012345678901234567890123456789\r\n");
	CHECK(grown == 0);
	e.ret = SMTP_RET_HDRS;	/* as a full message it would be fine */
	build(&bt, &e, idx, 1, DSN_FAILED, m.data, m.len, 1 << 20);
	if (bt.rc == 0 && bt.r.nparts == 3) {
		CHECK(bt.r.part[2].bodylen <= HDR_MAX && bt.r.part[2].bodylen > HDR_MAX - 100);
		CHECK(memcmp(bt.r.part[2].body, m.data, bt.r.part[2].bodylen) == 0);
	}
	built_free(&bt);
	buf_free(&m);
	envelope_free(&e);
}

static void
test_bad_input(void)
{
	struct envelope e;
	struct bounce_output out;
	size_t bad[] = { 5 }, ok[] = { 0 };
	struct bounce_input in = { .rcpt = ok, .nrcpt = 1, .action = DSN_FAILED,
		.hostname = HOST, .to = "alice@example.com", .now = 1, .id = "X1" };

	orig_env(&e, "alice@example.com");
	envelope_add_rcpt(&e, "bob@example.org", NULL, 0);
	in.orig = &e;
	memset(&out, 0, sizeof(out));
	in.msgfd = -1;	/* EBADF */
	CHECK(bounce_build(&in, 100, &out) == -1);
	in.msgfd = memfd_with("a\r\n", 3);
	in.rcpt = bad;
	CHECK(bounce_build(&in, 100, &out) == -1);
	in.rcpt = ok;
	in.to = "not an address";
	CHECK(bounce_build(&in, 100, &out) == -1);
	in.to = "alice@example.com";
	in.hostname = "evil\r\nBcc: x@y";
	CHECK(bounce_build(&in, 100, &out) == -1);
	in.hostname = HOST;
	in.id = "";
	CHECK(bounce_build(&in, 100, &out) == -1);
	in.id = "X1";
	in.nrcpt = 0;
	CHECK(bounce_build(&in, 100, &out) == -1);
	in.nrcpt = 1;
	CHECK(bounce_build(&in, 100, &out) == 0);
	close(in.msgfd);
	buf_free(&out.msg);
	envelope_free(&out.env);
	envelope_free(&e);
}

static void
test_wanted(void)
{
	struct envelope_rcpt r;

	memset(&r, 0, sizeof(r));
	CHECK(bounce_wanted(&r, DSN_FAILED) == 1);
	CHECK(bounce_wanted(&r, DSN_DELAYED) == 1);
	CHECK(bounce_wanted(&r, DSN_DELIVERED) == 0);
	r.notify = SMTP_NOTIFY_NEVER;
	CHECK(bounce_wanted(&r, DSN_FAILED) == 0);
	CHECK(bounce_wanted(&r, DSN_DELAYED) == 0);
	CHECK(bounce_wanted(&r, DSN_DELIVERED) == 0);
	r.notify = SMTP_NOTIFY_SUCCESS;
	CHECK(bounce_wanted(&r, DSN_FAILED) == 0);
	CHECK(bounce_wanted(&r, DSN_DELAYED) == 0);
	CHECK(bounce_wanted(&r, DSN_DELIVERED) == 1);
	r.notify = SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY;
	CHECK(bounce_wanted(&r, DSN_FAILED) == 1);
	CHECK(bounce_wanted(&r, DSN_DELAYED) == 1);
	CHECK(bounce_wanted(&r, DSN_DELIVERED) == 0);
	r.notify = SMTP_NOTIFY_DELAY;
	CHECK(bounce_wanted(&r, DSN_FAILED) == 0);
}

static void
test_helpers(void)
{
	char code[16];
	const char *text;
	struct w w = { BUF_INIT(BUF_NOLIMIT), 0 };

	status_split("5.1.10 x", DSN_FAILED, code, &text);
	CHECK_STR(code, "5.1.10");
	CHECK_STR(text, "x");
	status_split("5.1.1000 x", DSN_FAILED, code, &text);
	CHECK_STR(code, "5.0.0");
	status_split("2.0.0", DSN_DELIVERED, code, &text);
	CHECK_STR(code, "2.0.0");
	CHECK_STR(text, "");
	status_split("5.1.1 bounced", DSN_DELIVERED, code, &text);	/* class mismatch */
	CHECK_STR(code, "2.0.0");
	CHECK_STR(text, "bounced");
	status_split("4.2.2 full", DSN_FAILED, code, &text);	/* expired */
	CHECK_STR(code, "5.2.2");
	status_split("5.1.1x", DSN_FAILED, code, &text);
	CHECK_STR(code, "5.0.0");
	CHECK_STR(text, "5.1.1x");
	CHECK(smtp_reply("host a[1] said: 55 no") == NULL);
	CHECK(smtp_reply("host a[1] said: 550") != NULL);
	/* folding keeps every line <= 78 where white space allows */
	put_field(&w, "Diagnostic-Code", "X-Postern; aaaa bbbb cccc dddd eeee ffff gggg "
	    "hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr", 0);
	CHECK(w.err == 0 && lines_ok(w.b.data, w.b.len));
	CHECK(strstr(w.b.data, "\r\n ") != NULL);
	CHECK(strcspn(w.b.data, "\r") <= 78);
	buf_reset(&w.b);
	{	/* no white space at all: hard cuts continued after CRLF SP */
		char big[2001];
		memset(big, 'x', 2000);
		big[2000] = '\0';
		put_field(&w, "X", big, 0);
		CHECK(w.err == 0 && lines_ok(w.b.data, w.b.len));
		CHECK(strlen(nz(field(w.b.data, "X"))) == 2000 + 2);
	}
	buf_free(&w.b);
	{
		char d[40];
		rfc5322_date(0, d);
		CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 +0000");
		rfc5322_date(951782400, d);	/* a leap day */
		CHECK_STR(d, "Tue, 29 Feb 2000 00:00:00 +0000");
	}
}

int
main(void)
{
	test_failed_full();
	test_ret_hdrs_and_too_big();
	test_delayed_delivered();
	test_status_texts();
	test_utf8();
	test_malformed();
	test_bad_input();
	test_wanted();
	test_helpers();
	return UNIT_DONE();
}
