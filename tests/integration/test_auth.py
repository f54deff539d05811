"""auth service and `postern user`: good password accepted; wrong password
and unknown user refused with the same answer after the same delay; no
passwords on the command line; the hashes readable only by auth; handoff
tokens redeemed once, by root only."""
import ast
import os
import pwd
import grp
import stat
import time

import pytest

import ipc_client as ic
from conftest import IS_ROOT, needs_root, proc_status, wait_for

ADDR = "demo@example.test"
PASSWORD = "correct horse battery staple"
REFUSAL = "postern: passwords are never taken from the command line; give it on standard input"


def sock(inst):
    return os.path.join(inst.runtime, "auth.sock")


def verify(inst, user, password, **kw):
    return ic.auth_verify(sock(inst), user, password, **kw)


def timed_verify(inst, user, password):
    t0 = time.monotonic()
    answer = verify(inst, user, password)
    return answer, time.monotonic() - t0


def test_good_password_accepted(running):
    running.add_user(ADDR, PASSWORD)
    assert verify(running, ADDR, PASSWORD) == (ic.IPC_OK, {"user": ADDR.encode()})
    # logins are case-insensitive; the answer carries the normalized address
    assert verify(running, "Demo@Example.TEST", PASSWORD) == (ic.IPC_OK, {"user": ADDR.encode()})
    assert wait_for(lambda: "ok user=%s service=test" % ADDR in running.log(), 5)
    assert PASSWORD not in running.log()


def test_wrong_password_and_unknown_user_look_the_same(running):
    running.add_user(ADDR, PASSWORD)
    delay = 1.0     # auth.fail_delay set by the harness
    wrong = [timed_verify(running, ADDR, "not the password") for _ in range(3)]
    unknown = [timed_verify(running, "nobody@example.test", PASSWORD) for _ in range(3)]
    answers = {repr(a) for a, _ in wrong + unknown}
    assert answers == {repr((ic.IPC_AUTH_FAIL, {"error": b"authentication failed"}))}, answers
    for _, t in wrong + unknown:
        assert t >= delay, (wrong, unknown)
    mean_wrong = sum(t for _, t in wrong) / len(wrong)
    mean_unknown = sum(t for _, t in unknown) / len(unknown)
    assert abs(mean_wrong - mean_unknown) < 0.25, (wrong, unknown)
    # a malformed address and an empty password get the same answer too
    for user, pw in (("not an address", PASSWORD), (ADDR, "")):
        answer, t = timed_verify(running, user, pw)
        assert answer == (ic.IPC_AUTH_FAIL, {"error": b"authentication failed"})
        assert t >= delay
    log = running.log()
    assert "failed user=%s" % ADDR in log and "failed user=nobody@example.test" in log
    assert "not the password" not in log and PASSWORD not in log


def test_delay_does_not_block_other_clients(running):
    running.add_user(ADDR, PASSWORD)
    with ic.Client(sock(running)) as slow:
        slow.send(ic.IPC_AUTH_VERIFY, [("user", ADDR), ("pass", "wrong")])
        answer, t = timed_verify(running, ADDR, PASSWORD)
        assert answer[0] == ic.IPC_OK and t < 0.8, t
        assert slow.recv()[0] == ic.IPC_AUTH_FAIL


def test_bad_records_close_the_connection(running):
    cases = [
        ic.encode(ic.IPC_AUTH_VERIFY, [("user", ADDR), ("pass", "x"), ("evil", "1")]),
        ic.encode(ic.IPC_AUTH_VERIFY, [("user", ADDR)]),
        ic.encode(ic.IPC_AUTH_VERIFY, [("user", ADDR), ("pass", "x"), ("pass", "y")]),
        ic.encode(ic.IPC_AUTH_VERIFY, [("user", ADDR), ("pass", "x"), ("client", "a b")]),
        ic.encode(ic.IPC_STATUS),
        b"\x00\x01\x00\x03\x00\x00\x00\x09short",
    ]
    for pkt in cases:
        with ic.Client(sock(running), timeout=10) as c:
            c.send_raw(pkt)
            assert c.recv() is None, pkt
    # still serving
    answer = verify(running, "nobody@example.test", "x")
    assert answer[0] == ic.IPC_AUTH_FAIL
    assert running.running("auth")


def test_password_on_command_line_refused(inst):
    for args in (("add", ADDR, PASSWORD), ("passwd", ADDR, PASSWORD), ("add", ADDR, "--", "x")):
        r = inst.postern("user", *args, input=PASSWORD + "\n")
        assert r.returncode != 0, args
        assert REFUSAL in r.stderr, r.stderr
    users = os.path.join(inst.etc, "users")
    if os.path.exists(users):
        with open(users) as f:
            assert ADDR not in f.read()


