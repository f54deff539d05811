/*
 * smtp-sink: the counting SMTP sink of `make bench` (the relay scenario's
 * far end).  Accepts every message on one loopback address:port, throws it
 * away and prints running counters -- connections, messages, recipients and
 * the monotonic time of the latest message -- on stdout.  Trusts only its
 * command line; never meant to face a real network.
 */
#define _GNU_SOURCE		/* accept4 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "smtp-sink_conn.h"
#include "util.h"
#include "xmalloc.h"

#define MAX_SESSIONS	10000

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	stopping = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtp-sink -s addr:port [-m max-sessions] "
	    "[-T idle-timeout]\n");
	exit(2);
}

static int
listen_on(const char *where)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *err;
	int fd, one = 1;

	if (net_parse_hostport(where, &ss, &sslen, &err) == -1 || sslen == 0) {
		fprintf(stderr, "smtp-sink: -s %s: %s\n", where,
		    sslen == 0 ? "no address" : err);
		exit(2);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		log_fatal("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		log_fatal("SO_REUSEADDR: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		log_fatal("bind %s: %s", where, strerror(errno));
	if (listen(fd, 512) == -1)
		log_fatal("listen: %s", strerror(errno));
	return fd;
}

static void
print_stats(const struct sink_stats *st)
{
	printf("conns=%" PRIu64 " open=%" PRIu64 " msgs=%" PRIu64
	    " rcpts=%" PRIu64 " last=%.6f\n", st->conns, st->open, st->msgs,
	    st->rcpts, (double)st->last_ns / 1e9);
	if (fflush(stdout) == EOF)
		log_fatal("stdout: %s", strerror(errno));
}

/* Accept every pending connection while there is room. */
static void
accept_all(int lfd, struct sink_conn **c, unsigned *n, unsigned max,
    struct sink_stats *st)
{
	int fd;

	while (*n < max &&
	    (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		c[*n] = xmalloc(sizeof(*c[*n]));
		sink_conn_start(c[*n], fd, st);
		(*n)++;
	}
}

/* Serve until a signal; n sessions live in c[0..n). */
static void
run(int lfd, unsigned max, int64_t idle_ns, struct sink_stats *st)
{
	struct sink_conn **c = xreallocarray(NULL, max, sizeof(*c));
	struct pollfd *pfd = xreallocarray(NULL, max + 1, sizeof(*pfd));
	unsigned n = 0, i;
	struct sink_stats seen = *st;

	while (!stopping) {
		pfd[0] = (struct pollfd){ .fd = n < max ? lfd : -1,
		    .events = POLLIN };
		for (i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){ .fd = c[i]->fd,
			    .events = sink_conn_events(c[i]) };
		if (poll(pfd, n + 1, 1000) == -1 && errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		for (i = 0; i < n; i++)
			sink_conn_io(c[i], pfd[i + 1].revents, st, idle_ns);
		for (i = n; i-- > 0;) {
			if (sink_conn_events(c[i]) != 0)
				continue;
			sink_conn_free(c[i], st);
			free(c[i]);
			c[i] = c[--n];
		}
		if (pfd[0].revents & POLLIN)
			accept_all(lfd, c, &n, max, st);
		if (memcmp(&seen, st, sizeof(seen)) != 0) {
			print_stats(st);
			seen = *st;
		}
	}
	for (i = 0; i < n; i++) {
		sink_conn_free(c[i], st);
		free(c[i]);
	}
	free(c);
	free(pfd);
}

int
main(int argc, char **argv)
{
	struct sink_stats st = { 0 };
	const char *where = NULL;
	uint64_t v;
	time_t secs = 300;
	unsigned max = 1000;
	int ch, lfd;

	log_init("smtp-sink", LOGDEST_STDERR);
	while ((ch = getopt(argc, argv, "s:m:T:")) != -1) {
		switch (ch) {
		case 's':
			where = optarg;
			break;
		case 'm':
			if (parse_uint(optarg, 1, MAX_SESSIONS, &v) == -1)
				usage();
			max = (unsigned)v;
			break;
		case 'T':
			if (parse_duration(optarg, &secs) == -1 || secs < 1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || where == NULL)
		usage();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    signal(SIGTERM, on_signal) == SIG_ERR ||
	    signal(SIGINT, on_signal) == SIG_ERR ||
	    signal(SIGHUP, on_signal) == SIG_ERR)
		log_fatal("signal: %s", strerror(errno));
	lfd = listen_on(where);
	printf("smtp-sink: listening on %s\n", where);
	print_stats(&st);
	run(lfd, max, (int64_t)secs * 1000000000, &st);
	(void)close(lfd);
	printf("RESULT ");
	print_stats(&st);
	return 0;
}
