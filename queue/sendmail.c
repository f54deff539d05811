/*
 * sendmail: local submission (`sendmail [-t] [-i] [-f sender] [-F name]
 * [recipients...]`).  Setgid PREFIXsubmit only to reach submit.sock; reads
 * the message as the invoking user, fixes it up (sendmail_msg.c) and hands
 * it to the queue (sendmail_io.c).  Exits 0 only once the queue committed it.
 */
#include <sys/stat.h>
#include <bsd/stdlib.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "envelope.h"
#include "sendmail_io.h"
#include "sendmail_msg.h"
#include "submit.h"
#include "util.h"
#include "xmalloc.h"

#define CONF_MAX	(1024 * 1024)
#define ADDED_MAX	4096	/* room for the headers we add */

struct sm_args {
	int extract, dot_ends;
	const char *sender, *full_name;
	char **rcpt;
	int nrcpt;
};

static void __attribute__((noreturn, format(printf, 2, 3)))
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("sendmail: message not queued: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sendmail [-t] [-i] [-oi] [-f sender] [-F name] "
	    "[-bm] [-odi|-odb] [--] [recipient ...]\n");
	fail(EX_USAGE, "bad usage");
}

/* Options of other sendmails that change nothing here are accepted. */
static void
parse_args(int argc, char **argv, struct sm_args *a)
{
	int ch;

	memset(a, 0, sizeof(*a));
	a->dot_ends = 1;
	while ((ch = getopt(argc, argv, "+b:B:F:f:iL:N:no:r:R:tUvV:")) != -1)
		switch (ch) {
		case 'b':
			if (strcmp(optarg, "m") != 0)
				usage();	/* only "deliver mail" mode */
			break;
		case 'F':
			a->full_name = optarg;
			break;
		case 'f':
		case 'r':
			a->sender = optarg;
			break;
		case 'i':
			a->dot_ends = 0;
			break;
		case 'o':
			if (strcmp(optarg, "i") == 0)
				a->dot_ends = 0;
			break;		/* -odi, -odb, -oem, ...: ignored */
		case 't':
			a->extract = 1;
			break;
		case 'B': case 'L': case 'N': case 'R': case 'V':
		case 'n': case 'U': case 'v':
			break;
		default:
			usage();
		}
	a->rcpt = argv + optind;
	a->nrcpt = argc - optind;
}

/* The config, read as the invoking user; only the pure parser is used, so
 * a key file we may not read does not matter. */
static void
load_config(struct config *c)
{
	struct buf text = BUF_INIT(CONF_MAX), errors = BUF_INIT(64 * 1024);
	const char *path = config_default_path();

	config_defaults(c);
	if (read_file(path, &text, CONF_MAX) == -1)
		fail(EX_TEMPFAIL, "%s: %s", path, strerror(errno));
	if (config_parse_text(path, text.data ? text.data : "", text.len, c, &errors) == -1)
		fail(EX_TEMPFAIL, "%s", buf_cstr(&errors));
	buf_free(&text);
	buf_free(&errors);
}

/* The envelope: sender and recipients; the queue sets the rest. */
static void
make_envelope(const struct sm_args *a, const char *me, const struct sm_list *rcpts,
    const char *host, struct envelope *e)
{
	char *s = NULL;
	size_t i;

	envelope_init(e);
	if (str_copy(e->id, sizeof(e->id), "new") == -1)
		fail(EX_SOFTWARE, "id");
	if (a->sender == NULL)
		s = xstrdup(me);
	else if (strcmp(a->sender, "") == 0 || strcmp(a->sender, "<>") == 0)
		s = xstrdup("");
	else {
		const char *p = a->sender;
		size_t n = strlen(p);

		if (n >= 2 && p[0] == '<' && p[n - 1] == '>')	/* -f "<addr>" */
			p++, n -= 2;
		if (!sm_addr_fix(p, n, host, &s))
			fail(EX_DATAERR, "bad sender address: %s", a->sender);
	}
	e->sender = s;
	for (i = 0; i < rcpts->n; i++)
		envelope_add_rcpt(e, rcpts->v[i], NULL, 0);
	e->smtputf8 = 0;
	for (i = 0; i < rcpts->n; i++)
		for (const char *p = rcpts->v[i]; *p; p++)
			if ((unsigned char)*p >= 0x80)
				e->smtputf8 = 1;
	for (const char *p = e->sender; *p; p++)
		if ((unsigned char)*p >= 0x80)
			e->smtputf8 = 1;
}

/* Read stdin and build the stored message; collect -t recipients. */
static void
make_message(const struct sm_args *a, const struct config *c, const char *me,
    struct buf *msg, struct sm_list *rcpts)
{
	struct buf raw = BUF_INIT(c->message_size);
	struct sm_opts o;
	char unique[17];
	const char *err;
	int i, r;

	if ((r = sm_read_input(STDIN_FILENO, a->dot_ends, &raw)) != 1)
		fail(r == 0 ? EX_DATAERR : EX_IOERR, "%s", r == 0 ?
		    "message too big" : strerror(errno));
	for (i = 0; i < 16; i++)
		unique[i] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[arc4random_uniform(32)];
	unique[16] = '\0';
	o.extract = a->extract;
	o.hostname = c->hostname;
	o.from_addr = me;
	o.full_name = a->full_name;
	o.now = time(NULL);
	o.unique = unique;
	buf_init(msg, c->message_size + ADDED_MAX);
	if (!sm_msg_build(raw.data ? raw.data : "", raw.len, &o, msg, rcpts, &err))
		fail(EX_DATAERR, "%s", err);
	buf_free(&raw);
}

int
main(int argc, char **argv)
{
	struct sm_list rcpts = { NULL, 0, 0 };
	char id[ENVELOPE_ID_MAX + 1], *me;
	struct sm_args a;
	struct envelope e;
	struct config c;
	struct passwd *pw;
	struct buf msg;
	const char *err;
	int i, fd, r;

	if (submit_priv_init() == -1)
		fail(EX_OSERR, "setresgid: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv, &a);
	load_config(&c);
	if ((pw = getpwuid(getuid())) == NULL)
		fail(EX_OSERR, "who is uid %lu?", (unsigned long)getuid());
	if (!sm_addr_fix(pw->pw_name, strlen(pw->pw_name), c.hostname, &me))
		fail(EX_OSERR, "login %s is not an address", pw->pw_name);
	for (i = 0; i < a.nrcpt; i++)
		if (!sm_addr_list(a.rcpt[i], strlen(a.rcpt[i]), c.hostname, &rcpts, &err))
			fail(EX_DATAERR, "bad recipient address: %s", a.rcpt[i]);
	make_message(&a, &c, me, &msg, &rcpts);
	if (rcpts.n == 0)
		fail(EX_USAGE, "no recipients");
	make_envelope(&a, me, &rcpts, c.hostname, &e);
	if ((fd = submit_connect(c.paths_runtime)) == -1)
		fail(EX_TEMPFAIL, "queue unreachable: %s/submit.sock: %s",
		    c.paths_runtime, strerror(errno));
	r = sm_submit(fd, &e, &msg, id, &err);
	if (r != 1)
		fail(r == 0 ? EX_DATAERR : EX_TEMPFAIL, "%s", err);
	close(fd);
	envelope_free(&e);
	sm_list_free(&rcpts);
	buf_free(&msg);
	free(me);
	config_free(&c);
	return EX_OK;
}
