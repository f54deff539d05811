"""A private DNS server for tests: dnsmasq (Debian package dnsmasq) on its
own loopback address (conftest.allocate_address) and a fixed port, serving
only what the test asks for -- MX, A/AAAA and null MX records -- and
answering NXDOMAIN for every other name under the local zones.  No upstream,
no /etc/hosts, no system config, no pid file; stopped by pid at teardown.

    def test_x(dns_server):
        dns = dns_server(mx={"example.test": [(10, "mx1.example.test")]},
                         hosts={"mx1.example.test": ["127.0.0.5", "::5"]},
                         null_mx=["nomail.test"])
        dns.server      # "127.a.b.c:22553", the value for remote.dns
"""
import os
import shutil
import socket
import struct
import subprocess
import tempfile

import pytest

from conftest import allocate_address, wait_for

DNS_PORT = 22553        # below the ephemeral range, on a private address


def have_dnsmasq():
    return shutil.which("dnsmasq") is not None or os.path.exists("/usr/sbin/dnsmasq")


def dns_probe(addr, port, name="probe.invalid", qtype=1, timeout=0.5):
    """Send one query; return the rcode of the answer, or None."""
    q = struct.pack(">HHHHHH", 0x5157, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(q, (addr, port))
        data, _ = s.recvfrom(4096)
    except OSError:
        return None
    finally:
        s.close()
    if len(data) < 12 or data[:2] != q[:2]:
        return None
    return data[3] & 0x0F


class DnsServer:
    def __init__(self, mx=None, hosts=None, null_mx=(), zones=("test",)):
        self.addr, self._lock = allocate_address()
        self.port = DNS_PORT
        self.server = "%s:%d" % (self.addr, self.port)
        self.dir = tempfile.mkdtemp(prefix="postern-dns-")
        self.log = os.path.join(self.dir, "dnsmasq.log")
        self.proc = None
        args = ["dnsmasq", "--no-resolv", "--no-hosts", "--keep-in-foreground",
                "--conf-file=/dev/null", "--pid-file=", "--port=%d" % self.port,
                "--listen-address=%s" % self.addr, "--bind-interfaces",
                "--log-queries", "--log-facility=%s" % self.log]
        for z in zones:         # answer NXDOMAIN for unknown names there
            args.append("--local=/%s/" % z)
        for domain, entries in (mx or {}).items():
            for pref, host in entries:
                args.append("--mx-host=%s,%s,%d" % (domain, host, pref))
        for name, addrs in (hosts or {}).items():
            args.append("--host-record=%s,%s" % (name, ",".join(addrs)))
        for domain in null_mx:  # RFC 7505: preference 0, exchange "." (root)
            args.append("--dns-rr=%s,15,000000" % domain)
        self.args = args

    def start(self):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.log + ".err", "w"))
        ok = wait_for(lambda: self.proc.poll() is not None or
                      dns_probe(self.addr, self.port) is not None, 30)
        if self.proc.poll() is not None or not ok:
            self.stop()
            with open(self.log + ".err") as f:
                raise RuntimeError("dnsmasq did not start: " + f.read())
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()       # by pid: the Popen we started
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.proc = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def queries(self):
        """The dnsmasq query log so far (for failure messages)."""
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""


@pytest.fixture
def dns_server():
    """Factory: dns_server(mx=..., hosts=..., null_mx=...) -> a started
    DnsServer; every server started is stopped at teardown."""
    if not have_dnsmasq():
        pytest.skip("dnsmasq is not installed (tests/deps.sh)")
    started = []

    def make(**kw):
        s = DnsServer(**kw)
        started.append(s)
        return s.start()
    yield make
    for s in started:
        s.stop()
