/*
 * master: the supervisor, started by `postern start` as root.  Reads the
 * config, binds the listeners and service sockets, starts the services and
 * the per-connection smtpd processes.  Logic lives in master_*.c.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "master_ctl.h"
#include "master_listen.h"
#include "master_log.h"
#include "master_loop.h"
#include "master_setup.h"
#include "xmalloc.h"

static void
usage(void)
{
	fprintf(stderr, "usage: master -c CONFIG [-f]\n");
	exit(2);
}

/* Load the config or print every error and exit 1. */
static struct config *
load(const char *path)
{
	struct config *c = xcalloc(1, sizeof(*c));
	struct buf errors = BUF_INIT(BUF_NOLIMIT);

	config_defaults(c);
	if (config_load(path, c, &errors) == -1) {
		fputs(buf_cstr(&errors), stderr);
		exit(1);
	}
	buf_free(&errors);
	return c;
}

int
main(int argc, char **argv)
{
	char pidfile[512], *confpath = NULL;
	struct config *c;
	struct passwd *pw;
	int ch, foreground = 0, devmode;

	while ((ch = getopt(argc, argv, "c:f")) != -1)
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		default:
			usage();
		}
	if (confpath == NULL || optind != argc)
		usage();
	log_init("master", LOGDEST_STDERR);
	umask(077);
	if ((confpath = realpath(confpath, NULL)) == NULL)
		log_fatal("%s: %s", argv[optind - 1], strerror(errno));
	c = load(confpath);
	devmode = geteuid() != 0;
	if (devmode) {
		pw = getpwuid(geteuid());
		log_warn("not running as root: privilege separation is OFF, "
		    "every service runs as %s", pw != NULL ? pw->pw_name : "this user");
	}
	if (setup_runtime(c) == -1 ||
	    setup_pidfile_lock(c, pidfile, sizeof(pidfile)) == -1)
		exit(1);
	signal(SIGPIPE, SIG_IGN);
	if (event_signal_fd() == -1)
		log_fatal("cannot create the signal pipe: %s", strerror(errno));
	event_signal_catch(SIGCHLD);
	event_signal_catch(SIGHUP);
	event_signal_catch(SIGTERM);
	event_signal_catch(SIGINT);
	if (listen_open(c) == -1) {
		log_warn("not starting: a listener could not be bound");
		exit(1);
	}
	if (ctl_open(c->paths_runtime) == -1)
		exit(1);
	if (!foreground && setup_daemon(c) == -1)
		log_fatal("cannot become a daemon");
	if (setup_pidfile_write() == -1 || master_log_open(c->log_syslog) == -1)
		log_fatal("cannot start: %s", strerror(errno));
	log_info("started (config %s)", confpath);
	return master_run(c, confpath, devmode, pidfile);
}
