"""dnsmasq as the lab's DNS server: NAPTR, SRV and A records on 127.0.0.1, nothing forwarded.

    eps = lab.start("dns")                     # after kamailio: publishes its SIP records
    eps["server"]                              # "127.0.0.1:P", for SIDETONE_DNS_SERVER
    dns_query("127.0.0.1", eps["port"], "_sip._udp.udp.lab.test", "SRV")

With Kamailio running (start it with `domain="sip.lab.test"`, the name its certificate and
alias carry), the zone `lab.test` holds the RFC 3263 cases the SIP tests need, all pointing
at Kamailio's real ports on 127.0.0.1 (none is a default port):

    sip.lab.test       NAPTR SIPS+D2T (order 10), SIP+D2T (20), SIP+D2U (30), each to
                       the standard SRV name; SRV _sips._tcp -> pbx.lab.test:TLS port,
                       _sip._tcp and _sip._udp -> pbx.lab.test:SIP port
    udp.lab.test       only SRV _sip._udp -> pbx.lab.test:SIP port
    none.lab.test      no NAPTR, no SRV (clients fall back to default ports)
    stranger.lab.test  SRV _sips._tcp -> pbx.lab.test:TLS port and _sip._udp -> the SIP
                       port: Kamailio's certificate does not name this domain
    pbx.lab.test       the SRV target; deliberately *not* in Kamailio's certificate, because
                       TLS checks the SIP domain, never the SRV target (RFC 5922 §4)

and every name above has an A record 127.0.0.1. Names in the zone that are not listed get
NXDOMAIN; names outside it get REFUSED (`--no-resolv`, nothing is forwarded).

Options:
    zone      the zone (default "lab.test")
    records   extra records: dicts {"type": "A", "name", "address"},
              {"type": "SRV", "name", "target", "port", "priority"=0, "weight"=0} or
              {"type": "NAPTR", "name", "order", "preference", "flags"="S", "service",
              "replacement"}
    sip       publish the Kamailio records above (default: when Kamailio runs)
"""

from __future__ import annotations

import secrets
import shutil
import socket
import struct

from .core import LabError, Service

TYPES = {"A": 1, "SRV": 33, "NAPTR": 35}


class LabDns(Service):
    """dnsmasq on 127.0.0.1 with a random port, serving only the records it is given."""

    name = "dns"

    def start(self) -> dict:
        binary = shutil.which("dnsmasq") or shutil.which("/usr/sbin/dnsmasq")
        if binary is None:
            raise LabError("dns: dnsmasq not installed (apt-get install dnsmasq-base)")
        zone = self.options.get("zone", "lab.test")
        records = list(self.options.get("records", []))
        names: dict[str, str] = {}
        if self.options.get("sip", "kamailio" in self.lab.services):
            if "kamailio" not in self.lab.services:
                raise LabError("dns: sip=True needs kamailio started first")
            ports = self.lab.services["kamailio"].endpoints["ports"]
            sip_records, names = kamailio_records(zone, ports["tls"], ports["sip"])
            records = sip_records + records
        lines = [_line(record) for record in records]
        # Ports can be taken between allocation and bind: pick another and try again.
        last_error: LabError | None = None
        for _ in range(3):
            port = self.lab.port()
            try:
                self._run(binary, port, zone, lines)
                break
            except LabError as exc:
                last_error = exc
                if "Address already in use" not in str(exc):
                    raise
                super().stop()
        else:
            raise last_error  # type: ignore[misc]
        return {"server": f"127.0.0.1:{port}", "port": port, "zone": zone, "names": names}

    def _run(self, binary: str, port: int, zone: str, lines: list[str]) -> None:
        conf = self.dir / "dnsmasq.conf"
        conf.write_text("\n".join([
            "listen-address=127.0.0.1",
            "bind-interfaces",
            f"port={port}",
            "no-resolv",
            "no-hosts",
            "no-poll",
            # Answer for the zone from these records only: unknown names get NXDOMAIN.
            f"local=/{zone}/",
            f"pid-file={self.dir / 'dnsmasq.pid'}",
            "user=root",
            "log-queries",
            "log-facility=-",
            *lines,
        ]) + "\n")
        proc = self.spawn([binary, "--keep-in-foreground", f"--conf-file={conf}"])
        # Ready when it answers a real query for a name only it knows.
        probe = f"ready-{secrets.token_hex(4)}.{zone}"
        self.lab.wait_ready("dnsmasq (DNS query)",
                            lambda: _answers(port, probe), timeout=10, proc=proc)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            self.lab.terminate(proc, grace=1.0)
        self.processes.clear()


