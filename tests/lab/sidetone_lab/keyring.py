"""A private Secret Service: a D-Bus session bus and gnome-keyring-daemon, both in the lab dir.

    eps = lab.start("keyring")
    env = eps["env"]        # DBUS_SESSION_BUS_ADDRESS, HOME, XDG_*: give these to the app
    kr = lab.services["keyring"]
    kr.store("a secret", service="sidetone", user="1001")   # secret-tool store
    kr.lookup(service="sidetone", user="1001")              # -> "a secret"
    kr.lock()               # the login keychain is locked (lookups fail, as on a real desktop)
    kr.unlock()             # "log in again": restart the daemon with the password

The bus is a `dbus-daemon --session` with its own config (listening on a unix socket in the
lab dir); gnome-keyring-daemon runs in the foreground with only the `secrets` component and
unlocks (creating on first start) the `login` keyring with a random password fed on stdin,
as PAM does at login. Nothing touches the real user's bus, keyrings or HOME.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from .core import LabError, Service

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{servicedir}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class GnomeKeyring(Service):
    """dbus-daemon + gnome-keyring-daemon (secrets component), unlocked with a random password."""

    name = "keyring"

    def __init__(self, lab, **options):
        super().__init__(lab, **options)
        self.password = options.get("password") or secrets.token_urlsafe(16)
        self.bus_socket = self.dir / "bus"
        self.address = f"unix:path={self.bus_socket}"
        self.keyring_proc = None

    def start(self) -> dict:
        for tool in ("dbus-daemon", "gnome-keyring-daemon", "secret-tool", "gdbus"):
            if shutil.which(tool) is None:
                raise LabError(f"keyring: {tool} not installed (apt-get install dbus "
                               "gnome-keyring libsecret-tools libglib2.0-bin)")
        home = self.dir / "home"
        run = self.dir / "run"
        for path in (home, run, self.dir / "share", self.dir / "config", self.dir / "cache"):
            path.mkdir(exist_ok=True)
        os.chmod(run, 0o700)
        self.env = {
            "DBUS_SESSION_BUS_ADDRESS": self.address,
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(run),
            "XDG_DATA_HOME": str(self.dir / "share"),
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "XDG_CACHE_HOME": str(self.dir / "cache"),
            "NO_AT_BRIDGE": "1",
        }
        conf = self.dir / "session.conf"
        # No standard service dirs: nothing is D-Bus-activated behind the lab's back (a second
        # keyring daemon, a GUI prompter); only what the lab starts is on this bus.
        servicedir = self.dir / "dbus-services"
        servicedir.mkdir(exist_ok=True)
        conf.write_text(BUS_CONFIG.format(socket=self.bus_socket, servicedir=servicedir))
        bus = self.spawn(["dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile",
                          "--nosyslog"], env=self._env(), tag="dbus")
        self.lab.wait_ready("keyring: D-Bus session bus", self._bus_answers, timeout=10, proc=bus)
        self._start_keyring()
        return {"dbus_address": self.address, "env": dict(self.env),
                "collection": "login"}

    # ---- the keychain -----------------------------------------------------------------------

    def store(self, secret: str, label: str = "sidetone lab", **attributes: str) -> None:
        """`secret-tool store` into the default (login) collection."""
        self._secret_tool(["store", f"--label={label}", *_attrs(attributes)], input=secret)

    def lookup(self, **attributes: str) -> str | None:
        """`secret-tool lookup`: the secret, or None if there is none (or the keyring is locked)."""
        res = self._secret_tool(["lookup", *_attrs(attributes)], check=False)
        return res.stdout if res.returncode == 0 else None

    def clear(self, **attributes: str) -> None:
        """`secret-tool clear`: delete matching secrets."""
        self._secret_tool(["clear", *_attrs(attributes)], check=False)

    def lock(self) -> None:
        """Lock the login keyring. Reads then fail (no prompt can be shown headless).

        Via the Secret Service `Lock` method (gdbus): `secret-tool lock` of libsecret 0.20
        crashes (SIGSEGV) here."""
        self._gdbus("/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock",
                    "['/org/freedesktop/secrets/collection/login']")

    def unlock(self) -> None:
        """Unlock the login keyring again, as logging in would: gnome-keyring-daemon is
        restarted with the password on stdin (unlocking needs a prompt otherwise)."""
        if self.keyring_proc is not None:
            self.lab.terminate(self.keyring_proc, grace=2.0)
            if self.keyring_proc in self.processes:
                self.processes.remove(self.keyring_proc)
            self.keyring_proc = None
        self._start_keyring()

    def locked(self) -> bool:
        """True if the login collection reports Locked (D-Bus property)."""
        out = self._gdbus("/org/freedesktop/secrets/collection/login",
                          "org.freedesktop.DBus.Properties.Get",
                          "org.freedesktop.Secret.Collection", "Locked")
        return "true" in out

    def _gdbus(self, path: str, method: str, *args: str) -> str:
        res = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.secrets",
                              "--object-path", path, "--method", method, *args],
                             env=self._env(), capture_output=True, text=True, timeout=10,
                             check=False)
        if res.returncode != 0:
            raise LabError(f"keyring: {method} failed: {res.stderr.strip()}")
        return res.stdout

    # ---- internals --------------------------------------------------------------------------

    def _start_keyring(self) -> None:
        # The password goes in through a pipe from an unlinked temp file: never in argv or env.
        with tempfile.TemporaryFile(dir=self.dir) as pw:
            pw.write(self.password.encode())
            pw.seek(0)
            proc = self.spawn(["gnome-keyring-daemon", "--foreground", "--unlock",
                               "--components=secrets"], env=self._env(), tag="daemon", stdin=pw)
        self.keyring_proc = proc
        probe = {"sidetone-lab-probe": secrets.token_hex(4)}
        value = secrets.token_hex(8)

        def round_trip() -> bool:
            self.store(value, label="lab readiness probe", **probe)
            ok = self.lookup(**probe) == value
            self.clear(**probe)
            return ok

        self.lab.wait_ready("keyring: secret-tool store/lookup round trip", round_trip,
                            timeout=15, proc=proc, interval=0.1)

    def _env(self) -> dict:
        env = dict(os.environ)
        env.update(self.env)
        return env

    def _bus_answers(self) -> bool:
        if not self.bus_socket.exists():
            return False
        res = subprocess.run(["dbus-send", f"--bus={self.address}", "--print-reply",
                              "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus.GetId"], env=self._env(),
                             capture_output=True, text=True, timeout=5, check=False)
        return res.returncode == 0

    def _secret_tool(self, args: list[str], input: str | None = None,
                     check: bool = True) -> subprocess.CompletedProcess:
        res = subprocess.run(["secret-tool", *args], env=self._env(), input=input,
                             capture_output=True, text=True, timeout=10, check=False)
        if check and res.returncode != 0:
            raise LabError(f"keyring: secret-tool {args[0]} failed ({res.returncode}): "
                           f"{res.stderr.strip()}")
        return res


def _attrs(attributes: dict[str, str]) -> list[str]:
    if not attributes:
        raise LabError("keyring: at least one attribute is needed")
    out: list[str] = []
    for key, value in attributes.items():
        out += [key, str(value)]
    return out
