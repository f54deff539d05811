"""bench_pop3.py: the POP3 half of `make bench` (bench.py calls it).
N clients (processes with Python's poplib) at once, each logged in as its
own user with an identical 100-message Maildir, run sessions back to back:
USER, PASS, STAT, LIST, RETR 1..100, QUIT (no DELE, so every session sees
the same mailbox).  Measured: commands and messages per second, and the
memory of the server processes serving the sessions, sampled from /proc
while sessions are open.  The same against a private Dovecot, when one is
installed (run from a temp dir with its own dovecot.conf, stopped by pid).
"""
import ctypes
import ctypes.util
import multiprocessing
import os
import poplib
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import conftest

DOMAIN = "example.test"
CLIENTS = 10            # bench.py --pop3-clients=N changes it
SECONDS = 15            # per server; bench.py --pop3-seconds=S changes it
MESSAGES = 100          # per mailbox
MSG_SIZE = 4096         # octets on disk, LF line ends
CMDS = 5 + MESSAGES     # USER PASS STAT LIST RETR*N QUIT
TIMEOUT = 30            # per reply
MAX_ERRORS = 5          # a client gives up after this many failed sessions
SAMPLE = 0.02           # seconds between two looks at /proc
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def user(k):
    return "pop%d" % k


# ---- the mailbox ------------------------------------------------------------

def messages():
    """[(maildir name, content)]: MESSAGES files of MSG_SIZE octets, LF line
    ends, one body line starting with '.' (dot-stuffing), named as postern's
    local agent names them, one second apart."""
    out = []
    body = "".join("%s\n" % (chr(65 + i % 26) * 71) for i in range(80))
    for i in range(MESSAGES):
        head = ("Return-Path: <sender@bench.invalid>\n"
                "Received: from client.bench.invalid ([127.0.0.1])\n"
                "\tby mail.example.test with ESMTP id bench%04d;\n"
                "\tFri, 04 Dec 2026 20:00:00 +0000\n"
                "From: Sender <sender@bench.invalid>\n"
                "To: Reader <reader@example.test>\n"
                "Subject: POP3 bench message %d\n"
                "Date: Fri, 04 Dec 2026 20:00:00 +0000\n"
                "Message-ID: <bench.%d@bench.invalid>\n"
                "MIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=us-ascii\n\n"
                ".a line that is dot-stuffed on the wire\n") % (i, i, i)
        text = (head + body)[:MSG_SIZE - 1] + "\n"
        data = text.encode()
        name = "%d.M%06dP4242Q%d.bench.example.test,S=%d" % (
            1764800000 + i, i, i + 1, len(data))
        out.append((name, data))
    return out


def wire_sizes(msgs):
    """What STAT/LIST must report and RETR must send: every LF as CRLF."""
    return [len(data) + data.count(b"\n") for _, data in msgs]


def fill_maildir(path, msgs, uid, gid):
    """A Maildir at path with msgs in new/, everything owned by uid:gid, the
    directories 0700 and the files 0600 (as the local agent makes them)."""
    for d in (path, path + "/new", path + "/cur", path + "/tmp"):
        os.makedirs(d, mode=0o700, exist_ok=True)
        os.chown(d, uid, gid)
    for name, data in msgs:
        f = os.path.join(path, "new", name)
        with open(f, "wb") as fh:
            fh.write(data)
        os.chmod(f, 0o600)
        os.chown(f, uid, gid)


def mailbox_owner(name):
    """(uid, gid) of the account name; ours when not root."""
    if not conftest.IS_ROOT:
        return os.getuid(), os.getgid()
    pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


# ---- the clients ------------------------------------------------------------

def session(addr, port, login, password, sizes, st):
    """One session; counts into st as replies arrive."""
    t0 = time.monotonic()
    p = poplib.POP3(addr, port, timeout=TIMEOUT)
    try:
        p.user(login)
        st["commands"] += 1
        p.pass_(password)
        st["commands"] += 1
        t1 = time.monotonic()
        st["logins"].append(t1 - t0)
        count, total = p.stat()
        st["commands"] += 1
        if (count, total) != (len(sizes), sum(sizes)):
            raise poplib.error_proto("STAT %d %d, expected %d %d" % (
                count, total, len(sizes), sum(sizes)))
        _, listing, _ = p.list()
        st["commands"] += 1
        if len(listing) != count:
            raise poplib.error_proto("LIST: %d lines for %d messages" % (len(listing), count))
        for i in range(1, count + 1):
            _, _, octets = p.retr(i)
            st["commands"] += 1
            st["messages"] += 1
            if octets != sizes[i - 1]:
                raise poplib.error_proto("RETR %d: %d octets, LIST said %d" % (
                    i, octets, sizes[i - 1]))
        p.quit()
        st["commands"] += 1
        st["sessions"] += 1
        st["txns"].append(time.monotonic() - t1)
    finally:
        p.close()


