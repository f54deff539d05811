/* Unit tests for the IMAP FETCH cache, imapd/imap_cache.c (compiled in):
 * round trips across reopen, 10,000 entries, validation by uid, unique
 * name and size, a UIDVALIDITY change, the last record cut at every
 * offset and damaged at every octet, garbage files, caps, records with
 * some parts only (and inconsistent ones refused), records kept for a
 * later flush, a version-1 file replaced, a symlink, four processes
 * appending and rewriting at once, and compaction. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "../../imapd/imap_cache.c"
#include "unit.h"

static char dir[PATH_MAX];
static char cpath[PATH_MAX];

/* Deterministic strings of message uid, generation gen. */
struct sample {
	char name[128];
	char env[600], body[300], bs[900], fields[200];
	struct imap_cache_entry e;
	uint64_t fsize;
};

static void
sample(struct sample *s, uint32_t uid, unsigned gen)
{
	size_t n;

	if (str_format(s->name, sizeof(s->name), "cur/1733%06u.M%uP%u.host:2,%s",
	    uid, gen, uid * 7, uid % 2 ? "S" : "") == -1)
		abort();
	n = 10 + uid % 500;
	for (size_t i = 0; i < n; i++)
		s->env[i] = (char)('A' + (uid + i + gen) % 26);
	s->env[n / 2] = '\0';	/* binary octets survive */
	s->env[n / 3] = '\r';
	s->e.envelope_len = n;
	n = uid % 3 == 0 ? 0 : 5 + uid % 290;
	for (size_t i = 0; i < n; i++)
		s->body[i] = (char)(uid * 31 + i);
	s->e.body_len = n;
	n = 1 + (uid * 13) % 899;
	for (size_t i = 0; i < n; i++)
		s->bs[i] = (char)('a' + (uid * 3 + i) % 26);
	s->e.bodystructure_len = n;
	s->e.envelope = s->env;
	s->e.body = s->body;
	s->e.bodystructure = s->bs;
	s->e.wire_size = (uint64_t)uid * 1000 + gen;
	n = uid % 5 == 0 ? 0 : 1 + (uid * 7) % 199;
	for (size_t i = 0; i < n; i++)
		s->fields[i] = (char)('A' + (uid * 5 + i) % 26);
	s->e.fields = s->fields;
	s->e.fields_len = n;
	/* parts vary: every combination the format allows */
	s->e.parts = IMAP_CACHE_STRUCT | (uid % 5 == 0 ? 0 :
	    IMAP_CACHE_HEADER | ((uid * 11) & IMAP_CACHE_FIELD_BITS));
	s->fsize = (uint64_t)uid * 977 + gen;
}

static int
add(struct imap_cache *c, uint32_t uid, unsigned gen)
{
	struct sample s;

	sample(&s, uid, gen);
	return imap_cache_add(c, uid, s.name, s.fsize, &s.e);
}

/* 1 if c has exactly sample (uid, gen). */
static int
has(struct imap_cache *c, uint32_t uid, unsigned gen)
{
	struct sample s;
	struct imap_cache_entry e;

	sample(&s, uid, gen);
	if (!imap_cache_lookup(c, uid, s.name, s.fsize, &e))
		return 0;
	return e.wire_size == s.e.wire_size && e.parts == s.e.parts &&
	    e.fields_len == s.e.fields_len &&
	    memcmp(e.fields, s.fields, e.fields_len) == 0 &&
	    e.envelope_len == s.e.envelope_len &&
	    memcmp(e.envelope, s.env, e.envelope_len) == 0 &&
	    e.body_len == s.e.body_len && memcmp(e.body, s.body, e.body_len) == 0 &&
	    e.bodystructure_len == s.e.bodystructure_len &&
	    memcmp(e.bodystructure, s.bs, e.bodystructure_len) == 0;
}

