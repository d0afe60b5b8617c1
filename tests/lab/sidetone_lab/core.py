"""The lab's core: a temp dir, free ports, supervised processes, readiness checks, teardown.

Why processes are wrapped: a lab must leave nothing behind even when the test that started it
is killed. Each service runs in its own process group; when we are root it also runs in its
own PID namespace (`unshare --pid --fork --kill-child`), so killing the wrapper takes every
descendant with it, and every child gets PR_SET_PDEATHSIG so it dies with the lab process.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

LAB_PREFIX = "sidetone-lab-"
LAB_ROOT_ENV = "SIDETONE_LAB_ROOT"
_PR_SET_PDEATHSIG = 1


class LabError(RuntimeError):
    """A lab service failed to start or to become ready; the message names it and its log."""


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel to SIGKILL us when the lab dies.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def _can_use_pid_namespace() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--pid", "--fork", "--kill-child", "true"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return probe.returncode == 0


@dataclass
class Process:
    """One supervised process of a service."""

    name: str
    popen: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        """True while the process has not exited."""
        return self.popen.poll() is None

    def pids(self) -> list[int]:
        """Host pids of every live process in this process's group (the wrapper, the server
        and its workers), e.g. to check after teardown that none is left."""
        return _group_pids(self.popen.pid)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the process's log, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Service:
    """Base class of a lab service. Subclasses set `name` and implement `start`."""

    name = "service"
    # True if the lab may run several instances ("baresip:alice", "baresip:bob"); the
    # instance's key is then passed to `__init__` as `key`.
    multi_instance = False

    def __init__(self, lab: "Lab", key: str | None = None, **options):
        self.lab = lab
        self.key = key or self.name  # how `lab.services` knows this service
        self.options = options
        self.dir = lab.service_dir(self.key.replace(":", "-"))
        self.processes: list[Process] = []
        self.endpoints: dict = {}

    def start(self) -> dict:
        """Start the service, wait until it answers its protocol, return its endpoints."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the service's processes (the lab removes its directory)."""
        for proc in reversed(self.processes):
            self.lab.terminate(proc)
        self.processes.clear()

    def spawn(self, argv: list[str], *, env: dict | None = None, cwd: Path | None = None,
              tag: str | None = None, stdin=subprocess.DEVNULL) -> Process:
        """Start a process that belongs to this service; its output goes to a log file."""
        label = self.key.replace(":", "-") + (f"-{tag}" if tag else "")
        proc = self.lab.spawn(label, argv, env=env, cwd=cwd or self.dir, stdin=stdin)
        self.processes.append(proc)
        return proc


