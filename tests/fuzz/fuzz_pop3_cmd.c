/* libFuzzer target: POP3 command lines through pop3_cmd_parse and SASL
 * PLAIN responses through login_sasl_plain (pop3d/pop3_cmd.c compiled in,
 * common/login.c from the library).  Neither may fault; accepted results must keep the documented
 * invariants: numbers in range, strings NUL-terminated within their arrays
 * and free of control octets, PASS verbatim, failures leave no argument.
 * The first input byte sizes the PLAIN output arrays. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../pop3d/pop3_cmd.c"
#include "login.h"

/* s is NUL-terminated inside size octets, has length n, no control octet. */
static void
check_str(const char *s, size_t size, size_t n)
{
	const char *nul = memchr(s, '\0', size);

	if (nul == NULL || (size_t)(nul - s) != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static void
check_verb(const struct pop3_cmd *c, const char *line, size_t len)
{
	switch (c->verb) {
	case POP3_VERB_PASS:
		if (c->arglen == 0 || c->arglen + 5 != len ||
		    memcmp(c->arg, line + 5, c->arglen) != 0)
			abort();
		break;
	case POP3_VERB_USER:
		if (c->arglen == 0 || c->arg[0] == ' ' || c->arg[c->arglen - 1] == ' ')
			abort();
		break;
	case POP3_VERB_AUTH:
		if (c->arglen > POP3_MECH_MAX || strspn(c->arg,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != c->arglen)
			abort();
		if (c->has_ir && (c->arglen == 0 || memchr(c->ir, ' ', c->irlen) != NULL))
			abort();
		break;
	case POP3_VERB_RETR:
	case POP3_VERB_DELE:
	case POP3_VERB_TOP:
		if (!c->has_num)
			abort();
		break;
	default:
		break;
	}
}

static void
check_parse(const char *line, size_t len)
{
	struct pop3_cmd c;
	enum pop3_err e = pop3_cmd_parse(line, len, &c);

	if ((unsigned)e >= POP3_E_COUNT || pop3_err_str(e) == NULL ||
	    (unsigned)c.verb >= POP3_VERB_COUNT)
		abort();
	check_str(c.arg, sizeof(c.arg), c.arglen);
	check_str(c.ir, sizeof(c.ir), c.irlen);
	if (c.lines > POP3_NUM_MAX || c.num > POP3_NUM_MAX ||
	    (c.has_num && c.num == 0) || (!c.has_num && c.num != 0))
		abort();
	if (e != POP3_E_OK) {
		if (c.arglen != 0 || c.has_num || c.has_ir || c.lines != 0)
			abort();
		return;
	}
	if (c.verb == POP3_VERB_UNKNOWN || len > POP3_CMD_MAX)
		abort();
	if (c.has_ir && c.verb != POP3_VERB_AUTH)
		abort();
	if (c.arglen != 0 && c.verb != POP3_VERB_USER && c.verb != POP3_VERB_PASS &&
	    c.verb != POP3_VERB_AUTH)
		abort();
	check_verb(&c, line, len);
	pop3_cmd_wipe(&c);
}

static void
check_plain(const char *b64, size_t len, size_t size)
{
	char z[256], c[256], p[256];

	if (login_sasl_plain(b64, len, z, size, c, size, p, size) != 1) {
		if (size > 0 && (z[0] != '\0' || c[0] != '\0' || p[0] != '\0'))
			abort();
		return;
	}
	if (memchr(z, '\0', size) == NULL || memchr(c, '\0', size) == NULL ||
	    memchr(p, '\0', size) == NULL)
		abort();
	if (c[0] == '\0' || p[0] == '\0' || (z[0] != '\0' && strcmp(z, c) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t fsize;

	if (size < 1)
		return 0;
	fsize = data[0];	/* 0..255: also a zero-sized array */
	check_parse((const char *)data + 1, size - 1);
	check_plain((const char *)data + 1, size - 1, fsize);
	/* a PLAIN blob arrives as AUTH's initial response: feed it on too */
	{
		struct pop3_cmd c;

		if (pop3_cmd_parse((const char *)data + 1, size - 1, &c) == POP3_E_OK &&
		    c.has_ir)
			check_plain(c.ir, c.irlen, fsize);
		pop3_cmd_wipe(&c);
	}
	return 0;
}
