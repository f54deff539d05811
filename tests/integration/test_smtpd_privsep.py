"""Privilege separation as /proc shows it during an open SMTP session: the
per-connection smtpd runs as PREFIXsmtpd with only its groups, chrooted in
the empty dir, without capabilities, with no_new_privs, and holds nothing
of the spool, the TLS key or the password hashes; queue and auth likewise
under their own accounts; master and the local-delivery spawner are the
instance's only root processes."""
import base64
import grp
import os
import pwd
import socket
import stat

import pytest

import smtp_helpers as sh
from conftest import instance_pids, needs_root, proc_status, wait_for

pytestmark = needs_root


def account(inst, role):
    return pwd.getpwnam(inst.aprefix + role)


def gid_of(inst, group):
    return grp.getgrnam(inst.aprefix + group).gr_gid


def server_socket_inode(inst, client, listener):
    """The inode of the server's end of our TCP connection (/proc/net/tcp)."""
    def hexaddr(host, port):
        packed = socket.inet_aton(host)
        return "%08X:%04X" % (int.from_bytes(packed, "little"), port)
    caddr = client.getsockname()
    local = hexaddr(*sh.addr_of(inst, listener))
    remote = hexaddr(caddr[0], caddr[1])
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return int(fields[9])
    return None


def session_pid(inst, client, listener):
    """The smtpd process serving our connection (fd 0 is its socket)."""
    raw = client.sock
    inode = server_socket_inode(inst, raw, listener)
    assert inode, "no server socket for our connection in /proc/net/tcp"
    want = "socket:[%d]" % inode

    def find():
        for pid in sh.smtpd_pids(inst):
            try:
                if os.readlink("/proc/%d/fd/0" % pid) == want:
                    return pid
            except OSError:
                pass
        return None
    pid = wait_for(find, 5)
    assert pid, "no smtpd holds %s; smtpd pids %s" % (want, sh.smtpd_pids(inst))
    return pid


def open_fds(pid):
    """{fd: (link target, is a directory)} of pid."""
    out = {}
    base = "/proc/%d/fd" % pid
    for fd in os.listdir(base):
        path = os.path.join(base, fd)
        try:
            target = os.readlink(path)
            is_dir = stat.S_ISDIR(os.stat(path).st_mode)
        except FileNotFoundError:
            continue
        out[int(fd)] = (target, is_dir)
    return out


def mapped_files(pid):
    with open("/proc/%d/maps" % pid) as f:
        return {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}


def forbidden_paths(inst):
    """What an unprivileged SMTP-facing process must never hold."""
    return [inst.spool, os.path.realpath(inst.key), inst.key,
            os.path.join(inst.etc, "users.cdb"), os.path.join(inst.etc, "users")]


def assert_holds_none_of(pid, paths, what):
    fds = open_fds(pid)
    for fd, (target, is_dir) in fds.items():
        # a directory descriptor from outside the chroot is a way out of it
        assert not is_dir, "%s holds a directory descriptor %d -> %s" % (what, fd, target)
        for p in paths:
            assert not (target == p or target.startswith(p.rstrip("/") + "/")), \
                "%s holds fd %d -> %s" % (what, fd, target)
    for m in mapped_files(pid):
        for p in paths:
            assert not (m == p or m.startswith(p.rstrip("/") + "/")), \
                "%s has %s mapped" % (what, m)
    return fds


def assert_unprivileged(inst, pid, role, groups, root):
    """pid runs as PREFIXrole in exactly groups, chrooted at root, with no
    capabilities and no_new_privs set."""
    st = proc_status(pid)
    assert st is not None, "%s (pid %d) is gone" % (role, pid)
    pw = account(inst, role)
    assert st["Uid"].split() == [str(pw.pw_uid)] * 4, (role, st["Uid"])
    assert st["Gid"].split() == [str(pw.pw_gid)] * 4, (role, st["Gid"])
    have = {int(g) for g in st["Groups"].split()}
    assert have == {gid_of(inst, g) for g in groups}, (role, st["Groups"], groups)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(st[cap], 16) == 0, (role, cap, st[cap])
    assert st["NoNewPrivs"] == "1", (role, st["NoNewPrivs"])
    assert os.readlink("/proc/%d/root" % pid) == root, (role, os.readlink("/proc/%d/root" % pid))
    assert os.readlink("/proc/%d/cwd" % pid) == root, (role, os.readlink("/proc/%d/cwd" % pid))


