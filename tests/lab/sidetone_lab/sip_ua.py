"""A minimal SIP user agent for the lab's own checks, standard library only.

It speaks SIP over UDP, TCP, TLS, WS and WSS (RFC 7118), answers digest challenges (RFC 7616:
MD5 and SHA-256, qop=auth), and sends OPTIONS, REGISTER, SUBSCRIBE and PUBLISH. It is what the
lab uses to check that Kamailio is ready (an OPTIONS answered 200 — never a port probe) and to
test the transports SIPp cannot speak (WebSocket; TLS in the Debian build of SIPp).

It is a probe, not a phone: one transaction at a time, no dialogs beyond what a test needs.
TLS always verifies the server against the lab CA (`ca_cert`).

    ua = SipUa("wss", "127.0.0.1", 5443, user="1001", password=pw, domain="127.0.0.1",
               ca_cert=ca)
    assert ua.register().status == 200
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field

TRANSPORTS = ("udp", "tcp", "tls", "ws", "wss")
T1 = 0.5

_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
            "l": "content-length", "c": "content-type", "e": "content-encoding",
            "k": "supported", "s": "subject", "o": "event", "u": "allow-events"}


class SipError(RuntimeError):
    """The server did not answer, closed the connection, or sent something unparseable."""


@dataclass
class SipMessage:
    """A parsed SIP request or response."""

    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_response(self) -> bool:
        return self.first_line.startswith("SIP/2.0 ")

    @property
    def status(self) -> int:
        return int(self.first_line.split(" ", 2)[1]) if self.is_response else 0

    @property
    def reason(self) -> str:
        parts = self.first_line.split(" ", 2)
        return parts[2] if self.is_response and len(parts) > 2 else ""

    @property
    def method(self) -> str:
        return "" if self.is_response else self.first_line.split(" ", 1)[0]

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header (case-insensitive, compact forms understood)."""
        values = self.header_all(name)
        return values[0] if values else default

    def header_all(self, name: str) -> list[str]:
        name = _COMPACT.get(name.lower(), name.lower())
        return [v for k, v in self.headers if k == name]

    @property
    def cseq_method(self) -> str:
        return (self.header("cseq") or " ").split()[-1]

    def __str__(self) -> str:
        return self.first_line


def parse_message(data: bytes) -> SipMessage:
    """Parse one whole SIP message (headers and body)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", errors="replace").split("\r\n")
    msg = SipMessage(lines[0].strip())
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and msg.headers:  # folded continuation
            k, v = msg.headers[-1]
            msg.headers[-1] = (k, v + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        name = name.strip().lower()
        msg.headers.append((_COMPACT.get(name, name), value.strip()))
    length = int(msg.header("content-length") or len(body))
    msg.body = body[:length]
    return msg


# ---- digest (RFC 7616 / 8760) ---------------------------------------------------------------

_HASHES = {"MD5": hashlib.md5, "MD5-SESS": hashlib.md5,
           "SHA-256": hashlib.sha256, "SHA-256-SESS": hashlib.sha256}


def parse_challenge(value: str) -> dict[str, str]:
    """The parameters of a `Digest ...` challenge, keys lower-case."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise SipError(f"unsupported auth scheme {scheme!r}")
    params = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)', rest):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return params


def digest_authorization(challenge: dict[str, str], method: str, uri: str, user: str,
                         password: str, nc: int = 1, cnonce: str | None = None) -> str:
    """The value of an Authorization header answering `challenge`."""
    algorithm = challenge.get("algorithm", "MD5")
    hash_fn = _HASHES.get(algorithm.upper())
    if hash_fn is None:
        raise SipError(f"unsupported digest algorithm {algorithm!r}")

    def h(text: str) -> str:
        return hash_fn(text.encode()).hexdigest()

    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    cnonce = cnonce or secrets.token_hex(8)
    ha1 = h(f"{user}:{realm}:{password}")
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    parts = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
    if "auth" in qops:
        ncs = f"{nc:08x}"
        response = h(f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}")
        parts += [f'response="{response}"', "qop=auth", f"nc={ncs}", f'cnonce="{cnonce}"']
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")
        parts.append(f'response="{response}"')
    parts.append(f"algorithm={algorithm}")
    if "opaque" in challenge:
        parts.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(parts)


# ---- transports -----------------------------------------------------------------------------

