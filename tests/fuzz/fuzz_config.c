/*
 * Fuzz target for common/config: config_parse_text over arbitrary bytes.
 * Invariants checked: no crash or leak; errors, if any, are whole lines
 * starting with the file name; the effective configuration dumps to text
 * that parses back to the same dump (so every stored value is valid).
 */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, d;
	struct buf errs = BUF_INIT(1 << 20), a = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20);
	int r;

	if (size > 65536)
		return 0;
	config_defaults(&c);
	r = config_parse_text("f", (const char *)data, size, &c, &errs);
	if (r == 0 && errs.len != 0)
		abort();
	if (r == -1 && (errs.len < 3 || memcmp(errs.data, "f:", 2) != 0 ||
	    errs.data[errs.len - 1] != '\n'))
		abort();
	for (size_t i = 0; i + 1 < errs.len; i++)
		if (errs.data[i] == '\n' && memcmp(errs.data + i + 1, "f:", 2) != 0)
			abort();
	if (config_dump(&c, &a) == -1)
		abort();
	config_defaults(&d);
	buf_reset(&errs);
	if (config_parse_text("dump", a.data, a.len, &d, &errs) == -1) {
		/* Only cross-checks may fail again, never a value. */
		if (strstr(errs.data, "bad value") != NULL ||
		    strstr(errs.data, "unknown key") != NULL)
			abort();
	}
	if (config_dump(&d, &b) == -1 || a.len != b.len ||
	    memcmp(a.data, b.data, a.len) != 0)
		abort();
	config_free(&c);
	config_free(&d);
	buf_free(&errs);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
