/* Unit tests for the IMAP store's UID-list change log (imap_store.h:
 * batches read by other sessions, torn tails at every offset, a writer
 * killed mid-batch), IDLE's release and reload of a view, and 4 sessions
 * appending while a delivery agent drops files.  Works in a mkdtemp
 * directory (imap_store_fixture.h), removed at the end. */
#include "imap_store_fixture.h"

/* STORE, APPEND and EXPUNGE append batches; a second session and a fresh
 * one read them; the file is replaced once the log outgrows the base. */
static void
test_log_reader(struct imap_store *s)
{
	struct imap_append a = { .fd = -1, .data = "new\r\n", .len = 5 };
	struct imap_folder f, g, h;
	unsigned long appends = store_log_appends, scans;
	uint32_t uv, uid;
	ino_t ino;
	int rewritten = 0;

	CHECK(imap_store_create(s, "L") == IMAP_STORE_OK);
	put(".L/cur/1.M1P1Q1.h:2,", "1\n");
	put(".L/cur/2.M1P1Q1.h:2,S", "2\n");
	put(".L/cur/3.M1P1Q1.h:2,", "3\n");
	CHECK(imap_folder_open(s, "L", 1, &g) == IMAP_STORE_OK);
	CHECK(imap_folder_open(s, "L", 0, &f) == IMAP_STORE_OK && f.n == 3);
	CHECK(s->sel == &f && f.watch != NULL);
	ino = list_ino(".L");
	scans = store_full_syncs;
	store_one(&f, 1, IMAP_FLAGS_ADD, IMAP_F_FLAGGED, "$Work");
	CHECK(imap_store_append(s, "L", &a, &uv, &uid) == IMAP_STORE_OK && uid == 4);
	CHECK(imap_folder_find(&f, 4) != NULL);	/* through the session's view */
	CHECK(f.watch->current);		/* which still needs no scan */
	store_one(&f, 3, IMAP_FLAGS_ADD, IMAP_F_DELETED, NULL);
	CHECK(imap_folder_expunge_deleted(&f, NULL, 0) == IMAP_STORE_OK && f.n == 3);
	CHECK(store_log_appends == appends + 4);
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(store_full_syncs == scans);	/* only its own changes: no scan */
	CHECK(list_ino(".L") == ino && has_commit(".L"));	/* appended, not replaced */
	/* the other session and a fresh one read the same */
	CHECK(imap_folder_sync(&g) == IMAP_STORE_OK && same_view(&f, &g));
	CHECK(folder_open(s, "L", 1, 0, &h) == IMAP_STORE_OK && same_view(&f, &h));
	CHECK(h.n == 3 && h.msgs[0].sys == IMAP_F_FLAGGED && h.msgs[0].kw == 1);
	CHECK(h.keywords[0] != NULL && strcmp(h.keywords[0], "$Work") == 0);
	imap_folder_close(&h);
	/* the log grows until it outweighs the base, then the list is new */
	for (int i = 0; i < 400 && !rewritten; i++) {
		store_one(&f, 2, i % 2 ? IMAP_FLAGS_ADD : IMAP_FLAGS_REMOVE, IMAP_F_SEEN, NULL);
		rewritten = list_ino(".L") != ino;
	}
	CHECK(rewritten && !has_commit(".L"));
	CHECK(imap_folder_sync(&g) == IMAP_STORE_OK && same_view(&f, &g));
	imap_folder_close(&g);
	imap_folder_close(&f);
}

/* A batch cut at any offset (a crash before fdatasync) is ignored; the
 * renamed file gets a fresh modseq above the durable ones; UIDVALIDITY
 * stays.  A changed octet is a torn batch too; a well-formed batch that
 * does not fit the list means a rebuild. */
