"""common/dns against a real DNS server (dnsmasq, dns_helpers.py), driven
through the test-only program tests/tools/dnsq (`dnsq SERVER:PORT DOMAIN`):
MX preference order, equal preferences shuffled, implicit MX, null MX,
NXDOMAIN, and an unreachable server -- each classified as the remote agent
will need it (OK / temporary / permanent)."""
import os
import tempfile

import pytest

from conftest import BUILD, allocate_address, run, wait_for
from dns_helpers import DNS_PORT, dns_server  # noqa: F401 (fixture)

DNSQ = os.path.join(BUILD, "tools", "dnsq")

pytestmark = pytest.mark.skipif(not os.path.exists(DNSQ),
                                reason="build lacks tools/dnsq")

RECORDS = dict(
    mx={"multi.test": [(20, "mx2.multi.test"), (10, "mx1.multi.test"),
                       (30, "mx3.multi.test")],
        "tie.test": [(10, "a.tie.test"), (10, "b.tie.test")],
        "dangling.test": [(10, "gone.dangling.test")]},
    hosts={"mx1.multi.test": ["127.0.0.11", "::11"],
           "mx2.multi.test": ["127.0.0.12"],
           "mx3.multi.test": ["127.0.0.13"],
           "a.tie.test": ["127.0.0.21"], "b.tie.test": ["127.0.0.22"],
           "plain.test": ["127.0.0.31"]},
    null_mx=["nomail.test"],
)
# More MX records than fit a 512-byte UDP answer: the resolver must retry
# over TCP (libresolv does on TC=1; glibc sends no EDNS0 by default).
BIG = ["mx%02d-a-rather-long-label-to-fill-the-packet.big.test" % i
       for i in range(1, 31)]
RECORDS["mx"]["big.test"] = [(i + 1, h) for i, h in enumerate(BIG)]
RECORDS["hosts"].update({h: ["127.0.1.%d" % (i + 1)] for i, h in enumerate(BIG)})


def dnsq(server, domain, *opts):
    env = dict(os.environ)
    if "-c" in opts:    # LeakSanitizer needs /proc, absent in the chroot
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":detect_leaks=0").lstrip(":")
    r = run([DNSQ, *opts, server, domain], timeout=120, env=env)
    return r.returncode, r.stdout.splitlines(), r.stderr


@pytest.fixture
def dns(dns_server):  # noqa: F811
    return dns_server(**RECORDS)


def test_preference_order(dns):
    rc, lines, err = dnsq(dns.server, "multi.test")
    assert rc == 0, (lines, err, dns.queries())
    assert lines == ["10 mx1.multi.test ::11 127.0.0.11",
                     "20 mx2.multi.test 127.0.0.12",
                     "30 mx3.multi.test 127.0.0.13"]


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_works_in_empty_chroot(dns):
    """dns_init before chroot is all the resolver needs: no /etc inside."""
    with tempfile.TemporaryDirectory() as empty:
        rc, lines, err = dnsq(dns.server, "multi.test", "-c", empty)
    assert rc == 0, (lines, err, dns.queries())
    assert [ln.split()[1] for ln in lines] == [
        "mx1.multi.test", "mx2.multi.test", "mx3.multi.test"]


def test_equal_preference_randomised(dns):
    seen = set()
    for _ in range(40):
        rc, lines, err = dnsq(dns.server, "tie.test")
        assert rc == 0, (lines, err)
        assert sorted(lines) == ["10 a.tie.test 127.0.0.21",
                                 "10 b.tie.test 127.0.0.22"]
        seen.add(tuple(lines))
        if len(seen) == 2:
            break
    assert len(seen) == 2, "equal preferences always came in one order"


def test_implicit_mx(dns):
    rc, lines, err = dnsq(dns.server, "plain.test")
    assert (rc, lines) == (0, ["0 plain.test implicit 127.0.0.31"]), err


def test_null_mx_is_permanent(dns):
    rc, lines, err = dnsq(dns.server, "nomail.test")
    assert rc == 2 and lines == [
        "perm: 5.1.10 domain does not accept mail (null MX)"], (lines, err)


def test_nxdomain_is_permanent(dns):
    rc, lines, err = dnsq(dns.server, "nosuch.test")
    assert rc == 2 and lines[0].startswith("perm: 5.1.2 "), (lines, err)


def test_mx_without_address_is_permanent(dns):
    rc, lines, err = dnsq(dns.server, "dangling.test")
    assert rc == 2 and lines[0].startswith("perm: 5.4.4 "), (lines, err)


def test_truncated_answer_retried_over_tcp(dns):
    rc, lines, err = dnsq(dns.server, "big.test")
    assert rc == 0, (lines, err, dns.queries())
    # capped at DNS_MAX_HOSTS (10), best preferences first
    assert lines == ["%d %s 127.0.1.%d" % (i + 1, h, i + 1)
                     for i, h in enumerate(BIG[:10])]
    # asked twice: over UDP (truncated), then over TCP
    # (dnsmasq answers TCP in a child process: its log line may come late)
    wait_for(lambda: dns.queries().count("query[MX] big.test from") >= 2, 30)
    assert dns.queries().count("query[MX] big.test from") == 2, dns.queries()


def test_unreachable_server_is_temporary():
    addr, lock = allocate_address()     # nothing listens there
    try:
        rc, lines, err = dnsq("%s:%d" % (addr, DNS_PORT), "multi.test")
    finally:
        lock.close()
    assert rc == 1 and lines[0].startswith("temp: 4.4.3 "), (lines, err)


def test_ipv6_server_refused():
    rc, lines, err = dnsq("[::1]:53", "multi.test")
    assert rc == 3 and "IPv4" in err, (lines, err)
