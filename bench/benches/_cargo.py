"""Runs a crate's benchmark example with Cargo and returns its output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_example(package: str, example: str, *args: str, release: bool = True, timeout: int = 1800) -> str:
    """Builds and runs `cargo run -p PACKAGE --example EXAMPLE`; raises with its output on failure."""
    cmd = ["cargo", "run", "-q", "--locked", "-p", package, "--example", example]
    if release:
        cmd.insert(2, "--release")
    if args:
        cmd += ["--", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{package}/{example} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def duration_ms(text: str) -> float:
    """Parses a Rust `Duration` Debug string (`12.3ms`, `1.2s`, `850µs`) into milliseconds."""
    match = re.fullmatch(r"([0-9.]+)(ns|µs|us|ms|s)", text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1000.0}[unit]
