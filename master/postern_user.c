/*
 * postern_user: `postern user add|passwd|del|quota|list|test`, run by the admin
 * (root).  Maintains paths.maps/users and rebuilds its maps.  Passwords come
 * only from standard input, are hashed with yescrypt and wiped after use.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/file.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "ipc.h"
#include "map.h"
#include "postern_user.h"
#include "userdb.h"
#include "util.h"

#define PASS_MAX	1024	/* what auth accepts */

static const char no_argv_pass[] =
    "postern: passwords are never taken from the command line; give it on standard input\n";

/* Read one line from fd 0 into pw[PASS_MAX + 1] without stdio (no copies
 * left in its buffers).  Length, or -1 with a message printed. */
static ssize_t
read_line(char *pw)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(0, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			fprintf(stderr, "postern: reading the password: %s\n", strerror(errno));
			return -1;
		}
		if (r == 0 || c == '\n')
			break;
		if (n == PASS_MAX) {
			fprintf(stderr, "postern: password longer than %d bytes\n", PASS_MAX);
			return -1;
		}
		pw[n++] = c;
	}
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	if (memchr(pw, '\0', n) != NULL) {
		fprintf(stderr, "postern: NUL byte in the password\n");
		return -1;
	}
	return (ssize_t)n;
}

/* Prompt on the terminal with echo off and read one line. */
static ssize_t
read_tty(const char *prompt, char *pw)
{
	struct termios old, quiet;
	ssize_t n;

	if (tcgetattr(0, &old) == -1) {
		fprintf(stderr, "postern: tcgetattr: %s\n", strerror(errno));
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(0, TCSAFLUSH, &quiet) == -1) {
		fprintf(stderr, "postern: tcsetattr: %s\n", strerror(errno));
		return -1;
	}
	n = read_line(pw);
	if (tcsetattr(0, TCSAFLUSH, &old) == -1)
		fprintf(stderr, "postern: cannot restore the terminal: %s\n", strerror(errno));
	fputc('\n', stderr);
	return n;
}

/* The password from stdin (twice on a terminal when confirm is set).
 * 0 and pw filled, -1 with a message. */
static int
get_password(char *pw, int confirm)
{
	char again[PASS_MAX + 1];
	ssize_t n;
	int rc = 0;

	if (!isatty(0))
		n = read_line(pw);
	else if ((n = read_tty("Password: ", pw)) >= 0 && confirm) {
		if (read_tty("Again: ", again) == -1 || strcmp(pw, again) != 0) {
			fprintf(stderr, "postern: the passwords do not match\n");
			rc = -1;
		}
		explicit_bzero(again, sizeof(again));
	}
	if (n == -1)
		rc = -1;
	else if (rc == 0 && n == 0) {
		fprintf(stderr, "postern: empty password refused\n");
		rc = -1;
	}
	if (rc == -1)
		explicit_bzero(pw, PASS_MAX + 1);
	return rc;
}

/* yescrypt hash of pw into hash[USERDB_HASH_MAX + 1].  0/-1. */
static int
hash_password(const char *pw, char *hash)
{
	char *setting, *h;
	void *data = NULL;
	int size = 0, rc = -1;

	if ((setting = crypt_gensalt_ra("$y$", 0, NULL, 0)) == NULL) {
		fprintf(stderr, "postern: crypt_gensalt: %s\n", strerror(errno));
		return -1;
	}
	h = crypt_ra(pw, setting, &data, &size);
	if (h == NULL || h[0] == '*' || !userdb_hash_valid(h, strlen(h)) ||
	    str_copy(hash, USERDB_HASH_MAX + 1, h) == -1)
		fprintf(stderr, "postern: crypt failed: %s\n", strerror(errno));
	else
		rc = 0;
	if (data != NULL) {
		explicit_bzero(data, (size_t)size);
		free(data);
	}
	free(setting);
	return rc;
}

