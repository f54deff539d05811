/*
 * map: read-only lookups in cdb files (tinycdb), reopened when the file is
 * replaced, and the compiler from text sources ("key value..." lines, '#'
 * comments) to cdb, written atomically (temp, fsync, rename, fsync dir).
 * Keys are stored lower-cased when the map is case-insensitive.
 */
#ifndef POSTERN_MAP_H
#define POSTERN_MAP_H
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"

struct map {
	char *path;
	int fd;			/* -1: not open (missing file = empty map) */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;		/* with dev, ino, mtime: detects a replaced file */
	void *cdb;		/* struct cdb, private */
};

/* Open path (a missing file is an empty map).  0 ok, -1 error. */
int map_open(struct map *m, const char *path) WUR;
/* Reopen if the file was replaced since the last open or check.  0/-1. */
int map_refresh(struct map *m) WUR;
/* Look key up (after map_refresh).  1 found (value appended to val after
 * reset), 0 not found, -1 error. */
int map_lookup(struct map *m, const char *key, struct buf *val) WUR;
void map_close(struct map *m);

/* Compile a text source into a cdb at out (atomic).  Each line: key, then
 * whitespace, then the value (rest of line, trimmed); a key alone maps to
 * "".  Keys are lower-cased.  Duplicate keys or malformed lines are errors.
 * 0 ok, -1 with "src:line: message\n" lines in errors. */
int map_compile(const char *src, const char *out, mode_t mode, struct buf *errors) WUR;
#endif
