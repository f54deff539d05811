"""Bounces (RFC 3464 delivery status notifications) end to end: a
permanent failure behind an alias comes back to the sender as a
multipart/report parsed with Python's email package and checked field by
field; RET=HDRS; NOTIFY=NEVER and NOTIFY=SUCCESS; a double bounce neither
loops nor stays in the queue; a recipient that keeps deferring fails with
5.4.7 after queue.lifetime."""
import email.utils
import os
import re
import time

import pytest

from conftest import needs_root
from delivery_helpers import (DSN, address_of, boot_delivery, delivery_instance,
                              has_local, maildir, maildir_files, message, read, send,
                              split_trace, trace_values, wait_files, wait_log,
                              wait_queue_empty)
from smtp_helpers import DOMAIN, USER, spool_ids

pytestmark = [needs_root,
              pytest.mark.skipif(not has_local(), reason="local delivery agent not built")]

USERS = ("s1", "s2", "s3", "ok4", "s6", "s8", "s9")
ALIASES = {
    # a valid alias (smtpd accepts it) whose target is no mailbox
    "ghostly": ["nobody"],
    # re-injected as one message with two recipients that both fail
    "pair": ["nobody1", "nobody2"],
    # virtual aliases may never name programs or files (postern.conf(5))
    "prog": ["|/usr/bin/touch", "/tmp/postern-alias-pwned-prog"],
    "tofile": ["/tmp/postern-alias-pwned-file"],
    "incl": [":include:/tmp/postern-alias-pwned-incl"],
}


@pytest.fixture(scope="module")
def srv():
    yield from delivery_instance(users=USERS, aliases=ALIASES)


def addr(local):
    return "%s@%s" % (local, DOMAIN)


def check_report_headers(dsn, to):
    """The report's own header and envelope: null sender, from
    MAILER-DAEMON, to the original sender, auto-submitted."""
    m = dsn.msg
    assert trace_values(dsn.trace, "Return-Path") == ["<>"], dsn.trace
    assert trace_values(dsn.trace, "Delivered-To")[:1] == [to], dsn.trace
    assert "mailer-daemon@" in str(m["From"]).lower(), m["From"]
    assert to in str(m["To"]).lower(), m["To"]
    assert m["Subject"], "no Subject"
    assert m["Message-ID"], "no Message-ID"
    assert email.utils.parsedate_to_datetime(str(m["Date"])), m["Date"]
    assert str(m["Auto-Submitted"]).lower().startswith("auto-replied"), m["Auto-Submitted"]
    assert str(m["MIME-Version"]).strip() == "1.0", m["MIME-Version"]
    for line in dsn.raw.split(b"\r\n"):
        assert len(line) <= 998, "line over 998 octets in the report"
    assert b"\n" not in dsn.raw.replace(b"\r\n", b""), "bare LF in the report"


def check_per_message(dsn, envid=None):
    pm = dsn.per_message
    assert pm.get("reporting-mta", "").lower() == "dns; mail.example.test", pm
    arrival = email.utils.parsedate_to_datetime(pm["arrival-date"])
    assert abs(arrival.timestamp() - time.time()) < 600, pm["arrival-date"]
    if envid is not None:
        assert pm.get("original-envelope-id") == envid, pm


