/* Unit tests for the IMAP storage layer, imapd/imap_store_*.c (compiled
 * in): names (hostile ones too) and mUTF-7, LIST matching, folder
 * operations, UID lists (stability, rebuild, hostile lists), flags and
 * keywords, append/copy/move/expunge.  The change log, crashes, IDLE's
 * release and concurrent sessions are in test_imap_store_log.c.  Works in
 * a mkdtemp directory (imap_store_fixture.h), removed at the end. */
#include "imap_store_fixture.h"

static void
test_names(void)
{
	static const char *const bad[] = {
		"", ".", "..", "...", "a..b", ".a", "a.", "a/b", "/etc", "../x",
		"a/../../etc", "..%2f", "x/..", "a\tb", "a\nb", "\x01", "a\x7f",
		"caf\xc3\xa9", "*", "a%", "a*b", "&AGE-", "&Jjo", "&Jjo-&Jjo-",
		"&AMk=-", "&2D0-", "&AIA-", "INBOX..x", "inbox.", ".INBOX",
		NULL,
	};
	char canon[STORE_NAME_SIZE], dir[STORE_NAME_SIZE], longname[300];
	struct buf u = BUF_INIT(1024);

	for (size_t i = 0; bad[i] != NULL; i++) {
		int ok = imap_store_name(bad[i], strlen(bad[i]), canon, dir, sizeof(dir));

		CHECK(!ok);
		if (ok)
			fprintf(stderr, "accepted bad name \"%s\"\n", bad[i]);
	}
	CHECK(!imap_store_name("a\0b", 3, canon, dir, sizeof(dir)));
	memset(longname, 'x', sizeof(longname));
	CHECK(!imap_store_name(longname, MAILDIR_FOLDER_MAX + 1, canon, dir, sizeof(dir)));
	CHECK(imap_store_name(longname, MAILDIR_FOLDER_MAX, canon, dir, sizeof(dir)));

	CHECK(imap_store_name("INBOX", 5, canon, dir, sizeof(dir)));
	CHECK_STR(canon, "INBOX");
	CHECK_STR(dir, ".");
	CHECK(imap_store_name("iNbOx", 5, canon, dir, sizeof(dir)));
	CHECK_STR(canon, "INBOX");
	CHECK(imap_store_name("inbox.Kid", 9, canon, dir, sizeof(dir)));
	CHECK_STR(canon, "INBOX.Kid");
	CHECK_STR(dir, ".INBOX.Kid");
	CHECK(imap_store_name("INBOXES", 7, canon, dir, sizeof(dir)));
	CHECK_STR(dir, ".INBOXES");
	CHECK(imap_store_name("Sent Items", 10, canon, dir, sizeof(dir)));
	CHECK_STR(dir, ".Sent Items");
	/* no name lands on INBOX's own directories or files */
	CHECK(imap_store_name("cur", 3, canon, dir, sizeof(dir)));
	CHECK_STR(dir, ".cur");
	CHECK(imap_store_name("tmp", 3, canon, dir, sizeof(dir)));
	CHECK_STR(dir, ".tmp");
	/* modified UTF-7 is kept as sent, and decodes */
	CHECK(imap_store_name("Entw&APw-rfe", 12, canon, dir, sizeof(dir)));
	CHECK_STR(dir, ".Entw&APw-rfe");
	CHECK(imap_mutf7_decode(canon, strlen(canon), &u) == 1);
	CHECK(buf_eq(&u, "Entw\xc3\xbcrfe"));
	CHECK(imap_store_name("a&-b.&ZeVnLIqe-", 15, canon, dir, sizeof(dir)));
	CHECK_STR(canon, "a&-b.&ZeVnLIqe-");
	buf_free(&u);
	CHECK(imap_store_is_inbox("inbox"));
	CHECK(!imap_store_is_inbox("INBOX.x"));
	CHECK_STR(imap_store_special_use("Trash"), "\\Trash");
	CHECK(imap_store_special_use("trash") == NULL);
	CHECK(strcmp(imap_store_strerror(IMAP_STORE_HASCHILDREN), "OK") != 0);
}

static void
test_match(void)
{
	static const struct { const char *p, *n; int m; } t[] = {
		{ "*", "a.b.c", 1 }, { "%", "a.b", 0 }, { "%", "a", 1 },
		{ "a.%", "a.b", 1 }, { "a.%", "a.b.c", 0 }, { "a*", "a.b.c", 1 },
		{ "a%", "ab", 1 }, { "a%", "a.b", 0 }, { "%.%", "a.b", 1 },
		{ "*.c", "a.b.c", 1 }, { "%.c", "a.b.c", 0 }, { "*b", "abc", 0 },
		{ "%c", "abc", 1 }, { "", "", 1 }, { "", "a", 0 }, { "a", "", 0 },
		{ "inbox", "INBOX", 1 }, { "InBoX.%", "INBOX.x", 1 },
		{ "INBOX", "INBOX.x", 0 }, { "inbox.X", "INBOX.x", 0 },
		{ "sent", "Sent", 0 }, { "Sent", "Sent", 1 }, { "S*t", "Sent", 1 },
		{ "%%%%", "abc", 1 }, { "**a", "bbb", 0 }, { "a.*", "a.", 1 },
	};
	char name[201], pat[120];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int m = imap_store_match(t[i].p, t[i].n);

		CHECK(m == t[i].m);
		if (m != t[i].m)
			fprintf(stderr, "match(\"%s\", \"%s\") = %d\n", t[i].p, t[i].n, m);
	}
	/* no exponential blow-up on wildcard soup */
	memset(name, 'a', 200);
	name[200] = '\0';
	for (size_t i = 0; i < 118; i += 2)
		pat[i] = '*', pat[i + 1] = '%';
	pat[118] = 'b';
	pat[119] = '\0';
	CHECK(imap_store_match(pat, name) == 0);
}

static struct imap_list_entry *
find_entry(struct imap_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	return NULL;
}

