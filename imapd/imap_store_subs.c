/*
 * imap_store_subs: the subscriptions file (SUBSCRIBE, UNSUBSCRIBE, LSUB):
 * canonical names one per line, replaced atomically and durably under
 * subscriptions.lock.  Lines that are not valid names are dropped.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "imap_store_int.h"
#include "util.h"
#include "xmalloc.h"

#define SUBS_MAX	(1u << 20)

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct imap_list_entry *)a)->name,
	    ((const struct imap_list_entry *)b)->name);
}

/* The names in the file, canonical, sorted, each once. */
static enum imap_store_err
subs_read(struct imap_store *s, struct imap_list *l)
{
	char path[PATH_MAX], canon[STORE_NAME_SIZE], dir[STORE_NAME_SIZE];
	struct buf b = BUF_INIT(SUBS_MAX);
	size_t k = 0;
	char *line, *nl;

	memset(l, 0, sizeof(*l));
	if (str_format(path, sizeof(path), "%s/%s", s->root, STORE_SUBS_FILE) == -1)
		return IMAP_STORE_IO;
	if (read_file(path, &b, SUBS_MAX) == -1 && errno != ENOENT) {
		buf_free(&b);
		return store_io("read", path);
	}
	for (line = b.data; line != NULL && line < b.data + b.len; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(b.data + b.len - line))) == NULL)
			break;	/* an unfinished last line */
		if (!imap_store_name(line, (size_t)(nl - line), canon, dir, sizeof(canon)))
			continue;
		l->e = xreallocarray(l->e, l->n + 1, sizeof(*l->e));
		l->e[l->n++] = (struct imap_list_entry){ xstrdup(canon),
		    IMAP_LIST_SUBSCRIBED, imap_store_special_use(canon) };
	}
	buf_free(&b);
	if (l->n > 0)
		qsort(l->e, l->n, sizeof(*l->e), cmp_name);
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->e[k - 1].name, l->e[i].name) == 0)
			free(l->e[i].name);
		else
			l->e[k++] = l->e[i];
	}
	l->n = k;
	return IMAP_STORE_OK;
}

enum imap_store_err
imap_store_lsub(struct imap_store *s, struct imap_list *l)
{
	char canon[STORE_NAME_SIZE], path[PATH_MAX];
	enum imap_store_err err;

	if ((err = subs_read(s, l)) != IMAP_STORE_OK)
		return err;
	for (size_t i = 0; i < l->n; i++)
		if (store_resolve(s, l->e[i].name, canon, path) != IMAP_STORE_OK ||
		    maildir_exists(path) != 1)
			l->e[i].flags |= IMAP_LIST_NONEXISTENT;
	return IMAP_STORE_OK;
}

/* Write the names of l (but skip) to the file.  0/-1. */
static int
subs_write(struct imap_store *s, const struct imap_list *l, const char *skip,
    const char *add)
{
	char path[PATH_MAX];
	struct buf b = BUF_INIT(SUBS_MAX);
	int r = 0;

	for (size_t i = 0; r == 0 && i < l->n; i++)
		if (skip == NULL || strcmp(l->e[i].name, skip) != 0)
			r = buf_printf(&b, "%s\n", l->e[i].name);
	if (r == 0 && add != NULL)
		r = buf_printf(&b, "%s\n", add);
	if (r == 0 && str_format(path, sizeof(path), "%s/%s", s->root,
	    STORE_SUBS_FILE) == -1)
		r = -1;
	if (r == -1)
		errno = EFBIG;
	else
		r = write_file_atomic(path, b.data != NULL ? b.data : "", b.len, 0600);
	buf_free(&b);
	return r;
}

enum imap_store_err
imap_store_subscribe(struct imap_store *s, const char *name, int on)
{
	char canon[STORE_NAME_SIZE], path[PATH_MAX], lock[PATH_MAX];
	struct imap_list l;
	enum imap_store_err err;
	int lockfd, have = 0;

	if ((err = store_resolve(s, name, canon, path)) != IMAP_STORE_OK)
		return err;
	if (str_format(lock, sizeof(lock), "%s/%s.lock", s->root, STORE_SUBS_FILE) == -1)
		return IMAP_STORE_IO;
	if ((lockfd = store_lock_file(lock)) == -1)
		return store_io("lock", lock);
	if ((err = subs_read(s, &l)) == IMAP_STORE_OK) {
		for (size_t i = 0; i < l.n; i++)
			have |= strcmp(l.e[i].name, canon) == 0;
		if (on && !have && subs_write(s, &l, NULL, canon) == -1)
			err = store_io("write", STORE_SUBS_FILE);
		if (!on && have && subs_write(s, &l, canon, NULL) == -1)
			err = store_io("write", STORE_SUBS_FILE);
		imap_list_free(&l);
	}
	store_unlock(lockfd);
	return err;
}
