/* Unit tests for deliver/local_resolve.c (compiled in): resolution order,
 * address extensions and folders, system users, alias expansion with
 * cycles, self-reference, refused file/program targets and size limits.
 * The maps and the passwd database are tables here. */
#include "../../deliver/local_resolve.c"
#include "unit.h"

struct kv {
	const char *k, *v;
};

static const struct kv mailboxes[] = {
	{ "alice@ex.test", "" }, { "carol@ex.test", "1000" }, { "dave@ex.test", "0" },
	{ "badq@ex.test", "lots" }, { NULL, NULL },
};

static const struct kv aliases_base[] = {
	{ "list@ex.test", "alice@ex.test, bob@remote.example sub@ex.test" },
	{ "sub@ex.test", "carol, list@ex.test,alice@ex.test" },
	{ "self@ex.test", "self@ex.test" },
	{ "ping@ex.test", "pong@ex.test" },
	{ "pong@ex.test", "ping@ex.test" },
	{ "file@ex.test", "alice@ex.test /var/mail/x" },
	{ "prog@ex.test", "\"|/bin/true\"" },
	{ "inc@ex.test", ":include:/etc/x" },
	{ "bad@ex.test", "not an@@address" },
	{ "empty@ex.test", "" },
	{ "root@ex.test", "root@ex.test, admin@remote.example" },
	{ "postmaster@ex.test", "root" },
	{ "cyc@ex.test", "a1@ex.test" },
	{ "a1@ex.test", "a2@ex.test, alice@ex.test" },
	{ "a2@ex.test", "a1@ex.test" },
	{ "x+y@ex.test", "alice@ex.test" },
	{ NULL, NULL },
};

static struct kv extra[64];	/* generated aliases for the limit tests */
static int map_fail;

static int
table_lookup(const struct kv *t, const char *key, struct buf *val)
{
	for (size_t i = 0; t[i].k != NULL; i++)
		if (strcasecmp(t[i].k, key) == 0)
			return buf_puts(val, t[i].v) == -1 ? -1 : 1;
	return 0;
}

static int
fake_map(void *ctx, enum local_map_id which, const char *key, struct buf *val)
{
	int r;

	(void)ctx;
	buf_reset(val);
	if (map_fail)
		return -1;
	if (which == LOCAL_MAP_MAILBOXES)
		return table_lookup(mailboxes, key, val);
	if ((r = table_lookup(aliases_base, key, val)) != 0)
		return r;
	return table_lookup(extra, key, val);
}

static int
fake_passwd(void *ctx, const char *name, struct local_pw *pw)
{
	(void)ctx;
	if (strcmp(name, "root") != 0 && strcmp(name, "sysuser") != 0)
		return 0;
	if (str_copy(pw->name, sizeof(pw->name), name) == -1 ||
	    str_copy(pw->home, sizeof(pw->home), "/home/x") == -1)
		return -1;
	pw->uid = 1001;
	pw->gid = 1001;
	return 1;
}

static const struct local_lookup lk = { fake_map, fake_passwd, NULL };
static struct local_params params = { "+", 1, 0 };

static void
resolve(const char *addr, struct local_target *t)
{
	struct smtp_addr a;

	if (smtp_mailbox_parse(addr, strlen(addr), SMTP_PARSE_UTF8, &a) != SMTP_P_OK) {
		fprintf(stderr, "test address %s does not parse\n", addr);
		memset(t, 0, sizeof(*t));
		return;
	}
	local_resolve(&lk, &params, &a, t);
}

/* The forward list joined with spaces. */
static const char *
fwd(const struct local_target *t)
{
	static char out[4096];
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->nforward; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? " " : "",
		    t->forward[i]);
	return out;
}

static void
test_mailboxes(void)
{
	struct local_target t;

	resolve("alice@ex.test", &t);
	CHECK(t.status[0] == '\0' && t.kind == LOCAL_VIRTUAL && !t.alias && t.quota == 0);
	CHECK_STR(t.addr, "alice@ex.test");
	CHECK_STR(t.local, "alice");
	CHECK_STR(t.domain, "ex.test");
	resolve("Carol@ex.test", &t);
	CHECK(t.kind == LOCAL_VIRTUAL && t.quota == 1000);
	CHECK_STR(t.addr, "carol@ex.test");
	resolve("dave@ex.test", &t);
	CHECK(t.kind == LOCAL_VIRTUAL && t.quota == 0);
	resolve("badq@ex.test", &t);
	CHECK(strncmp(t.status, "defer 4.3.0", 11) == 0);
	resolve("nobody@ex.test", &t);
	CHECK_STR(t.status, "fail 5.1.1 user unknown");
	CHECK(t.kind == LOCAL_NONE);
	map_fail = 1;
	resolve("alice@ex.test", &t);
	CHECK(strncmp(t.status, "defer 4.3.0", 11) == 0);
	map_fail = 0;
}

