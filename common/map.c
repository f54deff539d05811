/*
 * map: cdb lookups (tinycdb) for auth, smtpd and local delivery, and the
 * text-to-cdb compiler used by `postern map`.  The cdb files are written by
 * root from admin-owned sources; lookups still bound what they return by
 * the caller's buffer limit.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "map.h"
#include "util.h"
#include "xmalloc.h"

#define MAP_MAXLINE 8192

static void
map_lower(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

/* Close the current file (the map becomes empty). */
static void
map_unload(struct map *m)
{
	if (m->fd != -1) {
		cdb_free(m->cdb);
		close(m->fd);
	}
	m->fd = -1;
	m->dev = 0;
	m->ino = 0;
	m->mtime.tv_sec = 0;
	m->mtime.tv_nsec = 0;
	m->size = 0;
}

/* (Re)load m->path into m; on failure m is left as it was.  0/-1. */
static int
map_load(struct map *m)
{
	struct cdb c;
	struct stat st;
	int fd;

	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			return -1;
		map_unload(m);
		return 0;
	}
	if (fstat(fd, &st) == -1 || (!S_ISREG(st.st_mode) && (errno = EINVAL)) ||
	    cdb_init(&c, fd) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	map_unload(m);
	*(struct cdb *)m->cdb = c;
	m->fd = fd;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->mtime = st.st_mtim;
	m->size = st.st_size;
	return 0;
}

int
map_open(struct map *m, const char *path)
{
	m->path = xstrdup(path);
	m->fd = -1;
	m->cdb = xcalloc(1, sizeof(struct cdb));
	map_unload(m);
	if (map_load(m) == -1) {
		map_close(m);
		return -1;
	}
	return 0;
}

int
map_refresh(struct map *m)
{
	struct stat st;

	if (stat(m->path, &st) == -1) {
		if (errno != ENOENT)
			return -1;
		map_unload(m);
		return 0;
	}
	if (m->fd != -1 && st.st_dev == m->dev && st.st_ino == m->ino &&
	    st.st_mtim.tv_sec == m->mtime.tv_sec && st.st_mtim.tv_nsec == m->mtime.tv_nsec &&
	    st.st_size == m->size)
		return 0;
	return map_load(m);
}

int
map_lookup(struct map *m, const char *key, struct buf *val)
{
	struct cdb *c = m->cdb;
	size_t klen = strlen(key);
	char *k;
	int r;

	buf_reset(val);
	if (m->fd == -1)
		return 0;
	if (klen > 0xffffffffu)
		return 0;
	k = xmemdup(key, klen + 1);
	map_lower(k, klen);
	r = cdb_find(c, k, (unsigned)klen);
	free(k);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	if (cdb_datalen(c) > 0 && buf_append(val, cdb_get(c, cdb_datalen(c), cdb_datapos(c)),
	    cdb_datalen(c)) == -1)
		return -1;
	return 1;
}

void
map_close(struct map *m)
{
	if (m->cdb != NULL)
		map_unload(m);
	free(m->cdb);
	m->cdb = NULL;
	free(m->path);
	m->path = NULL;
}

/* --- compiler --- */

struct map_src {
	const char *name;
	FILE *fp;
	unsigned long lineno;
	struct buf *errors;
	int nerr;
};

static void map_error(struct map_src *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
map_error(struct map_src *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	s->nerr++;
	va_start(ap, fmt);
	r = buf_printf(s->errors, "%s:%lu: ", s->name, s->lineno) == -1 ? -1 :
	    buf_vprintf(s->errors, fmt, ap);
	va_end(ap);
	if (r == -1 || buf_putc(s->errors, '\n') == -1) {
		/* errors buffer full: the count still fails the compile */
	}
}

/* Next line into line[MAP_MAXLINE+1] without its '\n': length, -1 at EOF,
 * -2 too long (rest of the line skipped), -3 NUL byte, -4 read error. */
static long
map_getline(struct map_src *s, char *line)
{
	long n = 0;
	int c, bad = 0;

	s->lineno++;
	while ((c = getc(s->fp)) != EOF && c != '\n') {
		if (c == '\0')
			bad = -3;
		if (n < MAP_MAXLINE)
			line[n] = (char)c;
		else if (bad == 0)
			bad = -2;
		n++;
	}
	if (ferror(s->fp))
		return -4;
	if (c == EOF && n == 0)
		return -1;
	line[n < MAP_MAXLINE ? n : MAP_MAXLINE] = '\0';
	return bad ? bad : n;
}

static int
map_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Parse one text line and add it to the cdb being made. */
static void
map_add_line(struct map_src *s, struct cdb_make *cm, char *line, size_t n)
{
	size_t i = 0, klen, vstart;

	while (n > 0 && map_space(line[n - 1]))
		n--;
	while (i < n && map_space(line[i]))
		i++;
	if (i == n || line[i] == '#')
		return;
	for (klen = 0; i + klen < n && !map_space(line[i + klen]); klen++)
		continue;
	for (vstart = i + klen; vstart < n && map_space(line[vstart]); vstart++)
		continue;
	line[i + klen] = '\0';
	map_lower(line + i, klen);
	if (cdb_make_exists(cm, line + i, (unsigned)klen) != 0) {
		map_error(s, "duplicate key '%s'", line + i);
		return;
	}
	if (cdb_make_add(cm, line + i, (unsigned)klen, line + vstart, (unsigned)(n - vstart)) != 0)
		map_error(s, "cannot add key '%s'", line + i);
}

/* Read every line of the source into cm; errors counted in s->nerr. */
static void
map_read_source(struct map_src *s, struct cdb_make *cm)
{
	char *line = xmalloc(MAP_MAXLINE + 1);
	long n;

	while ((n = map_getline(s, line)) != -1) {
		if (n == -2)
			map_error(s, "line longer than %d bytes", MAP_MAXLINE);
		else if (n == -3)
			map_error(s, "NUL byte in line");
		else if (n == -4) {
			map_error(s, "read error: %s", strerror(errno));
			break;
		} else
			map_add_line(s, cm, line, (size_t)n);
	}
	free(line);
}

/* Write the cdb for s into a new file fd (already created).  0/-1. */
static int
map_write(struct map_src *s, int fd, mode_t mode)
{
	struct cdb_make cm;

	if (fchmod(fd, mode) == -1 || cdb_make_start(&cm, fd) != 0) {
		map_error(s, "cannot write: %s", strerror(errno));
		return -1;
	}
	map_read_source(s, &cm);
	if (cdb_make_finish(&cm) != 0) {
		map_error(s, "cannot write: %s", strerror(errno));
		return -1;
	}
	return s->nerr == 0 ? 0 : -1;	/* atomic_end syncs */
}

int
map_compile(const char *src, const char *out, mode_t mode, struct buf *errors)
{
	struct map_src s = { src, NULL, 0, errors, 0 };
	char tmp[PATH_MAX];
	int fd, r = -1;

	if ((s.fp = fopen(src, "re")) == NULL) {
		if (buf_printf(errors, "%s: cannot open: %s\n", src, strerror(errno)) == -1) {
			/* full */
		}
		return -1;
	}
	if ((fd = atomic_begin(out, tmp, sizeof(tmp))) == -1)
		map_error(&s, "cannot create temporary file: %s", strerror(errno));
	else {
		r = map_write(&s, fd, mode);
		if (atomic_end(fd, tmp, out, r == 0) == -1 && r == 0) {
			map_error(&s, "cannot replace %s: %s", out, strerror(errno));
			r = -1;
		}
	}
	fclose(s.fp);
	return r;
}
