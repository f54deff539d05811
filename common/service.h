/*
 * service: the start-up every long-lived service shares.  master starts a
 * service as "NAME -c CONFIG" (or with $POSTERN_CONF) with its sockets on
 * fd 3 and up; nothing here drops privileges (each service does that
 * itself, right after).
 */
#ifndef POSTERN_SERVICE_H
#define POSTERN_SERVICE_H
#include "config.h"

/* Start logging as name, parse "-c CONFIG" (usage error: exit 2), load the
 * config into c (errors: logged, exit 1) and switch to syslog when the
 * config says so. */
void service_init(const char *name, int argc, char **argv, struct config *c);
/* Exit unless fd is a SEQPACKET socket (the service was not started by
 * master). */
void service_check_listener(int fd);
#endif
