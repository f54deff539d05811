/* libFuzzer target: paths and mailboxes (normalization must be idempotent),
 * xtext and base64 (decode then encode must give the input back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
path_idempotent(const char *p, size_t n, unsigned flags)
{
	struct smtp_addr a, b;

	if (smtp_path_parse(p, n, flags, 1, &a) != SMTP_P_OK || a.addr[0] == '\0')
		return;
	/* The normalized form parses to itself. */
	if (smtp_mailbox_parse(a.addr, strlen(a.addr), flags, &b) != SMTP_P_OK)
		abort();
	if (strcmp(a.addr, b.addr) != 0 || strcmp(a.local, b.local) != 0 ||
	    strcmp(a.domain, b.domain) != 0)
		abort();
	if ((a.flags & ~(unsigned)SMTP_ADDR_ROUTE) != b.flags)
		abort();
	if (!(flags & SMTP_PARSE_UTF8) && (a.flags & SMTP_ADDR_UTF8))
		abort();
}

static void
xtext_roundtrip(const char *p, size_t n)
{
	char out[600], again[600];
	struct buf b = BUF_INIT(2000);

	if (smtp_xtext_decode(p, n, out, sizeof(out)) != SMTP_P_OK)
		return;
	if (smtp_xtext_encode(out, strlen(out), &b) == -1)
		abort();
	if (smtp_xtext_decode(b.data ? b.data : "", b.len, again, sizeof(again)) != SMTP_P_OK ||
	    strcmp(out, again) != 0)
		abort();
	buf_free(&b);
}

static void
base64_roundtrip(const char *p, size_t n)
{
	struct buf d = BUF_INIT(BUF_NOLIMIT), e = BUF_INIT(BUF_NOLIMIT);

	if (base64_decode(p, n, &d) == 0) {
		if (base64_encode(d.data ? d.data : "", d.len, &e) == -1)
			abort();
		if (e.len != n || (n > 0 && memcmp(e.data, p, n) != 0))
			abort();	/* strict decoding accepts only canonical text */
	}
	buf_free(&d);
	buf_free(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	char dom[SMTP_DOMAIN_MAX + 1];
	struct smtp_addr a;
	int lit;

	path_idempotent(p, size, 0);
	path_idempotent(p, size, SMTP_PARSE_UTF8);
	if (smtp_mailbox_parse(p, size, SMTP_PARSE_UTF8, &a) == SMTP_P_OK &&
	    strlen(a.addr) > size)
		abort();
	if (smtp_domain_parse(p, size, SMTP_PARSE_UTF8, dom, &lit) == SMTP_P_OK &&
	    dom[0] == '\0')
		abort();
	xtext_roundtrip(p, size);
	base64_roundtrip(p, size);
	(void)smtp_utf8_valid(p, size);
	return 0;
}
