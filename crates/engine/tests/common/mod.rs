//! Test helpers: the lab's Kamailio, waiting for engine events, and two loopback probes
//! (a REGISTER-counting UDP relay and an OPTIONS sent through the registrar).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod probe;
pub mod relay;
pub mod tcp_relay;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sidetone_engine::{Engine, EngineConfig, EngineEvent, EngineHandle};
use sidetone_lab_client::Lab;
use sidetone_sip::{
    AccountConfig, OutboundProxy, Password, RegistrationState, SipError, SipUri, Transport,
};
use tokio::sync::broadcast;

/// The lab's Kamailio: where it listens and who may register.
pub struct Kamailio {
    /// Keeps the lab running; dropping it stops Kamailio.
    _lab: Option<Lab>,
    pub endpoints: Value,
}

impl Kamailio {
    /// Starts the lab with Kamailio. `SIDETONE_TEST_KAMAILIO` (the service's endpoints JSON)
    /// points the tests at an already running Kamailio instead, for debugging.
    pub fn start() -> Self {
        if let Ok(json) = std::env::var("SIDETONE_TEST_KAMAILIO") {
            return Self {
                _lab: None,
                endpoints: serde_json::from_str(&json).unwrap(),
            };
        }
        let lab = Lab::start(&["kamailio"]).unwrap_or_else(|e| panic!("lab: {e}"));
        let endpoints = lab.service("kamailio").clone();
        assert!(
            endpoints.is_object(),
            "lab gave no kamailio endpoints: {}",
            lab.endpoints()
        );
        Self {
            _lab: Some(lab),
            endpoints,
        }
    }

    /// Runs a lab control action on Kamailio: `kill` (SIGKILL, a crash) or `revive` (same
    /// ports and users; the registrations it held in memory are gone).
    pub fn control(&mut self, action: &str) {
        self._lab
            .as_mut()
            .expect("fault injection needs a lab started by the test")
            .control("kamailio", action)
            .unwrap_or_else(|e| panic!("lab kamailio {action}: {e}"));
    }

    pub fn domain(&self) -> String {
        self.endpoints["domain"]
            .as_str()
            .unwrap_or("127.0.0.1")
            .to_owned()
    }

    /// The address (or URL) of one transport, e.g. `127.0.0.1:5060` or `wss://…`.
    pub fn endpoint(&self, transport: Transport) -> String {
        let value = &self.endpoints[transport.as_str()];
        value
            .as_str()
            .unwrap_or_else(|| panic!("no {transport} endpoint: {}", self.endpoints))
            .to_owned()
    }

    pub fn ca_cert(&self) -> PathBuf {
        PathBuf::from(self.endpoints["ca_cert"].as_str().expect("ca_cert"))
    }

    /// A user and its password from the lab.
    pub fn user(&self) -> (String, String) {
        let users = self.endpoints["users"].as_object().expect("users");
        let (name, password) = users.iter().next().expect("at least one user");
        (
            name.clone(),
            password.as_str().expect("password").to_owned(),
        )
    }

    /// An account for the lab's first user over `transport`, trusting the lab CA.
    pub fn account(&self, transport: Transport) -> AccountConfig {
        let (user, password) = self.user();
        let aor = SipUri::parse(&format!("sip:{user}@{}", self.domain())).unwrap();
        let mut account = AccountConfig::new(aor, Some(Password::new(password)));
        account.transport = transport;
        account.outbound_proxy = Some(OutboundProxy::parse(&self.endpoint(transport)).unwrap());
        account.ca_file = Some(self.ca_cert());
        account.expires = 120;
        account
    }
}

/// An engine plus a subscription taken before anything happened.
pub struct TestEngine {
    pub handle: EngineHandle,
    pub events: broadcast::Receiver<EngineEvent>,
    pub runtime: tokio::runtime::Runtime,
}

impl TestEngine {
    pub fn start() -> Self {
        let handle = Engine::start(EngineConfig::default()).expect("engine");
        let events = handle.subscribe();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self {
            handle,
            events,
            runtime,
        }
    }

    /// Waits for the first registration event whose state matches `want`; panics on
    /// timeout. Returns the event's reason.
    pub fn wait_for(
        &mut self,
        want: impl Fn(&RegistrationState) -> bool,
        within: Duration,
    ) -> Option<SipError> {
        let events = &mut self.events;
        self.runtime.block_on(async {
            tokio::time::timeout(within, async {
                loop {
                    match events.recv().await {
                        Ok(EngineEvent::Registration { state, reason, .. }) if want(&state) => {
                            return reason;
                        }
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => panic!("engine stopped"),
                    }
                }
            })
            .await
            .unwrap_or_else(|_| panic!("no matching registration event within {within:?}"))
        })
    }

    pub fn wait_registered(&mut self) {
        let reason = self.wait_for(
            |s| {
                matches!(
                    s,
                    RegistrationState::Registered { .. }
                        | RegistrationState::Failed
                        | RegistrationState::Retrying { .. }
                )
            },
            Duration::from_secs(40),
        );
        assert_eq!(reason, None, "registration failed");
    }
}
