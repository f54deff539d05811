/*
 * Fuzz target for the remote agent's reply and EHLO parsers
 * (deliver/remote_proto.c): the input is what a hostile SMTP server sends.
 * Every accepted reply must respect the parser's limits, and the status it
 * maps to must be one the queue accepts (queue/queue_sched.c).
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../deliver/remote_proto.c"
#include "../../queue/queue_sched.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const struct remote_reply *r)
{
	struct remote_result res;
	struct sched_status st;
	struct buf b = BUF_INIT(4096);
	size_t i;

	if (r->code < 200 || r->code > 559 || r->nlines == 0 ||
	    r->nlines > REMOTE_REPLY_LINES || r->textlen > REMOTE_REPLY_TEXT ||
	    strlen(r->text) != r->textlen)
		abort();
	for (i = 0; i < r->textlen; i++)
		if (r->text[i] < 0x20 || r->text[i] > 0x7e)
			abort();
	if (r->enh[0] != '\0' && (r->enh[0] != '0' + r->code / 100 ||
	    enh_len(r->enh, strlen(r->enh), r->enh[0]) != strlen(r->enh)))
		abort();
	remote_result_reply(r, "mx.example", "192.0.2.1", "RCPT TO", &res);
	if (remote_status_format(&res, &b) != 0 ||
	    !sched_status_parse(b.data, b.len, &st) ||
	    (int)st.verb != (int)res.verb)
		abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl;
	struct remote_reply r;
	struct remote_caps c;
	enum remote_perr err;
	size_t pos = 0, n;
	int rc = 0;

	/* line by line, as the agent reads them */
	remote_reply_init(&r);
	while (pos < size && rc == 0) {
		nl = memchr(p + pos, '\n', size - pos);
		n = nl != NULL ? (size_t)(nl - (p + pos)) + 1 : size - pos;
		rc = remote_reply_line(&r, p + pos, n, &err);
		if (rc == -1 && (err == REMOTE_P_OK || remote_perr_str(err) == NULL))
			abort();
		pos += n;
	}
	if (rc == 1)
		check_reply(&r);
	/* the whole input as an EHLO response */
	rc = remote_ehlo_parse(p, size, &r, &c, &err);
	if (rc == 1) {
		check_reply(&r);
		if (r.code / 100 != 2 && (c.ext != 0 || c.auth != 0 || c.size != 0))
			abort();
	}
	if ((c.auth != 0 && !(c.ext & REMOTE_EXT_AUTH)) ||
	    (c.size != 0 && !(c.ext & REMOTE_EXT_SIZE)))
		abort();
	/* one line into the capability parser alone */
	remote_caps_init(&c);
	remote_caps_line(&c, 1, p, size);
	return 0;
}
