"""Two baresip phones registered to the lab's Kamailio call each other and hear each other.

For each codec, A (the caller) dials B; B auto-answers; A plays speech sample "alice" and B
plays "bob" (longer, so A hangs up first when its speech ends). Afterwards, what B recorded
(baresip's sndfile dump of the decoded stream) must contain A's speech: enough active
speech, and a PESQ-WB score against the reference above a floor for that codec.

The two codecs' calls run at the same time, each between its own pair of phones.

Floors (PESQ-WB against espeak-ng speech, clean loopback path, measured here on 2 cores):
Opus 32 kbit/s scored 4.3-4.5, PCMU 3.3-3.4 (G.711 is narrowband: WB scoring caps it).
The floors leave ~0.5 of margin for a loaded machine; a broken path (no audio, wrong
direction, wrong codec, heavy loss) scores well below 2.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sidetone_lab import Lab, audio  # noqa: E402

pytestmark = pytest.mark.timeout(180)

# codec -> (callee's decoded rate and channels, PESQ-WB floor of what the callee heard)
CODECS = {
    "opus": (48000, 2, 3.8),
    "pcmu": (8000, 1, 2.9),
}
CALLEE_SECONDS = 14.0  # B's speech padded with silence: it outlasts A's, so A hangs up


class CallResult:
    """What one call left behind: both phones' events and what each of them heard."""

    def __init__(self, codec: str):
        self.codec = codec
        self.caller_events: list[dict] = []
        self.callee_events: list[dict] = []
        self.callee_heard: Path | None = None
        self.caller_heard: Path | None = None
        self.dial_to_established: float | None = None
        self.error: BaseException | None = None


def _call(lab: Lab, codec: str, callee_user: str, out: CallResult) -> None:
    """One call, in a worker thread (the phones were started in the main thread: a lab's
    processes die with the thread that spawned them)."""
    try:
        caller = lab.services[f"baresip:{codec}-caller"]
        callee = lab.services[f"baresip:{codec}-callee"]
        started = time.monotonic()
        response = caller.dial(callee_user)
        assert response.get("ok"), response
        established = caller.wait_event("CALL_ESTABLISHED", timeout=10)
        out.dial_to_established = established["at"] - started
        callee.wait_event("CALL_ESTABLISHED", timeout=10)
        # The caller's speech (~9 s) ends, its aufile source ends, and it hangs up.
        caller.wait_event("CALL_CLOSED", timeout=40)
        callee.wait_event("CALL_CLOSED", timeout=10)
        out.caller_events = list(caller.events)
        out.callee_events = list(callee.events)
        heard = callee.recordings("dec")
        out.callee_heard = heard[-1] if heard else None
        heard = caller.recordings("dec")
        out.caller_heard = heard[-1] if heard else None
    except BaseException as exc:  # reported by the tests, with the phones' logs
        out.error = exc


@pytest.fixture(scope="module")
def calls(module_lab):
    """Kamailio with four users, and one call per codec, run side by side, in one lab."""
    lab = module_lab
    users = ["1001", "1002", "1003", "1004"]
    lab.start("kamailio", users=users)
    results = {codec: CallResult(codec) for codec in CODECS}
    for i, codec in enumerate(CODECS):
        lab.start(f"baresip:{codec}-callee", user=users[2 * i + 1], play="bob",
                  min_seconds=CALLEE_SECONDS, codecs=[codec])
        lab.start(f"baresip:{codec}-caller", user=users[2 * i], play="alice", codecs=[codec])
    threads = []
    for i, codec in enumerate(CODECS):
        thread = threading.Thread(target=_call, args=(lab, codec, users[2 * i + 1],
                                                      results[codec]), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=120)
    refs = {name: audio.speech(lab.root / "assets", name, 16000) for name in ("alice", "bob")}
    return lab, results, refs


def _result(calls, codec: str) -> CallResult:
    lab, results, _ = calls
    result = results[codec]
    if result.error is not None:
        logs = "\n".join(f"--- {p.log} ---\n{p.log_tail(15)}"
                         for key, svc in lab.services.items() if key.startswith("baresip")
                         for p in svc.processes)
        raise AssertionError(f"{codec} call failed: {result.error}\n{logs}")
    return result


@pytest.mark.parametrize("codec", list(CODECS))
def test_call_connects_through_kamailio_and_both_sides_see_it(calls, codec):
    result = _result(calls, codec)
    caller_types = [e["type"] for e in result.caller_events]
    callee_types = [e["type"] for e in result.callee_events]
    for types in (caller_types, callee_types):
        assert "CALL_ESTABLISHED" in types
        assert "CALL_CLOSED" in types
        assert types.index("CALL_ESTABLISHED") < types.index("CALL_CLOSED")
    assert "CALL_RTPESTAB" in callee_types, "media reached the callee"
    established = next(e for e in result.callee_events if e["type"] == "CALL_ESTABLISHED")
    assert established["direction"] == "incoming"
    assert result.dial_to_established is not None and result.dial_to_established < 5.0


@pytest.mark.parametrize("codec", list(CODECS))
def test_callee_hears_the_callers_speech(calls, codec, record_property):
    result = _result(calls, codec)
    _, _, refs = calls
    rate, channels, floor = CODECS[codec]
    assert result.callee_heard is not None, "the callee recorded nothing"

    import soundfile

    info = soundfile.info(str(result.callee_heard))
    assert (info.samplerate, info.channels) == (rate, channels), f"not {codec}: {info}"
    heard, fs = audio.load(result.callee_heard, 16000)
    ref, _ = audio.load(refs["alice"], 16000)
    aligned, delay = audio.align(ref, heard, 16000)
    assert 0 <= delay / fs < 1.0, f"start delay {delay / fs:.2f}s"
    activity = audio.speech_activity(aligned, fs)
    ref_activity = audio.speech_activity(ref, fs)
    assert activity >= 0.85 * ref_activity, (activity, ref_activity)
    assert audio.rms_dbfs(aligned) > -35

    score = audio.pesq_score(refs["alice"], result.callee_heard)
    record_property(f"pesq_wb_{codec}", round(score, 2))
    print(f"\n{codec}: PESQ-WB {score:.2f} (floor {floor}), delay {delay / fs * 1000:.0f} ms, "
          f"speech {activity:.2f} of frames (reference {ref_activity:.2f})")
    assert score >= floor, f"{codec}: PESQ-WB {score:.2f} < {floor}"
    # The measurement tells speech apart: B's own sample is not what B heard.
    wrong = audio.pesq_score(refs["bob"], result.callee_heard)
    print(f"{codec}: PESQ-WB against the wrong reference {wrong:.2f}")
    assert wrong < floor - 1.0


@pytest.mark.parametrize("codec", list(CODECS))
def test_caller_hears_the_callees_speech(calls, codec):
    result = _result(calls, codec)
    _, _, refs = calls
    assert result.caller_heard is not None, "the caller recorded nothing"
    heard, fs = audio.load(result.caller_heard, 16000)
    ref, _ = audio.load(refs["bob"], 16000)
    aligned, _ = audio.align(ref, heard, 16000)
    # The caller hangs up when its own (shorter) sample ends: most of B's speech is there.
    assert audio.speech_activity(aligned, fs) >= 0.6 * audio.speech_activity(ref, fs)
