"""The login/auth/mail split as /proc shows it during POP3 sessions
(docs/login.md): pop3-login runs as PREFIXlogin with only its groups,
chrooted in paths.runtime/empty, without capabilities, with no_new_privs,
holding no mail, spool, password hashes or key file; the pop3 mail process
runs as the mailbox owner (PREFIXvmail) chrooted in the user's Maildir and
never holds the TLS key, the spool or users.cdb; with TLS it talks to the
login process's proxy over a Unix socket, without TLS it holds the client's
TCP socket itself and the login process is gone; master and the
local-delivery spawner stay the instance's only root processes; master
counts a session once across the handoff (pop3.max_sessions_per_ip).  And
memory from /proc: a 20 MB RETR to a client that does not read leaves the
pop3 process (and the TLS proxy) small, and arrives byte-exact."""
import os

import pytest

import pop3_helpers as ph
from conftest import instance_pids, needs_root, proc_status, wait_for
from pop3_helpers import POP3Client, put
from test_smtpd_privsep import (assert_holds_none_of, assert_unprivileged, open_fds,
                                server_socket_inode)

pytestmark = needs_root


@pytest.fixture(scope="module")
def srv():
    yield from ph.pop3_instance(users={ph.BOB: ph.PASSWORD}, pop3__max_sessions_per_ip="2")


@pytest.fixture
def inst(srv):
    ph.wait_no_sessions(srv)
    ph.clear_mailbox(srv)
    yield srv
    ph.close_all()


class _Sock:
    """What server_socket_inode() needs of a client: getsockname()."""
    def __init__(self, c):
        self.c = c

    def getsockname(self):
        return self.c.sock.getsockname()


def tcp_inode(inst, c, listener):
    inode = server_socket_inode(inst, _Sock(c), listener)
    assert inode, "no server socket for our connection in /proc/net/tcp"
    return inode


def holder_of(inst, name, inode):
    """The process of program name with the socket inode on fd 0, or None."""
    want = "socket:[%d]" % inode
    for pid in ph.pop3_pids(inst, name):
        try:
            if os.readlink("/proc/%d/fd/0" % pid) == want:
                return pid
        except OSError:
            pass
    return None


def unix_inodes():
    with open("/proc/net/unix") as f:
        return {int(line.split()[6]) for line in f.readlines()[1:] if len(line.split()) >= 7}


def login_forbidden(inst):
    """What the stranger-facing login process must never hold."""
    return [inst.spool, inst.mail, os.path.realpath(inst.key), inst.key,
            os.path.join(inst.etc, "users.cdb"), os.path.join(inst.etc, "users")]


def mail_forbidden(inst):
    """What the mail process must never hold: the key, the spool, the
    password hashes, the config directory."""
    return [inst.spool, os.path.realpath(inst.key), inst.key, os.path.realpath(inst.cert),
            os.path.join(inst.etc, "users.cdb"), os.path.join(inst.etc, "users"),
            inst.runtime + "/auth.sock"]


def check_login(inst, pid, inode):
    st = proc_status(pid)
    assert int(st["PPid"]) == inst.pid("master"), st["PPid"]
    assert_unprivileged(inst, pid, "login", ("login", "authc", "tls"),
                        os.path.join(inst.runtime, "empty"))
    fds = assert_holds_none_of(pid, login_forbidden(inst), "pop3-login")
    assert fds[0][0] == fds[1][0] == "socket:[%d]" % inode, fds
    assert fds[2][0].startswith("pipe:"), fds
    for fd, (target, _) in fds.items():
        assert target.startswith(("socket:", "pipe:", "anon_inode:")) or \
            target == "/dev/null", "pop3-login fd %d -> %s" % (fd, target)
    return fds


