"""The real desktop app opens a window that shows Sidetone's front end."""

from __future__ import annotations

import time

import pytest

from app_steps import snapshot
from desktop import app_binary, desktop_session, open_app


@pytest.mark.timeout(120)
def test_window_shows_the_front_end_and_answers_ipc():
    assert app_binary().exists(), f"build the app first: {app_binary()}"
    with desktop_session() as (url, _env, _home):
        driver = open_app(url)
        try:
            # The front end rendered, and a fresh profile opens on the welcome screen (the
            # built UI's own markup, not a blank or error page of the webview).
            deadline = time.monotonic() + 30
            state = {}
            while time.monotonic() < deadline:
                state = driver.execute_script(
                    "return {title: document.title,"
                    " welcome: !!document.querySelector('[data-testid=welcome]'),"
                    " text: document.body ? document.body.innerText : ''};")
                if state["welcome"]:
                    break
                time.sleep(0.2)
            assert state.get("welcome"), f"no welcome screen; page was: {state}"
            assert "Sidetone" in state["title"], state["title"]
            assert "Set up your phone" in state["text"], state["text"][:300]
            # The IPC bridge reaches the Rust shell: app_info answers with this build's version.
            info = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "window.__TAURI_INTERNALS__.invoke('app_info').then(done, e => done({error: String(e)}));")
            assert info.get("version"), info
            assert info.get("platform") == "linux", info
            snapshot(driver, "desktop-window")
        finally:
            driver.quit()
