"""bench_e2e.py: the end-to-end half of `make bench` (bench.py calls it).
Messages per second from the first SMTP connect until the last accepted
message is a file in its Maildir's new/ directory, with 1, 10 and 50
concurrent senders; the same shapes against a private Postfix
(bench_postfix.py) when one can be run here, and the ratio.
"""
import os
import re
import subprocess
import time

import bench_postfix

DOMAIN = "example.test"
SENDER = "load@bench.invalid"
SIZE = "2K"
# (senders, messages per sender): 500 messages in each shape but the first
SHAPES = [(1, 300), (10, 50), (50, 10)]
POLL = 0.01             # seconds between two counts of new/
STALL = 60              # give up when no new file arrives for this long
RESULT_RE = re.compile(r"^RESULT (.*)$", re.M)


def user_for(senders):
    """One mailbox per shape, so every run starts from an empty new/."""
    return "e2e%d" % senders


def users():
    return [user_for(s) for s, _ in SHAPES]


def count_files(path):
    try:
        with os.scandir(path) as it:
            return sum(1 for e in it if not e.name.startswith("."))
    except FileNotFoundError:
        return 0


def run_shape(tool, addr, port, user, newdir, senders, msgs):
    """One run: smtp-load against addr:port while new/ is counted.
    Returns a dict: ok, total, accept_rate (smtp-load's own figure),
    delivered, secs (connect to last file), rate, lag (last file after the
    last 250), or error."""
    base = count_files(newdir)
    args = [tool, "-s", "%s:%d" % (addr, port), "-c", str(senders),
            "-m", str(msgs), "-z", SIZE, "-f", SENDER,
            "-t", "%s@%s" % (user, DOMAIN),
            "-T", "30"]
    t0 = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    last_n, last_t = base, t0
    while proc.poll() is None:           # count while the load runs, too
        n = count_files(newdir)
        if n != last_n:
            last_n, last_t = n, time.monotonic()
        time.sleep(POLL)
    out, err = proc.communicate()
    t_sent = time.monotonic()
    m = RESULT_RE.search(out)
    if not m:
        return {"error": "smtp-load: " + (err.strip().splitlines() or ["no result"])[-1]}
    res = dict(kv.split("=", 1) for kv in m.group(1).split())
    ok = int(res["ok"])
    want = base + ok
    while last_n < want and time.monotonic() - last_t < STALL:
        n = count_files(newdir)
        if n != last_n:
            last_n, last_t = n, time.monotonic()
        else:
            time.sleep(POLL)
    delivered = last_n - base
    secs = last_t - t0
    return {"ok": ok, "total": int(res["total"]), "accept_rate": float(res["rate"]),
            "delivered": delivered, "secs": secs,
            "rate": delivered / secs if secs > 0 else 0.0,
            "lag": max(0.0, last_t - t_sent) if delivered == ok else None,
            "error": None if delivered == ok else
            "%d of %d accepted messages delivered (none for %ds)" % (delivered, ok, STALL)}


def queued_files(dirs):
    """Regular files anywhere under dirs: a server's queue, empty when idle."""
    n = 0
    for top in dirs:
        for _, _, files in os.walk(top):
            n += len(files)
    return n


def drain(name, queue_dirs, timeout=600):
    """Wait until the server's queue is empty, so that a shape does not
    compete with mail left over from an earlier run (the SMTP half leaves
    thousands of messages queued)."""
    t0 = time.monotonic()
    n = queued_files(queue_dirs)
    if n == 0:
        return
    print("   waiting for %d queued file(s) of %s to be delivered" % (n, name),
          flush=True)
    while n and time.monotonic() - t0 < timeout:
        time.sleep(0.2)
        n = queued_files(queue_dirs)
    print("   %s after %.1f s" % ("empty" if n == 0 else "%d still queued" % n,
                                 time.monotonic() - t0), flush=True)


def run_all(name, tool, addr, port, newdir_of, queue_dirs):
    """Every shape against one server; newdir_of(user) is its new/ path,
    queue_dirs the directories that hold its queued mail."""
    results = []
    for senders, msgs in SHAPES:
        print("== e2e %s: %d sender%s x %d messages" % (
            name, senders, "" if senders == 1 else "s", msgs), flush=True)
        drain(name, queue_dirs)
        user = user_for(senders)
        r = run_shape(tool, addr, port, user, newdir_of(user), senders, msgs)
        if r.get("error"):
            print("   " + r["error"])
        results.append(r)
        if r.get("ok") and r.get("delivered") == 0:
            print("   nothing was delivered: is the local delivery agent "
                  "running? the other shapes are skipped")
            results += [{"error": "skipped"}] * (len(SHAPES) - len(results))
            break
    return results


def print_table(ours, theirs, postfix_note):
    head = "%-10s %8s %13s %11s %9s %10s %13s %7s" % (
        "senders", "msgs", "postern msg/s", "accepted/s", "lag s", "delivered",
        "postfix msg/s", "ratio")
    print(head)
    print("-" * len(head))
    for i, (senders, msgs) in enumerate(SHAPES):
        o = ours[i] if ours else {}
        t = theirs[i] if theirs else {}
        ratio = "-"
        if o.get("rate") and t.get("rate"):
            ratio = "%.2f" % (o["rate"] / t["rate"])
        print("%-10s %8d %13s %11s %9s %10s %13s %7s" % (
            senders, senders * msgs, _f(o, "rate", "%.1f"), _f(o, "accept_rate", "%.1f"),
            _f(o, "lag", "%.2f"),
            "%s/%s" % (o["delivered"], o["ok"]) if "delivered" in o else "-",
            _f(t, "rate", "%.1f") if theirs else postfix_note, ratio))
    print("msg/s = delivered messages / seconds from the first connect to the "
          "last file in new/ (fsync on); accepted/s = smtp-load's 250 rate; "
          "lag = last file after the last 250; ratio = postern / Postfix")


def _f(d, key, spec):
    v = d.get(key)
    return spec % v if isinstance(v, (int, float)) else "-"


def benchmark(tool, inst, newdir_of):
    """Ours (inst is running, users exist), then Postfix if possible."""
    print()
    print("End to end: SMTP connect -> Maildir new/, %s bodies" % SIZE)
    ours = run_all("postern", tool, inst.addr, inst.ports["smtp"], newdir_of,
                   [os.path.join(inst.spool, "env")])
    theirs, note = None, bench_postfix.available()
    if note is None:
        theirs, note = run_postfix(tool)
    print()
    print_table(ours, theirs, note or "skipped")
    if theirs is None:
        print("Postfix: %s; skipped" % note)
    return ours, theirs


def run_postfix(tool):
    """The same shapes against a private Postfix; (results or None, note)."""
    import conftest     # the harness's loopback address reservation
    addr, lock = conftest.allocate_address()
    pf = bench_postfix.PostfixInstance(addr, conftest.PORTS["smtp"], DOMAIN, users())
    try:
        pf.setup()
        pf.start()
        print("Postfix %s on %s:%d, master pid %d, in %s" % (
            pf.version, addr, pf.port, pf.master_pid, pf.dir), flush=True)
        res = run_all("postfix", tool, addr, pf.port, pf.maildir_new,
                      pf.queue_dirs())
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
