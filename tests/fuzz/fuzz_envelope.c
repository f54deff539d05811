/* libFuzzer target: envelope_parse; whatever parses must serialize and
 * parse again to the identical text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope e, f;
	struct buf b = BUF_INIT(ENVELOPE_SIZE_MAX), c = BUF_INIT(ENVELOPE_SIZE_MAX);
	const char *err = NULL;

	envelope_init(&e);
	envelope_init(&f);
	if (envelope_parse((const char *)data, size, &e, &err) == 0) {
		if (envelope_serialize(&e, &b) != 0)
			abort();
		if (envelope_parse(b.data, b.len, &f, &err) != 0)
			abort();
		if (envelope_serialize(&f, &c) != 0)
			abort();
		if (b.len != c.len || memcmp(b.data, c.data, b.len) != 0)
			abort();
		/* Parsing accepts only the canonical form. */
		if (b.len != size || memcmp(b.data, data, size) != 0)
			abort();
	} else if (err == NULL || e.nrcpt != 0 || e.sender != NULL)
		abort();
	envelope_free(&e);
	envelope_free(&f);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
