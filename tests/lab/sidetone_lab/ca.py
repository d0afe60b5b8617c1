"""The lab's certificate authority: one throwaway CA per lab, and server certificates from it.

Clients in tests trust `ca_cert` explicitly (never a switch that turns verification off). Keys
are EC P-256, certificates are X.509 v3 with the extensions rustls/webpki and OpenSSL insist on:
the CA has `basicConstraints CA:TRUE` and `keyCertSign`; leaves have subjectAltName entries for
every host (IP and DNS), `extendedKeyUsage serverAuth` and `CA:FALSE`.

    lab.start("ca")
    cert, key = lab.services["ca"].issue("kamailio", hosts=["127.0.0.1", "localhost"])
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from .core import LabError, Service

VALID_DAYS = 30


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=str(cwd), capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise LabError(f"ca: openssl {args[0]} failed ({result.returncode}): "
                       f"{result.stderr.strip()[-800:]}")


def _new_key(path: Path, cwd: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", str(path), cwd=cwd)
    os.chmod(path, 0o600)


def _san(hosts: list[str]) -> str:
    entries = []
    for host in hosts:
        try:
            ipaddress.ip_address(host)
            entries.append(f"IP:{host}")
        except ValueError:
            entries.append(f"DNS:{host}")
    return ",".join(entries)


class LabCa(Service):
    """A certificate authority made fresh for each lab; `issue()` signs server certificates."""

    name = "ca"

    def __init__(self, lab, **options):
        super().__init__(lab, **options)
        self.cert = self.dir / "ca.crt"
        self.key = self.dir / "ca.key"
        self._issued: dict[str, tuple[Path, Path]] = {}

    def start(self) -> dict:
        if shutil.which("openssl") is None:
            raise LabError("ca: openssl is not installed (apt-get install openssl)")
        _new_key(self.key, self.dir)
        # A random suffix keeps two labs' CAs apart in any trust store or log they end up in.
        subject = f"/O=Sidetone Lab/CN=Sidetone Lab CA {secrets.token_hex(4)}"
        _openssl("req", "-x509", "-new", "-key", str(self.key), "-sha256",
                 "-days", str(VALID_DAYS), "-subj", subject,
                 "-set_serial", "0x" + secrets.token_hex(16),
                 "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-addext", "subjectKeyIdentifier=hash",
                 "-out", str(self.cert), cwd=self.dir)
        return {"ca_cert": str(self.cert)}

    def issue(self, name: str, hosts: list[str] | tuple[str, ...] = ("127.0.0.1", "localhost")
              ) -> tuple[Path, Path]:
        """A server certificate and its key for `hosts`, signed by this CA: (cert_path, key_path).

        Issuing the same name twice returns the first certificate."""
        if name in self._issued:
            return self._issued[name]
        hosts = list(hosts)
        if not hosts:
            raise LabError(f"ca: issue({name!r}) needs at least one host")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        key = self.dir / f"{safe}.key"
        csr = self.dir / f"{safe}.csr"
        cert = self.dir / f"{safe}.crt"
        ext = self.dir / f"{safe}.ext"
        ext.write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyAgreement\n"
            "extendedKeyUsage=serverAuth\n"
            f"subjectAltName={_san(hosts)}\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n")
        _new_key(key, self.dir)
        _openssl("req", "-new", "-key", str(key), "-subj", f"/O=Sidetone Lab/CN={hosts[0]}",
                 "-out", str(csr), cwd=self.dir)
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
                 "-set_serial", "0x" + secrets.token_hex(16), "-days", str(VALID_DAYS),
                 "-sha256", "-extfile", str(ext), "-out", str(cert), cwd=self.dir)
        csr.unlink(missing_ok=True)
        self._issued[name] = (cert, key)
        return cert, key
