/* libFuzzer target: any bytes as a folder's postern-cache file (UIDVALIDITY
 * 7), loaded by imapd/imap_cache.c (compiled in with its checksums off, so
 * the fuzzer reaches what lies behind them).  Nothing may fault; what is
 * kept is a prefix of the file; every indexed entry is found again by its
 * own uid, unique name and size, with its strings inside that prefix;
 * lookups of other names miss; the parts bits of every entry agree with
 * its strings; an append after the load (direct, or kept and flushed; it
 * cuts any tail past the valid prefix) is found again after a reopen. */
#define IMAP_CACHE_FUZZ 1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_cache.c"

static char dir[PATH_MAX];
static char file[PATH_MAX];

static void
cleanup(void)
{
	char lock[PATH_MAX];

	if (str_format(lock, sizeof(lock), "%s/%s", dir, IMAP_CACHE_LOCK) == 0)
		(void)unlink(lock);
	(void)unlink(file);
	(void)rmdir(dir);
}

static void
setup(void)
{
	if (dir[0] != '\0')
		return;
	if (str_format(dir, sizeof(dir), "/tmp/fuzz_imap_cache.%ld", (long)getpid()) == -1 ||
	    (mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    str_format(file, sizeof(file), "%s/%s", dir, IMAP_CACHE_FILE) == -1)
		abort();
	log_init("fuzz_imap_cache", LOGDEST_STDERR);
	if (atexit(cleanup) != 0)
		abort();
}

static void
put(const uint8_t *d, size_t n)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || write_all(fd, d, n) == -1 || close(fd) == -1)
		abort();
}

/* Every indexed record is found by its own key, within data. */
static void
check_index(struct imap_cache *c)
{
	char name[IMAP_CACHE_UNIQUE_MAX + 16];
	struct imap_cache_entry e;

	for (size_t h = 0; h < c->nslots; h++) {
		const char *p;
		uint32_t ul;

		if (c->keys[h] == 0)
			continue;
		if (c->offs[h] < CACHE_HDR || c->offs[h] + REC_MIN > c->len)
			abort();
		p = c->data + c->offs[h];
		ul = get32(p + 12);
		if (memchr(p + REC_FIXED, '\0', ul) != NULL ||
		    memchr(p + REC_FIXED, ':', ul) != NULL ||
		    memchr(p + REC_FIXED, '/', ul) != NULL)
			continue;	/* no file name looks like that */
		memcpy(name, "cur/", 4);
		memcpy(name + 4, p + REC_FIXED, ul);
		memcpy(name + 4 + ul, ":2,S", 5);
		if (!imap_cache_lookup(c, c->keys[h], name, get64(p + 16), &e))
			abort();
		if (e.envelope < c->data || e.fields + e.fields_len >
		    c->data + c->len || e.body != e.envelope + e.envelope_len ||
		    e.fields != e.bodystructure + e.bodystructure_len)
			abort();
		/* parts agree with the strings (callers trust the bits) */
		if ((e.parts & ~(IMAP_CACHE_STRUCT | IMAP_CACHE_HEADER |
		    IMAP_CACHE_FIELD_BITS)) != 0 ||
		    (!(e.parts & IMAP_CACHE_STRUCT) && e.envelope_len + e.body_len +
		    e.bodystructure_len != 0) ||
		    (!(e.parts & IMAP_CACHE_HEADER) && (e.fields_len != 0 ||
		    (e.parts & IMAP_CACHE_FIELD_BITS) != 0)))
			abort();
		if (imap_cache_lookup(c, c->keys[h], name, get64(p + 16) + 1, &e))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const struct imap_cache_entry add_e = {
		.wire_size = 42, .envelope = "(NIL)", .envelope_len = 5,
		.body = "b", .body_len = 1, .bodystructure = "bs", .bodystructure_len = 2,
		.fields = "From: x\n", .fields_len = 8,
		.parts = IMAP_CACHE_STRUCT | IMAP_CACHE_HEADER | 5,
	};
	struct imap_cache_entry e;
	struct imap_cache *c;
	size_t len;

	setup();
	if (n > (1u << 20))
		return 0;
	put(d, n);
	c = imap_cache_open(dir, 7);
	if (c->disabled || c->len > n || (c->len > 0 && memcmp(c->data, d, c->len) != 0))
		abort();
	check_index(c);
	if (imap_cache_lookup(c, 0, "x", 0, &e))
		abort();
	if (c->hdr == 1 && n > 0 && (d[0] & 1)) {
		len = c->len;
		/* one add now, or kept and flushed (the same append) */
		if ((d[0] & 2) ? imap_cache_add_later(c, 0xfffffff0u, "new/fuzz", 9,
		    &add_e) != 1 || imap_cache_flush(c) != 1 :
		    imap_cache_add(c, 0xfffffff0u, "new/fuzz", 9, &add_e) != 1)
			abort();
		if (c->len <= len)
			abort();
		imap_cache_close(c);
		c = imap_cache_open(dir, 7);
		if (!imap_cache_lookup(c, 0xfffffff0u, "cur/fuzz:2,", 9, &e) ||
		    e.wire_size != 42 || e.bodystructure_len != 2 || e.fields_len != 8 ||
		    e.parts != add_e.parts || memcmp(e.fields, "From: x\n", 8) != 0)
			abort();
	}
	imap_cache_close(c);
	return 0;
}
