"""baresip as the far-end phone: registers to the lab's Kamailio, auto-answers, plays speech
or a tone, and records what it hears.

Several phones can run at once, one service instance each:

    lab.start("kamailio", users={"1001": None, "1002": None})
    bob = lab.start("baresip", name="bob", user="1002")          # services["baresip:bob"]
    alice = lab.start("baresip:alice", user="1001", play="alice")
    phone = lab.services["baresip:alice"]
    phone.dial("1002"); phone.wait_event("CALL_ESTABLISHED")

What a phone hears is written by baresip's `sndfile` filter to `record_dir` as
`dump-<time>-dec.wav` (`-enc.wav` is what it sent), at the codec's rate (48 kHz stereo for
Opus, 8 kHz mono for G.711): `phone.recordings()` lists them, oldest first.

Sound devices (there is no sound card here). The source is `aufile` (a WAV; the call hangs
up when it ends, so call length = WAV length) or `ausine` (a tone that never ends). The
player is chosen by `player=`:
- "null" (default): baresip's `aubridge` player with no matching source. Nothing pulls from
  it, so it costs no CPU, and the recording is unaffected because `sndfile` sits in the
  decode path before the player's buffer. Use it for a far end that only records.
- "pulse": baresip's `pulse` module (Debian package baresip-x11) playing into a null sink of
  the lab's PulseAudio (started if needed), one sink per phone (`<name>_out`). A clocked
  device: use it for CPU, latency or mouth-to-ear figures.
- "alsa-null": ALSA's `null` device, as in the lab notes. It is not clocked and busy-loops a
  core per phone; kept only for comparison.

Control: baresip's `ctrl_tcp` (netstrings of JSON): `PhoneControl` sends commands and
collects the call events it streams (CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED, ...).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from . import audio
from .core import LabError, Service

MODULE_PATH = "/usr/lib/baresip/modules"
# The user of the unnamed phone (`lab.start("baresip")`, the demo's far end): an extension
# that is not one of Kamailio's default users, so the app can call it from any of them.
DEFAULT_USER = "2000"
CODECS = {"opus": "opus/48000/2", "pcmu": "PCMU/8000/1", "pcma": "PCMA/8000/1",
          "g722": "G722/16000/1"}


class PhoneControl:
    """A client for baresip's ctrl_tcp: commands out, responses and events in.

    A background thread reads the netstring stream; events are kept in `events` (oldest
    first) and can be waited for with `wait_event`.
    """

    def __init__(self, host: str, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(None)
        self.events: list[dict] = []
        self._responses: dict[str, dict] = {}
        self._cond = threading.Condition()
        self._closed = False
        self._token = 0
        self._thread = threading.Thread(target=self._read, name=f"ctrl_tcp:{port}", daemon=True)
        self._thread.start()

    # ---- commands ---------------------------------------------------------------------------

    def command(self, command: str, params: str | None = None, timeout: float = 5.0) -> dict:
        """Send a command (a baresip menu command: dial, hangup, accept, reginfo, quit, ...);
        return its response `{"response": true, "ok": bool, "data": str, "token": str}`."""
        with self._cond:
            self._token += 1
            token = f"t{self._token}"
        msg = {"command": command, "token": token}
        if params is not None:
            msg["params"] = params
        payload = json.dumps(msg).encode()
        self.sock.sendall(str(len(payload)).encode() + b":" + payload + b",")
        deadline = time.monotonic() + timeout
        with self._cond:
            while token not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise LabError(f"baresip ctrl_tcp: no response to {command!r}")
                self._cond.wait(left)
            return self._responses.pop(token)

    def wait_event(self, kind: str | tuple[str, ...], timeout: float = 10.0, since: int = 0,
                   where=None) -> dict:
        """The first event of type `kind` (e.g. "CALL_ESTABLISHED") at index >= `since` in
        `events` (and matching `where(event)` if given); waits up to `timeout` seconds."""
        kinds = (kind,) if isinstance(kind, str) else tuple(kind)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events[since:]:
                    if ev.get("type") in kinds and (where is None or where(ev)):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    seen = [e.get("type") for e in self.events[since:]]
                    raise LabError(f"baresip: no {'/'.join(kinds)} event within {timeout:.1f}s "
                                   f"(saw {seen})")
                self._cond.wait(left)

    def event_types(self) -> list[str]:
        """Types of all events seen so far, in order."""
        with self._cond:
            return [e.get("type") for e in self.events]

    def close(self) -> None:
        """Close the connection (baresip keeps running)."""
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # ---- reader -----------------------------------------------------------------------------

    def _read(self) -> None:
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    colon = buf.find(b":")
                    if colon < 0 or not buf[:colon].isdigit():
                        break
                    size = int(buf[:colon])
                    end = colon + 1 + size
                    if len(buf) < end + 1:
                        break
                    payload, buf = buf[colon + 1:end], buf[end + 1:]
                    self._deliver(payload)
        except OSError:
            pass
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _deliver(self, payload: bytes) -> None:
        try:
            msg = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            return
        with self._cond:
            if msg.get("response"):
                self._responses[str(msg.get("token"))] = msg
            elif msg.get("event"):
                msg["at"] = time.monotonic()
                self.events.append(msg)
            self._cond.notify_all()


class Baresip(Service):
    """One baresip phone. Options (all optional):

    name        instance name ("bob" -> services["baresip:bob"]); the default SIP user
    user        SIP user (default: the instance name; "2000" for the unnamed phone),
                added to Kamailio (`add_user`) if it is not one of its users
    password    SIP password (default: the Kamailio user's, or random for a new user); a
                wrong one for an existing user makes start() fail "registration refused"
    registrar   "kamailio" (default when the lab runs Kamailio) or None (no registration:
                reach the phone directly at its `sip` endpoint)
    transport   "udp" (default), "tcp" or "tls" towards the registrar
    play        what the phone sends: a sample name from `audio.SAMPLES` ("alice", "bob"...;
                default "alice"), a WAV path (mono, 48 kHz), "tone:FREQ" (never ends)
    min_seconds pad a sample with silence to at least this long (keeps the call up)
    codecs      list or comma string of "opus", "pcmu", "pcma", "g722" (default opus,pcmu,pcma)
    answer      "auto" (default) or "manual" (then `accept()`)
    player      "null" (default), "pulse" or "alsa-null" (see the module doc)
    config      dict of extra baresip config lines (e.g. {"opus_inbandfec": "yes"})
    """

    name = "baresip"
    multi_instance = True

    def __init__(self, lab, key=None, **options):
        super().__init__(lab, key=key, **options)
        self.phone = str(options.get("name") or "baresip")
        self.control: PhoneControl | None = None
        self.record_dir = self.dir / "rec"
        self.sink: str | None = None

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> dict:
        if shutil.which("baresip") is None:
            raise LabError("baresip: not installed (apt-get install baresip-core)")
        opts = self.options
        user = str(opts.get("user") or (self.phone if ":" in self.key else DEFAULT_USER))
        password = opts.get("password")
        registrar = opts.get("registrar", "kamailio" if "kamailio" in self.lab.services else None)
        transport = opts.get("transport", "udp")
        sip_port = self.lab.port(count=2)  # baresip puts TLS on sip_listen + 1
        ctrl_port = self.lab.port()
        rtp_base = self.lab.port(count=21)
        rtp_base += rtp_base % 2  # RTP on even ports, RTCP on the odd one above
        self.record_dir.mkdir(parents=True, exist_ok=True)

        account_params = []
        if registrar:
            kam = self.lab.services.get(registrar)
            if kam is None:
                raise LabError(f"baresip:{self.phone}: registrar {registrar!r} is not running "
                               f"(lab.start({registrar!r}) first)")
            ep = kam.endpoints
            domain = ep.get("domain") or "127.0.0.1"
            users = ep.get("users") or {}
            if user not in users:
                # A new user of the registrar (with the given password, or a random one).
                password = kam.add_user(user, password)
            elif password is None:
                password = users[user]
            # else: an explicit password for an existing user is used as given (a wrong one
            # makes the registration fail, which is how to test that).
            proxy = ep.get(transport)
            if not proxy:
                raise LabError(f"baresip:{self.phone}: registrar has no {transport} endpoint")
            proxy = _host_port(proxy)
            aor = f"sip:{user}@{domain}"
            account_params += [
                f"auth_pass={password}",
                f"outbound=\"sip:{proxy};transport={transport};lr\"",
                f"regint={int(opts.get('regint', 300))}",
            ]
            uri = f"<{aor};transport={transport}>"
        else:
            password = password or ""
            domain = "127.0.0.1"
            aor = f"sip:{user}@127.0.0.1:{sip_port}"
            uri = f"<sip:{user}@127.0.0.1:{sip_port}>"
            account_params.append("regint=0")
        codecs = opts.get("codecs", ("opus", "pcmu", "pcma"))
        if isinstance(codecs, str):
            codecs = [c.strip() for c in codecs.split(",") if c.strip()]
        try:
            codec_list = ",".join(CODECS[c.lower()] for c in codecs)
        except KeyError as exc:
            raise LabError(f"baresip: unknown codec {exc}; known: {', '.join(CODECS)}") from None
        answer = opts.get("answer", "auto")
        account_params += [f"answermode={answer}", f"audio_codecs={codec_list}", "ptime=20"]
        accounts = self.dir / "accounts"
        accounts.write_text(uri + ";" + ";".join(account_params) + "\n")
        accounts.chmod(0o600)  # holds the SIP password
        (self.dir / "contacts").write_text("")

        source = self._source(opts.get("play", "alice"), opts.get("min_seconds"))
        player, env = self._player(opts.get("player", "null"))
        config = {
            "poll_method": "epoll",
            "sip_listen": f"127.0.0.1:{sip_port}",
            "net_interface": "127.0.0.1",
            "call_local_timeout": "120",
            "call_max_calls": "4",
            "audio_player": player,
            "audio_alert": player,
            "audio_source": source,
            "ausrc_srate": "48000",
            "ausrc_channels": "2" if source.startswith("ausine") else "1",  # ausine: stereo only
            "auplay_srate": "48000",
            "auplay_channels": "1",
            "rtp_ports": f"{rtp_base}-{rtp_base + 19}",
            "rtcp_mux": "no",
            "jitter_buffer_delay": "5-10",
            "opus_bitrate": "32000",
            "module_path": MODULE_PATH,
            "snd_path": str(self.record_dir),
            "ctrl_tcp_listen": f"127.0.0.1:{ctrl_port}",
        }
        if transport == "tls" and registrar:
            ca = self.lab.services[registrar].endpoints.get("ca_cert")
            if ca:
                config["sip_cafile"] = str(ca)
        config.update({k: str(v) for k, v in (opts.get("config") or {}).items()})
        modules = ["g711.so", "opus.so", "g722.so", "aufile.so", "ausine.so", "aubridge.so",
                   "sndfile.so"]
        if player.startswith("pulse"):
            modules.append("pulse.so")
        if player.startswith("alsa"):
            modules.append("alsa.so")
        lines = [f"{k}\t{v}" for k, v in config.items()]
        lines += [f"module\t{m}" for m in modules]
        lines += ["module_tmp\taccount.so", "module_app\tmenu.so", "module_app\tctrl_tcp.so"]
        (self.dir / "config").write_text("\n".join(lines) + "\n")

        proc = self.spawn(["baresip", "-f", str(self.dir)], env=env)
        self.lab.wait_ready(f"baresip:{self.phone} ctrl_tcp", lambda: self._connect(ctrl_port),
                            timeout=10, proc=proc)
        if registrar:
            self._refused: LabError | None = None
            self.lab.wait_ready(f"baresip:{self.phone} registered as {aor}",
                                self._registered_or_refused, timeout=10, proc=proc)
            if self._refused is not None:
                raise LabError(f"{self._refused}\n--- {proc.log} ---\n{proc.log_tail(10)}")
        return {
            "aor": aor,
            "user": user,
            "password": password,
            "domain": domain,
            "sip": f"127.0.0.1:{sip_port}",
            "ctrl": f"127.0.0.1:{ctrl_port}",
            "record_dir": str(self.record_dir),
            **({"sink": self.sink} if self.sink else {}),
        }

    def stop(self) -> None:
        if self.control is not None:
            try:
                if self.processes and self.processes[0].alive():
                    self.control.command("quit", timeout=1.0)
                    self.processes[0].popen.wait(timeout=2.0)
            except Exception:
                pass
            self.control.close()
            self.control = None
        super().stop()
        if self.sink and "pulse" in self.lab.services:
            try:
                self.lab.services["pulse"].unload_sink(self.sink)
            except Exception:
                pass

    # ---- calls ------------------------------------------------------------------------------

    def dial(self, target: str) -> dict:
        """Call `target`: a SIP URI, or a user of the phone's domain. Returns the response."""
        if not target.startswith(("sip:", "sips:")):
            target = f"sip:{target}@{self.endpoints.get('domain', '127.0.0.1')}"
        return self._ctl().command("dial", target)

    def hangup(self) -> dict:
        """Hang up the current call."""
        return self._ctl().command("hangup")

    def accept(self) -> dict:
        """Answer the ringing incoming call (with `answer="manual"`)."""
        return self._ctl().command("accept")

    def registered(self) -> bool:
        """True when baresip reports its account registered (`reginfo` says OK). Raises
        LabError at once if the registrar refused it (a REGISTER_FAIL event)."""
        ctl = self._ctl()
        data = ctl.command("reginfo", timeout=2.0).get("data", "")
        if re.search(r"\bOK\b", _strip_ansi(data)):
            return True
        # The first REGISTER usually fails before ctrl_tcp is connected, so its event is
        # missed: baresip also logs it ("reg: sip:1001@...: 401 Unauthorized").
        failed = [str(e.get("param")) for e in ctl.events if e.get("type") == "REGISTER_FAIL"]
        if not failed and self.processes:
            failed = re.findall(r"reg: \S+: ([3-6]\d\d [^\n\x1b]*)",
                                _strip_ansi(self.processes[0].log_tail(50)))
        if failed:
            raise _Refused(f"baresip:{self.phone}: registration refused: {failed[-1].strip()}")
        return False

    def wait_event(self, kind, timeout: float = 10.0, since: int = 0, where=None) -> dict:
        """See `PhoneControl.wait_event`."""
        return self._ctl().wait_event(kind, timeout=timeout, since=since, where=where)

    def event_types(self) -> list[str]:
        """Types of every event so far, in order (e.g. [..., "CALL_ESTABLISHED", ...])."""
        return self._ctl().event_types()

    @property
    def events(self) -> list[dict]:
        """Every event baresip sent since the phone started."""
        return self._ctl().events

    def recordings(self, kind: str = "dec") -> list[Path]:
        """What the phone heard ("dec") or sent ("enc"), one WAV per call, oldest first."""
        return sorted(self.record_dir.glob(f"dump-*-{kind}.wav"), key=lambda p: p.stat().st_mtime)

    # ---- internals --------------------------------------------------------------------------

    def _ctl(self) -> PhoneControl:
        if self.control is None:
            raise LabError(f"baresip:{self.phone}: not started")
        return self.control

    def _registered_or_refused(self) -> bool:
        # wait_ready retries on any exception: a refusal must end the wait at once.
        try:
            return self.registered()
        except _Refused as exc:
            self._refused = exc
            return True

    def _connect(self, port: int) -> bool:
        self.control = PhoneControl("127.0.0.1", port, timeout=1.0)
        return True

    def _source(self, play, min_seconds) -> str:
        play = str(play)
        if play.startswith("tone:"):
            return f"ausine,{int(float(play[5:]))}"
        if play in audio.SAMPLES:
            wav = audio.speech(self.lab.root / "assets", play, 48000)
        else:
            wav = Path(play)
            if not wav.is_file():
                raise LabError(f"baresip:{self.phone}: nothing to play at {play!r}")
        if min_seconds and audio.wav_duration(wav) < float(min_seconds):
            padded = self.dir / f"play-{wav.stem}-{float(min_seconds):g}s.wav"
            if not padded.exists():
                res = subprocess.run(["sox", str(wav), str(padded), "pad", "0",
                                      f"{float(min_seconds) - audio.wav_duration(wav):.3f}"],
                                     capture_output=True, text=True, check=False)
                if res.returncode != 0:
                    raise LabError(f"baresip:{self.phone}: sox pad failed: {res.stderr}")
            wav = padded
        return f"aufile,{wav}"

    def _player(self, player: str) -> tuple[str, dict | None]:
        if player == "null":
            return f"aubridge,{self.phone}-nowhere", None
        if player == "alsa-null":
            return "alsa,null", None
        if player == "pulse":
            if not Path(MODULE_PATH, "pulse.so").exists():
                raise LabError("baresip: player 'pulse' needs the baresip pulse module "
                               "(apt-get install baresip-x11)")
            pulse_ep = self.lab.start("pulse")
            self.sink = f"{self.phone}_out".replace(":", "_")
            self.lab.services["pulse"].add_sink(self.sink)
            return f"pulse,{self.sink}", {"PULSE_SERVER": pulse_ep["server"]}
        raise LabError(f"baresip: unknown player {player!r} (null, pulse, alsa-null)")


class _Refused(LabError):
    """The registrar answered the phone's REGISTER with an error."""


def _host_port(endpoint: str) -> str:
    """'127.0.0.1:5060' from '127.0.0.1:5060', 'sip:127.0.0.1:5060;transport=udp', 'ws://...'."""
    m = re.search(r"(\d+\.\d+\.\d+\.\d+:\d+)", str(endpoint))
    if not m:
        raise LabError(f"baresip: cannot read host:port from {endpoint!r}")
    return m.group(1)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
