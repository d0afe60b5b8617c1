#!/usr/bin/env python3
"""Runs Sidetone's benchmarks side by side with their peers and writes bench/RESULTS.md.

Each module in bench/benches/ defines `ROWS` (the figures it owns, with target and peer) and
`run(ctx) -> dict[row_id, Measurement]`. A row nobody measured yet stays in the table, empty,
so the table always shows the whole promise. Run: `bench/run.py [--only NAME ...]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "lab"))


@dataclass
class Row:
    """One figure in RESULTS.md: what is measured, its target and which peer it is compared to."""

    id: str
    what: str
    unit: str
    target: str
    peer: str
    better: str = "lower"  # "lower" or "higher": which way is better


@dataclass
class Measurement:
    """Sidetone's and the peer's value for one row, measured in the same run."""

    sidetone: float | None
    peer: float | None
    note: str = ""


def machine() -> str:
    """A one-line description of the machine the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB"


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.3g} {unit}".strip()


def verdict(row: Row, m: Measurement | None) -> str:
    if m is None or m.sidetone is None:
        return "not measured yet"
    if m.peer is None:
        target = _target_value(row.target)
        if target is None:
            return "no peer figure"
        ok = m.sidetone <= target if row.better == "lower" else m.sidetone >= target
        return "meets target" if ok else "misses target"
    ahead = m.sidetone <= m.peer if row.better == "lower" else m.sidetone >= m.peer
    return "beats peer" if ahead else "behind peer"


def _target_value(target: str) -> float | None:
    """The number in a target like '≤ 5 ms' or '≤ 3,000 ms', when it is a plain bound."""
    import re

    m = re.match(r"^[≤≥<>]\s*([0-9][0-9,]*(?:\.[0-9]+)?)", target.strip())
    return float(m.group(1).replace(",", "")) if m else None


def previous_lines(path: Path) -> dict[str, str]:
    """The measured rows of an earlier RESULTS.md, by figure: kept for the modules a partial
    run (`--only`) skips, so one benchmark's run does not erase another's figures."""
    kept: dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError:
        return kept
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or cells[1] in ("Sidetone", "---"):
            continue
        if cells[1] == "—":
            # Not measured: keep its note (why not), which the skipped module wrote.
            if cells[6]:
                kept[cells[0]] = "| " + " | ".join(cells) + " |"
            continue
        note = cells[6] if "earlier run" in cells[6] else (cells[6] + "; kept from an earlier run").lstrip("; ")
        kept[cells[0]] = "| " + " | ".join(cells[:6] + [note]) + " |"
    return kept


def render(groups: list[tuple[str, list[Row]]], results: dict[str, Measurement], errors: list[str],
           kept: dict[str, str] | None = None) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmark results",
        "",
        f"Written by `bench/run.py` on {now}, revision {git_revision()}.",
        f"Machine: {machine()}.",
        "Each row measures Sidetone and its peer in the same run, against the same lab servers.",
        "",
    ]
    for title, rows in groups:
        out += [f"## {title}", "", "| figure | Sidetone | peer | peer value | target | verdict | note |",
                "|---|---|---|---|---|---|---|"]
        for row in rows:
            m = results.get(row.id)
            if m is None and kept and row.what in kept:
                out.append(kept[row.what])
                continue
            out.append(
                f"| {row.what} | {fmt(m.sidetone if m else None, row.unit)} | {row.peer} | "
                f"{fmt(m.peer if m else None, row.unit)} | {row.target} | {verdict(row, m)} | "
                f"{m.note if m else ''} |")
        out.append("")
    if errors:
        out += ["## Benchmarks that failed in this run", ""] + [f"- {e}" for e in errors] + [""]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", action="extend",
                        help="run only these benchmark modules (repeatable); the others' "
                             "figures are kept from the previous RESULTS.md")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()

    groups, results, errors = [], {}, []
    kept = previous_lines(Path(args.output)) if args.only else {}
    for path in sorted((HERE / "benches").glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = importlib.import_module(f"benches.{path.stem}")
        groups.append((module.TITLE, module.ROWS))
        if args.only and path.stem not in args.only:
            continue
        if not hasattr(module, "run"):
            continue
        try:
            results.update(module.run({"root": ROOT}))
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            errors.append(f"{path.stem}: {exc}")
            traceback.print_exc()
    Path(args.output).write_text(render(groups, results, errors, kept))
    print(f"wrote {args.output}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
