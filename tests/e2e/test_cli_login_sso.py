"""`sidetone-cli login --user`. For a single sign-on user: discovery names the company's
identity provider, the CLI prints the sign-in address and opens it in $BROWSER (here headless
Chromium filling the lab provider's pages, tests/lab/browser/sign_in.mjs), the loopback
redirect brings the sign-in back and the access token fetches the user's document. With
`--no-browser` the address is only printed, for the user to open themselves. A login that
cannot sign in (an account to pick, a password not given) fails and says what is missing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from app_steps import browser_command, browser_report  # noqa: E402
from desktop import cli_binary  # noqa: E402
from sidetone_lab import Lab  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SIGN_IN = ROOT / "tests" / "lab" / "browser" / "sign_in.mjs"


def login_command(idp_eps: dict, user: dict, *extra: str) -> list[str]:
    return [str(cli_binary()), "login", "--user", user["login"], "--server", idp_eps["server"],
            "--ca-file", idp_eps["ca_cert"], "--json", "--dry-run", *extra]


def cli_env(home: Path, **extra: str) -> dict:
    """A bare environment for the CLI: system PATH, a scratch HOME, and `extra`."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), **extra}


def check_document(stdout: str, user: dict, sip_user: str) -> None:
    report = json.loads(stdout)
    assert report["sign_in"] == "oidc", report
    assert report["login_id"] == user["login"], report
    assert report["accounts"][0]["aor"].startswith(f"sip:{sip_user}@"), report


@pytest.mark.timeout(180)
def test_login_signs_in_through_the_browser_named_by_BROWSER(tmp_path):
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    with Lab() as lab:
        idp_eps = lab.start("idp")
        bob = idp_eps["users"]["bob"]
        browser = browser_command(tmp_path, f"""exec node {SIGN_IN} --url "$1" \\
  --login {bob['login']} --password {bob['password']} --totp-secret {bob['totp_secret']} \\
  > {tmp_path / 'browser.json'} 2>&1""")
        env = cli_env(tmp_path, BROWSER=str(browser))
        done = subprocess.run(login_command(idp_eps, bob), env=env, capture_output=True,
                              text=True, timeout=150)
        assert done.returncode == 0, done.stderr
        assert idp_eps["issuer"] in done.stderr, "the address is printed too"
        check_document(done.stdout, bob, "2002")
        assert bob["password"] not in done.stdout + done.stderr
        assert browser_report(tmp_path / "browser.json")["reached"]


@pytest.mark.timeout(180)
def test_login_with_no_browser_prints_the_address_for_the_user_to_open(tmp_path):
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    with Lab() as lab:
        idp_eps = lab.start("idp")
        alice = idp_eps["users"]["alice"]
        # A $BROWSER that leaves a mark if it is used (it must not be).
        marker = tmp_path / "browser-was-opened"
        env = cli_env(tmp_path, BROWSER=str(browser_command(tmp_path, f"touch {marker}")))
        cli = subprocess.Popen(login_command(idp_eps, alice, "--no-browser"), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            address = None
            for line in cli.stderr:
                match = re.search(r"https://\S+", line)
                if match:
                    address = match.group(0)
                    break
            assert address and address.startswith(idp_eps["issuer"]), address
            user_at_browser = subprocess.run(
                ["node", str(SIGN_IN), "--url", address, "--login", alice["login"],
                 "--password", alice["password"]], capture_output=True, text=True, timeout=90)
            assert json.loads(user_at_browser.stdout)["reached"], user_at_browser.stdout
            stdout, _ = cli.communicate(timeout=60)
        finally:
            cli.kill()
        assert cli.returncode == 0
        check_document(stdout, alice, "2001")
        assert not marker.exists(), "--no-browser opened a browser"


@pytest.mark.timeout(120)
def test_login_that_cannot_sign_in_fails_and_says_what_is_missing(tmp_path):
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    with Lab() as lab:
        idp_eps = lab.start("idp")
        env = cli_env(tmp_path)
        for user, missing in (("dana", "--account"), ("1001", "--password-stdin")):
            done = subprocess.run(login_command(idp_eps, idp_eps["users"][user]), env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 1, (user, done.stdout, done.stderr)
            error = json.loads(done.stdout)["error"]
            assert error["code"] == "cli.sign_in_incomplete", error
            assert missing in error["message"], error
