"""The lab's SIP server works the way the app's tests will rely on: Kamailio registers users
with digest auth over UDP, TCP, TLS, WS and WSS, refuses wrong passwords, answers OPTIONS,
routes calls to registered users, relays MWI, and comes back after a restart."""

from __future__ import annotations

import ssl
import subprocess

import pytest

from sidetone_lab.sip_ua import SipError, SipUa, options_status

TRANSPORTS = ["udp", "tcp", "tls", "ws", "wss"]
SIPP_TRANSPORTS = ["udp", "tcp", "tls"]


@pytest.fixture(scope="module")
def kam(module_lab):
    """Kamailio (+ SIPp) shared by the read-only tests of this module."""
    module_lab.start("kamailio", users=["1001", "1002", "1003", "1004", "1005"])
    module_lab.start("sipp")
    return module_lab


def _eps(lab):
    return lab.services["kamailio"].endpoints


def _port(eps, transport: str) -> int:
    return eps["ports"]["sip" if transport in ("udp", "tcp") else transport]


def _target(eps, transport: str) -> str:
    return eps[transport]


def _ua(eps, transport, user=None, password=None, **kw) -> SipUa:
    return SipUa(transport, "127.0.0.1", _port(eps, transport), user=user, password=password,
                 domain=eps["domain"], ca_cert=eps["ca_cert"], **kw)


def _binding_for(eps, user: str, transport: str) -> list[str]:
    with _ua(eps, "udp", user, eps["users"][user]) as ua:
        return [c for c in ua.bindings()
                if f";transport={transport}" in c.lower() or
                f'transport={transport}"' in c.lower()]


# ---- registration -------------------------------------------------------------------------

@pytest.mark.parametrize("transport", SIPP_TRANSPORTS)
def test_sipp_registers_with_digest_auth(kam, transport):
    eps = _eps(kam)
    user = "1001"
    result = kam.services["sipp"].run(
        "register.xml", target=_target(eps, transport), transport=transport,
        users={user: eps["users"][user]}, domain=eps["domain"], ca_cert=eps["ca_cert"])
    # register.xml demands 401 (then answers it) and then 200; anything else fails the call.
    assert result.ok, result.explain()
    assert result.successful == 1 and result.failed == 0, result.explain()
    if transport != "udp":
        # The registrar saw the connection's transport (fix_nated_register's received=).
        assert _binding_for(eps, user, transport), "no binding with that transport"


@pytest.mark.parametrize("transport", ["ws", "wss"])
def test_websocket_client_registers_with_digest_auth(kam, transport):
    eps = _eps(kam)
    with _ua(eps, transport, "1002", eps["users"]["1002"]) as ua:
        final = ua.register()
        assert [r.status for r in ua.responses] == [401, 200], [str(r) for r in ua.responses]
        assert final.status == 200
        contacts = " ".join(final.header_all("contact"))
        assert ".invalid;transport=ws" in contacts and 'received="sip:127.0.0.1:' in contacts


def test_tls_clients_reject_a_server_not_signed_by_the_given_ca(kam, tmp_path):
    """TLS verification is on: the server's certificate must chain to the CA we pass."""
    eps = _eps(kam)
    other_ca = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(tmp_path / "k.pem"),
                    "-subj", "/CN=Not the lab CA", "-days", "1", "-out", str(other_ca)],
                   check=True, capture_output=True)
    for transport in ("tls", "wss"):
        with pytest.raises(ssl.SSLCertVerificationError):
            SipUa(transport, "127.0.0.1", eps["ports"][transport], ca_cert=str(other_ca))
    # ...and the lab CA is accepted (the same call succeeds).
    SipUa("wss", "127.0.0.1", eps["ports"]["wss"], ca_cert=eps["ca_cert"]).close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_wrong_password_is_refused(kam, transport):
    eps = _eps(kam)
    with _ua(eps, transport, "1003", "not-" + eps["users"]["1003"]) as ua:
        final = ua.register()
        statuses = [r.status for r in ua.responses]
    assert final.status in (401, 403), statuses
    assert 200 not in statuses, statuses


@pytest.mark.parametrize("transport", SIPP_TRANSPORTS)
def test_sipp_wrong_password_is_refused(kam, transport):
    eps = _eps(kam)
    result = kam.services["sipp"].run(
        "register_rejected.xml", target=_target(eps, transport), transport=transport,
        users={"1003": "wrong-password"}, domain=eps["domain"], ca_cert=eps["ca_cert"])
    assert result.ok, result.explain()


def test_sipp_rejected_scenario_fails_when_the_server_accepts(kam):
    """The negative scenario can fail: with the right password the server says 200 and
    register_rejected.xml must report a failed call."""
    eps = _eps(kam)
    result = kam.services["sipp"].run(
        "register_rejected.xml", target=eps["udp"], transport="udp",
        users={"1003": eps["users"]["1003"]}, domain=eps["domain"])
    assert result.returncode == 1 and result.failed == 1, result.explain()


def test_unknown_user_is_refused(kam):
    eps = _eps(kam)
    with _ua(eps, "udp", "9999", "whatever") as ua:
        assert ua.register().status in (401, 403)


# ---- OPTIONS ------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_options_answered_200(kam, transport):
    eps = _eps(kam)
    assert options_status(transport, "127.0.0.1", _port(eps, transport),
                          ca_cert=eps["ca_cert"], timeout=3) == 200


