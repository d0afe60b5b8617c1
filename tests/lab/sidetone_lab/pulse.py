"""PulseAudio as the lab's sound card: null sinks for a speaker and a microphone, no hardware.

    eps = lab.start("pulse")
    env = {"PULSE_SERVER": eps["server"]}          # give this to the app under test
    pulse = lab.services["pulse"]
    pulse.play_into_mic("speech.wav")              # what the app's microphone (vmic) hears
    pulse.record_speaker(5.0, "out.wav")           # what the app played on vsink

Devices (all 48 kHz): sink `vsink` (the default: the app's speaker), sink `vmicsink` whose
monitor is remapped as source `vmic` (the default source: the app's microphone). Extra null
sinks can be added (`add_sink`) and removed (`unload_sink`, e.g. to unplug a device mid-call).

PulseAudio runs as root in the foreground (`--system=false`), with its native protocol on a
unix socket in the lab dir (anonymous auth), HOME and XDG_RUNTIME_DIR in the lab dir, so it
never touches the machine's own sound setup.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import wave
from pathlib import Path

from .core import LabError, Service

RATE = 48000


class PulseAudio(Service):
    """A private PulseAudio server with virtual speaker and microphone."""

    name = "pulse"

    def __init__(self, lab, **options):
        super().__init__(lab, **options)
        self.socket = self.dir / "native"
        self.server = f"unix:{self.socket}"
        self.modules: dict[str, list[str]] = {}  # sink name -> module indexes

    def start(self) -> dict:
        binary = shutil.which("pulseaudio")
        if binary is None or shutil.which("pactl") is None:
            raise LabError("pulse: not installed (apt-get install pulseaudio pulseaudio-utils)")
        xdg = self.dir / "xdg"
        home = self.dir / "home"
        xdg.mkdir(mode=0o700, exist_ok=True)
        os.chmod(xdg, 0o700)
        home.mkdir(exist_ok=True)
        self.env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(xdg),
                    "XDG_CONFIG_HOME": str(home / ".config"), "PULSE_SERVER": self.server}
        argv = [
            binary, "-n", "--daemonize=no", "--system=false", "--exit-idle-time=-1",
            "--disallow-exit", "--log-target=stderr",
            "--use-pid-file=no",
            "-L", f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            "-L", f"module-null-sink sink_name=vsink rate={RATE} "
                  "sink_properties=device.description=Lab-Speaker",
            "-L", f"module-null-sink sink_name=vmicsink rate={RATE} "
                  "sink_properties=device.description=Lab-Mic-Feed",
            "-L", "module-remap-source source_name=vmic master=vmicsink.monitor "
                  "source_properties=device.description=Lab-Microphone",
            "-L", "module-always-sink",
        ]
        env = dict(self.env)
        env.pop("PULSE_SERVER")
        proc = self.spawn(argv, env=env)
        self.lab.wait_ready("pulse (pactl info)", self._answers, timeout=15, proc=proc)
        self.pactl("set-default-sink", "vsink")
        self.pactl("set-default-source", "vmic")
        if self.options.get("clocked", True):
            for sink in ("vsink", "vmicsink"):
                self._keep_clocked(sink)
        return {"server": self.server, "sink": "vsink", "source": "vmic",
                "mic_sink": "vmicsink", "monitor": "vsink.monitor",
                "env": {"PULSE_SERVER": self.server}}

    # ---- helpers ----------------------------------------------------------------------------

    def pactl(self, *args: str, timeout: float = 10.0) -> str:
        """Run pactl against this server; returns its stdout (raises LabError on failure)."""
        res = subprocess.run(["pactl", *args], env=self._client_env(), capture_output=True,
                             text=True, timeout=timeout, check=False)
        if res.returncode != 0:
            raise LabError(f"pulse: pactl {' '.join(args)} failed: {res.stderr.strip()}")
        return res.stdout

    def play_into_mic(self, wav: Path | str, wait: bool = True) -> subprocess.Popen | None:
        """Play a WAV into `vmicsink`, i.e. into the `vmic` microphone. With `wait=False`
        returns the running paplay (it is stopped with the lab)."""
        argv = ["paplay", "--device=vmicsink", str(wav)]
        if wait:
            res = subprocess.run(argv, env=self._client_env(), capture_output=True, text=True,
                                 timeout=600, check=False)
            if res.returncode != 0:
                raise LabError(f"pulse: paplay failed: {res.stderr.strip()}")
            return None
        return self.spawn(argv, env=self._client_env(), tag="paplay").popen

    def start_recording(self, device: str, out: Path | str, rate: int = RATE,
                        channels: int = 1, timeout: float = 5.0) -> "Recording":
        """Start recording a source (e.g. "vsink.monitor", "vmic") into a 16-bit WAV; returns
        once audio flows (an idle null sink takes up to ~2 s to start delivering), so what
        is played after this call is in the recording. `stop()` the result to write `out`."""
        argv = ["parec", f"--device={device}", f"--rate={rate}", f"--channels={channels}",
                "--format=s16le", "--latency-msec=20"]
        rec = Recording(subprocess.Popen(argv, env=self._client_env(), stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True),
                        Path(out), rate, channels)
        rec.wait_flowing(timeout)
        return rec

    def record(self, device: str, seconds: float, out: Path | str, rate: int = RATE,
               channels: int = 1) -> Path:
        """Record `seconds` of audio from a source into a WAV (counted from when audio flows)."""
        rec = self.start_recording(device, out, rate, channels)
        return rec.stop(after_seconds=seconds)

    def record_speaker(self, seconds: float, out: Path | str) -> Path:
        """Record `seconds` of what is played on the speaker `vsink` into a WAV."""
        return self.record("vsink.monitor", seconds, out)

    def add_sink(self, name: str, rate: int = RATE) -> str:
        """Add a null sink `name` (its monitor is `name.monitor`); returns the name."""
        index = self.pactl("load-module", "module-null-sink", f"sink_name={name}",
                           f"rate={rate}").strip()
        self.modules.setdefault(name, []).append(index)
        return name

    def add_source(self, name: str, rate: int = RATE) -> str:
        """Add a microphone `name` fed through the sink `name_feed` (play into the feed)."""
        self.add_sink(f"{name}_feed", rate)
        index = self.pactl("load-module", "module-remap-source", f"source_name={name}",
                           f"master={name}_feed.monitor").strip()
        self.modules.setdefault(name, []).append(index)
        return name

    def unload_sink(self, name: str) -> None:
        """Remove a sink (or a source added with `add_source`) while clients use it: a
        hot-unplug. Streams on it move to another device or fail, as with real hardware."""
        indexes = self.modules.pop(name, None)
        if indexes is None:
            indexes = self._module_indexes(name)
        if not indexes:
            raise LabError(f"pulse: no module provides {name!r}")
        for index in reversed(indexes):
            self.pactl("unload-module", index)
        if f"{name}_feed" in self.modules:
            self.unload_sink(f"{name}_feed")

    def sinks(self) -> list[str]:
        """Names of the sinks the server has now."""
        return [line.split("\t")[1] for line in self.pactl("list", "short", "sinks").splitlines()
                if "\t" in line]

    def sources(self) -> list[str]:
        """Names of the sources the server has now (monitors included)."""
        return [line.split("\t")[1] for line in
                self.pactl("list", "short", "sources").splitlines() if "\t" in line]

    # ---- internals --------------------------------------------------------------------------

    def _keep_clocked(self, sink: str) -> None:
        # An idle null sink renders in blocks of up to 2 s, so a new recorder or player waits
        # that long for its first data (the "~1 s start-up delay" in LAB-NOTES). A reader on
        # its monitor asking for 20 ms keeps it ticking every 20 ms, like a sound card's
        # period; it adds no sink input, so what clients see of the sink is unchanged.
        proc = self.spawn(["parec", f"--device={sink}.monitor", "--latency-msec=20",
                           "--rate=8000", "--channels=1", "--format=s16le", "--raw", os.devnull],
                          env=self._client_env(), tag=f"clock-{sink}")
        # The sink may be in the middle of a 2 s block: suspend and resume it so it restarts
        # at once with the 20 ms the reader asked for.
        self.lab.wait_ready(f"pulse: clock reader on {sink}",
                            lambda: f"{sink}.monitor" in self._recording_sources(), timeout=10,
                            proc=proc)
        self.pactl("suspend-sink", sink, "1")
        self.pactl("suspend-sink", sink, "0")

    def _client_env(self) -> dict:
        env = dict(os.environ)
        env.update(self.env)
        return env

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        res = subprocess.run(["pactl", "info"], env=self._client_env(), capture_output=True,
                             text=True, timeout=5, check=False)
        return res.returncode == 0 and "Server Name" in res.stdout

    def _recording_sources(self) -> list[str]:
        """Names of sources that have a recording stream (source output) on them now."""
        ids = {line.split("\t")[0]: line.split("\t")[1]
               for line in self.pactl("list", "short", "sources").splitlines() if "\t" in line}
        return [ids.get(line.split("\t")[1], "") for line in
                self.pactl("list", "short", "source-outputs").splitlines() if "\t" in line]

    def _module_indexes(self, name: str) -> list[str]:
        found = []
        for line in self.pactl("list", "short", "modules").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and (f"sink_name={name}" in parts[2]
                                    or f"source_name={name}" in parts[2]):
                found.append(parts[0])
        return found


class Recording:
    """A running `parec` whose raw samples are collected in memory and written as a WAV."""

    def __init__(self, popen: subprocess.Popen, out: Path, rate: int, channels: int):
        self.popen, self.out, self.rate, self.channels = popen, out, rate, channels
        self.data = bytearray()
        self._cond = threading.Condition()
        self._done = False
        self._thread = threading.Thread(target=self._read, daemon=True, name="parec")
        self._thread.start()

    @property
    def seconds(self) -> float:
        """Audio collected so far, in seconds."""
        return len(self.data) / (2 * self.channels * self.rate)

    def wait_flowing(self, timeout: float = 5.0) -> None:
        """Wait until the first samples arrived."""
        self._wait(lambda: len(self.data) > 0, timeout, "no audio from parec")

    def stop(self, after_seconds: float | None = None, timeout: float | None = None) -> Path:
        """Stop (optionally once `after_seconds` of audio were collected, cutting exactly
        there) and write the WAV; returns its path."""
        try:
            if after_seconds is not None:
                want = int(after_seconds * self.rate) * 2 * self.channels
                self._wait(lambda: len(self.data) >= want,
                           timeout if timeout is not None else after_seconds * 1.5 + 5,
                           f"parec delivered {self.seconds:.2f}s of {after_seconds}s")
        finally:
            if self.popen.poll() is None:
                self.popen.terminate()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
            self._thread.join(timeout=5)
        data = bytes(self.data)
        if after_seconds is not None:
            data = data[: int(after_seconds * self.rate) * 2 * self.channels]
        with wave.open(str(self.out), "wb") as w:
            w.setnchannels(self.channels)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(data)
        return self.out

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0 or self._done:
                    err = b""
                    if self._done and self.popen.stderr:
                        err = self.popen.stderr.read() or b""
                    raise LabError(f"pulse: {what} {err.decode(errors='replace').strip()}")
                self._cond.wait(left)

    def _read(self) -> None:
        fd = self.popen.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._cond:
                if not chunk:
                    self._done = True
                    self._cond.notify_all()
                    return
                self.data += chunk
                self._cond.notify_all()
