"""The secrets scan: after a flow, no password, token or code may appear in any file the app
or CLI could have written (its home, data directory, temp directory) or in what it printed."""

from __future__ import annotations

from pathlib import Path


def assert_no_secrets(roots: list[Path], secrets: dict[str, str], printed: str = "") -> None:
    """Fails naming each secret (by its label, never its value) found under `roots` or in
    `printed`. Empty secrets are skipped; secrets shorter than 8 characters would match by
    chance and are refused."""
    wanted = {label: value for label, value in secrets.items() if value}
    for label, value in wanted.items():
        assert len(value) >= 8, f"{label} is too short to scan for"
    found: list[str] = []
    for root in roots:
        for path in root.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            data = path.read_bytes()
            found += [f"{label} in {path}" for label, value in wanted.items()
                      if value.encode() in data]
    found += [f"{label} in the output" for label, value in wanted.items() if value in printed]
    assert not found, "secrets leaked: " + "; ".join(found)
