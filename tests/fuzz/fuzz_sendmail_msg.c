/* libFuzzer target: the sendmail command's message and address-list code
 * (queue/sendmail_msg.c, compiled in).  Invariants: the stored form has only
 * CRLF line ends and lines of at most 998 octets, no Bcc: in the header, and
 * every extracted address re-parses to itself. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../queue/sendmail_msg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_list(const struct sm_list *l)
{
	struct smtp_addr a;

	for (size_t i = 0; i < l->n; i++)
		if (smtp_mailbox_parse(l->v[i], strlen(l->v[i]), SMTP_PARSE_UTF8, &a) !=
		    SMTP_P_OK || strcmp(a.addr, l->v[i]) != 0)
			abort();
}

static void
check_output(const struct buf *out)
{
	size_t i, start = 0;
	const char *hdr_end;

	for (i = 0; i < out->len; i++) {
		if (out->data[i] == '\r') {
			if (i + 1 >= out->len || out->data[i + 1] != '\n')
				abort();
			if (i - start > SM_LINE_MAX)
				abort();
			start = i + 2;
			i++;
		} else if (out->data[i] == '\n')
			abort();
	}
	if (start != out->len)
		abort();	/* the last line ends in CRLF too */
	hdr_end = memmem(out->data, out->len, "\r\n\r\n", 4);
	if (hdr_end == NULL)
		abort();
	for (const char *p = out->data; p < hdr_end; ) {
		if (strncasecmp(p, "Bcc:", 4) == 0)
			abort();
		p = (const char *)memchr(p, '\n', (size_t)(hdr_end - p) + 2) + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sm_opts o = { 1, "host.example", "me@host.example", "Fuzz Name", 0, "U" };
	struct sm_list l = { NULL, 0, 0 };
	struct buf out = BUF_INIT(1 << 20);
	const char *err;

	if (sm_addr_list((const char *)data, size, "host.example", &l, &err))
		check_list(&l);
	sm_list_free(&l);
	if (sm_msg_build((const char *)data, size, &o, &out, &l, &err)) {
		check_list(&l);
		check_output(&out);
	}
	sm_list_free(&l);
	buf_free(&out);
	return 0;
}
