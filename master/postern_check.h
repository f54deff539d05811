/* postern_check: `postern check` and `postern map`, and the config loader
 * the other subcommands share. */
#ifndef POSTERN_POSTERN_CHECK_H
#define POSTERN_POSTERN_CHECK_H
#include "config.h"

/* Load path into c, printing every "file:line: message" to stderr.  0/-1. */
int postern_load(const char *path, struct config *c) WUR;
/* Subcommands: argv[0] is the subcommand name; they return the exit code. */
int postern_check(const char *conf, int argc, char **argv);
int postern_map(const char *conf, int argc, char **argv);
#endif