def client(addr, port, login, password, sizes, conn):
    """A client process: waits for the end time, then runs sessions until
    it has passed (the last one is finished), and sends its counts back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the parent unwinds
    st = {"sessions": 0, "commands": 0, "messages": 0, "logins": [], "txns": [],
          "errors": 0, "error": None, "end": None}
    t_end = conn.recv()
    while time.monotonic() < t_end and st["errors"] < MAX_ERRORS:
        try:
            session(addr, port, login, password, sizes, st)
        except (poplib.error_proto, OSError, EOFError) as e:
            st["errors"] += 1
            st["error"] = st["error"] or "%s: %s" % (login, e)
    st["end"] = time.monotonic()
    conn.send(st)
    conn.close()


def run_clients(addr, port, users, sizes, seconds, sampler):
    """users = [(login, password)]: one client process each, all started
    at once.  Returns the summed counts with the wall time."""
    ctx = multiprocessing.get_context("fork")
    procs, results, done = [], [], False
    try:
        for login, password in users:
            parent, child = ctx.Pipe()
            pr = ctx.Process(target=client, daemon=True,
                             args=(addr, port, login, password, sizes, child))
            pr.start()
            child.close()
            procs.append((pr, parent))
        sampler.start()
        t0 = time.monotonic()
        for _, conn in procs:
            conn.send(t0 + seconds)
        for pr, conn in procs:
            if conn.poll(seconds + TIMEOUT * (CMDS + 2)):
                results.append(conn.recv())
        done = True
    finally:
        mem = sampler.finish()
        for pr, conn in procs:      # on an error or ^C: at once
            conn.close()
            pr.join(5 if done else 0)
            if pr.is_alive():
                pr.kill()       # our own child, by its pid
                pr.join(5)
    return summarize(results, len(users), t0, mem)


def summarize(results, nclients, t0, mem):
    r = {"clients": nclients, "reported": len(results), "mem": mem}
    for key in ("sessions", "commands", "messages", "errors"):
        r[key] = sum(x[key] for x in results)
    for key in ("logins", "txns"):
        v = sorted(t for x in results for t in x[key])
        r[key[:-1] + "_ms"] = v[len(v) // 2] * 1000 if v else None
    r["error"] = next((x["error"] for x in results if x["error"]), None)
    if len(results) < nclients:
        r["error"] = r["error"] or "%d client(s) did not report" % (nclients - len(results))
    secs = max((x["end"] for x in results), default=t0) - t0
    r["secs"] = secs
    r["cmd_rate"] = r["commands"] / secs if secs > 0 else 0.0
    r["msg_rate"] = r["messages"] / secs if secs > 0 else 0.0
    return r


# ---- memory of the session processes ---------------------------------------

def _kib(text, key):
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


class SessionSampler(threading.Thread):
    """Every SAMPLE seconds, VmRSS and VmHWM (/proc/PID/status) and Pss
    (/proc/PID/smaps_rollup) of each process classify(pid) calls a session
    ("session"); "other" pids are not looked at again, "ours" pids are
    (a child just forked becomes a session process at exec)."""

    def __init__(self, classify):
        super().__init__(daemon=True)
        self.classify = classify
        self.stop_ev = threading.Event()
        self.other, self.sessions = set(), set()
        self.n = self.rss = self.npss = self.pss = self.hwm = self.rounds = 0

    def _sample(self):
        pids = set(conftest.all_pids())
        self.other &= pids
        self.sessions &= pids
        for pid in pids - self.other - self.sessions:
            kind = self.classify(pid)
            if kind == "other":
                self.other.add(pid)
            elif kind == "session":
                self.sessions.add(pid)
        for pid in self.sessions:
            st = _read("/proc/%d/status" % pid)
            rss = _kib(st, "VmRSS") if st else None
            if rss is None:         # gone, or a zombie
                continue
            self.n += 1
            self.rss += rss
            self.hwm = max(self.hwm, _kib(st, "VmHWM") or 0)
            pss = _kib(_read("/proc/%d/smaps_rollup" % pid) or "", "Pss")
            if pss is not None:     # Linux >= 4.14
                self.npss += 1
                self.pss += pss
        self.rounds += 1

    def run(self):
        while not self.stop_ev.is_set():
            self._sample()
            self.stop_ev.wait(SAMPLE)

    def finish(self):
        """{"rss", "pss": mean KiB per session process sample, "hwm": the
        largest VmHWM, "open": mean session processes per sample}."""
        self.stop_ev.set()
        if self.is_alive():
            self.join()
        if not self.n:
            return None
        return {"rss": self.rss / self.n, "hwm": self.hwm,
                "pss": self.pss / self.npss if self.npss else None,
                "open": self.n / self.rounds}


def postern_classifier(inst):
    """pop3 mail processes of this instance: argv[0] "pop3" and the
    instance's config path on the command line."""
    marker = inst.conf.encode()

    def classify(pid):
        argv = conftest.proc_cmdline(pid)
        if marker not in argv:
            return "other"
        return "session" if os.path.basename(argv[0]) == b"pop3" else "ours"
    return classify


