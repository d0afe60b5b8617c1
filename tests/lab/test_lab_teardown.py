"""A lab leaves nothing behind: not when its owner closes the lifeline, not when its owner is
SIGKILLed, not when a service fails to start. Drives `tests/lab/lab` as a separate process,
as the Rust tests and the demo do."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sidetone_lab.core import lab_processes

LAB = Path(__file__).resolve().parent / "lab"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def _port_free(port: int) -> bool:
    """Nothing listens on the port (TCP, as a server would rebind it) and nothing holds it (UDP)."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class CliLab:
    """`lab up` in a child process, its endpoints, and everything it should clean up."""

    def __init__(self, *args: str, lifeline: bool = True):
        argv = [sys.executable, str(LAB), "up", "--json", *args]
        if lifeline:
            argv.append("--stdin-lifeline")
        # The system python runs the entry point in real use; any python3 works (stdlib only).
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE if lifeline else
                                     subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.proc.kill()
            err = self.proc.stderr.read().decode(errors="replace")
            raise AssertionError(f"lab up printed no endpoints; stderr:\n{err}")
        self.info = json.loads(line)
        self.root = Path(self.info["root"])
        self.kamailio = self.info["services"]["kamailio"]
        self.ports = sorted(set(self.kamailio["ports"].values()))
        self.pids = [p for name, pids in self.info["_pids"].items() if name != "lab"
                     for p in pids]
        assert self.info["_pids"]["lab"] == self.proc.pid

    def leftovers(self) -> dict:
        return {
            "processes": [p for p in self.pids if _alive(p)],
            "marked processes": lab_processes(self.root),
            "busy ports": [p for p in self.ports if not _port_free(p)],
        }

    def assert_running(self) -> None:
        assert self.pids and all(_alive(p) for p in self.pids), self.pids
        assert not any(_port_free(p) for p in self.ports)
        assert self.root.is_dir()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        subprocess.run([sys.executable, str(LAB), "sweep"], capture_output=True, check=False)


@pytest.fixture
def cli_labs():
    started: list[CliLab] = []

    def start(*args, **kw) -> CliLab:
        lab = CliLab(*args, **kw)
        started.append(lab)
        return lab

    yield start
    for lab in started:  # a failing test must not leak its lab either
        lab.kill()


def test_closing_the_lifeline_stops_everything(cli_labs):
    lab = cli_labs("--services", "kamailio")
    lab.assert_running()

    lab.proc.stdin.close()
    assert lab.proc.wait(timeout=20) == 0, lab.proc.stderr.read().decode(errors="replace")

    assert lab.leftovers() == {"processes": [], "marked processes": [], "busy ports": []}
    assert not lab.root.exists(), f"{lab.root} was not removed"


def test_sigkill_of_the_owner_kills_the_servers_and_sweep_removes_the_dir(cli_labs):
    lab = cli_labs("--services", "kamailio")
    lab.assert_running()

    lab.proc.send_signal(signal.SIGKILL)
    lab.proc.wait(timeout=5)

    # PID namespace + parent-death signal: the servers die with their owner.
    assert _wait(lambda: not any(lab.leftovers().values()), timeout=10), lab.leftovers()

    # Nobody was left to remove the dir: `lab sweep` must. (Run alone, only this sweep can
    # remove it; a lab another test process creates meanwhile sweeps stale dirs too.)
    sweep = subprocess.run([sys.executable, str(LAB), "sweep"], capture_output=True, text=True,
                           timeout=30)
    assert sweep.returncode == 0, sweep.stderr
    assert not lab.root.exists(), sweep.stdout


def test_status_lists_and_down_stops_a_lab(cli_labs):
    lab = cli_labs("--services", "kamailio", lifeline=False)
    status = subprocess.run([sys.executable, str(LAB), "status", "--json"], capture_output=True,
                            text=True, timeout=30, check=True)
    mine = [s for s in json.loads(status.stdout) if s["root"] == str(lab.root)]
    assert mine and mine[0]["running"] and mine[0]["supervisor"], mine
    assert mine[0]["services"] == ["kamailio"]

    down = subprocess.run([sys.executable, str(LAB), "down", str(lab.root)], capture_output=True,
                          text=True, timeout=30)
    assert down.returncode == 0, down.stderr
    assert lab.proc.wait(timeout=10) == 0
    assert lab.leftovers() == {"processes": [], "marked processes": [], "busy ports": []}
    assert not lab.root.exists()


def test_unknown_service_is_named_and_nothing_starts():
    result = subprocess.run([sys.executable, str(LAB), "up", "--json", "--services",
                             "kamailio,no-such-service"], capture_output=True, text=True,
                            timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no-such-service" in result.stderr


def test_a_server_that_fails_to_start_leaves_nothing(tmp_path):
    """Kamailio is spawned but exits on a config error: `up` says why (with the server's log)
    and exits 1, and no process or dir is left."""
    broken = tmp_path / "broken.cfg"
    broken.write_text((LAB.parent / "config/kamailio/kamailio.cfg").read_text()
                      .replace("request_route {", "request_route {\n\tno_such_function();", 1))
    before = set(Path("/tmp").glob("sidetone-lab-*"))
    result = subprocess.run([sys.executable, str(LAB), "up", "--json", "--services", "kamailio",
                             "--opt", f"kamailio.config_template={broken}", "--stdin-lifeline"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert "kamailio" in result.stderr and "process exited" in result.stderr, result.stderr
    new_dirs = set(Path("/tmp").glob("sidetone-lab-*")) - before
    assert not [d for d in new_dirs if d.exists() and not _owned_by_live_process(d)], new_dirs


def _owned_by_live_process(root: Path) -> bool:
    """Labs of other tests running in parallel are not ours to judge."""
    try:
        return _alive(int((root / "lab.pid").read_text()))
    except (OSError, ValueError):
        return False


def test_lab_runs_without_the_venv():
    """The entry point uses only the standard library: the system python can run it."""
    system_python = "/usr/bin/python3"
    if not os.path.exists(system_python):
        pytest.skip("no system python3")
    result = subprocess.run([system_python, "-I", str(LAB), "status", "--json"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)