def check_mail(inst, pid):
    """The pop3 process of alice: confined to her Maildir as PREFIXvmail."""
    box = ph.mailbox(inst)
    st = proc_status(pid)
    assert int(st["PPid"]) == inst.pid("master"), st["PPid"]
    assert_unprivileged(inst, pid, "vmail", ("vmail",), box)
    fds = open_fds(pid)
    for fd, (target, is_dir) in fds.items():
        # past the client (0, 1) and the log (2): only the Maildir's own
        # directories and files -- no channel to master or auth is kept
        if fd > 2:
            assert target == box or target.startswith(box + "/"), \
                "pop3 fd %d -> %s" % (fd, target)
    # directory descriptors are checked above; the rest must hold none of
    # the forbidden paths, nor have them mapped
    for fd, (target, _) in fds.items():
        for p in mail_forbidden(inst):
            assert not (target == p or target.startswith(p.rstrip("/") + "/")), \
                "pop3 fd %d -> %s" % (fd, target)
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    for p in mail_forbidden(inst):
        assert p not in maps, "pop3 has %s mapped" % p
    assert fds[0][0] == fds[1][0] and fds[0][0].startswith("socket:"), fds
    assert fds[2][0].startswith("pipe:"), fds
    return fds


def roots_are_master_and_local(inst):
    master, local = inst.pid("master"), inst.pid("local")
    assert master and local, inst.status()
    roots = []
    for pid in instance_pids(inst.conf, inst.aprefix):
        st = proc_status(pid)
        if st is not None and "0" in st["Uid"].split():
            roots.append(pid)
    assert sorted(roots) == sorted([master, local]), (roots, master, local,
                                                      inst.status_list())


def test_login_process_confined_before_login(inst):
    with POP3Client(inst) as c:
        assert c.capa()
        inode = tcp_inode(inst, c, "pop3")
        pid = wait_for(lambda: holder_of(inst, "pop3-login", inode), 5)
        assert pid, "no pop3-login holds our socket"
        fds = check_login(inst, pid, inode)
        assert 3 in fds and fds[3][0].startswith("socket:"), fds   # master channel
        assert ph.pop3_pids(inst, "pop3") == []
        roots_are_master_and_local(inst)


@pytest.mark.parametrize("listener", ["pop3s", "pop3"])
def test_tls_session_login_proxy_and_mail_process(inst, listener):
    """Logged in over TLS, mid-session: the login process proxies, the mail
    process holds a Unix socket to it, not the TCP connection nor the key."""
    data = ph.message("privsep", "x\r\n")
    put(inst, data)
    with POP3Client(inst, listener) as c:
        if listener == "pop3":
            c.stls()
        c.login()
        assert c.retr(1)[1] == data
        inode = tcp_inode(inst, c, listener)
        login = wait_for(lambda: holder_of(inst, "pop3-login", inode), 5)
        assert login, "no pop3-login holds our TLS connection"
        check_login(inst, login, inode)
        mail = ph.the_pid(inst, "pop3")
        fds = check_mail(inst, mail)
        # the mail process's client is a Unix socket (the proxy), not TCP
        assert fds[0][0] != "socket:[%d]" % inode
        assert int(fds[0][0][len("socket:["):-1]) in unix_inodes(), fds[0]
        roots_are_master_and_local(inst)
        c.ok("QUIT")


def test_plain_session_mail_process_holds_the_client(inst):
    """Without TLS the login process hands over the TCP socket and exits."""
    put(inst, ph.message())
    with POP3Client(inst) as c:
        c.login()
        assert ph.stat_of(c.ok("STAT"))[0] == 1
        inode = tcp_inode(inst, c, "pop3")
        mail = wait_for(lambda: holder_of(inst, "pop3", inode), 5)
        assert mail, "no pop3 process holds our TCP socket"
        check_mail(inst, mail)
        assert wait_for(lambda: holder_of(inst, "pop3-login", inode) is None, 10), \
            "the login process still runs after a plain handoff"
        roots_are_master_and_local(inst)
        c.ok("QUIT")


def test_mail_process_for_a_user_without_a_maildir(inst):
    """carol has no Maildir yet: an empty INBOX, chrooted in the empty dir."""
    r = inst.postern("user", "add", "carol@example.test", input=ph.PASSWORD + "\n")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert not os.path.exists(ph.mailbox(inst, "carol@example.test"))
    with POP3Client(inst) as c:
        c.login("carol@example.test", ph.PASSWORD)
        assert c.ok("STAT").split()[1:3] == ["0", "0"]
        mail = ph.the_pid(inst, "pop3")
        assert_unprivileged(inst, mail, "vmail", ("vmail",),
                            os.path.join(inst.runtime, "empty"))
        assert_holds_none_of(mail, mail_forbidden(inst), "pop3")
        c.ok("QUIT")
    assert not os.path.exists(ph.mailbox(inst, "carol@example.test"))


