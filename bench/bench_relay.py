"""bench_relay.py: the relay half of `make bench` (bench.py calls it).
Messages for remote domains go in over SMTP from a trusted address and out
through the remote delivery agent to a counting sink (bench/smtp-sink) on a
private loopback address; the domains' MX records come from a private
dnsmasq (tests/integration/dns_helpers.py).  Measured: messages per second
from the start of the injection to the last message's arrival at the sink,
connections the sink saw, and messages per connection.  The same against a
private Postfix relaying to the same sink (relayhost), when one can be run.
"""
import os
import re
import subprocess
import threading
import time

import bench_e2e
import bench_postfix
import conftest
import dns_helpers

SENDER = "load@bench.invalid"
SIZE = "2K"
SENDERS = 10            # SMTP connections injecting at once, in every row
MESSAGES = 2000         # per row; bench.py --relay-messages=N changes it
SINK_PORT = 22525       # on the sink's own 127.x address: remote.port
MX_HOST = "mx.sink.test"
ROWS = [1, 10]          # how many destination domains
POLL = 0.01
STALL = 60              # give up when the sink gets nothing for this long
IDLE_WAIT = 60          # before a row, wait this long for cached connections
RESULT_RE = re.compile(r"^RESULT (.*)$", re.M)
STATS_RE = re.compile(r"^conns=(\d+) open=(\d+) msgs=(\d+) rcpts=(\d+) last=([\d.]+)$")


def domains(n):
    return ["relay.test"] if n == 1 else ["relay%d.test" % i for i in range(n)]