def test_unknown_alias_target_bounce(srv):
    """ghostly -> nobody (no such mailbox): the sender gets a failure report
    with the full original (RET=FULL), ENVID and ORCPT carried through."""
    sender = addr("s1")
    marker = "BODY-MARKER-%d" % time.time_ns()
    sent = message("to a ghost", "this cannot be delivered\r\n%s\r\n" % marker,
                   headers=[("X-Test", "bounce-full")])
    qid = send(srv, sender, [addr("ghostly")], sent,
               mail_options=["RET=FULL", "ENVID=test-envid-1"],
               rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;x@example.test"])
    files = wait_files(srv, sender, 1)
    wait_queue_empty(srv)
    assert len(maildir_files(maildir(srv, sender))) == 1, "more than one report"
    dsn = DSN(read(files[0]))
    check_report_headers(dsn, sender)
    check_per_message(dsn, envid="test-envid-1")
    assert len(dsn.recipients) == 1, dsn.recipients
    r = dsn.recipients[0]
    # the failing recipient is the alias target (the re-injected copy keeps
    # the original recipient's ORCPT, docs/queue.md "deliver.sock")
    assert address_of(r["final-recipient"]) == addr("nobody"), r
    assert r["final-recipient"].lower().startswith("rfc822;"), r
    assert address_of(r.get("original-recipient", "")) == "x@example.test", r
    assert r["action"].lower() == "failed", r
    assert re.fullmatch(r"5\.\d{1,3}\.\d{1,3}", r["status"]), r
    # "smtp; REPLY" for a remote answer, an X- type for a local one (RFC 3464 2.3.6)
    assert re.fullmatch(r"(?i)(smtp|x-[a-z0-9-]+); *\S.*", r["diagnostic-code"]), r
    assert "nobody" in dsn.text or "ghostly" in dsn.text, dsn.text
    # the full original
    assert dsn.original.get_content_type() == "message/rfc822", dsn.original
    assert marker.encode() in dsn.raw
    orig = dsn.original_bytes()
    assert b"X-Test: bounce-full" in orig and marker.encode() in orig, orig[:500]
    print("bounce for %s: %s / %s / %s" % (qid, r["final-recipient"], r["status"],
                                           r["diagnostic-code"]))
    # the original's failure is logged in the admins' form
    wait_log(srv, r"to=<nobody@example\.test>, orig_to=<x@example\.test>, relay=local, "
             r"delay=[0-9.]+, dsn=5\.\d+\.\d+, status=bounced \(")


def test_bounce_ret_hdrs(srv):
    sender = addr("s2")
    marker = "SECRET-BODY-%d" % time.time_ns()
    sent = message("headers only", "%s\r\n" % marker, headers=[("X-Test", "bounce-hdrs")])
    send(srv, sender, [addr("ghostly")], sent, mail_options=["RET=HDRS"])
    files = wait_files(srv, sender, 1)
    dsn = DSN(read(files[0]))
    check_report_headers(dsn, sender)
    check_per_message(dsn)
    r = dsn.recipients[0]
    assert r["action"].lower() == "failed" and r["status"].startswith("5."), r
    # no ORCPT given: the re-injection for the alias sets rfc822;ORIGINAL
    # (docs/queue.md "deliver.sock"), so the report names the alias
    assert address_of(r.get("original-recipient", "")) == addr("ghostly"), r
    assert address_of(r["final-recipient"]) == addr("nobody"), r
    assert dsn.original.get_content_type() == "text/rfc822-headers", dsn.original
    assert b"X-Test: bounce-hdrs" in dsn.original_bytes()
    assert marker.encode() not in dsn.raw, "RET=HDRS returned the body"


def test_notify_never_no_bounce(srv):
    sender = addr("s3")
    sent = message("never", "no report wanted\r\n")
    send(srv, sender, [addr("ghostly")], sent, rcpt_options=["NOTIFY=NEVER"])
    # a report is committed before the failure is recorded (docs/queue.md),
    # so once the queue is empty any report would already be queued/delivered
    wait_log(srv, r"to=<nobody@example\.test>.*dsn=5\.\d+\.\d+")
    wait_queue_empty(srv)
    assert maildir_files(maildir(srv, sender)) == []


def test_notify_success_delivered_report(srv):
    """Submission with STARTTLS + AUTH (alice): NOTIFY=SUCCESS gives a
    "delivered" report after the local delivery."""
    sender = USER
    sent = message("success", "tell me when it arrives\r\n",
                   headers=[("X-Test", "notify-success")])
    send(srv, sender, [addr("ok4")], sent, listener="submission", login=True,
         mail_options=["RET=HDRS", "ENVID=success-1"],
         rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;ok4@example.test"])
    got = wait_files(srv, "ok4", 1)
    trace, rest = split_trace(read(got[0]))
    # submission adds Date: and Message-ID: to the header; the rest is as sent
    assert b"X-Test: notify-success\r\n" in rest and b"\r\nMessage-ID: <" in rest, rest
    assert rest.endswith(b"\r\n\r\ntell me when it arrives\r\n"), rest
    files = wait_files(srv, sender, 1)
    wait_queue_empty(srv)
    assert len(maildir_files(maildir(srv, sender))) == 1
    dsn = DSN(read(files[0]))
    check_report_headers(dsn, sender)
    check_per_message(dsn, envid="success-1")
    r = dsn.recipient(addr("ok4"))
    assert r["action"].lower() == "delivered", r
    assert re.fullmatch(r"2\.\d{1,3}\.\d{1,3}", r["status"]), r
    assert address_of(r.get("original-recipient", "")) == "ok4@example.test", r
    assert dsn.original.get_content_type() == "text/rfc822-headers"


def test_notify_success_only_no_failure_report(srv):
    """NOTIFY=SUCCESS without FAILURE: a failure produces no report."""
    sender = addr("s6")
    send(srv, sender, [addr("ghostly")], message("s only", "x\r\n"),
         rcpt_options=["NOTIFY=SUCCESS"])
    wait_log(srv, r"orig_to=<ghostly@example\.test>.*dsn=5|to=<nobody@example\.test>.*dsn=5")
    wait_queue_empty(srv)
    assert maildir_files(maildir(srv, sender)) == []


def test_one_report_per_message(srv):
    """Two recipients of one message fail in the same delivery pass: the
    sender gets one report with both (issue 4: one DSN per message per
    batch; no bounce storms)."""
    sender = addr("s8")
    send(srv, sender, [addr("pair")], message("pair", "two failures\r\n"))
    wait_files(srv, sender, 1)
    wait_queue_empty(srv)
    files = maildir_files(maildir(srv, sender))
    finals = [sorted(address_of(r["final-recipient"]) for r in DSN(read(f)).recipients)
              for f in files]
    assert len(files) == 1, "%d reports for one message: %s" % (len(files), finals)
    assert finals == [[addr("nobody1"), addr("nobody2")]], finals


def test_alias_program_and_file_targets_refused(srv):
    """prog -> "|/usr/bin/touch /tmp/...", tofile -> /tmp/..., incl ->
    :include:...: nothing runs, nothing is written; each fails with 5.3.5
    and the sender gets the reports."""
    sender = addr("s9")
    for p in ("/tmp/postern-alias-pwned-prog", "/tmp/postern-alias-pwned-file"):
        if os.path.exists(p):
            os.unlink(p)
    for a in ("prog", "tofile", "incl"):
        send(srv, sender, [addr(a)], message("hostile " + a, "x\r\n"))
    wait_files(srv, sender, 3)
    wait_queue_empty(srv)
    assert not os.path.exists("/tmp/postern-alias-pwned-prog")
    assert not os.path.exists("/tmp/postern-alias-pwned-file")
    got = {}
    for f in maildir_files(maildir(srv, sender)):
        for r in DSN(read(f)).recipients:
            got[address_of(r["final-recipient"])] = (r["action"], r["status"])
    # local(8): files, programs and includes are refused with 5.3.5
    assert got == {addr(a): ("failed", "5.3.5") for a in ("prog", "tofile", "incl")}, got


def double_bounce_setup(inst):
    """ghost@example.test has no mailbox; it sends to ghostly (-> nobody):
    the bounce to ghost fails too."""
    sent = message("double", "nobody will ever read this\r\n")
    return send(inst, "ghost@example.test", [addr("ghostly")], sent)


def test_double_bounce_dropped(srv):
    """No postmaster mailbox: the double bounce is dropped and logged, and
    the queue ends empty (no loop)."""
    before = srv.log()
    double_bounce_setup(srv)
    wait_queue_empty(srv, timeout=60)
    wait_log(srv, r"double bounce to <postmaster@example\.test> failed; dropped")
    new = srv.log()[len(before):]
    # each failure was tried a bounded number of times, not in a loop
    assert len(re.findall(r"to=<ghost@example\.test>", new)) <= 3, new
    assert len(re.findall(r"to=<postmaster@example\.test>", new)) <= 3, new


def test_double_bounce_to_postmaster(inst):
    """queue.postmaster names a mailbox: it gets the double bounce, which
    reports on the failed bounce (sent to ghost@)."""
    boot_delivery(inst, users=["pm"], aliases=ALIASES,
                  queue__postmaster="pm@example.test")
    double_bounce_setup(inst)
    files = wait_files(inst, "pm", 1)
    wait_queue_empty(inst)
    assert len(maildir_files(maildir(inst, "pm"))) == 1
    dsn = DSN(read(files[0]))
    check_report_headers(dsn, "pm@example.test")
    r = dsn.recipient("ghost@example.test")
    assert r["action"].lower() == "failed" and r["status"].startswith("5."), r


def test_lifetime_expiry(inst):
    """A recipient that keeps deferring (over quota) fails with 5.4.7 once
    queue.lifetime has passed, and the sender gets the report."""
    boot_delivery(inst, users=["full", "s5"], quotas={"full@example.test": "1K"},
                  queue__lifetime="3s", queue__retry_min="1s", queue__retry_max="1s")
    sender = addr("s5")
    sent = message("too big for full", "z" * 60 + "\r\n" * 1 + ("y" * 70 + "\r\n") * 60)
    qid = send(inst, sender, [addr("full")], sent)
    wait_log(inst, r"%s: to=<full@example\.test>.*dsn=4\.2\.2, status=deferred" % qid)
    files = wait_files(inst, sender, 1, timeout=60)
    wait_queue_empty(inst)
    assert maildir_files(maildir(inst, "full")) == []
    dsn = DSN(read(files[0]))
    check_report_headers(dsn, sender)
    r = dsn.recipient(addr("full"))
    assert r["action"].lower() == "failed", r
    assert r["status"] == "5.4.7", r
    # the last error is kept in the diagnostic
    assert "4.2.2" in r["diagnostic-code"] or "quota" in r["diagnostic-code"].lower() \
        or "full" in r["diagnostic-code"].lower(), r
    wait_log(inst, r"%s: to=<full@example\.test>, .*dsn=5\.4\.7, status=expired" % qid)


def test_delay_warning(inst):
    """queue.warn_after: a recipient still deferred after it gets one
    "delayed" report (NOTIFY absent means DELAY too), and the message stays
    queued."""
    boot_delivery(inst, users=["full", "s7"], quotas={"full@example.test": "1K"},
                  queue__warn_after="1s", queue__retry_min="1s", queue__retry_max="2s")
    sender = addr("s7")
    sent = message("slow", ("w" * 70 + "\r\n") * 60)
    qid = send(inst, sender, [addr("full")], sent, mail_options=["ENVID=warn-1"])
    files = wait_files(inst, sender, 1, timeout=60)
    dsn = DSN(read(files[0]))
    check_report_headers(dsn, sender)
    check_per_message(dsn, envid="warn-1")
    r = dsn.recipient(addr("full"))
    assert r["action"].lower() == "delayed", r
    assert r["status"] == "4.2.2", r
    # queue_bounce.h: Will-Retry-Until = arrival + queue.lifetime (5d here)
    assert "will-retry-until" in r, "no Will-Retry-Until in the delay warning: %s" % r
    until = email.utils.parsedate_to_datetime(r["will-retry-until"]).timestamp()
    arrival = email.utils.parsedate_to_datetime(dsn.per_message["arrival-date"]).timestamp()
    assert abs(until - (arrival + 5 * 86400)) <= 2, (r, dsn.per_message)
    assert qid in spool_ids(inst)
    wait_log(inst, r"%s: delay notification to <s7@example\.test>: " % qid)
    # once per message: later retries send no second warning
    wait_log(inst, r"%s: to=<full@example\.test>, .*delay=[3-9]\.\d, dsn=4\.2\.2" % qid,
             timeout=30)
    assert len(maildir_files(maildir(inst, sender))) == 1