class Connection:
    """One socket to the server; `send()` a whole message, `recv()` the next whole message."""

    def __init__(self, transport: str, host: str, port: int, *, ca_cert: str | None = None,
                 timeout: float = 5.0, ws_path: str = "/"):
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {transport!r}")
        self.transport, self.host, self.port = transport, host, port
        self._buf = b""
        if transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.connect((host, port))
        else:
            raw = socket.create_connection((host, port), timeout=timeout)
            if transport in ("tls", "wss"):
                if not ca_cert:
                    raise ValueError(f"{transport} needs ca_cert (the lab CA): no unverified TLS")
                ctx = ssl.create_default_context(cafile=ca_cert)
                raw = ctx.wrap_socket(raw, server_hostname=host)
            self.sock = raw
            if transport in ("ws", "wss"):
                self._ws_handshake(ws_path, timeout)
        self.local = self.sock.getsockname()[:2]

    # WebSocket (RFC 6455) with the `sip` subprotocol (RFC 7118).
    def _ws_handshake(self, path: str, timeout: float) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: sip\r\nOrigin: http://127.0.0.1\r\n\r\n")
        self.sock.settimeout(timeout)
        self.sock.sendall(request.encode())
        while b"\r\n\r\n" not in self._buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise SipError("WebSocket handshake: connection closed")
            self._buf += chunk
        head, _, self._buf = self._buf.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise SipError(f"WebSocket handshake refused: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(":") for line in lines[1:])}
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise SipError("WebSocket handshake: bad Sec-WebSocket-Accept")
        if headers.get("sec-websocket-protocol", "").lower() != "sip":
            raise SipError("WebSocket handshake: server did not select the sip subprotocol")

    def _ws_send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SipError(f"{self.transport}: connection closed by the server")
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _ws_recv_message(self) -> bytes:
        message = b""
        while True:
            b0, b1 = self._read_exact(2)
            fin, opcode, masked, n = b0 & 0x80, b0 & 0x0F, b1 & 0x80, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8))[0]
            mask = self._read_exact(4) if masked else b""
            payload = self._read_exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise SipError("WebSocket closed by the server")
            if opcode == 0x9:
                self._ws_send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if fin:
                return message

    def send(self, data: bytes) -> None:
        if self.transport == "udp":
            self.sock.send(data)
        elif self.transport in ("ws", "wss"):
            self._ws_send_frame(0x1, data)
        else:
            self.sock.sendall(data)

    def recv(self, timeout: float) -> SipMessage:
        """The next whole SIP message; raises socket.timeout (TimeoutError) when none comes."""
        self.sock.settimeout(max(timeout, 0.001))
        if self.transport == "udp":
            while True:
                data = self.sock.recv(65535)
                if data.strip():  # ignore CRLF keep-alives
                    return parse_message(data)
        if self.transport in ("ws", "wss"):
            return parse_message(self._ws_recv_message())
        while True:
            # RFC 5626 keep-alive CRLFs between messages
            while self._buf.startswith(b"\r\n"):
                self._buf = self._buf[2:]
            end = self._buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self._buf[:end].decode(errors="replace")
                m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(self._buf) >= total:
                    data, self._buf = self._buf[:total], self._buf[total:]
                    return parse_message(data)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SipError(f"{self.transport}: connection closed by the server")
            self._buf += chunk

    def close(self) -> None:
        try:
            if self.transport in ("ws", "wss"):
                self._ws_send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


# ---- the user agent -------------------------------------------------------------------------

