/*
 * master_loop: the supervisor's poll loop.  Signals arrive through the
 * event self-pipe; SIGCHLD reaps, SIGHUP reloads, SIGTERM/SIGINT stop
 * gracefully: listeners closed first, sessions given master.grace_period,
 * then everything gets SIGTERM and, 2 s later, SIGKILL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "master_ctl.h"
#include "master_listen.h"
#include "master_log.h"
#include "master_loop.h"
#include "master_service.h"
#include "master_status.h"
#include "util.h"
#include "xmalloc.h"

#define KILL_AFTER_MS	2000
#define CONF_MAX	(1024 * 1024)

enum phase { RUNNING, STOP_GRACE, STOP_TERM, STOP_KILL };

static struct config *cfg;
static const char *conf;
static struct buf conf_text = BUF_INIT(CONF_MAX);
static enum phase phase = RUNNING;
static int64_t phase_deadline;

void
master_stop(void)
{
	if (phase != RUNNING)
		return;
	log_info("stopping: no new connections; %d session(s) get %lld s",
	    listen_sessions(), (long long)cfg->master_grace_period);
	listen_close();
	phase = STOP_GRACE;
	phase_deadline = now_ms() + (int64_t)cfg->master_grace_period * 1000;
}

/* Move the stop along: sessions done or grace over -> TERM -> KILL. */
static void
stop_progress(int64_t now)
{
	if (phase == STOP_GRACE && (listen_sessions() == 0 || now >= phase_deadline)) {
		if (listen_sessions() > 0)
			log_info("grace period over: terminating %d session(s)",
			    listen_sessions());
		listen_kill_sessions(SIGTERM);
		service_stop_all(SIGTERM);
		phase = STOP_TERM;
		phase_deadline = now + KILL_AFTER_MS;
	} else if (phase == STOP_TERM && now >= phase_deadline) {
		log_warn("killing %d process(es) that did not stop",
		    listen_sessions() + service_alive());
		listen_kill_sessions(SIGKILL);
		service_stop_all(SIGKILL);
		phase = STOP_KILL;
	}
}

int
master_reload(struct buf *errors)
{
	struct config *nc = xcalloc(1, sizeof(*nc));
	struct buf text = BUF_INIT(CONF_MAX);
	const char *p, *nl;
	int changed;

	if (phase != RUNNING)
		return 0;
	config_defaults(nc);
	if (config_load(conf, nc, errors) == 0 && read_file(conf, &text, CONF_MAX) == -1 &&
	    buf_printf(errors, "%s: %s\n", conf, strerror(errno)) == -1)
		log_warn("reload: %s: %s", conf, strerror(errno));
	if (errors->len > 0) {
		for (p = buf_cstr(errors); *p != '\0'; p = *nl ? nl + 1 : nl) {
			if ((nl = strchr(p, '\n')) == NULL)
				nl = p + strlen(p);
			log_warn("reload: %.*s", (int)(nl - p), p);
		}
		log_warn("reload failed: keeping the running configuration");
		config_free(nc);
		free(nc);
		buf_free(&text);
		return -1;
	}
	changed = text.len != conf_text.len ||
	    memcmp(buf_cstr(&text), buf_cstr(&conf_text), text.len) != 0;
	buf_free(&conf_text);
	conf_text = text;
	config_free(cfg);
	free(cfg);
	cfg = nc;
	if (listen_open(cfg) == -1)
		log_warn("reload: some listeners could not be bound");
	if (changed) {
		log_info("reload: configuration changed; restarting services");
		service_restart_all();
	}
	service_start_all(cfg, conf);
	log_info("reloaded %s", conf);
	return 0;
}

int
master_status_text(struct buf *out)
{
	struct passwd *pw = getpwuid(geteuid());

	if (status_line(out, "master", getpid(), "running", 0,
	    pw != NULL ? pw->pw_name : "?", 0) == -1 ||
	    service_status(out) == -1 || listen_status(out) == -1)
		return -1;
	return 0;
}

static void
reap(void)
{
	int64_t now = now_ms();
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (!service_reaped(pid, status, now) && !listen_reaped(pid))
			log_info("reaped unknown child %ld", (long)pid);
}

static void
on_signals(void)
{
	struct buf errors = BUF_INIT(65536);
	int sig;

	while ((sig = event_signal_next()) != 0)
		switch (sig) {
		case SIGCHLD:
			reap();
			break;
		case SIGHUP:
			log_info("SIGHUP: reloading");
			if (master_reload(&errors) == -1)
				buf_reset(&errors);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: stopping", sig);
			master_stop();
			break;
		}
	buf_free(&errors);
}

/* Milliseconds poll may sleep. */
static int
poll_timeout(int64_t now)
{
	int64_t t = service_next_deadline(), d;

	if (phase == STOP_GRACE || phase == STOP_TERM)
		t = (t == -1 || phase_deadline < t) ? phase_deadline : t;
	d = t == -1 ? 1000 : t - now;
	if (d < 0)
		d = 0;
	return d > 1000 ? 1000 : (int)d;	/* wake at least once a second */
}

/* One round: poll every descriptor and dispatch what is ready. */
static void
poll_once(void)
{
	static struct pollfd *p;
	static size_t cap;
	size_t want = 2 + 16 + (size_t)listen_npollfds();
	int n = 0, nctl, i;
	int64_t now = now_ms();

	if (want > cap) {
		cap = want * 2;
		p = xreallocarray(p, cap, sizeof(*p));
	}
	p[n].fd = event_signal_fd();
	p[n++].events = POLLIN;
	p[n].fd = master_log_read_fd();
	p[n++].events = POLLIN;
	nctl = ctl_pollfds(p + n, 16);
	n += nctl;
	n += listen_pollfds(p + n, (int)want - n);
	for (i = 0; i < 2; i++)
		p[i].revents = 0;
	if (poll(p, (nfds_t)n, poll_timeout(now)) == -1) {
		if (errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		return;
	}
	now = now_ms();
	if (p[0].revents)
		on_signals();
	if (p[1].revents)
		master_log_drain(0);
	for (i = 2; i < 2 + nctl; i++)
		if (p[i].revents)
			ctl_handle(p[i].fd, now);
	for (i = 2 + nctl; i < n; i++) {
		if (p[i].revents == 0)
			continue;
		if (phase == RUNNING)
			listen_accept(cfg, conf, p[i].fd);
		listen_channel(cfg, conf, p[i].fd);
	}
	ctl_expire(now);
}

int
master_run(struct config *c, const char *confpath, int devmode,
    const char *pidfile)
{
	cfg = c;
	conf = confpath;
	if (read_file(conf, &conf_text, CONF_MAX) == -1)
		log_warn("%s: %s", conf, strerror(errno));
	service_set_devmode(devmode);
	service_start_all(cfg, conf);
	for (;;) {
		int64_t now = now_ms();

		if (phase == RUNNING)
			service_tick(cfg, conf, now);
		else {
			stop_progress(now);
			if (service_alive() == 0 && listen_sessions() == 0)
				break;
		}
		poll_once();
	}
	service_cleanup();
	ctl_cleanup();
	if (unlink(pidfile) == -1 && errno != ENOENT)
		log_warn("unlink %s: %s", pidfile, strerror(errno));
	log_info("stopped");
	master_log_drain(1);
	config_free(cfg);
	free(cfg);
	buf_free(&conf_text);
	return 0;
}
