//! The IO side of signalling, over rsipstack. Everything rsipstack stays in this module.

mod admission;
pub(crate) mod call;
mod classify;
mod dial;
mod mwi;
mod screened_udp;
mod stranger_limit;
mod tls;
mod transfer;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::transaction::Endpoint;
use rsipstack::transport::TransportLayer;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use call::{Call, CallAgent};
pub use mwi::MwiAgent;
pub use tls::install_crypto_provider;

use crate::mwi::MwiNotification;
use crate::{
    AccountConfig, NameServer, Password, RegisterOutcome, RegisterRequest, SipError, Transport,
};

/// Longer than two non-INVITE transactions (challenge + answer, 32 s each at worst), so a
/// stack that never reports back cannot hang a registration forever.
const EXCHANGE_DEADLINE: Duration = Duration::from_secs(70);

/// One account's signalling flow: its own SIP endpoint (transport, transactions) and its
/// REGISTER dialog state (Call-ID, CSeq, Contact). Performs one exchange at a time for a
/// [`crate::Registration`], which decides what to send and when.
pub struct AccountFlow {
    endpoint: Endpoint,
    cancel: CancellationToken,
    registration: rsipstack::dialog::registration::Registration,
    request_uri: rsipstack::sip::Uri,
    transport: Transport,
    remote: SocketAddr,
    /// The name the TLS certificate must carry and the WebSocket Host.
    host: String,
    ws_path: String,
    user: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Our stream connection's token; the stack cancels it when the connection dies.
    flow: Option<CancellationToken>,
    /// Shared with the call agent: the password to answer INVITE challenges with.
    credential: Arc<Mutex<Credential>>,
    /// Shared with the call agent and router: our Contact for dialogs.
    contact: Arc<Mutex<Option<rsipstack::sip::Uri>>>,
    agent: CallAgent,
    incoming: Option<mpsc::UnboundedReceiver<Call>>,
    mwi: MwiAgent,
    notifications: Option<mpsc::UnboundedReceiver<MwiNotification>>,
}

