/* postern_queue: `postern queue [show|delete|hold|release ...]` and
 * `postern flush`, talking to the queue over submit.sock.  Each returns the
 * command's exit code. */
#ifndef POSTERN_POSTERN_QUEUE_H
#define POSTERN_POSTERN_QUEUE_H
#include "config.h"

/* argv[0] is "queue" or "flush".  The config is parsed without the file
 * checks of config_load (an ordinary user may not read tls.key, and must
 * get the queue's answer: permission denied). */
int postern_queue(const char *conf, int argc, char **argv);
#endif
