/*
 * smtp-load: SMTP load generator for `make bench`.  C connections in one
 * poll loop, M messages each of SIZE body bytes; reports accepted messages
 * per second and p50/p99 latency from the final "." to its 250.  Trusts only
 * its command line; talks to any SMTP server (meant for loopback).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "smtp-load_conn.h"
#include "util.h"
#include "xmalloc.h"

#define MAX_CONNS	10000
#define MAX_MESSAGES	10000000
#define MAX_TOTAL	100000000	/* messages in all */
#define MAX_SIZE	((uint64_t)512 * 1024 * 1024)
#define LINE_OCTETS	78		/* body line length with its CRLF */

static void
usage(void)
{
	fprintf(stderr, "usage: smtp-load -s host:port [-c connections] "
	    "[-m messages-per-connection]\n"
	    "                 [-z size] [-p] [-f from] [-t to] [-T timeout]\n");
	exit(2);
}

/* size octets of CRLF lines of letters and digits (never a leading dot, so
 * no dot-stuffing is needed); caller frees.  size 1 is rounded up to 2. */
static char *
make_body(size_t size, size_t *len)
{
	static const char set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char *b;
	size_t off = 0, line = 0;

	if (size == 1)
		size = 2;
	b = xmalloc(size + 1);
	while (off < size) {
		size_t rem = size - off, n = rem < LINE_OCTETS ? rem : LINE_OCTETS;
		size_t i;

		if (rem - n == 1)	/* never leave a lone octet */
			n -= 2;
		for (i = 0; i + 2 < n; i++)
			b[off + i] = set[(line + i) % (sizeof(set) - 1)];
		b[off + n - 2] = '\r';
		b[off + n - 1] = '\n';
		off += n;
		line++;
	}
	b[size] = '\0';
	*len = size;
	return b;
}

static void
parse_args(int argc, char **argv, struct load_params *p, unsigned *conns,
    const char **server, uint64_t *size)
{
	uint64_t v;
	time_t secs;
	const char *err;
	int ch;

	while ((ch = getopt(argc, argv, "s:c:m:z:pf:t:T:")) != -1) {
		switch (ch) {
		case 's':
			*server = optarg;
			if (net_parse_hostport(optarg, &p->addr, &p->addrlen,
			    &err) == -1) {
				fprintf(stderr, "smtp-load: -s %s: %s\n", optarg,
				    err);
				exit(2);
			}
			if (p->addrlen == 0)
				usage();
			break;
		case 'c':
			if (parse_uint(optarg, 1, MAX_CONNS, &v) == -1)
				usage();
			*conns = (unsigned)v;
			break;
		case 'm':
			if (parse_uint(optarg, 1, MAX_MESSAGES, &v) == -1)
				usage();
			p->messages = (unsigned)v;
			break;
		case 'z':
			if (parse_size(optarg, size) == -1 || *size > MAX_SIZE)
				usage();
			break;
		case 'p':
			p->pipelining = 1;
			break;
		case 'f':
			p->from = optarg;
			break;
		case 't':
			p->to = optarg;
			break;
		case 'T':
			if (parse_duration(optarg, &secs) == -1 || secs < 1)
				usage();
			p->timeout_ns = (int64_t)secs * 1000000000;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || *server == NULL)
		usage();
	if ((uint64_t)*conns * p->messages > MAX_TOTAL) {
		fprintf(stderr, "smtp-load: more than %d messages in all\n",
		    MAX_TOTAL);
		exit(2);
	}
	if (strpbrk(p->from, "<>\r\n") || strpbrk(p->to, "<>\r\n")) {
		fprintf(stderr, "smtp-load: -f/-t: bad address\n");
		exit(2);
	}
}

/* Drive every connection until all are done. */
static void
run(struct load_conn *c, unsigned n, const struct load_params *p,
    struct load_stats *st)
{
	struct pollfd *pfd = xreallocarray(NULL, n, sizeof(*pfd));
	unsigned *idx = xreallocarray(NULL, n, sizeof(*idx));
	unsigned i, k, active;

	for (;;) {
		for (i = 0, active = 0; i < n; i++) {
			short ev = load_conn_events(&c[i]);

			if (ev == 0)
				continue;
			pfd[active] = (struct pollfd){ .fd = c[i].fd, .events = ev };
			idx[active++] = i;
		}
		if (active == 0)
			break;
		if (poll(pfd, active, 100) == -1 && errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		for (k = 0; k < active; k++)
			load_conn_io(&c[idx[k]], pfd[k].revents, p, st);
	}
	free(pfd);
	free(idx);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile pct (1..100) of sorted v[n], in ms; NAN if n == 0. */
static double
percentile_ms(const int64_t *v, size_t n, unsigned pct)
{
	size_t rank;

	if (n == 0)
		return NAN;
	rank = (n * pct + 99) / 100;	/* ceil(n * pct / 100), >= 1 */
	return (double)v[rank - 1] / 1e6;
}

static void
report(const struct load_stats *st, unsigned total, double secs)
{
	double rate = secs > 0 ? st->ok / secs : 0;
	double p50 = percentile_ms(st->lat_ns, st->lat_n, 50);
	double p99 = percentile_ms(st->lat_ns, st->lat_n, 99);

	printf("messages: %u/%u ok (%u failed)\n", st->ok, total, st->failed);
	printf("elapsed:  %.3f s\n", secs);
	printf("rate:     %.1f msgs/s\n", rate);
	printf("latency:  p50 %.3f ms  p99 %.3f ms  (final \".\" to reply)\n",
	    p50, p99);
	printf("RESULT ok=%u total=%u secs=%.3f rate=%.1f p50=%.3f p99=%.3f\n",
	    st->ok, total, secs, rate, p50, p99);
}

int
main(int argc, char **argv)
{
	struct load_params p = { .messages = 1, .from = "load@smtp-load.invalid",
	    .to = "bench@example.test", .timeout_ns = (int64_t)60 * 1000000000 };
	struct load_stats st = { 0 };
	struct load_conn *c;
	const char *server = NULL;
	uint64_t size = 2048;
	unsigned conns = 1, i, total;
	int64_t t0;
	double secs;
	char *body;

	log_init("smtp-load", LOGDEST_STDERR);
	parse_args(argc, argv, &p, &conns, &server, &size);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		log_fatal("signal: %s", strerror(errno));
	body = make_body((size_t)size, &p.bodylen);
	p.body = body;
	total = conns * p.messages;	/* both capped: no overflow */
	st.lat_cap = total;
	st.lat_ns = xreallocarray(NULL, total, sizeof(*st.lat_ns));
	c = xreallocarray(NULL, conns, sizeof(*c));

	printf("smtp-load: %s c=%u m=%u size=%zu pipelining=%s\n", server, conns,
	    p.messages, p.bodylen, p.pipelining ? "yes" : "no");
	fflush(stdout);
	t0 = load_now_ns();
	for (i = 0; i < conns; i++)
		load_conn_start(&c[i], i, &p, &st);
	run(c, conns, &p, &st);
	secs = (double)(load_now_ns() - t0) / 1e9;

	qsort(st.lat_ns, st.lat_n, sizeof(*st.lat_ns), cmp_i64);
	report(&st, total, secs);
	for (i = 0; i < conns; i++)
		load_conn_free(&c[i]);
	free(c);
	free(st.lat_ns);
	free(body);
	return st.ok == total ? 0 : 1;
}
