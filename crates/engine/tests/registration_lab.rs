//! Registration against the lab's real Kamailio, over every transport.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::probe::options_status;
use common::relay::CountingRelay;
use common::{Kamailio, TestEngine};
use sidetone_sip::{OutboundProxy, Password, RegistrationState, SipError, Transport};

/// Register over `transport`, prove the registrar can reach us over that flow, shut the
/// engine down, and prove the binding is gone.
fn register_reach_and_unregister(transport: Transport) {
    let kamailio = Kamailio::start();
    let udp: SocketAddr = kamailio.endpoint(Transport::Udp).parse().unwrap();
    let (user, _) = kamailio.user();
    let domain = kamailio.domain();
    assert_eq!(
        options_status(udp, &user, &domain),
        Some(404),
        "no binding before we register"
    );

    let mut engine = TestEngine::start();
    engine.handle.register(kamailio.account(transport)).unwrap();
    engine.wait_registered();
    // Kamailio relays the OPTIONS over the connection we registered on; our endpoint says
    // 200. This fails if our Contact or flow is wrong, not just if REGISTER failed.
    assert_eq!(
        options_status(udp, &user, &domain),
        Some(200),
        "registrar reaches us over {transport}"
    );

    engine.handle.shutdown().unwrap();
    assert_eq!(
        options_status(udp, &user, &domain),
        Some(404),
        "shutdown removed the binding"
    );
}

#[test]
fn registers_over_udp_and_unregisters_on_shutdown() {
    register_reach_and_unregister(Transport::Udp);
}

#[test]
fn registers_over_tcp_and_unregisters_on_shutdown() {
    register_reach_and_unregister(Transport::Tcp);
}

#[test]
fn registers_over_tls_trusting_the_account_ca_and_unregisters_on_shutdown() {
    register_reach_and_unregister(Transport::Tls);
}

#[test]
fn registers_over_ws_and_unregisters_on_shutdown() {
    register_reach_and_unregister(Transport::Ws);
}

#[test]
fn registers_over_wss_trusting_the_account_ca_and_unregisters_on_shutdown() {
    register_reach_and_unregister(Transport::Wss);
}

#[test]
fn wrong_password_stops_after_the_rejected_register_and_waits_for_the_user() {
    let kamailio = Kamailio::start();
    let udp: SocketAddr = kamailio.endpoint(Transport::Udp).parse().unwrap();
    let relay = CountingRelay::start(udp);
    let mut account = kamailio.account(Transport::Udp);
    account.password = Some(Password::new("not-the-password"));
    account.outbound_proxy = Some(OutboundProxy::parse(&relay.addr.to_string()).unwrap());
    let id = account.id.clone();

    let mut engine = TestEngine::start();
    engine.handle.register(account).unwrap();
    let reason = engine.wait_for(
        |s| {
            matches!(
                s,
                RegistrationState::Failed | RegistrationState::Registered { .. }
            )
        },
        Duration::from_secs(20),
    );
    assert_eq!(reason, Some(SipError::WrongPassword));
    // Longer than the first backoff window (5 s): a retry would have gone out by now.
    std::thread::sleep(Duration::from_secs(6));
    let registers = relay.registers();
    eprintln!("REGISTERs sent with a wrong password: {registers}");
    // The unauthenticated REGISTER (challenged) and the answer the server rejected; the
    // rule allows at most one more beyond the rejected one.
    assert!(
        (2..=3).contains(&registers),
        "{registers} REGISTERs went out"
    );

    // The user types the right password: registered at once.
    let (_, password) = kamailio.user();
    engine
        .handle
        .set_password(&id, Some(Password::new(password)))
        .unwrap();
    engine.wait_registered();
    engine.handle.shutdown().unwrap();
}

#[test]
fn tls_without_the_lab_ca_is_untrusted() {
    for transport in [Transport::Tls, Transport::Wss] {
        let kamailio = Kamailio::start();
        let mut account = kamailio.account(transport);
        account.ca_file = None; // only the OS roots, which do not know the lab CA
        let mut engine = TestEngine::start();
        engine.handle.register(account).unwrap();
        let reason = engine.wait_for(
            |s| {
                matches!(
                    s,
                    RegistrationState::Failed | RegistrationState::Registered { .. }
                )
            },
            Duration::from_secs(20),
        );
        let code = reason.as_ref().map(SipError::code);
        assert_eq!(code, Some("sip.tls_untrusted"), "{transport}: {reason:?}");
        engine.handle.shutdown().unwrap();
    }
}

#[test]
fn a_closed_connection_is_replaced_and_registered_again_at_once() {
    let kamailio = Kamailio::start();
    let udp: SocketAddr = kamailio.endpoint(Transport::Udp).parse().unwrap();
    let tcp: SocketAddr = kamailio.endpoint(Transport::Tcp).parse().unwrap();
    let (user, _) = kamailio.user();
    let domain = kamailio.domain();
    let relay = common::tcp_relay::TcpRelay::start(tcp);
    let mut account = kamailio.account(Transport::Tcp);
    account.outbound_proxy = Some(OutboundProxy::parse(&relay.addr.to_string()).unwrap());

    let mut engine = TestEngine::start();
    engine.handle.register(account).unwrap();
    engine.wait_registered();
    assert_eq!(options_status(udp, &user, &domain), Some(200));

    // The connection dies (server restart, NAT timeout): the binding is now unreachable
    // until we register over a new connection — at once, not at the next refresh (~88 s).
    relay.cut();
    engine.wait_for(
        |s| matches!(s, RegistrationState::Registering),
        Duration::from_secs(5),
    );
    engine.wait_registered();
    assert_eq!(
        options_status(udp, &user, &domain),
        Some(200),
        "reachable over the new connection"
    );
    engine.handle.shutdown().unwrap();
}
