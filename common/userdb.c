/*
 * userdb: the users source (address hash [quota] lines) and its maps, see
 * userdb.h.  Used by `postern user` as root.  The source is written by an
 * admin or by us; every line is re-validated before it reaches a map.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/stdlib.h>

#include "log.h"
#include "userdb.h"
#include "util.h"
#include "xmalloc.h"

/* RFC 5322 atext without '/', which would be a path separator in mail/. */
static int
local_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-=?^_`{|}~", c) != NULL;
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Dot-atom local part: no leading, trailing or doubled dots. */
static const char *
check_local(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return "empty local part";
	if (n > USERDB_LOCAL_MAX)
		return "local part longer than 64 characters";
	if (s[0] == '.' || s[n - 1] == '.')
		return "local part starts or ends with a dot";
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return "two dots in a row in the local part";
		} else if (!local_char((unsigned char)s[i]))
			return "forbidden character in the local part";
	}
	return NULL;
}

/* Letters, digits and hyphens; labels of 1..63 not starting or ending in '-'. */
static const char *
check_domain(const char *s, size_t n)
{
	size_t i, label = 0;
	char c;

	if (n == 0)
		return "empty domain";
	if (n > USERDB_DOMAIN_MAX)
		return "domain longer than 253 characters";
	for (i = 0; i <= n; i++) {
		c = i < n ? s[i] : '.';
		if (c == '.') {
			if (label == 0)
				return "empty label in the domain";
			if (s[i - 1] == '-')
				return "domain label ends with a hyphen";
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return "forbidden character in the domain";
		if (c == '-' && label == 0)
			return "domain label starts with a hyphen";
		if (++label > 63)
			return "domain label longer than 63 characters";
	}
	return NULL;
}

int
userdb_address_normalize(const char *in, size_t len, char *out, size_t outsize,
    const char **error_r)
{
	const char *at, *err;
	size_t i;

	*error_r = NULL;
	if (len > USERDB_ADDR_MAX) {
		*error_r = "address longer than 254 characters";
		return 0;
	}
	if ((at = memchr(in, '@', len)) == NULL) {
		*error_r = "address has no '@'";
		return 0;
	}
	if ((err = check_local(in, (size_t)(at - in))) != NULL ||
	    (err = check_domain(at + 1, len - (size_t)(at - in) - 1)) != NULL) {
		*error_r = err;
		return 0;
	}
	if (outsize < len + 1) {
		*error_r = "address too long";
		return 0;
	}
	for (i = 0; i < len; i++)
		out[i] = lower(in[i]);
	out[len] = '\0';
	return 1;
}

int
userdb_hash_valid(const char *h, size_t len)
{
	size_t i;

	if (len == 0 || len > USERDB_HASH_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f)
			return 0;
	return 1;
}

/* --- the source --- */

static void parse_error(struct buf *errors, const char *name, size_t lineno,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
parse_error(struct buf *errors, const char *name, size_t lineno, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_printf(errors, "%s:%zu: ", name, lineno) == -1 ? -1 :
	    buf_vprintf(errors, fmt, ap);
	va_end(ap);
	if (r == -1 || buf_putc(errors, '\n') == -1) {
		/* errors buffer full: the caller still sees -1 */
	}
}

static struct userdb_line *
db_append(struct userdb *db)
{
	struct userdb_line *l;

	db->lines = xreallocarray(db->lines, db->n + 1, sizeof(*db->lines));
	l = &db->lines[db->n++];
	memset(l, 0, sizeof(*l));
	return l;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Split s[0..n) into at most 4 whitespace-separated fields; the count. */
static int
split_fields(const char *s, size_t n, const char *f[4], size_t flen[4])
{
	size_t i = 0, start;
	int k = 0;

	while (i < n) {
		while (i < n && is_space(s[i]))
			i++;
		if (i == n)
			break;
		if (k == 4)
			return 5;
		start = i;
		while (i < n && !is_space(s[i]))
			i++;
		f[k] = s + start;
		flen[k++] = i - start;
	}
	return k;
}

/* "1048576", "512M": bytes.  0/-1. */
static int
parse_quota(const char *s, size_t n, uint64_t *out)
{
	char num[32];

	if (n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	return parse_size(num, out);
}

/* One line (without its newline); problems go to errors.  0/-1. */
static int
parse_line(const char *name, size_t lineno, const char *s, size_t n,
    struct userdb *db, struct buf *errors)
{
	char addr[USERDB_ADDR_MAX + 1];
	const char *f[4], *err;
	struct userdb_line *l;
	size_t flen[4], i;
	uint64_t quota = 0;
	int k;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < ' ' && s[i] != '\t') {
			parse_error(errors, name, lineno, "control character in line");
			return -1;
		}
	for (i = 0; i < n && is_space(s[i]); i++)
		continue;
	if (i == n || s[i] == '#') {
		db_append(db)->raw = xstrndup(s, n);
		return 0;
	}
	k = split_fields(s, n, f, flen);
	if (k < 2 || k > 3) {
		parse_error(errors, name, lineno, "expected: address hash [quota]");
		return -1;
	}
	if (!userdb_address_normalize(f[0], flen[0], addr, sizeof(addr), &err)) {
		parse_error(errors, name, lineno, "bad address: %s", err);
		return -1;
	}
	if (!userdb_hash_valid(f[1], flen[1])) {
		parse_error(errors, name, lineno, "bad password hash");
		return -1;
	}
	if (k == 3 && parse_quota(f[2], flen[2], &quota) == -1) {
		parse_error(errors, name, lineno, "bad quota (bytes, or with K, M, G)");
		return -1;
	}
	if (userdb_find(db, addr) != NULL) {
		parse_error(errors, name, lineno, "duplicate address %s", addr);
		return -1;
	}
	l = db_append(db);
	l->address = xstrdup(addr);
	l->hash = xstrndup(f[1], flen[1]);
	l->quota = quota;
	return 0;
}

int
userdb_parse(const char *name, const char *text, size_t len, struct userdb *db,
    struct buf *errors)
{
	size_t pos = 0, lineno = 0, n;
	const char *nl;
	int rc = 0;

	db->lines = NULL;
	db->n = 0;
	while (pos < len) {
		lineno++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > 0 && text[pos + n - 1] == '\r')
			n--;
		if (memchr(text + pos, '\0', n) != NULL) {
			parse_error(errors, name, lineno, "NUL byte in line");
			rc = -1;
		} else if (parse_line(name, lineno, text + pos, n, db, errors) == -1)
			rc = -1;
		pos += nl != NULL ? (size_t)(nl - (text + pos)) + 1 : len - pos;
	}
	return rc;
}

int
userdb_load(const char *path, struct userdb *db, struct buf *errors)
{
	struct buf text = BUF_INIT(USERDB_SOURCE_MAX);
	int rc;

	db->lines = NULL;
	db->n = 0;
	if (read_file(path, &text, USERDB_SOURCE_MAX) == -1) {
		if (errno == ENOENT) {
			buf_free(&text);
			return 0;
		}
		if (buf_printf(errors, "%s: cannot read: %s\n", path, strerror(errno)) == -1) {
			/* full */
		}
		buf_free_secret(&text);
		return -1;
	}
	rc = userdb_parse(path, text.data != NULL ? text.data : "", text.len, db, errors);
	buf_free_secret(&text);
	return rc;
}

int
userdb_format(const struct userdb *db, struct buf *out)
{
	const struct userdb_line *l;
	size_t i;

	for (i = 0; i < db->n; i++) {
		l = &db->lines[i];
		if (l->raw != NULL) {
			if (buf_printf(out, "%s\n", l->raw) == -1)
				return -1;
		} else if (l->address != NULL) {
			if (buf_printf(out, "%s %s", l->address, l->hash) == -1 ||
			    (l->quota != 0 && buf_printf(out, " %" PRIu64, l->quota) == -1) ||
			    buf_putc(out, '\n') == -1)
				return -1;
		}
	}
	return 0;
}

int
userdb_save(const char *path, const struct userdb *db)
{
	struct buf text = BUF_INIT(USERDB_SOURCE_MAX);
	int rc;

	if (userdb_format(db, &text) == -1) {
		buf_free_secret(&text);
		errno = EFBIG;
		return -1;
	}
	rc = write_file_atomic(path, text.data != NULL ? text.data : "", text.len, 0640);
	buf_free_secret(&text);
	return rc;
}

void
userdb_free(struct userdb *db)
{
	size_t i;

	for (i = 0; i < db->n; i++) {
		free(db->lines[i].raw);
		free(db->lines[i].address);
		if (db->lines[i].hash != NULL)
			freezero(db->lines[i].hash, strlen(db->lines[i].hash));
	}
	free(db->lines);
	db->lines = NULL;
	db->n = 0;
}

/* --- edits --- */

struct userdb_line *
userdb_find(const struct userdb *db, const char *address)
{
	size_t i;

	for (i = 0; i < db->n; i++)
		if (db->lines[i].address != NULL && strcmp(db->lines[i].address, address) == 0)
			return &db->lines[i];
	return NULL;
}

int
userdb_add(struct userdb *db, const char *address, const char *hash, uint64_t quota)
{
	struct userdb_line *l;

	if (userdb_find(db, address) != NULL)
		return 0;
	l = db_append(db);
	l->address = xstrdup(address);
	l->hash = xstrdup(hash);
	l->quota = quota;
	return 1;
}

int
userdb_del(struct userdb *db, const char *address)
{
	struct userdb_line *l = userdb_find(db, address);
	size_t i;

	if (l == NULL)
		return 0;
	i = (size_t)(l - db->lines);
	free(l->address);
	freezero(l->hash, strlen(l->hash));
	memmove(&db->lines[i], &db->lines[i + 1], (db->n - i - 1) * sizeof(*l));
	db->n--;
	return 1;
}

int
userdb_set_hash(struct userdb *db, const char *address, const char *hash)
{
	struct userdb_line *l = userdb_find(db, address);

	if (l == NULL)
		return 0;
	freezero(l->hash, strlen(l->hash));
	l->hash = xstrdup(hash);
	return 1;
}

/* --- maps --- */

/* Write one cdb from db at dir/name: with_hash selects users.cdb's
 * "hash quota" values over mailboxes.cdb's "quota".  0/-1 (errno). */
static int
write_cdb(const struct userdb *db, const char *path, int with_hash, mode_t mode, long gid)
{
	char tmp[PATH_MAX], val[USERDB_HASH_MAX + 32];
	struct cdb_make cm;
	const struct userdb_line *l;
	size_t i;
	int fd, r;

	if ((fd = atomic_begin(path, tmp, sizeof(tmp))) == -1)
		return -1;
	r = (gid != -1 && fchown(fd, 0, (gid_t)gid) == -1) || fchmod(fd, mode) == -1 ||
	    cdb_make_start(&cm, fd) != 0 ? -1 : 0;
	for (i = 0; r == 0 && i < db->n; i++) {
		l = &db->lines[i];
		if (l->address == NULL)
			continue;
		if ((with_hash ? str_format(val, sizeof(val), "%s %" PRIu64, l->hash, l->quota) :
		    str_format(val, sizeof(val), "%" PRIu64, l->quota)) == -1 ||
		    cdb_make_add(&cm, l->address, (unsigned)strlen(l->address), val,
		    (unsigned)strlen(val)) != 0)
			r = -1;
	}
	explicit_bzero(val, sizeof(val));
	if (r == 0 && cdb_make_finish(&cm) != 0)
		r = -1;
	return atomic_end(fd, tmp, path, r == 0);
}

int
userdb_write_maps(const struct userdb *db, const char *dir, long auth_gid,
    struct buf *errors)
{
	static const struct {
		const char *name;
		int with_hash;
		mode_t mode;
	} maps[] = { { "users.cdb", 1, 0640 }, { "mailboxes.cdb", 0, 0644 } };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		if (str_format(path, sizeof(path), "%s/%s", dir, maps[i].name) == -1 ||
		    write_cdb(db, path, maps[i].with_hash, maps[i].mode,
		    maps[i].with_hash ? auth_gid : -1) == -1) {
			if (buf_printf(errors, "%s/%s: cannot write: %s\n", dir, maps[i].name,
			    strerror(errno)) == -1) {
				/* full */
			}
			return -1;
		}
	}
	return 0;
}

int
userdb_build_maps(const struct config *c, struct buf *errors)
{
	char src[PATH_MAX], group[64] = "";
	struct group gr, *res = NULL;
	struct userdb db;
	char mem[16384];
	long gid = -1;
	int rc;

	if (str_format(src, sizeof(src), "%s/users", c->paths_maps) == -1) {
		if (buf_printf(errors, "%s/users: path too long\n", c->paths_maps) == -1) {
			/* full */
		}
		return -1;
	}
	if (geteuid() == 0) {
		if (config_account(c, "auth", group, sizeof(group)) == -1 ||
		    getgrnam_r(group, &gr, mem, sizeof(mem), &res) != 0 || res == NULL) {
			if (buf_printf(errors, "postern: group %s: not found (run install.sh)\n",
			    group) == -1) {
				/* full */
			}
			return -1;
		}
		gid = (long)gr.gr_gid;
	}
	if (userdb_load(src, &db, errors) == -1) {
		userdb_free(&db);
		return -1;
	}
	rc = userdb_write_maps(&db, c->paths_maps, gid, errors);
	userdb_free(&db);
	return rc;
}