static int
hits(struct imap_cache *c, uint32_t from, uint32_t to, unsigned gen)
{
	int n = 0;

	for (uint32_t u = from; u <= to; u++)
		n += has(c, u, gen);
	return n;
}

static void
put_file(const char *p, size_t n)
{
	int fd;

	if (unlink(cpath) == -1 && errno != ENOENT)
		abort();
	fd = open(cpath, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1 || write_all(fd, p, n) == -1 || close(fd) == -1)
		abort();
}

static size_t
file_size(void)
{
	struct stat st;

	return stat(cpath, &st) == 0 ? (size_t)st.st_size : 0;
}

static ino_t
file_ino(void)
{
	struct stat st;

	return stat(cpath, &st) == 0 ? st.st_ino : 0;
}

/* Temp files left in the folder directory. */
static int
leftovers(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".tmp.") != NULL ||
		    (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, IMAP_CACHE_FILE) != 0 &&
		    strcmp(de->d_name, IMAP_CACHE_LOCK) != 0);
	closedir(d);
	return n;
}

static void
test_roundtrip(void)
{
	struct imap_cache *c;
	struct imap_cache_entry e;
	struct sample s;
	size_t ul;

	(void)unlink(cpath);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 5, 0) == 0);
	CHECK(access(cpath, F_OK) == -1);	/* created by the first add */
	for (uint32_t u = 1; u <= 500; u++)
		CHECK(add(c, u, 0) == 1);
	CHECK(hits(c, 1, 500, 0) == 500);
	imap_cache_close(c);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 500, 0) == 500);
	CHECK(!has(c, 501, 0));
	CHECK(!has(c, 7, 1));	/* another unique name and size */
	sample(&s, 7, 0);
	CHECK(!imap_cache_lookup(c, 7, s.name, s.fsize + 1, &e));
	CHECK(!imap_cache_lookup(c, 7, "cur/other:2,S", s.fsize, &e));
	CHECK(!imap_cache_lookup(c, 8, s.name, s.fsize, &e));
	CHECK(!imap_cache_lookup(c, 0, s.name, s.fsize, &e));
	/* flags and new/ -> cur/ do not change the unique name */
	s.name[strlen(s.name) - 1] = 'T';
	CHECK(imap_cache_lookup(c, 7, s.name, s.fsize, &e));
	CHECK_STR(imap_cache_unique("new/abc.x", &ul), "abc.x");
	CHECK(ul == 5);
	imap_cache_unique("cur/abc.x:2,FS", &ul);
	CHECK(ul == 5);
	/* the same message again: nothing appended; a newer record wins */
	CHECK(add(c, 7, 0) == 1);
	CHECK(add(c, 7, 3) == 1);
	CHECK(has(c, 7, 3) && !has(c, 7, 0));
	imap_cache_close(c);
	c = imap_cache_open(dir, 1);
	CHECK(has(c, 7, 3) && !has(c, 7, 0));
	CHECK(c->nrec == 501);
	imap_cache_close(c);
}

static void
test_many(void)
{
	struct imap_cache *c;

	(void)unlink(cpath);
	c = imap_cache_open(dir, 1);
	for (uint32_t u = 1; u <= 10000; u++)
		if (add(c, u, 0) != 1)
			CHECK(!"add");
	imap_cache_close(c);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 10000, 0) == 10000);
	CHECK(c->nkeys == 10000);
	imap_cache_close(c);
}

static void
test_uidvalidity(void)
{
	struct imap_cache *c;

	(void)unlink(cpath);
	c = imap_cache_open(dir, 1);
	for (uint32_t u = 1; u <= 20; u++)
		CHECK(add(c, u, 0) == 1);
	imap_cache_close(c);
	c = imap_cache_open(dir, 2);	/* folder recreated: all discarded */
	CHECK(hits(c, 1, 20, 0) == 0);
	CHECK(add(c, 5, 9) == 1);
	CHECK(has(c, 5, 9));
	imap_cache_close(c);
	CHECK(leftovers() == 0);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 20, 0) == 0);
	CHECK(!has(c, 5, 9));
	imap_cache_close(c);
	c = imap_cache_open(dir, 2);
	CHECK(has(c, 5, 9));
	CHECK(c->nrec == 1);
	imap_cache_close(c);
}

