/* Allocation wrappers that never return NULL: out of memory is fatal. */
#ifndef POSTERN_XMALLOC_H
#define POSTERN_XMALLOC_H
#include <stddef.h>

/* All return memory the caller frees with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
#endif
