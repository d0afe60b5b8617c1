"""Audio quality, latency and cost of a call (issue: media and audio)."""

from run import Row

TITLE = "Media (peer: baresip, same speech, same impairment relay)"
ROWS = [
    *[Row(f"pesq_loss{p}_jit{j}", f"PESQ-WB, {p} % loss, {j} ms jitter", "", "≥ baresip", "baresip 1.0",
          better="higher") for j in (0, 40) for p in (0, 2, 5, 10)],
    Row("mouth_to_ear", "mouth-to-ear latency, both terminals", "ms", "≤ 60 ms", "baresip 1.0"),
    Row("call_cpu", "CPU during a call", "% of a core", "≤ 3 %", "baresip 1.0"),
    Row("call_rss", "RSS during a call", "MB", "≤ baresip", "baresip 1.0"),
]