static void test_damage(struct buf *w, size_t last);

/* Five records; the last is cut at every offset, then damaged at every
 * octet: the first four stay, the last is never trusted. */
static void
test_torn(void)
{
	struct imap_cache *c;
	struct buf whole = BUF_INIT(BUF_NOLIMIT);
	size_t last;

	(void)unlink(cpath);
	c = imap_cache_open(dir, 1);
	for (uint32_t u = 1; u <= 4; u++)
		CHECK(add(c, u, 0) == 1);
	last = c->len;
	CHECK(add(c, 5, 0) == 1);
	imap_cache_close(c);
	CHECK(read_file(cpath, &whole, 1u << 20) == 0);
	CHECK(whole.len > last + REC_MIN);
	for (size_t cut = last; cut < whole.len; cut++) {
		put_file(whole.data, cut);
		c = imap_cache_open(dir, 1);
		if (hits(c, 1, 4, 0) != 4 || has(c, 5, 0))
			CHECK(!"cut");
		/* the next writer cuts the torn tail, then appends (a record
		 * shorter than the one cut) */
		if (add(c, 3, 1) != 1 || file_size() != c->len)
			CHECK(!"append after cut");
		imap_cache_close(c);
		c = imap_cache_open(dir, 1);
		if (hits(c, 1, 2, 0) != 2 || !has(c, 4, 0) || !has(c, 3, 1) ||
		    has(c, 5, 0) || c->nrec != 5)
			CHECK(!"reopen after cut");
		imap_cache_close(c);
	}
	test_damage(&whole, last);
	buf_free(&whole);
}

/* The file of test_torn damaged at every octet of its last record, in
 * the middle, and in the header. */
static void
test_damage(struct buf *w, size_t last)
{
	struct buf whole = *w;
	struct imap_cache *c;

	for (size_t i = last; i < whole.len; i++) {
		whole.data[i] ^= 0x20;
		put_file(whole.data, whole.len);
		whole.data[i] ^= 0x20;
		c = imap_cache_open(dir, 1);
		if (hits(c, 1, 4, 0) != 4 || has(c, 5, 0))
			CHECK(!"damaged");
		imap_cache_close(c);
	}
	/* damage in the middle: what follows is ignored, nothing is wrong */
	whole.data[CACHE_HDR + 50] ^= 1;
	put_file(whole.data, whole.len);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 5, 0) == 0);
	imap_cache_close(c);
	whole.data[CACHE_HDR + 50] ^= 1;
	for (size_t i = 0; i < CACHE_HDR; i++) {	/* any header damage */
		whole.data[i] ^= 0x01;
		put_file(whole.data, whole.len);
		whole.data[i] ^= 0x01;
		c = imap_cache_open(dir, 1);
		if (hits(c, 1, 5, 0) != 0)
			CHECK(!"header");
		imap_cache_close(c);
	}
	put_file(whole.data, whole.len);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 5, 0) == 5);
	imap_cache_close(c);
}

static void
test_garbage(void)
{
	struct imap_cache *c, *tmp;
	char *g = xmalloc(70000);

	srandom(7);
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)random() % (round < 100 ? 200 : 70000);

		for (size_t i = 0; i < n; i++)
			g[i] = (char)random();
		if (round % 2 == 1 && n >= CACHE_HDR) {	/* a valid header */
			tmp = imap_cache_open(dir, 1);
			cache_hdr_make(tmp, g);
			imap_cache_close(tmp);
		}
		if (round % 4 == 3 && n >= CACHE_HDR + 8)
			put32(g + CACHE_HDR, REC_MAGIC);
		put_file(g, n);
		c = imap_cache_open(dir, 1);
		if (c->disabled || hits(c, 1, 50, 0) != 0)
			CHECK(!"garbage");
		if (round % 10 == 0) {
			CHECK(add(c, 3, 0) == 1);
			imap_cache_close(c);
			c = imap_cache_open(dir, 1);
			CHECK(has(c, 3, 0) && c->nrec == 1);
		}
		imap_cache_close(c);
	}
	free(g);
	CHECK(leftovers() == 0);
}