impl std::fmt::Debug for AccountFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountFlow")
            .field("transport", &self.transport)
            .field("remote", &self.remote)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl AccountFlow {
    /// Prepares the account's endpoint: locates the registrar (or proxy) as RFC 3263 says,
    /// asking `name_server` (SRV when no port is named, then A/AAAA), loads the trust roots
    /// for TLS, binds UDP. Stream transports connect on the first REGISTER.
    /// Must run inside a tokio runtime.
    pub async fn open(config: &AccountConfig, name_server: NameServer) -> Result<Self, SipError> {
        let transport = config.transport;
        let (host, port, ws_path) = match &config.outbound_proxy {
            Some(proxy) => (proxy.host.clone(), proxy.port, proxy.path.clone()),
            None => (config.aor.host.clone(), config.aor.port, None),
        };
        // `host` stays the name TLS verifies, whichever SRV target the packets go to.
        let remote = crate::locate::resolve_address(&host, port, transport, name_server).await?;
        let tls = if transport.is_secure() {
            Some(tls::client_config(config.ca_file.as_deref())?)
        } else {
            None
        };

        let cancel = CancellationToken::new();
        let transport_layer = TransportLayer::new(cancel.child_token());
        // A registered client must keep its flow open for incoming requests; rsipstack
        // otherwise closes stream connections idle for 300 s (0 = never).
        transport_layer.set_stream_idle_timeout(Duration::ZERO);
        let local_ip = local_ip_towards(remote);
        let contact = Arc::new(Mutex::new(None));
        if transport == Transport::Udp {
            let local = SocketAddr::new(local_ip, 0);
            // Screened: malformed requests get their 400 here (see crate::screening).
            let udp = screened_udp::bind(local, remote, cancel.child_token())
                .await
                .map_err(|e| SipError::Unreachable(format!("cannot bind UDP: {e}")))?;
            let contact_text = format!("sip:{}@{}", config.aor.user, udp.get_addr().addr);
            *call::lock(&contact) = rsipstack::sip::Uri::try_from(contact_text.as_str()).ok();
            transport_layer.add_transport(udp.into());
        }
        let endpoint = rsipstack::EndpointBuilder::new()
            .with_user_agent(&config.user_agent)
            .with_transport_layer(transport_layer)
            .with_cancel_token(cancel.clone())
            .build();
        let dialog_layer = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let (incoming_tx, incoming) = mpsc::unbounded_channel();
        let (notifications_tx, notifications) = mpsc::unbounded_channel();
        let mwi_dialog = mwi::SharedDialog::default();
        spawn_endpoint(
            &endpoint,
            call::RequestRouter {
                dialog_layer: dialog_layer.clone(),
                incoming: incoming_tx,
                contact: contact.clone(),
                registrar: remote,
                mwi: mwi::MwiInbox {
                    dialog: mwi_dialog.clone(),
                    reports: notifications_tx,
                    registrar: remote,
                },
            },
        );

        let credential = Credential {
            username: config.aor.user.clone(),
            password: config
                .password
                .as_ref()
                .map(Password::expose)
                .unwrap_or_default()
                .to_owned(),
            realm: None,
            auth_username: config.auth_username.clone(),
        };
        let shared_credential = Arc::new(Mutex::new(credential.clone()));
        let agent = CallAgent::new(call::AgentInner {
            dialog_layer,
            aor: config.aor.clone(),
            credential: shared_credential.clone(),
            destination: dial::sip_addr(transport, remote),
            contact: contact.clone(),
            local_ip,
        });
        let mwi = MwiAgent::new(mwi::AgentInner {
            endpoint: endpoint.inner.clone(),
            aor: config.aor.clone(),
            credential: shared_credential.clone(),
            destination: dial::sip_addr(transport, remote),
            contact: contact.clone(),
            dialog: mwi_dialog,
        });
        let mut registration = rsipstack::dialog::registration::Registration::new(
            endpoint.inner.clone(),
            Some(credential),
        );
        // Always send to the resolved address: the AOR's domain stays in the headers, and we
        // chose (and for streams, dialed) where the packets go.
        registration.outbound_proxy = Some(remote);

        let uri_text = match transport {
            Transport::Udp => format!("sip:{}", config.aor.host_port()),
            other => format!("sip:{};transport={other}", config.aor.host_port()),
        };
        let request_uri = rsipstack::sip::Uri::try_from(uri_text.as_str())
            .map_err(|e| SipError::InvalidAccount(format!("bad registrar URI {uri_text}: {e}")))?;

        Ok(Self {
            endpoint,
            cancel,
            registration,
            request_uri,
            transport,
            remote,
            host,
            ws_path: ws_path.unwrap_or_else(|| "/".to_owned()),
            user: config.aor.user.clone(),
            tls,
            flow: None,
            credential: shared_credential,
            contact,
            agent,
            incoming: Some(incoming),
            mwi,
            notifications: Some(notifications),
        })
    }

    /// The handle that places calls for this account (clone it freely).
    pub fn call_agent(&self) -> CallAgent {
        self.agent.clone()
    }

    /// Incoming calls, once: each arrives ringing-to-be (call [`Call::ring`]).
    pub fn take_incoming_calls(&mut self) -> Option<mpsc::UnboundedReceiver<Call>> {
        self.incoming.take()
    }

    /// The handle that sends this account's MWI SUBSCRIBEs (clone it freely).
    pub fn mwi_agent(&self) -> MwiAgent {
        self.mwi.clone()
    }

    /// The message-summary NOTIFYs we answered 200 (of our subscription, or unsolicited from
    /// the registrar), once.
    pub fn take_mwi_notifications(&mut self) -> Option<mpsc::UnboundedReceiver<MwiNotification>> {
        self.notifications.take()
    }

    /// Replaces the password used to answer challenges (the user typed a new one).
    pub fn set_password(&mut self, password: Option<Password>) {
        call::lock(&self.credential).password = password
            .as_ref()
            .map(Password::expose)
            .unwrap_or_default()
            .to_owned();
        if let Some(credential) = self.registration.credential.as_mut() {
            credential.password = password
                .as_ref()
                .map(Password::expose)
                .unwrap_or_default()
                .to_owned();
        }
    }

    /// Performs one REGISTER exchange (answering one digest challenge) and says how it ended.
    pub async fn register(&mut self, request: RegisterRequest) -> RegisterOutcome {
        if let Err(error) = self.ensure_connected().await {
            return RegisterOutcome::Failed {
                error,
                retry_after: None,
            };
        }
        let exchange = self
            .registration
            .register(self.request_uri.clone(), Some(request.expires));
        match tokio::time::timeout(EXCHANGE_DEADLINE, exchange).await {
            Err(_) => RegisterOutcome::Failed {
                error: SipError::Timeout,
                retry_after: None,
            },
            Ok(Err(e)) => RegisterOutcome::Failed {
                error: classify::error(&e),
                retry_after: None,
            },
            Ok(Ok(resp)) => {
                classify::response(&resp, self.registration.expires(), request.is_unregister())
            }
        }
    }

    /// Resolves when the connection the last REGISTER went over (TCP, TLS, WS, WSS) closes;
    /// never for UDP or before a connection exists. Call [`AccountFlow::forget_connection`]
    /// after it fires, or it fires again at once.
    pub fn connection_closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let token = self.flow.clone();
        async move {
            match token {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        }
    }

    /// Drops our handle on a closed connection; the next REGISTER dials a new one.
    pub fn forget_connection(&mut self) {
        self.flow = None;
    }

    /// Stops the endpoint and closes its sockets.
    pub fn close(&self) {
        self.cancel.cancel();
        self.endpoint.shutdown();
    }

    /// For stream transports: (re)connect when there is no live connection.
    async fn ensure_connected(&mut self) -> Result<(), SipError> {
        if self.transport == Transport::Udp || self.flow.as_ref().is_some_and(|t| !t.is_cancelled())
        {
            return Ok(());
        }
        let token = self.cancel.child_token();
        let target = dial::DialTarget {
            transport: self.transport,
            addr: self.remote,
            host: &self.host,
            ws_path: &self.ws_path,
            tls: self.tls.as_ref(),
        };
        let connection = dial::dial(&target, token.clone()).await?;
        // The Contact must say how to reach us: over this very connection (RFC 3261 §10.2.1;
        // RFC 5626/7118 clients rely on the registrar's alias or Path for the rest).
        let local = connection.get_addr().clone();
        let contact_text = format!(
            "<sip:{}@{};transport={}>",
            self.user, local.addr, self.transport
        );
        let contact = rsipstack::sip::typed::Contact::parse(&contact_text)
            .map_err(|e| SipError::Internal(format!("bad Contact {contact_text}: {e}")))?;
        *call::lock(&self.contact) = Some(contact.uri.clone());
        self.registration.contact = Some(contact);
        self.endpoint
            .inner
            .transport_layer
            .add_connection(connection);
        self.flow = Some(token);
        Ok(())
    }
}