static void
test_log_torn(struct imap_store *s)
{
	struct imap_folder f;
	char *full, *text, rec[128];
	size_t len, base;
	uint64_t hms0, ms;
	uint32_t uv;
	int ok = 1;

	CHECK(imap_store_create(s, "T") == IMAP_STORE_OK);
	put(".T/cur/1.M1P1Q1.h:2,", "1\n");
	put(".T/cur/2.M1P1Q1.h:2,", "2\n");
	CHECK(imap_folder_open(s, "T", 0, &f) == IMAP_STORE_OK);
	uv = f.uidvalidity;
	hms0 = f.highestmodseq;
	base = (size_t)f.list_end;
	store_one(&f, 1, IMAP_FLAGS_ADD, IMAP_F_SEEN, "$torn");
	ms = imap_folder_find(&f, 1)->modseq;
	imap_folder_close(&f);
	full = list_text(".T", &len);
	CHECK(len > base && has_log(full, len));
	for (size_t cut = base; cut <= len; cut++) {
		list_put(".T", full, cut);
		CHECK(folder_open(s, "T", 1, 0, &f) == IMAP_STORE_OK);
		ok &= f.uidvalidity == uv && f.n == 2 && f.msgs[0].sys == IMAP_F_SEEN;
		if (cut == len)
			ok &= f.msgs[0].modseq == ms && f.highestmodseq == ms;
		else
			ok &= f.msgs[0].modseq > hms0 && f.highestmodseq >= f.msgs[0].modseq;
		ok &= !f.list_torn;	/* the merge rewrote the list */
		if (!ok) {
			fprintf(stderr, "torn at %zu of %zu\n", cut, len);
			break;
		}
		imap_folder_close(&f);
	}
	if (!ok)
		imap_folder_close(&f);
	CHECK(ok);
	/* one octet changed inside the batch: torn, not trusted */
	text = xstrdup(full);
	text[base + 2] = text[base + 2] == '1' ? '2' : '1';
	list_put(".T", text, len);
	CHECK(folder_open(s, "T", 1, 0, &f) == IMAP_STORE_OK);
	CHECK(f.uidvalidity == uv && f.msgs[0].modseq > hms0);
	imap_folder_close(&f);
	/* a writer on a torn list replaces it */
	list_put(".T", full, len - 3);
	CHECK(imap_folder_open(s, "T", 0, &f) == IMAP_STORE_OK);
	store_one(&f, 2, IMAP_FLAGS_ADD, IMAP_F_FLAGGED, NULL);
	imap_folder_close(&f);
	free(text);
	text = list_text(".T", &len);
	CHECK(folder_open(s, "T", 1, 0, &f) == IMAP_STORE_OK && !f.list_torn);
	CHECK(f.uidvalidity == uv && f.list_end == (off_t)len);
	imap_folder_close(&f);
	/* complete batches that do not fit: a rebuild */
	static const char *const bad[] = {
		"K A upper\n", "X 99\n", "U 1 5 cur/other:2,S\n", "A 1 5 cur/x:2,\n",
		"U 1 999999 cur/1.M1P1Q1.h:2,S\n", "Q 1\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT(IMAP_STORE_LIST_MAX);

		CHECK(buf_append(&b, text, len) == 0 && buf_puts(&b, bad[i]) == 0);
		CHECK(str_format(rec, sizeof(rec), "C 100 100 %zu %016" PRIx64 "\n",
		    strlen(bad[i]), store_log_hash(bad[i], strlen(bad[i]))) == 0);
		CHECK(buf_puts(&b, rec) == 0);
		list_put(".T", b.data, b.len);
		buf_free(&b);
		CHECK(folder_open(s, "T", 1, 0, &f) == IMAP_STORE_OK);
		CHECK(f.uidvalidity > uv && f.n == 2);
		if (f.uidvalidity <= uv)
			fprintf(stderr, "bad batch %zu accepted\n", i);
		uv = f.uidvalidity;
		imap_folder_close(&f);
		free(text);
		text = list_text(".T", &len);
	}
	free(text);
	free(full);
}

/* A session dies (kill -9) after a STORE was answered and while writing
 * the next batch, whose rename it had made: what it reported stays, the
 * half batch is dropped, the renamed message and every later change get
 * modseqs above everything reported. */
