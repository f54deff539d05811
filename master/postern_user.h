/* postern user add|del|passwd|list ADDRESS: maintain the users source and rebuild its maps. */
#ifndef POSTERN_USER_H
#define POSTERN_USER_H
#include "config.h"

/* argv[0] is "user"; returns the process exit code. */
int postern_user(const struct config *c, int argc, char **argv);
#endif
