"""Quota from the users map: a message that does not fit is deferred with
4.2.2 (nothing stored, no bounce), visible in the log and in `postern
queue`; after `postern user quota ADDRESS SIZE` and `postern flush` it is
delivered, once.  The quota counts what the mailbox already holds."""
import re

import pytest

from conftest import needs_root, wait_for
from delivery_helpers import (boot_delivery, has_local, maildir, maildir_files, message,
                              read, send, split_trace, wait_files, wait_log,
                              wait_queue_empty, wait_rcpt_state)
from smtp_helpers import USER, spool_ids

pytestmark = [needs_root,
              pytest.mark.skipif(not has_local(), reason="local delivery agent not built")]

BOB = "bob@example.test"


def big_message(subject, kib):
    return message(subject, ("q" * 510 + "\r\n") * 2 * kib)


def test_over_quota_deferred_then_delivered(inst):
    boot_delivery(inst, users=["bob"], quotas={BOB: "1K"})
    r = inst.postern("user", "list")
    assert re.search(r"bob@example\.test quota=1024\b", r.stdout), r.stdout
    sent = big_message("over quota", 5)
    qid = send(inst, USER, [BOB], sent)
    rc = wait_rcpt_state(inst, qid, BOB, "deferred")
    assert rc.get("status", "").startswith("4.2.2"), rc
    wait_log(inst, r"%s: to=<bob@example\.test>, .*relay=local, .*dsn=4\.2\.2, "
             r"status=deferred \(" % qid)
    listing = inst.postern("queue")
    assert listing.returncode == 0, listing.stderr
    assert qid in listing.stdout and "deferred" in listing.stdout, listing.stdout
    assert "4.2.2" in listing.stdout, listing.stdout
    assert maildir_files(maildir(inst, BOB)) == []
    assert maildir_files(maildir(inst, BOB), "tmp") == []
    assert maildir_files(maildir(inst, USER)) == [], "bounced instead of deferred"
    assert spool_ids(inst) == [qid]

    r = inst.postern("user", "quota", BOB, "10M")
    assert r.returncode == 0, (r.stdout, r.stderr)
    r = inst.postern("user", "list")
    assert re.search(r"bob@example\.test quota=10485760\b", r.stdout), r.stdout
    r = inst.postern("flush")
    assert r.returncode == 0, (r.stdout, r.stderr)
    files = wait_files(inst, BOB, 1, timeout=30)
    wait_queue_empty(inst)
    assert len(maildir_files(maildir(inst, BOB))) == 1
    assert split_trace(read(files[0]))[1] == sent
    wait_log(inst, r"%s: to=<bob@example\.test>, .*status=sent \(delivered to maildir\)" % qid)
    assert maildir_files(maildir(inst, USER)) == []


def test_quota_counts_existing_mail(inst):
    """Quota 8K: a 5K message fits, the next 5K one does not."""
    boot_delivery(inst, users=["bob"], quotas={BOB: "8K"})
    first = big_message("first", 5)
    send(inst, USER, [BOB], first)
    wait_files(inst, BOB, 1)
    wait_queue_empty(inst)
    second = big_message("second", 5)
    qid = send(inst, USER, [BOB], second)
    rc = wait_rcpt_state(inst, qid, BOB, "deferred")
    assert rc.get("status", "").startswith("4.2.2"), rc
    files = maildir_files(maildir(inst, BOB))
    assert len(files) == 1 and split_trace(read(files[0]))[1] == first
    # a small message still fits beside the first
    small = message("small", "fits\r\n")
    send(inst, USER, [BOB], small)
    wait_files(inst, BOB, 2)
    assert wait_for(lambda: spool_ids(inst) == [qid], 30), spool_ids(inst)


def test_quota_command_errors(inst):
    inst.add_user(BOB, "pw-bob-1")
    assert inst.postern("user", "quota", BOB, "lots").returncode != 0
    assert inst.postern("user", "quota", "nobody@example.test", "1M").returncode != 0
    assert inst.postern("user", "quota", BOB).returncode != 0


def test_deferred_survives_restart(inst):
    """The deferred state is on disk: after a full stop and start the
    message is still queued (deferred, one attempt, the 4.2.2 text), and is
    delivered once the quota is raised."""
    boot_delivery(inst, users=["bob"], quotas={BOB: "1K"})
    sent = big_message("restart", 5)
    qid = send(inst, USER, [BOB], sent)
    rc = wait_rcpt_state(inst, qid, BOB, "deferred")
    inst.stop()
    inst.start()
    inst.wait_ready(service="queue")
    inst.wait_ready(service="local")
    wait_log(inst, r"ready: spool .*, 1 messages? queued")
    after = wait_rcpt_state(inst, qid, BOB, "deferred")
    assert after["attempts"] == rc["attempts"] == "1", (rc, after)
    assert after["status"].startswith("4.2.2"), after
    assert maildir_files(maildir(inst, BOB)) == []
    r = inst.postern("user", "quota", BOB, "0")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert inst.postern("flush").returncode == 0
    files = wait_files(inst, BOB, 1)
    wait_queue_empty(inst)
    assert split_trace(read(files[0]))[1] == sent