@pytest.mark.parametrize("listener", ["smtp", "smtps"])
def test_smtpd_session_process_is_confined(inst, listener):
    sh.boot(inst)
    with sh.SMTPClient(inst, listener) as c:
        assert c.greeting[0] == 220
        c.ehlo()
        if listener == "smtp":
            c.starttls()
            c.ehlo()
            sender = "sender@elsewhere.example"
        else:
            code, text = c.cmd("AUTH PLAIN " + base64.b64encode(
                ("\0%s\0%s" % (sh.USER, sh.PASSWORD)).encode()).decode())
            assert code == 235, (code, text)
            sender = sh.USER
        assert c.cmd("MAIL FROM:<%s>" % sender)[0] == 250
        assert c.cmd("RCPT TO:<%s>" % sh.USER)[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send(b"Subject: privsep\r\n\r\nhalf a message\r\n")
        # mid-message: TLS live, queue connection open, message in progress
        pid = session_pid(inst, c, listener)
        cmdline = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")
        assert os.path.basename(cmdline[0]) == b"smtpd" and \
            cmdline[cmdline.index(b"-l") + 1] == listener.encode(), cmdline
        st = proc_status(pid)
        assert int(st["PPid"]) == inst.pid("master"), st["PPid"]
        assert_unprivileged(inst, pid, "smtpd", ("smtpd", "authc", "tls"),
                            os.path.join(inst.runtime, "empty"))
        fds = assert_holds_none_of(pid, forbidden_paths(inst), "smtpd")
        # the client socket on 0 and 1, the log pipe on 2
        assert fds[0][0] == fds[1][0] and fds[0][0].startswith("socket:"), fds
        assert fds[2][0].startswith("pipe:"), fds
        c.send(b".\r\n")
        code, text = c.reply()
        assert code == 250, (code, text)
    sh.wait_spool(inst, sh.queue_id(text))


def test_queue_and_auth_confined_master_only_root(inst):
    sh.boot(inst)
    with sh.SMTPClient(inst, "smtp") as c:      # an open session too
        c.ehlo()
        smtpd = session_pid(inst, c, "smtp")
        queue, auth, master = inst.pid("queue"), inst.pid("auth"), inst.pid("master")
        assert queue and auth and master, inst.status()
        assert_unprivileged(inst, queue, "queue", ("queue",), inst.spool)
        assert_holds_none_of(queue, [os.path.realpath(inst.key), inst.key,
                                     os.path.join(inst.etc, "users.cdb")], "queue")
        assert_unprivileged(inst, auth, "auth", ("auth",), inst.etc)
        assert_holds_none_of(auth, [inst.spool, os.path.realpath(inst.key), inst.key],
                             "auth")
        # master and the local-delivery spawner (DESIGN.md) are the only
        # processes with any uid 0; the spawner holds no listener, no spool
        # and no TLS key
        local = inst.pid("local")
        assert local, inst.status()
        roots = []
        for pid in instance_pids(inst.conf, inst.aprefix):
            st = proc_status(pid)
            if st is not None and "0" in st["Uid"].split():
                roots.append(pid)
        assert sorted(roots) == sorted([master, local]), (roots, master, local,
                                                          inst.status_list())
        assert_holds_none_of(local, [inst.spool, os.path.realpath(inst.key), inst.key,
                                     os.path.join(inst.etc, "users.cdb")], "local")
        assert smtpd in instance_pids(inst.conf, inst.aprefix)
        # every service has its own uid
        uids = {int(proc_status(p)["Uid"].split()[0]) for p in (smtpd, queue, auth)}
        assert len(uids) == 3, uids