static void
test_login(struct imap_store *s)
{
	struct imap_list l;
	struct imap_list_entry *e;

	/* first login: special-use folders, subscribed; once only */
	CHECK(imap_store_login(s) == IMAP_STORE_OK);
	CHECK(exists(".Sent/cur") && exists(".Drafts/new") && exists(".Trash/tmp") &&
	    exists(".Junk/maildirfolder") && exists(".Archive"));
	CHECK(exists(STORE_MARKER_FILE));
	CHECK(imap_store_delete(s, "Trash") == IMAP_STORE_OK);
	CHECK(!exists(".Trash"));
	CHECK(imap_store_login(s) == IMAP_STORE_OK);
	CHECK(!exists(".Trash"));
	CHECK(imap_store_lsub(s, &l) == IMAP_STORE_OK);
	CHECK(l.n == 5);
	CHECK((e = find_entry(&l, "Trash")) != NULL &&
	    (e->flags & IMAP_LIST_NONEXISTENT) && strcmp(e->special, "\\Trash") == 0);
	CHECK((e = find_entry(&l, "Sent")) != NULL && !(e->flags & IMAP_LIST_NONEXISTENT));
	imap_list_free(&l);
}

static void
test_create_list(struct imap_store *s)
{
	struct imap_list l;
	struct imap_list_entry *e;
	char path[PATH_MAX];

	/* create with parents; trailing delimiter; errors */
	CHECK(imap_store_create(s, "a.b.c") == IMAP_STORE_OK);
	CHECK(exists(".a/cur") && exists(".a.b/cur") && exists(".a.b.c/cur"));
	CHECK(imap_store_create(s, "a.b.c") == IMAP_STORE_EXISTS);
	CHECK(imap_store_create(s, "x.") == IMAP_STORE_OK);
	CHECK(exists(".x/cur"));
	CHECK(imap_store_create(s, "inbox") == IMAP_STORE_EXISTS);
	CHECK(imap_store_create(s, "inbox.Kid") == IMAP_STORE_OK);
	CHECK(exists(".INBOX.Kid/cur"));
	CHECK(imap_store_create(s, "Entw&APw-rfe") == IMAP_STORE_OK);
	CHECK(imap_store_create(s, "a..b") == IMAP_STORE_BADNAME);

	/* a parent that exists only as a level; hostile entries not listed */
	CHECK(str_format(path, sizeof(path), "%s/.p.q", root) == 0 && maildir_make(path, 1) == 0);
	CHECK(str_format(path, sizeof(path), "%s/.evil", root) == 0 && symlink("/tmp", path) == 0);
	CHECK(str_format(path, sizeof(path), "%s/.inbox.low", root) == 0 && maildir_make(path, 1) == 0);
	CHECK(str_format(path, sizeof(path), "%s/..hidden", root) == 0 && maildir_make(path, 1) == 0);
	CHECK(str_format(path, sizeof(path), "%s/.bad&", root) == 0 && maildir_make(path, 1) == 0);
	CHECK(imap_store_list(s, &l) == IMAP_STORE_OK);
	CHECK(l.n > 0 && strcmp(l.e[0].name, "INBOX") == 0);
	CHECK((e = find_entry(&l, "INBOX")) != NULL && (e->flags & IMAP_LIST_HASCHILDREN));
	CHECK((e = find_entry(&l, "INBOX.Kid")) != NULL && e->flags == 0);
	CHECK((e = find_entry(&l, "a")) != NULL && e->flags == IMAP_LIST_HASCHILDREN);
	CHECK((e = find_entry(&l, "a.b.c")) != NULL && e->flags == 0);
	CHECK((e = find_entry(&l, "p")) != NULL &&
	    e->flags == (IMAP_LIST_HASCHILDREN | IMAP_LIST_NONEXISTENT));
	CHECK((e = find_entry(&l, "Sent")) != NULL && e->flags == IMAP_LIST_SUBSCRIBED &&
	    strcmp(e->special, "\\Sent") == 0);
	CHECK(find_entry(&l, "Entw&APw-rfe") != NULL);
	CHECK(find_entry(&l, "evil") == NULL && find_entry(&l, "inbox.low") == NULL &&
	    find_entry(&l, "INBOX.low") == NULL && find_entry(&l, ".hidden") == NULL &&
	    find_entry(&l, "bad&") == NULL && find_entry(&l, "Trash") == NULL);
	for (size_t i = 1; i < l.n; i++)
		CHECK(strcmp(l.e[i - 1].name, l.e[i].name) < 0 || i == 1);
	imap_list_free(&l);
}

static void
test_delete_rename(struct imap_store *s)
{
	/* delete: INBOX, children, missing */
	CHECK(imap_store_delete(s, "INBOX") == IMAP_STORE_INBOX);
	CHECK(imap_store_delete(s, "a") == IMAP_STORE_HASCHILDREN);
	CHECK(imap_store_delete(s, "a.b") == IMAP_STORE_HASCHILDREN);
	CHECK(imap_store_delete(s, "p") == IMAP_STORE_NONEXISTENT);
	CHECK(imap_store_delete(s, "nope") == IMAP_STORE_NONEXISTENT);
	CHECK(imap_store_delete(s, "evil") == IMAP_STORE_NONEXISTENT);
	CHECK(exists(".evil"));
	put(".a.b.c/cur/1.M1P1Q1.h:2,S", "x\n");
	CHECK(imap_store_delete(s, "a.b.c") == IMAP_STORE_OK);
	CHECK(!exists(".a.b.c"));
	CHECK(imap_store_delete(s, "a.b") == IMAP_STORE_OK);

	/* rename with children; into itself; onto an existing name */
	CHECK(imap_store_create(s, "r.s.t") == IMAP_STORE_OK);
	put(".r.s/new/1.M1P1Q1.h", "x\n");
	CHECK(imap_store_rename(s, "r", "z.y") == IMAP_STORE_OK);
	CHECK(!exists(".r") && !exists(".r.s") && !exists(".r.s.t"));
	CHECK(exists(".z/cur") && exists(".z.y/cur") && exists(".z.y.s/new/1.M1P1Q1.h") &&
	    exists(".z.y.s.t/cur"));
	CHECK(imap_store_rename(s, "z", "z.q") == IMAP_STORE_BADNAME);
	CHECK(imap_store_rename(s, "z.y", "x") == IMAP_STORE_EXISTS);
	CHECK(imap_store_rename(s, "nope", "n2") == IMAP_STORE_NONEXISTENT);
	CHECK(imap_store_rename(s, "x", "INBOX") == IMAP_STORE_EXISTS);
	CHECK(imap_store_create(s, "m.n") == IMAP_STORE_OK);
	CHECK(imap_store_create(s, "k.n") == IMAP_STORE_OK);
	CHECK(imap_store_rename(s, "m", "k") == IMAP_STORE_EXISTS);
	CHECK(imap_store_delete(s, "k.n") == IMAP_STORE_OK);
	CHECK(imap_store_delete(s, "k") == IMAP_STORE_OK);
	CHECK(imap_store_rename(s, "m", "k") == IMAP_STORE_OK);	/* k.n free now */
	CHECK(exists(".k.n") && !exists(".m.n"));
}

