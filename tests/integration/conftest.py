"""Integration-test harness: each test gets a private postern instance.

An Instance installs the build into its own temp prefix with its own account
prefix and its own loopback address (127.x.y.z, reserved with a lock file) on
fixed ports, so no two instances -- in one run or in parallel runs -- can ever
want the same address:port, and nothing probes for "free" ports.  Teardown
stops everything the instance started and removes its accounts and files.
"""
import errno
import fcntl
import grp
import os
import pwd
import random
import re
import shutil
import signal
import string
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.path.join(ROOT, os.environ.get("POSTERN_BUILD", "build")))
INSTALL_SH = os.path.join(ROOT, "install.sh")
IS_ROOT = os.geteuid() == 0
LOCKDIR = "/tmp/postern-test-locks"
# Below the ephemeral range (32768+), so no client socket can hold them.
PORTS = {"smtp": 22525, "submission": 22587, "smtps": 22465, "pop3": 22110,
         "pop3s": 22995, "imap": 22143, "imaps": 22993}
ROLES = ("auth", "smtpd", "queue", "remote", "login", "vmail")
XGROUPS = ("authc", "tls", "submit")
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root (service accounts)")


def wait_for(pred, timeout, interval=0.05):
    """Poll pred() until it returns something true or timeout seconds pass;
    returns pred's last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(args, **kw)


# ---- loopback addresses ---------------------------------------------------

_used_addrs = set()     # never reuse one in a run: no TIME_WAIT surprises


def allocate_address():
    """Reserve a loopback address no other live instance holds: returns
    (address, open lock file); the flock lasts until the file is closed."""
    os.makedirs(LOCKDIR, mode=0o1777, exist_ok=True)
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(1000):
        addr = "127.%d.%d.%d" % (rng.randint(16, 250), rng.randint(0, 255),
                                 rng.randint(1, 254))
        if addr in _used_addrs:
            continue
        f = open(os.path.join(LOCKDIR, addr), "a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            f.close()
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                continue
            raise
        _used_addrs.add(addr)
        return addr, f
    raise RuntimeError("no free loopback address after 1000 tries")


# ---- the session's TLS certificate -----------------------------------------

_cert = {}


def session_cert():
    """(cert, key) paths of a self-signed cert for mail.example.test, made
    once per test session with the openssl command."""
    if not _cert:
        d = tempfile.mkdtemp(prefix="postern-test-cert-", dir="/tmp")
        crt, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
        r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                 "-subj", "/CN=mail.example.test",
                 "-addext", "subjectAltName=DNS:mail.example.test",
                 "-keyout", key, "-out", crt])
        assert r.returncode == 0, r.stderr
        _cert.update(dir=d, crt=crt, key=key)
    return _cert["crt"], _cert["key"]


def pytest_sessionfinish(session, exitstatus):
    if _cert:
        shutil.rmtree(_cert["dir"], ignore_errors=True)


# ---- processes ----------------------------------------------------------------

def proc_status(pid):
    """/proc/PID/status as a dict of str -> str, or None if pid is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except (FileNotFoundError, ProcessLookupError):
        return None


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def account_uids(aprefix):
    uids = set()
    for role in ROLES:
        try:
            uids.add(pwd.getpwnam(aprefix + role).pw_uid)
        except KeyError:
            pass
    return uids


def instance_pids(conf, aprefix):
    """Pids that belong to an instance: running as one of its accounts, or
    started with its (unique) config path on the command line."""
    uids = account_uids(aprefix) if aprefix else set()
    marker = conf.encode()
    found = []
    for pid in all_pids():
        if pid == os.getpid():
            continue
        st = proc_status(pid)
        if st is None:
            continue
        uid = int(st["Uid"].split()[0])
        if uid in uids or marker in proc_cmdline(pid):
            found.append(pid)
    return found


def kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _exists(lookup, name):
    try:
        lookup(name)
        return True
    except KeyError:
        return False


def remove_accounts(aprefix):
    """Delete the instance's users and groups that still exist (after a
    good uninstall none do: no userdel/groupdel is run in vain)."""
    for role in ROLES:
        if _exists(pwd.getpwnam, aprefix + role):
            run(["userdel", aprefix + role])
    for g in XGROUPS + ROLES:
        if _exists(grp.getgrnam, aprefix + g):
            run(["groupdel", aprefix + g])


# ---- the instance -----------------------------------------------------------

