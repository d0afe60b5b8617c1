#!/usr/bin/env python3
"""Turns libFuzzer logs (one TARGET.log per target, as fuzz/run writes them) into the
markdown table of fuzz/RESULTS.md: time, executions, speed, coverage, corpus, outcome.

    python3 fuzz/results.py fuzz/logs > /tmp/table.md
"""

import re
import sys
from pathlib import Path


def summary(log: Path) -> dict:
    text = log.read_text(errors="replace")
    stat = dict(re.findall(r"stat::(\w+):\s+(\d+)", text))
    done = re.search(r"Done (\d+) runs in (\d+) second", text)
    progress = re.findall(r"#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", text)
    crashed = "Test unit written to" in text or "SUMMARY: " in text
    return {
        "target": log.stem,
        "seconds": done.group(2) if done else "?",
        "runs": int(stat.get("number_of_executed_units", 0)),
        "per_sec": stat.get("average_exec_per_sec", "?"),
        "cov": progress[-1][0] if progress else "?",
        "corpus": progress[-1][2] if progress else "?",
        "rss": stat.get("peak_rss_mb", "?"),
        "outcome": "crash (see artifacts)" if crashed else "no crash",
    }


def main() -> int:
    logs = sorted(Path(sys.argv[1] if len(sys.argv) > 1 else "fuzz/logs").glob("*.log"))
    if not logs:
        print("no logs", file=sys.stderr)
        return 1
    print("| target | seconds | executions | exec/s | coverage (edges) | corpus | peak RSS MB | outcome |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for log in logs:
        s = summary(log)
        print(f"| `{s['target']}` | {s['seconds']} | {s['runs']:,} | {s['per_sec']} | {s['cov']} "
              f"| {s['corpus']} | {s['rss']} | {s['outcome']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
