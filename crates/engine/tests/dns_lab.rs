//! Locating the SIP server by DNS (RFC 3263) against real peers: the lab's dnsmasq serves
//! NAPTR, SRV and A records pointing at the lab's Kamailio, whose ports are random (no
//! default port is open), so a registration only succeeds where DNS sent it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use common::probe::options_status;
use serde_json::Value;
use sidetone_engine::{Engine, EngineConfig, EngineHandle};
use sidetone_lab_client::Lab;
use sidetone_sip::{AccountConfig, NameServer, Password, SipUri, Transport};

/// The SIP domain of the lab's users: Kamailio's alias and the name its certificate has.
const DOMAIN: &str = "sip.lab.test";
/// How long one candidate may take during a sign-in.
const PER_ATTEMPT: Duration = Duration::from_secs(8);

/// Kamailio for `sip.lab.test` and dnsmasq publishing its records (tests/lab dns.py).
struct DnsLab {
    _lab: Lab,
    kamailio: Value,
    dns: SocketAddr,
    engine: EngineHandle,
}

impl DnsLab {
    fn start() -> Self {
        let lab = Lab::start_with(&["kamailio", "dns"], &[("kamailio.domain", DOMAIN)])
            .unwrap_or_else(|e| panic!("lab: {e}"));
        let kamailio = lab.service("kamailio").clone();
        let dns = lab.service("dns")["server"]
            .as_str()
            .unwrap_or_else(|| panic!("no dns endpoints: {}", lab.endpoints()))
            .parse()
            .unwrap();
        // The lab's ports are random: a default port that answers would let a wrong
        // location pass, so make sure none does.
        for port in [5060, 5061] {
            assert!(
                TcpStream::connect(("127.0.0.1", port)).is_err(),
                "something listens on 127.0.0.1:{port}: this test cannot tell ports apart"
            );
        }
        let engine = Engine::start(EngineConfig {
            name_server: Some(NameServer::At(dns)),
            shutdown_grace: Duration::from_secs(2),
            ..EngineConfig::default()
        })
        .unwrap();
        Self {
            _lab: lab,
            kamailio,
            dns,
            engine,
        }
    }

    fn user(&self) -> (String, Password) {
        let password = self.kamailio["users"]["1001"].as_str().unwrap();
        ("1001".into(), Password::new(password))
    }

    fn ca_cert(&self) -> PathBuf {
        PathBuf::from(self.kamailio["ca_cert"].as_str().unwrap())
    }

    fn port(&self, name: &str) -> u16 {
        u16::try_from(self.kamailio["ports"][name].as_u64().unwrap()).unwrap()
    }

    /// The manual login's candidates for `server` and `login_id`, trusting the lab CA.
    fn candidates(&self, server: &str, login_id: &str) -> Vec<AccountConfig> {
        let (_, password) = self.user();
        let mut candidates = self
            .engine
            .manual_candidates(server, login_id, password)
            .unwrap();
        for candidate in &mut candidates {
            candidate.ca_file = Some(self.ca_cert());
        }
        candidates
    }

    /// Does Kamailio reach 1001 (a binding exists and its flow works)?
    fn reaches_user(&self) -> Option<u16> {
        let udp = SocketAddr::from(([127, 0, 0, 1], self.port("sip")));
        options_status(udp, "1001", DOMAIN)
    }
}

impl Drop for DnsLab {
    fn drop(&mut self) {
        let _ = self.engine.shutdown();
    }
}

fn plan(candidates: &[AccountConfig]) -> Vec<(Transport, String, Option<u16>)> {
    candidates
        .iter()
        .map(|c| {
            let proxy = c.outbound_proxy.as_ref().unwrap();
            (c.transport, proxy.host.clone(), proxy.port)
        })
        .collect()
}

