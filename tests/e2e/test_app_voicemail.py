"""Voicemail in the real app: a line provisioned with a mailbox syncs it from Dovecot, the nav's
red dot counts the unheard messages, marking one heard reaches the server (`\\Seen`) and the
dot, a message saved as WAV holds its audio, and a restart while the server is down still
shows the messages (the cache works offline)."""

from __future__ import annotations

import math
import sys
import time
import wave
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from app_steps import invoke, onboard_with_link, registered_accounts, wait_for  # noqa: E402
from desktop import app_binary, desktop_session, open_app  # noqa: E402
from sidetone_lab import Lab  # noqa: E402

BADGE = "document.querySelector('[data-testid=voicemail-badge]')?.innerText"


def seen_on_server(lab) -> int:
    imap = lab.services["dovecot"].connect("1001")
    imap.select("INBOX")
    _, seen = imap.search(None, "SEEN")
    imap.logout()
    return len(seen[0].split())


def level_dbfs(path: Path) -> float:
    with wave.open(str(path)) as w:
        frames = w.readframes(w.getnframes())
    samples = memoryview(frames).cast("h")
    mean_square = sum(s * s for s in samples) / max(len(samples), 1)
    return 10 * math.log10(max(mean_square, 1e-9) / 32768**2)


@pytest.mark.timeout(300)
def test_voicemail_syncs_counts_marks_heard_exports_and_reads_offline(tmp_path):
    assert app_binary().exists(), f"build the app first: {app_binary()}"
    with Lab() as lab:
        lab.start("idp")
        keyring = lab.start("keyring")
        lab.start("dovecot", user="1001")
        idp = lab.services["idp"]
        idp.reload_services()
        link = idp.create_token("1001")["url_link"]
        env = dict(keyring["env"])
        env["SIDETONE_EXTRA_CA_FILE"] = lab.services["ca"].endpoints["ca_cert"]
        home = tmp_path / "home"
        home.mkdir()
        with desktop_session(extra_env=env, home=home) as (url, _env, _home):
            driver = open_app(url)
            try:
                wait_for(driver, "window.__TAURI_INTERNALS__ !== undefined")
                account_id = onboard_with_link(driver, link)
                registered_accounts(driver)
                synced = invoke(driver, "voicemail_sync")["ok"]
                assert synced["synced"] == [account_id], synced

                # Three seeded messages, two unheard: the red dot says 2.
                messages = invoke(driver, "voicemail_list")["ok"]
                assert [m["from"] for m in messages] == ["1002", "+15551234567", "1003"]
                driver.execute_script("location.reload()")
                assert wait_for(driver, BADGE) == "2"
                driver.find_element("css selector", "nav button[aria-label^='Voicemail']").click()
                wait_for(driver, "document.querySelector('[data-testid=voicemail-screen]')")

                # Heard from the screen: on the server, and the dot goes to 1.
                newest = messages[0]
                row = wait_for(driver, f"document.querySelector('[data-voicemail=\"{newest['id']}\"]')")
                row.find_element("xpath", ".//button[contains(., 'Mark as heard')]").click()
                wait_for(driver, f"({BADGE}) === '1'")
                for _ in range(50):
                    if seen_on_server(lab) == 2:
                        break
                    time.sleep(0.2)
                assert seen_on_server(lab) == 2, "the heard mark reached the server"

                # Saved as a WAV file with the message's audio in it.
                out = tmp_path / "newest.wav"
                saved = invoke(driver, "voicemail_export", {"id": newest["id"], "path": str(out)})
                assert saved == {"ok": {"path": str(out)}}, saved
                assert level_dbfs(out) > -40
            finally:
                driver.quit()

        # The server goes away; the next start still shows the cached messages.
        lab.services["dovecot"].stop()
        with desktop_session(extra_env=env, home=home) as (url, _env, _home):
            driver = open_app(url)
            try:
                wait_for(driver, "window.__TAURI_INTERNALS__ !== undefined")
                synced = invoke(driver, "voicemail_sync")["ok"]
                assert synced["offline"] == [account_id], synced
                cached = invoke(driver, "voicemail_list")["ok"]
                assert len(cached) == 3 and sum(not m["heard"] for m in cached) == 1, cached
                assert wait_for(driver, BADGE) == "1"
            finally:
                driver.quit()