def child_classifier(parent, comm):
    """Direct children of pid parent whose name (comm) is comm."""
    def classify(pid):
        stat = _read("/proc/%d/stat" % pid)
        if not stat or ")" not in stat:
            return "other"
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid != parent:
            return "other"
        return "session" if name == comm else "ours"
    return classify


def greeting(addr, port):
    """True when a POP3 server answers +OK at addr:port."""
    try:
        p = poplib.POP3(addr, port, timeout=5)
    except (OSError, poplib.error_proto):
        return False
    try:
        p.quit()
    except (OSError, poplib.error_proto, EOFError):
        pass
    p.close()
    return True


def run_server(addr, port, users, sizes, seconds, classify):
    """One untimed session per user (Maildir new/ -> cur/, Dovecot builds
    its index), then the timed run."""
    warm = {"sessions": 0, "commands": 0, "messages": 0, "logins": [], "txns": []}
    for login, password in users:
        try:
            session(addr, port, login, password, sizes, warm)
        except (poplib.error_proto, OSError, EOFError) as e:
            return {"error": "warm-up: %s: %s" % (login, e)}
    return run_clients(addr, port, users, sizes, seconds, SessionSampler(classify))


# ---- postern ------------------------------------------------------------------

def prepare(inst, clients=CLIENTS):
    """Before start: the users pop0..popN-1@example.test with their Maildirs
    under paths.mail, and a per-IP session cap that is not what is measured."""
    users = []
    uid, gid = mailbox_owner(inst.aprefix + "vmail")
    msgs = messages()
    domdir = os.path.join(inst.mail, DOMAIN)
    os.makedirs(domdir, mode=0o700, exist_ok=True)
    os.chown(domdir, uid, gid)
    for k in range(clients):
        password = "bench-%d-%s" % (k, os.urandom(6).hex())
        inst.add_user("%s@%s" % (user(k), DOMAIN), password)
        fill_maildir(os.path.join(domdir, user(k)), msgs, uid, gid)
        users.append(("%s@%s" % (user(k), DOMAIN), password))
    inst.configure({"pop3.max_sessions_per_ip": str(max(20, 2 * clients))})
    return users


def run_postern(inst, users, seconds):
    port = inst.ports["pop3"]
    print("postern on %s:%d (pop3, plaintext USER/PASS from loopback)" % (
        inst.addr, port), flush=True)
    if not conftest.wait_for(lambda: greeting(inst.addr, port), 15, interval=0.2):
        return {"error": "no POP3 greeting on %s:%d" % (inst.addr, port)}
    return run_server(inst.addr, port, users, wire_sizes(messages()), seconds,
                      postern_classifier(inst))


# ---- Dovecot --------------------------------------------------------------------

