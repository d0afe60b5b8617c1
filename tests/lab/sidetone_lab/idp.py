"""The lab's identity provider: OpenID Provider, provisioning endpoint and WebFinger on one
loopback HTTPS server (Node, `oidc-provider`; source in tests/lab/idp/).

    eps = lab.start("idp")                     # starts the CA and Kamailio too if needed
    eps["issuer"]                              # https://127.0.0.1:PORT
    eps["users"]["alice"]["password"]          # random per lab
    idp = lab.services["idp"]
    idp.create_token("1001")                   # one-time link, server link, code
    idp.reset_lockouts(); idp.set_settings(access_token_ttl=5)
    idp.revoke_sessions("alice"); idp.expire_password("1002")

Users (login ids are `<id>@<domain>`, domain "sidetone.test" by default):
    1001, 1002, ...  every Kamailio user at start: sign-in "password", the login password is
                     the SIP password; one account in "Sidetone Lab" (100200).
    alice            sign-in "oidc", password only.            SIP user 2001.
    bob              sign-in "oidc", password + TOTP (RFC 6238); `totp_secret` is RFC 4648 base32.
                                                               SIP user 2002, SRTP required.
    carol            sign-in "oidc", must change her password at first sign-in.  SIP user 2003.
    dana             sign-in "password", two accounts (the picker): 100200 (SIP 2004) and
                     100300 "Sidetone Lab Annex" (SIP 2005, WebRTC over WSS).
Documents point at the lab's Kamailio, and at Dovecot (voicemail) and coturn (ICE servers) when
they run when the IdP starts (or after `reload_services()`).

Options: domain, access_token_ttl (300 s), id_token_ttl (300 s), refresh_token_ttl (14 days),
token_ttl (one-time tokens, 7 days), lockout_threshold (5), lockout_seconds (900).

Node packages: installed once per lockfile by `npm ci --ignore-scripts` into
`$SIDETONE_CACHE/idp-node_modules-<hash of package.json + package-lock.json>/` (default
~/.cache/sidetone), outside the checkout, under a file lock so parallel labs install once; the
server finds them through SIDETONE_IDP_NODE_MODULES. Needs `node` >= 20.19 and, the first
time, the npm registry.

Standard library only.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import ssl
import string
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from .core import LabError, Service

IDP_DIR = Path(__file__).resolve().parent.parent / "idp"
CLIENT_ID = "sidetone-desktop"
SCOPES = ["openid", "profile", "email", "offline_access"]
REDIRECT_URIS = ["http://127.0.0.1/callback", "http://[::1]/callback"]
TENANT_MAIN = "100200"
TENANT_ANNEX = "100300"
DEFAULT_SETTINGS = {
    "access_token_ttl": 300,
    "id_token_ttl": 300,
    "refresh_token_ttl": 14 * 86400,
    "token_ttl": 7 * 86400,
    "lockout_threshold": 5,
    "lockout_seconds": 900,
}
_ALPHABET = string.ascii_letters + string.digits

LICENCE_TEXT = (
    "Sidetone Lab end-user licence (test text). This software is provided for testing the "
    "Sidetone softphone against a lab phone system. By accepting you agree to nothing real.")
E911_TEXT = (
    "Emergency calling (test text). Calls to emergency numbers from this softphone are routed "
    "with the address registered for your line. If you use the phone at another address, "
    "update your emergency address first, or responders may be sent to the wrong place. "
    "Emergency calls need a working network and power.")


def _random_password(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _cache_root() -> Path:
    return Path(os.environ.get("SIDETONE_CACHE") or Path.home() / ".cache" / "sidetone")


def node_modules(log=None) -> Path:
    """The idp's node_modules for the current lockfile, installing it once if needed."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((IDP_DIR / name).read_bytes())
    key = digest.hexdigest()[:16]
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"idp-node_modules-{key}"
    done = target / ".complete"
    if done.exists():
        return target / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        raise LabError("idp: npm is not installed (Node.js >= 20.19 with npm)")
    with open(root / f"idp-node_modules-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():  # another lab installed it while we waited
            return target / "node_modules"
        shutil.rmtree(target, ignore_errors=True)
        staging = root / f"idp-node_modules-{key}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(IDP_DIR / name, staging / name)
        result = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=str(staging), capture_output=True, text=True, timeout=600, check=False)
        if log is not None:
            log.write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise LabError(f"idp: npm ci failed ({result.returncode}):\n"
                           f"{(result.stdout + result.stderr)[-1500:]}")
        (staging / ".complete").write_text(key + "\n")
        os.replace(staging, target)
    return target / "node_modules"


