"""The CLI keeps accounts the way the app does, in the same profile and keychain:
`provision LINK` shows the provider's terms, saves nothing until they are accepted, then files
the secrets in the keychain (gnome-keyring), registers the line once and saves it;
`accounts` lists it; `voicemail` syncs the line's mailbox from Dovecot, lists it, marks heard,
plays (measured on a PulseAudio null sink), saves as WAV, deletes, and still lists offline;
`logout --forget-data` removes the secrets and the cached voicemail."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import wave
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from desktop import cli_binary  # noqa: E402
from sidetone_lab import Lab  # noqa: E402
from secrets_scan import assert_no_secrets  # noqa: E402

ADDRESS = "1 Lab Road; Suite 2; Springfield; IL; 62701; US"


def rms_dbfs(path: Path) -> float:
    """Level of a 16-bit WAV in dBFS (all channels)."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2, w.getsampwidth()
        frames = w.readframes(w.getnframes())
    samples = memoryview(frames).cast("h")
    if len(samples) == 0:
        return -120.0
    mean_square = sum(s * s for s in samples) / len(samples)
    return 10 * math.log10(max(mean_square, 1e-9) / 32768**2)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


class Cli:
    """Runs sidetone-cli in a private home and data directory, on the lab's keyring bus."""

    def __init__(self, home: Path, env: dict):
        # Temp files land under `home` too, so one scan covers everything written.
        (home / "tmp").mkdir(exist_ok=True)
        self.env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
                    "SIDETONE_DATA_DIR": str(home / "data"), "TMPDIR": str(home / "tmp"),
                    "RUST_BACKTRACE": "1", **env}
        self.printed: list[str] = []

    def run(self, *args: str, ok: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        done = subprocess.run([str(cli_binary()), *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        self.printed += [done.stdout, done.stderr]
        if ok and done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            raise AssertionError(f"{args[0]} failed ({done.returncode}): {done.stdout}")
        return done

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "--json").stdout)


@pytest.mark.timeout(300)
def test_provision_save_voicemail_and_logout_through_the_cli(tmp_path):
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    with Lab() as lab:
        idp_eps = lab.start("idp")
        keyring = lab.start("keyring")
        pulse = lab.start("pulse")
        lab.start("dovecot", user="1001")
        idp = lab.services["idp"]
        idp.reload_services()
        vm_password = lab.services["dovecot"].users["1001"]
        sip_password = lab.services["kamailio"].users["1001"]
        ca = idp_eps["ca_cert"]
        # The native PulseAudio client needs the server's cookie: without one (this scratch
        # HOME has none) the server hangs up and cpal falls back to ALSA's pulse plugin, which
        # fails mid-stream now and then.
        cookie = Path(lab.services["pulse"].env["XDG_CONFIG_HOME"]) / "pulse" / "cookie"
        assert cookie.exists(), cookie
        cli = Cli(tmp_path, {**keyring["env"], "PULSE_SERVER": pulse["server"],
                             "PULSE_COOKIE": str(cookie)})

        # A one-time link, run where nobody can be asked: refused before the token is spent.
        link = idp.create_token("1001")["url_link"]
        refused = cli.run("provision", link, "--ca-file", ca, "--json", ok=False)
        assert refused.returncode == 1
        assert json.loads(refused.stdout)["error"]["code"] == "cli.terms_required"
        assert cli.run("accounts", "--json").stdout == ""

        # Accepted (with the emergency address this provider requires): saved and registered.
        done = cli.run("provision", link, "--ca-file", ca, "--accept-terms",
                       "--emergency-address", ADDRESS, "--json")
        assert "Emergency calling (version 2026-11)" in done.stderr, "the terms are shown"
        report = json.loads(done.stdout)
        assert report["provider"] == "Sidetone Lab", report
        [line] = report["saved"]
        assert line["registered"] is True and line["voicemail"] is True, line
        account_id = line["id"]
        assert account_id.startswith("1001@"), line

        listed = [json.loads(row) for row in cli.run("accounts", "--json").stdout.splitlines()]
        assert [a["id"] for a in listed] == [account_id], listed
        assert listed[0]["voicemail"] is True and listed[0]["method"] == "token"

        # Secrets only in the keychain.
        kr = lab.services["keyring"]
        assert kr.lookup(service="org.sidetone.desktop",
                         username=f"{account_id}/sip-password") == sip_password
        assert kr.lookup(service="org.sidetone.desktop",
                         username=f"{account_id}/voicemail-password") == vm_password
        token = link.rsplit("token=", 1)[1]
        assert_no_secrets([tmp_path], {"SIP password": sip_password,
                                       "voicemail password": vm_password,
                                       "one-time token": token}, "".join(cli.printed))

        # The seeded mailbox: 3 messages, 2 unheard, newest first.
        box = cli.json("voicemail", "list")
        assert box["offline"] is False
        assert [m["caller"] for m in box["messages"]] == ["1002", "+15551234567", "1003"], box
        assert box["unheard"] == 2
        newest = box["messages"][0]
        assert newest["heard"] is False

        # Heard: on the server at once.
        assert cli.json("voicemail", "heard", str(newest["id"])) == {
            "id": newest["id"], "applied": True, "queued": False}
        imap = lab.services["dovecot"].connect("1001")
        imap.select("INBOX")
        _, seen = imap.search(None, "SEEN")
        imap.logout()
        assert len(seen[0].split()) == 2, seen
        assert cli.json("voicemail", "list", "--offline")["unheard"] == 1

        # Play on the lab's speaker: the audio arrives, as loud and as long as the message.
        saved = tmp_path / "newest.wav"
        out = cli.json("voicemail", "save", str(newest["id"]), str(saved))
        assert out["bytes"] > 1000 and saved.exists()
        assert rms_dbfs(saved) > -40, rms_dbfs(saved)
        recording = lab.services["pulse"].start_recording(
            "vsink.monitor", tmp_path / "speaker.wav")
        recording.wait_flowing()
        played = cli.json("voicemail", "play", str(newest["id"]))
        heard = recording.stop()
        assert abs(played["played_s"] - wav_seconds(saved)) < 0.1, (played, wav_seconds(saved))
        assert rms_dbfs(heard) > rms_dbfs(saved) - 10, (rms_dbfs(heard), rms_dbfs(saved))
        assert wav_seconds(heard) >= wav_seconds(saved) * 0.9

        # Delete: gone here and on the server.
        oldest = box["messages"][-1]
        assert cli.json("voicemail", "delete", str(oldest["id"]))["applied"] is True
        imap = lab.services["dovecot"].connect("1001")
        _, count = imap.select("INBOX")
        imap.logout()
        assert int(count[0]) == 2, count
        deleted = cli.run("voicemail", "play", str(oldest["id"]), ok=False)
        assert "voicemail.not_found" in deleted.stderr, deleted.stderr

        # Offline: the server stops; the cache is still listed, a heard made now is queued.
        lab.services["dovecot"].stop()
        offline = cli.json("voicemail", "list")
        assert offline["offline"] is True and len(offline["messages"]) == 2, offline
        second = offline["messages"][1]
        assert cli.json("voicemail", "unheard", str(second["id"]))["queued"] is True

        # Sign-out with its data: no secret left, no account, no cached audio.
        out = cli.json("logout", "--forget-data")
        assert out["account"] == account_id and out["audio_files_removed"] >= 1, out
        for kind in ("sip-password", "voicemail-password"):
            assert kr.lookup(service="org.sidetone.desktop",
                             username=f"{account_id}/{kind}") is None, kind
        assert cli.run("accounts", "--json").stdout == ""
        audio_dir = next((tmp_path / "data").rglob("voicemail-audio"))
        assert [p for p in audio_dir.iterdir() if p.is_file()] == []
        gone = cli.run("voicemail", "list", "--json", ok=False)
        assert json.loads(gone.stdout)["error"]["code"] == "profile.no_account"
        assert re.search(r"provision|log in", json.loads(gone.stdout)["error"]["message"])


@pytest.mark.timeout(180)
def test_manual_login_registers_over_tls_and_a_wrong_password_saves_nothing(tmp_path):
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    with Lab() as lab:
        kam = lab.start("kamailio")
        keyring = lab.start("keyring")
        cli = Cli(tmp_path, keyring["env"])
        password = kam["users"]["1001"]
        login = ["login", "--server", f"{kam['tls']};transport=tls", "--user", "1001",
                 "--password-stdin", "--ca-file", kam["ca_cert"], "--json"]

        def run(secret: str) -> subprocess.CompletedProcess:
            return subprocess.run([str(cli_binary()), *login], env=cli.env, input=secret + "\n",
                                  capture_output=True, text=True, timeout=60)

        wrong = run(password + "x")
        assert wrong.returncode == 1, wrong.stderr
        assert json.loads(wrong.stdout)["error"]["code"] == "sip.wrong_password", wrong.stdout
        assert cli.run("accounts", "--json").stdout == ""
        kr = lab.services["keyring"]
        assert kr.lookup(service="org.sidetone.desktop", username="1001@127.0.0.1/sip-password") \
            is None

        done = run(password)
        assert done.returncode == 0, done.stderr
        [line] = json.loads(done.stdout)["saved"]
        assert line["transport"] == "tls" and line["registered"] is True, line
        assert kr.lookup(service="org.sidetone.desktop",
                         username=f"{line['id']}/sip-password") == password
        [account] = [json.loads(r) for r in cli.run("accounts", "--json").stdout.splitlines()]
        assert account["id"] == line["id"] and account["transport"] == "tls", account

        # The same line again is refused; logout then frees it.
        again = run(password)
        assert json.loads(again.stdout)["error"]["code"] == "onboarding.already_added"
        assert cli.json("logout")["account"] == line["id"]
        assert kr.lookup(service="org.sidetone.desktop",
                         username=f"{line['id']}/sip-password") is None
