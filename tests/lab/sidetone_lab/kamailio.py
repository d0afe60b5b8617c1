"""Kamailio 5.6 as the lab's registrar and proxy: UDP, TCP, TLS, WS and WSS on 127.0.0.1.

    eps = lab.start("kamailio", users=["1001", "1002"])      # random passwords
    eps["users"]["1001"]                                       # -> that user's password
    lab.services["kamailio"].add_user("2001")                  # works while running
    lab.services["kamailio"].restart()                         # same ports, same users

Options:
    users              list of user names, or {user: password or None}; None = random.
                       Default: 1001, 1002, 1003.
    domain             SIP domain of the users (default "127.0.0.1": works with SIPp, baresip
                       and the app without DNS). Another name (e.g. "sidetone.test") works for
                       clients that use the server as outbound proxy; 127.0.0.1 is always
                       accepted as well.
    realm              digest realm (default: the domain).
    digest_algorithm   "MD5" (default) or "SHA-256" (RFC 8760). Kamailio 5.6 offers one
                       algorithm per server, so with SHA-256 clients that only know MD5 (SIPp
                       3.6, baresip 1.0) cannot register.
    debug              Kamailio log level (default 2; 3 = debug).
    config_template    another Kamailio config template to render instead of
                       tests/lab/config/kamailio/kamailio.cfg (same placeholders).

Registrations live in memory (usrloc db_mode 0): a restart forgets them, as a real server
crash would. Users and presence state live in SQLite in the service dir.
"""

from __future__ import annotations

import re
import secrets
import shutil
import sqlite3
import string
import time
from pathlib import Path

from .core import LabError, Service
from .sip_ua import SipError, SipUa, message_summary, options_status

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config" / "kamailio"
SCHEMA_DIR = Path("/usr/share/kamailio/db_sqlite")
MODULE_DIRS = [Path("/usr/lib/x86_64-linux-gnu/kamailio/modules"),
               Path("/usr/lib/aarch64-linux-gnu/kamailio/modules"),
               Path("/usr/lib/kamailio/modules")]
