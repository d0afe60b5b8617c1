"""The lab's identity provider against its contract: OpenID discovery, the authorization code
flow with PKCE driven over plain HTTP(S) from Python (sign-in forms, loopback redirect, token
exchange, ID token signature), TOTP, forced password change, lockouts, the provisioning
endpoint (Basic, Bearer, one-time tokens, the account picker), WebFinger, and the provisioning
schema with its examples.

One lab per module; tests use different users so their order does not matter.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html.parser
import http.cookiejar
import http.server
import json
import secrets
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "lab"))

from sidetone_lab import Lab  # noqa: E402

pytestmark = pytest.mark.timeout(180)

SCHEMA = json.loads((ROOT / "docs" / "provisioning.schema.json").read_text())
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.json"))
REL_ISSUER = "http://openid.net/specs/connect/1.0/issuer"
REL_PROVISIONING = "https://sidetone.invalid/rel/provisioning"
PROP_ACCOUNT_NUMBER = "https://sidetone.invalid/prop/account-number"
PROP_SIGN_IN = "https://sidetone.invalid/prop/sign-in"


# ---- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lab():
    with Lab() as lab:
        lab.start("idp")
        yield lab


@pytest.fixture(scope="module")
def eps(lab):
    return lab.services["idp"].endpoints


@pytest.fixture(scope="module")
def idp(lab):
    return lab.services["idp"]


@pytest.fixture(scope="module")
def discovery(eps):
    return Client(eps).get_json(eps["discovery"])


# ---- HTTP helpers ---------------------------------------------------------------------------

class Response:
    def __init__(self, status: int, url: str, headers, body: bytes):
        self.status, self.url, self.headers, self.body = status, url, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


class Client:
    """A tiny browser: trusts only the lab CA, keeps cookies, follows redirects (or not)."""

    def __init__(self, eps: dict, follow: bool = True):
        self.jar = http.cookiejar.CookieJar()
        self.ssl = ssl.create_default_context(cafile=eps["ca_cert"])
        handlers = [urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self.ssl),
                    urllib.request.HTTPCookieProcessor(self.jar)]
        if not follow:
            handlers.append(_NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, url: str, data: dict | None = None, headers: dict | None = None,
                method: str | None = None) -> Response:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
        try:
            with self.opener.open(req, timeout=10) as resp:
                return Response(resp.status, resp.url, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.url, exc.headers, exc.read())

    def get_json(self, url: str, **kw):
        resp = self.request(url, **kw)
        assert resp.status == 200, (resp.status, resp.text[:500])
        return resp.json()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def basic(login: str, password: str) -> dict:
    raw = f"{login}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


class Forms(html.parser.HTMLParser):
    """The forms of a page: {form id: {"action": ..., "fields": {name: value}}}."""

    def __init__(self, text: str):
        super().__init__()
        self.forms: dict[str, dict] = {}
        self._current: dict | None = None
        self.errors: list[str] = []
        self._in_error = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = {"action": a.get("action"), "method": a.get("method"), "fields": {}}
            self.forms[a.get("id") or str(len(self.forms))] = self._current
        elif tag == "input" and self._current is not None and a.get("name"):
            self._current["fields"][a["name"]] = a.get("value") or ""
        elif a.get("role") == "alert":
            self._in_error = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        self._in_error = False

    def handle_data(self, data):
        if self._in_error and data.strip():
            self.errors.append(data.strip())


def submit(client: Client, page: Response, form_id: str, **values) -> Response:
    forms = Forms(page.text)
    assert form_id in forms.forms, f"no form {form_id!r} on {page.url}: {page.text[:400]}"
    form = forms.forms[form_id]
    fields = dict(form["fields"], **values)
    return client.request(urllib.parse.urljoin(page.url, form["action"]), data=fields)


class LoopbackRedirect:
    """The app's side of RFC 8252: a one-shot HTTP listener on 127.0.0.1, ephemeral port."""

    def __init__(self):
        self.queries: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                parsed = urllib.parse.urlsplit(self.path)
                outer.queries.append({"path": parsed.path,
                                      **dict(urllib.parse.parse_qsl(parsed.query))})
                body = b"<!DOCTYPE html><title>Signed in</title><p>You can close this window."
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.redirect_uri = f"http://127.0.0.1:{self.port}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignIn:
    """One authorization-code + PKCE sign-in as the app does it."""

    def __init__(self, eps, discovery, login_hint: str | None = None, **extra):
        self.eps, self.discovery = eps, discovery
        self.browser = Client(eps)
        self.redirect = LoopbackRedirect()
        self.state = b64url(secrets.token_bytes(16))
        self.nonce = b64url(secrets.token_bytes(16))
        self.verifier = b64url(secrets.token_bytes(48))
        params = {
            "client_id": eps["client_id"], "response_type": "code",
            "redirect_uri": self.redirect.redirect_uri, "scope": " ".join(eps["scopes"]),
            "state": self.state, "nonce": self.nonce,
            "code_challenge": b64url(hashlib.sha256(self.verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
        if login_hint:
            params["login_hint"] = login_hint
        params.update(extra)
        params = {k: v for k, v in params.items() if v is not None}
        self.page = self.browser.request(discovery["authorization_endpoint"] + "?"
                                         + urllib.parse.urlencode(params))

    def callback(self) -> dict:
        assert self.redirect.queries, f"no redirect reached the app; last page {self.page.url}"
        return self.redirect.queries[-1]

    def code(self) -> str:
        query = self.callback()
        assert query["path"] == "/callback"
        assert "error" not in query, query
        assert query["state"] == self.state
        assert query["iss"] == self.eps["issuer"]  # RFC 9207
        return query["code"]

    def exchange(self, code: str | None = None) -> dict:
        resp = Client(self.eps).request(self.discovery["token_endpoint"], data={
            "grant_type": "authorization_code", "code": code or self.code(),
            "redirect_uri": self.redirect.redirect_uri, "client_id": self.eps["client_id"],
            "code_verifier": self.verifier})
        assert resp.status == 200, resp.text
        assert resp.headers["Cache-Control"] == "no-store"
        return resp.json()

    def close(self):
        self.redirect.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def verify_id_token(token: str, eps: dict, discovery: dict, nonce: str) -> dict:
    """Check an RS256 ID token's signature against the provider's JWKS (RSASSA-PKCS1-v1_5 by
    hand, standard library only) and its iss, aud, nonce, exp; return the claims."""
    head_b64, body_b64, sig_b64 = token.split(".")
    header = json.loads(b64url_decode(head_b64))
    claims = json.loads(b64url_decode(body_b64))
    assert header["alg"] == "RS256", header
    jwks = Client(eps).get_json(discovery["jwks_uri"])
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert "d" not in key and "p" not in key, "JWKS must not publish private key parts"
    n = int.from_bytes(b64url_decode(key["n"]), "big")
    e = int.from_bytes(b64url_decode(key["e"]), "big")
    size = (n.bit_length() + 7) // 8
    signature = b64url_decode(sig_b64)
    assert len(signature) == size
    decrypted = pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(
        f"{head_b64}.{body_b64}".encode()).digest()
    expected = b"\x00\x01" + b"\xff" * (size - 3 - len(digest_info)) + b"\x00" + digest_info
    assert hmac.compare_digest(decrypted, expected), "ID token signature does not verify"
    assert claims["iss"] == eps["issuer"]
    assert claims["aud"] == eps["client_id"] or eps["client_id"] in claims["aud"]
    assert claims["nonce"] == nonce
    assert claims["exp"] > time.time() > claims["iat"] - 60
    return claims


def totp(secret: str, at: float | None = None, step_offset: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def validate(document: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def schema_errors(document: dict) -> list[str]:
    return [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)]


# Crockford base32 authentication codes, implemented here independently of the server.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK = CROCKFORD + "*~$=U"


def decode_code(code: str) -> tuple[str, str]:
    s = code.upper().replace("-", "").replace(" ", "").replace("O", "0")
    s = s.replace("I", "1").replace("L", "1")
    payload, check = s[:-1], s[-1]
    value = 0
    for ch in payload:
        value = value * 32 + CROCKFORD.index(ch)
    assert CHECK[value % 37] == check, "check symbol"
    assert payload[0] == "1"
    token, host_symbols = payload[1:17], payload[17:]
    bits = "".join(f"{CROCKFORD.index(ch):05b}" for ch in host_symbols)
    usable = len(bits) // 8 * 8
    assert set(bits[usable:]) <= {"0"}
    host = bytes(int(bits[i:i + 8], 2) for i in range(0, usable, 8)).decode()
    return host, token


# ---- discovery ------------------------------------------------------------------------------

def test_discovery_names_the_issuer_and_only_safe_choices(eps, discovery):
    issuer = eps["issuer"]
    assert issuer.startswith("https://127.0.0.1:")
    assert discovery["issuer"] == issuer
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
                 "revocation_endpoint", "end_session_endpoint"):
        assert discovery[name].startswith(issuer + "/"), name
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["response_types_supported"] == ["code"]
    assert "implicit" not in discovery["grant_types_supported"]
    assert {"openid", "offline_access"} <= set(discovery["scopes_supported"])
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert discovery["authorization_response_iss_parameter_supported"] is True
    # The certificate is real: without the lab CA the handshake fails.
    with pytest.raises(urllib.error.URLError) as info:
        urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        ).open(eps["discovery"], timeout=5)
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


# ---- the authorization code flow -------------------------------------------------------------

def test_alice_signs_in_with_pkce_and_gets_a_document_with_her_access_token(eps, discovery,
                                                                             idp):
    alice = eps["users"]["alice"]
    with SignIn(eps, discovery, login_hint=alice["login"]) as flow:
        forms = Forms(flow.page.text).forms
        assert flow.page.status == 200 and "login-form" in forms
        assert forms["login-form"]["fields"]["login"] == alice["login"]  # username first
        done = submit(flow.browser, flow.page, "login-form", password=alice["password"])
        assert done.status == 200 and done.url.startswith(flow.redirect.redirect_uri)
        assert flow.redirect.port not in (80, 443)  # any loopback port is accepted
        tokens = flow.exchange()
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] <= eps["settings"]["access_token_ttl"]
    assert tokens["refresh_token"]
    claims = verify_id_token(tokens["id_token"], eps, discovery, flow.nonce)
    assert claims["sub"] == "alice" and "pwd" in claims["amr"] and "otp" not in claims["amr"]

    # The access token fetches Alice's provisioning document (SSO users have no password here).
    client = Client(eps)
    resp = client.request(eps["provisioning_url"],
                          headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert resp.status == 200, resp.text
    assert resp.headers["Cache-Control"] == "no-store"
    doc = resp.json()
    validate(doc)
    assert doc["sign_in"] == {"method": "oidc", "login_id": alice["login"],
                              "issuer": eps["issuer"], "client_id": eps["client_id"],
                              "scopes": eps["scopes"]}
    [account] = doc["accounts"]
    assert account["aor"] == alice["accounts"][0]["aor"]
    secrets_by_id = {c["id"]: c for c in doc["credentials"]}
    assert secrets_by_id[account["credential_id"]]["password"] == alice["accounts"][0]["sip_password"]
    sso = client.request(eps["provisioning_url"], headers=basic(alice["login"], alice["password"]))
    assert sso.status == 401 and sso.json()["error"] == "use_single_sign_on"

    # Refresh tokens rotate: the new one works, the old one is then refused.
    refreshed = client.request(discovery["token_endpoint"], data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": eps["client_id"]})
    assert refreshed.status == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
    reused = client.request(discovery["token_endpoint"], data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": eps["client_id"]})
    assert reused.status == 400 and reused.json()["error"] == "invalid_grant"

    # Revoking her sessions ends the access tokens too.
    assert idp.revoke_sessions("alice") > 0
    gone = client.request(eps["provisioning_url"], headers={
        "Authorization": f"Bearer {refreshed.json()['access_token']}"})
    assert gone.status == 401 and gone.json()["error"] == "invalid_token"


def test_pkce_s256_is_required(eps, discovery):
    with SignIn(eps, discovery, code_challenge=None, code_challenge_method=None) as flow:
        query = flow.callback()
        assert query["error"] == "invalid_request" and "PKCE" in query["error_description"]
    with SignIn(eps, discovery, code_challenge="x" * 43, code_challenge_method="plain") as flow:
        assert flow.callback()["error"] == "invalid_request"


def test_only_the_registered_loopback_callback_is_accepted(eps, discovery):
    with SignIn(eps, discovery, redirect_uri="http://127.0.0.1:8123/elsewhere") as flow:
        assert flow.page.status == 400 and "redirect_uri" in flow.page.text
        assert not flow.redirect.queries
    with SignIn(eps, discovery, redirect_uri="http://example.invalid:8123/callback") as flow:
        assert flow.page.status == 400 and not flow.redirect.queries


def test_a_wrong_code_verifier_is_refused(eps, discovery):
    user = eps["users"]["1001"]
    with SignIn(eps, discovery, login_hint=user["login"]) as flow:
        submit(flow.browser, flow.page, "login-form", password=user["password"])
        flow.verifier = b64url(secrets.token_bytes(48))
        resp = Client(eps).request(discovery["token_endpoint"], data={
            "grant_type": "authorization_code", "code": flow.code(),
            "redirect_uri": flow.redirect.redirect_uri, "client_id": eps["client_id"],
            "code_verifier": flow.verifier})
    assert resp.status == 400 and resp.json()["error"] == "invalid_grant"


def test_bob_needs_a_correct_totp_code(eps, discovery):
    bob = eps["users"]["bob"]
    with SignIn(eps, discovery, login_hint=bob["login"]) as flow:
        page = submit(flow.browser, flow.page, "login-form", password=bob["password"])
        assert page.status == 200 and "totp-form" in Forms(page.text).forms
        assert not flow.redirect.queries  # a password alone is not enough
        good = totp(bob["totp_secret"])
        wrong = f"{(int(good) + 500_000) % 1_000_000:06d}"
        page = submit(flow.browser, page, "totp-form", code=wrong)
        assert page.status == 401 and Forms(page.text).errors
        assert not flow.redirect.queries
        page = submit(flow.browser, page, "totp-form", code=totp(bob["totp_secret"]))
        assert page.status == 200, page.text[:300]
        claims = verify_id_token(flow.exchange()["id_token"], eps, discovery, flow.nonce)
    assert claims["sub"] == "bob" and {"pwd", "otp", "mfa"} <= set(claims["amr"])


def test_carol_must_change_her_password_at_first_sign_in(eps, discovery):
    carol = eps["users"]["carol"]
    assert carol["must_change_password"]
    new_password = "N3w-" + secrets.token_urlsafe(9)
    with SignIn(eps, discovery, login_hint=carol["login"]) as flow:
        page = submit(flow.browser, flow.page, "login-form", password=carol["password"])
        assert "change-password-form" in Forms(page.text).forms
        page = submit(flow.browser, page, "change-password-form", new_password=new_password,
                      confirm_password=new_password + "x")
        assert page.status == 400 and "do not match" in " ".join(Forms(page.text).errors)
        page = submit(flow.browser, page, "change-password-form", new_password="short",
                      confirm_password="short")
        assert page.status == 400
        page = submit(flow.browser, page, "change-password-form", new_password=carol["password"],
                      confirm_password=carol["password"])
        assert page.status == 400  # the expired password cannot be reused
        assert not flow.redirect.queries
        page = submit(flow.browser, page, "change-password-form", new_password=new_password,
                      confirm_password=new_password)
        assert page.status == 200
        flow.exchange()
    # The old password is gone; the new one signs in without another change.
    with SignIn(eps, discovery, login_hint=carol["login"]) as flow:
        page = submit(flow.browser, flow.page, "login-form", password=carol["password"])
        assert page.status == 401
        page = submit(flow.browser, page, "login-form", password=new_password)
        assert page.status == 200 and flow.code()


def test_sign_in_locks_after_five_wrong_passwords(eps, discovery, idp):
    user = eps["users"]["1003"]
    with SignIn(eps, discovery, login_hint=user["login"]) as flow:
        page = flow.page
        statuses = []
        for _ in range(5):
            page = submit(flow.browser, page, "login-form", password="wrong-password")
            statuses.append(page.status)
        assert statuses == [401, 401, 401, 401, 429]
        assert 0 < int(page.headers["Retry-After"]) <= 900
        page = submit(flow.browser, page, "login-form", password=user["password"])
        assert page.status == 429 and "Try again" in " ".join(Forms(page.text).errors)
        assert idp.reset_lockouts(user["login"]) == 1
        page = submit(flow.browser, page, "login-form", password=user["password"])
        assert page.status == 200 and flow.code()


def test_access_token_lifetime_is_configurable(eps, discovery, idp):
    user = eps["users"]["1001"]
    idp.set_settings(access_token_ttl=7)
    try:
        with SignIn(eps, discovery, login_hint=user["login"]) as flow:
            submit(flow.browser, flow.page, "login-form", password=user["password"])
            assert flow.exchange()["expires_in"] == 7
    finally:
        idp.set_settings(access_token_ttl=eps["settings"]["access_token_ttl"])


def test_cancel_returns_access_denied_to_the_app(eps, discovery):
    with SignIn(eps, discovery) as flow:
        submit(flow.browser, flow.page, "abort-form")
        assert flow.callback()["error"] == "access_denied"


# ---- provisioning endpoint ------------------------------------------------------------------

def test_basic_auth_document_validates_and_points_at_the_lab(lab, eps):
    user = eps["users"]["1001"]
    resp = Client(eps).request(eps["provisioning_url"], headers=basic(user["login"],
                                                                      user["password"]))
    assert resp.status == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-store"
    assert len(resp.body) < 256 * 1024
    doc = resp.json()
    validate(doc)
    assert doc["sidetone_provisioning"] == 1
    assert doc["sign_in"] == {"method": "password", "login_id": user["login"]}
    for key in ("support_url", "password_reset_url", "change_password_url", "portal_url"):
        assert doc["provider"][key].startswith(eps["issuer"] + "/")
        assert Client(eps).request(doc["provider"][key]).status == 200
    assert doc["terms"]["emergency"]["address_required"] is True
    kam = lab.services["kamailio"].endpoints
    [account] = doc["accounts"]
    assert account["aor"] == f"sip:1001@{kam['domain']}"
    assert account["auth_username"] == "1001"
    assert [t["type"] for t in account["transports"]] == ["tls", "tcp", "udp"]
    tls = account["transports"][0]
    assert f"{tls['host']}:{tls['port']}" == kam["tls"]
    creds = {c["id"]: c for c in doc["credentials"]}
    assert creds[account["credential_id"]]["password"] == lab.services["kamailio"].users["1001"]
    # The CA the document asks the app to trust verifies Kamailio's TLS certificate.
    ctx = ssl.create_default_context(cadata="".join(doc["trust"]["ca_certificates"]))
    with socket.create_connection((tls["host"], tls["port"]), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=tls["host"]) as conn:
            assert conn.version() in ("TLSv1.2", "TLSv1.3")


def test_wrong_passwords_lock_the_provisioning_endpoint(eps, idp):
    user = eps["users"]["1002"]
    client = Client(eps)
    statuses = []
    for _ in range(5):
        resp = client.request(eps["provisioning_url"], headers=basic(user["login"], "nope"))
        statuses.append(resp.status)
    assert statuses == [401, 401, 401, 401, 429]
    assert 0 < int(resp.headers["Retry-After"]) <= 900
    assert resp.json()["error"] == "locked"
    locked = client.request(eps["provisioning_url"], headers=basic(user["login"],
                                                                    user["password"]))
    assert locked.status == 429 and int(locked.headers["Retry-After"]) > 0
    idp.reset_lockouts(user["login"])
    ok = client.request(eps["provisioning_url"], headers=basic(user["login"], user["password"]))
    assert ok.status == 200


def test_unauthenticated_requests_get_both_challenges(eps):
    resp = Client(eps).request(eps["provisioning_url"])
    assert resp.status == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert "Basic" in challenge and "Bearer" in challenge
    assert Client(eps).request(eps["provisioning_url"], headers={
        "Authorization": "Bearer not-a-token"}).status == 401


def test_one_time_token_works_once(eps, idp):
    made = idp.create_token("1001")
    assert made["server"] == eps["server"]
    assert made["server_link"] == (f"sidetone://provision?server="
                                   f"{urllib.parse.quote(eps['server'], safe='')}"
                                   f"&token={made['token']}")
    link = urllib.parse.urlsplit(made["url_link"])
    assert (link.scheme, link.netloc) == ("sidetone", "provision")
    query = dict(urllib.parse.parse_qsl(link.query))
    assert query == {"url": eps["provisioning_url"], "token": made["token"]}
    assert "url=https%3A%2F%2F" in made["url_link"]
    # The authentication code carries the same server and token and survives sloppy typing.
    assert decode_code(made["code"]) == (eps["server"], made["token"])
    sloppy = made["code"].lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert decode_code(sloppy) == (eps["server"], made["token"])
    mangled = made["code"][:-3] + ("2" if made["code"][-3] != "2" else "3") + made["code"][-2:]
    with pytest.raises(AssertionError):
        decode_code(mangled)

    client = Client(eps)
    url = f"{query['url']}?token={made['token'].lower()}"  # tokens are case-insensitive
    first = client.request(url)
    assert first.status == 200, first.text
    validate(first.json())
    assert first.json()["sign_in"]["login_id"] == eps["users"]["1001"]["login"]
    again = client.request(url)
    assert again.status == 410 and again.json()["error"] == "token_used"

    expired = idp.create_token("1002", ttl=0)
    resp = client.request(f"{eps['provisioning_url']}?token={expired['token']}")
    assert resp.status == 410 and resp.json()["error"] == "token_expired"
    unknown = client.request(f"{eps['provisioning_url']}?token={'7' * 16}")
    assert unknown.status == 404


def test_a_user_with_two_accounts_gets_the_picker(eps, idp):
    dana = eps["users"]["dana"]
    client = Client(eps)
    resp = client.request(eps["provisioning_url"], headers=basic(dana["login"], dana["password"]))
    assert resp.status == 300, resp.text
    choices = resp.json()["accounts"]
    assert [c["account_number"] for c in choices] == ["100200", "100300"]
    annex = client.request(choices[1]["href"], headers=basic(dana["login"], dana["password"]))
    assert annex.status == 200
    doc = annex.json()
    validate(doc)
    [account] = doc["accounts"]
    assert account["account_number"] == "100300"
    assert account["media"]["profile"] == "webrtc" and account["media"]["srtp"] == "required"
    assert [t["type"] for t in account["transports"]] == ["wss"]
    assert doc["terms"]["licence"]["url"].startswith("https://")
    # A token can be bound to one of the accounts.
    made = idp.create_token("dana", account="100200")
    other = client.request(f"{eps['provisioning_url']}?token={made['token']}&account=100300")
    assert other.status == 404
    bound = client.request(f"{eps['provisioning_url']}?token={made['token']}")
    assert bound.status == 200 and bound.json()["accounts"][0]["account_number"] == "100200"
    # An unbound token survives the picker and is spent by the document.
    made = idp.create_token("dana")
    url = f"{eps['provisioning_url']}?token={made['token']}"
    assert client.request(url).status == 300
    assert client.request(url + "&account=100300").status == 200
    assert client.request(url + "&account=100300").status == 410


def test_documented_code_examples_decode():
    text = (ROOT / "docs" / "provisioning.md").read_text()
    rows = [line.split("`") for line in text.splitlines() if line.startswith("| `")
            and "-M0D4-" in line]
    assert len(rows) == 2
    for row in rows:
        assert decode_code(row[3]) == (row[1], "7Q2M0D4K9VXR1H8A")


# ---- WebFinger ------------------------------------------------------------------------------

def webfinger(eps, resource: str | None, *rels: str) -> Response:
    params = ([("resource", resource)] if resource else []) + [("rel", r) for r in rels]
    return Client(eps).request(eps["webfinger"] + "?" + urllib.parse.urlencode(params))


def test_webfinger_finds_the_issuer_and_the_accounts(eps):
    alice = webfinger(eps, f"acct:{eps['users']['alice']['login']}")
    assert alice.status == 200
    assert alice.headers["Content-Type"].startswith("application/jrd+json")
    assert alice.headers["Access-Control-Allow-Origin"] == "*"
    jrd = alice.json()
    assert jrd["subject"] == f"acct:{eps['users']['alice']['login']}"
    issuers = [link["href"] for link in jrd["links"] if link["rel"] == REL_ISSUER]
    assert issuers == [eps["issuer"]]
    only = webfinger(eps, f"acct:{eps['users']['alice']['login']}", REL_ISSUER).json()
    assert [link["rel"] for link in only["links"]] == [REL_ISSUER]

    dana = webfinger(eps, f"acct:{eps['users']['dana']['login'].upper()}",
                     REL_ISSUER, REL_PROVISIONING).json()
    provisioning = [link for link in dana["links"] if link["rel"] == REL_PROVISIONING]
    assert [link["properties"][PROP_ACCOUNT_NUMBER] for link in provisioning] == ["100200",
                                                                                  "100300"]
    assert {link["properties"][PROP_SIGN_IN] for link in provisioning} == {"password"}
    assert all(link["href"].startswith(eps["provisioning_url"] + "?account=")
               for link in provisioning)
    assert [link["titles"]["und"] for link in provisioning] == ["Sidetone Lab",
                                                                "Sidetone Lab Annex"]
    assert not [link for link in dana["links"] if link["rel"] == REL_ISSUER]

    assert webfinger(eps, f"acct:nobody@{eps['domain']}").status == 404
    assert webfinger(eps, "acct:alice@elsewhere.invalid").status == 404
    assert webfinger(eps, None).status == 400


# ---- admin ----------------------------------------------------------------------------------

def test_admin_api_needs_the_key(eps):
    client = Client(eps)
    assert client.request(eps["admin_url"] + "/settings").status == 401
    assert client.request(eps["admin_url"] + "/settings",
                          headers={"Authorization": "Bearer wrong"}).status == 401
    ok = client.request(eps["admin_url"] + "/settings",
                        headers={"Authorization": f"Bearer {eps['admin_key']}"})
    assert ok.status == 200 and ok.json()["lockout_threshold"] == 5


# ---- the schema and its examples ------------------------------------------------------------

def test_schema_is_valid_and_examples_validate():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert len(EXAMPLES) >= 3
    for path in EXAMPLES:
        doc = json.loads(path.read_text())
        assert schema_errors(doc) == [], path.name


@pytest.mark.parametrize("change, reason", [
    (lambda d: d.update(sidetone_provisioning=2), "unknown version"),
    (lambda d: d.pop("sidetone_provisioning"), "no version"),
    (lambda d: d.pop("accounts"), "no accounts"),
    (lambda d: d.update(accounts=[]), "empty accounts"),
    (lambda d: d["provider"].update(support_url="http://insecure.example/help"), "http URL"),
    (lambda d: d["provisioning"].update(url="http://insecure.example/p"), "http URL"),
    (lambda d: d.update(sign_in={"method": "oidc", "login_id": "a@b",
                                 "issuer": "http://idp.example", "client_id": "x",
                                 "scopes": ["openid"]}), "http issuer"),
    (lambda d: d.update(sign_in={"method": "oidc", "login_id": "a@b",
                                 "issuer": "https://idp.example", "client_id": "x",
                                 "scopes": ["profile"]}), "no openid scope"),
    (lambda d: d.update(sign_in={"method": "password", "login_id": "a@b",
                                 "issuer": "https://idp.example"}), "issuer with password"),
    (lambda d: d.update(surprise=True), "unknown field"),
    (lambda d: d["accounts"][0].pop("aor"), "missing aor"),
    (lambda d: d["accounts"][0].update(aor="tel:+15551234567"), "not a SIP AOR"),
    (lambda d: d["accounts"][0]["transports"].append({"type": "sctp"}), "unknown transport"),
    (lambda d: d["accounts"][0]["transports"].append({"type": "wss"}), "wss without url"),
    (lambda d: d["accounts"][0]["transports"].append(
        {"type": "wss", "url": "ws://127.0.0.1:8080"}), "wss with ws URL"),
    (lambda d: d["accounts"][0]["transports"].append({"type": "tls", "host": "a.example"}),
     "host without port"),
    (lambda d: d["accounts"][0]["media"].update(srtp="sometimes"), "bad SRTP policy"),
    (lambda d: d["accounts"][0]["media"].update(profile="webrtc", srtp="optional"),
     "WebRTC without SRTP"),
    (lambda d: d["accounts"][0]["media"].update(codecs=["opus", "opus"]), "repeated codec"),
    (lambda d: d["accounts"][0]["media"].update(
        ice_servers=[{"urls": ["turn:turn.example:3478"]}]), "TURN without credentials"),
    (lambda d: d["accounts"][0].update(voicemail={
        "imap": {"host": "imap.example", "port": 143, "tls": "none"},
        "username": "u", "credential_id": "vm"}), "plaintext IMAP off loopback"),
    (lambda d: d["accounts"][0].update(registration_expires=5), "expires too short"),
    (lambda d: d.update(trust={"ca_certificates": ["not a certificate"]}), "bad PEM"),
    (lambda d: d.update(terms={"licence": {"version": "1", "text": "t",
                                           "url": "https://x.example/l"}}), "text and url"),
    (lambda d: d.update(terms={"emergency": {"version": "1", "text": "t"}}),
     "emergency without address_required"),
])
def test_schema_rejects(change, reason):
    doc = json.loads((ROOT / "docs" / "examples" / "password-basic.json").read_text())
    assert schema_errors(doc) == []
    broken = copy.deepcopy(doc)
    change(broken)
    assert schema_errors(broken), f"schema accepted a document with {reason}"
