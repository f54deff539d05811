/*
 * postern_queue: the administrator's view of the queue.  Connects to
 * submit.sock directly (root may; anyone else is refused by the socket's
 * mode or by the queue's SO_PEERCRED check) and prints what the queue
 * answers.  The answers are trusted only as text: non-printable bytes are
 * shown as '?'.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"
#include "postern_queue.h"
#include "qlist.h"
#include "util.h"

#define TIMEOUT_MS	60000
#define FIELD_MAX	2048
#define CONF_MAX	(1024 * 1024)

static void
fprint_safe(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		putc(((unsigned char)s[i] >= 0x20 && s[i] != 0x7f) || s[i] == '\t' ?
		    s[i] : '?', f);
}

static void
print_safe(const char *s, size_t n)
{
	fprint_safe(stdout, s, n);
}

static void
print_str(const char *s)
{
	print_safe(s, strlen(s));
}

/* Text with CRLF or LF line ends, printed line by line. */
static void
print_lines(const char *s, size_t n)
{
	const char *nl;
	size_t len;

	while (n > 0) {
		nl = memchr(s, '\n', n);
		len = nl != NULL ? (size_t)(nl - s) : n;
		print_safe(s, len > 0 && s[len - 1] == '\r' ? len - 1 : len);
		putchar('\n');
		if (nl == NULL)
			break;
		n -= len + 1;
		s = nl + 1;
	}
}

/* Connect to the queue's submit.sock; fd or -1 (printed). */
static int
queue_connect(const struct config *c)
{
	char path[512];
	int fd;

	if (str_format(path, sizeof(path), "%s/submit.sock", c->paths_runtime) == -1) {
		fprintf(stderr, "postern: runtime path too long\n");
		return -1;
	}
	if ((fd = ipc_connect(path)) == -1) {
		if (errno == EACCES || errno == EPERM)
			fprintf(stderr, "postern: permission denied (%s)\n", path);
		else
			fprintf(stderr, "postern: queue unreachable at %s: %s\n", path,
			    strerror(errno));
	}
	return fd;
}

/* Send req, get one answer into ans.  0 with IPC_OK, 1 refused (printed),
 * -1 failure (printed). */
static int
request(int fd, struct ipc_msg *req, struct ipc_msg *ans)
{
	const char *err;
	int r = ipc_call(fd, req, ans, TIMEOUT_MS);

	if (r != 1) {
		fprintf(stderr, "postern: no answer from the queue%s%s\n",
		    r == -1 ? ": " : "", r == -1 ? strerror(errno) : "");
		return -1;
	}
	if (ans->type == IPC_OK)
		return 0;
	err = ipc_get_str(ans, "error", FIELD_MAX);
	fprintf(stderr, "postern: ");
	if (ans->type == IPC_ERROR && err != NULL)
		fprint_safe(stderr, err, strlen(err));
	else
		fprintf(stderr, "unexpected answer");
	fprintf(stderr, "\n");
	return 1;
}

/* ---- listing ---------------------------------------------------------------- */

/* One message record.  0 printed, -1 malformed. */
static int
print_entry(const struct ipc_msg *m, uint64_t *bytes)
{
	struct qlist_entry e;
	const char *key, *val;
	size_t pos = 0, len;

	if (qlist_entry_parse(m, FIELD_MAX, &e) == -1)
		return -1;
	print_str(e.id);
	printf("%s %9llu %-20s  ", ipc_get(m, "hold", &len) ? "!" : " ",
	    (unsigned long long)e.size, e.when);
	print_str(*e.sender ? e.sender : "MAILER-DAEMON");
	printf("%s\n", ipc_get(m, "hold", &len) ? "  (on hold)" : "");
	while (ipc_next(m, &pos, &key, &val, &len) == 1) {
		if (len > FIELD_MAX || memchr(val, 0, len) != NULL)
			continue;
		if (strcmp(key, "rcpt") == 0) {
			printf("%24s", "");
			print_safe(val, len);
			putchar('\n');
		} else if (strcmp(key, "status") == 0) {
			printf("%28s(", "");
			print_safe(val, len);
			printf(")\n");
		}
	}
	if (e.more > 0)
		printf("%24s(%llu more recipients)\n", "", (unsigned long long)e.more);
	putchar('\n');
	*bytes += e.size;
	return 0;
}

static int
queue_list(int fd)
{
	struct ipc_msg req, ans;
	uint64_t bytes = 0, end, count = 0;
	int r;

	ipc_msg_init(&req, IPC_QUEUE_LIST);
	r = request(fd, &req, &ans);
	ipc_msg_free(&req);
	while (r == 0 && ipc_get_u64(&ans, "end", &end) == -1) {
		if (count++ == 0)
			printf("%-23s%9s %-20s  %s\n", "-Queue ID-", "--Size--",
			    "---Arrival Time---", "-Sender/Recipient-------");
		if (print_entry(&ans, &bytes) == -1) {
			fprintf(stderr, "postern: malformed answer from the queue\n");
			r = -1;
			break;
		}
		ipc_msg_free(&ans);
		if (ipc_recv(fd, &ans) != 1 || ans.type != IPC_OK) {
			fprintf(stderr, "postern: listing interrupted\n");
			r = -1;
		}
	}
	ipc_msg_free(&ans);
	if (r != 0)
		return 1;
	if (count == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %llu Kbytes in %llu Request%s.\n",
		    (unsigned long long)((bytes + 1023) / 1024),
		    (unsigned long long)count, count == 1 ? "" : "s");
	return 0;
}

