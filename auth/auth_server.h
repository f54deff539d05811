/* auth_server: the auth service's poll loop over its listening socket and
 * connected clients, with delayed failure answers. */
#ifndef POSTERN_AUTH_SERVER_H
#define POSTERN_AUTH_SERVER_H
#include <stdint.h>

#include "auth_limit.h"
#include "auth_verify.h"

#define AUTH_MAX_CLIENTS	256

struct auth_policy {
	int64_t fail_delay_ms;		/* auth.fail_delay */
	struct auth_limit limit;	/* auth.max_failures per auth.failure_window */
};

/* Serve on the listening SEQPACKET socket lfd until SIGTERM (then 0).
 * Failures are answered fail_delay_ms after the request arrived. */
int auth_server_run(int lfd, struct auth_verifier *v, struct auth_policy *p);
#endif
