"""The lab's supporting servers answer their real protocols: coturn (STUN, TURN), Dovecot
(IMAP voicemail with audio attachments), PulseAudio (virtual mic and speaker) and
gnome-keyring (Secret Service on a private bus).

Each test talks to the server the way a client would and checks content, not just a port.
"""

from __future__ import annotations

import email
import imaplib
import io
import re
import socket
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sidetone_lab import Lab, audio  # noqa: E402
from sidetone_lab.coturn import StunError, stun_binding, turn_allocate  # noqa: E402
from sidetone_lab.dns import dns_query  # noqa: E402

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def lab(module_lab):
    """One lab for this module (conftest's `module_lab`); each test starts (once) the
    services it needs."""
    return module_lab


def _port(uri: str) -> int:
    return int(re.search(r":(\d+)(?:\?|$)", uri).group(1))


# ---- coturn ---------------------------------------------------------------------------------

def test_coturn_answers_stun_binding_with_our_address(lab):
    eps = lab.start("coturn")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        mapped = stun_binding("127.0.0.1", _port(eps["stun"]), sock=sock)
        assert mapped == sock.getsockname()


def test_coturn_allocates_a_relay_with_the_credentials_only(lab):
    eps = lab.start("coturn")
    port = _port(eps["turn"])
    alloc = turn_allocate("127.0.0.1", port, eps["username"], eps["password"])
    low, high = eps["relay_ports"]
    assert alloc["relayed"][0] == "127.0.0.1"
    assert low <= alloc["relayed"][1] <= high
    assert alloc["realm"] == eps["realm"]
    assert alloc["lifetime"] and alloc["lifetime"] > 0
    with pytest.raises(StunError, match="401"):
        turn_allocate("127.0.0.1", port, eps["username"], eps["password"] + "x")


# ---- Dovecot --------------------------------------------------------------------------------

def _imap(lab) -> tuple[imaplib.IMAP4, dict]:
    eps = lab.start("dovecot")
    host, port = eps["imap"].split(":")
    imap = imaplib.IMAP4(host, int(port), timeout=10)
    user = eps["mailbox_user"]
    imap.login(user, eps["users"][user])
    return imap, eps


def _flags(imap: imaplib.IMAP4, uid: str) -> str:
    typ, data = imap.uid("FETCH", uid, "(FLAGS)")
    assert typ == "OK", data
    return data[0].decode()


def test_dovecot_serves_seeded_voicemails_with_wav_attachments(lab):
    imap, _ = _imap(lab)
    try:
        typ, data = imap.select("INBOX", readonly=True)
        assert typ == "OK" and int(data[0]) == 3
        typ, data = imap.uid("SEARCH", None, "UNSEEN")
        assert len(data[0].split()) == 2, "two new, one heard"
        typ, data = imap.uid("FETCH", "1:*", "(FLAGS BODYSTRUCTURE BODY.PEEK[])")
        assert typ == "OK"
        messages = [part for part in data if isinstance(part, tuple)]
        assert len(messages) == 3
        for meta, raw in messages:
            assert b'("audio" "wav"' in meta, meta
            msg = email.message_from_bytes(raw)
            assert msg["X-Asterisk-VM-Caller-ID-Num"]
            assert msg["X-Asterisk-VM-Caller-ID-Name"]
            assert msg["X-Asterisk-VM-Orig-time"].isdigit()
            attachment = next(p for p in msg.walk() if p.get_content_type() == "audio/wav")
            assert re.fullmatch(r"msg\d{4}\.wav", attachment.get_filename())
            with wave.open(io.BytesIO(attachment.get_payload(decode=True))) as w:
                seconds = w.getnframes() / w.getframerate()
            assert seconds > 1.0
            assert abs(seconds - int(msg["X-Asterisk-VM-Duration"])) <= 1.0
    finally:
        imap.logout()


def test_dovecot_seen_flag_round_trips_and_appends_land(lab):
    imap, eps = _imap(lab)
    try:
        imap.select("INBOX")
        typ, data = imap.uid("SEARCH", None, "UNSEEN")
        uid = data[0].split()[0].decode()
        assert "\\Seen" not in _flags(imap, uid)
        imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        imap.logout()
    imap, _ = _imap(lab)  # a new session sees what the last one stored
    try:
        imap.select("INBOX")
        assert "\\Seen" in _flags(imap, uid)
        imap.uid("STORE", uid, "-FLAGS", "(\\Seen)")
        assert "\\Seen" not in _flags(imap, uid)
    finally:
        imap.logout()

    vm = lab.services["dovecot"]
    user = eps["mailbox_user"]
    added = vm.add_voicemail(user, "1009", "Erin Example", None, None, None, heard=True,
                             folder="Archive")
    imap, _ = _imap(lab)
    try:
        imap.select("Archive", readonly=True)
        flags = _flags(imap, str(added["uid"]))
        assert "\\Seen" in flags
        typ, data = imap.uid("FETCH", str(added["uid"]),
                             "(BODY.PEEK[HEADER.FIELDS (X-ASTERISK-VM-CALLER-ID-NAME)])")
        assert b"Erin Example" in data[0][1]
    finally:
        imap.logout()


def test_dovecot_rejects_a_wrong_password(lab):
    eps = lab.start("dovecot")
    host, port = eps["imap"].split(":")
    imap = imaplib.IMAP4(host, int(port), timeout=10)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            imap.login(eps["mailbox_user"], "not-the-password")
    finally:
        imap.shutdown()


