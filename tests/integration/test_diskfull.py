"""Disk full in the mail store: paths.mail is a 2 MB tmpfs (mounted over
the installed PREFIX/var/mail with its owner and mode).  A 3 MB message is
deferred with a 4.x.x status -- not bounced, nothing half-written left in
tmp/ or new/, the space given back -- and a small message still gets
through meanwhile.  After the file system grows and `postern flush`, the big
message is delivered, byte for byte."""
import os
import subprocess

import pytest

from conftest import needs_root, wait_for
from delivery_helpers import (boot_delivery, has_local, maildir, maildir_files, message,
                              read, send, split_trace, wait_files, wait_queue_empty,
                              wait_rcpt_state)
from smtp_helpers import USER, spool_ids

pytestmark = [needs_root,
              pytest.mark.skipif(not has_local(), reason="local delivery agent not built")]


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@pytest.fixture
def small_mail(inst):
    """inst with a 2 MB tmpfs as paths.mail; unmounted in teardown."""
    st = os.stat(inst.mail)
    opts = "size=2m,mode=%o,uid=%d,gid=%d" % (st.st_mode & 0o7777, st.st_uid, st.st_gid)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "postern-test-mail", inst.mail],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs: " + r.stderr.strip())
    try:
        mst = os.stat(inst.mail)
        assert (mst.st_uid, mst.st_gid, mst.st_mode) == (st.st_uid, st.st_gid, st.st_mode)
        yield inst
    finally:
        inst.stop()
        r = subprocess.run(["umount", inst.mail], capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", inst.mail], capture_output=True, text=True)


def test_disk_full_defers_then_delivers(small_mail):
    inst = small_mail
    boot_delivery(inst)
    free_before = free_bytes(inst.mail)
    big = message("big", ("d" * 998 + "\r\n") * 3000)      # ~3 MB > 2 MB
    qid = send(inst, "someone@example.org", [USER], big)
    rc = wait_rcpt_state(inst, qid, USER, "deferred", timeout=60)
    status = rc.get("status", "")
    assert status.startswith("4."), "disk full must be temporary: %r" % status
    print("disk full deferral status:", status)
    # not bounced: no report queued (it would be a second message) or failed
    assert spool_ids(inst) == [qid], spool_ids(inst)
    box = maildir(inst, USER)
    assert maildir_files(box) == [], "half-written message in new/"
    assert wait_for(lambda: maildir_files(box, "tmp") == [], 10), \
        "partial file left in tmp/: %s" % maildir_files(box, "tmp")
    # the space is given back (no partial file still open or linked)
    assert wait_for(lambda: free_bytes(inst.mail) >= free_before - 64 * 1024, 10), \
        (free_before, free_bytes(inst.mail))

    # a small message fits and is delivered meanwhile
    small = message("small", "still room for this\r\n")
    send(inst, "someone@example.org", [USER], small)
    files = wait_files(inst, USER, 1)
    assert split_trace(read(files[0]))[1] == small
    assert wait_for(lambda: spool_ids(inst) == [qid], 30), spool_ids(inst)

    r = subprocess.run(["mount", "-o", "remount,size=16m", inst.mail],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = inst.postern("flush")
    assert r.returncode == 0, (r.stdout, r.stderr)
    files = wait_files(inst, USER, 2, timeout=60)
    wait_queue_empty(inst)
    bodies = [split_trace(read(f))[1] for f in maildir_files(box)]
    assert len(bodies) == 2 and big in bodies and small in bodies, [len(b) for b in bodies]
    assert maildir_files(box, "tmp") == []
