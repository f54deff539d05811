/*
 * local_server: the local transport's hooks into the agent core (see
 * local_server.h): the children's result pipes and the start-up.
 */
#include <errno.h>
#include <string.h>

#include "local_server.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

static size_t
local_poll_fds(struct agent *a, struct pollfd *pfd, void **ctx, size_t max)
{
	struct local_server *s = a->ctx;
	size_t n = 0;

	for (size_t i = 0; i < s->nslots && n < max; i++)
		if (s->slots[i].used && s->slots[i].pipefd != -1) {
			ctx[n] = &s->slots[i];
			pfd[n++] = (struct pollfd){ s->slots[i].pipefd, POLLIN, 0 };
		}
	return n;
}

static void
local_ready(struct agent *a, void *ctx, short revents)
{
	(void)a;
	(void)revents;
	local_slot_read(ctx);
}

static size_t
local_running(struct agent *a)
{
	return ((struct local_server *)a->ctx)->nrunning;
}

static const struct agent_ops local_ops = {
	"local", local_slot_job, local_poll_fds, local_ready, local_slot_tick,
	local_running,
};

int
local_server_run(const struct config *c, const struct priv_account *vmail)
{
	struct local_server s = { 0 };
	char path[4096], sock[4096];
	int rc;

	s.c = c;
	s.vmail = vmail;
	s.nslots = c->local_concurrency;
	s.slots = xcalloc(s.nslots, sizeof(*s.slots));
	if (str_format(path, sizeof(path), "%s/mailboxes.cdb", c->paths_maps) == -1 ||
	    map_open(&s.mailboxes, path) == -1 ||
	    str_format(path, sizeof(path), "%s/aliases.cdb", c->paths_maps) == -1 ||
	    map_open(&s.aliases, path) == -1)
		log_fatal("cannot open the maps in %s: %s", c->paths_maps, strerror(errno));
	if (str_format(sock, sizeof(sock), "%s/deliver.sock", c->paths_runtime) == -1)
		log_fatal("%s/deliver.sock: path too long", c->paths_runtime);
	rc = agent_run(&local_ops, &s, c, sock, s.nslots);
	map_close(&s.mailboxes);
	map_close(&s.aliases);
	free(s.slots);
	return rc;
}
