"""The desktop app's footprint and start-up (issue: the desktop app)."""

from run import Row

TITLE = "Desktop app (peer: linphone-desktop 4.4 under Xvfb)"
ROWS = [
    Row("idle_rss", "idle memory, all processes", "MB", "≤ 120 MB", "linphone-desktop"),
    Row("cold_start_registered", "cold start → registered", "s", "≤ 1.5 s", "linphone-desktop"),
    Row("deb_size", ".deb package size", "MB", "≤ 15 MB", "linphone-desktop"),
]
