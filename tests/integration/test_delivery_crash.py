"""Crash safety of delivery: 500 messages from several concurrent smtplib
senders while the queue service is killed with SIGKILL (twice).  After
master restarts it, every message that got 250 is in the Maildir, complete;
none is missing.  When only the queue dies there is no duplicate either: the
local agent keeps the results the queue has not acknowledged and its
deliveries still running, and announces them (IPC_DELIVER_ORPHAN) to the
restarted queue, which records them instead of delivering again.  When the
local agent dies, its deliveries in flight may be repeated (at-least-once):
counted, printed and bounded by the jobs in flight."""
import os
import re
import signal
import smtplib
import threading
import time

import pytest

from conftest import needs_root, wait_for
from delivery_helpers import (boot_delivery, has_local, maildir, queue_listing, read,
                              wait_log)
from smtp_helpers import USER, smtp, spool_ids

pytestmark = [needs_root,
              pytest.mark.skipif(not has_local(), reason="local delivery agent not built")]

TOTAL = 500
THREADS = 8
LOCAL_CONCURRENCY = 10
KILLS_AT = (120, 320)       # acknowledged messages before each kill
TAG_RE = re.compile(rb"\r\nX-Burst-Tag: (\d+\.\d+)\r\n")
END_RE = re.compile(rb"\r\nEND-OF-BURST (\d+\.\d+)\r\n\Z")


class Mailbox:
    """Reads the tags of the files in a Maildir's new/, once per file."""

    def __init__(self, path):
        self.new = os.path.join(path, "new")
        self.seen = {}          # file name -> tag
        self.broken = []

    def scan(self):
        try:
            names = os.listdir(self.new)
        except FileNotFoundError:
            return self.seen
        for n in names:
            if n.startswith(".") or n in self.seen:
                continue
            data = read(os.path.join(self.new, n))
            m, e = TAG_RE.search(data), END_RE.search(data)
            if not m or not e or m.group(1) != e.group(1):
                self.broken.append((n, data[-80:]))
                self.seen[n] = None
            else:
                self.seen[n] = m.group(1).decode()
        return self.seen

    def tags(self):
        out = {}
        for t in self.scan().values():
            if t is not None:
                out[t] = out.get(t, 0) + 1
        return out


def burst_message(tag):
    body = "".join("burst line %02d of message %s\r\n" % (i, tag) for i in range(20))
    return ("From: burst@example.org\r\nTo: %s\r\nSubject: burst %s\r\n"
            "Message-ID: <%s@burst.example.org>\r\nX-Burst-Tag: %s\r\n\r\n%s"
            "END-OF-BURST %s\r\n" % (USER, tag, tag, tag, body, tag)).encode()


