/* master_ctl: master.sock (root 0600), where `postern status|stop|reload`
 * send one IPC request per connection. */
#ifndef POSTERN_MASTER_CTL_H
#define POSTERN_MASTER_CTL_H
#include <poll.h>
#include <stdint.h>

/* Create runtime/master.sock.  0/-1 (logged). */
int ctl_open(const char *runtime);
/* Add pollfds (listening socket and open requests); returns the count. */
int ctl_pollfds(struct pollfd *p, int max);
/* Handle activity on fd (the listener or a request connection). */
void ctl_handle(int fd, int64_t now);
/* Drop request connections idle past their deadline. */
void ctl_expire(int64_t now);
/* Close and remove master.sock. */
void ctl_cleanup(void);
#endif