static void
test_subscriptions(struct imap_store *s)
{
	struct imap_list l;
	struct imap_list_entry *e;

	/* subscriptions */
	CHECK(imap_store_subscribe(s, "Nowhere", 1) == IMAP_STORE_OK);
	CHECK(imap_store_subscribe(s, "Nowhere", 1) == IMAP_STORE_OK);
	CHECK(imap_store_subscribe(s, "inbox", 1) == IMAP_STORE_OK);
	CHECK(imap_store_subscribe(s, "../etc", 1) == IMAP_STORE_BADNAME);
	CHECK(imap_store_subscribe(s, "Junk", 0) == IMAP_STORE_OK);
	CHECK(imap_store_lsub(s, &l) == IMAP_STORE_OK);
	CHECK(l.n == 6);	/* Sent Drafts Trash Archive Nowhere INBOX */
	CHECK((e = find_entry(&l, "Nowhere")) != NULL && (e->flags & IMAP_LIST_NONEXISTENT));
	CHECK((e = find_entry(&l, "INBOX")) != NULL && !(e->flags & IMAP_LIST_NONEXISTENT));
	CHECK(find_entry(&l, "Junk") == NULL);
	imap_list_free(&l);
	put(STORE_SUBS_FILE, "Sent\n../../etc\nSent\na..b\n\nInBoX\nunfinished");
	CHECK(imap_store_lsub(s, &l) == IMAP_STORE_OK);
	CHECK(l.n == 2 && find_entry(&l, "Sent") != NULL && find_entry(&l, "INBOX") != NULL);
	imap_list_free(&l);
}

/* EXPUNGE of many uids (in any order, repeated), and of \Deleted only. */
static void
test_expunge(struct imap_store *s)
{
	struct imap_flag_change ch = { IMAP_FLAGS_ADD, IMAP_F_DELETED, NULL, 0, 0 };
	uint32_t uids[6] = { 7, 2, 4, 2, 99, 5 };
	enum imap_change_res res[6];
	struct imap_folder f, g;
	char name[64];

	CHECK(imap_store_create(s, "X") == IMAP_STORE_OK);
	for (int i = 1; i <= 8; i++) {
		CHECK(str_format(name, sizeof(name), ".X/cur/%d.M1P1Q1.h:2,", 100 + i) == 0);
		put(name, "m\n");
	}
	CHECK(imap_folder_open(s, "X", 0, &f) == IMAP_STORE_OK && f.n == 8);
	CHECK(imap_folder_expunge(&f, uids, 6) == IMAP_STORE_OK);
	CHECK(f.n == 4 && nfiles(".X/cur") == 4);
	CHECK(f.n == 4 && f.msgs[0].uid == 1 && f.msgs[1].uid == 3 && f.msgs[2].uid == 6 &&
	    f.msgs[3].uid == 8);
	/* 1 and 3 get \Deleted; another session clears 3's before EXPUNGE */
	uids[0] = 1, uids[1] = 3;
	CHECK(imap_folder_store(&f, uids, 2, &ch, res) == IMAP_STORE_OK);
	CHECK(imap_folder_open(s, "X", 0, &g) == IMAP_STORE_OK);
	ch.op = IMAP_FLAGS_REMOVE;
	CHECK(imap_folder_store(&g, &uids[1], 1, &ch, res) == IMAP_STORE_OK);
	imap_folder_close(&g);
	CHECK(imap_folder_expunge_deleted(&f, NULL, 0) == IMAP_STORE_OK);
	CHECK(f.n == 3 && f.msgs[0].uid == 3 && nfiles(".X/cur") == 3);
	/* UID EXPUNGE: only the listed ones that are \Deleted */
	ch.op = IMAP_FLAGS_ADD;
	uids[0] = 3, uids[1] = 6;
	CHECK(imap_folder_store(&f, uids, 2, &ch, res) == IMAP_STORE_OK);
	CHECK(imap_folder_expunge_deleted(&f, &uids[1], 1) == IMAP_STORE_OK);
	CHECK(f.n == 2 && f.msgs[0].uid == 3 && f.msgs[1].uid == 8);
	imap_folder_close(&f);
	CHECK(imap_folder_open(s, "X", 0, &f) == IMAP_STORE_OK);
	CHECK(f.n == 2 && f.uidnext == 9);
	imap_folder_close(&f);
}

/* Login cleans up after crashes: half-deleted folders, old tmp/ files. */
static void
test_sweep(struct imap_store *s)
{
	struct timespec t[2] = { { 1000, 0 }, { 1000, 0 } };
	char path[PATH_MAX];

	put(".Sent/tmp/old", "x");
	put(".Sent/tmp/fresh", "x");
	put("tmp/old", "x");
	CHECK(str_format(path, sizeof(path), "%s/.Sent/tmp/old", root) == 0 &&
	    utimensat(AT_FDCWD, path, t, 0) == 0);
	CHECK(str_format(path, sizeof(path), "%s/tmp/old", root) == 0 &&
	    utimensat(AT_FDCWD, path, t, 0) == 0);
	CHECK(str_format(path, sizeof(path), "%s/" STORE_DELETED_PREFIX "1.2.3", root) == 0 &&
	    maildir_make(path, 1) == 0);
	put(STORE_DELETED_PREFIX "1.2.3/cur/1.M1P1Q1.h:2,", "x");
	CHECK(imap_store_login(s) == IMAP_STORE_OK);
	CHECK(!exists(".Sent/tmp/old") && exists(".Sent/tmp/fresh") && !exists("tmp/old"));
	CHECK(!exists(STORE_DELETED_PREFIX "1.2.3"));
	CHECK(str_format(path, sizeof(path), "%s/.Sent/tmp/fresh", root) == 0 &&
	    unlink(path) == 0);
}

