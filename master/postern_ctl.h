/* postern_ctl: `postern start|stop|reload|status`, talking to master over
 * master.sock.  Each returns the command's exit code. */
#ifndef POSTERN_POSTERN_CTL_H
#define POSTERN_POSTERN_CTL_H
#include "config.h"

int postern_start(const char *conf, const struct config *c, int argc, char **argv);
int postern_stop(const char *conf, const struct config *c, int argc, char **argv);
int postern_reload(const char *conf, const struct config *c, int argc, char **argv);
int postern_status(const char *conf, const struct config *c, int argc, char **argv);
#endif
