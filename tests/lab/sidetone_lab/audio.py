"""Reference audio for the lab, and measurements of what a phone recorded.

Two halves:
- making sound (stdlib only, so the services and the CLI can use it without the venv):
  speech from espeak-ng + sox, cached per lab; pure tones and DTMF written with `wave`;
- measuring sound (numpy, scipy, soundfile and pesq, imported only when called, from the
  test venv): level in dBFS, speech-activity fraction, PESQ against a reference with the
  recording aligned first, and Goertzel tone / DTMF detection.

The speech is synthetic (espeak-ng): PESQ figures against it are for comparing builds and
codecs side by side, not absolute MOS claims.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import struct
import subprocess
import threading
import wave
from pathlib import Path

# Sentences for reference speech, one per talker or message. Around 8 s each: long enough
# for PESQ (which wants 8-12 s), short enough for fast tests.
SAMPLES = {
    "alice": ("The quick brown fox jumps over the lazy dog. A softphone must carry every word "
              "clearly, from the first syllable to the last."),
    "bob": ("Please call me back when you have a minute. The meeting moved to Thursday "
            "afternoon, in the small room next to the kitchen."),
    "vm1": "Hi, it's Carol. Just checking whether the invoices went out today. Thanks.",
    "vm2": "This is Dave from the front desk. Your parcel has arrived.",
    "vm3": "Hello, a reminder that your appointment is tomorrow at nine.",
}
VOICES = {"alice": "en-us+f3", "bob": "en-us+m3", "vm1": "en-us+f2", "vm2": "en-us+m1",
          "vm3": "en-us+f4"}

DTMF_LOW = (697, 770, 852, 941)
DTMF_HIGH = (1209, 1336, 1477, 1633)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")


class AudioToolMissing(RuntimeError):
    """espeak-ng or sox is not installed (scripts/setup-debian.sh installs them)."""


# ---- making sound (stdlib) ------------------------------------------------------------------

def speech(out_dir: Path, sample: str = "alice", rate: int = 48000, channels: int = 1,
           text: str | None = None) -> Path:
    """A WAV of synthetic speech (16-bit, `rate` Hz), made once and cached in `out_dir`.

    `sample` names one of `SAMPLES` (or any name when `text` is given). The same sample at
    different rates comes from the same synthesis, so a 16 kHz reference matches what a
    phone played from the 48 kHz file.
    """
    text = text if text is not None else SAMPLES[sample]
    voice = VOICES.get(sample, "en-us")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(f"{voice}|{text}".encode()).hexdigest()[:8]
    out = out_dir / f"{sample}-{digest}-{rate}-{channels}ch.wav"
    if out.exists():
        return out
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise AudioToolMissing(f"{tool} is not installed (apt: espeak-ng sox)")
    raw = out_dir / f"{sample}-{digest}-espeak.wav"
    # Several threads or processes may make the same file: each writes its own temp file
    # and renames it into place (atomic; the results are identical).
    if not raw.exists():
        tmp = _temp_name(raw)
        _run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(tmp), text])
        tmp.replace(raw)
    tmp = _temp_name(out)
    # Normalise to -3 dBFS peak, pad 0.2 s of silence at both ends so PESQ sees a clean
    # start and end.
    _run(["sox", str(raw), "-r", str(rate), "-c", str(channels), "-b", "16", str(tmp),
          "gain", "-n", "-3", "pad", "0.2", "0.2"])
    tmp.replace(out)
    return out


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.wav")


def tone(out: Path, freqs: float | tuple[float, ...] = 1000.0, seconds: float = 1.0,
         rate: int = 48000, level_dbfs: float = -12.0, channels: int = 1) -> Path:
    """A WAV of a pure tone, or of several summed (each at `level_dbfs` minus 3 dB per extra)."""
    freqs = (freqs,) if isinstance(freqs, (int, float)) else tuple(freqs)
    amp = 10 ** ((level_dbfs - 3 * (len(freqs) - 1)) / 20) * 32767
    n = int(seconds * rate)
    # Integer frequencies repeat exactly every `period` samples: compute one period only.
    period = n
    if all(float(f).is_integer() for f in freqs):
        period = math.lcm(*(rate // math.gcd(rate, int(f)) for f in freqs))
    frames = bytearray()
    for i in range(min(n, period)):
        v = sum(math.sin(2 * math.pi * f * i / rate) for f in freqs)
        frames += struct.pack("<h", max(-32768, min(32767, int(round(amp * v))))) * channels
    if period < n:
        frames = (frames * (n // period + 1))[: n * 2 * channels]
    _write_wav(Path(out), bytes(frames), rate, channels)
    return Path(out)


def dtmf(out: Path, digits: str, on_s: float = 0.1, off_s: float = 0.1, rate: int = 8000,
         level_dbfs: float = -10.0) -> Path:
    """A WAV of DTMF digits (in-band), `on_s` of tone and `off_s` of silence each."""
    amp = 10 ** ((level_dbfs - 3) / 20) * 32767
    frames = bytearray()
    for d in digits.upper():
        lo, hi = _dtmf_pair(d)
        for i in range(int(on_s * rate)):
            v = math.sin(2 * math.pi * lo * i / rate) + math.sin(2 * math.pi * hi * i / rate)
            frames += struct.pack("<h", int(round(amp * v)))
        frames += b"\0\0" * int(off_s * rate)
    _write_wav(Path(out), bytes(frames), rate, 1)
    return Path(out)


def wav_duration(path: Path) -> float:
    """Length of a PCM WAV in seconds (stdlib)."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _dtmf_pair(digit: str) -> tuple[int, int]:
    for r, row in enumerate(DTMF_KEYS):
        if digit in row:
            return DTMF_LOW[r], DTMF_HIGH[row.index(digit)]
    raise ValueError(f"not a DTMF digit: {digit!r}")


