"""SIPp scenarios against the lab, supervised like every lab process.

    eps = lab.start("kamailio"); lab.start("sipp")
    result = lab.services["sipp"].run("register.xml", target=eps["udp"], transport="udp",
                                      users={"1001": eps["users"]["1001"]}, domain=eps["domain"])
    assert result.ok, result.explain()

Scenarios live in tests/lab/scenarios (a bare file name is looked up there). Users go in
through an injection file (-inf): one line per user, `user;[authentication username=user
password=P];domain`, so a scenario uses [field0] (user), [field1] (the Authorization header:
SIPp 3.6 expands an [authentication] keyword only when it comes whole from the file) and
[field2] (domain). Keys (-key) every lab scenario may use: via_transport, contact_transport,
contact_port, expires, domain; add your own with `keys=`.

Transports: udp (-t u1), tcp (-t t1), tls. The Debian build of SIPp 3.6.1 has no TLS ("To use a
TLS transport you must compile SIPp with OpenSSL"), so for `tls` SIPp speaks TCP to a relay in
this process that carries it over TLS to the server, verifying the server against the lab CA;
the scenario's Via and Contact say TLS. SIPp has no WebSocket at all: see `sip_ua.SipUa`.
SIPp 3.6 answers digest challenges with MD5 only (no SHA-256).
"""

from __future__ import annotations

import itertools
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .core import LabError, Process, Service, _port_free

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
_TRANSPORT_ARGS = {"udp": "u1", "tcp": "t1", "tls": "t1"}
# SIPp's documented exit codes.
EXIT_CODES = {0: "all calls succeeded", 1: "at least one call failed",
              97: "exit on internal command", 99: "normal exit without calls processed",
              255: "fatal error (see output)", 254: "fatal error binding a socket"}


@dataclass
class ScenarioResult:
    """What a SIPp run did: its exit code, final statistics, unexpected messages, output."""

    returncode: int
    stats: dict[str, str] = field(default_factory=dict)
    errors: str = ""
    output: str = ""
    duration: float = 0.0
    argv: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """True when SIPp exited 0: every call followed the scenario."""
        return self.returncode == 0 and not self.timed_out

    def count(self, name: str) -> int:
        """A cumulative counter, e.g. count("SuccessfulCall"), count("FailedCall")."""
        try:
            return int(self.stats.get(f"{name}(C)", "0"))
        except ValueError:
            return 0

    @property
    def successful(self) -> int:
        return self.count("SuccessfulCall")

    @property
    def failed(self) -> int:
        return self.count("FailedCall")

    def explain(self) -> str:
        """A readable account for assertion messages."""
        what = EXIT_CODES.get(self.returncode, "unknown")
        return (f"sipp exited {self.returncode} ({what}){' after timeout' if self.timed_out else ''}"
                f", {self.successful} successful / {self.failed} failed calls, "
                f"{self.duration:.2f}s\nargv: {' '.join(self.argv)}\n"
                f"--- unexpected messages ---\n{self.errors[-3000:]}\n"
                f"--- output ---\n{self.output[-3000:]}")