/* Every operation refuses hostile names, and nothing appears outside. */
static void
test_traversal(struct imap_store *s)
{
	static const char *const hostile[] = {
		"..", "../x", "../../etc/passwd", "/etc", "a/../../b", ".", "..a",
		"x/", "x\\..\\..", "\xff", "a\r\nb", "&Li4v-", "&AC8-", "%", "*",
		".Sent", "Sent..x", NULL,
	};
	size_t before = top_entries();
	struct imap_append a = { .fd = -1, .data = "x\r\n", .len = 3 };
	struct imap_status st;
	struct imap_folder f;
	uint32_t uv, uid;

	for (size_t i = 0; hostile[i] != NULL; i++) {
		const char *n = hostile[i];
		enum imap_store_err e[7];

		e[0] = imap_store_create(s, n);
		e[1] = imap_store_delete(s, n);
		e[2] = imap_store_rename(s, "Sent", n);
		e[3] = imap_store_subscribe(s, n, 1);
		e[4] = imap_folder_open(s, n, 0, &f);
		e[5] = imap_store_append(s, n, &a, &uv, &uid);
		e[6] = imap_store_status(s, n, &st);
		for (int k = 0; k < 7; k++) {
			CHECK(e[k] == IMAP_STORE_BADNAME);
			if (e[k] != IMAP_STORE_BADNAME)
				fprintf(stderr, "op %d on \"%s\": %d\n", k, n, e[k]);
		}
	}
	/* "&Li4v-" is "../" in modified UTF-7: refused as a shifted ASCII
	 * run; an innocent name stays inside */
	CHECK(top_entries() == before);
	CHECK(exists(".Sent"));
}

static void test_outsiders(struct imap_store *s, struct imap_folder *fp);

static void
test_uids(struct imap_store *s)
{
	struct imap_folder f, g;
	struct imap_status st;
	uint64_t hms;
	ino_t ino;

	CHECK(imap_store_create(s, "U") == IMAP_STORE_OK);
	/* order by the time in the name, then the name */
	put(".U/new/1000.M1P1Q1.h", "b\n");
	put(".U/new/999.M5P1Q1.h", "a\n");
	put(".U/cur/1000.M0P1Q2.h:2,S", "c\n");
	put(".U/new/junk", "d\n");
	put(".U/new/.hidden", "e\n");
	CHECK(imap_store_status(s, "U", &st) == IMAP_STORE_OK);
	CHECK(st.messages == 4 && st.recent == 3 && st.unseen == 3 && st.uidnext == 5);
	CHECK(nfiles(".U/new") == 3);	/* STATUS moves nothing */
	CHECK(imap_folder_open(s, "U", 0, &f) == IMAP_STORE_OK);
	CHECK(f.n == 4 && f.uidnext == 5 && f.uidvalidity == st.uidvalidity);
	if (f.n == 4) {
		CHECK_STR(f.msgs[0].name, "cur/junk:2,");	/* no time: first */
		CHECK_STR(f.msgs[1].name, "cur/999.M5P1Q1.h:2,");
		CHECK_STR(f.msgs[2].name, "cur/1000.M0P1Q2.h:2,S");
		CHECK_STR(f.msgs[3].name, "cur/1000.M1P1Q1.h:2,");
		CHECK(f.msgs[0].uid == 1 && f.msgs[3].uid == 4);
		CHECK(f.msgs[1].recent && !f.msgs[2].recent && f.msgs[3].recent);
		CHECK(f.msgs[2].sys == IMAP_F_SEEN && f.msgs[1].sys == 0);
	}
	CHECK(nfiles(".U/new") == 0);
	CHECK(exists(".U/new/.hidden"));
	/* a sync with no change keeps the list file and the recent marks */
	ino = list_ino(".U");
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(ino != 0 && list_ino(".U") == ino);
	CHECK(f.n == 4 && f.msgs[1].recent);
	/* a second session (SELECT after a restart): same UIDs, not recent */
	CHECK(imap_folder_open(s, "U", 0, &g) == IMAP_STORE_OK);
	CHECK(g.n == 4 && g.uidvalidity == f.uidvalidity && g.uidnext == 5);
	for (size_t i = 0; i < g.n && i < f.n; i++) {
		CHECK(g.msgs[i].uid == f.msgs[i].uid && !g.msgs[i].recent);
		CHECK_STR(g.msgs[i].name, f.msgs[i].name);
	}
	/* EXAMINE sees a delivery but does not move it: it stays recent,
	 * since no session has claimed it */
	put(".U/new/2000.M1P1Q1.h", "f\n");
	imap_folder_close(&g);
	CHECK(imap_folder_open(s, "U", 1, &g) == IMAP_STORE_OK);
	CHECK(g.n == 5 && g.msgs[4].uid == 5 && g.msgs[4].recent);
	CHECK(!g.msgs[3].recent);
	CHECK_STR(g.msgs[4].name, "new/2000.M1P1Q1.h");
	CHECK(exists(".U/new/2000.M1P1Q1.h"));
	imap_folder_close(&g);
	/* the read-write session moves it: recent there, same UID */
	hms = f.highestmodseq;
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.n == 5 && f.msgs[4].uid == 5 && f.msgs[4].recent && f.msgs[1].recent);
	CHECK(f.highestmodseq > hms && f.msgs[4].modseq == f.highestmodseq);
	test_outsiders(s, &f);
}

/* Without an inotify watch (the system refused one), imap_folder_sync
 * skips the scan only while nothing it stats moved, and never trusts
 * times from the last second. */
