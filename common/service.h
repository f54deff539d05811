/*
 * service: the start-up every postern program that master starts shares:
 * the long-lived services ("NAME -c CONFIG", or $POSTERN_CONF, sockets on
 * fd 3 and up) and the per-connection programs (smtpd, pop3-login, pop3:
 * the client on fd 0 and 1, master's log pipe on fd 2).  Nothing here
 * drops privileges (each program does that itself, right after).
 */
#ifndef POSTERN_SERVICE_H
#define POSTERN_SERVICE_H
#include <sys/socket.h>

#include "config.h"

/* Start logging as name, parse "-c CONFIG" (usage error: exit 2), load the
 * config into c (errors: logged, exit 1) and switch to syslog when the
 * config says so. */
void service_init(const char *name, int argc, char **argv, struct config *c);
/* Exit unless fd is a SEQPACKET socket (the service was not started by
 * master). */
void service_check_listener(int fd);

/* Parse "-c CONFIG" into *config (without -c it keeps what the caller put
 * there, e.g. getenv("POSTERN_CONF")) and, when listener is not NULL,
 * "-l LISTENER" into *listener, which is then required.  0, or -1: a usage
 * error (also: no config at all). */
int service_args(int argc, char **argv, const char **config, const char **listener) WUR;
/* config_defaults, then config_load of path into c.  0, or -1 with
 * *error_r the problems on one line ("file:3: a;file:7: b"), in static
 * storage valid until the next call. */
int service_config(const char *path, struct config *c, const char **error_r) WUR;
/* Start of a per-connection program: log as name to stderr, close every
 * descriptor from lowfd up, ignore SIGPIPE and end at once (exit 0) on
 * SIGTERM, so the caller must keep nothing that a sudden end would lose.
 * 0, or -1 (errno set). */
int service_conn_init(const char *name, int lowfd) WUR;
/* The client of a per-connection program: the peer of fd in *ss and as
 * text in addr ("192.0.2.1", "2001:db8::1").  1, or 0 when it is not an
 * IPv4/IPv6 peer (addr is then "unknown"). */
int service_client(int fd, struct sockaddr_storage *ss, char *addr, size_t addrsize);
#endif