def _write_wav(out: Path, frames: bytes, rate: int, channels: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def _run(argv: list[str]) -> None:
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed ({res.returncode}): {res.stderr[-400:]}")


# ---- measuring sound (numpy & co., imported on use) -----------------------------------------

def load(path_or_array, rate: int | None = None, src_rate: int | None = None):
    """Mono float samples in [-1, 1] of a WAV (or an array at `src_rate`), resampled to `rate`.

    Returns `(samples, rate)`. Stereo is averaged to mono.
    """
    import numpy as np

    if isinstance(path_or_array, (str, Path)):
        import soundfile as sf

        data, src_rate = sf.read(str(path_or_array), dtype="float64", always_2d=True)
        x = data.mean(axis=1)
    else:
        x = np.asarray(path_or_array, dtype="float64")
        if x.ndim > 1:
            x = x.mean(axis=1)
        if src_rate is None:
            raise ValueError("src_rate is needed with an array")
    if rate and rate != src_rate:
        from scipy.signal import resample_poly

        g = math.gcd(int(rate), int(src_rate))
        x = resample_poly(x, rate // g, src_rate // g)
        src_rate = rate
    return x, int(src_rate)


def rms_dbfs(x) -> float:
    """RMS level in dBFS (a full-scale sine is -3 dBFS); -inf for digital silence."""
    import numpy as np

    x = np.asarray(x, dtype="float64")
    if x.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(x * x)))
    return 20 * math.log10(rms) if rms > 0 else float("-inf")


