"""Audio quality, latency and cost of a call (issue: media and audio)."""

import tempfile
import time
from pathlib import Path

from benches import _sip
from run import Measurement, Row

TITLE = "Media (peer: baresip, same speech, same impairment relay)"
ROWS = [
    *[Row(f"pesq_loss{p}_jit{j}", f"PESQ-WB, {p} % loss, {j} ms jitter", "", "≥ baresip", "baresip 1.0",
          better="higher") for j in (0, 40) for p in (0, 2, 5, 10)],
    Row("mouth_to_ear", "mouth-to-ear latency, both terminals", "ms", "≤ 60 ms", "baresip 1.0"),
    Row("call_cpu", "CPU during a call", "% of a core", "≤ 3 %", "baresip 1.0"),
    Row("call_rss", "RSS during a call", "MB", "≤ baresip", "baresip 1.0"),
]

CALLS = 5  # per side, interleaved
SECONDS = 12  # the far end's WAV ("alice", padded): it hangs up when it ends
NO_RELAY = "not measured: the lab has no impairment relay yet (loss/jitter), so no figure for either side"


def run(_ctx):
    from sidetone_lab import Lab, audio

    results = {}
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="sidetone-bench-media-") as tmp:
        kam = lab.start("kamailio")  # users 1001, 1002, 1003
        # The far end both callers talk to: auto-answers, plays "alice", records what it hears.
        lab.start("baresip:far", user="2002", play="alice", min_seconds=SECONDS, codecs="opus")
        far = lab.services["baresip:far"]
        # The peer caller: baresip playing the same talker ("bob") as Sidetone, Opus only.
        lab.start("baresip:talker", user="1002", play="bob", min_seconds=SECONDS, codecs="opus",
                  answer="manual")
        talker = lab.services["baresip:talker"]
        bob = audio.speech(lab.root / "assets", "bob", 48000)

        ours, theirs = [], []
        for i in range(CALLS):
            pair = [("st", lambda: _sidetone_call(kam, Path(tmp), i, bob)),
                    ("br", lambda: _baresip_call(talker))]
            if i % 2:
                pair.reverse()
            for who, call in pair:
                before = set(far.recordings("dec"))
                since = len(far.events)
                call()
                far.wait_event("CALL_CLOSED", timeout=SECONDS + 20, since=since)
                time.sleep(0.5)  # baresip finalises its recording after the BYE
                heard = [p for p in far.recordings("dec") if p not in before]
                if len(heard) != 1:
                    raise RuntimeError(f"far end: expected one new recording, found {heard}")
                score = audio.pesq_score(bob, heard[0], "wb")
                (ours if who == "st" else theirs).append(score)
        note = (f"median of {CALLS} interleaved calls each (Sidetone {_sip.spread(ours, 2)}, "
                f"baresip {_sip.spread(theirs, 2)}); P.862.2 of what the same auto-answer baresip "
                f"decoded (sndfile dump) vs the talker WAV (espeak \"bob\", 48 kHz) sent by the "
                f"caller: Sidetone {_sip.PROFILE} build `sidetone-cli call --codec opus --play` "
                f"(Opus 32 kbit/s, in-band FEC planned from the loss seen, 2 % on a clean path) vs baresip (aufile, Opus "
                f"32 kbit/s, no FEC); loopback through Kamailio, no impairment")
        results["pesq_loss0_jit0"] = Measurement(_sip.median(ours), _sip.median(theirs), note)
    for j in (0, 40):
        for p in (0, 2, 5, 10):
            if (p, j) != (0, 0):
                results[f"pesq_loss{p}_jit{j}"] = Measurement(None, None, NO_RELAY)
    return results


def _sidetone_call(kam, tmp: Path, i: int, bob: Path) -> None:
    _sip.sidetone_call(kam, "1001", "2002", duration=SECONDS + 8, timeout=SECONDS + 30,
                       codec="opus", play=bob, record=tmp / f"sidetone-heard-{i}.wav")


def _baresip_call(talker) -> None:
    since = len(talker.events)
    talker.dial("2002")
    talker.wait_event("CALL_ESTABLISHED", timeout=15, since=since)
    talker.wait_event("CALL_CLOSED", timeout=SECONDS + 20, since=since)