/* ---- single requests ---------------------------------------------------------- */

static int
queue_show(int fd, const char *id)
{
	struct ipc_msg req, ans;
	const char *env, *hdr;
	size_t elen, hlen;
	int r;

	ipc_msg_init(&req, IPC_QUEUE_SHOW);
	if (ipc_put_str(&req, "id", id) == -1) {
		ipc_msg_free(&req);
		return 2;
	}
	r = request(fd, &req, &ans);
	ipc_msg_free(&req);
	if (r == 0) {
		env = ipc_get(&ans, "envelope", &elen);
		hdr = ipc_get(&ans, "headers", &hlen);
		if (env == NULL || hdr == NULL) {
			fprintf(stderr, "postern: malformed answer from the queue\n");
			r = -1;
		} else {
			printf("*** ENVELOPE ***\n");
			print_lines(env, elen);
			printf("*** HEADERS ***\n");
			print_lines(hdr, hlen);
		}
	}
	ipc_msg_free(&ans);
	return r == 0 ? 0 : 1;
}

/* delete, hold, release: "count" messages changed. */
static int
queue_change(int fd, uint16_t type, const char *verb, const char *id)
{
	struct ipc_msg req, ans;
	uint64_t count;
	int r;

	ipc_msg_init(&req, type);
	if (ipc_put_str(&req, "id", id) == -1) {
		ipc_msg_free(&req);
		return 2;
	}
	r = request(fd, &req, &ans);
	ipc_msg_free(&req);
	if (r == 0 && ipc_get_u64(&ans, "count", &count) == -1) {
		fprintf(stderr, "postern: malformed answer from the queue\n");
		r = -1;
	}
	ipc_msg_free(&ans);
	if (r != 0)
		return 1;
	printf("postern: %s %llu message%s\n", verb, (unsigned long long)count,
	    count == 1 ? "" : "s");
	return 0;
}

static void
queue_usage(void)
{
	fprintf(stderr, "usage: postern queue [list]\n"
	    "       postern queue show ID\n"
	    "       postern queue delete|hold|release ID|all\n"
	    "       postern flush\n");
}

static int
queue_cmd(const struct config *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		uint16_t type;
		const char *verb;
	} changes[] = {
		{ "delete", IPC_QUEUE_DELETE, "deleted" },
		{ "hold", IPC_QUEUE_HOLD, "held" },
		{ "release", IPC_QUEUE_RELEASE, "released" },
	};
	const char *cmd = argc > 1 ? argv[1] : "list";
	size_t i;
	int fd, rc;

	if (strcmp(cmd, "list") == 0 ? argc > 2 : argc != 3) {
		queue_usage();
		return 2;
	}
	for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
		if (strcmp(cmd, changes[i].name) == 0)
			break;
	if (i == sizeof(changes) / sizeof(changes[0]) && strcmp(cmd, "list") != 0 &&
	    strcmp(cmd, "show") != 0) {
		queue_usage();
		return 2;
	}
	if ((fd = queue_connect(c)) == -1)
		return 1;
	if (strcmp(cmd, "list") == 0)
		rc = queue_list(fd);
	else if (strcmp(cmd, "show") == 0)
		rc = queue_show(fd, argv[2]);
	else
		rc = queue_change(fd, changes[i].type, changes[i].verb, argv[2]);
	close(fd);
	return rc;
}

static int
flush_cmd(const struct config *c, int argc, char **argv)
{
	struct ipc_msg req, ans;
	uint64_t count;
	int fd, r;

	if (argc != 1) {
		queue_usage();
		return 2;
	}
	if ((fd = queue_connect(c)) == -1)
		return 1;
	ipc_msg_init(&req, IPC_QUEUE_FLUSH);
	r = request(fd, &req, &ans);
	ipc_msg_free(&req);
	if (r == 0 && ipc_get_u64(&ans, "count", &count) == -1)
		r = -1;
	ipc_msg_free(&ans);
	close(fd);
	if (r != 0)
		return 1;
	printf("postern: %llu deferred recipient%s due now\n",
	    (unsigned long long)count, count == 1 ? "" : "s");
	return 0;
}

int
postern_queue(const char *conf, int argc, char **argv)
{
	struct buf text = BUF_INIT(CONF_MAX), errors = BUF_INIT(64 * 1024);
	struct config c;
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	config_defaults(&c);
	if (read_file(conf, &text, CONF_MAX) == -1)
		fprintf(stderr, "postern: %s: %s\n", conf, strerror(errno));
	else if (config_parse_text(conf, buf_cstr(&text), text.len, &c, &errors) == -1)
		fprintf(stderr, "%s", buf_cstr(&errors));
	else
		rc = strcmp(argv[0], "flush") == 0 ? flush_cmd(&c, argc, argv) :
		    queue_cmd(&c, argc, argv);
	buf_free(&text);
	buf_free(&errors);
	config_free(&c);
	return rc;
}
