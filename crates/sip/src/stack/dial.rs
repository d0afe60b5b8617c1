//! Opening the connection for TCP, TLS, WS and WSS ourselves, then handing it to the stack.
//!
//! Why not let rsipstack dial: its TLS client trusts only `TlsConfig::ca_certs` (no OS roots),
//! its WSS client cannot take a CA at all, and both report a bad certificate as an opaque
//! string. Dialing here keeps one trust policy for all secure transports and tells
//! "certificate not trusted" apart from "unreachable".

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rsipstack::transport::tcp::TcpConnection;
use rsipstack::transport::tls::TlsConnection;
use rsipstack::transport::websocket::{WebSocketConnection, WebSocketInner};
use rsipstack::transport::{SipAddr, SipConnection};
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;

use super::tls;
use crate::{SipError, Transport};

/// How long a TCP connect or a TLS/WebSocket handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to connect.
pub(crate) struct DialTarget<'a> {
    pub transport: Transport,
    pub addr: SocketAddr,
    /// The host name for TLS verification and the WebSocket `Host`.
    pub host: &'a str,
    pub ws_path: &'a str,
    pub tls: Option<&'a Arc<rustls::ClientConfig>>,
}

/// The stack's key for a flow: transport plus remote address.
pub(crate) fn sip_addr(transport: Transport, addr: SocketAddr) -> SipAddr {
    let mut sip_addr = SipAddr::from(addr);
    sip_addr.r#type = Some(super::stack_transport(transport));
    sip_addr
}

/// Connects; the returned connection stops when `token` is cancelled (and the stack cancels
/// `token` when the connection dies).
pub(crate) async fn dial(
    target: &DialTarget<'_>,
    token: CancellationToken,
) -> Result<SipConnection, SipError> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target.addr))
        .await
        .map_err(|_| SipError::Unreachable(format!("no answer from {} within 10 s", target.addr)))?
        .map_err(|e| SipError::Unreachable(format!("cannot connect to {}: {e}", target.addr)))?;
    // Small SIP messages should leave at once.
    let _ = tcp.set_nodelay(true);
    let local = tcp
        .local_addr()
        .map_err(|e| SipError::Unreachable(format!("socket has no local address: {e}")))?;
    let remote = sip_addr(target.transport, target.addr);
    let stack_error = |e: rsipstack::Error| SipError::Internal(e.to_string());
    match target.transport {
        Transport::Tcp => {
            let conn =
                TcpConnection::from_stream(tcp, sip_addr(Transport::Tcp, local), Some(token))
                    .map_err(stack_error)?;
            Ok(SipConnection::Tcp(conn))
        }
        Transport::Tls => {
            let stream = tls_handshake(target, tcp).await?;
            let conn = TlsConnection::from_client_stream(stream, remote, Some(token))
                .await
                .map_err(stack_error)?;
            Ok(SipConnection::Tls(conn))
        }
        Transport::Ws => websocket(target, MaybeTlsStream::Plain(tcp), local, remote, token).await,
        Transport::Wss => {
            let stream = tls_handshake(target, tcp).await?;
            websocket(target, MaybeTlsStream::Rustls(stream), local, remote, token).await
        }
        Transport::Udp => Err(SipError::Internal("UDP is not dialed".into())),
    }
}

async fn tls_handshake(
    target: &DialTarget<'_>,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SipError> {
    let config = target
        .tls
        .ok_or_else(|| SipError::Internal("secure transport without TLS config".into()))?;
    let name = tls::server_name(target.host)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(config));
    tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
        .await
        .map_err(|_| SipError::Unreachable("TLS handshake timed out".into()))?
        .map_err(|e| tls::classify_handshake_error(&e))
}

async fn websocket(
    target: &DialTarget<'_>,
    stream: MaybeTlsStream<TcpStream>,
    local: SocketAddr,
    remote: SipAddr,
    token: CancellationToken,
) -> Result<SipConnection, SipError> {
    let scheme = if target.transport == Transport::Wss {
        "wss"
    } else {
        "ws"
    };
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.to_owned()
    };
    let url = format!("{scheme}://{host}:{}{}", target.addr.port(), target.ws_path);
    let mut request = url
        .into_client_request()
        .map_err(|e| SipError::InvalidAccount(format!("bad WebSocket URL: {e}")))?;
    // RFC 7118 §4: the subprotocol is "sip".
    request.headers_mut().insert(
        "sec-websocket-protocol",
        tokio_tungstenite::tungstenite::http::HeaderValue::from_static("sip"),
    );
    let (ws, _response) = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::client_async(request, stream),
    )
    .await
    .map_err(|_| SipError::Unreachable("WebSocket handshake timed out".into()))?
    .map_err(|e| SipError::Unreachable(format!("WebSocket handshake failed: {e}")))?;
    let (sink, read) = futures_util::StreamExt::split(ws);
    let conn = WebSocketConnection {
        inner: Arc::new(WebSocketInner {
            local_addr: sip_addr(target.transport, local),
            remote_addr: remote,
            ws_sink: tokio::sync::Mutex::new(sink),
            ws_read: tokio::sync::Mutex::new(Some(read)),
        }),
        cancel_token: Some(token),
    };
    Ok(SipConnection::WebSocket(conn))
}