/* Normalize argv's address and check its domain is ours.  0/-1. */
static int
get_address(const struct config *c, const char *arg, char *addr)
{
	const char *err;

	if (!userdb_address_normalize(arg, strlen(arg), addr, USERDB_ADDR_MAX + 1, &err)) {
		fprintf(stderr, "postern: %s: %s\n", arg, err);
		return -1;
	}
	if (!config_is_local_domain(c, strchr(addr, '@') + 1)) {
		fprintf(stderr, "postern: %s: domain is not in the config's domains (%s)\n",
		    addr, c->path != NULL ? c->path : "postern.conf");
		return -1;
	}
	return 0;
}

/* Hold an exclusive lock on the maps directory while editing, so two
 * admins cannot lose each other's change.  fd, or -1 with a message. */
static int
lock_maps(const struct config *c)
{
	int fd;

	if ((fd = open(c->paths_maps, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    flock(fd, LOCK_EX) == -1) {
		fprintf(stderr, "postern: %s: %s\n", c->paths_maps, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
rebuild(const struct config *c)
{
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	int rc = userdb_build_maps(c, &errors);

	if (rc == -1)
		fputs(errors.len ? buf_cstr(&errors) : "postern: cannot build the maps\n",
		    stderr);
	else
		printf("postern: rebuilt %s/users.cdb and %s/mailboxes.cdb\n",
		    c->paths_maps, c->paths_maps);
	buf_free(&errors);
	return rc;
}

enum op { OP_ADD, OP_PASSWD, OP_DEL, OP_QUOTA };

/* Set the quota of an existing entry: 1 done, 0 not found. */
static int
set_quota(struct userdb *db, const char *addr, uint64_t quota)
{
	struct userdb_line *l = userdb_find(db, addr);

	if (l == NULL)
		return 0;
	l->quota = quota;
	return 1;
}

/* Apply op to the source under the lock, save and rebuild.  Exit code. */
static int
edit(const struct config *c, enum op op, const char *addr, const char *hash, uint64_t quota)
{
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	char src[PATH_MAX];
	struct userdb db;
	int lock, r = 0, rc = 1;

	if (str_format(src, sizeof(src), "%s/users", c->paths_maps) == -1) {
		fprintf(stderr, "postern: %s/users: path too long\n", c->paths_maps);
		return 1;
	}
	if ((lock = lock_maps(c)) == -1)
		return 1;
	if (userdb_load(src, &db, &errors) == -1) {
		fputs(buf_cstr(&errors), stderr);
		fprintf(stderr, "postern: fix %s first; nothing changed\n", src);
		goto out;
	}
	if (op == OP_ADD && (r = userdb_add(&db, addr, hash, quota)) == 0)
		fprintf(stderr, "postern: %s already exists (use passwd)\n", addr);
	else if (op == OP_PASSWD && (r = userdb_set_hash(&db, addr, hash)) == 0)
		fprintf(stderr, "postern: %s: no such user\n", addr);
	else if (op == OP_DEL && (r = userdb_del(&db, addr)) == 0)
		fprintf(stderr, "postern: %s: no such user\n", addr);
	else if (op == OP_QUOTA && (r = set_quota(&db, addr, quota)) == 0)
		fprintf(stderr, "postern: %s: no such user\n", addr);
	if (r == 0)
		goto out;
	if (userdb_save(src, &db) == -1) {
		fprintf(stderr, "postern: %s: %s\n", src, strerror(errno));
		goto out;
	}
	if (op == OP_ADD)
		printf("postern: added %s to %s\n", addr, src);
	else if (op == OP_QUOTA && quota == 0)
		printf("postern: %s has no quota now\n", addr);
	else if (op == OP_QUOTA)
		printf("postern: quota of %s set to %" PRIu64 " bytes\n", addr, quota);
	else
		printf("postern: %s %s %s %s\n", op == OP_DEL ? "removed" :
		    "changed the password of", addr, op == OP_DEL ? "from" : "in", src);
	if (op == OP_DEL)
		printf("postern: the mailbox of %s (if any) was left in place\n", addr);
	rc = rebuild(c) == -1 ? 1 : 0;
out:
	userdb_free(&db);
	buf_free(&errors);
	close(lock);
	return rc;
}

/* Nothing may follow ADDRESS: a password there would sit in the shell's
 * history and in every `ps`.  Exit code 0 if the arguments are fine. */
static int
refuse_extra(int argc, int i)
{
	if (argc > i + 1) {
		fputs(no_argv_pass, stderr);
		return 1;
	}
	if (argc < i + 1) {
		fprintf(stderr, "postern: missing ADDRESS\n");
		return 2;
	}
	return 0;
}

static int
cmd_set(const struct config *c, int argc, char **argv, enum op op)
{
	char addr[USERDB_ADDR_MAX + 1], pw[PASS_MAX + 1], hash[USERDB_HASH_MAX + 1];
	uint64_t quota = 0;
	int i = 1, rc;

	if (op == OP_ADD && argc > 3 && strcmp(argv[2], "-q") == 0) {
		if (parse_size(argv[3], &quota) == -1) {
			fprintf(stderr, "postern: bad quota '%s' (bytes, or with K, M, G)\n",
			    argv[3]);
			return 2;
		}
		i = 3;
	}
	if ((rc = refuse_extra(argc, i + 1)) != 0)
		return rc;
	if (op == OP_DEL)
		return get_address(c, argv[i + 1], addr) == -1 ? 1 :
		    edit(c, op, addr, NULL, 0);
	if (get_address(c, argv[i + 1], addr) == -1 || get_password(pw, 1) == -1)
		return 1;
	rc = hash_password(pw, hash);
	explicit_bzero(pw, sizeof(pw));
	if (rc == -1)
		return 1;
	rc = edit(c, op, addr, hash, quota);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

static int
cmd_add(const struct config *c, int argc, char **argv)
{
	return cmd_set(c, argc, argv, OP_ADD);
}

static int
cmd_passwd(const struct config *c, int argc, char **argv)
{
	return cmd_set(c, argc, argv, OP_PASSWD);
}

static int
cmd_del(const struct config *c, int argc, char **argv)
{
	return cmd_set(c, argc, argv, OP_DEL);
}

/* postern user quota ADDRESS SIZE (0 = no quota) */
static int
cmd_quota(const struct config *c, int argc, char **argv)
{
	char addr[USERDB_ADDR_MAX + 1];
	uint64_t quota;

	if (argc != 4) {
		fprintf(stderr, "usage: postern user quota ADDRESS SIZE\n");
		return 2;
	}
	if (parse_size(argv[3], &quota) == -1) {
		fprintf(stderr, "postern: bad quota '%s' (bytes, or with K, M, G; 0 = none)\n",
		    argv[3]);
		return 2;
	}
	if (get_address(c, argv[2], addr) == -1)
		return 1;
	return edit(c, OP_QUOTA, addr, NULL, quota);
}

static int
cmd_list(const struct config *c, int argc, char **argv)
{
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	char src[PATH_MAX];
	struct userdb db;
	size_t i;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: postern user list\n");
		return 2;
	}
	if (str_format(src, sizeof(src), "%s/users", c->paths_maps) == -1) {
		fprintf(stderr, "postern: %s/users: path too long\n", c->paths_maps);
		return 1;
	}
	rc = userdb_load(src, &db, &errors) == -1 ? 1 : 0;
	fputs(buf_cstr(&errors), stderr);
	for (i = 0; i < db.n; i++) {
		if (db.lines[i].address == NULL)
			continue;
		if (db.lines[i].quota != 0)
			printf("%s quota=%" PRIu64 "\n", db.lines[i].address, db.lines[i].quota);
		else
			printf("%s\n", db.lines[i].address);
	}
	userdb_free(&db);
	buf_free(&errors);
	return rc;
}

/* Ask the running auth service.  1 accepted, 0 refused, -1 not reachable. */
static int
test_via_auth(const struct config *c, const char *addr, const char *pw)
{
	struct ipc_msg req, ans;
	char path[PATH_MAX];
	int fd, r, rc = -1;

	if (str_format(path, sizeof(path), "%s/auth.sock", c->paths_runtime) == -1 ||
	    (fd = ipc_connect(path)) == -1)
		return -1;
	ipc_msg_init(&req, IPC_AUTH_VERIFY);
	if (ipc_put_str(&req, "user", addr) == 0 && ipc_put_str(&req, "pass", pw) == 0 &&
	    ipc_put_str(&req, "service", "postern-test") == 0 &&
	    ipc_put_str(&req, "client", "local") == 0) {
		r = ipc_call(fd, &req, &ans, (int)(c->auth_fail_delay * 1000) + 30000);
		if (r == 1 && (ans.type == IPC_OK || ans.type == IPC_AUTH_FAIL))
			rc = ans.type == IPC_OK;
		ipc_msg_free(&ans);
	}
	if (req.body.data != NULL)
		explicit_bzero(req.body.data, req.body.cap);
	ipc_msg_free(&req);
	close(fd);
	return rc;
}

/* Check against users.cdb directly (auth not running).  1/0, -1 error. */
static int
test_via_map(const struct config *c, const char *addr, const char *pw)
{
	struct buf val = BUF_INIT(USERDB_HASH_MAX + 32);
	struct crypt_data *cd;
	char path[PATH_MAX], *sp;
	const char *h;
	struct map m;
	int r;

	if (str_format(path, sizeof(path), "%s/users.cdb", c->paths_maps) == -1 ||
	    map_open(&m, path) == -1) {
		fprintf(stderr, "postern: %s/users.cdb: %s\n", c->paths_maps, strerror(errno));
		return -1;
	}
	r = map_lookup(&m, addr, &val);
	map_close(&m);
	if (r != 1) {
		buf_free(&val);
		return r;
	}
	if ((sp = strchr(val.data, ' ')) != NULL)
		*sp = '\0';
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		buf_free_secret(&val);
		return -1;
	}
	h = crypt_r(pw, val.data, cd);
	r = h != NULL && h[0] != '*' && strcmp(h, val.data) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	buf_free_secret(&val);
	return r;
}

static int
cmd_test(const struct config *c, int argc, char **argv)
{
	char addr[USERDB_ADDR_MAX + 1], pw[PASS_MAX + 1];
	const char *how = "checked by the auth service";
	int rc, r;

	if ((rc = refuse_extra(argc, 2)) != 0)
		return rc;
	if (get_address(c, argv[2], addr) == -1 || get_password(pw, 0) == -1)
		return 1;
	if ((r = test_via_auth(c, addr, pw)) == -1) {
		how = "checked against users.cdb; the auth service is not reachable";
		r = test_via_map(c, addr, pw);
	}
	explicit_bzero(pw, sizeof(pw));
	if (r == 1)
		printf("postern: %s: password accepted (%s)\n", addr, how);
	else if (r == 0)
		printf("postern: %s: authentication failed (%s)\n", addr, how);
	return r == 1 ? 0 : 1;
}

static const struct {
	const char *name;
	int (*run)(const struct config *, int, char **);
} commands[] = {
	{ "add", cmd_add },
	{ "passwd", cmd_passwd },
	{ "del", cmd_del },
	{ "list", cmd_list },
	{ "quota", cmd_quota },
	{ "test", cmd_test },
};

int
postern_user(const struct config *c, int argc, char **argv)
{
	size_t i;

	if (argc >= 2)
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].run(c, argc, argv);
	fprintf(stderr, "usage: postern user add [-q QUOTA] ADDRESS | passwd ADDRESS | "
	    "del ADDRESS | quota ADDRESS SIZE | list | test ADDRESS\n"
	    "       (the password is read from standard input)\n");
	return 2;
}