static void
test_log_crash(struct imap_store *s)
{
	struct imap_folder f;
	uint64_t reported[2] = { 0, 0 };
	int p[2], status;
	pid_t pid;

	CHECK(imap_store_create(s, "M") == IMAP_STORE_OK);
	put(".M/cur/1.M1P1Q1.h:2,", "1\n");
	put(".M/cur/2.M1P1Q1.h:2,", "2\n");
	put(".M/cur/3.M1P1Q1.h:2,", "3\n");
	CHECK(imap_folder_open(s, "M", 0, &f) == IMAP_STORE_OK);
	reported[1] = f.uidvalidity;
	imap_folder_close(&f);
	CHECK(pipe(p) == 0);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		char path[PATH_MAX], line[256];
		int fd, n;

		if (imap_folder_open(s, "M", 0, &f) != IMAP_STORE_OK)
			_exit(2);
		store_one(&f, 1, IMAP_FLAGS_ADD, IMAP_F_FLAGGED, NULL);
		reported[0] = f.highestmodseq;
		if (write_all(p[1], reported, sizeof(reported[0])) == -1)
			_exit(3);
		/* the next STORE: rename done, half its batch written */
		if (str_format(path, sizeof(path), "%s/.M/%s", root, STORE_LIST_FILE) == -1 ||
		    rename_msg(&f, imap_folder_find(&f, 2), IMAP_F_SEEN, 0) != 1 ||
		    (fd = open(path, O_WRONLY | O_APPEND)) == -1)
			_exit(4);
		n = snprintf(line, sizeof(line), "U 2 %" PRIu64 " %s\nC 4 %" PRIu64,
		    f.highestmodseq, imap_folder_find(&f, 2)->name, f.highestmodseq);
		if (n <= 0 || write_all(fd, line, (size_t)n) == -1)
			_exit(5);
		raise(SIGKILL);
		_exit(6);
	}
	close(p[1]);
	CHECK(pid > 0 && read(p[0], reported, sizeof(reported[0])) == sizeof(reported[0]));
	close(p[0]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
	CHECK(imap_folder_open(s, "M", 0, &f) == IMAP_STORE_OK);
	CHECK(f.uidvalidity == reported[1] && f.n == 3 && !f.list_torn);
	CHECK(f.msgs[0].sys == IMAP_F_FLAGGED && f.msgs[0].modseq == reported[0]);
	CHECK(f.msgs[1].sys == IMAP_F_SEEN && f.msgs[1].modseq > reported[0]);
	store_one(&f, 3, IMAP_FLAGS_ADD, IMAP_F_SEEN, NULL);
	CHECK(f.msgs[2].modseq > f.msgs[1].modseq && f.highestmodseq == f.msgs[2].modseq);
	imap_folder_close(&f);
}

/* IDLE's release: no messages held; the reload keeps UIDs and the
 * session's \Recent marks and adds what came meanwhile. */
static void
test_release(struct imap_store *s)
{
	struct imap_folder f;
	unsigned long scans;
	ino_t ino;

	CHECK(imap_store_create(s, "R") == IMAP_STORE_OK);
	put(".R/cur/1.M1P1Q1.h:2,S", "1\n");
	put(".R/new/2.M1P1Q1.h", "2\n");
	put(".R/new/3.M1P1Q1.h", "3\n");
	CHECK(imap_folder_open(s, "R", 0, &f) == IMAP_STORE_OK && f.n == 3);
	CHECK(!f.msgs[0].recent && f.msgs[1].recent && f.msgs[2].recent);
	ino = list_ino(".R");
	imap_folder_release(&f);
	CHECK(f.n == 0 && f.msgs == NULL && f.released && f.nheld == 2);
	scans = store_full_syncs;
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK && f.n == 3 && !f.released);
	CHECK(store_full_syncs == scans);	/* nothing else happened: the list only */
	CHECK(list_ino(".R") == ino);	/* nothing changed: not rewritten */
	CHECK(!f.msgs[0].recent && f.msgs[1].recent && f.msgs[2].recent);
	imap_folder_release(&f);
	put(".R/new/4.M1P1Q1.h", "4\n");
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK && f.n == 4);
	CHECK(store_full_syncs == scans + 1);	/* a delivery: scanned */
	CHECK(f.msgs[0].uid == 1 && f.msgs[1].uid == 2 && f.msgs[3].uid == 4);
	CHECK(!f.msgs[0].recent && f.msgs[1].recent && f.msgs[2].recent && f.msgs[3].recent);
	/* the session's view is current again: a STORE needs no scan */
	CHECK(f.watch != NULL && f.watch->current);
	imap_folder_close(&f);
}

/* 4 sessions append and sync 200 times each while a delivery agent
 * drops 200 messages into new/. */
#define WORKERS	4
#define ROUNDS	200

