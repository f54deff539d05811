/* Unit tests for common/lineio over socketpairs and pipes: line limits,
 * split input, EOF, timeouts, STARTTLS discard, buffered output. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lineio.h"
#include "unit.h"

static int64_t
ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pause_ms(int n)
{
	struct timespec ts = { 0, (long)n * 1000000L };

	nanosleep(&ts, NULL);
}

static void
put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		_exit(2);
}

/* Fork a writer that sends the pieces with pauses between them, then closes. */
static pid_t
writer(int fd, const char *const *pieces)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (; *pieces != NULL; pieces++) {
			put(fd, *pieces);
			pause_ms(20);
		}
		_exit(0);
	}
	return pid;
}

static void
reap(pid_t pid)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "child status %#x\n", st);
}

static void
test_split_and_crlf(void)
{
	static const char *const pieces[] = { "hel", "lo\r\nwor", "ld\n", "x\r", "\n", NULL };
	struct lineio l;
	struct buf line = BUF_INIT(1000);
	int sv[2];
	pid_t pid;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = writer(sv[1], pieces);
	close(sv[1]);
	lineio_init(&l, sv[0], 5000);
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "hello\r\n");
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "world\n");
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "x\r\n");
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_EOF);
	CHECK(line.len == 0);
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_EOF);
	reap(pid);
	lineio_free(&l);
	close(sv[0]);
	buf_free(&line);
}

static void
test_max(void)
{
	struct lineio l;
	struct buf line = BUF_INIT(1000);
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	put(sv[1], "123456789\n1234567890\nnext\n12345678901234567890123\nlast\nab");
	shutdown(sv[1], SHUT_WR);
	lineio_init(&l, sv[0], 5000);
	/* exactly max bytes with the terminator: fine */
	CHECK(lineio_read_line(&l, &line, 10) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "123456789\n");
	/* max + 1: too long, line holds max bytes */
	CHECK(lineio_read_line(&l, &line, 10) == LINEIO_TOOLONG);
	CHECK_STR(buf_cstr(&line), "1234567890");
	CHECK(lineio_skip_line(&l) == LINEIO_OK);
	CHECK(lineio_read_line(&l, &line, 10) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "next\n");
	CHECK(lineio_read_line(&l, &line, 10) == LINEIO_TOOLONG);
	CHECK(line.len == 10);
	CHECK(lineio_skip_line(&l) == LINEIO_OK);
	CHECK(lineio_has_line(&l));	/* "last\n" is buffered */
	CHECK(lineio_read_line(&l, &line, 10) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "last\n");
	CHECK(lineio_pending(&l) == 2);
	CHECK(!lineio_has_line(&l));	/* "ab": the next read may block */
	/* final unterminated part comes with EOF */
	CHECK(lineio_read_line(&l, &line, 10) == LINEIO_EOF);
	CHECK_STR(buf_cstr(&line), "ab");
	CHECK(lineio_skip_line(&l) == LINEIO_EOF);
	/* the buffer's own limit caps max */
	lineio_free(&l);
	close(sv[0]);
	close(sv[1]);

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	put(sv[1], "abcdef\n");
	lineio_init(&l, sv[0], 5000);
	line.max = 3;
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_TOOLONG);
	CHECK_STR(buf_cstr(&line), "abc");
	line.max = 1000;
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "def\n");
	lineio_free(&l);
	close(sv[0]);
	close(sv[1]);
	buf_free(&line);
}

