"""The welcome e-mail's link, in the real app: the link that starts Sidetone is shown for
confirmation, its one-time token fetches the provisioning document from the lab's provider,
the terms are accepted, and the line registers over TLS with the provider's own CA. The SIP
password ends up in the keychain only, and the spent link cannot be used twice."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from desktop import app_binary, desktop_session, open_app  # noqa: E402
from sidetone_lab import Lab  # noqa: E402
from app_steps import (  # noqa: E402
    accept_terms_and_registered_line, click_button, invoke, snapshot, wait_for)


@pytest.mark.timeout(300)
def test_welcome_link_onboards_registers_and_cannot_be_used_twice():
    assert app_binary().exists(), f"build the app first: {app_binary()}"
    with Lab() as lab:
        idp_eps = lab.start("idp")
        keyring = lab.start("keyring")
        kam = lab.services["kamailio"]
        link = lab.services["idp"].create_token("1001")["url_link"]
        sip_password = kam.users["1001"]
        env = dict(keyring["env"])
        env["SIDETONE_EXTRA_CA_FILE"] = lab.services["ca"].endpoints["ca_cert"]
        with desktop_session(extra_env=env) as (url, _env, home):
            driver = open_app(url, args=[link])
            try:
                # The link that started the app asks for confirmation first, naming the host.
                confirm = wait_for(driver, "document.querySelector('[data-testid=confirm-deployment]')")
                host = idp_eps["issuer"].split("://", 1)[1]
                assert host in confirm.text, confirm.text
                assert "One-time link" in confirm.text
                assert invoke(driver, "accounts_list") == {"ok": []}
                click_button(driver, "Continue with this provider")

                # The provider's terms, then the line registers.
                account = accept_terms_and_registered_line(driver)
                assert account["providerName"] == "Sidetone Lab", account
                assert account["method"] == "token"
                assert account["id"].startswith("1001@"), account
                wait_for(driver, "document.querySelector('[data-testid=phone-screen]')")
                snapshot(driver, "desktop-link-registered")

                # The same link again: spent, and said so.
                result = invoke(driver, "onboarding_parse_input", {"input": link})
                deployment_id = result["ok"]["deployment"]["id"]
                again = invoke(driver, "onboarding_sign_in_token",
                               {"deploymentId": deployment_id, "accountId": None})
                assert again.get("err", {}).get("code") == "onboarding.link_expired", again
            finally:
                driver.quit()

            stored = lab.services["keyring"].lookup(
                service="org.sidetone.desktop", username=f"{account['id']}/sip-password")
            assert stored == sip_password
            leaked = [p for p in home.rglob("*")
                      if p.is_file() and sip_password.encode() in p.read_bytes()]
            assert leaked == [], f"SIP password found in {leaked}"
