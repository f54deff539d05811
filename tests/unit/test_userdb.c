/* Unit tests for common/userdb: address rules, source parsing, edits, the
 * atomic rewrite and the two maps built from it. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map.h"
#include "unit.h"
#include "userdb.h"
#include "util.h"

static const struct {
	const char *in;
	const char *out;	/* NULL: invalid */
} addrs[] = {
	{ "demo@example.test", "demo@example.test" },
	{ "Demo.User@Example.TEST", "demo.user@example.test" },
	{ "a+tag@sub.example.test", "a+tag@sub.example.test" },
	{ "o'neil@x-y.example", "o'neil@x-y.example" },
	{ "x@localhost", "x@localhost" },
	{ "", NULL },
	{ "demo", NULL },
	{ "@example.test", NULL },
	{ "demo@", NULL },
	{ "de mo@example.test", NULL },
	{ "demo@exa mple.test", NULL },
	{ "demo\t@example.test", NULL },
	{ "de:mo@example.test", NULL },
	{ "de/mo@example.test", NULL },
	{ "..@example.test", NULL },
	{ ".demo@example.test", NULL },
	{ "demo.@example.test", NULL },
	{ "de..mo@example.test", NULL },
	{ "a@b@example.test", NULL },
	{ "\"q\"@example.test", NULL },
	{ "demo@example..test", NULL },
	{ "demo@example.test.", NULL },
	{ "demo@-example.test", NULL },
	{ "demo@example-.test", NULL },
	{ "demo@exa_mple.test", NULL },
	{ "demo@[127.0.0.1]", NULL },
	{ "d\x01mo@example.test", NULL },
	{ "d\xc3\xa9mo@example.test", NULL },
	{ "demo@example.test\n", NULL },
};

static void
test_addresses(void)
{
	char out[USERDB_ADDR_MAX + 1], big[400];
	const char *err;
	size_t i;
	int r;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		r = userdb_address_normalize(addrs[i].in, strlen(addrs[i].in), out,
		    sizeof(out), &err);
		if (addrs[i].out != NULL) {
			CHECK(r == 1);
			if (r == 1)
				CHECK_STR(out, addrs[i].out);
		} else {
			CHECK(r == 0 && err != NULL);
			if (r != 0)
				fprintf(stderr, "  accepted: \"%s\"\n", addrs[i].in);
		}
	}
	/* 64-character local part is fine, 65 is not */
	memset(big, 'a', 65);
	memcpy(big + 64, "@example.test", 14);
	CHECK(userdb_address_normalize(big, strlen(big), out, sizeof(out), &err) == 1);
	memset(big, 'a', 65);
	memcpy(big + 65, "@example.test", 14);
	CHECK(userdb_address_normalize(big, strlen(big), out, sizeof(out), &err) == 0);
	/* a NUL inside the given length is refused */
	CHECK(userdb_address_normalize("a\0b@example.test", 16, out, sizeof(out), &err) == 0);
	CHECK(userdb_hash_valid("$y$j9T$abc/def$ghi", 18) == 1);
	CHECK(userdb_hash_valid("", 0) == 0);
	CHECK(userdb_hash_valid("a b", 3) == 0);
	CHECK(userdb_hash_valid("a\x7f", 2) == 0);
}

static const struct {
	const char *text;
	int rc;
	size_t entries;
	const char *error;	/* substring of the errors, or NULL */
} sources[] = {
	{ "", 0, 0, NULL },
	{ "# only a comment\n\n", 0, 0, NULL },
	{ "a@example.test $y$x$y\n", 0, 1, NULL },
	{ "A@Example.Test $y$x$y 1048576\r\n", 0, 1, NULL },
	{ "a@example.test $y$x$y 35M\nb@example.test *\n", 0, 2, NULL },
	{ "  a@example.test\t$y$x$y  ", 0, 1, NULL },
	{ "a@example.test\n", -1, 0, "src:1: expected" },
	{ "a@example.test h 1 extra\n", -1, 0, "src:1: expected" },
	{ "\n\nbad address h\n", -1, 0, "src:3: bad address" },
	{ "a@example.test h 12X\n", -1, 0, "bad quota" },
	{ "a@example.test h\nA@EXAMPLE.TEST h2\n", -1, 1, "src:2: duplicate address" },
	{ "a@example.test h\x01x\n", -1, 0, "control character" },
	{ "a@example.test h\0x\n", -1, 0, "NUL byte" },
};

static size_t
count_entries(const struct userdb *db)
{
	size_t i, n = 0;

	for (i = 0; i < db->n; i++)
		n += db->lines[i].address != NULL;
	return n;
}

static void
test_parse(void)
{
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	struct userdb db;
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		buf_reset(&errors);
		len = strlen(sources[i].text);
		if (strcmp(sources[i].text, "a@example.test h") == 0)
			len = 20;	/* the one with a NUL inside */
		rc = userdb_parse("src", sources[i].text, len, &db, &errors);
		CHECK(rc == sources[i].rc);
		CHECK(count_entries(&db) == sources[i].entries);
		if (sources[i].error != NULL)
			CHECK(strstr(buf_cstr(&errors), sources[i].error) != NULL);
		else
			CHECK(errors.len == 0);
		if (rc != sources[i].rc || (sources[i].error && !strstr(buf_cstr(&errors),
		    sources[i].error)))
			fprintf(stderr, "  case %zu: rc %d errors \"%s\"\n", i, rc,
			    buf_cstr(&errors));
		userdb_free(&db);
	}
	buf_reset(&errors);
	CHECK(userdb_parse("src", "A@Example.Test $y$x$y 1K\n", 25, &db, &errors) == 0);
	CHECK(db.n == 1 && db.lines[0].quota == 1024);
	CHECK_STR(db.lines[0].address, "a@example.test");
	CHECK_STR(db.lines[0].hash, "$y$x$y");
	userdb_free(&db);
	buf_free(&errors);
}

