"""bench_imap.py: the IMAP part of `make bench` (bench/run.sh --imap runs
it on its own; a plain `make bench` runs it after bench.py).

It installs a private postern instance the way the integration tests do,
and, when Debian's dovecot-core + dovecot-imapd are installed, a private
Dovecot in a temp dir, both with the same users, the same yescrypt
password hashes and the same 10,000-message Maildirs.  Against each:

1. throughput: C clients (processes), one user each, log in once, then
   loop SELECT INBOX; FETCH 1:* (FLAGS ENVELOPE); UID SEARCH (UNSEEN,
   FROM, SUBJECT or SINCE in turn); STORE of a random range +FLAGS or
   -FLAGS (\\Seen); APPEND of a 4 KiB message; every 5th round UID STORE
   +FLAGS.SILENT (\\Deleted) of what it appended and EXPUNGE, so the folder
   stays near 10,000.  Operations/s and p50/p99 latency per command;
2. idle memory: I connections (500) over a few users and several 127.x
   source addresses, LOGIN, SELECT INBOX, IDLE; then RSS, PSS and
   Private_Dirty (/proc/PID/status, smaps_rollup) of every imap process;
3. IDLE wake-up: time from the rename of a new file into new/ to the
   "* N EXISTS" on an IDLE connection, K times.

The messages and the IMAP client are in bench_imap_client.py.
A benchmark, not a test: failures are printed, never fatal.
"""
import concurrent.futures
import multiprocessing
import os
import random
import secrets
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
sys.path.insert(0, HERE)
import conftest  # noqa: E402  (the harness; reads POSTERN_BUILD at import)
import bench_pop3  # noqa: E402  (Dovecot helpers: password, owner, process tree)
from bench_imap_client import (  # noqa: E402  (the mailbox and the client)
    SEARCH_KEYS, TIMEOUT, Client, IMAPError, append_message, fill_maildirs, template)

DOMAIN = "example.test"
CLIENTS = 10            # --imap-clients=N
SECONDS = 30            # per server, --imap-seconds=S
MESSAGES = 10000        # per INBOX, --imap-messages=M
IDLE_CONNS = 500        # --imap-idle=I
IDLE_USERS = 10         # the idle connections use the first min(C, 10) users
SOURCES = 10            # 127.x source addresses for the idle connections
LOGIN_POOL = 4          # logins in flight at once during the idle ramp
WAKEUPS = 20            # --imap-wakeups=K
EXPUNGE_EVERY = 5       # rounds
MAX_ERRORS = 5
COMMANDS = ("SELECT", "FETCH", "SEARCH", "STORE", "APPEND", "EXPUNGE")
DOVECOT = bench_pop3.DOVECOT


def user(k):
    return "imap%d" % k


# ---- throughput -------------------------------------------------------------------

def _timed(st, name, fn, *args):
    t = time.monotonic()
    r = fn(*args)
    st["lat"][name].append(time.monotonic() - t)
    return r


def rounds(c, st, t_end, rng):
    """Rounds of the scenario on a logged-in connection until t_end."""
    appended = []
    k = 0
    while True:
        for step in range(6):
            if time.monotonic() >= t_end:
                return
            if step == 0:
                n = _timed(st, "SELECT", c.select)
            elif step == 1:
                c.fetches = 0
                _timed(st, "FETCH", c.cmd, "FETCH 1:* (FLAGS ENVELOPE)")
                if c.fetches != n:
                    raise IMAPError("FETCH 1:*: %d FETCH lines for %d EXISTS" % (c.fetches, n))
            elif step == 2:
                _timed(st, "SEARCH", c.cmd, "UID SEARCH " + SEARCH_KEYS[k % len(SEARCH_KEYS)])
            elif step == 3:
                lo = rng.randint(1, max(c.exists - 50, 1))
                hi = min(lo + rng.randint(0, 49), c.exists)
                _timed(st, "STORE", c.cmd, "STORE %d:%d %sFLAGS (\\Seen)" % (
                    lo, hi, "+" if k % 2 == 0 else "-"))
            elif step == 4:
                uid = _timed(st, "APPEND", c.append, "INBOX", st["msg"])
                if uid is None:
                    raise IMAPError("APPEND: no APPENDUID")
                appended.append(uid)
            elif appended and (k + 1) % EXPUNGE_EVERY == 0:
                _timed(st, "STORE", c.cmd, "UID STORE %s +FLAGS.SILENT (\\Deleted)"
                       % ",".join(map(str, appended)))
                _timed(st, "EXPUNGE", c.cmd, "EXPUNGE")
                appended = []
        k += 1