class Instance:
    """One private postern: install() then configure()/start()/stop()."""

    def __init__(self):
        self.aprefix = "pt" + "".join(random.choice(string.ascii_lowercase)
                                      for _ in range(5)) + "-"
        self.prefix = tempfile.mkdtemp(prefix="postern-test-", dir="/tmp")
        os.chmod(self.prefix, 0o755)    # services must reach their files
        self.addr, self._addr_lock = allocate_address()
        self.ports = dict(PORTS)
        self.etc = os.path.join(self.prefix, "etc/postern")
        self.conf = os.path.join(self.etc, "postern.conf")
        self.runtime = os.path.join(self.prefix, "run/postern")
        self.spool = os.path.join(self.prefix, "var/spool/postern")
        self.mail = os.path.join(self.prefix, "var/mail")
        self.libexec = os.path.join(self.prefix, "libexec/postern")
        self.bin = os.path.join(self.prefix, "sbin/postern")
        self.logpath = os.path.join(self.prefix, "test.log")
        self.keys = {}
        self.proc = None
        self._logf = None
        self._base_conf = ""
        self.installed = False
        # lets a later session sweep us up if this one dies
        with open(os.path.join(self.prefix, ".instance"), "w") as f:
            f.write("%d %s\n" % (os.getpid(), self.aprefix))

    # -- install and config --
    def install(self):
        r = run(["sh", INSTALL_SH, "--prefix", self.prefix, "--account-prefix",
                 self.aprefix, "--build", BUILD], timeout=120)
        assert r.returncode == 0, "install.sh failed:\n" + r.stdout + r.stderr
        self.installed = True
        with open(self.conf) as f:
            self._base_conf = f.read()
        crt, key = session_cert()
        self.cert = os.path.join(self.etc, "tls.crt")
        self.key = os.path.join(self.etc, "tls.key")
        shutil.copyfile(crt, self.cert)
        shutil.copyfile(key, self.key)
        os.chmod(self.cert, 0o644)
        os.chmod(self.key, 0o640)
        if IS_ROOT:
            shutil.chown(self.key, "root", self.aprefix + "tls")
        self.keys = {
            "hostname": "mail.example.test",
            "domains": "example.test",
            "listen.smtp": "%s:%d" % (self.addr, self.ports["smtp"]),
            "listen.submission": "%s:%d" % (self.addr, self.ports["submission"]),
            "listen.smtps": "%s:%d" % (self.addr, self.ports["smtps"]),
            "listen.pop3": "%s:%d" % (self.addr, self.ports["pop3"]),
            "listen.pop3s": "%s:%d" % (self.addr, self.ports["pop3s"]),
            "tls.cert": self.cert,
            "tls.key": self.key,
            "auth.fail_delay": "1s",
        }
        self.write_config()

    def configure(self, keys=None, **kw):
        """Set config keys: configure({"auth.fail_delay": "2s"}) or
        configure(auth__fail_delay="2s") ("__" stands for "."); a value of
        None removes the key.  Takes effect at the next start or reload."""
        merged = dict(keys or {})
        merged.update({k.replace("__", "."): v for k, v in kw.items()})
        for k, v in merged.items():
            if v is None:
                self.keys.pop(k, None)
            else:
                self.keys[k] = v
        self.write_config()

    def write_config(self, extra_lines=()):
        """The installed default config plus our keys, then extra_lines
        verbatim (to test bad configs).  Returns the file's line count."""
        text = self._base_conf + "\n# test settings\n"
        text += "".join("%s = %s\n" % kv for kv in self.keys.items())
        text += "".join(line + "\n" for line in extra_lines)
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.conf)
        return text.count("\n")

    # -- commands --
    def env(self):
        env = {k: v for k, v in os.environ.items()
               if k in ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LANG", "TERM")}
        env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        # LeakSanitizer cannot trace a process after it dropped privileges
        # (ptrace of the now-unprivileged child fails); ASan proper stays on.
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        return env

    def postern(self, *args, input=None, timeout=60):
        """Run the installed postern command with our config."""
        return run([self.bin, "-c", self.conf] + [str(a) for a in args],
                   input=input, env=self.env(), timeout=timeout)

    def add_user(self, addr, password):
        r = self.postern("user", "add", addr, input=password + "\n")
        assert r.returncode == 0, "user add %s: %s%s" % (addr, r.stdout, r.stderr)

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def status_list(self):
        """Every line of `postern status` as a dict (pid, user, uid, state,
        restarts, name), or None when the command fails."""
        r = self.postern("status", timeout=15)
        if r.returncode != 0:
            return None
        procs = []
        for line in r.stdout.splitlines():
            fields = line.split()
            if not fields or "=" in fields[0]:
                continue
            p = {"name": fields[0]}
            for f in fields[1:]:
                k, _, v = f.partition("=")
                p[k] = int(v) if k in ("pid", "uid", "restarts") and re.fullmatch(r"-?\d+", v) else v
            if "pid" in p:      # other lines: "sessions smtp=0 ..."
                procs.append(p)
        return procs

    def status(self):
        """name -> the first status entry of that name ({} if not running)."""
        procs = self.status_list() or []
        out = {}
        for p in procs:
            out.setdefault(p["name"], p)
        return out

    def pid(self, name):
        p = self.status().get(name)
        return p["pid"] if p else None

    def pids(self):
        return {p["name"]: p["pid"] for p in (self.status_list() or []) if p.get("pid")}

    def running(self, name):
        p = self.status().get(name)
        return bool(p and p.get("state") == "running" and p.get("pid"))

    # -- lifecycle --
    def start(self, wait=True, timeout=30):
        assert self.proc is None or self.proc.poll() is not None, "already started"
        self._logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen([self.bin, "-c", self.conf, "start", "-f"],
                                     stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, env=self.env(),
                                     start_new_session=True)
        if wait:
            self.wait_ready(timeout)
        return self.proc

    def wait_ready(self, timeout=30, service="auth"):
        ok = wait_for(lambda: self.proc.poll() is not None or self.running(service),
                      timeout, interval=0.1)
        if self.proc.poll() is not None:
            pytest.fail("postern start exited with %s:\n%s" % (self.proc.returncode, self.log()))
        if not ok:
            pytest.fail("%s not running after %ss:\n%s" % (service, timeout, self.log()))

    def stop(self, timeout=20):
        """postern stop; then SIGTERM/SIGKILL whatever of ours is left."""
        if self.proc is not None and self.proc.poll() is None:
            self.postern("stop", timeout=timeout)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        if self._logf:
            self._logf.close()
            self._logf = None
        left = instance_pids(self.conf, self.aprefix if IS_ROOT else None)
        if left:
            kill_pids(left)
            wait_for(lambda: not instance_pids(self.conf, self.aprefix if IS_ROOT else None), 5)
        return left

    def sanitizer_report(self):
        text = self.log()
        return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKS)]

    def destroy(self):
        self.stop()
        try:
            if self.installed:
                run(["sh", INSTALL_SH, "--prefix", self.prefix, "--account-prefix",
                     self.aprefix, "--uninstall", "--build", BUILD], timeout=120)
        finally:
            if IS_ROOT:
                remove_accounts(self.aprefix)
            shutil.rmtree(self.prefix, ignore_errors=True)
            self._addr_lock.close()