class Sink:
    """bench/smtp-sink on addr:port, its running counters read by a thread.
    Stopped by the pid of the Popen that started it."""

    def __init__(self, tool, addr, port):
        self.tool, self.addr, self.port = tool, addr, port
        self.proc = None
        self.lock = threading.Lock()
        self.stats = None
        self.reader = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.tool, "-s", "%s:%d" % (self.addr, self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not conftest.wait_for(lambda: self.snapshot() or self.proc.poll() is not None, 30):
            raise RuntimeError("smtp-sink did not start")
        if self.snapshot() is None:
            raise RuntimeError("smtp-sink: " + self.proc.stderr.read().strip())

    def _read(self):
        for line in self.proc.stdout:
            m = STATS_RE.match(line.strip())
            if m:
                s = dict(zip(("conns", "open", "msgs", "rcpts"),
                             (int(v) for v in m.groups()[:4])))
                s["last"] = float(m.group(5))
                with self.lock:
                    self.stats = s

    def snapshot(self):
        with self.lock:
            return dict(self.stats) if self.stats else None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.proc = None


class RelayEnv:
    """The sink and the DNS server the relay rows need, started before the
    postern instance (its config names them) and stopped after it."""

    def __init__(self, build):
        self.sink_addr, self._lock = conftest.allocate_address()
        self.sink = Sink(os.path.join(build, "smtp-sink"), self.sink_addr, SINK_PORT)
        self.dns = None
        self.note = None

    def start(self):
        self.sink.start()
        if not dns_helpers.have_dnsmasq():
            self.note = "dnsmasq not installed: routed by remote.smarthost"
            return
        mx = {d: [(10, MX_HOST)] for n in ROWS for d in domains(n)}
        self.dns = dns_helpers.DnsServer(mx=mx, hosts={MX_HOST: [self.sink_addr]})
        self.dns.start()

    def config(self):
        """postern.conf keys: relaying allowed from loopback, the MX records
        from our DNS server (or, without dnsmasq, the sink as smarthost)."""
        keys = {"smtpd.trusted_networks": "127.0.0.0/8"}
        if self.dns is not None:
            keys.update({"remote.dns": self.dns.server, "remote.port": str(SINK_PORT)})
        else:
            keys["remote.smarthost"] = "%s:%d" % (self.sink_addr, SINK_PORT)
        return keys

    def stop(self):
        try:
            self.sink.stop()
        finally:
            if self.dns is not None:
                self.dns.stop()
                self.dns = None
            if self._lock is not None:
                self._lock.close()
                self._lock = None


def inject(tool, addr, port, doms, total):
    """SENDERS connections in all, spread over the domains (one smtp-load
    per domain); returns the started processes."""
    per_dom = SENDERS // len(doms) or 1
    msgs = max(1, total // (per_dom * len(doms)))
    procs = []
    for d in doms:
        args = [tool, "-s", "%s:%d" % (addr, port), "-c", str(per_dom),
                "-m", str(msgs), "-z", SIZE, "-f", SENDER,
                "-t", "user@" + d, "-T", "30"]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    return procs


def collect(procs):
    """(messages accepted, messages tried, first error or None)."""
    ok = total = 0
    err = None
    for p in procs:
        out, e = p.communicate()
        m = RESULT_RE.search(out)
        if not m:
            err = err or "smtp-load: " + (e.strip().splitlines() or ["no result"])[-1]
            continue
        res = dict(kv.split("=", 1) for kv in m.group(1).split())
        ok += int(res["ok"])
        total += int(res["total"])
        if int(res["ok"]) < int(res["total"]) and err is None:
            err = "smtp-load: " + (e.strip().splitlines() or ["failures"])[-1]
    return ok, total, err


def run_row(tool, addr, port, sink, ndomains, total):
    """One row: inject, then wait for the sink to have them all."""
    base = sink.snapshot()
    t0 = time.monotonic()
    procs = inject(tool, addr, port, domains(ndomains), total)
    while any(p.poll() is None for p in procs):
        time.sleep(POLL)
    ok, tried, err = collect(procs)
    t_sent = time.monotonic()
    last_n, last_t = base["msgs"], t_sent
    while last_n - base["msgs"] < ok and time.monotonic() - last_t < STALL:
        s = sink.snapshot()
        if s["msgs"] != last_n:
            last_n, last_t = s["msgs"], time.monotonic()
        else:
            time.sleep(POLL)
    now = sink.snapshot()
    delivered = now["msgs"] - base["msgs"]
    conns = now["conns"] - base["conns"]
    secs = now["last"] - t0 if delivered else 0.0
    r = {"ok": ok, "tried": tried, "delivered": delivered, "conns": conns,
         "rcpts": now["rcpts"] - base["rcpts"],
         "accept_rate": ok / (t_sent - t0) if t_sent > t0 else 0.0,
         "rate": delivered / secs if secs > 0 else 0.0,
         "lag": max(0.0, now["last"] - t_sent) if delivered else None,
         "per_conn": delivered / conns if conns else None, "error": err}
    if delivered < ok:
        r["error"] = "%d of %d accepted messages reached the sink (none for %ds)" % (
            delivered, ok, STALL)
    return r


def wait_idle(sink):
    """Wait until every connection to the sink has been closed, so a row
    does not reuse connections the row before opened."""
    s = sink.snapshot()
    if s["open"] == 0:
        return
    t0 = time.monotonic()
    print("   waiting for %d open connection(s) to the sink to close" % s["open"],
          flush=True)
    conftest.wait_for(lambda: sink.snapshot()["open"] == 0, IDLE_WAIT, interval=0.1)
    n = sink.snapshot()["open"]
    print("   %s after %.1f s" % ("closed" if n == 0 else "%d still open" % n,
                                 time.monotonic() - t0), flush=True)


def run_all(name, tool, addr, port, sink, queue_dirs, total):
    results = []
    for n in ROWS:
        print("== relay %s: %d message%s to %d domain%s, %d senders" % (
            name, total, "" if total == 1 else "s", n, "" if n == 1 else "s",
            SENDERS), flush=True)
        bench_e2e.drain(name, queue_dirs)
        wait_idle(sink)
        r = run_row(tool, addr, port, sink, n, total)
        if r.get("error"):
            print("   " + r["error"])
        results.append(r)
    bench_e2e.drain(name, queue_dirs)   # leave no retries behind
    return results


def _f(d, key, spec):
    v = d.get(key) if d else None
    return spec % v if isinstance(v, (int, float)) else "-"


def print_table(ours, theirs, note):
    head = "%-8s %6s %13s %10s %6s %9s %6s %8s %13s %6s %8s %6s" % (
        "domains", "msgs", "postern msg/s", "accepted/s", "lag s", "delivered",
        "conns", "msg/conn", "postfix msg/s", "conns", "msg/conn", "ratio")
    print(head)
    print("-" * len(head))
    for i, n in enumerate(ROWS):
        o = ours[i] if ours else {}
        t = theirs[i] if theirs else None
        ratio = "-"
        if o.get("rate") and t and t.get("rate"):
            ratio = "%.2f" % (o["rate"] / t["rate"])
        print("%-8s %6s %13s %10s %6s %9s %6s %8s %13s %6s %8s %6s" % (
            n, o.get("tried", "-"), _f(o, "rate", "%.1f"),
            _f(o, "accept_rate", "%.1f"), _f(o, "lag", "%.2f"),
            "%s/%s" % (o["delivered"], o["ok"]) if "delivered" in o else "-",
            _f(o, "conns", "%d"), _f(o, "per_conn", "%.1f"),
            _f(t, "rate", "%.1f") if t is not None else note,
            _f(t, "conns", "%d"), _f(t, "per_conn", "%.1f"), ratio))
    print("msg/s = messages at the sink / seconds from the start of the "
          "injection to the last arrival; conns = connections the sink "
          "accepted; msg/conn = messages per connection (reuse)")


def benchmark(tool, inst, env, total=MESSAGES):
    """Ours (inst running with env.config()), then Postfix if possible."""
    print()
    print("Relay: SMTP in -> remote delivery -> smtp-sink on %s:%d, %s bodies, "
          "one recipient each" % (env.sink_addr, SINK_PORT, SIZE))
    print("routing: %s" % (env.note or "MX records from dnsmasq on " + env.dns.server))
    ours = None
    if conftest.wait_for(lambda: inst.running("remote"), 30, interval=0.2):
        ours = run_all("postern", tool, inst.addr, inst.ports["smtp"], env.sink,
                       [os.path.join(inst.spool, "env")], total)
    else:
        print("the remote delivery agent is not running; postern rows skipped")
    theirs, note = None, bench_postfix.available()
    if note is None:
        theirs, note = run_postfix(tool, env, total)
    print()
    print_table(ours, theirs, note or "skipped")
    if theirs is None:
        print("Postfix: %s; skipped" % note)
    return ours, theirs


def run_postfix(tool, env, total):
    """The same rows against a private Postfix whose relayhost is the sink."""
    addr, lock = conftest.allocate_address()
    pf = bench_postfix.PostfixInstance(addr, conftest.PORTS["smtp"], bench_e2e.DOMAIN,
                                       [], relayhost="[%s]:%d" % (env.sink_addr, SINK_PORT))
    try:
        pf.setup()
        pf.start()
        print("Postfix %s on %s:%d, master pid %d, relayhost [%s]:%d" % (
            pf.version, addr, pf.port, pf.master_pid, env.sink_addr, SINK_PORT),
            flush=True)
        res = run_all("postfix", tool, addr, pf.port, env.sink, pf.queue_dirs(), total)
        if any(r.get("error") for r in res):
            print("\n".join("   " + l for l in pf.log_tail(10)))
        return res, None
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        print("Postfix: %s" % e)
        print("\n".join("   " + l for l in pf.log_tail(10)))
        return None, "failed"
    finally:
        pf.destroy()
        lock.close()
