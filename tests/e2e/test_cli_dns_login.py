"""`sidetone-cli login --server sip.lab.test` finds the server by DNS (RFC 3263): the lab's
dnsmasq publishes NAPTR and SRV records pointing at Kamailio's random ports, named to the
CLI by SIDETONE_DNS_SERVER. Nothing listens on the default ports, so registering at all
proves the SRV records were followed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from desktop import cli_binary  # noqa: E402
from sidetone_lab import Lab  # noqa: E402
from test_cli_accounts_voicemail import Cli  # noqa: E402

DOMAIN = "sip.lab.test"


def default_ports_closed() -> bool:
    for port in (5060, 5061):
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


@pytest.mark.timeout(180)
def test_manual_login_follows_naptr_and_srv_records_to_tls(tmp_path):
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    with Lab() as lab:
        kam = lab.start("kamailio", domain=DOMAIN)
        dns = lab.start("dns")
        keyring = lab.start("keyring")
        assert default_ports_closed(), "a default SIP port is open: the test cannot tell"
        cli = Cli(tmp_path, {**keyring["env"], "SIDETONE_DNS_SERVER": dns["server"]})

        def login(user: str, server: str = DOMAIN, env: dict | None = None
                  ) -> subprocess.CompletedProcess:
            # --sip: a login ID with a domain is a SIP login here, not a discovery one.
            args = ["login", "--sip", "--server", server, "--user", user, "--password-stdin",
                    "--ca-file", kam["ca_cert"], "--json"]
            return subprocess.run([str(cli_binary()), *args], env=env or cli.env,
                                  input=kam["users"][user.partition("@")[0]] + "\n",
                                  capture_output=True, text=True, timeout=90)

        # NAPTR prefers SIPS+D2T: TLS at the SRV port, verified against sip.lab.test.
        done = login("1001")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        [line] = report["saved"]
        assert line == {"id": f"1001@{DOMAIN}", "registered": True, "transport": "tls"}, report
        [account] = [json.loads(r) for r in cli.run("accounts", "--json").stdout.splitlines()]
        assert account["transport"] == "tls" and account["server"] == DOMAIN, account

        # Only an SRV record for UDP: UDP it is.
        done = login(f"1002@{DOMAIN}", server="udp.lab.test")
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["saved"][0]["transport"] == "udp", done.stdout

        # SRV records to Kamailio, whose certificate does not name stranger.lab.test: the
        # sign-in stops at the certificate and never falls back to UDP.
        refused = login(f"1003@{DOMAIN}", server="stranger.lab.test")
        assert refused.returncode == 1, refused.stderr
        assert json.loads(refused.stdout)["error"]["code"] == "sip.tls_untrusted", refused.stdout

        # A value that is not an address is refused, not ignored.
        bad = login(f"1003@{DOMAIN}", env={**cli.env, "SIDETONE_DNS_SERVER": "lab-dns"})
        assert bad.returncode != 0
        assert "SIDETONE_DNS_SERVER" in bad.stderr, bad.stderr

        # An account given only as a domain (no proxy) is located the same way.
        registered = subprocess.run(
            [str(cli_binary()), "register", "--uri", f"sip:1003@{DOMAIN}", "--transport", "tcp",
             "--password-stdin", "--ca-file", kam["ca_cert"], "--timeout", "20", "--json"],
            env=cli.env, input=kam["users"]["1003"] + "\n", capture_output=True, text=True,
            timeout=60)
        assert registered.returncode == 0, registered.stderr + registered.stdout