class SipUa:
    """A user agent for one account (or none, for OPTIONS) over one transport."""

    def __init__(self, transport: str, host: str, port: int, *, user: str | None = None,
                 password: str | None = None, domain: str | None = None,
                 ca_cert: str | None = None, timeout: float = 5.0):
        self.transport, self.host, self.port = transport, host, port
        self.user, self.password = user, password
        self.domain = domain or host
        self.timeout = timeout
        self.conn = Connection(transport, host, port, ca_cert=ca_cert, timeout=timeout)
        self.call_ids: dict[str, str] = {}
        self.cseq = 0
        self.from_tag = secrets.token_hex(6)
        self.received: list[SipMessage] = []  # requests the server sent us (answered 200)
        self.responses: list[SipMessage] = []  # every final response, challenges included
        # RFC 7118 §5: a WebSocket client has no reachable address; it invents one.
        self._ws_host = secrets.token_hex(6) + ".invalid"

    def __enter__(self) -> "SipUa":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # addresses as this client writes them
    @property
    def via_proto(self) -> str:
        return self.transport.upper()

    def _sent_by(self) -> str:
        if self.transport in ("ws", "wss"):
            return self._ws_host
        return f"{self.conn.local[0]}:{self.conn.local[1]}"

    def contact_uri(self) -> str:
        user = f"{self.user}@" if self.user else ""
        # RFC 7118 §5.2: "ws" is the URI transport parameter for WS and WSS alike.
        tp = {"udp": "", "wss": ";transport=ws"}.get(self.transport, f";transport={self.transport}")
        return f"sip:{user}{self._sent_by()}{tp}"

    def aor(self, user: str | None = None) -> str:
        user = user or self.user
        return f"sip:{user}@{self.domain}" if user else f"sip:{self.domain}"

    def server_uri(self) -> str:
        tp = "" if self.transport == "udp" else f";transport={self.transport}"
        return f"sip:{self.host}:{self.port}{tp}"

    # requests
    def request(self, method: str, ruri: str, *, to: str | None = None,
                headers: dict[str, str] | list[tuple[str, str]] | None = None,
                body: bytes = b"", call_key: str | None = None, authenticate: bool = True,
                timeout: float | None = None) -> SipMessage:
        """Send a request and return the final response (after answering one challenge)."""
        timeout = self.timeout if timeout is None else timeout
        call_id = self.call_ids.setdefault(call_key or secrets.token_hex(8),
                                           secrets.token_hex(10) + "@sidetone-lab")
        extra = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        auth_header: tuple[str, str] | None = None
        for attempt in range(3):
            self.cseq += 1
            hdrs = list(extra) + ([auth_header] if auth_header else [])
            msg = self._build(method, ruri, to or ruri, call_id, hdrs, body)
            response = self._transaction(msg, method, timeout)
            self.responses.append(response)
            if response.status in (401, 407) and authenticate and self.user and attempt < 2:
                name = "www-authenticate" if response.status == 401 else "proxy-authenticate"
                challenges = [parse_challenge(v) for v in response.header_all(name)]
                if not challenges:
                    return response
                # Prefer the strongest algorithm offered (RFC 8760 §2.4).
                challenges.sort(key=lambda c: 0 if c.get("algorithm", "").upper().startswith(
                    "SHA-256") else 1)
                if attempt == 1 and (challenges[0].get("stale", "").lower() != "true"):
                    return response  # our credentials were refused, not just a stale nonce
                auth_name = "Authorization" if response.status == 401 else "Proxy-Authorization"
                auth_header = (auth_name, digest_authorization(
                    challenges[0], method, ruri, self.user, self.password or ""))
                continue
            return response
        return response

    def _build(self, method: str, ruri: str, to: str, call_id: str,
               headers: list[tuple[str, str]], body: bytes) -> bytes:
        branch = "z9hG4bK" + secrets.token_hex(10)
        lines = [
            f"{method} {ruri} SIP/2.0",
            f"Via: SIP/2.0/{self.via_proto} {self._sent_by()};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <{self.aor() if self.user else 'sip:probe@' + self.domain}>"
            f";tag={self.from_tag}",
            f"To: <{to}>",
            f"Call-ID: {call_id}",
            f"CSeq: {self.cseq} {method}",
            "User-Agent: sidetone-lab-probe",
        ]
        names = {k.lower() for k, _ in headers}
        if method in ("REGISTER", "SUBSCRIBE", "INVITE") and "contact" not in names:
            lines.append(f"Contact: <{self.contact_uri()}>")
        lines += [f"{k}: {v}" for k, v in headers if v is not None]  # None: leave it out
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def _transaction(self, data: bytes, method: str, timeout: float) -> SipMessage:
        branch = re.search(rb"branch=([^;\r\n]+)", data).group(1).decode()
        deadline = time.monotonic() + timeout
        retransmit = T1
        next_send = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise SipError(f"{method} over {self.transport} to {self.host}:{self.port}: "
                               f"no final response within {timeout:.1f}s")
            if self.transport == "udp" and now >= next_send:
                self.conn.send(data)
                next_send = now + retransmit
                retransmit = min(retransmit * 2, 4.0)
            elif next_send is not None and self.transport != "udp":
                self.conn.send(data)
                next_send = None
            wait = deadline - now
            if self.transport == "udp":
                wait = min(wait, max(next_send - now, 0.001))
            try:
                msg = self.conn.recv(wait)
            except (socket.timeout, TimeoutError):
                continue
            if not msg.is_response:
                self._answer(msg)
                continue
            via = msg.header("via") or ""
            if f"branch={branch}" not in via or msg.cseq_method != method:
                continue  # a late response to an earlier transaction
            if msg.status >= 200:
                return msg

    def _answer(self, request: SipMessage, status: int = 200, reason: str = "OK") -> None:
        """Answer a request the server sent us (NOTIFY, OPTIONS keep-alive...)."""
        self.received.append(request)
        if request.method == "ACK":
            return
        to = request.header("to") or ""
        if ";tag=" not in to:
            to += ";tag=" + secrets.token_hex(4)
        lines = [f"SIP/2.0 {status} {reason}"]
        lines += [f"Via: {v}" for v in request.header_all("via")]
        lines += [f"From: {request.header('from')}", f"To: {to}",
                  f"Call-ID: {request.header('call-id')}", f"CSeq: {request.header('cseq')}",
                  "Content-Length: 0"]
        self.conn.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    def wait_request(self, method: str, timeout: float | None = None,
                     predicate=lambda msg: True) -> SipMessage:
        """Wait for a request from the server (answered 200), e.g. a NOTIFY."""
        for msg in self.received:
            if msg.method == method and predicate(msg):
                self.received.remove(msg)
                return msg
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while time.monotonic() < deadline:
            try:
                msg = self.conn.recv(deadline - time.monotonic())
            except (socket.timeout, TimeoutError):
                break
            if msg.is_response:
                continue
            self._answer(msg)
            if msg.method == method and predicate(msg):
                self.received.remove(msg)
                return msg
        raise SipError(f"no {method} from the server within the timeout")

    # the requests the lab needs
    def options(self, ruri: str | None = None) -> SipMessage:
        return self.request("OPTIONS", ruri or self.server_uri(), authenticate=False)

    def register(self, expires: int = 300) -> SipMessage:
        return self.request("REGISTER", f"sip:{self.domain}", to=self.aor(),
                            headers={"Expires": str(expires)}, call_key="register")

    def unregister(self) -> SipMessage:
        return self.register(expires=0)

    def bindings(self) -> list[str]:
        """The contacts the registrar holds for this user (a REGISTER without Contact)."""
        response = self.request("REGISTER", f"sip:{self.domain}", to=self.aor(),
                                headers=[("Contact", None)], call_key="register")
        if response.status != 200:
            raise SipError(f"binding query got {response.status} {response.reason}")
        contacts = []
        for value in response.header_all("contact"):
            # split "<a>;p, <b>;q" on commas outside <> and quotes
            depth, quoted, start = 0, False, 0
            for i, ch in enumerate(value + ","):
                if ch == '"':
                    quoted = not quoted
                elif ch == "<" and not quoted:
                    depth += 1
                elif ch == ">" and not quoted:
                    depth -= 1
                elif ch == "," and not quoted and depth == 0:
                    if value[start:i].strip():
                        contacts.append(value[start:i].strip())
                    start = i + 1
        return contacts

    def subscribe(self, event: str, target: str | None = None, expires: int = 300,
                  accept: str | None = None) -> SipMessage:
        target = target or self.aor()
        hdrs = {"Event": event, "Expires": str(expires)}
        if accept:
            hdrs["Accept"] = accept
        return self.request("SUBSCRIBE", target, headers=hdrs, call_key="subscribe:" + target)

    def publish(self, event: str, target: str, body: bytes, content_type: str,
                expires: int = 3600) -> SipMessage:
        return self.request("PUBLISH", target, headers={
            "Event": event, "Expires": str(expires), "Content-Type": content_type}, body=body)


def options_status(transport: str, host: str, port: int, *, ca_cert: str | None = None,
                   timeout: float = 1.0) -> int:
    """The status code a SIP OPTIONS to the server gets (the lab's readiness probe)."""
    with SipUa(transport, host, port, ca_cert=ca_cert, timeout=timeout) as ua:
        return ua.options().status


def message_summary(new: int, old: int = 0, account: str | None = None) -> bytes:
    """An RFC 3842 message-summary body."""
    lines = [f"Messages-Waiting: {'yes' if new else 'no'}"]
    if account:
        lines.append(f"Message-Account: {account}")
    lines.append(f"Voice-Message: {new}/{old} (0/0)")
    return ("\r\n".join(lines) + "\r\n").encode()
