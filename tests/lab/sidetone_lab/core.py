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

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the process's log, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Service:
    """Base class of a lab service. Subclasses set `name` and implement `start`."""

    name = "service"

    def __init__(self, lab: "Lab", **options):
        self.lab = lab
        self.options = options
        self.dir = lab.service_dir(self.name)
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
        proc = self.lab.spawn(f"{self.name}{'-' + tag if tag else ''}", argv, env=env,
                              cwd=cwd or self.dir, stdin=stdin)
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

    def start(self, name: str, **options) -> dict:
        """Start the named service (see `registry.SERVICES`) and return its endpoints."""
        from .registry import SERVICES

        if name in self.services:
            return self.services[name].endpoints
        if name not in SERVICES:
            raise LabError(f"unknown lab service {name!r}; known: {', '.join(sorted(SERVICES))}")
        service = SERVICES[name](self, **options)
        self.services[name] = service
        try:
            service.endpoints = service.start() or {}
        except BaseException:
            service.stop()
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
        """Start a supervised process; it dies with the lab even if the lab is killed."""
        log = self.root / "logs" / f"{name}.log"
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
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
        """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
        if proc.popen.poll() is None:
            _signal_group(proc.popen.pid, signal.SIGTERM)
            try:
                proc.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(proc.popen.pid, signal.SIGKILL)
        try:
            proc.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass

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
        """The endpoints as one JSON line (what `lab up --json` prints)."""
        return json.dumps({"root": str(self.root), "services": self.endpoints()})


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


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
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
