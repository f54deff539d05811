/*
 * local_resolve: recipient resolution and alias expansion for local
 * delivery (see local_resolve.h).  Runs in the root parent; pure apart from
 * the lookups it is handed, which read only admin data.
 */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "local_resolve.h"
#include "userdb.h"
#include "util.h"
#include "xmalloc.h"

#define VAL_MAX	65536	/* one map value */

static void
set_status(struct local_target *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_status(struct local_target *t, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(t->status, sizeof(t->status), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(t->status))
		t->status[sizeof(t->status) - 1] = '\0';	/* long address: cut */
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Split a (normalized) address into t's addr/local/domain, lower-cased. */
static int
set_addr(struct local_target *t, const char *local, size_t llen, const char *domain)
{
	if (llen > SMTP_LOCAL_MAX ||
	    str_format(t->local, sizeof(t->local), "%.*s", (int)llen, local) == -1 ||
	    str_copy(t->domain, sizeof(t->domain), domain) == -1)
		return -1;
	lower(t->local);
	lower(t->domain);
	return str_format(t->addr, sizeof(t->addr), "%s@%s", t->local, t->domain);
}

/* A virtual mailbox found in the map: check its name, read its quota. */
static void
virtual_target(struct local_target *t, const struct buf *val)
{
	char norm[USERDB_ADDR_MAX + 1];
	const char *err = "not in normal form";
	uint64_t q = 0;

	if (!userdb_address_normalize(t->addr, strlen(t->addr), norm, sizeof(norm), &err) ||
	    strcmp(norm, t->addr) != 0) {
		set_status(t, "defer 4.3.0 mailbox name %s unusable: %s", t->addr, err);
		return;
	}
	if (val->len != 0 && parse_uint(buf_cstr(val), 0, UINT64_MAX, &q) == -1) {
		set_status(t, "defer 4.3.0 bad quota for %s in the mailboxes map", t->addr);
		return;
	}
	t->kind = LOCAL_VIRTUAL;
	t->quota = q;
}

/* A system account for local (lower case, a safe user name).  1/0/-1. */
static int
system_target(const struct local_lookup *lk, struct local_target *t)
{
	const char *n = t->local;
	int r;

	if (strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(n) ||
	    n[0] == '.' || n[0] == '-' || n[0] == '\0' || strlen(n) >= sizeof(t->pw.name))
		return 0;
	if ((r = lk->passwd(lk->ctx, n, &t->pw)) == 1)
		t->kind = LOCAL_SYSTEM;
	return r;
}

/* ---- alias expansion ---- */

struct expand {
	const struct local_lookup *lk;
	const char *root, *orig;	/* the alias and the original recipient */
	char **seen;
	size_t nseen;
	struct local_target *t;
	int self;
};

static int
push(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
	return 0;
}

static int
seen(const struct expand *e, const char *a)
{
	for (size_t i = 0; i < e->nseen; i++)
		if (strcasecmp(e->seen[i], a) == 0)
			return 1;
	return 0;
}

static int expand_value(struct expand *e, const char *addr, const struct buf *val,
    int depth);

/* One target of an alias: a mailbox or other address is final, an alias is
 * expanded.  0, or -1 with t->status set. */
static int
expand_one(struct expand *e, const char *tg, int depth)
{
	struct buf val = BUF_INIT(VAL_MAX);
	int r;

	if (strcasecmp(tg, e->root) == 0 || strcasecmp(tg, e->orig) == 0) {
		e->self = 1;
		return 0;
	}
	if (seen(e, tg))
		return 0;	/* met before: never expanded twice (cycles end here) */
	if (e->nseen >= LOCAL_ALIAS_SEEN)
		return set_status(e->t, "defer 4.3.0 alias expansion too large"), -1;
	push(&e->seen, &e->nseen, tg);
	r = e->lk->map(e->lk->ctx, LOCAL_MAP_MAILBOXES, tg, &val);
	if (r == 0 && (r = e->lk->map(e->lk->ctx, LOCAL_MAP_ALIASES, tg, &val)) == 1)
		r = 2;		/* an alias: expand it */
	if (r == -1)
		set_status(e->t, "defer 4.3.0 cannot read the aliases map");
	else if (r == 2 && depth >= LOCAL_ALIAS_DEPTH) {
		set_status(e->t, "defer 4.3.0 alias expansion too large");
		r = -1;
	} else if (r == 2)
		r = expand_value(e, tg, &val, depth + 1);
	else if (e->t->nforward >= LOCAL_FORWARD_MAX) {
		set_status(e->t, "defer 4.3.0 alias expansion too large");
		r = -1;
	} else
		r = push(&e->t->forward, &e->t->nforward, tg);
	buf_free(&val);
	return r == -1 ? -1 : 0;
}

static int
expand_value(struct expand *e, const char *addr, const struct buf *val, int depth)
{
	const char *why, *at = strrchr(addr, '@');
	char **tg = NULL;
	size_t ntg = 0, i;
	int r = 0;

	if (!local_alias_targets(buf_cstr(val), val->len, at != NULL ? at + 1 : "", &tg,
	    &ntg, &why)) {
		set_status(e->t, "fail 5.3.5 alias %s: %s", addr, why);
		r = -1;
	}
	for (i = 0; i < ntg && r == 0; i++)
		r = expand_one(e, tg[i], depth);
	for (i = 0; i < ntg; i++)
		free(tg[i]);
	free(tg);
	return r;
}

/* t->addr is an alias with value val: expand it into t->forward. */
static void
alias_target(const struct local_lookup *lk, const struct local_params *p,
    const char *orig, struct local_target *t, const struct buf *val)
{
	struct expand e = { lk, t->addr, orig, NULL, 0, t, 0 };
	size_t i;

	t->alias = 1;
	if (expand_value(&e, t->addr, val, 1) == 0) {
		/* the alias names itself: its own mailbox, if it has one */
		if (e.self && p->system_users && system_target(lk, t) == -1)
			set_status(t, "defer 4.3.0 cannot read the user database");
		else if (t->nforward == 0 && t->kind == LOCAL_NONE)
			set_status(t, "fail 5.4.6 alias loop: %s expands to no address", t->addr);
		else if (t->nforward == 0)
			t->alias = 0;	/* only itself: a plain delivery */
	}
	for (i = 0; i < e.nseen; i++)
		free(e.seen[i]);
	free(e.seen);
}

/* Mailbox, then alias, for local@domain.  1 resolved (or status set),
 * 0 neither. */
static int
lookup_exact(const struct local_lookup *lk, const struct local_params *p,
    const char *orig, struct local_target *t)
{
	struct buf val = BUF_INIT(VAL_MAX);
	int r;

	if ((r = lk->map(lk->ctx, LOCAL_MAP_MAILBOXES, t->addr, &val)) == 1)
		virtual_target(t, &val);
	else if (r == 0 && (r = lk->map(lk->ctx, LOCAL_MAP_ALIASES, t->addr, &val)) == 1)
		alias_target(lk, p, orig, t, &val);
	if (r == -1)
		set_status(t, "defer 4.3.0 cannot read the mailbox maps");
	buf_free(&val);
	return r != 0;
}

void
local_resolve(const struct local_lookup *lk, const struct local_params *p,
    const struct smtp_addr *rcpt, struct local_target *t)
{
	const char *local = rcpt->local, *d = NULL;
	size_t llen = strlen(local);

	memset(t, 0, sizeof(*t));
	if (set_addr(t, local, llen, rcpt->domain) == -1) {
		set_status(t, "fail 5.1.3 bad recipient address");
		return;
	}
	if (lookup_exact(lk, p, rcpt->addr, t))
		return;
	if (p->delimiter[0] != '\0' && !(rcpt->flags & SMTP_ADDR_QUOTED))
		d = strstr(local, p->delimiter);
	if (d != NULL && d != local) {
		/* user+tag: the user, and maybe the folder "tag" */
		const char *tag = d + strlen(p->delimiter);

		if (p->extension_folders && maildir_folder_valid(tag, strlen(tag)) &&
		    str_copy(t->folder, sizeof(t->folder), tag) == -1)
			t->folder[0] = '\0';	/* cannot happen: valid names fit */
		if (set_addr(t, local, (size_t)(d - local), rcpt->domain) == -1) {
			set_status(t, "fail 5.1.3 bad recipient address");
			return;
		}
		if (lookup_exact(lk, p, rcpt->addr, t))
			return;
	}
	if (p->system_users) {
		int r = system_target(lk, t);

		if (r == -1)
			set_status(t, "defer 4.3.0 cannot read the user database");
		if (r != 0)
			return;
	}
	set_status(t, "fail 5.1.1 user unknown");
}

void
local_target_free(struct local_target *t)
{
	for (size_t i = 0; i < t->nforward; i++)
		free(t->forward[i]);
	free(t->forward);
	t->forward = NULL;
	t->nforward = 0;
}

/* One token of an alias value into a normalized address.  NULL or why. */
static const char *
alias_token(const char *p, size_t n, const char *domain, char **out)
{
	char q[SMTP_ADDR_MAX + 2];
	struct smtp_addr a;

	if (n >= 2 && p[0] == '"' && (p[1] == '|' || p[1] == '/'))
		p++, n--;	/* "|program ..." quoted: judged by what it is */
	if (p[0] == '|')
		return "program targets are not allowed in aliases";
	if (p[0] == '/' || p[0] == '~' || p[0] == '.')
		return "file targets are not allowed in aliases";
	if (n >= 9 && memcmp(p, ":include:", 9) == 0)
		return "include files are not allowed in aliases";
	if (p[0] == '"' || p[0] == '\\')
		return "quoted targets are not allowed in aliases";
	if (n >= 2 && p[0] == '<' && p[n - 1] == '>')
		p++, n -= 2;
	if (n == 0 || n > SMTP_ADDR_MAX)
		return "bad target address";
	if (memchr(p, '@', n) == NULL) {
		if (domain[0] == '\0' ||
		    str_format(q, sizeof(q), "%.*s@%s", (int)n, p, domain) == -1)
			return "bad target address";
		p = q;
		n = strlen(q);
	}
	if (smtp_mailbox_parse(p, n, SMTP_PARSE_UTF8, &a) != SMTP_P_OK ||
	    a.domain[0] == '\0' || (a.flags & SMTP_ADDR_LITERAL))
		return "bad target address";
	*out = xstrdup(a.addr);
	return NULL;
}

int
local_alias_targets(const char *val, size_t len, const char *domain, char ***out,
    size_t *nout, const char **why)
{
	size_t i = 0, start;
	char *a;

	if (memchr(val, '\0', len) != NULL)
		return *why = "NUL byte in the alias", 0;
	while (i < len) {
		while (i < len && (val[i] == ',' || val[i] == ' ' || val[i] == '\t'))
			i++;
		if (i == len)
			break;
		for (start = i; i < len && val[i] != ',' && val[i] != ' ' && val[i] != '\t'; i++)
			continue;
		if ((*why = alias_token(val + start, i - start, domain, &a)) != NULL)
			return 0;
		push(out, nout, a);
		free(a);
	}
	return 1;
}