static void
test_shortcut(struct imap_store *s)
{
	struct imap_folder f;
	time_t old = time(NULL) - 100;

	CHECK(imap_store_create(s, "Q") == IMAP_STORE_OK);
	put(".Q/cur/1.M1P1Q1.h:2,", "1\n");
	CHECK(imap_folder_open(s, "Q", 0, &f) == IMAP_STORE_OK);
	CHECK(f.watch != NULL && s->sel == &f);
	store_watch_free(&f);
	s->sel = NULL;
	CHECK(f.n == 1 && !f.stamp.valid);	/* the dirs were just written */
	set_mtime(".Q/cur", old);
	set_mtime(".Q/new", old);
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.stamp.valid);
	/* a file slipped in with cur/'s time put back: not seen (shortcut) */
	put(".Q/cur/2.M1P1Q1.h:2,", "2\n");
	set_mtime(".Q/cur", old);
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.n == 1);
	/* any move of a watched time: a full sync */
	set_mtime(".Q/new", old + 1);
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.n == 2 && f.stamp.valid);
	/* another session's write of the list (new inode) */
	put(".Q/cur/3.M1P1Q1.h:2,", "3\n");
	set_mtime(".Q/cur", old);
	{
		struct imap_folder g;

		CHECK(imap_folder_open(s, "Q", 1, &g) == IMAP_STORE_OK && g.n == 3);
		imap_folder_close(&g);
	}
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.n == 3);
	/* writes never take the shortcut: STORE sees the planted file */
	put(".Q/cur/4.M1P1Q1.h:2,", "4\n");
	set_mtime(".Q/cur", old);
	{
		struct imap_flag_change ch = { IMAP_FLAGS_ADD, IMAP_F_SEEN, NULL, 0, 0 };
		uint32_t uid = 4;
		enum imap_change_res res;

		CHECK(imap_folder_store(&f, &uid, 1, &ch, &res) == IMAP_STORE_OK);
		CHECK(f.n == 4 && res == IMAP_CHANGE_DONE);
	}
	/* another session's STORE only appends to the list (same inode): its
	 * size moves the stamp even with the dirs' times put back */
	set_mtime(".Q/cur", old);
	set_mtime(".Q/new", old);
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK && f.stamp.valid);
	{
		struct imap_folder g;
		ino_t ino = list_ino(".Q");

		CHECK(imap_folder_open(s, "Q", 0, &g) == IMAP_STORE_OK);
		store_one(&g, 1, IMAP_FLAGS_ADD, IMAP_F_FLAGGED, NULL);
		imap_folder_close(&g);
		CHECK(list_ino(".Q") == ino && has_commit(".Q"));
	}
	set_mtime(".Q/cur", old);
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.n == 4 && (f.msgs[0].sys & IMAP_F_FLAGGED));
	imap_folder_close(&f);
}

/* Another program changes the folder under a session's feet. */
static void
test_outsiders(struct imap_store *s, struct imap_folder *fp)
{
	struct imap_folder f = *fp;
	struct imap_status st;
	uint64_t hms;
	uint32_t uv;

	/* an outsider (mutt, POP3) changes flags: same UID, new modseq */
	{
		char a[PATH_MAX], b[PATH_MAX];

		CHECK(str_format(a, sizeof(a), "%s/.U/cur/999.M5P1Q1.h:2,", root) == 0);
		CHECK(str_format(b, sizeof(b), "%s/.U/cur/999.M5P1Q1.h:2,FRS", root) == 0);
		CHECK(rename(a, b) == 0);
	}
	hms = f.highestmodseq;
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.n == 5 && f.msgs[1].uid == 2);
	CHECK(f.msgs[1].sys == (IMAP_F_SEEN | IMAP_F_FLAGGED | IMAP_F_ANSWERED));
	CHECK(f.msgs[1].modseq == hms + 1 && f.highestmodseq == hms + 1);
	CHECK(f.msgs[0].modseq < hms);
	/* an outsider expunges: dropped, HIGHESTMODSEQ moves */
	{
		char a[PATH_MAX];

		CHECK(str_format(a, sizeof(a), "%s/.U/cur/junk:2,", root) == 0 && unlink(a) == 0);
	}
	hms = f.highestmodseq;
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.n == 4 && f.msgs[0].uid == 2 && f.highestmodseq > hms);
	CHECK(imap_folder_find(&f, 1) == NULL && imap_folder_find(&f, 5) != NULL);
	/* a lost list: rebuilt with a new, larger UIDVALIDITY */
	uv = f.uidvalidity;
	{
		char a[PATH_MAX];

		CHECK(str_format(a, sizeof(a), "%s/.U/%s", root, STORE_LIST_FILE) == 0 &&
		    unlink(a) == 0);
	}
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK);
	CHECK(f.uidvalidity > uv && f.n == 4 && f.msgs[0].uid == 1 && f.uidnext == 5);
	CHECK(!f.msgs[1].recent);	/* marks belong to the old UIDVALIDITY */
	imap_folder_close(&f);
	/* UIDVALIDITY unique per folder creation */
	CHECK(imap_store_create(s, "U2") == IMAP_STORE_OK);
	CHECK(imap_store_status(s, "U2", &st) == IMAP_STORE_OK);
	CHECK(st.uidvalidity > uv + 1 && st.messages == 0 && st.uidnext == 1);
	CHECK(imap_folder_open(s, "NoSuch", 0, &f) == IMAP_STORE_NONEXISTENT);
}