def sweep_stale():
    """Remove instances left behind by a test session that died."""
    for d in os.listdir("/tmp"):
        path = os.path.join("/tmp", d)
        if not d.startswith("postern-test-") or not os.path.isfile(path + "/.instance"):
            continue
        if os.stat(path).st_uid != os.geteuid():
            continue
        try:
            with open(path + "/.instance") as f:
                owner, aprefix = f.read().split()
            os.kill(int(owner), 0)
            continue            # its session is still alive
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue
        if not re.fullmatch(r"pt[a-z]{5}-", aprefix):
            continue
        conf = os.path.join(path, "etc/postern/postern.conf")
        kill_pids(instance_pids(conf, aprefix if IS_ROOT else None))
        if IS_ROOT:
            remove_accounts(aprefix)
        shutil.rmtree(path, ignore_errors=True)


def pytest_sessionstart(session):
    sweep_stale()


def teardown_instance(i):
    """Stop and remove i; show its log tail; fail on a sanitizer report."""
    i.stop()
    bad = i.sanitizer_report()
    tail = i.log().splitlines()[-60:]
    if tail:
        print("---- instance log (last 60 lines) ----\n" + "\n".join(tail))
    i.destroy()
    if bad:
        pytest.fail("sanitizer report in the instance log:\n" + "\n".join(bad[:20]))


def fresh_instance():
    """Generator for a fixture: an installed, configured, not yet started
    instance, torn down afterwards (for a module that shares one instance
    as `inst` and still has a test that needs its own)."""
    i = Instance()
    try:
        i.install()
        yield i
    finally:
        teardown_instance(i)


@pytest.fixture
def inst():
    """An installed, configured, not yet started instance."""
    yield from fresh_instance()


@pytest.fixture
def running(inst):
    """inst, started and ready (auth running)."""
    inst.start()
    return inst
