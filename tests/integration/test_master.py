"""master: status, privilege separation of every process, restart of a
killed service, crash-loop detection, SIGHUP reload, graceful stop."""
import grp
import os
import pwd
import signal
import time

import pytest

from conftest import IS_ROOT, instance_pids, needs_root, proc_status, wait_for

# Services that must run chrooted (readlink /proc/PID/root != "/").
CHROOTED = set()
# The only processes that keep root (DESIGN.md): master and the local
# delivery spawner, which switches to each mailbox owner per delivery.
ROOT_SERVICES = {"master", "local"}


def expected_groups(user):
    pw = pwd.getpwnam(user)
    return {pw.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}


def test_status_lists_master_and_auth(running):
    st = running.status()
    assert "master" in st and "auth" in st, st
    assert st["master"]["state"] == "running" and st["auth"]["state"] == "running"
    assert st["master"]["pid"] == running.proc.pid or st["master"]["pid"] > 0


@needs_root
def settled(inst):
    """inst's status list once every service has dropped its privileges
    ("starting" until then; slow under ASan)."""
    assert wait_for(lambda: all(p.get("state") == "running" for p in inst.status_list()),
                    30), inst.status_list()
    return inst.status_list()


def test_distinct_uids_none_but_master_root(running):
    procs = settled(running)
    by_name = {}
    for p in procs:
        if p["name"] in ROOT_SERVICES:
            assert p["uid"] == 0 and p["user"] == "root", p
            continue
        assert p["uid"] != 0, p
        assert p["user"] == running.aprefix + p["name"], p
        by_name.setdefault(p["name"], set()).add(p["uid"])
    uids = [u for s in by_name.values() for u in s]
    assert len(uids) == len(set(uids)), by_name


@needs_root
def test_process_privileges_from_proc(running):
    for p in settled(running):
        st = proc_status(p["pid"])
        assert st is not None, p
        if p["name"] in ROOT_SERVICES:
            assert st["Uid"].split()[0] == "0"
            continue
        user = running.aprefix + p["name"]
        pw = pwd.getpwnam(user)
        assert st["Uid"].split() == [str(pw.pw_uid)] * 4, (p, st["Uid"])
        assert st["Gid"].split() == [str(pw.pw_gid)] * 4, (p, st["Gid"])
        groups = {int(g) for g in st["Groups"].split()}
        assert groups == expected_groups(user), (p, st["Groups"])
        assert int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0, p
        root = os.readlink("/proc/%d/root" % p["pid"])
        if p["name"] in CHROOTED:
            assert root != "/", p


def test_killed_auth_restarts_within_2s(running):
    old = running.pid("auth")
    t0 = time.monotonic()
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: (running.running("auth") and running.pid("auth") != old
                            and running.pid("auth")), 5, interval=0.02)
    elapsed = time.monotonic() - t0
    assert new, running.log()
    assert elapsed < 2.0, elapsed
    assert wait_for(lambda: "auth: pid %d" % old in running.log(), 2), running.log()
    assert "auth: started, pid %d" % new in running.log()
    assert running.status()["auth"]["restarts"] >= 1


def test_crash_loop_is_marked_failed(inst):
    # A service program that exits at once: master must give up after 5.
    auth = os.path.join(inst.libexec, "auth")
    os.unlink(auth)
    with open(auth, "w") as f:
        f.write("#!/bin/sh\necho 'fake auth exits' >&2\nexit 1\n")
    os.chmod(auth, 0o755)
    inst.start(wait=False)
    failed = wait_for(lambda: inst.status().get("auth", {}).get("state") == "failed",
                      30, interval=0.1)
    assert failed, inst.log()
    assert inst.log().count("fake auth exits") == 5, inst.log()
    restarts = inst.status()["auth"]["restarts"]
    time.sleep(1.5)    # proving an absence: nothing may start meanwhile
    st = inst.status()
    assert st["auth"]["state"] == "failed" and st["auth"]["restarts"] == restarts
    assert inst.log().count("fake auth exits") == 5
    assert "not restarting" in inst.log()
    assert st["master"]["state"] == "running"


def test_reload_keeps_master_and_rejects_bad_config(running):
    master = running.pid("master")
    r = running.postern("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    assert wait_for(lambda: "reloaded" in running.log(), 5), running.log()
    os.kill(master, signal.SIGHUP)
    assert wait_for(lambda: running.log().count("reloaded") >= 2, 5), running.log()
    assert running.pid("master") == master and running.running("auth")
    n = running.write_config(["no.such_key = 1"])
    where = "%s:%d:" % (running.conf, n)
    r = running.postern("reload")
    if r.returncode == 0:       # else it refused up front, naming the line
        assert wait_for(lambda: where in running.log(), 5), running.log()
    else:
        assert where in r.stdout + r.stderr
    os.kill(master, signal.SIGHUP)   # master itself must keep the old config
    assert wait_for(lambda: "keeping the running configuration" in running.log(), 5), running.log()
    assert where in running.log()
    assert proc_status(master) is not None
    running.write_config()      # postern status needs a readable config
    assert running.pid("master") == master and running.running("auth")


def test_reload_with_changed_setting_restarts_auth(running):
    old = running.pid("auth")
    running.configure(auth__fail_delay="2s")
    assert running.postern("reload").returncode == 0
    assert wait_for(lambda: running.running("auth") and running.pid("auth") != old, 10), running.log()


def test_second_start_refused(running):
    r = running.postern("start", "-f", timeout=20)
    assert r.returncode != 0
    assert running.running("auth")


def test_graceful_stop_leaves_nothing(running):
    pids = list(running.pids().values())
    assert pids
    r = running.postern("stop")
    assert r.returncode == 0, r.stdout + r.stderr
    running.proc.wait(20)
    assert running.proc.returncode == 0, running.log()
    assert wait_for(lambda: all(proc_status(p) is None for p in pids), 5)
    assert not instance_pids(running.conf, running.aprefix if IS_ROOT else None)
    r = running.postern("status")
    assert r.returncode == 1 and r.stdout + r.stderr


def test_status_without_master_fails(inst):
    r = inst.postern("status")
    assert r.returncode == 1
    assert (r.stdout + r.stderr).strip()
