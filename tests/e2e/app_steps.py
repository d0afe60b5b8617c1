"""Steps the real-app tests share: waiting on the page, calling the shell's commands, and the
onboarding moves a person makes."""

from __future__ import annotations

import time
from pathlib import Path

SHOTS = Path(__file__).resolve().parents[2] / "ui" / "test-results" / "screens"

TEST_ADDRESS = {"street": "1 Lab Road", "unit": "", "city": "Testville", "region": "TS",
                "postalCode": "12345", "country": "Testland"}


def wait_for(driver, script: str, timeout: float = 30.0):
    """Polls a JS expression until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({script});")
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {script!r}; body: "
                         + driver.execute_script("return document.body.innerText")[:400])


def invoke(driver, command: str, args: dict | None = None) -> dict:
    """Calls a shell command from the page: {"ok": result} or {"err": CommandError}."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1] || {})"
        ".then(v => done({ok: v}), e => done({err: e}));", command, args or {})


def registered_accounts(driver, timeout: float = 60.0) -> list:
    """Asks for the account list until every account is registered; returns it."""
    deadline = time.monotonic() + timeout
    result: dict = {}
    while time.monotonic() < deadline:
        result = invoke(driver, "accounts_list")
        accounts = result.get("ok") or []
        if accounts and all(a["registration"] == "registered" for a in accounts):
            return accounts
        time.sleep(0.3)
    body = driver.execute_script("return document.body.innerText")[-700:]
    raise AssertionError(f"no registered account: {result}; the window shows: {body}")


def click_button(driver, text: str) -> None:
    """Clicks the visible button whose text contains `text` (as a person would)."""
    button = wait_for(driver, f"""[...document.querySelectorAll('button')]
        .find(b => b.offsetParent !== null && b.innerText.includes({text!r}))""")
    button.click()


def fill_terms(driver) -> None:
    """Fills the emergency address, ticks both boxes and accepts the provider's terms."""
    wait_for(driver, "document.querySelector('[data-testid=terms]')")
    # The address fields appear once the terms have loaded (terms_get), a moment later.
    wait_for(driver, "document.querySelector(\"input[id$='-street']\")")
    for key, value in TEST_ADDRESS.items():
        if value:
            driver.find_element("css selector", f"input[id$='-{key}']").send_keys(value)
    driver.find_element("css selector", "[data-testid=accept-licence]").click()
    driver.find_element("css selector", "[data-testid=accept-emergency]").click()
    driver.find_element("css selector", "[data-testid=terms] button[type=submit]").click()


def accept_terms_and_registered_line(driver) -> dict:
    """Accepts the provider's terms in the UI and waits until the one line it adds is
    registered; returns that account."""
    fill_terms(driver)
    accounts = registered_accounts(driver)
    assert len(accounts) == 1, accounts
    return accounts[0]


def onboard_with_link(driver, link: str) -> str:
    """The welcome link's steps through the shell's commands (the UI path has its own test);
    returns the account id."""
    parsed = invoke(driver, "onboarding_parse_input", {"input": link})["ok"]
    signed = invoke(driver, "onboarding_sign_in_token",
                    {"deploymentId": parsed["deployment"]["id"], "accountId": None})
    result = signed["ok"]["result"]
    if result["termsRequired"]:
        terms = invoke(driver, "terms_get", {"accountId": result["accountId"]})["ok"]
        accepted = invoke(driver, "terms_accept", {
            "accountId": result["accountId"], "licenceVersion": terms["licenceVersion"],
            "emergencyVersion": terms["emergencyVersion"], "emergencyAddress": TEST_ADDRESS})
        assert "ok" in accepted, accepted
    return result["accountId"]


def snapshot(driver, name: str, timeout: float = 10.0) -> None:
    """Saves a screenshot for people to look at (ui/test-results/screens). Best effort:
    WebKitWebDriver sometimes never answers a screenshot request, and a picture is not what
    the tests assert, so a stuck one is abandoned after `timeout`."""
    import threading

    SHOTS.mkdir(parents=True, exist_ok=True)
    worker = threading.Thread(target=lambda: driver.save_screenshot(str(SHOTS / f"{name}.png")),
                              daemon=True)
    worker.start()
    worker.join(timeout)


def browser_command(workdir: Path, body: str) -> Path:
    """An executable `workdir/browser.sh` running `body` (sh; the URL is "$1"): what a test
    puts in $BROWSER to stand for the user's browser."""
    import stat

    script = workdir / "browser.sh"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def browser_report(path, timeout: float = 30.0) -> dict:
    """The JSON line tests/lab/browser/sign_in.mjs wrote to `path`. The browser closes itself
    after the redirect, apart from the app or CLI, so the line may come a little later."""
    import json

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip().endswith("}"):
            break
        time.sleep(0.1)
    return json.loads(path.read_text())
