/* libFuzzer target: the ~/.forward parser and the program-line splitter
 * (deliver/local_forward.c, compiled in).  Invariants: at most
 * FORWARD_ENTRIES_MAX entries; every address entry re-parses as a mailbox
 * with a domain and is its own normal form; program entries are non-empty
 * and split into blank-free words; a refusal leaves nothing allocated. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../deliver/local_forward.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_entry(const struct forward_entry *e)
{
	struct forward_argv av;
	struct smtp_addr a;
	size_t n = strlen(e->text);

	if (n == 0)
		abort();
	switch (e->kind) {
	case FORWARD_ADDR:
		if (smtp_mailbox_parse(e->text, n, SMTP_PARSE_UTF8, &a) != SMTP_P_OK ||
		    a.domain[0] == '\0' || strcmp(a.addr, e->text) != 0)
			abort();
		break;
	case FORWARD_PIPE:
		if (forward_split_argv(e->text, &av) || av.argc > 0)
			for (size_t i = 0; i < av.argc; i++)
				if (av.argv[i][0] == '\0' || strpbrk(av.argv[i], " \t") != NULL)
					abort();
		break;
	case FORWARD_FILE:
	case FORWARD_SELF:
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct forward f;
	char err[128];

	if (forward_parse((const char *)data, size, "home.example", &f, err, sizeof(err))) {
		if (f.n > FORWARD_ENTRIES_MAX)
			abort();
		for (size_t i = 0; i < f.n; i++)
			check_entry(&f.v[i]);
	} else if (f.n != 0 || f.v != NULL || err[0] == '\0')
		abort();
	forward_free(&f);
	return 0;
}
