//! The UDP socket the stack reads from, with the screening in front: every datagram is
//! classified first ([`crate::screen_datagram`]); refused requests are answered here and
//! never reach the stack, dropped ones vanish, the rest go on unchanged.
//!
//! rsipstack takes any socket through its `platform::net::UdpSocket` seam, so this needs no
//! fork: its own UDP loop (which drops unparseable datagrams without a word) only ever sees
//! what passed.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use rsipstack::transport::udp::UdpConnection;
use tokio_util::sync::CancellationToken;

use crate::DatagramVerdict;
use crate::screening::{build_reply, inspect};

/// Binds `local` and wraps it for the stack.
pub(crate) async fn bind(
    local: SocketAddr,
    cancel: CancellationToken,
) -> rsipstack::Result<UdpConnection> {
    let socket = tokio::net::UdpSocket::bind(local).await?;
    let screened = ScreenedUdpSocket {
        socket,
        tags: RandomState::new(),
    };
    UdpConnection::from_socket(Arc::new(screened), None, Some(cancel)).await
}

/// A tokio UDP socket whose receive side screens every datagram.
struct ScreenedUdpSocket {
    socket: tokio::net::UdpSocket,
    /// Keyed per process, so the To tags of our rejections cannot be predicted.
    tags: RandomState,
}

type BoxedFuture<'a, T> = Pin<Box<dyn Future<Output = rsipstack::Result<T>> + Send + 'a>>;

impl ScreenedUdpSocket {
    /// Receives until a datagram passes the screening; answers or drops the others.
    async fn recv_screened(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        loop {
            let (len, source) = self.socket.recv_from(buf).await?;
            let datagram = buf.get(..len).unwrap_or_default();
            let inspection = inspect(datagram);
            match inspection.verdict {
                DatagramVerdict::Accept => {
                    let Some(normalized) = inspection.normalized else {
                        return Ok((len, source));
                    };
                    match buf.get_mut(..normalized.len()) {
                        Some(head) => head.copy_from_slice(&normalized),
                        None => return Ok((len, source)),
                    }
                    return Ok((normalized.len(), source));
                }
                DatagramVerdict::Reject { status, detail } => {
                    tracing::debug!(%source, status, detail, "refused a malformed SIP request");
                    if let Some(message) = &inspection.message {
                        let tag = self.tags.hash_one(datagram);
                        let reply = build_reply(message, status, detail, tag);
                        // To the packet's source, as RFC 3581 would: the Via may be the
                        // very thing that is broken. A lost reply is the sender's retry.
                        if let Err(e) = self.socket.send_to(&reply, source).await {
                            tracing::debug!(error = %e, "could not send a rejection");
                        }
                    }
                }
                DatagramVerdict::Discard { detail } => {
                    tracing::debug!(%source, detail, "dropped a malformed SIP message");
                }
            }
        }
    }
}

// The trait is declared with `#[async_trait]`; this is the signature that macro expands to,
// written out so the crate needs no extra dependency.
impl rsipstack::platform::net::UdpSocket for ScreenedUdpSocket {
    fn recv_from<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 mut [u8],
    ) -> BoxedFuture<'async_trait, (usize, SocketAddr)>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.recv_screened(buf))
    }

    fn send_to<'life0, 'life1, 'async_trait>(
        &'life0 self,
        buf: &'life1 [u8],
        addr: SocketAddr,
    ) -> BoxedFuture<'async_trait, usize>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(self.socket.send_to(buf, addr).await?) })
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}
