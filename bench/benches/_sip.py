"""Helpers for the benchmarks that drive `sidetone-cli` and baresip against the lab's Kamailio.

Every wait is bounded; processes started here (outside the lab's supervision) are killed in
`finally` blocks, and die with this process (parent-death signal) if it is killed.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import signal
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROFILE = "debug"


def cli_binary() -> Path:
    """The already built CLI (`cargo build -p sidetone-cli`); this module never builds it."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / PROFILE / "sidetone-cli"
    if not binary.exists():
        raise RuntimeError(f"build the CLI first: cargo build -p sidetone-cli ({binary})")
    return binary


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def spread(values: list[float], digits: int = 1) -> str:
    """`min–max` of the runs, for notes."""
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}"


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def spawn(argv: list[str], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE) -> subprocess.Popen:
    """A child with piped stdout (unbuffered reads via `read_lines`), killed if we die."""
    return subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
                            start_new_session=True, preexec_fn=_die_with_parent)


def stop(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM the child, SIGKILL it after `grace` seconds; returns once it is reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def read_lines(proc: subprocess.Popen, timeout: float):
    """Yields `(monotonic time of arrival, line)` from the child's stdout until EOF or
    `timeout`; raises TimeoutError when the time runs out."""
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no expected output within {timeout:.0f}s")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        now = time.monotonic()
        if not chunk:
            if buf:
                yield now, buf.decode("utf-8", "replace")
            return
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            yield now, line.decode("utf-8", "replace")


# ---- Sidetone CLI ---------------------------------------------------------------------------

def sidetone_register(kam: dict, user: str, timeout: float = 20.0) -> float:
    """ms from spawning `sidetone-cli register --json` to reading its `registered` line
    (the CLI prints it when the REGISTER got its 200 OK). It then unregisters and exits."""
    argv = [str(cli_binary()), "register", "--uri", f"sip:{user}@{kam['udp']}",
            "--password-stdin", "--hold", "0", "--timeout", str(int(timeout)), "--json"]
    started = time.monotonic()
    proc = spawn(argv, stdin=subprocess.PIPE)
    try:
        proc.stdin.write((kam["users"][user] + "\n").encode())
        proc.stdin.close()
        for at, line in read_lines(proc, timeout):
            event = _json(line)
            if event.get("event") == "registration" and event.get("state") == "registered":
                registered = at
                break
        else:
            raise RuntimeError(f"sidetone-cli register: no 'registered' event "
                               f"(exit {proc.wait(5)}: {proc.stderr.read().decode()[-500:]})")
        proc.wait(timeout=10)  # it unregisters and exits (--hold 0)
        return (registered - started) * 1000
    finally:
        stop(proc)


def sidetone_call(kam: dict, user: str, target: str, *, duration: int, timeout: float,
                  codec: str | None = None, play: Path | None = None,
                  record: Path | None = None) -> list[dict]:
    """Runs `sidetone-cli call --json` to the end; returns its events, each with `_at`
    (monotonic arrival time of its line). Raises if the call was not established."""
    argv = [str(cli_binary()), "call", target, "--uri", f"sip:{user}@{kam['udp']}",
            "--password-stdin", "--duration", str(duration), "--timeout", "15", "--json"]
    if codec:
        argv += ["--codec", codec]
    if play:
        argv += ["--play", str(play)]
    if record:
        argv += ["--record", str(record)]
    proc = spawn(argv, stdin=subprocess.PIPE)
    events = []
    try:
        proc.stdin.write((kam["users"][user] + "\n").encode())
        proc.stdin.close()
        for at, line in read_lines(proc, timeout):
            event = _json(line)
            if event:
                event["_at"] = at
                events.append(event)
        code = proc.wait(timeout=10)
    finally:
        stop(proc)
    states = [e.get("state") for e in events if e.get("event") == "call"]
    if code != 0 or "established" not in states:
        raise RuntimeError(f"sidetone-cli call {target}: exit {code}, call states {states}")
    return events


def _json(line: str) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ---- baresip --------------------------------------------------------------------------------

_REGISTERED = re.compile(r"\{\d+/UDP/v4\} 200 OK")
_REFUSED = re.compile(r"\{\d+/UDP/v4\} [3-6]\d\d ")


def baresip_config_dir(lab, name: str, user: str) -> Path:
    """A baresip config dir exactly as the lab's baresip service writes it (registering
    `user` at the lab's Kamailio), for running baresip directly: the service is started
    once (so the config is known to work), then stopped, keeping its directory."""
    lab.start(f"baresip:{name}", user=user, play="tone:440")
    service = lab.services[f"baresip:{name}"]
    service.stop()
    lab.services.pop(f"baresip:{name}", None)
    return service.dir


def baresip_register(config_dir: Path, timeout: float = 20.0) -> float:
    """ms from spawning `baresip -f DIR` to reading its line for the REGISTER's 200 OK
    (`user@domain: {0/UDP/v4} 200 OK (...) [1 binding]`; baresip writes stdout unbuffered)."""
    started = time.monotonic()
    proc = spawn(["baresip", "-f", str(config_dir)], stderr=subprocess.STDOUT)
    try:
        for at, line in read_lines(proc, timeout):
            if _REGISTERED.search(line):
                return (at - started) * 1000
            if _REFUSED.search(line) and "401" not in line and "407" not in line:
                raise RuntimeError(f"baresip: registration refused: {line.strip()}")
        raise RuntimeError(f"baresip exited ({proc.wait(5)}) before it registered")
    finally:
        stop(proc)