static void
test_flags(struct imap_store *s)
{
	static const char *const kw1[] = { "$Forwarded", "Work" };
	static const char *const kw2[] = { "work" };
	struct imap_flag_change ch = { IMAP_FLAGS_ADD, IMAP_F_SEEN | IMAP_F_FLAGGED,
	    kw1, 2, 0 };
	uint32_t uids[3] = { 1, 9, 2 };
	enum imap_change_res res[3];
	struct imap_folder f, g;
	char kw[30][8];
	const char *many[30];
	uint64_t ms;

	CHECK(imap_store_create(s, "F") == IMAP_STORE_OK);
	put(".F/new/10.M1P1Q1.h,S=2", "a\n");
	put(".F/new/11.M1P1Q1.h,S=2", "b\n");
	put(".F/cur/12.M1P1Q1.h,S=2:2,P", "c\n");
	CHECK(imap_folder_open(s, "F", 0, &f) == IMAP_STORE_OK);
	CHECK(f.n == 3);
	CHECK(imap_folder_store(&f, uids, 3, &ch, res) == IMAP_STORE_OK);
	CHECK(res[0] == IMAP_CHANGE_DONE && res[1] == IMAP_CHANGE_GONE &&
	    res[2] == IMAP_CHANGE_DONE);
	CHECK_STR(f.msgs[0].name, "cur/10.M1P1Q1.h,S=2:2,FSab");
	CHECK(exists(".F/cur/10.M1P1Q1.h,S=2:2,FSab"));
	CHECK_STR(f.keywords[0], "$Forwarded");
	CHECK_STR(f.keywords[1], "Work");
	CHECK(f.msgs[0].modseq == f.highestmodseq - 1 && f.msgs[1].modseq == f.highestmodseq);
	/* the state is on disk: a new session sees the same */
	CHECK(imap_folder_open(s, "F", 1, &g) == IMAP_STORE_OK);
	CHECK(g.n == 3 && g.msgs[0].kw == 3 && g.msgs[0].sys == (IMAP_F_SEEN | IMAP_F_FLAGGED));
	CHECK(g.keywords[1] != NULL && strcmp(g.keywords[1], "Work") == 0);
	CHECK(g.highestmodseq == f.highestmodseq && g.msgs[1].modseq == f.msgs[1].modseq);
	imap_folder_close(&g);
	/* remove (case-insensitive keyword); a no-op keeps the modseq */
	ms = f.msgs[2].modseq;
	ch = (struct imap_flag_change){ IMAP_FLAGS_REMOVE, IMAP_F_FLAGGED, kw2, 1, 0 };
	uids[0] = 1;
	uids[1] = 3;
	CHECK(imap_folder_store(&f, uids, 2, &ch, res) == IMAP_STORE_OK);
	CHECK_STR(f.msgs[0].name, "cur/10.M1P1Q1.h,S=2:2,Sa");
	CHECK(f.msgs[2].modseq == ms && res[1] == IMAP_CHANGE_DONE);
	/* SET keeps non-IMAP letters (P) and replaces the rest */
	ch = (struct imap_flag_change){ IMAP_FLAGS_SET, IMAP_F_DELETED | IMAP_F_DRAFT, NULL, 0, 0 };
	CHECK(imap_folder_store(&f, &uids[1], 1, &ch, res) == IMAP_STORE_OK);
	CHECK_STR(f.msgs[2].name, "cur/12.M1P1Q1.h,S=2:2,DPT");
	/* CONDSTORE: UNCHANGEDSINCE older than the message's modseq */
	ms = f.msgs[0].modseq;
	ch = (struct imap_flag_change){ IMAP_FLAGS_ADD, IMAP_F_ANSWERED, NULL, 0, ms - 1 };
	uids[1] = 2;
	CHECK(imap_folder_store(&f, uids, 2, &ch, res) == IMAP_STORE_OK);
	CHECK(res[0] == IMAP_CHANGE_MODIFIED && res[1] == IMAP_CHANGE_DONE);
	CHECK(f.msgs[0].modseq == ms && (f.msgs[1].sys & IMAP_F_ANSWERED));
	CHECK(imap_modseq_ok(5, 0) && imap_modseq_ok(5, 5) && !imap_modseq_ok(6, 5));
	/* a file renamed by an outsider after our sync is still found */
	{
		char a[PATH_MAX], b[PATH_MAX];

		CHECK(str_format(a, sizeof(a), "%s/.F/%s", root, f.msgs[0].name) == 0);
		CHECK(str_format(b, sizeof(b), "%s/.F/cur/10.M1P1Q1.h,S=2:2,RSa", root) == 0);
		CHECK(rename(a, b) == 0);
	}
	/* 26 letters at most */
	for (int i = 0; i < 30; i++) {
		CHECK(str_format(kw[i], sizeof(kw[i]), "k%d", i) == 0);
		many[i] = kw[i];
	}
	ch = (struct imap_flag_change){ IMAP_FLAGS_ADD, 0, many, 24, 0 };
	CHECK(imap_folder_store(&f, uids, 1, &ch, res) == IMAP_STORE_OK);
	CHECK(f.msgs[0].kw == 0x3fffffd);	/* a, c..z: b (Work) removed above */
	CHECK_STR(f.keywords[25], "k23");
	ch = (struct imap_flag_change){ IMAP_FLAGS_ADD, 0, &many[24], 1, 0 };
	CHECK(imap_folder_store(&f, uids, 1, &ch, res) == IMAP_STORE_LIMIT);
	many[0] = "bad keyword";
	ch = (struct imap_flag_change){ IMAP_FLAGS_ADD, 0, many, 1, 0 };
	CHECK(imap_folder_store(&f, uids, 1, &ch, res) == IMAP_STORE_BADNAME);
	CHECK(f.msgs[0].sys == (IMAP_F_SEEN | IMAP_F_ANSWERED));	/* outsider's R */
	imap_folder_close(&f);
}

