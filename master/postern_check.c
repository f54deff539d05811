/*
 * postern_check: validates the configuration and the map sources without
 * starting anything, and compiles a map source to cdb.  Runs as whoever
 * calls it; trusts nothing in the files it reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "map.h"
#include "postern_check.h"
#include "util.h"

int
postern_load(const char *path, struct config *c)
{
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	int rc;

	config_defaults(c);
	rc = config_load(path, c, &errors);
	if (rc == -1) {
		if (errors.len == 0 && buf_printf(&errors, "%s: cannot load\n", path) == -1)
			rc = -1;
		fputs(buf_cstr(&errors), stderr);
	}
	buf_free(&errors);
	return rc;
}

/* Compile maps/NAME into a scratch directory if the source exists.  0/-1. */
static int
check_map(const struct config *c, const char *name, const char *tmpdir)
{
	char src[1024], out[1024];
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	struct stat st;
	int rc;

	if (str_format(src, sizeof(src), "%s/%s", c->paths_maps, name) == -1 ||
	    str_format(out, sizeof(out), "%s/%s.cdb", tmpdir, name) == -1) {
		fprintf(stderr, "postern: %s/%s: path too long\n", c->paths_maps, name);
		return -1;
	}
	if (stat(src, &st) == -1)
		return 0;	/* an absent map is an empty one */
	rc = map_compile(src, out, 0600, &errors);
	if (rc == -1)
		fputs(errors.len ? buf_cstr(&errors) : "map compile failed\n", stderr);
	if (unlink(out) == -1 && errno != ENOENT)
		fprintf(stderr, "postern: unlink %s: %s\n", out, strerror(errno));
	buf_free(&errors);
	return rc;
}

int
postern_check(const char *conf, int argc, char **argv)
{
	static const char *const maps[] = { "users", "aliases", "domains" };
	struct config c;
	char tmpdir[] = "/tmp/postern-check.XXXXXX";
	size_t i;
	int rc = 0;

	if (argc != 1) {
		fprintf(stderr, "usage: postern [-c FILE] check\n");
		return 2;
	}
	if (postern_load(conf, &c) == -1)
		return 1;
	if (mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "postern: mkdtemp: %s\n", strerror(errno));
		config_free(&c);
		return 1;
	}
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (check_map(&c, maps[i], tmpdir) == -1)
			rc = 1;
	if (rmdir(tmpdir) == -1)
		fprintf(stderr, "postern: rmdir %s: %s\n", tmpdir, strerror(errno));
	config_free(&c);
	if (rc == 0)
		printf("postern: configuration OK\n");
	return rc;
}

/* 1 if path names the same file as the users source of the config at conf;
 * 0 if not or if there is no config to compare with. */
static int
is_users_source(const char *conf, const struct stat *st)
{
	struct config c;
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	struct stat ust;
	char users[1024];
	int same = 0;

	config_defaults(&c);
	if (config_load(conf, &c, &errors) == 0 &&
	    str_format(users, sizeof(users), "%s/users", c.paths_maps) == 0 &&
	    stat(users, &ust) == 0)
		same = ust.st_dev == st->st_dev && ust.st_ino == st->st_ino;
	buf_free(&errors);
	config_free(&c);
	return same;
}

/* Compile SOURCE to OUTPUT (default SOURCE.cdb).  The result is never more
 * readable than its source, and the users file is refused: it holds password
 * hashes and has its own builder (postern user), which also keeps the hashes
 * out of the world-readable mailboxes map. */
int
postern_map(const char *conf, int argc, char **argv)
{
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	struct stat st;
	char out[1024];

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: postern map SOURCE [OUTPUT]\n");
		return 2;
	}
	if (stat(argv[1], &st) == -1) {
		fprintf(stderr, "postern: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (is_users_source(conf, &st)) {
		fprintf(stderr, "postern: %s is the users file; it is compiled by "
		    "'postern user' (users.cdb 0640, mailboxes.cdb 0644)\n", argv[1]);
		return 1;
	}
	if (argc == 3) {
		if (str_copy(out, sizeof(out), argv[2]) == -1) {
			fprintf(stderr, "postern: %s: name too long\n", argv[2]);
			return 1;
		}
	} else if (str_format(out, sizeof(out), "%s.cdb", argv[1]) == -1) {
		fprintf(stderr, "postern: %s: name too long\n", argv[1]);
		return 1;
	}
	if (map_compile(argv[1], out, st.st_mode & 0644, &errors) == -1) {
		fputs(errors.len ? buf_cstr(&errors) : "postern: map compile failed\n",
		    stderr);
		buf_free(&errors);
		return 1;
	}
	buf_free(&errors);
	return 0;
}