class Burst:
    """total messages to alice from nthreads smtplib senders, each retrying a
    refused message (451 or a dropped connection) on a new connection."""

    def __init__(self, inst, total, nthreads):
        self.inst, self.total, self.nthreads = inst, total, nthreads
        self.acked, self.lock = {}, threading.Lock()      # tag -> queue id
        self.failures = []
        self.box = Mailbox(maildir(inst, USER))
        self.threads = [threading.Thread(target=self.worker, args=(k,), daemon=True)
                        for k in range(nthreads)]
        for t in self.threads:
            t.start()

    def worker(self, k):
        s = None
        for seq in range(k, self.total, self.nthreads):
            for attempt in range(100):
                # every attempt has its own tag: a message refused with 451
                # may still have been committed (the queue died between its
                # commit and its answer); that is not a duplicate delivery
                tag = "%d.%d" % (seq, attempt)
                try:
                    if s is None:
                        s = smtp(self.inst, timeout=60)
                        s.ehlo()
                    code, text = s.mail("burst@example.org")
                    if code == 250:
                        code, text = s.rcpt(USER)
                    if code == 250:
                        code, text = s.data(burst_message(tag))
                    if code == 250:
                        m = re.search(rb"queued as (\S+)", text)
                        with self.lock:
                            self.acked[tag] = m.group(1).decode() if m else "?"
                        break
                    self.failures.append((tag, code, text))
                except (smtplib.SMTPException, OSError) as e:
                    self.failures.append((tag, "exc", repr(e)))
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
                    s = None
                time.sleep(0.05 * min(attempt + 1, 10))     # the queue restarts
        if s is not None:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                pass

    def kill_at(self, goal, service):
        """Once goal messages are acknowledged and a quarter of that many
        delivered, SIGKILL the service and wait for master to restart it."""
        inst = self.inst
        assert wait_for(lambda: len(self.acked) >= goal, 180, interval=0.01), \
            "only %d acknowledged; failures: %s" % (len(self.acked), self.failures[-5:])
        # deliveries must be under way when it dies
        assert wait_for(lambda: len(self.box.scan()) >= goal // 4, 60, interval=0.01), \
            "no deliveries under way:\n" + inst.log()[-3000:]
        pid = inst.pid(service)
        assert pid
        in_maildir = len(self.box.scan())
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: inst.pid(service) not in (None, pid) and
                        inst.running(service), 30, interval=0.1), service + " not restarted"
        return (service, pid, goal, in_maildir)

    def finish(self, kills, max_dups):
        """Wait for the senders and the deliveries; check none is missing or
        broken and at most max_dups are duplicates."""
        inst = self.inst
        for t in self.threads:
            t.join(300)
        assert not any(t.is_alive() for t in self.threads), "senders hung"
        acked, box = self.acked, self.box
        # every message was accepted in the end (retried after a 451)
        assert len({t.split(".")[0] for t in acked}) == self.total, \
            "only %d of %d messages acknowledged; last failures: %s" % (
                len(acked), self.total, self.failures[-5:])

        def done():
            tags = box.tags()
            return all(t in tags for t in acked) and not spool_ids(inst)
        ok = wait_for(done, 240, interval=0.2)
        tags = box.tags()
        missing = sorted(t for t in acked if t not in tags)
        dups = {t: n for t, n in tags.items() if n > 1}
        ndup = sum(n - 1 for n in dups.values())
        extra = sorted(t for t in tags if t not in acked)
        tmp_left = os.listdir(os.path.join(maildir(inst, USER), "tmp"))
        print("crash burst: kills (service, pid, acked, in maildir) %s; acknowledged %d; "
              "delivered files %d (distinct %d); missing %d; duplicates %d %s; delivered "
              "but not acknowledged %d; refused attempts %d; tmp/ leftovers %d" % (
                  kills, len(acked), len(box.seen), len(tags), len(missing), ndup,
                  sorted(dups.items())[:10], len(extra), len(self.failures), len(tmp_left)))
        assert not box.broken, "incomplete message files: %s" % box.broken[:3]
        assert not missing, "acknowledged but never delivered (%d): %s\nqueue: %s\nlog:\n%s" % (
            len(missing), [(t, acked[t]) for t in missing[:10]], queue_listing(inst),
            inst.log()[-4000:])
        assert ok, "queue not empty: %s" % queue_listing(inst)
        assert ndup <= max_dups, (
            "%d duplicate deliveries after %d kills; at most %d allowed "
            "(local.concurrency=%d): %s\nlog:\n%s" % (
                ndup, len(kills), max_dups, LOCAL_CONCURRENCY, sorted(dups.items())[:20],
                inst.log()[-6000:]))
        wait_log(inst, r"killed by signal 9")
        return ndup


def test_kill_queue_during_delivery_burst(inst):
    """500 messages, 8 senders, the queue killed twice: no message lost and
    none delivered twice (the orphans are taken over by the new queue)."""
    boot_delivery(inst, local__concurrency=str(LOCAL_CONCURRENCY))
    b = Burst(inst, TOTAL, THREADS)
    kills = [b.kill_at(goal, "queue") for goal in KILLS_AT]
    b.finish(kills, max_dups=0)
    print("orphans taken over: %d, results ignored: %d" % (
        inst.log().count("of an earlier connection taken over"),
        inst.log().count("ignored (")))


def test_kill_local_agent_during_delivery_burst(inst):
    """150 messages, 4 senders, the local spawner killed once: the jobs it
    had in flight are deferred ("delivery agent went away") and delivered
    again after the retry; none is lost."""
    boot_delivery(inst, local__concurrency=str(LOCAL_CONCURRENCY),
                  queue__retry_min="1s", queue__retry_max="2s")
    b = Burst(inst, 150, 4)
    kills = [b.kill_at(60, "local")]
    b.finish(kills, max_dups=LOCAL_CONCURRENCY)
