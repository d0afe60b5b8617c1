"""Registration and call-setup speed, and memory over many calls (issue: SIP signalling)."""

import time

from benches import _sip
from run import Measurement, Row

TITLE = "Signalling (peer: baresip against the same Kamailio)"
ROWS = [
    Row("reg_time", "start → registered", "ms", "≤ baresip", "baresip 1.0"),
    Row("call_setup", "dial → established (auto-answer)", "ms", "≤ baresip", "baresip 1.0"),
    Row("mem_1000_calls", "RSS growth over 1,000 sequential calls", "%", "< 5 %", "baresip 1.0"),
]

RUNS = 11  # per side, interleaved, after one discarded warm-up run each


def run(_ctx):
    from sidetone_lab import Lab

    results = {}
    with Lab() as lab:
        kam = lab.start("kamailio")  # users 1001, 1002, 1003
        results["reg_time"] = _registration(lab, kam)
        results["call_setup"] = _call_setup(lab, kam)
    return results


def _registration(lab, kam) -> Measurement:
    # baresip runs from a config dir exactly as the lab's baresip service writes it.
    config = _sip.baresip_config_dir(lab, "regprobe", user="1003")
    ours, theirs = [], []
    for i in range(RUNS + 1):
        pair = [("st", lambda: _sip.sidetone_register(kam, "1001")),
                ("br", lambda: _sip.baresip_register(config))]
        if i % 2:
            pair.reverse()  # alternate who goes first
        for who, measure in pair:
            value = measure()
            if i > 0:  # run 0 warms the page cache and Kamailio
                (ours if who == "st" else theirs).append(value)
            time.sleep(0.2)
    note = (f"median of {RUNS} interleaved runs each (Sidetone {_sip.spread(ours)}, baresip "
            f"{_sip.spread(theirs)} ms); Sidetone {_sip.PROFILE} build: spawn of "
            f"`sidetone-cli register --json` → its `registered` line; baresip: spawn of "
            f"`baresip -f DIR` (lab config) → its REGISTER `200 OK` line; UDP, digest auth")
    return Measurement(_sip.median(ours), _sip.median(theirs), note)


def _call_setup(lab, kam) -> Measurement:
    lab.start("baresip:answer", user="2001", play="tone:440")  # answermode=auto
    callee = lab.services["baresip:answer"]
    lab.start("baresip:caller", user="1002", play="tone:440", answer="manual")
    caller = lab.services["baresip:caller"]
    ours, theirs = [], []
    for i in range(RUNS + 1):
        pair = [("st", _sidetone_setup), ("br", _baresip_setup)]
        if i % 2:
            pair.reverse()
        for who, measure in pair:
            since = len(callee.events)
            value = measure(kam, caller)
            callee.wait_event("CALL_CLOSED", timeout=10, since=since)
            if i > 0:
                (ours if who == "st" else theirs).append(value)
            time.sleep(0.3)
    note = (f"median of {RUNS} interleaved calls each (Sidetone {_sip.spread(ours)}, baresip "
            f"{_sip.spread(theirs)} ms) to the same auto-answer baresip through Kamailio (UDP, "
            f"codecs offered Opus first); Sidetone {_sip.PROFILE} build: `sidetone-cli call "
            f"--json` (registers first), its `dialing` → `established` lines' arrival + the "
            f"dialing line's elapsed_ms since the dial; baresip: ctrl_tcp `dial` sent → "
            f"CALL_ESTABLISHED event read")
    return Measurement(_sip.median(ours), _sip.median(theirs), note)


def _sidetone_setup(kam, _caller) -> float:
    events = _sip.sidetone_call(kam, "1001", "2001", duration=1, timeout=30)
    calls = [e for e in events if e.get("event") == "call"]
    dialing = next(e for e in calls if e.get("state") == "dialing")
    established = next(e for e in calls if e.get("state") == "established")
    # The CLI's own elapsed_ms is whole milliseconds (floored): time the two lines' arrival
    # instead, plus the dialing line's elapsed_ms (the dial → that line, 0-1 ms).
    return (established["_at"] - dialing["_at"]) * 1000 + float(dialing["elapsed_ms"])


def _baresip_setup(_kam, caller) -> float:
    since = len(caller.events)
    started = time.monotonic()
    caller.dial("2001")
    established = caller.wait_event("CALL_ESTABLISHED", timeout=15, since=since)
    value = (established["at"] - started) * 1000
    caller.hangup()
    caller.wait_event("CALL_CLOSED", timeout=10, since=since)
    return value