/* A line far longer than the input buffer, arriving in pieces. */
static void
test_huge_line(void)
{
	struct lineio l;
	struct buf line = BUF_INIT(BUF_NOLIMIT);
	char chunk[10000];
	int sv[2];
	pid_t pid;

	memset(chunk, 'x', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\0';
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	{
		const char *const pieces[] = { chunk, chunk, chunk, chunk, chunk, "\nok\n", NULL };

		pid = writer(sv[1], pieces);
	}
	close(sv[1]);
	lineio_init(&l, sv[0], 5000);
	CHECK(lineio_read_line(&l, &line, 1000) == LINEIO_TOOLONG);
	CHECK(line.len == 1000);
	CHECK(lineio_skip_line(&l) == LINEIO_OK);
	CHECK(lineio_read_line(&l, &line, 1000) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "ok\n");
	reap(pid);

	/* and one that fits in a large max */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	{
		const char *const pieces[] = { chunk, chunk, chunk, "\n", NULL };

		pid = writer(sv[1], pieces);
	}
	close(sv[1]);
	lineio_free(&l);
	close(l.fd);
	lineio_init(&l, sv[0], 5000);
	CHECK(lineio_read_line(&l, &line, 100000) == LINEIO_OK);
	CHECK(line.len == 3 * (sizeof(chunk) - 1) + 1);
	reap(pid);
	lineio_free(&l);
	close(sv[0]);
	buf_free(&line);
}

static void
test_timeout(void)
{
	struct lineio l;
	struct buf line = BUF_INIT(1000);
	char c;
	int sv[2];
	int64_t t0;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	lineio_init(&l, sv[0], 100);
	t0 = ms();
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_TIMEOUT);
	CHECK(ms() - t0 >= 95 && ms() - t0 < 2000);
	put(sv[1], "part");
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_TIMEOUT);
	CHECK_STR(buf_cstr(&line), "part");
	CHECK(lineio_skip_line(&l) == LINEIO_TIMEOUT);
	CHECK(lineio_read(&l, &c, 1) == LINEIO_TIMEOUT);
	lineio_free(&l);
	close(sv[0]);
	close(sv[1]);
	buf_free(&line);
}

static void
test_raw_and_starttls(void)
{
	struct lineio l;
	struct buf line = BUF_INIT(1000);
	struct tls_conn fake = { NULL, -1, 0 };
	char b[16];
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	put(sv[1], "STARTTLS\r\nMAIL FROM:<x>\r\n");
	lineio_init(&l, sv[0], 1000);
	CHECK(lineio_read_line(&l, &line, 100) == LINEIO_OK);
	CHECK_STR(buf_cstr(&line), "STARTTLS\r\n");
	CHECK(lineio_pending(&l) == 15);
	CHECK(lineio_start_tls(&l, &fake) == 15);
	CHECK(lineio_pending(&l) == 0);
	CHECK(l.tls == &fake);
	lineio_free(&l);

	put(sv[1], "0123456789abc\ndef");
	lineio_init(&l, sv[0], 1000);
	CHECK(lineio_read(&l, b, 4) == 4);
	CHECK(memcmp(b, "0123", 4) == 0);
	CHECK(lineio_read(&l, b, sizeof(b)) == 13);
	CHECK(memcmp(b, "456789abc\ndef", 13) == 0);
	CHECK(lineio_read(&l, b, 0) == 0);
	shutdown(sv[1], SHUT_WR);
	CHECK(lineio_read(&l, b, sizeof(b)) == 0);
	lineio_free(&l);
	close(sv[0]);
	close(sv[1]);
	buf_free(&line);
}