class TlsRelay:
    """Accepts plain TCP on 127.0.0.1 and carries each connection over TLS to `target`,
    verifying the server's certificate against `ca_cert` (for tools without TLS, like SIPp)."""

    def __init__(self, target: str, ca_cert: str):
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self.context = ssl.create_default_context(cafile=ca_cert)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            t = threading.Thread(target=self._pump, args=(client,), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump(self, client: socket.socket) -> None:
        try:
            raw = socket.create_connection(self.target, timeout=5)
            server = self.context.wrap_socket(raw, server_hostname=self.target[0])
        except (OSError, ssl.SSLError) as exc:
            self.errors.append(f"TLS connect to {self.target}: {exc}")
            client.close()
            return
        server.setblocking(False)
        client.setblocking(False)
        try:
            while not self._stop.is_set():
                # An SSL socket may hold decrypted bytes select() cannot see.
                ready = [server] if server.pending() else []
                if not ready:
                    ready, _, _ = select.select([client, server], [], [], 0.1)
                for sock in ready:
                    other = server if sock is client else client
                    try:
                        data = sock.recv(65536)
                    except (ssl.SSLWantReadError, BlockingIOError):
                        continue
                    if not data:
                        return
                    other.setblocking(True)
                    other.sendall(data)
                    other.setblocking(False)
        except (OSError, ssl.SSLError) as exc:
            if not self._stop.is_set():
                self.errors.append(f"relay: {exc}")
        finally:
            for sock in (client, server):
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        for t in [self._accept_thread, *self._threads]:
            t.join(timeout=1)

    def __enter__(self) -> "TlsRelay":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SippRun:
    """A SIPp process started in the background (e.g. a callee); `wait()` for its result."""

    def __init__(self, sipp: "Sipp", proc: Process, argv: list[str], run_dir: Path,
                 port: int, relay: TlsRelay | None, timeout: float):
        self.sipp, self.proc, self.argv, self.dir = sipp, proc, argv, run_dir
        self.port = port  # SIPp's own SIP port (what a callee registers as its contact)
        self.relay = relay
        self.timeout = timeout
        self.started = time.monotonic()

    def wait(self, timeout: float | None = None) -> ScenarioResult:
        """Wait for SIPp to finish (killing it after `timeout`) and collect its result."""
        timeout = self.timeout + 5 if timeout is None else timeout
        timed_out = False
        try:
            self.proc.popen.wait(timeout=max(0.0, self.started + timeout - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
        self.sipp.lab.terminate(self.proc, grace=0 if timed_out else 1.0)
        if self.proc in self.sipp.processes:
            self.sipp.processes.remove(self.proc)
        if self.relay is not None:
            self.relay.close()
        rc = self.proc.popen.returncode
        stats = _last_stats(self.dir / "stats.csv")
        errors = (self.dir / "errors.log").read_text(errors="replace") \
            if (self.dir / "errors.log").exists() else ""
        if self.relay is not None and self.relay.errors:
            errors += "\n" + "\n".join(self.relay.errors)
        output = self.proc.log.read_text(errors="replace") if self.proc.log.exists() else ""
        return ScenarioResult(returncode=rc if rc is not None else -9, stats=stats,
                              errors=errors, output=output,
                              duration=time.monotonic() - self.started, argv=self.argv,
                              timed_out=timed_out)


def _last_stats(path: Path) -> dict[str, str]:
    """The last row of SIPp's -trace_stat CSV as {column: value}."""
    try:
        rows = [r for r in path.read_text(errors="replace").splitlines() if r.strip()]
    except OSError:
        return {}
    if len(rows) < 2:
        return {}
    header = rows[0].split(";")
    return dict(zip(header, rows[-1].split(";")))


def _scenario_path(scenario: str | Path) -> Path:
    path = Path(scenario)
    if not path.is_absolute() and not path.exists():
        path = SCENARIOS / path
    if not path.exists():
        raise LabError(f"sipp: scenario {scenario} not found (looked in {SCENARIOS})")
    return path.resolve()


class Sipp(Service):
    """Runs SIPp scenarios; every SIPp process is supervised by the lab."""

    name = "sipp"
    _runs = itertools.count(1)

    def start(self) -> dict:
        binary = shutil.which("sipp")
        if binary is None:
            raise LabError("sipp: not installed (apt-get install sip-tester)")
        self.binary = binary
        version = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
        first = next((line.strip() for line in (version.stdout + version.stderr).splitlines()
                      if "SIPp" in line), "unknown")
        return {"binary": binary, "version": first, "scenarios": str(SCENARIOS),
                "transports": ["udp", "tcp", "tls (through a TLS relay)"]}

    def run(self, scenario: str | Path, **kwargs) -> ScenarioResult:
        """Run a scenario to the end; see `start_scenario` for the arguments."""
        return self.start_scenario(scenario, **kwargs).wait()

    def start_scenario(self, scenario: str | Path, *, target: str, transport: str = "udp",
                       users: dict[str, str] | list[tuple[str, str]] | None = None,
                       domain: str = "127.0.0.1", calls: int | None = None,
                       timeout: float = 10.0, keys: dict[str, str] | None = None,
                       ca_cert: str | None = None, extra_args: list[str] | None = None,
                       wait_listening: bool = False) -> SippRun:
        """Start SIPp in the background.

        target      the server, "127.0.0.1:PORT" (the TLS port for transport="tls")
        transport   udp, tcp or tls (tls needs ca_cert: the lab CA)
        users       {user: password} or [(user, password)], one injection line each; a
                    scenario run with `calls` unset makes one call per user (or one call)
        timeout     SIPp's global timeout (-timeout, -timeout_error): a run that takes
                    longer fails
        keys        extra -key values for the scenario
        wait_listening  return only once SIPp has bound its port (for a callee)
        """
        if transport not in _TRANSPORT_ARGS:
            raise LabError(f"sipp: transport must be udp, tcp or tls, not {transport!r}")
        path = _scenario_path(scenario)
        run_dir = self.dir / f"run-{next(self._runs)}-{path.stem}"
        run_dir.mkdir(parents=True)
        user_items = list(users.items()) if isinstance(users, dict) else list(users or [])
        relay = None
        if transport == "tls":
            if not ca_cert:
                raise LabError("sipp: transport tls needs ca_cert (the lab CA)")
            relay = TlsRelay(target, ca_cert)
            target = f"127.0.0.1:{relay.port}"
        port = self.lab.port()
        media_port = self.lab.port(count=4)
        all_keys = {"via_transport": transport.upper(), "contact_transport": transport,
                    "contact_port": str(port), "expires": "300", "domain": domain}
        all_keys.update({k: str(v) for k, v in (keys or {}).items()})
        argv = [self.binary, target, "-sf", str(path), "-i", "127.0.0.1", "-p", str(port),
                "-mp", str(media_port), "-t", _TRANSPORT_ARGS[transport],
                "-m", str(calls if calls is not None else max(1, len(user_items))),
                "-timeout", f"{max(1, round(timeout))}s", "-timeout_error", "-nostdin",
                "-trace_err", "-error_file", str(run_dir / "errors.log"),
                "-trace_stat", "-stf", str(run_dir / "stats.csv")]
        if user_items:
            for user, password in user_items:
                for value in (user, password, domain):
                    if any(c in str(value) for c in ";\n]["):
                        raise LabError(f"sipp: {value!r} cannot go in an injection file")
            lines = [f"{u};[authentication username={u} password={p}];{domain}"
                     for u, p in user_items]
            csv = run_dir / "users.csv"
            csv.write_text("SEQUENTIAL\n" + "\n".join(lines) + "\n")
            csv.chmod(0o600)
            argv += ["-inf", str(csv)]
        for key, value in all_keys.items():
            argv += ["-key", key, value]
        argv += list(extra_args or [])
        proc = self.spawn(argv, cwd=run_dir, tag=f"{path.stem}-{run_dir.name.split('-')[1]}")
        run = SippRun(self, proc, argv, run_dir, port, relay, timeout)
        if wait_listening:
            # A callee must be listening before its contact is registered. SIPp is a client
            # here, not a lab server, so seeing its own port taken is enough.
            self.lab.wait_ready(f"sipp {path.name} listening on {port}",
                                lambda: not proc.alive() or not _port_free(port), timeout=5,
                                interval=0.01)
        return run


def run_scenario(lab, scenario: str | Path, **kwargs) -> ScenarioResult:
    """Run a SIPp scenario against the lab (starting the `sipp` service if needed)."""
    lab.start("sipp")
    return lab.services["sipp"].run(scenario, **kwargs)
