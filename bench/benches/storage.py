"""Call history and voicemail sync speed (issue: call history and visual voicemail)."""

import re

from benches._cargo import duration_ms, run_example
from run import Measurement, Row

TITLE = "History and voicemail (no peer: targets from the issue)"
ROWS = [
    Row("history_page", "100,000 calls: filtered page of 50 + count, worst filter (median)", "ms", "≤ 5 ms", "—"),
    Row("history_search", "100,000 calls: search page + count, worst search (median)", "ms", "≤ 5 ms", "—"),
    Row("vm_first_sync", "first sync of 1,000 voicemail headers", "ms", "≤ 3,000 ms", "—"),
    Row("vm_resync", "no-change resync (median of 5)", "ms", "≤ 100 ms", "—"),
]


def run(_ctx):
    results = {}
    out = run_example("sidetone-store", "history_bench")
    filters, searches = [], []
    # Rows look like: `<name>  <total>  <median ms>  <p95 ms>  <max ms>`.
    for line in out.splitlines():
        m = re.match(r"^(.+?)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)$", line.strip())
        if m and "page" not in m.group(1):
            (searches if "search" in m.group(1) else filters).append((float(m.group(3)), m.group(1)))
    if filters:
        worst = max(filters)
        results["history_page"] = Measurement(worst[0], None, f"worst: {worst[1].strip()}")
    if searches:
        worst = max(searches)
        results["history_search"] = Measurement(worst[0], None, f"worst: {worst[1].strip()}")

    out = run_example("sidetone-voicemail", "sync_bench", release=False)
    first = re.search(r"first sync \(\d+ messages, metadata\): (\S+)", out)
    resync = re.search(r"no-change resync: median (\S+),", out)
    if first:
        results["vm_first_sync"] = Measurement(duration_ms(first.group(1)), None, "debug build, lab Dovecot")
    if resync:
        results["vm_resync"] = Measurement(duration_ms(resync.group(1)), None, "debug build, lab Dovecot")
    return results
