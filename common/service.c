/*
 * service: shared start-up of the programs master starts (see service.h).
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "service.h"
#include "util.h"

static void
usage(const char *name)
{
	fprintf(stderr, "usage: %s -c CONFIG\n", name);
	exit(2);
}

void
service_init(const char *name, int argc, char **argv, struct config *c)
{
	const char *conf = getenv("POSTERN_CONF"), *err = NULL;

	log_init(name, LOGDEST_STDERR);
	if (service_args(argc, argv, &conf, NULL) == -1)
		usage(name);
	if (service_config(conf, c, &err) == -1)
		log_fatal("%s", err);
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

int
service_args(int argc, char **argv, const char **config, const char **listener)
{
	int ch;

	while ((ch = getopt(argc, argv, listener != NULL ? "c:l:" : "c:")) != -1) {
		if (ch == 'c')
			*config = optarg;
		else if (ch == 'l' && listener != NULL)
			*listener = optarg;
		else
			return -1;
	}
	if (*config == NULL || (listener != NULL && *listener == NULL) || optind != argc)
		return -1;
	return 0;
}

int
service_config(const char *path, struct config *c, const char **error_r)
{
	static struct buf errors = BUF_INIT(65536);

	buf_reset(&errors);
	config_defaults(c);
	if (config_load(path, c, &errors) == 0)
		return 0;
	/* one log line: config_load ends every problem with '\n' */
	if (errors.len > 0 && errors.data[errors.len - 1] == '\n')
		buf_truncate(&errors, errors.len - 1);
	for (size_t i = 0; i < errors.len; i++)
		if (errors.data[i] == '\n')
			errors.data[i] = ';';
	*error_r = errors.len > 0 ? buf_cstr(&errors) : "cannot load the config";
	return -1;
}

/* SIGTERM (master stopping). */
static void
service_on_sigterm(int sig)
{
	_exit(0);
}

int
service_conn_init(const char *name, int lowfd)
{
	log_init(name, LOGDEST_STDERR);
	close_fds_from(lowfd, NULL, 0);
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR ||
	    signal(SIGTERM, service_on_sigterm) == SIG_ERR)
		return -1;
	return 0;
}

int
service_client(int fd, struct sockaddr_storage *ss, char *addr, size_t addrsize)
{
	socklen_t len = sizeof(*ss);

	if (getpeername(fd, (struct sockaddr *)ss, &len) == -1 ||
	    (ss->ss_family != AF_INET && ss->ss_family != AF_INET6) ||
	    net_addr_text((struct sockaddr *)ss, addr, addrsize) == -1) {
		if (str_copy(addr, addrsize, "unknown") == -1)
			log_panic("service_client: address buffer");
		return 0;
	}
	return 1;
}
