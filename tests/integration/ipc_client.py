"""A small client for postern's IPC records (common/ipc.h), for tests.

A record is one SOCK_SEQPACKET packet: u16 version, u16 type, u32 body
length (network order), then fields: key NUL u32(len) value NUL.
"""
import socket
import struct

IPC_VERSION = 1
IPC_HEADER = 8
IPC_MAX_RECORD = 65536

# enum ipc_type, in order
(IPC_NONE, IPC_ERROR, IPC_OK, IPC_AUTH_VERIFY, IPC_AUTH_FAIL, IPC_STATUS,
 IPC_QUEUE_BEGIN, IPC_QUEUE_DATA, IPC_QUEUE_END, IPC_QUEUE_ABORT,
 IPC_QUEUE_LIST, IPC_STOP, IPC_RELOAD) = range(13)


def _b(v):
    return v if isinstance(v, bytes) else str(v).encode()


def encode(rtype, fields=(), version=IPC_VERSION):
    """fields: a list of (key, value) pairs or a dict; values str/bytes/int."""
    items = fields.items() if isinstance(fields, dict) else fields
    body = b"".join(_b(k) + b"\0" + struct.pack("!I", len(_b(v))) + _b(v) + b"\0"
                    for k, v in items)
    return struct.pack("!HHI", version, rtype, len(body)) + body


def decode(pkt):
    """(type, {key: bytes}) or raise ValueError."""
    if len(pkt) < IPC_HEADER:
        raise ValueError("short record")
    version, rtype, blen = struct.unpack("!HHI", pkt[:IPC_HEADER])
    if version != IPC_VERSION or blen != len(pkt) - IPC_HEADER:
        raise ValueError("bad header")
    body, pos, fields = pkt[IPC_HEADER:], 0, {}
    while pos < len(body):
        nul = body.index(b"\0", pos)
        key = body[pos:nul].decode()
        (n,) = struct.unpack("!I", body[nul + 1:nul + 5])
        val = body[nul + 5:nul + 5 + n]
        if body[nul + 5 + n:nul + 6 + n] != b"\0":
            raise ValueError("bad field")
        fields.setdefault(key, val)
        pos = nul + 6 + n
    return rtype, fields


class Client:
    """One connection to a service socket."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def send_raw(self, pkt):
        self.sock.send(pkt)

    def send(self, rtype, fields=()):
        self.sock.send(encode(rtype, fields))

    def recv(self):
        """(type, fields), or None at EOF."""
        pkt = self.sock.recv(IPC_MAX_RECORD + 1)
        if not pkt:
            return None
        return decode(pkt)

    def call(self, rtype, fields=()):
        self.send(rtype, fields)
        return self.recv()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def auth_verify(path, user, password, service="test", client="127.0.0.1", timeout=30):
    """One IPC_AUTH_VERIFY on a fresh connection: (type, fields)."""
    with Client(path, timeout) as c:
        return c.call(IPC_AUTH_VERIFY, [("user", user), ("pass", password),
                                        ("service", service), ("client", client)])
