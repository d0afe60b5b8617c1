"""coturn as the lab's STUN/TURN server, and a tiny standard-library STUN/TURN client.

    eps = lab.start("coturn")            # TLS too when the lab CA is running (or tls=True)
    stun_binding("127.0.0.1", port)      # -> ("127.0.0.1", <our source port>)
    turn_allocate("127.0.0.1", port, eps["username"], eps["password"])  # -> relayed address

Long-term credentials (RFC 5389 section 10.2) with one random user; a fixed realm; relay
ports from the lab's pool; loopback peers allowed (everything in the lab is on 127.0.0.1).
Readiness is a real STUN Binding answered with XOR-MAPPED-ADDRESS, not a port probe.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import socket
import struct
import time
import zlib

from .core import LabError, Service

MAGIC = 0x2112A442
BINDING, ALLOCATE, REFRESH = 0x0001, 0x0003, 0x0004
A_MAPPED, A_USERNAME, A_INTEGRITY, A_ERROR = 0x0001, 0x0006, 0x0008, 0x0009
A_LIFETIME, A_XOR_RELAYED, A_REALM, A_NONCE = 0x000D, 0x0016, 0x0014, 0x0015
A_TRANSPORT, A_XOR_MAPPED, A_SOFTWARE, A_FINGERPRINT = 0x0019, 0x0020, 0x8022, 0x8028
RELAY_PORTS = 40


class StunError(RuntimeError):
    """No answer, or an answer that is not what the request asked for."""


class Coturn(Service):
    """turnserver on 127.0.0.1. Options: realm (default "sidetone.lab"), username, password
    (random by default), tls (default: when the lab CA runs; needs `ca`)."""

    name = "coturn"

    def start(self) -> dict:
        binary = shutil.which("turnserver")
        if binary is None:
            raise LabError("coturn: turnserver not installed (apt-get install coturn)")
        realm = self.options.get("realm", "sidetone.lab")
        username = self.options.get("username") or f"lab-{secrets.token_hex(3)}"
        password = self.options.get("password") or secrets.token_urlsafe(12)
        tls = self.options.get("tls", "ca" in self.lab.services)
        port = self.lab.port()
        relay = self.lab.port(count=RELAY_PORTS)
        lines = [
            "listening-ip=127.0.0.1",
            "relay-ip=127.0.0.1",
            f"listening-port={port}",
            f"min-port={relay}",
            f"max-port={relay + RELAY_PORTS - 1}",
            "lt-cred-mech",
            f"user={username}:{password}",
            f"realm={realm}",
            "fingerprint",
            "allow-loopback-peers",
            "no-cli",
            "no-dtls",
            "no-multicast-peers",
            "no-software-attribute",
            f"userdb={self.dir / 'turndb'}",
            f"pidfile={self.dir / 'turnserver.pid'}",
            "log-file=stdout",
            "simple-log",
        ]
        tls_port = None
        ca_cert = None
        if tls:
            ca = self.lab.start("ca")
            ca_cert = ca["ca_cert"]
            cert, key = self.lab.services["ca"].issue("coturn", ["127.0.0.1", "localhost"])
            tls_port = self.lab.port()
            lines += [f"tls-listening-port={tls_port}", f"cert={cert}", f"pkey={key}"]
        else:
            lines.append("no-tls")
        conf = self.dir / "turnserver.conf"
        conf.write_text("\n".join(lines) + "\n")
        os.chmod(conf, 0o600)  # holds the password
        proc = self.spawn([binary, "-c", str(conf)])
        self.lab.wait_ready("coturn (STUN Binding)",
                            lambda: stun_binding("127.0.0.1", port, timeout=0.3) is not None,
                            timeout=10, proc=proc)
        eps = {
            "stun": f"stun:127.0.0.1:{port}",
            "turn": f"turn:127.0.0.1:{port}?transport=udp",
            "turn_tcp": f"turn:127.0.0.1:{port}?transport=tcp",
            "username": username,
            "password": password,
            "realm": realm,
            "relay_ports": [relay, relay + RELAY_PORTS - 1],
        }
        if tls_port:
            eps["turns"] = f"turns:127.0.0.1:{tls_port}?transport=tcp"
            eps["ca_cert"] = ca_cert
        return eps

    def stop(self) -> None:
        # turnserver takes ~3 s to act on SIGTERM; it keeps no state worth a clean exit.
        for proc in reversed(self.processes):
            self.lab.terminate(proc, grace=0.3)
        self.processes.clear()


# ---- a STUN/TURN client (RFC 5389 / 5766), standard library only ----------------------------

def _attr(kind: int, value: bytes) -> bytes:
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def _message(kind: int, txid: bytes, attrs: bytes) -> bytes:
    return struct.pack("!HHI", kind, len(attrs), MAGIC) + txid + attrs


def _with_integrity(kind: int, txid: bytes, attrs: bytes, key: bytes) -> bytes:
    # MESSAGE-INTEGRITY covers the header with a length that already counts the integrity
    # attribute (24 bytes); FINGERPRINT then covers everything before it.
    head = struct.pack("!HHI", kind, len(attrs) + 24, MAGIC) + txid + attrs
    mac = hmac.new(key, head, hashlib.sha1).digest()
    attrs += _attr(A_INTEGRITY, mac)
    head = struct.pack("!HHI", kind, len(attrs) + 8, MAGIC) + txid + attrs
    crc = (zlib.crc32(head) ^ 0x5354554E) & 0xFFFFFFFF
    attrs += _attr(A_FINGERPRINT, struct.pack("!I", crc))
    return _message(kind, txid, attrs)


def _parse(data: bytes, txid: bytes) -> tuple[int, dict[int, bytes]]:
    if len(data) < 20:
        raise StunError("short STUN message")
    kind, length, magic = struct.unpack("!HHI", data[:8])
    if magic != MAGIC or data[8:20] != txid:
        raise StunError("not an answer to our request")
    attrs, pos = {}, 20
    while pos + 4 <= 20 + length:
        t, n = struct.unpack("!HH", data[pos:pos + 4])
        attrs.setdefault(t, data[pos + 4:pos + 4 + n])
        pos += 4 + n + (4 - n % 4) % 4
    return kind, attrs


def _xor_address(value: bytes, txid: bytes) -> tuple[str, int]:
    family, xport = struct.unpack("!xBH", value[:4])
    port = xport ^ (MAGIC >> 16)
    if family == 1:
        raw = struct.unpack("!I", value[4:8])[0] ^ MAGIC
        return socket.inet_ntoa(struct.pack("!I", raw)), port
    key = struct.pack("!I", MAGIC) + txid
    raw = bytes(a ^ b for a, b in zip(value[4:20], key))
    return socket.inet_ntop(socket.AF_INET6, raw), port


def _error(attrs: dict[int, bytes]) -> tuple[int, str]:
    value = attrs.get(A_ERROR, b"\0\0\0\0")
    return (value[2] & 7) * 100 + value[3], value[4:].decode("utf-8", "replace")


def _transact(sock: socket.socket, addr, msg: bytes, txid: bytes, timeout: float):
    """Send `msg` (retransmitting: 0.1 s, doubling) until an answer to `txid` arrives."""
    sock.settimeout(min(0.1, timeout))
    deadline = time.monotonic() + timeout
    wait = 0.1
    next_send = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= next_send:
            sock.sendto(msg, addr)
            next_send = time.monotonic() + wait
            wait = min(wait * 2, 1.0)
        try:
            data, _ = sock.recvfrom(2048)
        except socket.timeout:
            continue
        try:
            return _parse(data, txid)
        except StunError:
            continue
    raise StunError(f"no STUN answer from {addr[0]}:{addr[1]} within {timeout:.1f}s")


def stun_binding(host: str, port: int, timeout: float = 2.0,
                 sock: socket.socket | None = None) -> tuple[str, int]:
    """Send a STUN Binding request over UDP (from `sock`, or a fresh socket on 127.0.0.1);
    return the XOR-MAPPED-ADDRESS (our address as the server sees it). Raises StunError
    when nothing answers."""
    txid = secrets.token_bytes(12)
    if sock is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as own:
            own.bind(("127.0.0.1", 0))
            return stun_binding(host, port, timeout, own)
    kind, attrs = _transact(sock, (host, port), _message(BINDING, txid, b""), txid, timeout)
    if kind != 0x0101:
        raise StunError(f"Binding got message type 0x{kind:04x} {_error(attrs)}")
    if A_XOR_MAPPED not in attrs:
        raise StunError("Binding success without XOR-MAPPED-ADDRESS")
    return _xor_address(attrs[A_XOR_MAPPED], txid)


def turn_allocate(host: str, port: int, username: str, password: str,
                  timeout: float = 3.0) -> dict:
    """TURN Allocate over UDP with long-term credentials (401 challenge, then an
    authenticated retry); returns {"relayed": (ip, port), "mapped": (ip, port),
    "lifetime": s, "realm": r}. The allocation is released (Refresh lifetime 0) before
    returning. Raises StunError with the server's error code on failure."""
    transport = _attr(A_TRANSPORT, struct.pack("!B3x", 17))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        txid = secrets.token_bytes(12)
        kind, attrs = _transact(sock, (host, port), _message(ALLOCATE, txid, transport), txid,
                                timeout)
        if kind != 0x0113 or _error(attrs)[0] != 401:
            raise StunError(f"unauthenticated Allocate: expected 401, got 0x{kind:04x} "
                            f"{_error(attrs)}")
        realm, nonce = attrs[A_REALM], attrs[A_NONCE]
        key = hashlib.md5(f"{username}:{realm.decode()}:{password}".encode()).digest()
        creds = _attr(A_USERNAME, username.encode()) + _attr(A_REALM, realm) + \
            _attr(A_NONCE, nonce)
        txid = secrets.token_bytes(12)
        msg = _with_integrity(ALLOCATE, txid, transport + creds, key)
        kind, attrs = _transact(sock, (host, port), msg, txid, timeout)
        if kind != 0x0103:
            code, reason = _error(attrs)
            raise StunError(f"Allocate failed: {code} {reason}")
        result = {
            "relayed": _xor_address(attrs[A_XOR_RELAYED], txid),
            "mapped": _xor_address(attrs[A_XOR_MAPPED], txid) if A_XOR_MAPPED in attrs else None,
            "lifetime": struct.unpack("!I", attrs[A_LIFETIME])[0] if A_LIFETIME in attrs else None,
            "realm": realm.decode(),
        }
        # Release it: Refresh with LIFETIME 0.
        txid = secrets.token_bytes(12)
        msg = _with_integrity(REFRESH, txid, _attr(A_LIFETIME, struct.pack("!I", 0)) + creds, key)
        try:
            _transact(sock, (host, port), msg, txid, 1.0)
        except StunError:
            pass
        return result