static void
test_caps(void)
{
	struct imap_cache *c;
	struct sample s;
	char longname[400];
	int added = 0;

	(void)unlink(cpath);
	c = imap_cache_open(dir, 1);
	sample(&s, 1, 0);
	s.e.envelope_len = IMAP_CACHE_RECORD_MAX;	/* hostile message */
	s.e.envelope = xcalloc(1, IMAP_CACHE_RECORD_MAX);
	CHECK(imap_cache_add(c, 1, s.name, s.fsize, &s.e) == 0);
	free((void *)s.e.envelope);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(imap_cache_add(c, 2, longname, 1, &s.e) == 0);
	CHECK(imap_cache_add(c, 2, "cur/:2,S", 1, &s.e) == 0);
	CHECK(add(c, 0, 0) == 0);
	c->file_max = 20000;
	for (uint32_t u = 1; u <= 100; u++)
		added += add(c, u, 0) == 1;
	CHECK(added > 5 && added < 100);
	CHECK(file_size() <= 20000);
	CHECK(hits(c, 1, 100, 0) == added);
	imap_cache_close(c);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 100, 0) == added);
	imap_cache_close(c);
}

/* Parts: records holding only some of a message; a record whose parts
 * disagree with its strings is neither written nor read; records kept
 * for a later flush; a version-1 file is discarded and rewritten. */
static void
test_parts(void)
{
	static const char v1[32] = "PSTNCACH\x01\0\0\0\x01\0\0\0";
	struct imap_cache *c;
	struct imap_cache_entry e;
	struct sample s;
	char *rec;
	size_t total;

	(void)unlink(cpath);
	c = imap_cache_open(dir, 1);
	sample(&s, 3, 0);
	s.e.parts = IMAP_CACHE_HEADER | 3;		/* fields only: no strings */
	CHECK(imap_cache_add(c, 3, s.name, s.fsize, &s.e) == 0);
	s.e.envelope_len = s.e.body_len = s.e.bodystructure_len = 0;
	CHECK(imap_cache_add(c, 3, s.name, s.fsize, &s.e) == 1);
	CHECK(imap_cache_lookup(c, 3, s.name, s.fsize, &e) && e.parts == s.e.parts &&
	    e.envelope_len == 0 && e.fields_len == s.e.fields_len &&
	    memcmp(e.fields, s.fields, e.fields_len) == 0);
	s.e.parts = IMAP_CACHE_STRUCT | 3;		/* field bits without HEADER */
	CHECK(imap_cache_add(c, 3, s.name, s.fsize, &s.e) == 0);
	s.e.parts = IMAP_CACHE_STRUCT | IMAP_CACHE_HEADER | 0x10000;	/* unknown */
	CHECK(imap_cache_add(c, 3, s.name, s.fsize, &s.e) == 0);
	/* the same inconsistency written by someone else is not read */
	sample(&s, 3, 0);
	s.e.parts = IMAP_CACHE_STRUCT;
	s.e.fields_len = 0;
	rec = cache_rec_make(c, 4, "u4", 2, 9, &s.e, &total);
	CHECK(rec != NULL);
	if (rec != NULL) {
		put32(rec + 32, IMAP_CACHE_HEADER | 1);	/* no STRUCT, strings */
		put64(rec + total - 8, cache_sum(1, rec, total - 8));
		CHECK(cache_rec_check(c, rec, total) == 0);
		free(rec);
	}
	/* kept for later: not found until flushed, then found after a
	 * reopen; a close flushes too */
	CHECK(imap_cache_add_later(c, 6, "new/u6", 60, &s.e) == 1);
	CHECK(imap_cache_add_later(c, 7, "new/u7", 70, &s.e) == 1);
	CHECK(!imap_cache_lookup(c, 6, "new/u6", 60, &e));
	CHECK(imap_cache_flush(c) == 1 && imap_cache_flush(c) == 1);
	CHECK(imap_cache_lookup(c, 6, "cur/u6:2,S", 60, &e) && e.parts == s.e.parts);
	CHECK(imap_cache_add_later(c, 8, "new/u8", 80, &s.e) == 1);
	CHECK(imap_cache_add_later(c, 0, "new/u9", 80, &s.e) == 0);
	imap_cache_close(c);
	c = imap_cache_open(dir, 1);
	CHECK(imap_cache_lookup(c, 7, "new/u7", 70, &e) && imap_cache_lookup(c, 8, "new/u8", 80, &e));
	/* more than IMAP_CACHE_PENDING_MAX kept: written as it goes */
	for (uint32_t u = 100; u < 10100; u++)
		CHECK(imap_cache_add_later(c, u, "new/many", u, &s.e) == 1);
	CHECK(c->pending.len < IMAP_CACHE_PENDING_MAX);
	CHECK(imap_cache_lookup(c, 100, "new/many", 100, &e));
	CHECK(imap_cache_flush(c) == 1);
	CHECK(imap_cache_lookup(c, 10099, "new/many", 10099, &e));
	imap_cache_close(c);
	put_file(v1, sizeof(v1));
	c = imap_cache_open(dir, 1);
	CHECK(c->hdr == -1);
	CHECK(add(c, 5, 0) == 1);
	CHECK(has(c, 5, 0));
	imap_cache_close(c);
	c = imap_cache_open(dir, 1);
	CHECK(c->hdr == 1 && has(c, 5, 0));
	imap_cache_close(c);
}

