/* libFuzzer target: the DSN builder (queue/queue_bounce.c, compiled in).
 * Input: 4 control octets (action, RET, SMTPUTF8, max_full), a status text
 * up to the first NUL, then the original message.  Invariants: the build
 * succeeds; the report has CRLF line ends only, no line over 998 octets and
 * no NUL; the boundary occurs only as delimiters (exactly 4 times); the
 * envelope is valid; a message returned in full is returned byte for byte. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../queue/queue_bounce.c"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_lines(const struct buf *m)
{
	size_t col = 0;

	if (m->len < 2 || m->data[m->len - 2] != '\r' || m->data[m->len - 1] != '\n')
		abort();
	for (size_t i = 0; i < m->len; i++) {
		if (m->data[i] == '\0')
			abort();
		if (m->data[i] == '\r') {
			if (i + 1 >= m->len || m->data[i + 1] != '\n')
				abort();
			i++;
			col = 0;
		} else if (m->data[i] == '\n' || ++col > 998)
			abort();
	}
}

static size_t
count(const struct buf *m, const char *s)
{
	size_t n = 0, sl = strlen(s);
	const char *p = m->data, *end = m->data + m->len;

	while ((p = memmem(p, (size_t)(end - p), s, sl)) != NULL) {
		n++;
		p += sl;
	}
	return n;
}

static void
check_report(const struct buf *m, const char *orig, size_t olen)
{
	const char *b = memmem(m->data, m->len, "boundary=\"", 10), *q, *end;
	char boundary[80], delim[90];
	size_t hlen;

	if (b == NULL || (q = memchr(b + 10, '"', 70)) == NULL)
		abort();
	memcpy(boundary, b + 10, (size_t)(q - b - 10));
	boundary[q - b - 10] = '\0';
	/* the parameter, three part delimiters and the close delimiter */
	if (count(m, boundary) != 5)
		abort();
	if (str_format(delim, sizeof(delim), "\r\n--%s\r\n", boundary) == -1)
		abort();
	q = m->data;
	for (int i = 0; i < 3; i++)
		if ((q = memmem(q, m->len - (size_t)(q - m->data), delim, strlen(delim))) == NULL)
			abort();
		else
			q += strlen(delim);
	end = memmem(q, m->len - (size_t)(q - m->data), "\r\n\r\n", 4);
	if (end == NULL)
		abort();
	hlen = (size_t)(end - q);
	if (memmem(q, hlen, "Content-Type: message/rfc822", 28) == NULL &&
	    memmem(q, hlen, "Content-Type: message/global\r\n", 30) == NULL)
		return;
	if ((size_t)(m->data + m->len - (end + 4)) < olen || memcmp(end + 4, orig, olen) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct envelope e;
	struct bounce_output out;
	size_t idx[] = { 0, 1 }, slen;
	const char *err;
	char status[1001];
	int rc;

	if (size < 4)
		return 0;
	if (fd == -1 && (fd = memfd_create("fuzz", 0)) == -1)
		abort();
	struct bounce_input in = { .orig = &e, .rcpt = idx, .nrcpt = 2,
		.action = (enum dsn_action)(data[0] % 3), .msgfd = fd,
		.hostname = "mx.example.org", .now = 1764862126, .id = "NEW1",
		.retry_until = data[0] & 0x80 ? 1765290526 : 0 };
	uint64_t max_full = (uint64_t)data[3] * 64;

	envelope_init(&e);
	if (str_copy(e.id, sizeof(e.id), "ORIG1") == -1)
		abort();
	e.arrival = 1764858526;
	e.ret = (enum smtp_ret)(data[1] % 3);
	e.smtputf8 = data[2] & 1;
	envelope_set(&e.sender, data[2] & 2 ? "" : e.smtputf8 ? "j\xc3\xb6rg@example.com" :
	    "alice@example.com");
	in.to = e.sender[0] != '\0' ? e.sender : "postmaster@example.org";
	data += 4, size -= 4;
	slen = strnlen((const char *)data, size < 1000 ? size : 1000);
	memcpy(status, data, slen);
	status[slen] = '\0';
	if (slen < size)
		slen++;	/* the NUL separator */
	data += slen, size -= slen;
	envelope_add_rcpt(&e, "bob@example.org", data[-1] & 1 ? "utf-8;b\xc3\xb8+@x" : NULL,
	    0)->status = xstrdup(status);
	envelope_add_rcpt(&e, "carol@example.org", "rfc822;Carol@example.org", 0);
	if (ftruncate(fd, 0) == -1 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	memset(&out, 0, sizeof(out));
	envelope_init(&out.env);
	rc = bounce_build(&in, max_full, &out);
	if (rc != 0)
		abort();
	check_lines(&out.msg);
	check_report(&out.msg, (const char *)data, size);
	if (envelope_check(&out.env, &err) != 1)
		abort();
	buf_free(&out.msg);
	envelope_free(&out.env);
	envelope_free(&e);
	return 0;
}
