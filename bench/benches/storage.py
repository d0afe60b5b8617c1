"""Call history and voicemail sync speed (issue: call history and visual voicemail)."""

import re

from benches._cargo import duration_ms, run_example
from run import Measurement, Row

TITLE = "History and voicemail (no peer: targets from the issue)"
ROWS = [
    Row("history_page", "100,000 calls: filtered page of 50 + count, worst filter (median)", "ms", "≤ 5 ms", "—"),
    Row("history_search", "100,000 calls, ~1,000 parties: search page + count, worst search (median)", "ms", "≤ 5 ms", "—"),
    Row("history_search_distinct", "100,000 calls, every call its own party: search page + count, worst search (median)", "ms", "≤ 5 ms", "—"),
    Row("vm_first_sync", "first sync of 1,000 voicemail headers", "ms", "≤ 3,000 ms", "—"),
    Row("vm_resync", "no-change resync (median of 5)", "ms", "≤ 100 ms", "—"),
]


def _history_rows(out, data_set):
    """(median ms, "name (data set)") of each filter and each search row of history_bench."""
    filters, searches = [], []
    # Rows look like: `<name>  <total>  <median ms>  <p95 ms>  <max ms>`; the deep page, the
    # missed-since-seen count and the CSV report are not page + count figures.
    for line in out.splitlines():
        m = re.match(r"^(.+?)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)$", line.strip())
        if not m or "page" in m.group(1) or m.group(1).startswith(("missed since", "CSV")):
            continue
        row = (float(m.group(3)), f"{m.group(1).strip()} ({data_set})")
        (searches if "search" in m.group(1) else filters).append(row)
    return filters, searches


def run(_ctx):
    results = {}
    filters = []
    # Both data sets: ~1,000 parties (a real phone's history), and every call with its own
    # party (search's worst case), each with its own search row.
    for key, data_set, args in (
        ("history_search", "~1,000 parties", ()),
        ("history_search_distinct", "every call a new party", ("100000", "distinct")),
    ):
        f, searches = _history_rows(run_example("sidetone-store", "history_bench", *args), data_set)
        filters += f
        if searches:
            worst = max(searches)
            over = sorted(name for ms, name in searches if ms > 5.0)
            note = f"worst: {worst[1]}; over 5 ms: {', '.join(over) if over else 'none'}"
            results[key] = Measurement(worst[0], None, note)
    if filters:
        worst = max(filters)
        results["history_page"] = Measurement(worst[0], None, f"worst: {worst[1]}")

    # The voicemail figures need the lab's Dovecot; without it the history figures still count.
    try:
        results.update(_voicemail())
    except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
        print(f"storage: voicemail sync bench failed: {exc}")
    return results


def _voicemail():
    results = {}
    out = run_example("sidetone-voicemail", "sync_bench", release=False)
    first = re.search(r"first sync \(\d+ messages, metadata\): (\S+)", out)
    resync = re.search(r"no-change resync: median (\S+),", out)
    if first:
        results["vm_first_sync"] = Measurement(duration_ms(first.group(1)), None, "debug build, lab Dovecot")
    if resync:
        results["vm_resync"] = Measurement(duration_ms(resync.group(1)), None, "debug build, lab Dovecot")
    return results