static void
worker(struct imap_store *s, int id, int outfd)
{
	struct imap_append a = { .fd = -1, .data = "m\r\n", .len = 3 };
	struct imap_folder f;
	uint32_t uv, uid, recent = 0, bad = 0;

	if (imap_folder_open(s, "INBOX", 0, &f) != IMAP_STORE_OK)
		_exit(2);
	for (int i = 0; i < ROUNDS; i++) {
		if (imap_store_append(s, "INBOX", &a, &uv, &uid) != IMAP_STORE_OK ||
		    write_all(outfd, &uid, sizeof(uid)) == -1 ||
		    imap_folder_sync(&f) != IMAP_STORE_OK)
			_exit(3);
		if (uv != f.uidvalidity || imap_folder_find(&f, uid) == NULL)
			bad++;
		for (size_t k = 1; k < f.n; k++)
			bad += f.msgs[k - 1].uid >= f.msgs[k].uid;
	}
	bad += store_log_appends == 0;	/* APPEND went through the log */
	for (size_t k = 0; k < f.n; k++)
		recent += f.msgs[k].recent;
	{
		/* end marker and this session's recent count, in one atomic
		 * pipe write so no other worker's UID comes between */
		uint32_t end[2] = { 0, recent };

		if (write_all(outfd, end, sizeof(end)) == -1)
			_exit(4);
	}
	imap_folder_close(&f);
	_exit(bad == 0 ? 0 : 5 + id);
}

static void
deliverer(void)
{
	char name[256];
	int fd = open("/dev/null", O_RDONLY);

	for (int i = 0; i < ROUNDS; i++)
		if (maildir_deliver(root, "host", "d\r\n", 3, fd, 0, name, sizeof(name)) == -1)
			_exit(3);
	_exit(0);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void
test_concurrency(struct imap_store *s)
{
	uint32_t got[WORKERS * ROUNDS + 8], v, recent = 0, uv;
	struct imap_folder f;
	pid_t pids[WORKERS + 1];
	size_t ngot = 0, before;
	int p[2], status, ok = 1;

	CHECK(imap_folder_open(s, "INBOX", 0, &f) == IMAP_STORE_OK);
	before = f.n;
	uv = f.uidvalidity;
	imap_folder_close(&f);
	CHECK(pipe(p) == 0);
	fflush(NULL);
	for (int i = 0; i <= WORKERS; i++) {
		if ((pids[i] = fork()) == 0) {
			close(p[0]);
			if (i == WORKERS)
				deliverer();
			worker(s, i, p[1]);
		}
		CHECK(pids[i] > 0);
	}
	close(p[1]);
	for (int ended = 0; ended < WORKERS;) {
		if (read(p[0], &v, sizeof(v)) != sizeof(v))
			break;
		if (v != 0) {
			if (ngot < sizeof(got) / sizeof(got[0]))
				got[ngot++] = v;
			continue;
		}
		if (read(p[0], &v, sizeof(v)) != sizeof(v))
			break;
		recent += v;
		ended++;
	}
	close(p[0]);
	for (int i = 0; i <= WORKERS; i++) {
		CHECK(waitpid(pids[i], &status, 0) == pids[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK(ngot == WORKERS * ROUNDS);
	qsort(got, ngot, sizeof(got[0]), cmp_u32);
	for (size_t i = 1; i < ngot; i++)
		ok &= got[i - 1] < got[i];
	CHECK(ok);	/* no UID handed out twice */
	CHECK(imap_folder_open(s, "INBOX", 0, &f) == IMAP_STORE_OK);
	CHECK(f.uidvalidity == uv);
	CHECK(f.n == before + WORKERS * ROUNDS + ROUNDS);
	CHECK(nfiles("cur") + nfiles("new") == f.n);
	for (size_t i = 1; i < f.n; i++)
		ok &= f.msgs[i - 1].uid < f.msgs[i].uid;
	CHECK(ok);
	CHECK(f.n > 0 && f.uidnext > f.msgs[f.n - 1].uid);
	for (size_t i = 0; i < f.n; i++)
		recent += f.msgs[i].recent;
	CHECK(recent == ROUNDS);	/* each delivery recent in exactly one session */
	if (recent != ROUNDS)
		fprintf(stderr, "recent %u\n", recent);
	for (size_t i = 0; i < ngot; i++)
		ok &= imap_folder_find(&f, got[i]) != NULL;
	CHECK(ok);
	imap_folder_close(&f);
}

int
main(void)
{
	struct imap_store s;

	fixture_begin(&s);
	test_log_reader(&s);
	test_log_torn(&s);
	test_log_crash(&s);
	test_release(&s);
	test_concurrency(&s);
	fixture_end(&s);
	return UNIT_DONE();
}