@pytest.mark.parametrize("transport", SIPP_TRANSPORTS)
def test_sipp_options_answered_200(kam, transport):
    eps = _eps(kam)
    result = kam.services["sipp"].run("options.xml", target=_target(eps, transport),
                                      transport=transport, domain=eps["domain"],
                                      ca_cert=eps["ca_cert"])
    assert result.ok, result.explain()


# ---- users, calls, MWI --------------------------------------------------------------------

def test_add_user_while_running(kam):
    kamailio = kam.services["kamailio"]
    password = kamailio.add_user("2001")
    assert kamailio.endpoints["users"]["2001"] == password
    with _ua(kamailio.endpoints, "tcp", "2001", password) as ua:
        assert ua.register().status == 200
    kamailio.remove_user("2001")
    with _ua(kamailio.endpoints, "udp", "2001", password) as ua:
        assert ua.register().status in (401, 403)


def test_call_is_routed_to_the_registered_user(kam):
    """A caller on TCP (answering the proxy's 407) reaches a callee registered over UDP."""
    eps = _eps(kam)
    sipp = kam.services["sipp"]
    callee = sipp.start_scenario("call_uas.xml", target=eps["udp"], transport="udp", calls=1,
                                 timeout=15, wait_listening=True)
    try:
        reg = sipp.run("register.xml", target=eps["udp"], transport="udp",
                       users={"1004": eps["users"]["1004"]}, domain=eps["domain"],
                       keys={"contact_port": callee.port})
        assert reg.ok, reg.explain()
        call = sipp.run("call_uac.xml", target=eps["tcp"], transport="tcp",
                        users={"1005": eps["users"]["1005"]}, domain=eps["domain"],
                        keys={"callee": "1004"})
        assert call.ok, call.explain()
    finally:
        answered = callee.wait(timeout=20)
    assert answered.ok, answered.explain()


@pytest.mark.parametrize("transport", ["udp", "wss"])
def test_mwi_publish_reaches_the_subscriber(kam, transport):
    eps = _eps(kam)
    user = "1005"
    with _ua(eps, transport, user, eps["users"][user]) as ua:
        sub = ua.subscribe("message-summary", accept="application/simple-message-summary")
        assert sub.status == 200, sub
        ua.wait_request("NOTIFY", timeout=5)  # the initial state
        new = 3 if transport == "udp" else 4
        assert kam.services["kamailio"].publish_mwi(user, new=new, old=1) == 200
        notify = ua.wait_request(
            "NOTIFY", timeout=5,
            predicate=lambda m: f"Voice-Message: {new}/1".encode() in m.body)
        assert notify.header("event", "").startswith("message-summary")
        assert b"Messages-Waiting: yes" in notify.body


def test_mwi_publish_for_another_mailbox_needs_the_voicemail_account(kam):
    eps = _eps(kam)
    with _ua(eps, "udp", "1001", eps["users"]["1001"]) as ua:
        status = ua.publish("message-summary", f"sip:1002@{eps['domain']}",
                            b"Messages-Waiting: yes\r\n",
                            "application/simple-message-summary").status
    assert status == 403


# ---- options of the service, restart ------------------------------------------------------

@pytest.mark.lab_services("kamailio", kamailio={"users": {"1001": None},
                                                "digest_algorithm": "SHA-256"})
def test_sha256_digest(lab):
    eps = lab.services["kamailio"].endpoints
    assert eps["digest_algorithm"] == "SHA-256"
    for transport in ("udp", "wss"):
        with _ua(eps, transport, "1001", eps["users"]["1001"]) as ua:
            assert ua.register().status == 200
            challenge = ua.responses[0].header("www-authenticate")
            assert "algorithm=SHA-256" in challenge, challenge


@pytest.mark.lab_services("kamailio", "sipp", kamailio={"users": ["1001", "1002"]})
def test_restart_keeps_ports_and_users(lab):
    kamailio = lab.services["kamailio"]
    eps = dict(kamailio.endpoints)
    old_pids = set(kamailio.process.pids())
    with _ua(eps, "udp", "1001", eps["users"]["1001"]) as ua:
        assert ua.register().status == 200

    kamailio.restart()

    assert not any(_alive(pid) for pid in old_pids), "old Kamailio processes survived"
    assert kamailio.endpoints["ports"] == eps["ports"]
    assert kamailio.endpoints["users"] == eps["users"]
    # Registrations were in memory: the binding is gone, the user can register again.
    with _ua(eps, "udp", "1001", eps["users"]["1001"]) as ua:
        assert ua.bindings() == []
    result = lab.services["sipp"].run("register.xml", target=eps["udp"], transport="udp",
                                      users={"1001": eps["users"]["1001"]},
                                      domain=eps["domain"])
    assert result.ok, result.explain()
    with _ua(eps, "wss", "1002", eps["users"]["1002"]) as ua:
        assert ua.register().status == 200

    kamailio.kill()
    with pytest.raises((SipError, OSError)):
        options_status("udp", "127.0.0.1", eps["ports"]["sip"], timeout=0.5)
    kamailio.revive()
    assert options_status("tls", "127.0.0.1", eps["ports"]["tls"], ca_cert=eps["ca_cert"]) == 200


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False