def client(addr, port, login, password, conn):
    """A client process: logs in once, waits for the start signal, runs
    rounds until the end time (reconnecting after an error), reports."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    st = {"lat": {k: [] for k in COMMANDS}, "errors": 0, "error": None,
          "msg": append_message(os.getpid()), "end": None}
    rng = random.Random(login)
    c = None
    try:
        c = Client(addr, port)
        c.login(login, password)
    except (OSError, IMAPError) as e:
        st["errors"] += 1
        st["error"] = "%s: login: %s" % (login, e)
    conn.send("ready")
    t_end = conn.recv()
    while c is not None and time.monotonic() < t_end and st["errors"] < MAX_ERRORS:
        try:
            rounds(c, st, t_end, rng)
        except (OSError, IMAPError) as e:
            st["errors"] += 1
            st["error"] = st["error"] or "%s: %s" % (login, e)
            c.close()
            try:
                c = Client(addr, port)
                c.login(login, password)
            except (OSError, IMAPError):
                c = None
    st["end"] = time.monotonic()
    if c is not None:
        try:
            c.cmd("LOGOUT")
        except (OSError, IMAPError):
            pass
        c.close()
    del st["msg"]
    conn.send(st)
    conn.close()


def run_clients(addr, port, users, seconds):
    ctx = multiprocessing.get_context("fork")
    procs, results, done = [], [], False
    t0 = time.monotonic()
    try:
        for login, password in users:
            parent, child = ctx.Pipe()
            pr = ctx.Process(target=client, daemon=True,
                             args=(addr, port, login, password, child))
            pr.start()
            child.close()
            procs.append((pr, parent))
        for _, conn in procs:       # logged in (not measured)
            if conn.poll(TIMEOUT):
                conn.recv()
        t0 = time.monotonic()
        for _, conn in procs:
            conn.send(t0 + seconds)
        for pr, conn in procs:
            if conn.poll(seconds + TIMEOUT * 3):
                results.append(conn.recv())
        done = True
    finally:
        for pr, conn in procs:
            conn.close()
            pr.join(5 if done else 0)
            if pr.is_alive():
                pr.kill()       # our own child, by its pid
                pr.join(5)
    return summarize(results, len(users), t0)


def _pct(v, p):
    return v[min(len(v) - 1, int(len(v) * p))] * 1000 if v else None


def summarize(results, nclients, t0):
    secs = max((x["end"] for x in results), default=t0) - t0
    r = {"secs": secs, "cmd": {}, "errors": sum(x["errors"] for x in results),
         "error": next((x["error"] for x in results if x["error"]), None)}
    total = 0
    for k in COMMANDS:
        v = sorted(t for x in results for t in x["lat"][k])
        total += len(v)
        r["cmd"][k] = {"n": len(v), "rate": len(v) / secs if secs > 0 else 0.0,
                       "p50": _pct(v, 0.5), "p99": _pct(v, 0.99)}
    r["total"] = {"n": total, "rate": total / secs if secs > 0 else 0.0}
    if len(results) < nclients:
        r["error"] = r["error"] or "%d client(s) did not report" % (nclients - len(results))
    return r


def warm_up(addr, port, users):
    """One untimed-for-the-table SELECT + FETCH 1:* per user, one after the
    other (builds postern's cache, Dovecot's index): p50 seconds of each."""
    sel, fet = [], []
    for login, password in users:
        c = Client(addr, port, timeout=600)
        try:
            c.login(login, password)
            t = time.monotonic()
            n = c.select()
            t1 = time.monotonic()
            c.cmd("FETCH 1:* (FLAGS ENVELOPE)")
            t2 = time.monotonic()
            if c.fetches != n or n < MESSAGES:
                raise IMAPError("cold FETCH: %d lines, EXISTS %d" % (c.fetches, n))
            sel.append(t1 - t)
            fet.append(t2 - t1)
            c.cmd("LOGOUT")
        finally:
            c.close()
    sel.sort()
    fet.sort()
    return {"select": sel[len(sel) // 2] * 1000, "fetch": fet[len(fet) // 2] * 1000}


# ---- idle memory --------------------------------------------------------------------

def sources(server_addr):
    """SOURCES loopback addresses to connect from (any 127/8 address works
    as a source on Linux): 127.A.B.1.. next to the server's own."""
    a, b = server_addr.split(".")[1:3]
    return ["127.%s.%s.%d" % (a, (int(b) + 1) % 256, k + 1) for k in range(SOURCES)]


