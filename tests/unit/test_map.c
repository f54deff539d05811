/* Unit tests for common/map: compile and look up, case folding, missing
 * files, source errors with line numbers, atomic replacement and refresh. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map.h"
#include "unit.h"

static char dir[] = "/tmp/test_map.XXXXXX";
static char src[64], out[64];

static int
write_src(const char *text)
{
	FILE *f = fopen(src, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Entries in dir other than the source and the map. */
static int
stray_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, "src") != 0 && strcmp(e->d_name, "map.cdb") != 0)
			n++;
	closedir(d);
	return n;
}

static int
compile(const char *text, struct buf *errors)
{
	buf_reset(errors);
	if (write_src(text) != 0)
		return -2;
	return map_compile(src, out, 0640, errors);
}

static void
test_compile_lookup(void)
{
	struct buf errors = BUF_INIT(4096), val = BUF_INIT(1000);
	struct map m;
	struct stat st;

	CHECK(compile("# users\n"
	    "\n"
	    "Alice@Example.ORG   $6$salt$hash  quota=10M  \n"
	    "   # indented comment\n"
	    "bob@example.org\t\tTwo Words\r\n"
	    "empty@example.org\n"
	    "  carol@example.org  x\n"
	    "last@example.org no-newline", &errors) == 0);
	CHECK(errors.len == 0);
	CHECK(stat(out, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(stray_files() == 0);

	CHECK(map_open(&m, out) == 0);
	CHECK(m.fd != -1);
	CHECK(map_lookup(&m, "alice@example.org", &val) == 1);
	CHECK_STR(buf_cstr(&val), "$6$salt$hash  quota=10M");
	CHECK(map_lookup(&m, "ALICE@example.org", &val) == 1);
	CHECK_STR(buf_cstr(&val), "$6$salt$hash  quota=10M");
	CHECK(map_lookup(&m, "bob@EXAMPLE.org", &val) == 1);
	CHECK_STR(buf_cstr(&val), "Two Words");
	CHECK(map_lookup(&m, "empty@example.org", &val) == 1);
	CHECK_STR(buf_cstr(&val), "");
	CHECK(map_lookup(&m, "carol@example.org", &val) == 1);
	CHECK_STR(buf_cstr(&val), "x");
	CHECK(map_lookup(&m, "last@example.org", &val) == 1);
	CHECK_STR(buf_cstr(&val), "no-newline");
	CHECK(map_lookup(&m, "nobody@example.org", &val) == 0);
	CHECK(val.len == 0);
	CHECK(map_lookup(&m, "# users", &val) == 0);
	CHECK(map_lookup(&m, "", &val) == 0);
	/* the caller's limit is respected */
	val.max = 3;
	CHECK(map_lookup(&m, "alice@example.org", &val) == -1);
	val.max = 1000;
	CHECK(map_refresh(&m) == 0);
	CHECK(map_lookup(&m, "bob@example.org", &val) == 1);
	map_close(&m);
	buf_free(&errors);
	buf_free(&val);
}

static void
test_errors(void)
{
	struct buf errors = BUF_INIT(4096), big = BUF_INIT(BUF_NOLIMIT);
	struct stat st;

	CHECK(unlink(out) == 0);
	CHECK(compile("a 1\nb 2\n# c\nA 3\nb 4\n", &errors) == -1);
	CHECK(strstr(buf_cstr(&errors), ":4: duplicate key 'a'\n") != NULL);
	CHECK(strstr(buf_cstr(&errors), ":5: duplicate key 'b'\n") != NULL);
	CHECK(strncmp(buf_cstr(&errors), src, strlen(src)) == 0);
	CHECK(stat(out, &st) == -1 && errno == ENOENT);
	CHECK(stray_files() == 0);

	/* a line of 8192 bytes is fine, 8193 is not */
	CHECK(buf_puts(&big, "k ") == 0);
	for (int i = 0; i < 8190; i++)
		if (buf_putc(&big, 'v') == -1)
			CHECK(0);
	CHECK(buf_puts(&big, "\nk2 ") == 0);
	for (int i = 0; i < 8189; i++)
		if (buf_putc(&big, 'w') == -1)
			CHECK(0);
	CHECK(buf_puts(&big, "w\nk3 x\n") == 0);
	CHECK(compile(buf_cstr(&big), &errors) == -1);
	CHECK(strstr(buf_cstr(&errors), ":2: line longer than 8192 bytes\n") != NULL);
	CHECK(strstr(buf_cstr(&errors), ":1:") == NULL);
	CHECK(strstr(buf_cstr(&errors), ":3:") == NULL);

	/* missing source */
	buf_reset(&errors);
	CHECK(map_compile("/nonexistent/src", out, 0600, &errors) == -1);
	CHECK(strstr(buf_cstr(&errors), "/nonexistent/src: cannot open") != NULL);
	CHECK(stray_files() == 0);
	buf_free(&errors);
	buf_free(&big);
}

static void
test_missing_and_replace(void)
{
	struct buf errors = BUF_INIT(4096), val = BUF_INIT(1000);
	struct map m;
	struct stat st;

	/* missing file: an empty map, not an error */
	CHECK(map_open(&m, out) == 0);
	CHECK(m.fd == -1);
	CHECK(map_lookup(&m, "a", &val) == 0);
	CHECK(map_refresh(&m) == 0);

	/* appears later: picked up by refresh */
	CHECK(compile("a old\n", &errors) == 0);
	CHECK(map_lookup(&m, "a", &val) == 0);
	CHECK(map_refresh(&m) == 0);
	CHECK(map_lookup(&m, "a", &val) == 1);
	CHECK_STR(buf_cstr(&val), "old");

	/* replaced atomically: the open map still reads the old file */
	CHECK(compile("a new\nb added\n", &errors) == 0);
	CHECK(stat(out, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(stray_files() == 0);
	CHECK(map_lookup(&m, "a", &val) == 1);
	CHECK_STR(buf_cstr(&val), "old");
	CHECK(map_lookup(&m, "b", &val) == 0);
	CHECK(map_refresh(&m) == 0);
	CHECK(map_lookup(&m, "a", &val) == 1);
	CHECK_STR(buf_cstr(&val), "new");
	CHECK(map_lookup(&m, "b", &val) == 1);
	CHECK_STR(buf_cstr(&val), "added");

	/* a failed compile leaves the old map in place */
	CHECK(compile("a x\na y\n", &errors) == -1);
	CHECK(map_refresh(&m) == 0);
	CHECK(map_lookup(&m, "b", &val) == 1);

	/* a corrupt replacement: refresh fails, the old contents stay */
	CHECK(write_src("not a cdb") == 0 && rename(src, out) == 0);
	CHECK(map_refresh(&m) == -1);
	CHECK(map_lookup(&m, "b", &val) == 1);

	/* removed: empty again */
	CHECK(unlink(out) == 0);
	CHECK(map_refresh(&m) == 0);
	CHECK(map_lookup(&m, "a", &val) == 0);
	map_close(&m);

	CHECK(write_src("garbage") == 0 && rename(src, out) == 0);
	CHECK(map_open(&m, out) == -1);
	CHECK(unlink(out) == 0);

	/* a mode other than the default */
	CHECK(compile("k v\n", &errors) == 0);
	CHECK(map_compile(src, out, 0600, &errors) == 0);
	CHECK(stat(out, &st) == 0 && (st.st_mode & 07777) == 0600);
	buf_free(&errors);
	buf_free(&val);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL || str_format(src, sizeof(src), "%s/src", dir) == -1 ||
	    str_format(out, sizeof(out), "%s/map.cdb", dir) == -1) {
		fprintf(stderr, "cannot make temp dir\n");
		return 1;
	}
	umask(077);
	test_compile_lookup();
	test_errors();
	test_missing_and_replace();
	unlink(src);
	unlink(out);
	if (rmdir(dir) == -1)
		CHECK(0);
	return UNIT_DONE();
}
