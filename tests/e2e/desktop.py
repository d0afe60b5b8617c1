"""Runs the real desktop app under Xvfb and drives it with WebDriver (tauri-driver + WebKitWebDriver).

Everything the app touches (HOME, XDG dirs, the D-Bus session, the display) is private to the
test, so a run never reaches the developer's real desktop, keychain or settings.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def app_binary() -> Path:
    """The debug build of the desktop app (scripts/test.sh builds it before the tests)."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "sidetone"


def cli_binary() -> Path:
    """The debug build of `sidetone-cli` (scripts/test.sh builds it before the tests)."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "sidetone-cli"


def tauri_driver() -> str | None:
    """tauri-driver from PATH or ~/.cargo/bin."""
    return shutil.which("tauri-driver") or (
        str(Path.home() / ".cargo/bin/tauri-driver")
        if (Path.home() / ".cargo/bin/tauri-driver").exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def xvfb_display():
    """A private X display; yields its name (e.g. ':99')."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + 10
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
        if not number.strip():
            raise RuntimeError("Xvfb did not report a display number")
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_fd)
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def desktop_session(extra_env: dict | None = None, home: Path | None = None):
    """Xvfb + a private D-Bus session + tauri-driver; yields (webdriver_url, env, home).

    With `DBUS_SESSION_BUS_ADDRESS` in `extra_env` (e.g. the lab keyring's bus) the app uses
    that bus; otherwise it gets a fresh private one from dbus-run-session. A `home` given is
    used (and kept) so a second session starts the app on the first one's data, the way a
    person restarts it; without one, a fresh home is made and removed afterwards.
    """
    driver = tauri_driver()
    if driver is None:
        raise RuntimeError("tauri-driver is not installed (scripts/test.sh installs it)")
    keep_home = home is not None
    home = Path(home) if keep_home else Path(tempfile.mkdtemp(prefix="sidetone-e2e-"))
    runtime = home / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    port, native_port = _free_port(), _free_port()
    with xvfb_display() as display:
        env = dict(os.environ)
        env.update({
            "DISPLAY": display, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
            "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "share"),
            "XDG_CACHE_HOME": str(home / "cache"), "NO_AT_BRIDGE": "1",
            "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
        })
        env.pop("WAYLAND_DISPLAY", None)
        if extra_env:
            env.update(extra_env)
        bus = [] if extra_env and "DBUS_SESSION_BUS_ADDRESS" in extra_env else ["dbus-run-session", "--"]
        proc = subprocess.Popen(
            bus + [driver, "--port", str(port), "--native-port", str(native_port)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(home / "tauri-driver.log", "wb"),
            start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(url + "/status", timeout=1).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("tauri-driver did not start: "
                                           + (home / "tauri-driver.log").read_text(errors="replace"))
                    time.sleep(0.1)
            yield url, env, home
        finally:
            try:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, 9)
            # The app may still be unregistering (its exit handler) after tauri-driver is
            # gone. A next session on the same keyring bus would find it alive and hand its
            # start over to it (single instance): wait until the whole group has exited.
            _wait_group_gone(proc.pid, timeout=15)
            if not keep_home:
                shutil.rmtree(home, ignore_errors=True)


def _wait_group_gone(pgid: int, timeout: float) -> None:
    """Waits until no process of group `pgid` is left; SIGKILLs the rest after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pgid, 9)
    except ProcessLookupError:
        pass


def open_app(url: str, args: list[str] | None = None):
    """A Selenium session on the real app, started with `args` (e.g. a clicked link)."""
    from selenium import webdriver
    from selenium.webdriver.common.options import ArgOptions

    options = ArgOptions()
    options.set_capability("browserName", "wry")
    tauri_options = {"application": str(app_binary())}
    if args:
        tauri_options["args"] = list(args)
    options.set_capability("tauri:options", tauri_options)
    return webdriver.Remote(command_executor=url, options=options)