class IdentityProvider(Service):
    """OpenID Provider + provisioning endpoint + WebFinger + test admin API (Node)."""

    name = "idp"

    def __init__(self, lab, **options):
        super().__init__(lab, **options)
        self.domain = options.get("domain", "sidetone.test")
        self.settings = dict(DEFAULT_SETTINGS)
        for name in DEFAULT_SETTINGS:
            if options.get(name) is not None:
                self.settings[name] = int(options[name])
        self.admin_key = secrets.token_urlsafe(32)
        self.config_path = self.dir / "idp.json"
        self.issuer: str | None = None
        self.ca_cert: str | None = None
        self.users: dict[str, dict] = {}
        self.process = None
        self._ssl: ssl.SSLContext | None = None

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> dict:
        node = shutil.which("node")
        if node is None:
            raise LabError("idp: node is not installed (Node.js >= 20.19)")
        modules = node_modules(self.dir / "npm-ci.log")
        self.ca_cert = self.lab.start("ca")["ca_cert"]
        cert, key = self.lab.services["ca"].issue("idp", ["127.0.0.1", "localhost"])
        self._ssl = ssl.create_default_context(cafile=self.ca_cert)
        self.lab.start("kamailio")
        self._make_users()
        last_error: LabError | None = None
        for _ in range(3):
            port = self.lab.port()
            self.issuer = f"https://127.0.0.1:{port}"
            self._write_config(port, str(cert), str(key))
            proc = self.spawn([node, str(IDP_DIR / "server.js"), "--config",
                               str(self.config_path)],
                              env={"SIDETONE_IDP_NODE_MODULES": str(modules),
                                   "NODE_ENV": "production"},
                              cwd=IDP_DIR)
            self.process = proc
            try:
                self.lab.wait_ready("idp (OpenID discovery over HTTPS)", self._discovery_ok,
                                    timeout=30, proc=proc)
                break
            except LabError as exc:
                last_error = exc
                self.lab.terminate(proc, grace=1.0)
                self.processes.remove(proc)
                if "EADDRINUSE" not in proc.log_tail():
                    raise
        else:
            raise last_error  # type: ignore[misc]
        return self._endpoints()

    def _discovery_ok(self) -> bool:
        doc = self._get_json("/.well-known/openid-configuration")
        return doc.get("issuer") == self.issuer

    def _endpoints(self) -> dict:
        issuer = self.issuer
        return {
            "issuer": issuer,
            "discovery": f"{issuer}/.well-known/openid-configuration",
            "provisioning_url": f"{issuer}/provisioning/v1/document",
            "webfinger": f"{issuer}/.well-known/webfinger",
            "admin_url": f"{issuer}/admin",
            "admin_key": self.admin_key,
            "server": issuer.split("://", 1)[1],
            "ca_cert": self.ca_cert,
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URIS[0],
            "scopes": list(SCOPES),
            "domain": self.domain,
            "accounts": {TENANT_MAIN: "Sidetone Lab", TENANT_ANNEX: "Sidetone Lab Annex"},
            "users": json.loads(json.dumps(self.users)),
            "settings": dict(self.settings),
            "log": str(self.process.log) if self.process else None,
        }

    # ---- users and config -------------------------------------------------------------------

    def _make_users(self) -> None:
        kam = self.lab.services["kamailio"]

        def account(tenant: str, sip_user: str, password: str, **extra) -> dict:
            return {"account_number": tenant, "sip_user": sip_user, "sip_password": password,
                    "aor": f"sip:{sip_user}@{kam.domain}", **extra}

        users: dict[str, dict] = {}
        for sip_user, password in dict(kam.users).items():
            users[sip_user] = {
                "login": f"{sip_user}@{self.domain}", "name": f"Extension {sip_user}",
                "password": password, "sign_in": "password", "totp_secret": None,
                "must_change_password": False,
                "accounts": [account(TENANT_MAIN, sip_user, password)],
            }
        people = {
            "alice": ("Alice Archer", "2001", {}),
            "bob": ("Bob Baker", "2002", {"srtp": "required"}),
            "carol": ("Carol Carter", "2003", {}),
        }
        for uid, (name, sip_user, extra) in people.items():
            users[uid] = {
                "login": f"{uid}@{self.domain}", "name": name, "password": _random_password(),
                "sign_in": "oidc", "totp_secret": None, "must_change_password": False,
                "accounts": [account(TENANT_MAIN, sip_user, kam.add_user(sip_user), **extra)],
            }
        bob_secret = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
        users["bob"]["totp_secret"] = bob_secret
        users["bob"]["totp_uri"] = (f"otpauth://totp/Sidetone%20Lab:bob%40{self.domain}"
                                    f"?secret={bob_secret}&issuer=Sidetone%20Lab"
                                    "&algorithm=SHA1&digits=6&period=30")
        users["carol"]["must_change_password"] = True
        users["dana"] = {
            "login": f"dana@{self.domain}", "name": "Dana Dalton",
            "password": _random_password(), "sign_in": "password", "totp_secret": None,
            "must_change_password": False,
            "accounts": [account(TENANT_MAIN, "2004", kam.add_user("2004")),
                         account(TENANT_ANNEX, "2005", kam.add_user("2005"),
                                 profile="webrtc", display_name="Dana (Annex)")],
        }
        self.users = users
        self._attach_voicemail()

    def _attach_voicemail(self) -> None:
        dovecot = self.lab.services.get("dovecot")
        for user in self.users.values():
            for acc in user["accounts"]:
                acc.pop("voicemail_user", None)
                acc.pop("voicemail_password", None)
                if dovecot is None:
                    continue
                vm_users = dovecot.endpoints.get("users") or dovecot.users
                password = vm_users.get(acc["sip_user"]) or dovecot.add_user(acc["sip_user"])
                acc["voicemail_user"] = acc["sip_user"]
                acc["voicemail_password"] = password

    def _services(self) -> dict:
        def eps(name):
            svc = self.lab.services.get(name)
            return dict(svc.endpoints) if svc is not None and svc.endpoints else None
        return {"kamailio": eps("kamailio"), "dovecot": eps("dovecot"), "coturn": eps("coturn")}

    def _write_config(self, port: int, cert: str, key: str) -> None:
        tenants = [
            {"account_number": TENANT_MAIN, "name": "Sidetone Lab",
             "terms": {"licence": {"version": "2026-11", "text": LICENCE_TEXT},
                       "emergency": {"version": "2026-11", "text": E911_TEXT,
                                     "address_required": True, "address_url": "/portal"}}},
            {"account_number": TENANT_ANNEX, "name": "Sidetone Lab Annex",
             "terms": {"licence": {"version": "2026-11", "url": "/terms/licence"},
                       "emergency": {"version": "2026-11", "text": E911_TEXT,
                                     "address_required": False}}},
        ]
        config = {
            "listen": {"host": "127.0.0.1", "port": port},
            "issuer": self.issuer,
            "tls": {"cert": cert, "key": key},
            "ca_cert": self.ca_cert,
            "admin_key": self.admin_key,
            "domain": self.domain,
            "client": {"client_id": CLIENT_ID, "redirect_uris": REDIRECT_URIS,
                       "post_logout_redirect_uris": ["http://127.0.0.1/signed-out"],
                       "scopes": SCOPES},
            "settings": self.settings,
            "tenants": tenants,
            "pages": {"licence": LICENCE_TEXT},
            "users": [{"id": uid, **{k: v for k, v in u.items() if k != "totp_uri"}}
                      for uid, u in self.users.items()],
            "services": self._services(),
        }
        self.config_path.write_text(json.dumps(config, indent=2))
        os.chmod(self.config_path, 0o600)  # holds passwords and the admin key

    def reload_services(self) -> dict:
        """Point the documents at the services running now (e.g. Dovecot started later)."""
        self._attach_voicemail()
        port = int(self.issuer.rsplit(":", 1)[1])
        cert, key = self.lab.services["ca"].issue("idp")
        self._write_config(port, str(cert), str(key))
        self.admin("POST", "/reload", {})
        self.endpoints = self._endpoints()
        return self.endpoints

    # ---- HTTP -------------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts the lab CA (and nothing turned off)."""
        return ssl.create_default_context(cafile=self.ca_cert)

    def _opener(self) -> urllib.request.OpenerDirector:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                           urllib.request.HTTPSHandler(context=self._ssl))

    def _get_json(self, path: str) -> dict:
        with self._opener().open(self.issuer + path, timeout=3) as resp:
            return json.load(resp)

    def admin(self, method: str, route: str, body: dict | None = None) -> dict:
        """Call the admin API (`/admin<route>`); returns its JSON, raises LabError on errors."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.issuer}/admin{route}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.admin_key}",
                     "Content-Type": "application/json"})
        try:
            with self._opener().open(req, timeout=5) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            raise LabError(f"idp admin {method} {route}: {exc.code} "
                           f"{exc.read().decode(errors='replace')[:400]}") from None

    def create_token(self, login: str, account: str | None = None,
                     ttl: int | None = None) -> dict:
        """A one-time provisioning token for `login` (an id like "1001" or a full login id):
        {"token", "expires_at", "url_link", "server_link", "code", "provisioning_url", ...}."""
        body: dict = {"login": login}
        if account is not None:
            body["account"] = account
        if ttl is not None:
            body["ttl"] = ttl
        return self.admin("POST", "/tokens", body)

    def reset_lockouts(self, login: str | None = None) -> int:
        return self.admin("POST", "/lockouts/reset", {} if login is None else {"login": login})["reset"]

    def set_settings(self, **settings: int) -> dict:
        """Change TTLs and lockout rules at run time (new tokens and failures use them)."""
        self.settings = self.admin("POST", "/settings", settings)
        if self.endpoints:
            self.endpoints["settings"] = dict(self.settings)
        return self.settings

    def revoke_sessions(self, login: str) -> int:
        """Forget the user's sessions, grants, codes and tokens (refresh tokens stop working)."""
        return self.admin("POST", "/sessions/revoke", {"login": login})["revoked"]

    def expire_password(self, login: str) -> None:
        """The user must change their password at the next sign-in (as carol at the start)."""
        self.admin("POST", "/users/expire-password", {"login": login})

    def stop(self) -> None:
        super().stop()  # all state lived in the Node process
        self.process = None
