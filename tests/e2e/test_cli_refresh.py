"""Refreshing a saved account's provisioning document, the way the app does every
`refresh_interval`: a single sign-on account trades its refresh token (kept in the keychain,
rotated by the lab's issuer on each use) for a new access token and fetches the document; once
the provider revokes the session, the refresh says so and the account is marked "sign in again"
instead of retrying. A password account refreshes with the password it kept ("stay signed in")
until the provider expires that password; without "stay signed in" nothing is kept and the
account asks for a sign-in at its first refresh."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from app_steps import browser_command  # noqa: E402
from desktop import cli_binary  # noqa: E402
from sidetone_lab import Lab  # noqa: E402
from secrets_scan import assert_no_secrets  # noqa: E402
from test_cli_accounts_voicemail import ADDRESS, Cli  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SIGN_IN = ROOT / "tests" / "lab" / "browser" / "sign_in.mjs"
SERVICE = "org.sidetone.desktop"


def refresh(cli: Cli, ca: str) -> tuple[int, list[dict]]:
    done = cli.run("refresh", "--ca-file", ca, "--json", ok=False, timeout=90)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def accounts(cli: Cli) -> list[dict]:
    return [json.loads(line) for line in cli.run("accounts", "--json").stdout.splitlines()]


@pytest.mark.timeout(240)
def test_sso_refresh_rotates_the_token_and_a_revoked_session_asks_to_sign_in_again(tmp_path):
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    with Lab() as lab:
        idp_eps = lab.start("idp")
        keyring = lab.start("keyring")
        alice = idp_eps["users"]["alice"]
        # The stand-in browser holds Alice's password: it lives apart from the CLI's home,
        # which the secrets scan covers.
        browser_dir, home = tmp_path / "browser", tmp_path / "home"
        browser_dir.mkdir()
        home.mkdir()
        browser = browser_command(browser_dir, f"""TMPDIR=/tmp exec node {SIGN_IN} --url "$1" \\
  --login {alice['login']} --password {alice['password']} > {browser_dir / 'browser.json'} 2>&1""")
        cli = Cli(home, {**keyring["env"], "BROWSER": str(browser)})
        ca = idp_eps["ca_cert"]
        done = cli.run("login", "--user", alice["login"], "--server", idp_eps["server"],
                       "--ca-file", ca, "--accept-terms", "--emergency-address", ADDRESS,
                       "--json", timeout=150)
        [line] = json.loads(done.stdout)["saved"]
        account_id = line["id"]
        kr = lab.services["keyring"]
        first = kr.lookup(service=SERVICE, username=f"{account_id}/refresh-token")
        assert first, "the refresh token is in the keychain"
        [saved] = accounts(cli)
        assert saved["method"] == "sso" and saved["sign_in_again"] is False, saved

        code, [report] = refresh(cli, ca)
        assert code == 0 and report["status"] == "refreshed", report
        second = kr.lookup(service=SERVICE, username=f"{account_id}/refresh-token")
        assert second and second != first, "the rotated refresh token replaced the old one"
        assert accounts(cli)[0]["refreshed_at_ms"] > saved["refreshed_at_ms"]

        # The provider signs Alice out everywhere: the next refresh stops and says so.
        assert lab.services["idp"].revoke_sessions("alice") >= 1
        code, [report] = refresh(cli, ca)
        assert code == 1 and report["status"] == "sign_in_again", report
        assert accounts(cli)[0]["sign_in_again"] is True
        # The secrets scan over the whole flow: home, data, temp files and all output.
        assert_no_secrets([home], {
            "IdP password": alice["password"],
            "SIP password": lab.services["kamailio"].users["2001"],
            "first refresh token": first, "rotated refresh token": second,
        }, "".join(cli.printed) + done.stderr)


@pytest.mark.timeout(180)
def test_password_refresh_uses_the_kept_password_until_the_provider_expires_it(tmp_path):
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    with Lab() as lab:
        idp_eps = lab.start("idp")
        keyring = lab.start("keyring")
        cli = Cli(tmp_path, keyring["env"])
        ca = idp_eps["ca_cert"]
        user = idp_eps["users"]["1002"]

        def login(*extra: str) -> dict:
            done = subprocess.run(
                [str(cli_binary()), "login", "--user", user["login"], "--server",
                 idp_eps["server"], "--ca-file", ca, "--password-stdin", "--accept-terms",
                 "--emergency-address", ADDRESS, "--json", *extra],
                env=cli.env, input=user["password"] + "\n", capture_output=True, text=True,
                timeout=90)
            assert done.returncode == 0, done.stderr
            return json.loads(done.stdout)["saved"][0]

        line = login()
        kr = lab.services["keyring"]
        assert kr.lookup(service=SERVICE,
                         username=f"{line['id']}/provisioning-password") == user["password"]
        code, [report] = refresh(cli, ca)
        assert code == 0 and report["status"] == "refreshed", report

        lab.services["idp"].expire_password(user["login"])
        code, [report] = refresh(cli, ca)
        assert code == 1 and report["status"] == "sign_in_again", report

        # Without "stay signed in" no password is kept: the first refresh asks for a sign-in.
        assert cli.json("logout")["account"] == line["id"]
        lab.services["idp"].reset_lockouts()
        other = idp_eps["users"]["1003"]
        user = other
        line = login("--no-stay-signed-in")
        assert kr.lookup(service=SERVICE, username=f"{line['id']}/provisioning-password") is None
        code, [report] = refresh(cli, ca)
        assert code == 1 and report["status"] == "sign_in_again", report
