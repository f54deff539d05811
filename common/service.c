/*
 * service: shared start-up of the long-lived services (see service.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "service.h"

static void
usage(const char *name)
{
	fprintf(stderr, "usage: %s -c CONFIG\n", name);
	exit(2);
}

void
service_init(const char *name, int argc, char **argv, struct config *c)
{
	struct buf errors = BUF_INIT(BUF_NOLIMIT);
	const char *conf = getenv("POSTERN_CONF");
	int ch;

	log_init(name, LOGDEST_STDERR);
	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c')
			usage(name);
		conf = optarg;
	}
	if (conf == NULL || optind != argc)
		usage(name);
	config_defaults(c);
	if (config_load(conf, c, &errors) == -1)
		log_fatal("%s", errors.len ? buf_cstr(&errors) : "cannot load the config");
	buf_free(&errors);
	if (c->log_syslog)
		log_init(name, LOGDEST_SYSLOG);
}

void
service_check_listener(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_SEQPACKET)
		log_fatal("fd %d is not a SEQPACKET socket (start me through master)", fd);
}
