/*
 * buf: the length-carrying byte string used everywhere instead of raw
 * string copies.  Every buffer has a hard maximum; growth past it fails.
 * The bytes are always followed by a NUL (not counted in len), so
 * buf_cstr() is valid C text when the contents hold no NUL.
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WUR __attribute__((warn_unused_result))

struct buf {
	char *data;	/* NULL until the first append */
	size_t len;	/* bytes used, not counting the trailing NUL */
	size_t cap;	/* bytes allocated */
	size_t max;	/* hard limit on len */
};

#define BUF_NOLIMIT ((size_t)-1 / 2)
#define BUF_INIT(limit) { NULL, 0, 0, (limit) }

/* Initialise an empty buffer that may hold at most max bytes. */
void buf_init(struct buf *b, size_t max);
/* Append n bytes; 0 on success, -1 (buffer unchanged) if over the limit. */
int buf_append(struct buf *b, const void *p, size_t n) WUR;
int buf_puts(struct buf *b, const char *s) WUR;
int buf_putc(struct buf *b, int c) WUR;
int buf_printf(struct buf *b, const char *fmt, ...) WUR
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) WUR
    __attribute__((format(printf, 2, 0)));
/* Replace the contents. */
int buf_set(struct buf *b, const void *p, size_t n) WUR;
/* Empty the buffer, keeping its memory and limit. */
void buf_reset(struct buf *b);
/* Drop the first n bytes (n > len empties it). */
void buf_consume(struct buf *b, size_t n);
/* Shorten to n bytes (no-op if n >= len). */
void buf_truncate(struct buf *b, size_t n);
/* NUL-terminated view; "" for an empty buffer.  Owned by the buffer. */
const char *buf_cstr(const struct buf *b);
/* Hand the allocation to the caller (who frees it); the buffer is emptied. */
char *buf_release(struct buf *b);
/* Free the memory; wipe first for buffers that held secrets. */
void buf_free(struct buf *b);
void buf_free_secret(struct buf *b);
/* 1 if the contents equal the C string s. */
int buf_eq(const struct buf *b, const char *s);

/* Fill a fixed array; -1 (and dst = "") if it would be truncated. */
int str_copy(char *dst, size_t dstsize, const char *src) WUR;
/* snprintf into a fixed array; -1 on truncation or error. */
int str_format(char *dst, size_t dstsize, const char *fmt, ...) WUR
    __attribute__((format(printf, 3, 4)));

#include "poison.h"
#endif
