/*
 * remote_worker: a worker process of the remote agent (see
 * remote_server.h).  Takes job records with the message descriptor from
 * the parent, delivers each (remote_smtp.c) and answers with the RESULT
 * record; keeps the SMTP session between jobs of one domain.  When the
 * parent closes the socket: QUIT and exit.
 */
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "remote_server.h"

/* The RESULT record of job j: job, one status per recipient, relay. */
static int
result_record(const struct agent_job *j, const struct remote_result *res,
    const char *relay, struct ipc_msg *m)
{
	struct buf st = BUF_INIT(REMOTE_STATUS_TEXT + 64);
	int ok;

	ipc_msg_init(m, IPC_DELIVER_RESULT);
	ok = ipc_put_str(m, "job", j->tag) == 0;
	for (size_t i = 0; ok && i < j->nrcpt; i++) {
		buf_reset(&st);
		ok = remote_status_format(&res[i], &st) == 0 &&
		    ipc_put(m, "status", st.data, st.len) == 0;
	}
	if (ok && strcmp(relay, "none") != 0)
		ok = ipc_put_str(m, "relay", relay) == 0;
	buf_free(&st);
	return ok ? 0 : -1;
}

void
remote_worker_main(const struct remote_ctx *x, int ctl)
{
	static struct remote_result res[AGENT_JOB_RCPTS];
	struct remote_conn conn = { 0 };
	char relay[REMOTE_RELAY_MAX + 1];
	struct agent_job j;
	struct ipc_msg m, out;
	const char *err;
	int r;

	while ((r = ipc_recv(ctl, &m)) == 1) {
		if (!agent_job_parse(&m, AGENT_JOB_RCPTS, &j, &err)) {
			log_warn("bad job from the agent: %s", err);
			_exit(1);
		}
		ipc_msg_free(&m);
		log_set_qid(j.id);
		if (conn.sess != NULL && strcmp(conn.domain, j.domain) != 0)
			remote_conn_close(&conn);
		memset(res, 0, j.nrcpt * sizeof(res[0]));
		remote_smtp_deliver(x, &conn, &j, res, relay, sizeof(relay));
		if (result_record(&j, res, relay, &out) == -1 || ipc_send(ctl, &out) == -1)
			_exit(1);
		ipc_msg_free(&out);
		agent_job_free(&j);
		log_set_qid(NULL);
	}
	remote_conn_close(&conn);
	_exit(r == 0 ? 0 : 1);
}