static void
test_symlink(void)
{
	char target[PATH_MAX];
	struct imap_cache *c;

	if (str_format(target, sizeof(target), "%s/target", dir) == -1)
		abort();
	(void)unlink(cpath);
	CHECK(write_file_atomic(target, "x", 1, 0600) == 0);
	CHECK(symlink("target", cpath) == 0);
	c = imap_cache_open(dir, 1);
	CHECK(c->disabled);
	CHECK(add(c, 1, 0) == 0);
	CHECK(!has(c, 1, 0));
	imap_cache_close(c);
	CHECK(file_size() == 1);	/* stat follows: the target, untouched */
	CHECK(unlink(cpath) == 0 && unlink(target) == 0);
}

/* Children 0..2 append uids k+1, k+4, ... (300 each, reopening now and
 * then); child 3 rewrites the whole file again and again meanwhile. */
static void
child(int k)
{
	struct imap_cache *c = imap_cache_open(dir, 1);

	if (k == 3) {
		for (int i = 0; i < 25; i++) {
			if (cache_lock(c) == -1 || cache_rewrite(c, NULL, 0, 0) == -1) {
				fprintf(stderr, "child 3: rewrite: %s\n", strerror(errno));
				_exit(1);
			}
			cache_unlock(c);
		}
		imap_cache_close(c);
		_exit(0);
	}
	for (uint32_t u = (uint32_t)k + 1; u <= 900; u += 3) {
		if (add(c, u, 0) != 1) {
			fprintf(stderr, "child %d: add %u failed\n", k, u);
			_exit(1);
		}
		if (u % 50 == 0) {
			imap_cache_close(c);
			c = imap_cache_open(dir, 1);
		}
	}
	imap_cache_close(c);
	_exit(0);
}

