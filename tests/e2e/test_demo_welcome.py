"""The demo that `scripts/run.sh` starts: `tests/lab/lab up --demo` mints a welcome e-mail
(a one-time link and the same as a code) for an extension that is not the far-end phone, and
that link really provisions the extension: `sidetone-cli provision` fetches the demo
provider's document with it, trusting the demo CA the welcome names. Closing the lifeline
stops the demo."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from desktop import cli_binary

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "tests" / "lab" / "lab"



@pytest.mark.timeout(240)
def test_the_demo_welcome_link_provisions_an_extension_other_than_the_far_end():
    assert cli_binary().exists(), f"build the CLI first: {cli_binary()}"
    demo = subprocess.Popen([str(LAB), "up", "--demo", "--json", "--stdin-lifeline"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = demo.stdout.readline()
        assert line, "the demo lab printed nothing (did a service fail to start?)"
        welcome = json.loads(line)["welcome"]
        assert welcome["link"].startswith("sidetone://provision?"), welcome
        assert "token=" in welcome["link"]
        assert welcome["far_end"] and welcome["extension"] != welcome["far_end"], welcome
        assert welcome["code"] and welcome["code"][0] == "1", welcome  # code format version 1

        shown = subprocess.run(
            [str(cli_binary()), "provision", welcome["link"], "--ca-file", welcome["ca_cert"],
             "--json", "--dry-run"], capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr + shown.stdout
        document = json.loads(shown.stdout)
        text = json.dumps(document)
        assert "Sidetone Lab" in text, document
        assert f"sip:{welcome['extension']}@" in text, document
        # Secrets are counted, never printed.
        assert "password\": \"" not in text

        # The code carries the same server and one-time token: used after the link, the
        # provider refuses it as spent.
        again = subprocess.run(
            [str(cli_binary()), "provision", welcome["code"], "--ca-file", welcome["ca_cert"],
             "--json", "--dry-run"], capture_output=True, text=True, timeout=60)
        assert again.returncode != 0
        assert "token_used" in again.stdout, again.stdout
    finally:
        demo.stdin.close()
        deadline = time.monotonic() + 30
        while demo.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, f"the demo lab exited with {demo.returncode}"
