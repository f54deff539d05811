/*
 * postern: the administrator's command.  Finds the config (-c, then
 * $POSTERN_CONF, then the compiled-in default) and dispatches to one
 * subcommand handler; the handlers live in postern_*.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "postern_check.h"
#include "postern_ctl.h"
#include "postern_queue.h"
#include "postern_user.h"

/* Commands that need the loaded config. */
static const struct {
	const char *name;
	int (*run)(const char *conf, const struct config *c, int argc, char **argv);
} with_config[] = {
	{ "start", postern_start },
	{ "stop", postern_stop },
	{ "reload", postern_reload },
	{ "status", postern_status },
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: postern [-c FILE] start [-f] | stop | reload | status | check\n"
	    "       postern [-c FILE] queue [show ID | delete|hold|release ID|all] | flush\n"
	    "       postern map SOURCE [OUTPUT]\n"
	    "       postern [-c FILE] user add|del|passwd ADDRESS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *conf = NULL;
	char *abs;
	struct config c;
	size_t i;
	int ch, rc;

	log_init("postern", LOGDEST_STDERR);
	while ((ch = getopt(argc, argv, "+c:")) != -1)
		if (ch == 'c')
			conf = optarg;
		else
			usage();
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (conf == NULL)
		conf = config_default_path();
	if (strcmp(argv[0], "map") == 0)
		return postern_map(conf, argc, argv);
	/* master and services get an absolute path: they may chdir */
	if ((abs = realpath(conf, NULL)) == NULL) {
		fprintf(stderr, "%s: %s\n", conf, strerror(errno));
		return 1;
	}
	if (strcmp(argv[0], "check") == 0)
		return postern_check(abs, argc, argv);
	if (strcmp(argv[0], "queue") == 0 || strcmp(argv[0], "flush") == 0) {
		rc = postern_queue(abs, argc, argv);
		free(abs);
		return rc;
	}
	for (i = 0; i < sizeof(with_config) / sizeof(with_config[0]); i++)
		if (strcmp(argv[0], with_config[i].name) == 0)
			break;
	if (i == sizeof(with_config) / sizeof(with_config[0]) &&
	    strcmp(argv[0], "user") != 0)
		usage();
	if (postern_load(abs, &c) == -1)
		return 1;
	if (strcmp(argv[0], "user") == 0)
		rc = postern_user(&c, argc, argv);
	else
		rc = with_config[i].run(abs, &c, argc, argv);
	config_free(&c);
	free(abs);
	return rc;
}