impl Drop for AccountFlow {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Runs the endpoint's transaction and timer loop, and routes requests sent to us: new
/// INVITEs become incoming calls, in-dialog requests go to their dialog, NOTIFYs of other
/// dialogs to MWI, OPTIONS (keep-alive probes from registrars) gets 200, methods we do not
/// serve 405 (see `call::RequestRouter`).
fn spawn_endpoint(endpoint: &Endpoint, router: call::RequestRouter) {
    let inner = endpoint.inner.clone();
    tokio::spawn(async move {
        if let Err(e) = inner.serve().await {
            tracing::warn!(error = %e, "SIP endpoint stopped");
        }
    });
    if let Ok(mut incoming) = endpoint.incoming_transactions() {
        tokio::spawn(async move {
            while let Some(tx) = incoming.recv().await {
                router.route(tx).await;
            }
        });
    }
}

/// rsipstack's name for a transport.
fn stack_transport(transport: Transport) -> rsipstack::sip::Transport {
    match transport {
        Transport::Udp => rsipstack::sip::Transport::Udp,
        Transport::Tcp => rsipstack::sip::Transport::Tcp,
        Transport::Tls => rsipstack::sip::Transport::Tls,
        Transport::Ws => rsipstack::sip::Transport::Ws,
        Transport::Wss => rsipstack::sip::Transport::Wss,
    }
}

/// The local address the OS would use to reach `remote` (no packet is sent), so Via and
/// Contact name a real interface rather than 0.0.0.0.
fn local_ip_towards(remote: SocketAddr) -> IpAddr {
    let unspecified: IpAddr = if remote.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    std::net::UdpSocket::bind(SocketAddr::new(unspecified, 0))
        .and_then(|socket| {
            socket.connect(remote)?;
            socket.local_addr()
        })
        .map(|addr| addr.ip())
        .unwrap_or(unspecified)
}