def frame_levels(x, rate: int, frame_ms: float = 20.0):
    """RMS level in dBFS of each `frame_ms` frame (numpy array)."""
    import numpy as np

    n = max(1, int(rate * frame_ms / 1000))
    frames = np.asarray(x, dtype="float64")[: len(x) // n * n].reshape(-1, n)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    with np.errstate(divide="ignore"):
        return 20 * np.log10(np.maximum(rms, 1e-12))


def speech_activity(x, rate: int, threshold_dbfs: float = -45.0, frame_ms: float = 20.0) -> float:
    """Fraction of `frame_ms` frames louder than `threshold_dbfs` (0.0 for empty input)."""
    levels = frame_levels(x, rate, frame_ms)
    return float((levels > threshold_dbfs).mean()) if len(levels) else 0.0


def find_delay(reference, degraded, rate: int, max_delay_s: float = 5.0) -> int:
    """Samples by which `degraded` lags `reference` (negative if it leads), by FFT
    cross-correlation of their envelopes-free waveforms, searched within `max_delay_s`."""
    import numpy as np

    ref = np.asarray(reference, dtype="float64")
    deg = np.asarray(degraded, dtype="float64")
    n = 1 << int(math.ceil(math.log2(len(ref) + len(deg) + 1)))
    cc = np.fft.irfft(np.fft.rfft(deg, n) * np.conj(np.fft.rfft(ref, n)), n)
    max_lag = int(max_delay_s * rate)
    pos = cc[: min(max_lag, len(deg)) + 1]
    neg = cc[n - min(max_lag, len(ref)):] if max_lag else cc[:0]
    best_pos = int(np.argmax(np.abs(pos)))
    if len(neg) and np.max(np.abs(neg)) > abs(pos[best_pos]):
        return int(np.argmax(np.abs(neg))) - len(neg)
    return best_pos


def align(reference, degraded, rate: int, max_delay_s: float = 5.0):
    """`degraded` shifted to line up with `reference` and cut or zero-padded to its length;
    returns `(aligned, delay_samples)`. Tolerates a phone's start delay and early hang-up."""
    import numpy as np

    ref = np.asarray(reference, dtype="float64")
    deg = np.asarray(degraded, dtype="float64")
    delay = find_delay(ref, deg, rate, max_delay_s)
    if delay >= 0:
        seg = deg[delay: delay + len(ref)]
    else:
        seg = np.concatenate([np.zeros(-delay), deg[: len(ref) + delay]])
    if len(seg) < len(ref):
        seg = np.concatenate([seg, np.zeros(len(ref) - len(seg))])
    return seg, delay


def pesq_score(reference, degraded, mode: str = "wb", max_delay_s: float = 5.0,
               degraded_rate: int | None = None) -> float:
    """PESQ (ITU-T P.862.2 for "wb" at 16 kHz, P.862 for "nb" at 8 kHz) of `degraded`
    against `reference`; both are paths or arrays (arrays need `degraded_rate`, and the
    reference array must already be at the mode's rate). The degraded signal is aligned first.
    """
    from pesq import pesq

    fs = 16000 if mode == "wb" else 8000
    ref, _ = load(reference, fs, src_rate=fs)
    deg, _ = load(degraded, fs, src_rate=degraded_rate)
    aligned, _ = align(ref, deg, fs, max_delay_s)
    return float(pesq(fs, ref, aligned, mode))


def goertzel_power(x, rate: int, freq: float) -> float:
    """Power of `x` at `freq`, normalised so a sine of amplitude A gives A^2/4 whatever the
    length. This is the Goertzel detector's output (|single-bin DFT|^2), evaluated directly
    with numpy rather than by the recurrence (same value, no Python loop, no scipy import)."""
    import numpy as np

    x = np.asarray(x, dtype="float64")
    n = len(x)
    if n == 0:
        return 0.0
    phase = np.exp(-2j * np.pi * freq / rate * np.arange(n))
    return float(abs(np.dot(x, phase)) ** 2) / (n * n)


def tone_level_dbfs(x, rate: int, freq: float) -> float:
    """RMS level of the `freq` component in dBFS (a sine of peak -12 dBFS gives -15 dBFS)."""
    # A sine of amplitude A gives Goertzel power A^2/4; its RMS is A/sqrt(2): RMS^2 = 2 P.
    return 10 * math.log10(max(2 * goertzel_power(x, rate, freq), 1e-24))


def tone_fraction(x, rate: int, freq: float, width_hz: float = 25.0) -> float:
    """Share of the signal's energy within `width_hz` of `freq` (0..1)."""
    import numpy as np

    x = np.asarray(x, dtype="float64")
    if len(x) == 0:
        return 0.0
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    bins = np.fft.rfftfreq(len(x), 1 / rate)
    total = spec.sum()
    band = np.abs(bins - freq) <= max(width_hz, 3 * rate / len(x))
    return float(spec[band].sum() / total) if total > 0 else 0.0


def has_tone(x, rate: int, freq: float, min_dbfs: float = -40.0,
             min_fraction: float = 0.5) -> bool:
    """True if `freq` is present at `min_dbfs` or louder and carries at least `min_fraction`
    of the energy (so speech or noise does not pass for a tone)."""
    return (tone_level_dbfs(x, rate, freq) >= min_dbfs
            and tone_fraction(x, rate, freq) >= min_fraction)


def detect_dtmf(x, rate: int, frame_ms: float = 40.0, min_dbfs: float = -35.0) -> str:
    """The DTMF digits heard in `x`, in order (a digit counts once per continuous press)."""
    import numpy as np

    x = np.asarray(x, dtype="float64")
    n = int(rate * frame_ms / 1000)
    digits, last = [], None
    for start in range(0, len(x) - n + 1, n):
        frame = x[start: start + n]
        if rms_dbfs(frame) < min_dbfs:
            last = None
            continue
        lows = [tone_level_dbfs(frame, rate, f) for f in DTMF_LOW]
        highs = [tone_level_dbfs(frame, rate, f) for f in DTMF_HIGH]
        li, hi = int(np.argmax(lows)), int(np.argmax(highs))
        others = sorted(lows)[-2:-1] + sorted(highs)[-2:-1]
        strong = lows[li] > min_dbfs - 6 and highs[hi] > min_dbfs - 6
        clear = lows[li] - max(others) > 8 and highs[hi] - max(others) > 8
        digit = DTMF_KEYS[li][hi] if strong and clear else None
        if digit and digit != last:
            digits.append(digit)
        last = digit
    return "".join(digits)