static void
test_fork(void)
{
	struct imap_cache *c;
	pid_t pid[4];
	int st, ok = 0;

	(void)unlink(cpath);
	for (int k = 0; k < 4; k++) {
		if ((pid[k] = fork()) == -1)
			abort();
		if (pid[k] == 0)
			child(k);
	}
	for (int k = 0; k < 4; k++)
		ok += waitpid(pid[k], &st, 0) == pid[k] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0;
	CHECK(ok == 4);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 900, 0) == 900);
	CHECK(c->len == file_size());
	imap_cache_close(c);
	CHECK(leftovers() == 0);
}

static void
test_compact(void)
{
	struct imap_cache *c, *old;
	struct imap_msg msgs[60];
	struct sample s[60];
	size_t before, n = 0;
	ino_t ino;

	(void)unlink(cpath);
	c = imap_cache_open(dir, 1);
	for (uint32_t u = 1; u <= 200; u++)
		CHECK(add(c, u, 0) == 1);
	for (uint32_t u = 4; u <= 200; u += 4) {	/* 50 live messages */
		sample(&s[n], u, 0);
		msgs[n].uid = u;
		msgs[n].name = s[n].name;
		n++;
	}
	CHECK(imap_cache_compact(c, msgs, n) == 1);
	imap_cache_close(c);
	/* below the threshold: nothing to do */
	c = imap_cache_open(dir, 1);
	CHECK(imap_cache_compact(c, msgs, n) == 0);
	CHECK(hits(c, 1, 200, 0) == 50);
	/* 50 live, 150 dead: a reader with the old file keeps its view */
	for (uint32_t u = 1; u <= 200; u++)
		if (u % 4 != 0)
			CHECK(add(c, u + 1000, 0) == 1);
	old = imap_cache_open(dir, 1);
	before = file_size();
	ino = file_ino();
	msgs[0].name = "cur/renamed:2,S";	/* uid 4 is another file now */
	CHECK(imap_cache_compact(c, msgs, n) == 1);
	CHECK(file_ino() != ino);
	CHECK(file_size() < before && file_size() == c->len);
	CHECK(c->nrec == 49);
	CHECK(leftovers() == 0);
	CHECK(hits(c, 1, 200, 0) == 49 && !has(c, 4, 0));
	CHECK(hits(c, 1001, 1200, 0) == 0);
	CHECK(hits(old, 1001, 1200, 0) == 150);
	/* the old reader's next add goes to the new file */
	CHECK(add(old, 4000, 0) == 1);
	CHECK(file_size() > c->len);
	imap_cache_close(old);
	imap_cache_close(c);
	c = imap_cache_open(dir, 1);
	CHECK(hits(c, 1, 200, 0) == 49 && has(c, 4000, 0));
	CHECK(imap_cache_compact(c, msgs, n) == 0);
	/* all gone from the folder */
	for (uint32_t u = 5000; u < 5000 + IMAP_CACHE_COMPACT_MIN; u++)
		CHECK(add(c, u, 0) == 1);
	CHECK(imap_cache_compact(c, NULL, 0) == 1);
	CHECK(c->nrec == 0 && file_size() == CACHE_HDR);
	imap_cache_close(c);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	if (str_format(dir, sizeof(dir), "%s/test_imap_cache.XXXXXX",
	    t != NULL ? t : "/tmp") == -1 || mkdtemp(dir) == NULL ||
	    str_format(cpath, sizeof(cpath), "%s/%s", dir, IMAP_CACHE_FILE) == -1)
		return 2;
	test_roundtrip();
	test_many();
	test_uidvalidity();
	test_torn();
	test_garbage();
	test_caps();
	test_parts();
	test_symlink();
	test_fork();
	test_compact();
	(void)unlink(cpath);
	if (str_format(cpath, sizeof(cpath), "%s/%s", dir, IMAP_CACHE_LOCK) == -1 ||
	    unlink(cpath) == -1)
		fprintf(stderr, "unlink lock: %s\n", strerror(errno));
	if (rmdir(dir) == -1)
		fprintf(stderr, "rmdir %s: %s\n", dir, strerror(errno));
	return UNIT_DONE();
}
