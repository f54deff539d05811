/*
 * What the two IMAP parser test programs (test_imap_parse.c, RFC 3501;
 * test_imap_parse_ext.c, extensions) share: a table of command lines with
 * the error and verb the parser must give, and parse()/done() for the
 * tests that look inside a parsed command.  Include after the parser's
 * .c files and unit.h.
 */
#ifndef POSTERN_IMAP_PARSE_CASES_H
#define POSTERN_IMAP_PARSE_CASES_H
#include <stdlib.h>

struct ct {
	const char *line;
	enum imap_err err;
	enum imap_verb verb;
};

#define V(x) IMAP_V_##x
#define E(x) IMAP_E_##x

/* Parse every line of cases[n]; check the error and the verb. */
static void
check_cases(const struct ct *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct ct *t = &cases[i];
		struct imap_cmd *c = malloc(sizeof(*c));
		enum imap_err e;

		if (c == NULL)
			abort();
		e = imap_cmd_parse(t->line, strlen(t->line), c);
		CHECK(e == t->err);
		CHECK(c->verb == t->verb);
		if (e != t->err || c->verb != t->verb)
			fprintf(stderr, "  case %zu \"%s\": got %d (%s) verb %d\n", i,
			    t->line, e, imap_err_str(e), c->verb);
		imap_cmd_free(c);
		free(c);
	}
}

/* Parse line (len 0: strlen) expecting want; the caller frees with done(). */
static struct imap_cmd *
parse(const char *line, size_t len, enum imap_err want)
{
	struct imap_cmd *c = malloc(sizeof(*c));
	enum imap_err e;

	if (c == NULL)
		abort();
	e = imap_cmd_parse(line, len ? len : strlen(line), c);
	CHECK(e == want);
	if (e != want)
		fprintf(stderr, "  \"%s\": got %s\n", line, imap_err_str(e));
	return c;
}

static void
done(struct imap_cmd *c)
{
	imap_cmd_free(c);
	free(c);
}
#endif