static void
test_append(struct imap_store *s)
{
	static const char *const kws[] = { "Work" };
	struct imap_append a = { .fd = -1, .data = "Subject: hi\r\n\r\nbody\r\n",
	    .len = 21, .limit = 100, .sys = IMAP_F_SEEN | IMAP_FLAG('P'),
	    .keywords = kws, .nkeywords = 1, .internaldate = 1000000000 };
	uint32_t uv, uid, uid2;
	struct imap_folder f;
	struct buf b = BUF_INIT(1 << 20);
	char path[PATH_MAX];
	struct stat st;
	int p[2];

	CHECK(imap_store_create(s, "A") == IMAP_STORE_OK);
	CHECK(imap_store_create(s, "B") == IMAP_STORE_OK);
	CHECK(imap_store_append(s, "A", &a, &uv, &uid) == IMAP_STORE_OK);
	CHECK(uid == 1 && uv != 0);
	CHECK(nfiles(".A/tmp") == 0 && nfiles(".A/cur") == 1);
	/* from a pipe, over the limit: TOOBIG and nothing left behind */
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "0123456789", 10) == 10);
	close(p[1]);
	a.fd = p[0];
	a.limit = 5;
	CHECK(imap_store_append(s, "A", &a, &uv, &uid2) == IMAP_STORE_TOOBIG);
	close(p[0]);
	CHECK(nfiles(".A/tmp") == 0 && nfiles(".A/cur") == 1);
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "0123456789", 10) == 10);
	close(p[1]);
	a.limit = 10;
	a.nkeywords = 0;
	a.sys = 0;
	a.internaldate = 0;
	CHECK(imap_store_append(s, "A", &a, &uv, &uid2) == IMAP_STORE_OK);
	close(p[0]);
	CHECK(uid2 == 2);
	a.fd = -1;
	CHECK(imap_store_append(s, "Nowhere", &a, &uid, &uid2) == IMAP_STORE_NONEXISTENT);
	CHECK(imap_folder_open(s, "A", 0, &f) == IMAP_STORE_OK);
	CHECK(f.n == 2 && f.uidnext == 3 && f.uidvalidity == uv);
	if (f.n == 2) {
		CHECK(f.msgs[0].sys == IMAP_F_SEEN && f.msgs[0].kw == 1 && !f.msgs[0].recent);
		CHECK(f.keywords[0] != NULL && strcmp(f.keywords[0], "Work") == 0);
		CHECK(strstr(f.msgs[0].name, ",S=21:2,Sa") != NULL);
		CHECK(strstr(f.msgs[1].name, ",S=10:2,") != NULL);
		read_msg(&f, 1, &b);
		CHECK(buf_eq(&b, "Subject: hi\r\n\r\nbody\r\n"));
		read_msg(&f, 2, &b);
		CHECK(buf_eq(&b, "0123456789"));
		CHECK(str_format(path, sizeof(path), "%s/%s", f.path, f.msgs[0].name) == 0);
		CHECK(stat(path, &st) == 0 && st.st_mtime == 1000000000);
	}
	imap_folder_close(&f);
	buf_free(&b);
}

static void
test_copy_move(struct imap_store *s)
{
	static const char *const other[] = { "Other" };
	struct imap_flag_change ch = { IMAP_FLAGS_ADD, 0, other, 1, 0 };
	struct imap_append a = { .fd = -1, .data = "again", .len = 5 };
	uint32_t uv, uid, src[4], dst[4], uids[4];
	enum imap_change_res res[1];
	struct imap_folder f, d;
	struct buf b = BUF_INIT(1 << 20);
	char path[PATH_MAX];
	struct stat st;
	size_t n;

	CHECK(imap_folder_open(s, "A", 0, &f) == IMAP_STORE_OK);
	/* give B a keyword first so "Work" gets a different letter there */
	put(".B/cur/5.M1P1Q1.h:2,", "z\n");
	CHECK(imap_folder_open(s, "B", 0, &d) == IMAP_STORE_OK);
	uids[0] = 1;
	CHECK(imap_folder_store(&d, uids, 1, &ch, res) == IMAP_STORE_OK);
	imap_folder_close(&d);

	/* COPY 2, 7 (no such), 1: new UIDs ascending in source order */
	uids[0] = 2, uids[1] = 7, uids[2] = 1;
	CHECK(imap_folder_copy(&f, uids, 3, "B", &uv, src, dst, &n) == IMAP_STORE_OK);
	CHECK(n == 2 && src[0] == 2 && src[1] == 1 && dst[0] == 2 && dst[1] == 3);
	CHECK(imap_folder_open(s, "B", 0, &d) == IMAP_STORE_OK);
	CHECK(d.n == 3 && d.uidvalidity == uv && nfiles(".B/tmp") == 0);
	if (d.n == 3) {
		CHECK(d.msgs[2].sys == IMAP_F_SEEN && d.msgs[2].kw == 2);	/* Work = b */
		CHECK(d.keywords[1] != NULL && strcmp(d.keywords[1], "Work") == 0);
		read_msg(&d, 3, &b);
		CHECK(buf_eq(&b, "Subject: hi\r\n\r\nbody\r\n"));
		CHECK(str_format(path, sizeof(path), "%s/%s", d.path, d.msgs[2].name) == 0);
		CHECK(stat(path, &st) == 0 && st.st_nlink == 2 && st.st_mtime == 1000000000);
	}
	imap_folder_close(&d);
	CHECK(imap_folder_copy(&f, uids, 1, "No/pe", &uv, src, dst, &n) == IMAP_STORE_BADNAME);
	CHECK(imap_folder_copy(&f, uids, 1, "Nope", &uv, src, dst, &n) ==
	    IMAP_STORE_NONEXISTENT);

	/* MOVE 1 to B: copied, then gone from A */
	uids[0] = 1;
	CHECK(imap_folder_move(&f, uids, 1, "B", &uv, src, dst, &n) == IMAP_STORE_OK);
	CHECK(n == 1 && src[0] == 1 && dst[0] == 4);
	CHECK(f.n == 1 && f.msgs[0].uid == 2 && nfiles(".A/cur") == 1);
	/* EXPUNGE: gone from disk and list; the UID is never given again */
	uids[0] = 2, uids[1] = 99;
	CHECK(imap_folder_expunge(&f, uids, 2) == IMAP_STORE_OK);
	CHECK(f.n == 0 && nfiles(".A/cur") == 0);
	imap_folder_close(&f);
	CHECK(imap_folder_open(s, "A", 0, &f) == IMAP_STORE_OK);
	CHECK(f.n == 0 && f.uidnext == 3);
	imap_folder_close(&f);
	CHECK(imap_store_append(s, "b", &a, &uv, &uid) == IMAP_STORE_NONEXISTENT);
	CHECK(imap_store_append(s, "A", &a, &uv, &uid) == IMAP_STORE_OK && uid == 3);
	buf_free(&b);
}

