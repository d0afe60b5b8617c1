//! The engine's command and event plumbing, without a server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::TestEngine;
use sidetone_engine::{EngineError, EngineEvent};
use sidetone_sip::{
    AccountConfig, OutboundProxy, Password, RegistrationState, SipError, SipUri, Transport,
};
use tokio::sync::broadcast;

fn account_to_closed_tcp_port() -> AccountConfig {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let aor = SipUri::parse("sip:1001@127.0.0.1").unwrap();
    let mut account = AccountConfig::new(aor, Some(Password::new("pw")));
    account.transport = Transport::Tcp;
    account.outbound_proxy = Some(OutboundProxy::parse(&format!("127.0.0.1:{port}")).unwrap());
    account
}

#[test]
fn unreachable_registrar_is_retried_and_unregister_removes_the_account() {
    let mut engine = TestEngine::start();
    let id = engine
        .handle
        .register(account_to_closed_tcp_port())
        .unwrap();
    let reason = engine.wait_for(
        |s| matches!(s, RegistrationState::Retrying { attempt: 1, .. }),
        Duration::from_secs(10),
    );
    assert_eq!(reason.as_ref().map(SipError::code), Some("sip.unreachable"));

    engine.handle.unregister(&id).unwrap();
    // Nothing was bound, so no Expires: 0 goes out: the account just goes.
    let events = &mut engine.events;
    let removed = engine.runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match events.recv().await {
                    Ok(EngineEvent::AccountRemoved { account_id }) => return account_id,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => panic!("engine stopped"),
                }
            }
        })
        .await
    });
    assert_eq!(removed.ok(), Some(id));
    engine.handle.shutdown().unwrap();
}

#[test]
fn a_bad_ca_file_fails_the_account_not_the_engine() {
    let mut engine = TestEngine::start();
    let mut account = account_to_closed_tcp_port();
    account.transport = Transport::Tls;
    account.ca_file = Some("/nonexistent/ca.pem".into());
    engine.handle.register(account).unwrap();
    let reason = engine.wait_for(
        |s| matches!(s, RegistrationState::Failed),
        Duration::from_secs(5),
    );
    assert_eq!(
        reason.as_ref().map(SipError::code),
        Some("sip.invalid_account")
    );
    engine.handle.shutdown().unwrap();
}

#[test]
fn commands_after_shutdown_say_stopped() {
    let engine = TestEngine::start();
    engine.handle.shutdown().unwrap();
    let again = engine.handle.shutdown();
    assert!(matches!(again, Err(EngineError::Stopped)));
    let register = engine.handle.register(account_to_closed_tcp_port());
    assert_eq!(register.err().map(|e| e.code()), Some("engine.stopped"));
}