def dovecot_available():
    """None if a private Dovecot can be run here, else the reason."""
    if not os.access(DOVECOT, os.X_OK):
        return "dovecot not installed"
    if os.geteuid() != 0:
        return "dovecot needs root"
    for name in ("dovecot", "dovenull", "nobody"):   # internal, login, mail
        try:
            pwd.getpwnam(name)
        except KeyError:
            return "no user " + name
    if not os.path.exists(os.path.join(_dovecot_libexec(), "pop3")):
        return "dovecot's pop3 is not installed (dovecot-pop3d)"
    return None


def _dovecot_libexec():
    r = subprocess.run([DOVECOT, "--build-options"], capture_output=True, text=True)
    for word in r.stdout.split():
        if word.startswith("LIBEXECDIR="):      # not printed by every version
            return word.split("=", 1)[1]
    return "/usr/lib/dovecot"


def dovecot_password(password):
    """The password as postern's `user add` stores it: yescrypt at
    libxcrypt's default cost (crypt_gensalt("$y$", 0)), which Dovecot's
    CRYPT scheme checks with the same crypt(3); PLAIN without libcrypt."""
    name = ctypes.util.find_library("crypt")
    lib = ctypes.CDLL(name) if name else None
    if lib is None or not hasattr(lib, "crypt_gensalt"):
        return "{PLAIN}" + password
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p,
                                  ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    setting = lib.crypt_gensalt(b"$y$", 0, None, 0)
    h = lib.crypt(password.encode(), setting) if setting else None
    if not h or not h.startswith(b"$y$"):
        return "{PLAIN}" + password
    return "{CRYPT}" + h.decode()


