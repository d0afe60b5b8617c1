"""Registration and call-setup speed, and memory over many calls (issue: SIP signalling)."""

from run import Row

TITLE = "Signalling (peer: baresip against the same Kamailio)"
ROWS = [
    Row("reg_time", "start → registered", "ms", "≤ baresip", "baresip 1.0"),
    Row("call_setup", "dial → established (auto-answer)", "ms", "≤ baresip", "baresip 1.0"),
    Row("mem_1000_calls", "RSS growth over 1,000 sequential calls", "%", "< 5 %", "baresip 1.0"),
]
