"""Call history and voicemail sync speed (issue: call history and visual voicemail)."""

from run import Row

TITLE = "History and voicemail (no peer: targets from the issue)"
ROWS = [
    Row("history_page", "100,000 calls: filtered page + count", "ms", "≤ 5 ms", "—"),
    Row("vm_first_sync", "first sync of 1,000 voicemail headers", "s", "≤ 3 s", "—"),
    Row("vm_resync", "no-change resync", "ms", "≤ 100 ms", "—"),
]