static void
test_edit_and_format(void)
{
	const char *src = "# users\nb@example.test hb\n\n# end\n";
	struct buf errors = BUF_INIT(BUF_NOLIMIT), out = BUF_INIT(BUF_NOLIMIT);
	struct userdb db;

	CHECK(userdb_parse("src", src, strlen(src), &db, &errors) == 0);
	CHECK(userdb_add(&db, "a@example.test", "ha", 0) == 1);
	CHECK(userdb_add(&db, "a@example.test", "hx", 0) == 0);
	CHECK(userdb_add(&db, "c@example.test", "hc", 500) == 1);
	CHECK(userdb_set_hash(&db, "b@example.test", "hb2") == 1);
	CHECK(userdb_set_hash(&db, "x@example.test", "hx") == 0);
	CHECK(userdb_del(&db, "a@example.test") == 1);
	CHECK(userdb_del(&db, "a@example.test") == 0);
	CHECK(userdb_find(&db, "c@example.test") != NULL);
	CHECK(userdb_find(&db, "a@example.test") == NULL);
	CHECK(userdb_format(&db, &out) == 0);
	CHECK_STR(buf_cstr(&out), "# users\nb@example.test hb2\n\n# end\nc@example.test hc 500\n");
	userdb_free(&db);
	buf_free(&out);
	buf_free(&errors);
}

static void
test_files_and_maps(void)
{
	char dir[] = "/tmp/test_userdb.XXXXXX", path[256], upath[256], mpath[256];
	struct buf errors = BUF_INIT(BUF_NOLIMIT), val = BUF_INIT(4096);
	struct userdb db, db2;
	struct map m;
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(str_format(path, sizeof(path), "%s/users", dir) == 0);
	CHECK(str_format(upath, sizeof(upath), "%s/users.cdb", dir) == 0);
	CHECK(str_format(mpath, sizeof(mpath), "%s/mailboxes.cdb", dir) == 0);
	/* a missing source is an empty db */
	CHECK(userdb_load(path, &db, &errors) == 0 && db.n == 0);
	CHECK(userdb_add(&db, "demo@example.test", "$y$j9T$salt$hash/x", 0) == 1);
	CHECK(userdb_add(&db, "big@example.test", "$6$s$h", 1048576) == 1);
	CHECK(userdb_save(path, &db) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(userdb_load(path, &db2, &errors) == 0 && db2.n == 2);
	CHECK(userdb_find(&db2, "big@example.test") != NULL &&
	    userdb_find(&db2, "big@example.test")->quota == 1048576);
	userdb_free(&db2);

	CHECK(userdb_write_maps(&db, dir, -1, &errors) == 0);
	CHECK(stat(upath, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(stat(mpath, &st) == 0 && (st.st_mode & 07777) == 0644);
	CHECK(map_open(&m, upath) == 0);
	CHECK(map_lookup(&m, "demo@example.test", &val) == 1);
	CHECK_STR(buf_cstr(&val), "$y$j9T$salt$hash/x 0");
	CHECK(map_lookup(&m, "DEMO@example.test", &val) == 1);
	CHECK(map_lookup(&m, "big@example.test", &val) == 1);
	CHECK_STR(buf_cstr(&val), "$6$s$h 1048576");
	CHECK(map_lookup(&m, "nobody@example.test", &val) == 0);
	map_close(&m);
	CHECK(map_open(&m, mpath) == 0);
	CHECK(map_lookup(&m, "demo@example.test", &val) == 1);
	CHECK_STR(buf_cstr(&val), "0");
	CHECK(map_lookup(&m, "big@example.test", &val) == 1);
	CHECK_STR(buf_cstr(&val), "1048576");
	map_close(&m);

	/* a removed user disappears from both maps after a rebuild */
	CHECK(userdb_del(&db, "demo@example.test") == 1);
	CHECK(userdb_write_maps(&db, dir, -1, &errors) == 0);
	CHECK(map_open(&m, upath) == 0);
	CHECK(map_lookup(&m, "demo@example.test", &val) == 0);
	map_close(&m);
	/* no temp files left behind */
	CHECK(unlink(path) == 0 && unlink(upath) == 0 && unlink(mpath) == 0);
	CHECK(rmdir(dir) == 0);
	/* an unwritable directory is an error with a message */
	buf_reset(&errors);
	CHECK(userdb_write_maps(&db, "/nonexistent/dir", -1, &errors) == -1);
	CHECK(strstr(buf_cstr(&errors), "users.cdb") != NULL);
	userdb_free(&db);
	buf_free(&val);
	buf_free(&errors);
}

int
main(void)
{
	test_addresses();
	test_parse();
	test_edit_and_format();
	test_files_and_maps();
	return UNIT_DONE();
}
