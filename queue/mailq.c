/*
 * mailq: lists the queue.  Setgid PREFIXsubmit only to reach submit.sock
 * (common/submit.c), asks the queue with IPC_QUEUE_LIST and prints one
 * entry a message.  The queue's records are checked before printing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "qlist.h"
#include "submit.h"
#include "util.h"

#define CONF_MAX	(1024 * 1024)
#define TIMEOUT_MS	60000
#define FIELD_MAX	1100	/* an address with its state word */

static void __attribute__((noreturn))
fail(int code, const char *what, const char *why)
{
	fprintf(stderr, "mailq: %s%s%s\n", what, why ? ": " : "", why ? why : "");
	exit(code);
}

/* Printable text only: anything else is shown as '?'. */
static void
print_safe(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s >= 0x20 && *s != 0x7f ? *s : '?');
}

/* One message record.  0 printed, -1 malformed. */
static int
print_entry(const struct ipc_msg *m, uint64_t *bytes)
{
	struct qlist_entry e;
	const char *key, *val;
	size_t pos = 0, len;

	if (qlist_entry_parse(m, FIELD_MAX, &e) == -1)
		return -1;
	printf("%-21s %9llu %-20s  ", e.id, (unsigned long long)e.size, e.when);
	print_safe(*e.sender ? e.sender : "MAILER-DAEMON");
	putchar('\n');
	while (ipc_next(m, &pos, &key, &val, &len) == 1) {
		if (strcmp(key, "rcpt") != 0 || len > FIELD_MAX || memchr(val, 0, len))
			continue;
		printf("%55s", "");
		print_safe(strncmp(val, "pending ", 8) == 0 ? val + 8 : val);
		putchar('\n');
	}
	if (e.more > 0)
		printf("%55s(%llu more recipients)\n", "", (unsigned long long)e.more);
	putchar('\n');
	*bytes += e.size;
	return 0;
}

static void
load_config(struct config *c)
{
	struct buf text = BUF_INIT(CONF_MAX), errors = BUF_INIT(64 * 1024);
	const char *path = config_default_path();

	config_defaults(c);
	if (read_file(path, &text, CONF_MAX) == -1)
		fail(EX_TEMPFAIL, path, strerror(errno));
	if (config_parse_text(path, text.data ? text.data : "", text.len, c, &errors) == -1)
		fail(EX_TEMPFAIL, buf_cstr(&errors), NULL);
	buf_free(&text);
	buf_free(&errors);
}

int
main(int argc, char **argv)
{
	struct ipc_msg req, ans;
	struct config c;
	uint64_t bytes = 0, end, count = 0;
	int fd, r;

	if (submit_priv_init() == -1)
		fail(EX_OSERR, "setresgid", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1)
		fail(EX_USAGE, "usage: mailq", NULL);
	load_config(&c);
	if ((fd = submit_connect(c.paths_runtime)) == -1)
		fail(EX_TEMPFAIL, "queue unreachable", strerror(errno));
	ipc_msg_init(&req, IPC_QUEUE_LIST);
	r = ipc_call(fd, &req, &ans, TIMEOUT_MS);
	ipc_msg_free(&req);
	for (;;) {
		if (r != 1 || ans.type != IPC_OK)
			fail(EX_TEMPFAIL, "listing failed", r == 1 ? "refused" :
			    r == 0 ? "connection closed" : strerror(errno));
		if (ipc_get_u64(&ans, "end", &end) == 0)
			break;
		if (count == 0)
			printf("%-21s %9s %-20s  %s\n", "-Queue ID-", "--Size--",
			    "---Arrival Time---", "-Sender/Recipient-------");
		if (print_entry(&ans, &bytes) == -1)
			fail(EX_PROTOCOL, "malformed answer from the queue", NULL);
		count++;
		ipc_msg_free(&ans);
		r = ipc_recv(fd, &ans);
	}
	ipc_msg_free(&ans);
	close(fd);
	if (count == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %llu Kbytes in %llu Request%s.\n",
		    (unsigned long long)((bytes + 1023) / 1024),
		    (unsigned long long)count, count == 1 ? "" : "s");
	config_free(&c);
	return EX_OK;
}