@dataclass
class Lab:
    """A set of running lab services sharing one temp dir and one port pool.

    Use as a context manager, or call `stop()`; `stop()` is idempotent.
    """

    root: Path | None = None
    keep: bool = False
    services: dict[str, Service] = field(default_factory=dict)
    _ports: set[int] = field(default_factory=set)
    _procs: list[Process] = field(default_factory=list)

    def __post_init__(self):
        sweep_stale_labs()
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix=LAB_PREFIX))
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "lab.pid").write_text(str(os.getpid()))
        (self.root / "logs").mkdir(exist_ok=True)
        self._pidns = _can_use_pid_namespace()

    # ---- services -------------------------------------------------------------------------

    def start(self, name: str, /, **options) -> dict:
        """Start the named service (see `registry.SERVICES`) and return its endpoints.

        Services that allow several instances take an instance name, either in the name
        (`start("baresip:bob", ...)`) or as the option `name` (`start("baresip", name="bob")`);
        the instance is then known as `services["baresip:bob"]`.
        """
        from .registry import SERVICES

        kind, _, instance = name.partition(":")
        if kind not in SERVICES:
            raise LabError(f"unknown lab service {kind!r}; known: {', '.join(sorted(SERVICES))}")
        cls = SERVICES[kind]
        multi = getattr(cls, "multi_instance", False)
        if multi:
            instance = instance or str(options.get("name") or "")
            options.setdefault("name", instance or kind)
        elif instance:
            raise LabError(f"lab service {kind!r} runs only once; drop {':' + instance!r}")
        key = f"{kind}:{instance}" if instance else kind
        if key in self.services:
            return self.services[key].endpoints
        service = cls(self, key=key, **options) if multi else cls(self, **options)
        self.services[key] = service
        try:
            service.endpoints = service.start() or {}
        except BaseException:
            service.stop()
            self.services.pop(key, None)
            raise
        return service.endpoints

    def endpoints(self) -> dict:
        """Every running service's endpoints, by service name."""
        return {name: svc.endpoints for name, svc in self.services.items()}

    def service_dir(self, name: str) -> Path:
        """A fresh directory for one service's config, data and run files."""
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ---- ports ----------------------------------------------------------------------------

    def port(self, count: int = 1, step: int = 1) -> int:
        """A free port on 127.0.0.1 (TCP and UDP) such that `port + i*step` for i < count are free."""
        for _ in range(200):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                base = s.getsockname()[1]
            wanted = [base + i * step for i in range(count)]
            if any(p > 65000 or p in self._ports for p in wanted):
                continue
            if all(_port_free(p) for p in wanted):
                self._ports.update(wanted)
                return base
        raise LabError("no free port range on 127.0.0.1")

    # ---- processes ------------------------------------------------------------------------

    def spawn(self, name: str, argv: list[str], *, env: dict | None = None,
              cwd: Path | None = None, stdin=subprocess.DEVNULL) -> Process:
        """Start a supervised process; it dies with the lab even if the lab is killed.

        Call it from the thread that owns the lab (normally the main thread): the kernel's
        parent-death signal fires when the *thread* that forked the child exits.
        Every process gets `SIDETONE_LAB_ROOT=<lab dir>` in its environment, so leftovers can
        be found (and swept) by that mark even if they escaped their process group."""
        log = self.root / "logs" / f"{name}.log"
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        full_env[LAB_ROOT_ENV] = str(self.root)
        wrapped = (["unshare", "--pid", "--fork", "--kill-child"] + argv) if self._pidns else argv
        out = open(log, "ab")
        try:
            popen = subprocess.Popen(
                wrapped, cwd=str(cwd or self.root), env=full_env, stdin=stdin, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
            )
        finally:
            out.close()
        proc = Process(name, popen, log)
        self._procs.append(proc)
        return proc

    def terminate(self, proc: Process, grace: float = 3.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left after `grace` seconds
        (`grace=0`: SIGKILL at once). Returns when no process of the group is left."""
        pgid = proc.popen.pid
        if grace > 0 and self._owns_group(proc):
            _signal_group(pgid, signal.SIGTERM)
            try:
                proc.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        if self._owns_group(proc):
            _signal_group(pgid, signal.SIGKILL)
        try:
            proc.popen.wait(timeout=max(grace, 3.0))
        except subprocess.TimeoutExpired:
            pass
        # Members of the group that are not our children (a server's workers) may still be
        # exiting: wait until they are gone, so the ports they held are free when we return.
        deadline = time.monotonic() + max(grace, 3.0)
        while self._owns_group(proc) and time.monotonic() < deadline:
            _signal_group(pgid, signal.SIGKILL)
            time.sleep(0.02)

    def _owns_group(self, proc: Process) -> bool:
        """True while `proc`'s process group exists and is this lab's, so signalling it is
        safe. Until the leader is reaped its pid cannot be reused; after that, the group id
        stays reserved only while a member lives, and our members carry the lab's mark."""
        if proc.popen.poll() is None:
            return True
        mark = f"{LAB_ROOT_ENV}={self.root}".encode() + b"\0"
        for pid in _group_pids(proc.popen.pid):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if mark in f.read() + b"\0":
                        return True
            except OSError:
                continue
        return False

    def wait_ready(self, what: str, check: Callable[[], bool], timeout: float = 15.0,
                   proc: Process | None = None, interval: float = 0.05) -> None:
        """Poll `check` until it returns True; fail early if `proc` died, with its log."""
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if proc is not None and not proc.alive():
                raise LabError(f"{what}: process exited with {proc.popen.returncode}\n"
                               f"--- {proc.log} ---\n{proc.log_tail()}")
            try:
                if check():
                    return
            except Exception as exc:  # readiness probes fail in many ways while starting
                last_error = exc
            time.sleep(interval)
        tail = f"\n--- {proc.log} ---\n{proc.log_tail()}" if proc else ""
        raise LabError(f"{what}: not ready after {timeout:.0f}s (last error: {last_error}){tail}")

    def stop(self) -> None:
        """Stop every service (in reverse start order) and remove the temp dir."""
        for name in reversed(list(self.services)):
            try:
                self.services[name].stop()
            except Exception:
                pass
        self.services.clear()
        for proc in self._procs:
            self.terminate(proc, grace=1.0)
        self._procs.clear()
        if self.root is not None and self.root.exists() and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def describe(self) -> str:
        """The endpoints as one JSON line (what `lab up --json` prints).

        `_pids` lists, for checks that nothing outlives the lab, the pid of the process that
        owns the lab (`lab`) and the host pids of every supervised process (by process name)."""
        return json.dumps({"root": str(self.root), "services": self.endpoints(),
                           "_pids": self.pids()})

    def pids(self) -> dict:
        """{"lab": owner pid, "<process name>": [host pids of its process group], ...}."""
        out: dict = {"lab": os.getpid()}
        for proc in self._procs:
            if proc.alive():
                out.setdefault(proc.name, []).extend(proc.pids())
        return out


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is `pgid`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state, fields[2] the process group
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


def lab_processes(root: Path | str) -> list[int]:
    """Live processes that carry `SIDETONE_LAB_ROOT=<root>` in their environment."""
    mark = f"{LAB_ROOT_ENV}={root}".encode() + b"\0"
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                environ = f.read() + b"\0"
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if mark in environ and state not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


def _port_free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def sweep_stale_labs() -> list[Path]:
    """Remove temp dirs of labs whose owning process is gone (e.g. it was SIGKILLed)."""
    removed = []
    tmp = Path(tempfile.gettempdir())
    for path in tmp.glob(LAB_PREFIX + "*"):
        pid_file = path / "lab.pid"
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            continue
        if not Path(f"/proc/{pid}").exists():
            # Without a PID namespace (not root) a server that daemonized can outlive its lab.
            for leftover in lab_processes(path):
                try:
                    os.kill(leftover, signal.SIGKILL)
                except OSError:
                    pass
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