static void
test_extensions(void)
{
	struct local_target t;

	resolve("alice+work@ex.test", &t);
	CHECK(t.kind == LOCAL_VIRTUAL && t.status[0] == '\0');
	CHECK_STR(t.addr, "alice@ex.test");
	CHECK_STR(t.folder, "work");
	resolve("alice+a.b@ex.test", &t);
	CHECK_STR(t.folder, "a.b");
	resolve("alice+.x@ex.test", &t);	/* not a folder name: the inbox */
	CHECK(t.kind == LOCAL_VIRTUAL);
	CHECK_STR(t.folder, "");
	resolve("alice+@ex.test", &t);
	CHECK(t.kind == LOCAL_VIRTUAL);
	CHECK_STR(t.folder, "");
	resolve("alice+x+y@ex.test", &t);	/* the first delimiter splits */
	CHECK(t.kind == LOCAL_VIRTUAL);
	CHECK_STR(t.folder, "x+y");
	resolve("+alice@ex.test", &t);
	CHECK_STR(t.status, "fail 5.1.1 user unknown");
	resolve("x+y@ex.test", &t);		/* an exact alias wins over the extension */
	CHECK(t.alias && t.nforward == 1);
	local_target_free(&t);
	params.extension_folders = 0;
	resolve("alice+work@ex.test", &t);
	CHECK(t.kind == LOCAL_VIRTUAL);
	CHECK_STR(t.folder, "");
	params.extension_folders = 1;
	params.delimiter = "";
	resolve("alice+work@ex.test", &t);
	CHECK_STR(t.status, "fail 5.1.1 user unknown");
	params.delimiter = "-";
	resolve("alice-work@ex.test", &t);
	CHECK(t.kind == LOCAL_VIRTUAL);
	CHECK_STR(t.folder, "work");
	params.delimiter = "+";
	resolve("\"alice+work x\"@ex.test", &t);	/* quoted: never split */
	CHECK_STR(t.status, "fail 5.1.1 user unknown");
}

static void
test_system_users(void)
{
	struct local_target t;

	resolve("sysuser@ex.test", &t);
	CHECK_STR(t.status, "fail 5.1.1 user unknown");	/* off by default */
	params.system_users = 1;
	resolve("SysUser@ex.test", &t);
	CHECK(t.kind == LOCAL_SYSTEM && t.pw.uid == 1001 && t.status[0] == '\0');
	CHECK_STR(t.pw.name, "sysuser");
	resolve("sysuser+box@ex.test", &t);
	CHECK(t.kind == LOCAL_SYSTEM);
	CHECK_STR(t.folder, "box");
	resolve("sys/user@ex.test", &t);
	CHECK_STR(t.status, "fail 5.1.1 user unknown");
	/* an alias naming itself delivers to its own (system) mailbox too */
	resolve("root@ex.test", &t);
	CHECK(t.alias && t.kind == LOCAL_SYSTEM && t.status[0] == '\0');
	CHECK_STR(fwd(&t), "admin@remote.example");
	local_target_free(&t);
	params.system_users = 0;
	resolve("root@ex.test", &t);
	CHECK(t.alias && t.kind == LOCAL_NONE);
	CHECK_STR(fwd(&t), "admin@remote.example");
	local_target_free(&t);
}

static void
test_aliases(void)
{
	struct local_target t;

	resolve("list@ex.test", &t);
	CHECK(t.alias && t.kind == LOCAL_NONE && t.status[0] == '\0');
	/* sub expands into carol (qualified), list again (a cycle: skipped) and
	 * alice (already met: de-duplicated) */
	CHECK_STR(fwd(&t), "alice@ex.test bob@remote.example carol@ex.test");
	local_target_free(&t);
	resolve("postmaster@ex.test", &t);	/* -> root -> root (self), admin */
	CHECK(t.alias);
	CHECK_STR(fwd(&t), "admin@remote.example");
	local_target_free(&t);
	resolve("cyc@ex.test", &t);
	CHECK_STR(fwd(&t), "alice@ex.test");
	local_target_free(&t);
	resolve("self@ex.test", &t);
	CHECK(strncmp(t.status, "fail 5.4.6 ", 11) == 0 && t.nforward == 0);
	resolve("ping@ex.test", &t);
	CHECK(strncmp(t.status, "fail 5.4.6 ", 11) == 0);
	local_target_free(&t);
	resolve("empty@ex.test", &t);
	CHECK(strncmp(t.status, "fail 5.4.6 ", 11) == 0);
	resolve("file@ex.test", &t);
	CHECK(strncmp(t.status, "fail 5.3.5 ", 11) == 0 && strstr(t.status, "file") != NULL);
	local_target_free(&t);
	resolve("prog@ex.test", &t);
	CHECK(strncmp(t.status, "fail 5.3.5 ", 11) == 0 && strstr(t.status, "program"));
	local_target_free(&t);
	resolve("inc@ex.test", &t);
	CHECK(strncmp(t.status, "fail 5.3.5 ", 11) == 0);
	local_target_free(&t);
	resolve("bad@ex.test", &t);
	CHECK(strncmp(t.status, "fail 5.3.5 ", 11) == 0);
	local_target_free(&t);
	resolve("list+tag@ex.test", &t);	/* extension of an alias */
	CHECK(t.alias && t.nforward == 3);
	local_target_free(&t);
}