class Dovecot:
    """A Dovecot that lives in one temp dir: dovecot.conf, base_dir,
    state_dir, the passwd-file, the Maildirs (owned by nobody) and the log;
    POP3 only, on addr:port only.  Started as our child with `dovecot -F`,
    stopped by that pid."""

    def __init__(self, addr, port, users):
        self.addr, self.port, self.users = addr, port, users
        self.dir = tempfile.mkdtemp(prefix="postern-bench-dovecot-", dir="/tmp")
        os.chmod(self.dir, 0o755)       # the login, auth and mail users pass
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.logfile = os.path.join(self.dir, "dovecot.log")
        self.proc = None
        r = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True)
        self.version = (r.stdout.split() or ["?"])[0]

    def _base_conf(self, protocol):
        """The settings both benches' Dovecots share: a private base dir,
        one protocol on our address, no TLS, PLAIN, users and Maildirs in
        our dir."""
        d = self.dir
        return [
            "base_dir = %s/run" % d,
            "state_dir = %s/state" % d,
            "protocols = %s" % protocol,
            "listen = %s" % self.addr,
            "ssl = no",
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain",
            "log_path = %s" % self.logfile,
            "mail_location = maildir:%s/mail/%%d/%%n" % d,
            "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN %s/users\n}" % d,
            "userdb {\n  driver = passwd-file\n  args = %s/users\n}" % d,
        ]

    def _conf(self):
        return "\n".join(self._base_conf("pop3") + [
            "service pop3-login {\n  inet_listener pop3 {\n    address = %s\n"
            "    port = %d\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}"
            % (self.addr, self.port),
            ""])

    def setup(self):
        uid, gid = mailbox_owner("nobody")
        msgs = messages()
        lines = []
        for login, password in self.users:
            local, domain = login.split("@")
            path = os.path.join(self.dir, "mail", domain, local)
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            fill_maildir(path, msgs, uid, gid)
            lines.append("%s:%s:%d:%d::%s::\n" % (login, dovecot_password(password),
                                                  uid, gid, path))
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("".join(lines))
        os.chmod(os.path.join(self.dir, "users"), 0o644)  # bench passwords
        with open(self.conf, "w") as f:
            f.write(self._conf())

    def answers(self):
        """True when the server greets on its port (POP3 here)."""
        return greeting(self.addr, self.port)

    def start(self, timeout=30):
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        ok = conftest.wait_for(lambda: self.proc.poll() is not None
                               or self.answers(), timeout, interval=0.2)
        if self.proc.poll() is not None:
            raise RuntimeError("dovecot exited with %d" % self.proc.returncode)
        if not ok:
            raise RuntimeError("dovecot did not answer on %s:%d" % (self.addr, self.port))

    def stop(self):
        """SIGTERM to our dovecot master (it stops its children), SIGKILL
        to the same pid after 30 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.proc = None

    def destroy(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=10):
        text = _read(self.logfile) or ""
        return text.splitlines()[-n:]


def run_dovecot(users, seconds):
    """The same run against a private Dovecot: (result, None) or (None,
    the reason it was skipped or failed)."""
    note = dovecot_available()
    if note is not None:
        return None, note
    addr, lock = conftest.allocate_address()
    dc = Dovecot(addr, conftest.PORTS["pop3"], users)
    try:
        dc.setup()
        dc.start()
        print("Dovecot %s on %s:%d, master pid %d" % (
            dc.version, addr, dc.port, dc.proc.pid), flush=True)
        r = run_server(addr, dc.port, users, wire_sizes(messages()), seconds,
                       child_classifier(dc.proc.pid, "pop3"))
        if r.get("error"):
            print("\n".join("   " + l for l in dc.log_tail()))
        return r, None
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        print("Dovecot: %s" % e)
        print("\n".join("   " + l for l in dc.log_tail()))
        return None, "failed"
    finally:
        dc.destroy()
        lock.close()


# ---- the table -----------------------------------------------------------------

COLS = "%-8s %8s %9s %8s %7s %8s %7s %5s %7s %7s %7s %6s"


def _f(d, key, spec):
    v = d.get(key) if d else None
    return spec % v if isinstance(v, (int, float)) else "-"


def _row(name, r):
    mem = r.get("mem") if r else None
    return COLS % (name, _f(r, "sessions", "%d"), _f(r, "commands", "%d"),
                   _f(r, "cmd_rate", "%.0f"), _f(r, "msg_rate", "%.0f"),
                   _f(r, "login_ms", "%.1f"), _f(r, "txn_ms", "%.1f"),
                   _f(mem, "open", "%.1f"),
                   _f(mem, "rss", "%.0f"), _f(mem, "pss", "%.0f"),
                   _f(mem, "hwm", "%d"), _f(r, "errors", "%d"))


def _ratio(a, b, key):
    x, y = (a or {}).get(key), (b or {}).get(key)
    return "%.2f" % (x / y) if x and y else "-"


def print_table(ours, theirs, note):
    head = COLS % ("server", "sessions", "commands", "cmds/s", "msgs/s",
                   "login ms", "txn ms", "open", "RSS KiB", "PSS KiB", "HWM KiB",
                   "errors")
    print(head)
    print("-" * len(head))
    print(_row("postern", ours))
    print(_row("dovecot", theirs) if theirs else "%-8s %s" % ("dovecot", note))
    if ours and theirs:
        print("postern/dovecot: cmds/s %s, txn ms %s, RSS %s, PSS %s" % (
            _ratio(ours, theirs, "cmd_rate"), _ratio(ours, theirs, "txn_ms"),
            _ratio(ours.get("mem"), theirs.get("mem"), "rss"),
            _ratio(ours.get("mem"), theirs.get("mem"), "pss")))
    print("cmds/s, msgs/s = answered commands (login included), RETRs / "
          "seconds from the start to the last client's end; login ms = p50 of "
          "connect to +OK after PASS; txn ms = p50 of +OK after PASS to +OK "
          "after QUIT; open = mean session processes at a sample; RSS, PSS = mean "
          "VmRSS, Pss of a session process; HWM = largest VmHWM")


def benchmark(inst, users, seconds=SECONDS):
    """postern (inst running, prepared with prepare()), then Dovecot."""
    print()
    print("POP3: %d clients for %d s per server, each its own user with %d "
          "messages of %d octets: USER, PASS, STAT, LIST, RETR 1..%d, QUIT "
          "(%d commands a session, no DELE)" % (
              len(users), seconds, MESSAGES, MSG_SIZE, MESSAGES, CMDS))
    ours = run_postern(inst, users, seconds)
    if ours.get("error"):
        print("   postern: " + ours["error"])
    theirs, note = run_dovecot(users, seconds)
    if theirs and theirs.get("error"):
        print("   dovecot: " + theirs["error"])
    print()
    print_table(ours, theirs, note or "skipped")
    if theirs is None:
        print("Dovecot: %s; skipped" % note)
    return ours, theirs