def sessions_line(inst):
    r = inst.postern("status", timeout=15)
    assert r.returncode == 0, r.stderr
    for line in r.stdout.splitlines():
        if line.startswith("sessions "):
            return dict(f.split("=") for f in line.split()[1:])
    raise AssertionError("no sessions line in:\n" + r.stdout)


def test_sessions_per_ip_counted_once_across_the_handoff(inst):
    """pop3.max_sessions_per_ip = 2: a plain session (login handed over and
    gone) and a TLS session (login proxy + mail process) count one each;
    a third connection from that address is turned away with [SYS/TEMP];
    another address is not."""
    src = ph.fresh_source()
    a = POP3Client(inst, "pop3", source=src, timeout=30)
    a.login()
    b = POP3Client(inst, "pop3s", source=src, timeout=30)
    b.login(ph.BOB, ph.PASSWORD)
    assert wait_for(lambda: sessions_line(inst).get("pop3") == "1" and
                    sessions_line(inst).get("pop3s") == "1", 10), sessions_line(inst)
    with POP3Client(inst, "pop3", source=src, greet=False) as c:
        r = c.line()
        assert r.startswith("-ERR [SYS/TEMP]"), r
        assert c.closed(10)
    with POP3Client(inst, "pop3", source=ph.fresh_source()) as c:
        assert c.greeting.startswith("+OK")
    a.ok("QUIT")
    a.close()
    assert wait_for(lambda: sessions_line(inst).get("pop3") == "0", 10), sessions_line(inst)
    with POP3Client(inst, "pop3", source=src) as c:
        assert c.greeting.startswith("+OK")
    b.ok("QUIT")
    b.close()


# ---- memory: a 20 MB message to a reader that does not read ---------------------

@pytest.mark.parametrize("listener", ["pop3", "pop3s"])
def test_20mb_message_byte_exact_with_bounded_memory(inst, listener):
    data = ph.big_message(20 << 20)
    put(inst, data)
    with POP3Client(inst, listener, timeout=60) as c:
        c.login()
        pid = ph.the_pid(inst, "pop3")
        procs = {"pop3": pid}
        if listener == "pop3s":
            procs["pop3-login"] = ph.the_pid(inst, "pop3-login")
        assert c.ok("LIST 1").split()[2] == str(len(data))
        base = {k: ph.vm_kb(p, "VmHWM") for k, p in procs.items()}
        # a reader that does not read: the server must wait on the socket,
        # not read the message into memory
        c.send(b"RETR 1\r\n")

        def stalled():
            q = ph.server_send_queue(inst, c)
            st = ph.proc_status(pid)
            return q and q > 0 and st and st["State"].startswith("S")
        assert wait_for(stalled, 30), "the server never blocked on the socket"
        assert wait_for(lambda: ph.steady(stalled), 30)
        stalled_hwm = {k: ph.vm_kb(p, "VmHWM") for k, p in procs.items()}
        st = c.line(timeout=60)
        assert st.startswith("+OK"), st
        raw = c.multi(timeout=120)
        after = {k: ph.vm_kb(p, "VmHWM") for k, p in procs.items()}
        got = ph.unstuff(raw)
        assert len(got) == len(data) and ph.sha256(got) == ph.sha256(data)
        for k, p in procs.items():
            limit = 16 * 1024 if not ph.has_asan(p) else 64 * 1024
            growth = (8 if not ph.has_asan(p) else 16) * 1024
            for when, hwm in (("stalled", stalled_hwm[k]), ("after", after[k])):
                assert hwm < limit and hwm - base[k] < growth, \
                    "%s VmHWM %s kB %s RETR (%s kB before)" % (k, hwm, when, base[k])
        c.ok("QUIT")
