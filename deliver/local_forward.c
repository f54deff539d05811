/*
 * local_forward: pure parser of ~/.forward files and program lines (see
 * local_forward.h).  Used by the local delivery child running as the user;
 * the input is the user's file and is trusted for nothing.
 */
#include <string.h>

#include "local_forward.h"
#include "xmalloc.h"

static int
fwd_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
fwd_error(char *err, size_t errsize, size_t lineno, const char *why)
{
	if (str_format(err, errsize, "line %zu: %s", lineno, why) == -1)
		err[0] = '\0';
	return 0;
}

static void
fwd_add(struct forward *f, enum forward_kind kind, const char *p, size_t n)
{
	f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
	f->v[f->n].kind = kind;
	f->v[f->n].text = xstrndup(p, n);
	f->n++;
}

/* An address line (after trimming) into a normalized address entry.
 * NULL, or why it is bad. */
static const char *
fwd_address(struct forward *f, const char *p, size_t n, const char *domain)
{
	char q[SMTP_ADDR_MAX + 2];
	struct smtp_addr a;

	if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
		p++;
		n -= 2;
	}
	if (n == 0 || n > SMTP_ADDR_MAX)
		return "bad address";
	if (memchr(p, '@', n) == NULL) {
		if (str_format(q, sizeof(q), "%.*s@%s", (int)n, p, domain) == -1)
			return "bad address";
		p = q;
		n = strlen(q);
	}
	if (smtp_mailbox_parse(p, n, SMTP_PARSE_UTF8, &a) != SMTP_P_OK ||
	    a.domain[0] == '\0' || (a.flags & SMTP_ADDR_LITERAL))
		return "bad address";
	fwd_add(f, FORWARD_ADDR, a.addr, strlen(a.addr));
	return NULL;
}

/* One trimmed, non-empty, non-comment line.  NULL, or why it is bad. */
static const char *
fwd_line(struct forward *f, const char *p, size_t n, const char *domain)
{
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
		while (n > 0 && fwd_blank(*p))
			p++, n--;
		while (n > 0 && fwd_blank(p[n - 1]))
			n--;
	}
	if (n == 0)
		return "empty target";
	if (f->n == FORWARD_ENTRIES_MAX)
		return "too many targets";
	if (p[0] == '|') {
		for (p++, n--; n > 0 && fwd_blank(*p); p++, n--)
			continue;
		if (n == 0)
			return "empty program";
		fwd_add(f, FORWARD_PIPE, p, n);
	} else if (p[0] == '/' || p[0] == '.' || p[0] == '~' ||
	    (n >= 9 && memcmp(p, ":include:", 9) == 0)) {
		fwd_add(f, FORWARD_FILE, p, n);
	} else if (p[0] == '\\') {
		if (n == 1 || n - 1 > SMTP_LOCAL_MAX)
			return "bad name";
		fwd_add(f, FORWARD_SELF, p + 1, n - 1);
	} else
		return fwd_address(f, p, n, domain);
	return NULL;
}

int
forward_parse(const char *text, size_t len, const char *domain, struct forward *f,
    char *err, size_t errsize)
{
	size_t pos = 0, lineno = 0, end, n;
	const char *why;

	f->v = NULL;
	f->n = 0;
	err[0] = '\0';
	if (len > FORWARD_FILE_MAX)
		return fwd_error(err, errsize, 0, "file too large");
	while (pos < len) {
		const char *p = text + pos, *nl = memchr(p, '\n', len - pos);

		lineno++;
		end = nl != NULL ? (size_t)(nl - text) : len;
		n = end - pos;
		pos = nl != NULL ? end + 1 : len;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > FORWARD_LINE_MAX || memchr(p, '\0', n) != NULL || memchr(p, '\r', n)) {
			forward_free(f);
			return fwd_error(err, errsize, lineno, n > FORWARD_LINE_MAX ?
			    "line too long" : "control character in line");
		}
		while (n > 0 && fwd_blank(*p))
			p++, n--;
		while (n > 0 && fwd_blank(p[n - 1]))
			n--;
		if (n == 0 || p[0] == '#')
			continue;
		if ((why = fwd_line(f, p, n, domain)) != NULL) {
			forward_free(f);
			return fwd_error(err, errsize, lineno, why);
		}
	}
	return 1;
}

void
forward_free(struct forward *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

int
forward_split_argv(const char *cmd, struct forward_argv *a)
{
	size_t i = 0;
	char *p;

	a->argc = 0;
	if (str_copy(a->mem, sizeof(a->mem), cmd) == -1)
		return 0;
	p = a->mem;
	for (;;) {
		while (fwd_blank(*p))
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (i == FORWARD_ARGV_MAX)
			return a->argc = 0, 0;
		a->argv[i++] = p;
		while (*p != '\0' && !fwd_blank(*p))
			p++;
	}
	a->argv[i] = NULL;
	a->argc = i;
	return i > 0 && a->argv[0][0] == '/';
}