# ---- PulseAudio -----------------------------------------------------------------------------

def test_pulse_tone_played_into_the_mic_feed_is_heard_on_the_mic(lab, tmp_path):
    eps = lab.start("pulse")
    pulse = lab.services["pulse"]
    info = subprocess.run(["pactl", "info"], env={"PULSE_SERVER": eps["server"],
                                                  "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=10, check=True).stdout
    assert f"Default Sink: {eps['sink']}" in info
    assert f"Default Source: {eps['source']}" in info

    tone = audio.tone(tmp_path / "tone.wav", 1000, 1.0)
    rec = pulse.start_recording(eps["source"], tmp_path / "mic.wav")
    pulse.play_into_mic(tone)
    time.sleep(0.2)
    x, rate = audio.load(rec.stop())
    assert len(x) / rate >= 0.9
    assert audio.has_tone(x, rate, 1000), (audio.tone_level_dbfs(x, rate, 1000),
                                           audio.tone_fraction(x, rate, 1000))
    assert not audio.has_tone(x, rate, 1500)


def test_pulse_speaker_monitor_records_what_is_played_and_sinks_unplug(lab, tmp_path):
    eps = lab.start("pulse")
    pulse = lab.services["pulse"]
    tone = audio.tone(tmp_path / "tone.wav", 700, 2.0)
    player = None

    def play():
        nonlocal player
        player = subprocess.run(["paplay", f"--device={eps['sink']}", str(tone)],
                                env={"PULSE_SERVER": eps["server"], "PATH": "/usr/bin:/bin"},
                                capture_output=True, timeout=30)

    rec = pulse.start_recording(eps["monitor"], tmp_path / "spk.wav")
    thread = threading.Thread(target=play)
    thread.start()
    out = rec.stop(after_seconds=1.0)
    thread.join()
    assert player.returncode == 0, player.stderr
    x, rate = audio.load(out)
    assert abs(len(x) / rate - 1.0) < 0.01
    assert audio.has_tone(x[rate // 2:], rate, 700)

    pulse.add_sink("headset")
    assert "headset" in pulse.sinks()
    pulse.unload_sink("headset")
    assert "headset" not in pulse.sinks()


# ---- gnome-keyring --------------------------------------------------------------------------

def test_keyring_stores_and_looks_up_secrets_and_can_be_locked(lab):
    eps = lab.start("keyring")
    env = {"PATH": "/usr/bin:/bin", **eps["env"]}

    def secret_tool(*args, input=None):
        return subprocess.run(["secret-tool", *args], env=env, input=input,
                              capture_output=True, text=True, timeout=10)

    stored = secret_tool("store", "--label=Sidetone test", "service", "sidetone-test",
                         "account", "1001@lab", input="pa55word")
    assert stored.returncode == 0, stored.stderr
    found = secret_tool("lookup", "service", "sidetone-test", "account", "1001@lab")
    assert found.stdout == "pa55word"
    assert secret_tool("lookup", "service", "sidetone-test", "account", "nobody").returncode != 0

    keyring = lab.services["keyring"]
    keyring.lock()
    try:
        assert keyring.locked()
        assert secret_tool("lookup", "service", "sidetone-test", "account",
                           "1001@lab").stdout == ""
    finally:
        keyring.unlock()
    assert not keyring.locked()
    assert keyring.lookup(service="sidetone-test", account="1001@lab") == "pa55word"


# ---- dns ------------------------------------------------------------------------------------

def test_dns_serves_kamailio_naptr_srv_and_a_records_and_nothing_else():
    # Its own lab: the module's may run Kamailio for another domain.
    with Lab() as own:
        own.start("kamailio", domain="sip.lab.test")
        _check_lab_dns(own.start("dns"), own.services["kamailio"].endpoints["ports"])


def _check_lab_dns(eps: dict, ports: dict) -> None:
    port = eps["port"]
    assert eps["server"] == f"127.0.0.1:{port}"
    rcode, naptr = dns_query("127.0.0.1", port, "sip.lab.test", "NAPTR")
    assert rcode == 0 and sorted(naptr) == [
        (10, 10, "S", "SIPS+D2T", "", "_sips._tcp.sip.lab.test"),
        (20, 10, "S", "SIP+D2T", "", "_sip._tcp.sip.lab.test"),
        (30, 10, "S", "SIP+D2U", "", "_sip._udp.sip.lab.test"),
    ]
    assert dns_query("127.0.0.1", port, "_sips._tcp.sip.lab.test", "SRV") == \
        (0, [(0, 0, ports["tls"], "pbx.lab.test")])
    assert dns_query("127.0.0.1", port, "_sip._udp.udp.lab.test", "SRV") == \
        (0, [(0, 0, ports["sip"], "pbx.lab.test")])
    # udp.lab.test offers UDP only; none.lab.test nothing but an address.
    assert dns_query("127.0.0.1", port, "_sips._tcp.udp.lab.test", "SRV")[1] == []
    assert dns_query("127.0.0.1", port, "none.lab.test", "NAPTR") == (0, [])
    assert dns_query("127.0.0.1", port, "pbx.lab.test", "A") == (0, ["127.0.0.1"])
    # Unknown names in the zone do not exist (3 = NXDOMAIN); nothing is forwarded (5 = REFUSED).
    assert dns_query("127.0.0.1", port, "nosuch.lab.test", "A") == (3, [])
    assert dns_query("127.0.0.1", port, "example.com", "A") == (5, [])