#[test]
fn naptr_preferring_tls_registers_over_tls_at_the_srv_port() {
    let lab = DnsLab::start();
    let candidates = lab.candidates(DOMAIN, "1001");
    // NAPTR lists SIPS+D2T, SIP+D2T, SIP+D2U; each candidate leaves the port to SRV.
    assert_eq!(
        plan(&candidates),
        [
            (Transport::Tls, DOMAIN.into(), None),
            (Transport::Tcp, DOMAIN.into(), None),
            (Transport::Udp, DOMAIN.into(), None),
        ]
    );
    assert_eq!(lab.reaches_user(), Some(404), "no binding before");
    let registered = lab
        .engine
        .register_first_working(candidates, PER_ATTEMPT)
        .unwrap();
    // TLS registered at the SRV port (nothing listens on 5061), and the certificate was
    // checked against sip.lab.test: the SRV target pbx.lab.test is not in it.
    assert_eq!(registered.transport, Transport::Tls);
    assert_eq!(
        lab.reaches_user(),
        Some(200),
        "Kamailio reaches us over TLS"
    );
}

#[test]
fn only_a_udp_srv_record_registers_over_udp() {
    let lab = DnsLab::start();
    let candidates = lab.candidates("udp.lab.test", &format!("1001@{DOMAIN}"));
    assert_eq!(
        plan(&candidates),
        [(Transport::Udp, "udp.lab.test".into(), None)]
    );
    let registered = lab
        .engine
        .register_first_working(candidates, PER_ATTEMPT)
        .unwrap();
    assert_eq!(registered.transport, Transport::Udp);
    assert_eq!(registered.aor.to_string(), format!("sip:1001@{DOMAIN}"));
    assert_eq!(lab.reaches_user(), Some(200));
}

#[test]
fn without_records_the_old_order_on_default_ports_is_kept() {
    let lab = DnsLab::start();
    // none.lab.test has an A record but no NAPTR or SRV; nosuch.lab.test does not exist.
    for server in ["none.lab.test", "nosuch.lab.test"] {
        let candidates = lab.candidates(server, &format!("1001@{DOMAIN}"));
        assert_eq!(
            plan(&candidates),
            [
                (Transport::Tls, server.into(), Some(5061)),
                (Transport::Tcp, server.into(), Some(5060)),
                (Transport::Udp, server.into(), Some(5060)),
            ],
            "{server}"
        );
    }
}

#[test]
fn a_certificate_that_does_not_name_the_domain_ends_the_search() {
    let lab = DnsLab::start();
    // stranger.lab.test's SRV records lead to the real Kamailio over TLS and UDP, but its
    // certificate does not name stranger.lab.test: we must stop, not fall back to UDP.
    let candidates = lab.candidates("stranger.lab.test", &format!("1001@{DOMAIN}"));
    assert_eq!(
        plan(&candidates)
            .iter()
            .map(|(t, _, _)| *t)
            .collect::<Vec<_>>(),
        [Transport::Tls, Transport::Udp]
    );
    let error = lab
        .engine
        .register_first_working(candidates, PER_ATTEMPT)
        .unwrap_err();
    assert_eq!(error.code(), "sip.tls_untrusted", "{error}");
    assert_eq!(lab.reaches_user(), Some(404), "nothing registered");
}

#[test]
fn an_account_with_only_a_domain_follows_its_srv_records() {
    let lab = DnsLab::start();
    // As a provisioning document with no proxy and no host: the AOR's domain is located.
    let (user, password) = lab.user();
    let mut account = AccountConfig::new(
        SipUri::parse(&format!("sip:{user}@{DOMAIN}")).unwrap(),
        Some(password),
    );
    account.transport = Transport::Tcp;
    account.ca_file = Some(lab.ca_cert());
    let registered = lab
        .engine
        .register_first_working(vec![account], PER_ATTEMPT)
        .unwrap();
    assert_eq!(registered.transport, Transport::Tcp);
    assert_eq!(lab.reaches_user(), Some(200));
    // The name server really was the lab's.
    assert_eq!(lab.engine.name_server(), NameServer::At(lab.dns));
}
