/*
 * Unit tests for common/service: the "-c CONFIG [-l LISTENER]" parser
 * (table driven), the config loader's one-line errors, the client address
 * of a per-connection program.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "service.h"
#include "unit.h"
#include "util.h"

/* argv as one string split at spaces; listener: the -l form. */
static const struct {
	const char *args;
	int listener, ok;
	const char *conf, *lis;
} argtab[] = {
	{ "-c /a.conf", 0, 1, "/a.conf", NULL },
	{ "-c /a.conf -c /b.conf", 0, 1, "/b.conf", NULL },
	{ "", 0, 1, "/env.conf", NULL },	/* the caller's default */
	{ "-c", 0, 0, NULL, NULL },
	{ "-c /a.conf extra", 0, 0, NULL, NULL },
	{ "-c /a.conf -l smtp", 0, 0, NULL, NULL },	/* no -l in this form */
	{ "-x", 0, 0, NULL, NULL },
	{ "-c /a.conf -l smtp", 1, 1, "/a.conf", "smtp" },
	{ "-l pop3s -c /a.conf", 1, 1, "/a.conf", "pop3s" },
	{ "-c /a.conf", 1, 0, NULL, NULL },		/* -l is required */
	{ "-l pop3", 1, 1, "/env.conf", "pop3" },
	{ "-c /a.conf -l", 1, 0, NULL, NULL },
};

static void
test_args(void)
{
	for (size_t i = 0; i < sizeof(argtab) / sizeof(argtab[0]); i++) {
		char copy[200], *argv[16], *p, *save = NULL;
		const char *conf = "/env.conf", *lis = NULL;
		int argc = 0, r;

		CHECK(str_copy(copy, sizeof(copy), argtab[i].args) == 0);
		argv[argc++] = "prog";
		for (p = strtok_r(copy, " ", &save); p != NULL && argc < 15;
		    p = strtok_r(NULL, " ", &save))
			argv[argc++] = p;
		argv[argc] = NULL;
		optind = 0;	/* glibc: start getopt afresh */
		opterr = 0;
		r = service_args(argc, argv, &conf, argtab[i].listener ? &lis : NULL);
		CHECK(r == (argtab[i].ok ? 0 : -1));
		if (r == 0) {
			CHECK_STR(conf, argtab[i].conf);
			if (argtab[i].lis != NULL)
				CHECK_STR(lis, argtab[i].lis);
		}
		if ((r == 0) != argtab[i].ok)
			fprintf(stderr, "  args '%s'\n", argtab[i].args);
	}
}

static void
test_config(const char *dir)
{
	struct config c;
	char path[200], want[400];
	const char *err = NULL;

	CHECK(str_format(path, sizeof(path), "%s/bad.conf", dir) == 0);
	CHECK(write_file_atomic(path, "bogus = 1\n\nalso.bogus = 2\n", 27, 0644) == 0);
	CHECK(service_config(path, &c, &err) == -1);
	/* one line, the problems joined by ';' */
	CHECK(err != NULL && strchr(err, '\n') == NULL && strchr(err, ';') != NULL);
	CHECK(str_format(want, sizeof(want), "%s:1: ", path) == 0);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	CHECK(str_format(want, sizeof(want), ";%s:3: ", path) == 0);
	CHECK(strstr(err, want) != NULL);
	config_free(&c);
	CHECK(unlink(path) == 0);

	CHECK(str_format(path, sizeof(path), "%s/missing.conf", dir) == 0);
	err = NULL;
	CHECK(service_config(path, &c, &err) == -1);
	CHECK(err != NULL && strstr(err, "missing.conf") != NULL && err[strlen(err) - 1] != ';');
	config_free(&c);

	CHECK(str_format(path, sizeof(path), "%s/good.conf", dir) == 0);
	CHECK(write_file_atomic(path, "smtpd.timeout = 7m\n", 19, 0644) == 0);
	err = "untouched";
	CHECK(service_config(path, &c, &err) == 0);
	CHECK_STR(err, "untouched");
	CHECK(c.smtpd_timeout == 420);
	config_free(&c);
	CHECK(unlink(path) == 0);
}

static void
test_client(void)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char addr[64];
	int sv[2], lfd, cfd, afd;

	/* not an IP peer: "unknown" */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(service_client(sv[0], &ss, addr, sizeof(addr)) == 0);
	CHECK_STR(addr, "unknown");
	close(sv[0]);
	close(sv[1]);
	CHECK(service_client(-1, &ss, addr, sizeof(addr)) == 0);
	CHECK_STR(addr, "unknown");

	/* a loopback TCP client */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK((lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	CHECK(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(listen(lfd, 1) == 0);
	CHECK(getsockname(lfd, (struct sockaddr *)&sin, &len) == 0);
	CHECK((cfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	CHECK(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK((afd = accept(lfd, NULL, NULL)) != -1);
	CHECK(service_client(afd, &ss, addr, sizeof(addr)) == 1);
	CHECK_STR(addr, "127.0.0.1");
	CHECK(ss.ss_family == AF_INET);
	close(afd);
	close(cfd);
	close(lfd);
}

int
main(void)
{
	char dir[] = "/tmp/test_service.XXXXXX";

	test_args();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_config(dir);
	CHECK(rmdir(dir) == 0);
	test_client();
	return UNIT_DONE();
}