def kamailio_records(zone: str, tls_port: int, sip_port: int
                     ) -> tuple[list[dict], dict[str, str]]:
    """The SIP records of the module docs, for a Kamailio on these ports."""
    target = f"pbx.{zone}"
    full, udp, none, stranger = (f"{n}.{zone}" for n in ("sip", "udp", "none", "stranger"))
    records: list[dict] = [
        {"type": "A", "name": name, "address": "127.0.0.1"}
        for name in (full, udp, none, stranger, target)
    ]
    for order, service, srv in ((10, "SIPS+D2T", "_sips._tcp"), (20, "SIP+D2T", "_sip._tcp"),
                                (30, "SIP+D2U", "_sip._udp")):
        records.append({"type": "NAPTR", "name": full, "order": order, "preference": 10,
                        "service": service, "replacement": f"{srv}.{full}"})
    records += [
        {"type": "SRV", "name": f"_sips._tcp.{full}", "target": target, "port": tls_port},
        {"type": "SRV", "name": f"_sip._tcp.{full}", "target": target, "port": sip_port},
        {"type": "SRV", "name": f"_sip._udp.{full}", "target": target, "port": sip_port},
        {"type": "SRV", "name": f"_sip._udp.{udp}", "target": target, "port": sip_port},
        {"type": "SRV", "name": f"_sips._tcp.{stranger}", "target": target, "port": tls_port},
        {"type": "SRV", "name": f"_sip._udp.{stranger}", "target": target, "port": sip_port},
    ]
    names = {"naptr": full, "udp_only": udp, "none": none, "stranger": stranger,
             "target": target}
    return records, names


def _line(record: dict) -> str:
    """One record as a dnsmasq config line."""
    kind = record.get("type")
    if kind == "A":
        return f"host-record={record['name']},{record['address']}"
    if kind == "SRV":
        return (f"srv-host={record['name']},{record['target']},{int(record['port'])},"
                f"{int(record.get('priority', 0))},{int(record.get('weight', 0))}")
    if kind == "NAPTR":
        return (f"naptr-record={record['name']},{int(record['order'])},"
                f"{int(record['preference'])},{record.get('flags', 'S')},"
                f"{record['service']},,{record['replacement']}")
    raise LabError(f"dns: unknown record {record!r}")


def _answers(port: int, name: str) -> bool:
    """True when the server answers a query for `name` at all (any response code)."""
    try:
        dns_query("127.0.0.1", port, name, "A", timeout=0.3)
        return True
    except OSError:
        return False


# ---- a DNS client (RFC 1035), standard library only -----------------------------------------

def dns_query(host: str, port: int, name: str, kind: str, timeout: float = 2.0
              ) -> tuple[int, list]:
    """Ask `name` `kind` (A, SRV, NAPTR) over UDP; return (rcode, answers). Answers are
    "1.2.3.4" for A, (priority, weight, port, target) for SRV and (order, preference,
    flags, service, regexp, replacement) for NAPTR. Raises OSError when nothing answers."""
    qid = secrets.randbelow(65536)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + b"\0" + \
        struct.pack("!HH", TYPES[kind], 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (host, port))
        while True:
            data, _ = sock.recvfrom(4096)
            if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
                break
    _, flags, qd, an, _, _ = struct.unpack("!HHHHHH", data[:12])
    pos = 12
    for _ in range(qd):
        _, pos = _name(data, pos)
        pos += 4
    answers = []
    for _ in range(an):
        _, pos = _name(data, pos)
        rtype, _, _, length = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        rdata = data[pos:pos + length]
        if rtype == TYPES["A"] and length == 4:
            answers.append(socket.inet_ntoa(rdata))
        elif rtype == TYPES["SRV"]:
            priority, weight, srv_port = struct.unpack("!HHH", rdata[:6])
            answers.append((priority, weight, srv_port, _name(data, pos + 6)[0]))
        elif rtype == TYPES["NAPTR"]:
            order, preference = struct.unpack("!HH", rdata[:4])
            at = pos + 4
            texts = []
            for _ in range(3):
                size = data[at]
                texts.append(data[at + 1:at + 1 + size].decode())
                at += 1 + size
            answers.append((order, preference, *texts, _name(data, at)[0]))
        pos += length
    return flags & 0x000F, answers


def _name(data: bytes, pos: int) -> tuple[str, int]:
    """A (possibly compressed) domain name at `pos`: (name, position after it)."""
    labels, end, jumps = [], None, 0
    while True:
        size = data[pos]
        if size & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((size & 0x3F) << 8) | data[pos + 1]
            jumps += 1
            if jumps > 20:
                raise OSError("DNS name compression loop")
            continue
        if size == 0:
            return ".".join(labels), (end if end is not None else pos + 1)
        labels.append(data[pos + 1:pos + 1 + size].decode())
        pos += 1 + size
