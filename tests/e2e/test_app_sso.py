"""Single sign-on in the real app: the user types their login ID, discovery finds their
company's identity provider, Sidetone opens the sign-in page in the *system browser* ($BROWSER,
here headless Chromium driven by tests/lab/browser/sign_in.mjs filling the lab provider's
pages), the loopback redirect brings the sign-in back, the access token fetches the document,
the terms are accepted and the line registers. The refresh token is in the keychain and in no
file. A sign-in the user cancels in Sidetone leaves nothing behind and can be started again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from desktop import app_binary, desktop_session, open_app  # noqa: E402
from sidetone_lab import Lab  # noqa: E402
from app_steps import (  # noqa: E402
    accept_terms_and_registered_line, browser_command, browser_report, click_button, invoke,
    snapshot, wait_for)

ROOT = Path(__file__).resolve().parents[2]


def browser_script(workdir: Path, user: dict) -> Path:
    """A $BROWSER command: records every URL it is asked to open; while `hold` exists it
    only records (the user looks away), else it signs in as `user` in headless Chromium."""
    return browser_command(workdir, f"""echo "$1" >> {workdir / 'opened.txt'}
if [ -e {workdir / 'hold'} ]; then exit 0; fi
exec node {ROOT / 'tests/lab/browser/sign_in.mjs'} --url "$1" \\
  --login {user['login']} --password {user['password']} > {workdir / 'browser.json'} 2>&1""")


@pytest.mark.timeout(300)
def test_sso_in_the_system_browser_registers_and_keeps_the_refresh_token_in_the_keychain(
        tmp_path):
    assert app_binary().exists(), f"build the app first: {app_binary()}"
    with Lab() as lab:
        idp_eps = lab.start("idp")
        keyring = lab.start("keyring")
        alice = idp_eps["users"]["alice"]
        (tmp_path / "hold").touch()
        env = dict(keyring["env"])
        env["SIDETONE_EXTRA_CA_FILE"] = lab.services["ca"].endpoints["ca_cert"]
        env["SIDETONE_DISCOVERY_SERVER"] = idp_eps["server"]
        env["BROWSER"] = str(browser_script(tmp_path, alice))
        with desktop_session(extra_env=env) as (url, _env, home):
            driver = open_app(url)
            try:
                field = wait_for(driver, "document.querySelector('[data-testid=welcome] input')")
                field.send_keys(alice["login"])
                click_button(driver, "Next")
                wait_for(driver, "document.querySelector('[data-testid=sso-sign-in]')")

                # First try: the browser opens, the user cancels in Sidetone instead.
                click_button(driver, "Continue in browser")
                wait_for(driver, "document.querySelector('[data-testid=sso-waiting]')")
                opened = (tmp_path / "opened.txt").read_text().split()
                assert len(opened) == 1 and opened[0].startswith(idp_eps["issuer"]), opened
                assert "code_challenge_method=S256" in opened[0]
                click_button(driver, "Cancel")
                wait_for(driver, "document.querySelector('[data-testid=sso-sign-in]')")
                assert not driver.find_elements("css selector", "[data-testid=form-error]")
                assert invoke(driver, "accounts_list") == {"ok": []}

                # Second try: the user signs in at the provider in the browser.
                (tmp_path / "hold").unlink()
                click_button(driver, "Continue in browser")
                account = accept_terms_and_registered_line(driver)
                assert account["method"] == "sso", account
                assert account["id"].startswith("2001@"), account
                wait_for(driver, "document.querySelector('[data-testid=phone-screen]')")
                snapshot(driver, "desktop-sso-registered")
            finally:
                driver.quit()

            report = browser_report(tmp_path / "browser.json")
            assert report["reached"] and report["path"] == "/callback", report
            assert "You are signed in" in report["text"], report
            opened = (tmp_path / "opened.txt").read_text().split()
            assert len(opened) == 2 and opened[0] != opened[1], "each try has its own state"

            refresh = lab.services["keyring"].lookup(
                service="org.sidetone.desktop", username=f"{account['id']}/refresh-token")
            assert refresh and len(refresh) > 20, "the refresh token is in the keychain"
            secrets = [refresh, alice["password"]]
            leaked = [p for p in home.rglob("*") if p.is_file()
                      and any(s.encode() in p.read_bytes() for s in secrets)]
            assert leaked == [], f"a secret was found in {leaked}"
