/* util: small parsers and file helpers shared by every process. */
#ifndef POSTERN_UTIL_H
#define POSTERN_UTIL_H
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

/* "30s" "5m" "4h" "5d" "2w" or plain seconds -> *out seconds; 0 ok, -1 bad
 * (empty, sign, space, unknown suffix, or more than INT64_MAX/1000 seconds,
 * so the value in milliseconds never overflows). */
int parse_duration(const char *s, time_t *out) WUR;
/* "512" "512K" "35M" "1G" (K/M/G are 1024-based, either case) -> bytes;
 * 0 ok, -1 bad or overflow. */
int parse_size(const char *s, uint64_t *out) WUR;
/* Decimal unsigned in [min, max]; 0 ok, -1 bad. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) WUR;
/* "yes"/"no" -> 1/0; -1 bad. */
int parse_bool(const char *s) WUR;

/* Replace a file atomically, in two steps.  atomic_begin creates the temp
 * file path.tmp.PID.RANDOM (O_EXCL, 0600, its name in tmp) and returns its
 * descriptor, or -1.  atomic_end with ok = 1 fsyncs and closes fd, renames
 * the temp file over path and fsyncs the directory; with ok = 0 (or on any
 * failure) it closes fd and removes the temp file.  0 when path was
 * replaced, else -1 with errno from the first failure. */
int atomic_begin(const char *path, char *tmp, size_t tmpsize) WUR;
int atomic_end(int fd, const char *tmp, const char *path, int ok) WUR;
/* Write data to path atomically: path.tmp.PID.RANDOM (O_EXCL), fchmod mode,
 * fsync, rename, fsync dir; the temp file is removed on error. 0/-1. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) WUR;
/* fsync the directory that contains path (or the directory path itself). 0/-1. */
int fsync_dir(const char *dirpath) WUR;
int fsync_parent(const char *path) WUR;
/* Read a whole file of at most max bytes into b (appending). 0/-1 (errno set;
 * EFBIG when larger than max). */
int read_file(const char *path, struct buf *b, size_t max) WUR;
/* write(2) all of it, retrying on EINTR/short writes. 0/-1. */
int write_all(int fd, const void *p, size_t n) WUR;
/* Milliseconds from CLOCK_MONOTONIC. */
int64_t now_ms(void);
/* The wait allowed for one read or write: per_wait_ms, capped by what is
 * left until deadline_ms (a now_ms() time), and kept in [1, INT_MAX] so a
 * passed deadline still gives poll(2) a finite, positive timeout. */
int timeout_left_ms(int64_t per_wait_ms, int64_t deadline_ms);
/* Close every descriptor >= lowfd except those listed in keep[nkeep]
 * (close_range(2), falling back to /proc/self/fd). */
void close_fds_from(int lowfd, const int *keep, int nkeep);
/* Set O_NONBLOCK / FD_CLOEXEC. 0/-1. */
int fd_set_nonblock(int fd, int on) WUR;
int fd_set_cloexec(int fd, int on) WUR;
#endif
