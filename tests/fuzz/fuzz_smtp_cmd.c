/* libFuzzer target: SMTP command lines through smtp_cmd_parse and the
 * per-verb argument parsers; the first byte picks extensions and flags. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_parse.h"

static void
check_addr(const struct smtp_addr *a)
{
	if (memchr(a->local, '\0', sizeof(a->local)) == NULL ||
	    memchr(a->domain, '\0', sizeof(a->domain)) == NULL ||
	    memchr(a->addr, '\0', sizeof(a->addr)) == NULL)
		abort();
	if (strlen(a->local) > SMTP_LOCAL_MAX || strlen(a->addr) > SMTP_ADDR_MAX)
		abort();
	for (const char *p = a->addr; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static void
verb_args(const struct smtp_cmd *c, unsigned ext, unsigned flags)
{
	struct smtp_mail m;
	struct smtp_rcpt r;
	struct smtp_helo h;
	struct smtp_auth a;
	uint64_t size;
	int last;

	switch (c->verb) {
	case SMTP_VERB_MAIL:
		if (smtp_mail_parse(c->arg, c->arglen, ext, &m) == SMTP_P_OK) {
			check_addr(&m.from);
			if (m.null_sender != (m.from.addr[0] == '\0'))
				abort();
			if (m.has_envid && strlen(m.envid) > SMTP_ENVID_MAX)
				abort();
		}
		break;
	case SMTP_VERB_RCPT:
		if (smtp_rcpt_parse(c->arg, c->arglen, ext, flags, &r) == SMTP_P_OK) {
			check_addr(&r.to);
			if (r.to.addr[0] == '\0')
				abort();
			if ((r.notify & SMTP_NOTIFY_NEVER) && r.notify != SMTP_NOTIFY_NEVER)
				abort();
			if (r.has_orcpt && !smtp_utf8_valid(r.orcpt, strlen(r.orcpt)))
				abort();
		}
		break;
	case SMTP_VERB_EHLO:
	case SMTP_VERB_HELO:
		if (smtp_helo_parse(c->arg, c->arglen, &h) == SMTP_P_OK && h.name[0] == '\0')
			abort();
		break;
	case SMTP_VERB_AUTH:
		if (smtp_auth_parse(c->arg, c->arglen, &a) == SMTP_P_OK && a.has_initial &&
		    a.initial + a.initial_len > c->arg + c->arglen)
			abort();
		break;
	case SMTP_VERB_BDAT:
		if (smtp_bdat_parse(c->arg, c->arglen, &size, &last) != SMTP_P_OK &&
		    (size != 0 || last != 0))
			abort();
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmd c;
	const char *line, *o;
	unsigned ext, flags, f;
	size_t ol;

	if (size < 1)
		return 0;
	ext = data[0] & SMTP_EXT_ALL;
	flags = (data[0] & 0x40) ? SMTP_PARSE_UTF8 : 0;
	line = (const char *)data + 1;
	size--;
	if (smtp_cmd_parse(line, size, &c) == SMTP_P_OK) {
		if (c.arg < line || c.arg + c.arglen > line + size)
			abort();
		verb_args(&c, ext, flags);
	}
	f = smtp_data_line(line, size, (data[0] & 0x80) != 0);
	if ((f & SMTP_LINE_END) && size != 3)
		abort();
	smtp_data_unstuff(line, size, &o, &ol);
	if (o + ol != line + size)
		abort();
	return 0;
}