/* d0 -> d1 -> ... -> dN: deeper than LOCAL_ALIAS_DEPTH is too large. */
static void
test_limits(void)
{
	static char keys[64][32], vals[64][32];
	struct local_target t;
	int i;

	for (i = 0; i < 40; i++) {
		CHECK(str_format(keys[i], sizeof(keys[i]), "d%d@ex.test", i) == 0);
		CHECK(str_format(vals[i], sizeof(vals[i]), "d%d@ex.test", i + 1) == 0);
		extra[i].k = keys[i];
		extra[i].v = vals[i];
	}
	extra[i].k = NULL;
	resolve("d21@ex.test", &t);	/* d21 .. d39 -> d40: fine */
	CHECK(t.status[0] == '\0' && t.nforward == 1);
	CHECK_STR(fwd(&t), "d40@ex.test");
	local_target_free(&t);
	resolve("d0@ex.test", &t);
	CHECK_STR(t.status, "defer 4.3.0 alias expansion too large");
	CHECK(t.nforward == 0 || t.status[0] != '\0');
	local_target_free(&t);
	extra[0].k = NULL;
}

/* An alias with more than LOCAL_FORWARD_MAX targets. */
static void
test_fanout(void)
{
	struct buf v = BUF_INIT(BUF_NOLIMIT);
	struct local_target t;

	for (int i = 0; i < LOCAL_FORWARD_MAX + 1; i++)
		CHECK(buf_printf(&v, "u%d@remote.example ", i) == 0);
	extra[0].k = "big@ex.test";
	extra[0].v = buf_cstr(&v);
	extra[1].k = NULL;
	resolve("big@ex.test", &t);
	CHECK_STR(t.status, "defer 4.3.0 alias expansion too large");
	local_target_free(&t);
	buf_truncate(&v, (size_t)(strchr(v.data + v.len / 2, ' ') - v.data));
	resolve("big@ex.test", &t);
	CHECK(t.status[0] == '\0' && t.nforward > LOCAL_FORWARD_MAX / 3 &&
	    t.nforward < LOCAL_FORWARD_MAX);
	local_target_free(&t);
	extra[0].k = NULL;
	buf_free(&v);
}

static void
test_targets(void)
{
	static const struct {
		const char *val;
		int ok;
		const char *want;
	} t[] = {
		{ "a@x.example", 1, "a@x.example" },
		{ " a@x.example,,b@Y.Example\tc ", 1, "a@x.example b@y.example c@dom.test" },
		{ "<a@x.example>", 1, "a@x.example" },
		{ "", 1, "" },
		{ "|/bin/true", 0, NULL },
		{ "\"|/bin/true\"", 0, NULL },
		{ "/tmp/file", 0, NULL },
		{ "~/mbox", 0, NULL },
		{ ":include:/x", 0, NULL },
		{ "a@[192.0.2.1]", 0, NULL },
		{ "a@", 0, NULL },
		{ "@x", 0, NULL },
		{ "a@b@c", 0, NULL },
	};
	char **out;
	size_t n, j;
	const char *why;
	char joined[512];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		out = NULL;
		n = 0;
		CHECK(local_alias_targets(t[i].val, strlen(t[i].val), "dom.test", &out, &n,
		    &why) == t[i].ok);
		joined[0] = '\0';
		for (j = 0; j < n; j++) {
			if (t[i].ok)
				CHECK(str_format(joined + strlen(joined), sizeof(joined) -
				    strlen(joined), "%s%s", j ? " " : "", out[j]) == 0);
			free(out[j]);
		}
		free(out);
		if (t[i].ok)
			CHECK_STR(joined, t[i].want);
	}
	out = NULL;
	n = 0;
	CHECK(local_alias_targets("a@x\0b@y", 7, "d", &out, &n, &why) == 0);
}

int
main(void)
{
	test_mailboxes();
	test_extensions();
	test_system_users();
	test_aliases();
	test_limits();
	test_fanout();
	test_targets();
	return UNIT_DONE();
}
