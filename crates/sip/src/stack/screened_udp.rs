//! The UDP socket the stack reads from, with the screening in front: every datagram is
//! classified first ([`crate::screen_datagram`]); refused requests are answered here and
//! never reach the stack, dropped ones vanish, the rest go on unchanged. Before that,
//! datagrams from anyone but the registrar are held to a budget ([`StrangerLimit`]), so a
//! flood is dropped here rather than queued.
//!
//! rsipstack takes any socket through its `platform::net::UdpSocket` seam, so this needs no
//! fork: its own UDP loop (which drops unparseable datagrams without a word) only ever sees
//! what passed.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rsipstack::transport::udp::UdpConnection;
use tokio_util::sync::CancellationToken;

use crate::DatagramVerdict;
use crate::screening::{build_reply, inspect};

use super::call::lock;
use super::stranger_limit::{MAX_STRANGERS, STRANGER_BURST, STRANGER_RATE, StrangerLimit};

/// Binds `local` and wraps it for the stack; `registrar` (or the outbound proxy) is the one
/// peer whose datagrams are never limited.
pub(crate) async fn bind(
    local: SocketAddr,
    registrar: SocketAddr,
    cancel: CancellationToken,
) -> rsipstack::Result<UdpConnection> {
    let socket = tokio::net::UdpSocket::bind(local).await?;
    let screened = ScreenedUdpSocket {
        socket,
        tags: RandomState::new(),
        registrar: registrar.ip(),
        strangers: Mutex::new(StrangerLimit::new(
            STRANGER_RATE,
            STRANGER_BURST,
            MAX_STRANGERS,
        )),
        dropped: AtomicU64::new(0),
    };
    UdpConnection::from_socket(Arc::new(screened), None, Some(cancel)).await
}

/// A tokio UDP socket whose receive side screens every datagram.
struct ScreenedUdpSocket {
    socket: tokio::net::UdpSocket,
    /// Keyed per process, so the To tags of our rejections cannot be predicted.
    tags: RandomState,
    /// Where the calls come from: never limited.
    registrar: IpAddr,
    /// The budget of everyone else.
    strangers: Mutex<StrangerLimit>,
    /// Datagrams dropped over budget, for the log.
    dropped: AtomicU64,
}

type BoxedFuture<'a, T> = Pin<Box<dyn Future<Output = rsipstack::Result<T>> + Send + 'a>>;

impl ScreenedUdpSocket {
    /// Receives until a datagram passes the screening; answers or drops the others.
    async fn recv_screened(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        loop {
            let (len, source) = self.socket.recv_from(buf).await?;
            if source.ip() != self.registrar && !self.stranger_may_send(source) {
                continue;
            }
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

    /// Charges one datagram to `source`'s budget; logs floods sparingly (1st, 2nd, 4th,
    /// 8th … dropped datagram), so the log cannot be flooded instead.
    fn stranger_may_send(&self, source: SocketAddr) -> bool {
        let allowed = lock(&self.strangers).allow(source.ip(), Instant::now());
        if !allowed {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::info!(%source, dropped, "dropping datagrams from a stranger over budget");
            }
        }
        allowed
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