static void
test_rename_inbox(struct imap_store *s)
{
	struct imap_folder f;

	/* RENAME INBOX: every message moves, INBOX stays and is empty */
	put("new/1.M1P1Q1.h", "1\n");
	put("cur/2.M1P1Q1.h:2,S", "2\n");
	CHECK(imap_folder_open(s, "INBOX", 0, &f) == IMAP_STORE_OK);
	CHECK(f.n == 2);
	CHECK(imap_store_rename(s, "INBOX", "Old") == IMAP_STORE_OK);
	CHECK(imap_folder_sync(&f) == IMAP_STORE_OK && f.n == 0 && f.uidnext == 3);
	imap_folder_close(&f);
	CHECK(imap_folder_open(s, "Old", 0, &f) == IMAP_STORE_OK);
	CHECK(f.n == 2 && exists(".Old/cur/2.M1P1Q1.h:2,S"));
	imap_folder_close(&f);
	CHECK(imap_store_rename(s, "INBOX", "Old") == IMAP_STORE_EXISTS);
	CHECK(exists(".INBOX.Kid"));	/* INBOX's children stay */
}

/* Hostile or broken UID lists: never a crash, never a path outside,
 * always rebuilt with a new UIDVALIDITY and every file numbered. */
static void
test_hostile_lists(struct imap_store *s)
{
	static const char *const lists[] = {
		"garbage\n",
		"",
		"postern-uidlist 1 5 3 9",			/* no newline */
		"postern-uidlist 2 5 3 9\n",			/* version */
		"postern-uidlist 1 99999999999 3 9\n",		/* > 32 bits */
		"postern-uidlist 1 0 3 9\n",
		"postern-uidlist 1 5 3 99999999999999999999999\n",
		"postern-uidlist 1 5 3 9\n1 1 cur/../../../etc/passwd\n",
		"postern-uidlist 1 5 3 9\n1 1 cur/..\n",
		"postern-uidlist 1 5 3 9\n1 1 new/a/b\n",
		"postern-uidlist 1 5 3 9\n1 1 tmp/x\n",
		"postern-uidlist 1 5 3 9\n1 1 cur/x\n1 2 cur/y\n",	/* dup uid */
		"postern-uidlist 1 5 3 9\n2 1 cur/x\n1 2 cur/y\n",	/* order */
		"postern-uidlist 1 5 3 9\n1 1 cur/x\n2 2 cur/x:2,S\n",	/* dup name */
		"postern-uidlist 1 5 3 9\n7 1 cur/x\n",		/* uid >= uidnext */
		"postern-uidlist 1 5 3 9\n1 10 cur/x\n",		/* modseq > highest */
		"postern-uidlist 1 5 3 8\n1 9 cur/x\n",		/* by one digit */
		"postern-uidlist 1 5 3 9\n5 1 cur/x\n",		/* uid == uidnext */
		"postern-uidlist 1 5 3 9\n01 1 cur/x\n",
		"postern-uidlist 1 5 3 9\n-1 1 cur/x\n",
		"postern-uidlist 1 5 3 9\nk a $ok\nk a again\n",
		"postern-uidlist 1 5 3 9\nk A bad\n",
		"postern-uidlist 1 5 3 9\nk b bad word\n",
		"postern-uidlist 1 5 3 9\n1 1 cur/x\nk a late\n",
		"postern-uidlist 1 5 3 9\n1 1 cur/\x01x\n",
		"postern-uidlist 1 5 3 9\n\n",
		NULL,
	};
	struct imap_folder f;
	char path[PATH_MAX];
	uint32_t uv = 0;
	size_t before = top_entries();

	CHECK(imap_store_create(s, "H") == IMAP_STORE_OK);
	put(".H/cur/1.M1P1Q1.h:2,S", "1\n");
	put(".H/cur/2.M1P1Q1.h:2,", "2\n");
	CHECK(str_format(path, sizeof(path), "%s/.H/%s", root, STORE_LIST_FILE) == 0);
	CHECK(imap_folder_open(s, "H", 0, &f) == IMAP_STORE_OK);
	uv = f.uidvalidity;
	imap_folder_close(&f);
	for (size_t i = 0; lists[i] != NULL; i++) {
		CHECK(write_file_atomic(path, lists[i], strlen(lists[i]), 0600) == 0);
		CHECK(imap_folder_open(s, "H", 0, &f) == IMAP_STORE_OK);
		CHECK(f.uidvalidity > uv && f.n == 2 && f.uidnext == 3);
		if (f.uidvalidity <= uv || f.n != 2)
			fprintf(stderr, "list %zu not rebuilt\n", i);
		CHECK(f.n == 2 && f.msgs[0].uid == 1 && f.msgs[1].uid == 2);
		uv = f.uidvalidity;
		imap_folder_close(&f);
	}
	/* a NUL inside, and a list that is a symlink to a directory */
	CHECK(write_file_atomic(path, "postern-uidlist 1 5 3 9\n1 1 cur/1.M1P1Q1.h:2,S\0\n",
	    48, 0600) == 0);
	CHECK(imap_folder_open(s, "H", 0, &f) == IMAP_STORE_OK);
	CHECK(f.uidvalidity > uv && f.n == 2);
	uv = f.uidvalidity;
	imap_folder_close(&f);
	/* a good list that names missing files and keeps high UIDs */
	CHECK(write_file_atomic(path, "postern-uidlist 1 77 50 9\nk a $x\n"
	    "3 1 cur/gone\n40 2 cur/2.M1P1Q1.h:2,a\n", 70, 0600) == 0);
	CHECK(imap_folder_open(s, "H", 0, &f) == IMAP_STORE_OK);
	CHECK(f.uidvalidity == 77 && f.n == 2 && f.msgs[0].uid == 40 &&
	    f.msgs[1].uid == 50 && f.uidnext == 51);
	CHECK(f.keywords[0] != NULL && strcmp(f.keywords[0], "$x") == 0);
	CHECK(f.n == 2 && f.msgs[0].kw == 0 && f.msgs[0].modseq > 9);	/* renamed */
	imap_folder_close(&f);
	CHECK(top_entries() == before);
}


int
main(void)
{
	struct imap_store s;

	fixture_begin(&s);
	test_names();
	test_match();
	test_login(&s);
	test_create_list(&s);
	test_delete_rename(&s);
	test_subscriptions(&s);
	test_sweep(&s);
	test_traversal(&s);
	test_uids(&s);
	test_shortcut(&s);
	test_flags(&s);
	test_append(&s);
	test_copy_move(&s);
	test_rename_inbox(&s);
	test_expunge(&s);
	test_hostile_lists(&s);
	fixture_end(&s);
	return UNIT_DONE();
}