DEFAULT_USERS = ("1001", "1002", "1003")
# The account a voicemail server uses to PUBLISH message-summary (MWI) for a mailbox.
MWI_PUBLISHER = "voicemail"
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def random_password(length: int = 20) -> str:
    """A random password: letters and digits only (safe in CSV, URLs and config files)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def _module_dir() -> Path:
    for path in MODULE_DIRS:
        if (path / "tls.so").exists():
            return path
    raise LabError("kamailio: modules not found (apt-get install kamailio "
                   "kamailio-sqlite-modules kamailio-tls-modules kamailio-websocket-modules "
                   "kamailio-extra-modules kamailio-presence-modules)")


class Kamailio(Service):
    """Registrar/proxy with digest auth, usrloc in memory, presence + MWI, five transports."""

    name = "kamailio"
    # Fault injection from a `lab up --stdin-lifeline` parent (see cli._control): a crash
    # (SIGKILL of the whole process group) and a start on the same ports and users.
    CONTROL_ACTIONS = ("kill", "revive", "restart")

    def __init__(self, lab, **options):
        super().__init__(lab, **options)
        self.domain = options.get("domain", "127.0.0.1")
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", self.domain):
            raise LabError(f"kamailio: domain must be a host name or IPv4 address, "
                           f"not {self.domain!r}")
        self.realm = options.get("realm") or self.domain
        self.algorithm = options.get("digest_algorithm", "MD5").upper()
        if self.algorithm not in ("MD5", "SHA-256"):
            raise LabError(f"kamailio: digest_algorithm must be MD5 or SHA-256, "
                           f"not {self.algorithm!r}")
        self.users: dict[str, str] = {}
        self.ports: dict[str, int] = {}
        self.db = self.dir / "kamailio.db"
        self.cfg = self.dir / "kamailio.cfg"
        self.run_dir = self.dir / "run"
        self.ca_cert: str | None = None
        self.process = None
        self.mwi_publisher: dict[str, str] = {}

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> dict:
        binary = shutil.which("kamailio")
        if binary is None:
            raise LabError("kamailio: not installed (apt-get install kamailio ...)")
        mpath = _module_dir()
        for module in ("presence.so", "presence_mwi.so"):
            if not (mpath / module).exists():
                raise LabError(f"kamailio: module {module} missing "
                               "(apt-get install kamailio-presence-modules)")
        self.binary = binary
        ca = self.lab.start("ca")
        self.ca_cert = ca["ca_cert"]
        cert, key = self.lab.services["ca"].issue("kamailio", ["127.0.0.1", "localhost"]
                                                  + ([self.domain] if self.domain not in
                                                     ("127.0.0.1", "localhost") else []))
        self.run_dir.mkdir(exist_ok=True)
        self._create_db()

        wanted = self.options.get("users", DEFAULT_USERS)
        if isinstance(wanted, dict):
            items = list(wanted.items())
        else:
            items = [(u, None) for u in wanted]
        for user, password in items:
            self.add_user(user, password)
        self.mwi_publisher = {"user": MWI_PUBLISHER,
                              "password": self._insert_user(MWI_PUBLISHER, None)}

        (self.dir / "tls.cfg").write_text(
            "[server:default]\n"
            "method = TLSv1.2+\n"
            "verify_certificate = no\n"
            "require_certificate = no\n"
            f"private_key = {key}\n"
            f"certificate = {cert}\n"
            "\n[client:default]\n"
            "method = TLSv1.2+\n"
            "verify_certificate = yes\n"
            "require_certificate = yes\n"
            f"ca_list = {self.ca_cert}\n")

        # Ports can be taken between allocation and bind (another lab, an outgoing socket):
        # then pick new ones and try again.
        last_error: LabError | None = None
        for _ in range(3):
            self.ports = {"sip": self.lab.port(), "tls": self.lab.port(),
                          "ws": self.lab.port(), "wss": self.lab.port()}
            self._render_config(mpath)
            try:
                self._start_process()
                break
            except LabError as exc:
                last_error = exc
                if "Address already in use" not in str(exc):
                    raise
                self._stop_process()
        else:
            raise last_error  # type: ignore[misc]
        return self._endpoints()

    def _endpoints(self) -> dict:
        p = self.ports
        return {
            "domain": self.domain,
            "realm": self.realm,
            "digest_algorithm": self.algorithm,
            "udp": f"127.0.0.1:{p['sip']}",
            "tcp": f"127.0.0.1:{p['sip']}",
            "tls": f"127.0.0.1:{p['tls']}",
            "ws": f"ws://127.0.0.1:{p['ws']}",
            "wss": f"wss://127.0.0.1:{p['wss']}",
            "ports": dict(p),
            "ca_cert": self.ca_cert,
            "users": dict(self.users),
            "mwi_publisher": dict(self.mwi_publisher),
            "log": str(self.process.log) if self.process else None,
        }

    def stop(self) -> None:
        self._stop_process()
        super().stop()

    def restart(self, graceful: bool = False) -> dict:
        """Kill Kamailio, wait until its processes are gone, start it again on the same ports.

        `graceful=False` (default) is a crash (SIGKILL); True sends SIGTERM first. Users stay;
        registrations and subscriptions (in memory) are lost, as on a real server."""
        self.kill(graceful=graceful)
        return self.revive()

    def kill(self, graceful: bool = False) -> None:
        """Stop the server process but keep the service (ports, users): see `revive()`."""
        self._stop_process(graceful=graceful)

    def revive(self) -> dict:
        """Start the server again after `kill()`, on the same ports."""
        if self.process is not None and self.process.alive():
            return self.endpoints
        # The killed server's children leave its PID namespace a moment after it: one of them
        # may still hold the SQLite file, and Kamailio's db_sqlite has no busy timeout, so a
        # start that finds the database locked is tried again (bounded).
        for attempt in range(3):
            try:
                self._start_process()
                break
            except LabError as exc:
                if attempt == 2 or "database is locked" not in str(exc):
                    raise
                self._stop_process(graceful=False)
                time.sleep(0.5 * (attempt + 1))
        self.endpoints = self._endpoints()
        return self.endpoints

    # ---- users ----------------------------------------------------------------------------

    def add_user(self, user: str, password: str | None = None) -> str:
        """Add (or reset) a user; returns the password (random unless given). Works live."""
        if not re.fullmatch(r"[A-Za-z0-9._+-]{1,64}", user):
            raise LabError(f"kamailio: invalid user name {user!r}")
        password = self._insert_user(user, password)
        self.users[user] = password
        if self.endpoints:
            self.endpoints["users"] = dict(self.users)
        return password

    def remove_user(self, user: str) -> None:
        """Delete a user (existing registrations stay until they expire)."""
        with self._db() as db:
            db.execute("DELETE FROM subscriber WHERE username = ?", (user,))
        self.users.pop(user, None)
        if self.endpoints:
            self.endpoints["users"] = dict(self.users)

    def _insert_user(self, user: str, password: str | None) -> str:
        password = password if password is not None else random_password()
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO subscriber (username, domain, password) "
                       "VALUES (?, ?, ?)", (user, self.domain, password))
        return password

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(str(self.db), timeout=10)

    def _create_db(self) -> None:
        schema = ""
        for name in ("standard", "auth_db", "presence"):
            path = SCHEMA_DIR / f"{name}-create.sql"
            if not path.exists():
                raise LabError(f"kamailio: {path} missing (apt-get install "
                               "kamailio-sqlite-modules)")
            schema += path.read_text() + "\n"
        self.db.unlink(missing_ok=True)
        db = sqlite3.connect(str(self.db))
        try:
            # WAL lets Kamailio's workers read while add_user() writes.
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(schema)
            db.commit()
        finally:
            db.close()

    # ---- MWI ------------------------------------------------------------------------------

    def publish_mwi(self, user: str, new: int, old: int = 0, expires: int = 3600) -> int:
        """PUBLISH a message-summary for `user`'s mailbox (as the voicemail account) so the
        presence module NOTIFYs its subscribers; returns the final status (200 expected)."""
        target = f"sip:{user}@{self.domain}"
        with SipUa("udp", "127.0.0.1", self.ports["sip"], user=MWI_PUBLISHER,
                   password=self.mwi_publisher["password"], domain=self.domain) as ua:
            return ua.publish("message-summary", target,
                              message_summary(new, old, account=target),
                              "application/simple-message-summary", expires=expires).status

    # ---- process --------------------------------------------------------------------------

    def _render_config(self, mpath: Path) -> None:
        template = Path(self.options.get("config_template")
                        or CONFIG_DIR / "kamailio.cfg").read_text()
        aliases = "" if self.domain in ("127.0.0.1", "localhost") else f'alias="{self.domain}"'
        values = {
            "SIP_PORT": self.ports["sip"], "TLS_PORT": self.ports["tls"],
            "WS_PORT": self.ports["ws"], "WSS_PORT": self.ports["wss"],
            "DB_URL": f"sqlite:///{self.db}",  # + the absolute path's "/" = four slashes
            "TLS_CFG": self.dir / "tls.cfg", "MPATH": str(mpath) + "/",
            "DOMAIN": self.domain, "REALM": self.realm, "ALIASES": aliases,
            "DIGEST_ALGORITHM": self.algorithm, "MWI_PUBLISHER": MWI_PUBLISHER, "DEBUG": int(self.options.get("debug", 2)),
        }
        assert values["DB_URL"].startswith("sqlite:////"), values["DB_URL"]
        text = template
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", str(value))
        left = re.findall(r"\{\{[A-Z_]+\}\}", text)
        if left:
            raise LabError(f"kamailio: template placeholders not rendered: {sorted(set(left))}")
        self.cfg.write_text(text)

    def _start_process(self) -> None:
        argv = [self.binary, "-DD", "-E", "-f", str(self.cfg), "-P", str(self.run_dir / "k.pid"),
                "-Y", str(self.run_dir), "-w", str(self.run_dir), "-m", "48", "-M", "8"]
        proc = self.spawn(argv)
        self.process = proc
        host, port = "127.0.0.1", self.ports["sip"]
        try:
            self.lab.wait_ready(
                "kamailio (SIP OPTIONS over UDP)",
                lambda: options_status("udp", host, port, timeout=0.3) == 200,
                timeout=15, proc=proc)
            # Every listener, checked once by a real request (TLS against the lab CA).
            for transport, p in (("tcp", port), ("tls", self.ports["tls"]),
                                 ("ws", self.ports["ws"]), ("wss", self.ports["wss"])):
                status = options_status(transport, host, p, ca_cert=self.ca_cert, timeout=3)
                if status != 200:
                    raise LabError(f"kamailio: OPTIONS over {transport} got {status}")
            # Workers that failed to open the database make Kamailio exit after it answered.
            time.sleep(0.05)
            if not proc.alive():
                raise LabError(f"kamailio exited after start ({proc.popen.returncode})\n"
                               f"--- {proc.log} ---\n{proc.log_tail()}")
        except (SipError, OSError) as exc:
            raise LabError(f"kamailio: {exc}\n--- {proc.log} ---\n{proc.log_tail()}") from exc
        except LabError as exc:
            if "Address already in use" in proc.log_tail(80):
                raise LabError(f"{exc}\nAddress already in use") from exc
            raise

    def _stop_process(self, graceful: bool = True) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if not graceful:
            # A crash: SIGKILL the whole process group (and PID namespace) at once.
            self.lab.terminate(proc, grace=0)
        else:
            self.lab.terminate(proc, grace=5.0)
        if proc in self.processes:
            self.processes.remove(proc)
        pidfile = self.run_dir / "k.pid"
        pidfile.unlink(missing_ok=True)