/* Read everything from fd and check it is n bytes of the pattern. */
static pid_t
reader(int fd, int other, size_t n)
{
	pid_t pid = fork();
	char b[8192];
	size_t got = 0;
	ssize_t r;

	if (pid != 0)
		return pid;
	close(other);
	while ((r = read(fd, b, sizeof(b))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			if (b[i] != (char)('a' + (got + (size_t)i) % 26))
				_exit(3);
		got += (size_t)r;
	}
	_exit(got == n ? 0 : 4);
}

static void
test_output(int use_pipe)
{
	struct lineio l;
	char *big = malloc(299988);
	int sv[2];
	pid_t pid;

	for (size_t i = 0; i < 299988; i++)
		big[i] = (char)('a' + i % 26);
	if (use_pipe)
		CHECK(pipe(sv) == 0);
	else
		CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = reader(sv[0], sv[1], 299988 + 26);
	close(sv[0]);
	lineio_init(&l, sv[1], 5000);
	CHECK(lineio_write(&l, big, 299988) == 0);
	CHECK(lineio_flush(&l) == 0);
	CHECK(l.out.len == 0);
	CHECK(lineio_printf(&l, "%s%s", "abcdefghijklm", "nopqrstuvwxyz") == 0);
	CHECK(lineio_flush(&l) == 0);
	CHECK(lineio_flush(&l) == 0);
	close(sv[1]);
	reap(pid);
	lineio_free(&l);
	free(big);
}

static void
test_output_limits(void)
{
	struct lineio l;
	char *big = calloc(1, 1024 * 1024 + 1);
	int sv[2];
	int64_t t0;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	lineio_init(&l, sv[1], 100);
	CHECK(lineio_write(&l, big, 1024 * 1024 + 1) == -1);
	CHECK(lineio_write(&l, big, 1024 * 1024) == 0);
	CHECK(lineio_write(&l, "x", 1) == -1);
	/* nobody reads: the flush times out */
	t0 = ms();
	CHECK(lineio_flush(&l) == -1);
	CHECK(ms() - t0 >= 95 && ms() - t0 < 3000);
	CHECK(l.out.len == 0);
	lineio_free(&l);
	close(sv[0]);
	close(sv[1]);

	/* peer gone: an error, not SIGPIPE */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[0]);
	lineio_init(&l, sv[1], 100);
	CHECK(lineio_write(&l, "hello\r\n", 7) == 0);
	CHECK(lineio_flush(&l) == -1);
	lineio_free(&l);
	close(sv[1]);
	free(big);
}

/* Preloaded input is read before the descriptor, lines may span both,
 * and more than the buffer holds is refused. */
static void
test_preload(void)
{
	static char big[LINEIO_BUFSIZE + 1];
	struct buf line = BUF_INIT(1024);
	struct lineio l;
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	put(sv[0], "3\r\nSTAT\r\n");
	close(sv[0]);
	lineio_init(&l, sv[1], 1000);
	CHECK(lineio_preload(&l, big, sizeof(big)) == -1);
	CHECK(lineio_preload(&l, "PASS x\r\nRETR ", 13) == 0);
	CHECK(lineio_pending(&l) == 13);
	CHECK(lineio_read_line(&l, &line, 255) == LINEIO_OK);
	CHECK(buf_eq(&line, "PASS x\r\n"));
	CHECK(lineio_read_line(&l, &line, 255) == LINEIO_OK);
	CHECK(buf_eq(&line, "RETR 3\r\n"));
	CHECK(lineio_read_line(&l, &line, 255) == LINEIO_OK);
	CHECK(buf_eq(&line, "STAT\r\n"));
	CHECK(lineio_read_line(&l, &line, 255) == LINEIO_EOF);
	/* preloading in front of unread input keeps the order; full is -1 */
	CHECK(lineio_preload(&l, "b\n", 2) == 0);
	CHECK(lineio_preload(&l, "a\n", 2) == 0);
	CHECK(lineio_preload(&l, big, LINEIO_BUFSIZE - 3) == -1);
	CHECK(lineio_read_line(&l, &line, 255) == LINEIO_OK);
	CHECK(buf_eq(&line, "a\n"));
	CHECK(lineio_read_line(&l, &line, 255) == LINEIO_OK);
	CHECK(buf_eq(&line, "b\n"));
	lineio_free(&l);
	buf_free(&line);
	close(sv[1]);
}

int
main(void)
{
	test_split_and_crlf();
	test_max();
	test_huge_line();
	test_timeout();
	test_raw_and_starttls();
	test_output(0);
	test_output(1);
	test_output_limits();
	test_preload();
	return UNIT_DONE();
}
