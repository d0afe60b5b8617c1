"""Runs last (by name): the whole suite left no lab process, lab directory or lab port behind.

Every lab test cleans up after itself; this proves it for the suite as a whole, including the
Rust tests that started labs before pytest ran.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lab"))

from sidetone_lab.core import LAB_PREFIX  # noqa: E402

# Programs only the lab starts on a test machine.
LAB_PROGRAMS = {"kamailio", "baresip", "sipp", "turnserver", "dovecot", "gnome-keyring-d",
                "pulseaudio", "tauri-driver", "WebKitWebDriver", "Xvfb", "sidetone",
                "sidetone-cli"}


# scripts/test.sh sets this before the first test, so a demo lab a developer runs beside the
# suite is not counted; without it, every lab on the machine counts.
SUITE_START = float(os.environ.get("SIDETONE_SUITE_START", "0"))


def _started_at(pid: str) -> float:
    """A process's start time in seconds since the epoch."""
    ticks = int((Path("/proc") / pid / "stat").read_text().rsplit(")", 1)[1].split()[19])
    boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime"))
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _lab_processes() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            comm = (proc / "comm").read_text().strip()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        # Count only processes that belong to a lab (they run with a lab dir in their argv/env)
        # or are lab programs, so a developer's own desktop apps do not fail the suite.
        cmdline = (proc / "cmdline").read_bytes() if (proc / "cmdline").exists() else b""
        try:
            if _started_at(proc.name) < SUITE_START:
                continue
        except (OSError, ValueError, StopIteration):
            continue
        if comm in LAB_PROGRAMS or LAB_PREFIX.encode() in cmdline or LAB_PREFIX.encode() in environ:
            argv = cmdline.replace(b"\0", b" ")[:120]
            found.append(f"{proc.name} {comm} {argv!r}")
    return found


def test_no_lab_process_is_left_running():
    assert _lab_processes() == []


def test_no_lab_directory_is_left_behind():
    leftovers = sorted(str(p) for p in Path(tempfile.gettempdir()).glob(LAB_PREFIX + "*")
                       if p.stat().st_mtime >= SUITE_START)
    assert leftovers == []