def open_idle(addr, port, users, nconns):
    """nconns connections logged in, in INBOX, in IDLE; connection i is user
    i % U from source (i // U) % SOURCES.  Returns (clients, ramp seconds,
    first error)."""
    srcs = sources(addr)
    u = len(users)

    def one(i):
        login, password = users[i % u]
        c = Client(addr, port, source=srcs[(i // u) % len(srcs)], timeout=300)
        try:
            c.login(login, password)
            c.select()
            c.idle()
        except BaseException:
            c.close()
            raise
        return c

    clients, err = [], None
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(LOGIN_POOL) as pool:
        for fut in [pool.submit(one, i) for i in range(nconns)]:
            try:
                clients.append(fut.result())
            except (OSError, IMAPError) as e:
                err = err or str(e)
    return clients, time.monotonic() - t0, err


def _kib(text, key):
    return bench_pop3._kib(text or "", key)


def memory(pid):
    """{"rss", "pss", "dirty"} KiB of pid, or None when it is gone."""
    st = bench_pop3._read("/proc/%d/status" % pid)
    roll = bench_pop3._read("/proc/%d/smaps_rollup" % pid)
    if not st or _kib(st, "VmRSS") is None:
        return None
    return {"rss": _kib(st, "VmRSS"), "pss": _kib(roll, "Pss") or 0,
            "dirty": _kib(roll, "Private_Dirty") or 0}


def sample(classify, all_pids):
    """Memory of every process classify() calls "session" or "login", and
    the summed PSS of all_pids() (every process of the server)."""
    out = {"session": [], "login": []}
    for pid in conftest.all_pids():
        kind = classify(pid)
        if kind in out:
            m = memory(pid)
            if m:
                out[kind].append(m)
    total = 0
    for pid in all_pids():
        m = memory(pid)
        total += m["pss"] if m else 0
    r = {"procs": len(out["session"]), "logins": len(out["login"]), "all_pss": total}
    for key in ("rss", "pss", "dirty"):
        v = [m[key] for m in out["session"]]
        r[key] = sum(v) / len(v) if v else None
        r[key + "_max"] = max(v) if v else None
    v = [m["rss"] for m in out["login"]]
    r["login_rss"] = sum(v) / len(v) if v else None
    return r


def idle_memory(addr, port, users, nconns, classify, all_pids):
    clients, ramp, err = open_idle(addr, port, users, nconns)
    try:
        # every session process exists once its IDLE was answered; give
        # the last ones a moment to settle their heap
        time.sleep(2)
        r = sample(classify, all_pids)
    finally:
        for c in clients:
            c.close()
    r.update({"conns": len(clients), "ramp": ramp, "error": err})
    return r


# ---- IDLE wake-up --------------------------------------------------------------------

def wakeups(addr, port, login, password, maildir, owner, count):
    """count times: a file renamed into maildir/new, timed to the EXISTS
    on an IDLE connection.  Returns sorted seconds."""
    uid, gid = owner
    c = Client(addr, port, timeout=30)
    out = []
    try:
        c.login(login, password)
        c.select()
        c.idle()
        for k in range(count):
            data = append_message(10 ** 7 + k).replace(b"\r\n", b"\n")
            name = "%d.M%dP4343Q%d.wake.example.test,S=%d" % (
                time.time(), k, k, len(data))
            tmp = os.path.join(maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(data)
            os.chown(tmp, uid, gid)
            before = c.exists
            t = time.monotonic()
            os.rename(tmp, os.path.join(maildir, "new", name))
            while c.wait_exists() <= before:
                pass
            out.append(time.monotonic() - t)
            time.sleep(0.05)
        c.done()
        c.cmd("LOGOUT")
    finally:
        c.close()
    return sorted(out)


# ---- one server ------------------------------------------------------------------

def greets(addr, port):
    try:
        Client(addr, port, timeout=5).close()
        return True
    except (OSError, IMAPError):
        return False


def run_server(name, addr, port, users, opts, classify, all_pids, maildir, owner):
    """warm-up, throughput, idle memory, wake-up; a dict of results, with
    "error" set at the first part that could not run."""
    r = {}
    try:
        print("%s: warm-up (one SELECT + FETCH 1:* per user)" % name, flush=True)
        r["cold"] = warm_up(addr, port, users)
        print("%s: %d clients for %d s" % (name, len(users), opts["seconds"]), flush=True)
        r["load"] = run_clients(addr, port, users, opts["seconds"])
        if r["load"]["error"]:
            print("   %s: %s" % (name, r["load"]["error"]))
        print("%s: %d IDLE connections" % (name, opts["idle"]), flush=True)
        r["idle"] = idle_memory(addr, port, users[:IDLE_USERS], opts["idle"],
                                classify, all_pids)
        if r["idle"]["error"]:
            print("   %s: %s" % (name, r["idle"]["error"]))
        print("%s: %d IDLE wake-ups" % (name, opts["wakeups"]), flush=True)
        login, password = users[0]
        r["wake"] = wakeups(addr, port, login, password, maildir(login), owner,
                            opts["wakeups"])
    except (OSError, IMAPError) as e:
        r["error"] = "%s" % e
        print("   %s: %s" % (name, e))
    return r


# ---- postern ------------------------------------------------------------------------

def postern_classifier(inst):
    marker = inst.conf.encode()

    def classify(pid):
        argv = conftest.proc_cmdline(pid)
        if marker not in argv:
            return "other"
        base = os.path.basename(argv[0])
        return {b"imap": "session", b"imap-login": "login"}.get(base, "ours")
    return classify


def prepare_postern(inst, users, msgs, opts):
    uid, gid = bench_pop3.mailbox_owner(inst.aprefix + "vmail")
    domdir = os.path.join(inst.mail, DOMAIN)
    os.makedirs(domdir, mode=0o700, exist_ok=True)
    os.chown(domdir, uid, gid)
    for login, password in users:
        inst.add_user(login, password)
    fill_maildirs([os.path.join(domdir, l.split("@")[0]) for l, _ in users], msgs, uid, gid)
    cap = str(max(1000, 2 * opts["idle"]))
    inst.configure({"listen.imap": "%s:%d" % (inst.addr, inst.ports["imap"]),
                    "imap.max_sessions": str(min(4000, max(1000, 2 * opts["idle"]))),
                    "imap.max_sessions_per_ip": cap,
                    "imap.max_sessions_per_user": cap})
    return uid, gid


def run_postern(inst, users, msgs, opts):
    owner = prepare_postern(inst, users, msgs, opts)
    inst.start()
    port = inst.ports["imap"]
    if not conftest.wait_for(lambda: greets(inst.addr, port), 20, interval=0.2):
        return {"error": "no IMAP greeting on %s:%d" % (inst.addr, port)}
    print("postern on %s:%d (imap, plaintext LOGIN from loopback), build %s" % (
        inst.addr, port, conftest.BUILD), flush=True)
    marker = inst.conf.encode()
    return run_server("postern", inst.addr, port, users, opts, postern_classifier(inst),
                      lambda: [p for p in conftest.all_pids()
                               if marker in conftest.proc_cmdline(p)],
                      lambda l: os.path.join(inst.mail, DOMAIN, l.split("@")[0]), owner)


# ---- Dovecot ------------------------------------------------------------------------

def dovecot_available():
    note = bench_pop3.dovecot_available()
    if note and "pop3" not in note:
        return note
    if not os.path.exists(os.path.join(bench_pop3._dovecot_libexec(), "imap")):
        return "dovecot's imap is not installed (dovecot-imapd)"
    return None


class Dovecot(bench_pop3.Dovecot):
    """bench_pop3's private Dovecot, IMAP only, with limits raised so
    that the idle connections fit."""

    def _conf(self):
        return "\n".join(self._base_conf("imap") + [
            "default_process_limit = %d" % max(1000, 2 * self.nconns),
            "default_client_limit = %d" % max(4000, 4 * self.nconns),
            "mail_max_userip_connections = %d" % max(1000, self.nconns),
            "service imap-login {\n  inet_listener imap {\n    address = %s\n"
            "    port = %d\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}"
            % (self.addr, self.port),
            ""])

    def setup_imap(self, msgs, nconns):
        self.nconns = nconns
        uid, gid = bench_pop3.mailbox_owner("nobody")
        lines, paths = [], []
        for login, password in self.users:
            local, domain = login.split("@")
            path = os.path.join(self.dir, "mail", domain, local)
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            paths.append(path)
            lines.append("%s:%s:%d:%d::%s::\n" % (
                login, bench_pop3.dovecot_password(password), uid, gid, path))
        fill_maildirs(paths, msgs, uid, gid)
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write("".join(lines))
        os.chmod(os.path.join(self.dir, "users"), 0o644)
        with open(self.conf, "w") as f:
            f.write(self._conf())
        return uid, gid

    def answers(self):
        return greets(self.addr, self.port)

    def tree(self):
        """The master and its descendants."""
        kids = {}
        for pid in conftest.all_pids():
            stat = bench_pop3._read("/proc/%d/stat" % pid)
            if stat and ")" in stat:
                kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(pid)
        out, todo = [], [self.proc.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(kids.get(p, []))
        return out


def dovecot_classifier(master):
    base = bench_pop3.child_classifier(master, "imap")
    login = bench_pop3.child_classifier(master, "imap-login")

    def classify(pid):
        if base(pid) == "session":
            return "session"
        return "login" if login(pid) == "session" else "other"
    return classify


def run_dovecot(users, msgs, opts):
    note = dovecot_available()
    if note is not None:
        return None, note
    addr, lock = conftest.allocate_address()
    dc = Dovecot(addr, conftest.PORTS["imap"], users)
    try:
        owner = dc.setup_imap(msgs, opts["idle"])
        dc.start()
        print("Dovecot %s on %s:%d, master pid %d" % (
            dc.version, addr, dc.port, dc.proc.pid), flush=True)
        r = run_server("dovecot", addr, dc.port, users, opts,
                       dovecot_classifier(dc.proc.pid), dc.tree,
                       lambda l: os.path.join(dc.dir, "mail", DOMAIN, l.split("@")[0]),
                       owner)
        if r.get("error") or (r.get("load") or {}).get("error"):
            print("\n".join("   " + l for l in dc.log_tail()))
        return r, None
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        print("Dovecot: %s" % e)
        print("\n".join("   " + l for l in dc.log_tail()))
        return None, "failed"
    finally:
        dc.destroy()
        lock.close()


# ---- the tables ------------------------------------------------------------------------

def _f(v, spec):
    return spec % v if isinstance(v, (int, float)) else "-"


def _ratio(x, y):
    return "%.2f" % (x / y) if isinstance(x, (int, float)) and isinstance(y, (int, float)) \
        and x and y else "-"


def _get(r, *keys):
    for k in keys:
        if not isinstance(r, dict):
            return None
        r = r.get(k)
    return r


def print_tables(ours, theirs, note, opts, nusers):
    servers = [("postern", ours)] + ([("dovecot", theirs)] if theirs else [])
    print()
    print("IMAP: %d clients for %d s per server, one user each, INBOX of %d messages "
          "(1-8 KiB, plain/multipart); a round = SELECT, FETCH 1:* (FLAGS ENVELOPE), "
          "UID SEARCH, STORE +/-FLAGS (\\Seen), APPEND 4 KiB; EXPUNGE every %d rounds"
          % (nusers, opts["seconds"], opts["messages"], EXPUNGE_EVERY))
    cols = "%-8s" + " %9s %8s %8s" * len(servers)
    print(cols % tuple(["command"] + [x for n, _ in servers
                                      for x in (n[:4] + " op/s", "p50 ms", "p99 ms")]))
    print("-" * (8 + 28 * len(servers)))
    for k in COMMANDS:
        row = [k]
        for _, r in servers:
            c = _get(r, "load", "cmd", k)
            row += [_f(_get(c, "rate"), "%.1f"), _f(_get(c, "p50"), "%.2f"),
                    _f(_get(c, "p99"), "%.2f")]
        print(cols % tuple(row))
    row = ["total"]
    for _, r in servers:
        row += [_f(_get(r, "load", "total", "rate"), "%.1f"), "", ""]
    print(cols % tuple(row))
    for n, r in servers:
        print("%s: cold SELECT %s ms, cold FETCH 1:* %s ms (p50 over users, first "
              "session after start), errors %s%s" % (
                  n, _f(_get(r, "cold", "select"), "%.0f"),
                  _f(_get(r, "cold", "fetch"), "%.0f"),
                  _f(_get(r, "load", "errors"), "%d"),
                  " (%s)" % _get(r, "load", "error") if _get(r, "load", "error") else ""))
    if not theirs:
        print("dovecot: %s; postern only" % note)
    print()
    icols = "%-8s %6s %7s %8s %8s %8s %9s %9s %7s %9s %10s"
    print("Idle: %d connections (LOGIN, SELECT INBOX, IDLE) over %d users from %d "
          "source addresses, %d logins in flight; KiB per imap process"
          % (opts["idle"], min(nusers, IDLE_USERS), SOURCES, LOGIN_POOL))
    print(icols % ("server", "conns", "ramp s", "RSS", "RSS max", "PSS", "Pdirty",
                   "Pdirty mx", "logins", "login RSS", "all PSS/c"))
    for n, r in servers:
        i = _get(r, "idle") or {}
        print(icols % (n, _f(i.get("conns"), "%d"), _f(i.get("ramp"), "%.1f"),
                       _f(i.get("rss"), "%.0f"), _f(i.get("rss_max"), "%d"),
                       _f(i.get("pss"), "%.0f"), _f(i.get("dirty"), "%.0f"),
                       _f(i.get("dirty_max"), "%d"), _f(i.get("logins"), "%d"),
                       _f(i.get("login_rss"), "%.0f"),
                       _f(i["all_pss"] / i["conns"] if i.get("conns") else None, "%.0f")))
    print()
    print("IDLE wake-up: file renamed into new/ -> \"* N EXISTS\" on an IDLE connection")
    for n, r in servers:
        w = _get(r, "wake") or []
        print("%-8s n=%d p50 %s ms, max %s ms" % (n, len(w), _f(_pct(w, 0.5), "%.2f"),
                                                  _f(w[-1] * 1000 if w else None, "%.2f")))
    if ours and theirs:
        ow, tw = _get(ours, "wake") or [], _get(theirs, "wake") or []
        print("postern/dovecot: ops/s total %s, FETCH %s, SEARCH %s, APPEND %s; "
              "idle RSS %s, PSS %s, Private_Dirty %s, all PSS/conn %s; wake-up p50 %s" % (
                  _ratio(_get(ours, "load", "total", "rate"), _get(theirs, "load", "total", "rate")),
                  _ratio(_get(ours, "load", "cmd", "FETCH", "rate"),
                         _get(theirs, "load", "cmd", "FETCH", "rate")),
                  _ratio(_get(ours, "load", "cmd", "SEARCH", "rate"),
                         _get(theirs, "load", "cmd", "SEARCH", "rate")),
                  _ratio(_get(ours, "load", "cmd", "APPEND", "rate"),
                         _get(theirs, "load", "cmd", "APPEND", "rate")),
                  _ratio(_get(ours, "idle", "rss"), _get(theirs, "idle", "rss")),
                  _ratio(_get(ours, "idle", "pss"), _get(theirs, "idle", "pss")),
                  _ratio(_get(ours, "idle", "dirty"), _get(theirs, "idle", "dirty")),
                  _ratio(_get(ours, "idle", "all_pss") / max(_get(ours, "idle", "conns") or 1, 1)
                         if _get(ours, "idle", "all_pss") else None,
                         _get(theirs, "idle", "all_pss") / max(_get(theirs, "idle", "conns") or 1, 1)
                         if _get(theirs, "idle", "all_pss") else None),
                  _ratio(_pct(ow, 0.5), _pct(tw, 0.5))))


# ---- main -------------------------------------------------------------------------------

NUMBERS = {"imap-clients": (CLIENTS, 1), "imap-seconds": (SECONDS, 1),
           "imap-messages": (MESSAGES, 10), "imap-idle": (IDLE_CONNS, 1),
           "imap-wakeups": (WAKEUPS, 1)}


def parse_args(argv):
    opts = {k: v[0] for k, v in NUMBERS.items()}
    for a in argv:
        name, eq, val = a.lstrip("-").partition("=")
        if name in NUMBERS and eq and val.isdigit() and int(val) >= NUMBERS[name][1]:
            opts[name] = int(val)
        elif name != "imap" or eq:
            return None
    return {k.split("-", 1)[1]: v for k, v in opts.items()}


def main():
    global MESSAGES
    opts = parse_args(sys.argv[1:])
    if opts is None:
        print("usage: bench_imap.py [--imap] [--imap-clients=C] [--imap-seconds=S] "
              "[--imap-messages=M] [--imap-idle=I] [--imap-wakeups=K]", file=sys.stderr)
        return 2
    MESSAGES = opts["messages"]

    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    inst = conftest.Instance()
    status = 0
    try:
        inst.install()
        users = [("%s@%s" % (user(k), DOMAIN), "bench-%d-%s" % (k, secrets.token_hex(6)))
                 for k in range(opts["clients"])]
        t = time.monotonic()
        msgs = template(opts["messages"])
        print("IMAP bench: %d messages generated in %.1f s (%.1f MiB)" % (
            len(msgs), time.monotonic() - t, sum(len(m[1]) for m in msgs) / 2 ** 20),
            flush=True)
        ours = run_postern(inst, users, msgs, opts)
        inst.stop()     # its processes off the CPUs while Dovecot runs
        theirs, note = run_dovecot(users, msgs, opts)
        print_tables(ours, theirs, note, opts, len(users))
    except KeyboardInterrupt:
        print("\nbench_imap: interrupted; tearing down", file=sys.stderr)
        status = 130
    except BaseException as e:     # pytest.fail() raises a BaseException
        print("bench_imap: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        tail = inst.log().splitlines()[-30:]
        if tail:
            print("---- instance log (last 30 lines) ----\n" + "\n".join(tail),
                  file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            inst.destroy()
        finally:
            conftest.pytest_sessionfinish(None, status)
    return status


if __name__ == "__main__":
    sys.exit(main())
