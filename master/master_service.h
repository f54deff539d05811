/* master_service: the long-lived services (auth, queue): their Unix
 * sockets, start, restart with backoff, crash-loop detection, stop. */
#ifndef POSTERN_MASTER_SERVICE_H
#define POSTERN_MASTER_SERVICE_H
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"

/* Start every installed service that is not running (first start, or a
 * retry of failed ones on reload). */
void service_start_all(const struct config *c, const char *confpath);
/* Start services whose backoff expired. */
void service_tick(const struct config *c, const char *confpath, int64_t now);
/* Earliest pending restart time, or -1. */
int64_t service_next_deadline(void);
/* A child exited; 1 if it was a service (handled), 0 otherwise. */
int service_reaped(pid_t pid, int status, int64_t now);
/* Config file changed: restart every running service without penalty. */
void service_restart_all(void);
/* No more restarts; signal every running service with sig. */
void service_stop_all(int sig);
/* Number of service processes still alive. */
int service_alive(void);
/* Append one status line per service. */
int service_status(struct buf *out) WUR;
/* Close and remove every service socket. */
void service_cleanup(void);
/* Set when master is not root: services run as the invoking user. */
void service_set_devmode(int on);
#endif
