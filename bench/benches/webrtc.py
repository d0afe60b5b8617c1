"""WebRTC calls against classic SIP calls (issue: WebRTC calling)."""

from run import Row

TITLE = "WebRTC vs classic SIP (same relay)"
ROWS = [
    Row("webrtc_pesq", "PESQ-WB, WebRTC call", "", "≥ classic", "Sidetone classic SIP", better="higher"),
    Row("webrtc_m2e", "mouth-to-ear, WebRTC call", "ms", "≤ classic", "Sidetone classic SIP"),
]
