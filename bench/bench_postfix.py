"""bench_postfix.py: a private, throw-away Postfix instance for bench.py's
end-to-end and relay comparisons.  Everything lives in one temp dir (config,
queue, data, Maildirs, log); it listens only on the loopback address:port it
is given, delivers example.test to Maildirs with virtual(8), relays other
domains to `relayhost` when given one (a loopback sink), and is stopped by
the pid in its own queue directory.  Needs root and Debian's postfix package
(the postfix user and the postdrop group); nothing system-wide is touched.
"""
import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
# (service, type, private, unpriv, chroot, wakeup, maxproc, command): the
# services a Maildir-delivering MTA needs, none chrooted (a chroot would need
# copies of /etc files inside the temp queue directory).
MASTER_CF = [
    ("{listen}", "inet", "n", "-", "n", "-", "-", "smtpd"),
    ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
    ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
    ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
    ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
    ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
    ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
    ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
    ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
    ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
    ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
    ("proxywrite", "unix", "-", "-", "n", "-", "1", "proxymap"),
    ("smtp", "unix", "-", "-", "n", "-", "-", "smtp"),
    ("relay", "unix", "-", "-", "n", "-", "-", "smtp"),
    ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
    ("error", "unix", "-", "-", "n", "-", "-", "error"),
    ("retry", "unix", "-", "-", "n", "-", "-", "error"),
    ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
    ("local", "unix", "-", "n", "n", "-", "-", "local"),
    ("virtual", "unix", "-", "n", "n", "-", "-", "virtual"),
    ("lmtp", "unix", "-", "-", "n", "-", "-", "lmtp"),
    ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
    ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
    ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
]


def available():
    """None if a private Postfix can be run here, else the reason."""
    if not os.access(POSTFIX, os.X_OK):
        return "postfix not installed"
    if os.geteuid() != 0:
        return "postfix needs root"
    for kind, name in (("user", "postfix"), ("group", "postdrop")):
        try:
            (pwd.getpwnam if kind == "user" else grp.getgrnam)(name)
        except KeyError:
            return "no %s %s" % (kind, name)
    return None


def _version():
    r = subprocess.run(["postconf", "-d", "-h", "mail_version"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


class PostfixInstance:
    """setup() writes the config, start()/stop() run the master,
    destroy() stops it and removes the temp dir."""

    def __init__(self, addr, port, domain, users, relayhost=""):
        self.addr, self.port, self.domain, self.users = addr, port, domain, users
        self.relayhost = relayhost      # "[127.x.y.z]:port": all other mail
        self.dir = tempfile.mkdtemp(prefix="postern-bench-postfix-", dir="/tmp")
        os.chmod(self.dir, 0o755)   # postfix and the mailbox owner pass through
        self.etc = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.vmail = os.path.join(self.dir, "vmail")
        self.logfile = os.path.join(self.dir, "maillog")
        self.master_pid = None
        self.version = _version()

    def queue_dirs(self):
        return [os.path.join(self.queue, d) for d in
                ("maildrop", "incoming", "active", "deferred", "hold")]

    def maildir_new(self, user):
        return os.path.join(self.vmail, self.domain, user, "new")

    def _main_cf(self):
        owner = pwd.getpwnam("nobody")
        keys = [
            ("compatibility_level", "3.6"),
            ("queue_directory", self.queue),
            ("data_directory", self.data),
            ("mail_owner", "postfix"),
            ("setgid_group", "postdrop"),
            ("myhostname", "postfix.bench.invalid"),
            ("mydomain", "bench.invalid"),
            ("mydestination", ""),
            # the master binds the smtpd service to ADDR:PORT itself; this
            # only has to name an address of a local interface
            ("inet_interfaces", "loopback-only"),
            ("inet_protocols", "ipv4"),
            ("mynetworks", "127.0.0.0/8"),
            ("relayhost", self.relayhost),
            ("biff", "no"),
            ("append_dot_mydomain", "no"),
            ("alias_maps", ""),
            ("alias_database", ""),
            ("smtpd_peername_lookup", "no"),    # no PTR lookups: no DNS here
            ("smtp_dns_support_level", "disabled"),
            # the benchmark is one client with many sessions, as for postern
            ("smtpd_client_connection_count_limit", "0"),
            ("virtual_mailbox_domains", self.domain),
            ("virtual_mailbox_base", self.vmail),
            ("virtual_mailbox_maps", "texthash:" + os.path.join(self.etc, "vmailbox")),
            ("virtual_uid_maps", "static:%d" % owner.pw_uid),
            ("virtual_gid_maps", "static:%d" % owner.pw_gid),
            ("maillog_file_prefixes", self.dir),
            ("maillog_file", self.logfile),
        ]
        return "".join("%s = %s\n" % kv for kv in keys), owner

    def setup(self):
        for d in (self.etc, self.queue, self.data, self.vmail):
            os.makedirs(d, exist_ok=True)
        main, owner = self._main_cf()
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(main)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            for row in MASTER_CF:
                row = (row[0].format(listen="%s:%d" % (self.addr, self.port)),) + row[1:]
                f.write("%-24s %-10s %s\n" % (row[0], row[1], "  ".join(row[2:])))
        with open(os.path.join(self.etc, "vmailbox"), "w") as f:
            for u in self.users:
                f.write("%s@%s %s/%s/\n" % (u, self.domain, self.domain, u))
        os.chown(self.vmail, owner.pw_uid, owner.pw_gid)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        r = self.postfix("check")
        if r.returncode != 0:
            raise RuntimeError("postfix check: " + (r.stderr or r.stdout).strip())

    def postfix(self, *args):
        """Run `postfix -c DIR ARGS`.  postfix(1) reports errors only to its
        log and to a terminal, so it runs under script(1) when that exists:
        then a failure comes back with the reason."""
        cmd = [POSTFIX, "-c", self.etc] + list(args)
        script = shutil.which("script")
        if script:
            cmd = [script, "-qec", " ".join(cmd), "/dev/null"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def _pidfile_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout=30):
        r = self.postfix("start")
        if r.returncode != 0:
            raise RuntimeError("postfix start: " + (r.stderr or r.stdout).strip())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.master_pid = self.master_pid or self._pidfile_pid()
            if self.master_pid and self._listening():
                return
            time.sleep(0.1)
        raise RuntimeError("postfix did not start listening on %s:%d" % (
            self.addr, self.port))

    def _listening(self):
        import socket
        s = socket.socket()
        s.settimeout(1)
        try:
            s.connect((self.addr, self.port))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self, timeout=30):
        """Stop our master: `postfix -c DIR stop`, then, if the pid we
        recorded is still alive, SIGTERM and SIGKILL to that pid only."""
        pid = self.master_pid or self._pidfile_pid()
        if pid is None:
            return
        self.postfix("stop")
        deadline = time.monotonic() + timeout
        sig = signal.SIGTERM
        while _alive(pid):
            if time.monotonic() > deadline:
                if sig is None:
                    break
                os.kill(pid, sig)
                sig = signal.SIGKILL if sig == signal.SIGTERM else None
                deadline = time.monotonic() + 10
            time.sleep(0.1)
        self.master_pid = None

    def destroy(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=20):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read().splitlines()[-n:]
        except OSError:
            return []


def _alive(pid):
    """pid exists and is not a zombie (the master is not our child, but be
    exact anyway)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
