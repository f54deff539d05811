"""bench.py (`make bench`, via bench/run.sh): start a private postern the way
the integration harness does (tests/integration/conftest.py's Instance), run
smtp-load against its SMTP listener in a few configurations, sample the peak
RSS of the smtpd processes, print a table, then the end-to-end benchmark
(bench_e2e.py: SMTP in to Maildir out, and the same against a private
Postfix when one can be run), the relay benchmark (bench_relay.py: SMTP in,
remote delivery out to a counting sink), the POP3 benchmark (bench_pop3.py:
N clients retrieving a 100-message mailbox, and the same against a private
Dovecot when one is installed), and tear everything down.
A benchmark, not a test: slow or failed messages are reported, never fatal.
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import conftest  # noqa: E402  (the harness; reads POSTERN_BUILD at import)
import bench_e2e  # noqa: E402  (end to end, and the Postfix comparison)
import bench_relay  # noqa: E402  (relay to a sink, and the same for Postfix)
import bench_pop3  # noqa: E402  (POP3 retrieval, and the same for Dovecot)

SENDER = "load@bench.invalid"
RCPT = "bench@example.test"
# (label, connections, messages per connection, body size, pipelining)
CONFIGS = [
    ("c=1  m=200 z=2K", 1, 200, "2K", False),
    ("c=10 m=100 z=2K", 10, 100, "2K", False),
    ("c=10 m=100 z=2K -p", 10, 100, "2K", True),
    ("c=50 m=20 z=10K", 50, 20, "10K", False),
    ("c=50 m=20 z=10K -p", 50, 20, "10K", True),
    ("c=10 m=50 z=100K", 10, 50, "100K", False),
]
RESULT_RE = re.compile(r"^RESULT (.*)$", re.M)


class RssSampler(threading.Thread):
    """Polls /proc for this instance's smtpd processes (argv[0] "smtpd" and
    the instance's config path on the command line) and keeps the largest
    VmHWM seen.  A stranger pid's cmdline is read once; smtpd pids are re-read."""

    def __init__(self, conf, interval=0.02):
        super().__init__(daemon=True)
        self.marker = conf.encode()
        self.interval = interval
        self.stop_ev = threading.Event()
        self.peak_kib = 0
        self._other = set()
        self._smtpd = set()

    def _classify(self, pid):
        """Sort a new pid: smtpd of ours, or a stranger (cached).  Our other
        processes are not cached: a child master just forked becomes smtpd
        at exec, keeping its pid."""
        argv = conftest.proc_cmdline(pid)
        if self.marker not in argv:
            self._other.add(pid)
        elif os.path.basename(argv[0]) == b"smtpd":
            self._smtpd.add(pid)

    def _sample(self):
        pids = set(conftest.all_pids())
        self._other &= pids             # a reused pid is looked at again
        for pid in pids - self._other - self._smtpd:
            self._classify(pid)
        for pid in list(self._smtpd):
            st = conftest.proc_status(pid)
            if st is None or "VmHWM" not in st:   # gone, or a zombie
                self._smtpd.discard(pid)
                continue
            self.peak_kib = max(self.peak_kib, int(st["VmHWM"].split()[0]))

    def run(self):
        while not self.stop_ev.is_set():
            self._sample()
            self.stop_ev.wait(self.interval)

    def finish(self):
        self.stop_ev.set()
        self.join()
        return self.peak_kib


def run_load(tool, inst, conns, msgs, size, pipelining):
    """One smtp-load run; returns (dict of RESULT fields or None, peak KiB,
    stderr tail)."""
    args = [tool, "-s", "%s:%d" % (inst.addr, inst.ports["smtp"]),
            "-c", str(conns), "-m", str(msgs), "-z", size,
            "-f", SENDER, "-t", RCPT, "-T", "30"]
    if pipelining:
        args.append("-p")
    sampler = RssSampler(inst.conf)
    sampler.start()
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    finally:
        peak = sampler.finish()
    m = RESULT_RE.search(r.stdout)
    fields = None
    if m:
        fields = dict(kv.split("=", 1) for kv in m.group(1).split())
    return fields, peak, r.stderr.strip().splitlines()[-3:]