def test_user_command_checks(inst):
    assert inst.postern("user", "add", ADDR, input="\n").returncode != 0        # empty
    r = inst.postern("user", "add", "demo@other.test", input="pw\n")
    assert r.returncode != 0 and "domain" in r.stderr
    r = inst.postern("user", "add", "de mo@example.test", input="pw\n")
    assert r.returncode != 0
    inst.add_user("Demo@Example.Test", PASSWORD)
    r = inst.postern("user", "add", ADDR, input="pw\n")
    assert r.returncode != 0 and "exists" in r.stderr
    r = inst.postern("user", "list")
    assert r.returncode == 0 and r.stdout.split() == [ADDR], r.stdout
    r = inst.postern("user", "test", ADDR, input=PASSWORD + "\n")
    assert r.returncode == 0, r.stdout + r.stderr
    r = inst.postern("user", "test", ADDR, input="wrong\n")
    assert r.returncode == 1
    r = inst.postern("user", "passwd", ADDR, input="new password\n")
    assert r.returncode == 0, r.stderr
    assert inst.postern("user", "test", ADDR, input="new password\n").returncode == 0
    assert inst.postern("user", "del", ADDR).returncode == 0
    assert inst.postern("user", "test", ADDR, input="new password\n").returncode == 1
    assert inst.postern("user", "del", ADDR).returncode != 0


def test_map_change_picked_up_without_restart(running):
    pid = running.pid("auth")
    assert verify(running, ADDR, PASSWORD)[0] == ic.IPC_AUTH_FAIL
    running.add_user(ADDR, PASSWORD)
    assert verify(running, ADDR, PASSWORD)[0] == ic.IPC_OK
    r = running.postern("user", "passwd", ADDR, input="other\n")
    assert r.returncode == 0
    assert verify(running, ADDR, PASSWORD)[0] == ic.IPC_AUTH_FAIL
    assert verify(running, ADDR, "other")[0] == ic.IPC_OK
    assert running.pid("auth") == pid


def test_hashes_not_world_readable(inst):
    inst.add_user(ADDR, PASSWORD)
    users_cdb = os.path.join(inst.etc, "users.cdb")
    mailboxes = os.path.join(inst.etc, "mailboxes.cdb")
    for path in (users_cdb, os.path.join(inst.etc, "users")):
        st = os.stat(path)
        assert st.st_mode & stat.S_IRWXO == 0, (path, oct(st.st_mode))
        assert st.st_mode & (stat.S_IWGRP | stat.S_IXGRP) == 0, (path, oct(st.st_mode))
    if IS_ROOT:
        st = os.stat(users_cdb)
        assert st.st_uid == 0
        assert grp.getgrgid(st.st_gid).gr_name == inst.aprefix + "auth"
    with open(mailboxes, "rb") as f:
        data = f.read()
    assert ADDR.encode() in data and b"$y$" not in data


@needs_root
def test_auth_runs_unprivileged_in_the_maps_dir(running):
    pid = running.pid("auth")
    st = proc_status(pid)
    uid = pwd.getpwnam(running.aprefix + "auth").pw_uid
    assert st["Uid"].split() == [str(uid)] * 4
    assert os.readlink("/proc/%d/root" % pid) == os.path.realpath(running.etc)


IPC_AUTH_REDEEM = 22    # common/ipc.h


def redeem_as(inst, token, service, account=None):
    """IPC_AUTH_REDEEM on a fresh connection, as root or (account) in a
    child running as that account with its groups: (type, fields), or None
    when auth closed the connection."""
    if account is None:
        with ic.Client(sock(inst)) as c:
            return c.call(IPC_AUTH_REDEEM, [("token", token), ("service", service)])
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            pw = pwd.getpwnam(account)
            os.initgroups(account, pw.pw_gid)
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            with ic.Client(sock(inst)) as c:
                ans = c.call(IPC_AUTH_REDEEM, [("token", token), ("service", service)])
            os.write(w, repr(ans).encode())
        finally:
            os._exit(0)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return ast.literal_eval(out.decode()) if out else "child failed"


@needs_root
def test_handoff_token_redeemed_once_by_root_only(running):
    """A login with handoff gets a one-time token (docs/login.md); only root
    (the mail process before it drops) may redeem it, once, for the service
    it was issued for.  The login account, which may connect to auth.sock,
    is dropped for trying."""
    running.add_user(ADDR, PASSWORD)
    with ic.Client(sock(running)) as c:
        t, f = c.call(ic.IPC_AUTH_VERIFY, [("user", ADDR), ("pass", PASSWORD),
                                           ("service", "pop3"), ("client", "127.0.0.1"),
                                           ("handoff", "1")])
    assert t == ic.IPC_OK and f["user"] == ADDR.encode()
    token = f["token"].decode()
    assert len(token) == 64 and all(ch in "0123456789abcdef" for ch in token)
    login = running.aprefix + "login"
    assert redeem_as(running, token, "pop3", account=login) is None
    assert wait_for(lambda: "token redeem from uid %d refused" % pwd.getpwnam(login).pw_uid
                    in running.log(), 5)
    assert redeem_as(running, token, "imap")[0] == ic.IPC_AUTH_FAIL   # burns it
    with ic.Client(sock(running)) as c:
        t, f = c.call(ic.IPC_AUTH_VERIFY, [("user", ADDR), ("pass", PASSWORD),
                                           ("service", "pop3"), ("client", "127.0.0.1"),
                                           ("handoff", "1")])
    token = f["token"].decode()
    assert redeem_as(running, token, "pop3") == (ic.IPC_OK, {"user": ADDR.encode()})
    assert redeem_as(running, token, "pop3")[0] == ic.IPC_AUTH_FAIL     # once only
    assert redeem_as(running, "0" * 64, "pop3")[0] == ic.IPC_AUTH_FAIL