def run_smtp_source(inst, conns, msgs, size):
    """Postfix's smtp-source with the same shape; returns msgs/s or a reason."""
    exe = shutil.which("smtp-source")
    if exe is None:
        return None
    total = conns * msgs
    args = [exe, "-d", "-s", str(conns), "-m", str(total), "-l", str(size),
            "-f", SENDER, "-t", RCPT, "-M", "smtp-source.invalid",
            "%s:%d" % (inst.addr, inst.ports["smtp"])]
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        return "failed: " + (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
    return "%.1f msgs/s (%d messages in %.2f s)" % (total / secs, total, secs)


def fmt(fields, key, spec):
    try:
        return spec % float(fields[key])
    except (TypeError, KeyError, ValueError):
        return "-"


def print_table(rows):
    head = "%-20s %9s %9s %9s %11s %10s" % (
        "config", "msgs/s", "p50 ms", "p99 ms", "ok/total", "smtpd KiB")
    print(head)
    print("-" * len(head))
    for label, fields, peak in rows:
        ok = "%s/%s" % (fields["ok"], fields["total"]) if fields else "no result"
        print("%-20s %9s %9s %9s %11s %10s" % (
            label, fmt(fields, "rate", "%.1f"), fmt(fields, "p50", "%.2f"),
            fmt(fields, "p99", "%.2f"), ok, peak or "-"))
    print("smtpd KiB = largest peak RSS (VmHWM) of any one smtpd process "
          "during the run")


def benchmark(inst, tool):
    rows = []
    for label, conns, msgs, size, pipe in CONFIGS:
        print("== %s" % label, flush=True)
        fields, peak, errs = run_load(tool, inst, conns, msgs, size, pipe)
        for line in errs:
            print("   " + line)
        rows.append((label, fields, peak))
    print()
    print_table(rows)
    print()
    print("Postfix smtp-source, the non-pipelined shapes (it has no "
          "pipelining switch):")
    if shutil.which("smtp-source") is None:
        print("smtp-source not installed; skipped")
        return
    for label, conns, msgs, size, pipe in CONFIGS:
        if pipe:
            continue
        nbytes = int(size[:-1]) * 1024 if size[-1] in "Kk" else int(size)
        print("  %-20s %s" % (label, run_smtp_source(inst, conns, msgs, nbytes)))


def start_instance(inst, extra_keys, pop3_clients):
    """Install, add the users, start; returns the POP3 users (login,
    password) when pop3_clients > 0."""
    inst.install()
    inst.add_user(RCPT, secrets.token_urlsafe(12))
    for user in bench_e2e.users():
        inst.add_user("%s@%s" % (user, bench_e2e.DOMAIN), secrets.token_urlsafe(12))
    pop3_users = bench_pop3.prepare(inst, pop3_clients) if pop3_clients else None
    # the per-IP cap (50) guards against one abusive client; the benchmark
    # is that client on purpose, so it must not measure the cap
    inst.configure({"smtpd.max_sessions_per_ip": "500"})
    inst.configure(extra_keys)      # the relay rows' routing, if they run
    inst.start()
    if not conftest.wait_for(lambda: inst.running("queue"), 10, interval=0.2):
        print("warning: the queue service is not running; DATA will fail")
    print("postern %s on %s:%d (smtp), accounts %s*, build %s" % (
        "as root" if conftest.IS_ROOT else "as %s (no privilege separation)"
        % os.environ.get("USER", "this user"),
        inst.addr, inst.ports["smtp"], inst.aprefix, conftest.BUILD))
    return pop3_users


def maildir_new(inst, user):
    """paths.mail/DOMAIN/USER/new, where the local agent delivers."""
    return os.path.join(inst.mail, bench_e2e.DOMAIN, user, "new")


PARTS = ("smtp", "e2e", "relay", "pop3")
# option: (default, smallest value)
NUMBERS = {"relay-messages": (bench_relay.MESSAGES, 10),
           "pop3-clients": (bench_pop3.CLIENTS, 1),
           "pop3-seconds": (bench_pop3.SECONDS, 1)}


def parse_args(argv):
    """(a subset of PARTS, {option: number}), or None for a usage error."""
    parts = set()
    nums = {k: v[0] for k, v in NUMBERS.items()}
    for a in argv:
        name, eq, val = a.lstrip("-").partition("=")
        if name in NUMBERS and eq and val.isdigit() and int(val) >= NUMBERS[name][1]:
            nums[name] = int(val)
        elif name in PARTS and not eq:
            parts.add(name)
        else:
            return None
    return parts or set(PARTS), nums


def main():
    args = parse_args(sys.argv[1:])
    if args is None:
        print("usage: bench.py [--smtp] [--e2e] [--relay] [--pop3] "
              "[--relay-messages=N] [--pop3-clients=C] [--pop3-seconds=S]"
              "   (default: all four; N >= 10)", file=sys.stderr)
        return 2
    parts, nums = args
    tool = os.path.join(conftest.BUILD, "smtp-load")
    for prog in ["smtp-load"] + (["smtp-sink"] if "relay" in parts else []):
        if not os.access(os.path.join(conftest.BUILD, prog), os.X_OK):
            print("bench: %s is not built" % os.path.join(conftest.BUILD, prog),
                  file=sys.stderr)
            return 1
    # SIGTERM/SIGHUP unwind like Ctrl-C so the finally below always runs
    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if
    signal.signal(signal.SIGTERM, interrupted)       # started ignoring it
    signal.signal(signal.SIGHUP, interrupted)
    inst = conftest.Instance()
    relay = None
    status = 0
    try:
        if "relay" in parts:    # the instance's config names sink and DNS
            relay = bench_relay.RelayEnv(conftest.BUILD)
            relay.start()
        pop3_users = start_instance(inst, relay.config() if relay is not None else {},
                                    nums["pop3-clients"] if "pop3" in parts else 0)
        if "smtp" in parts:
            benchmark(inst, tool)
        if "e2e" in parts:
            bench_e2e.benchmark(tool, inst, lambda u: maildir_new(inst, u))
        if relay is not None:
            bench_relay.benchmark(tool, inst, relay, nums["relay-messages"])
        if pop3_users:
            bench_pop3.benchmark(inst, pop3_users, nums["pop3-seconds"])
    except KeyboardInterrupt:
        print("\nbench: interrupted; tearing down", file=sys.stderr)
        status = 130
    except BaseException as e:     # pytest.fail() raises a BaseException
        print("bench: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        tail = inst.log().splitlines()[-30:]
        if tail:
            print("---- instance log (last 30 lines) ----\n" + "\n".join(tail),
                  file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second ^C must not
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # cut teardown short
        try:
            inst.destroy()
        finally:
            try:
                if relay is not None:
                    relay.stop()
            finally:
                conftest.pytest_sessionfinish(None, status)  # the session cert
    return status


if __name__ == "__main__":
    sys.exit(main())
