//! Asks the registrar, over UDP, to deliver an OPTIONS to a user: 404 means it holds no
//! contact for the user; a 200 comes from our own client over its registered flow.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// The final status the registrar (or the registered client) answered, if any.
pub fn options_status(registrar_udp: SocketAddr, user: &str, domain: &str) -> Option<u16> {
    let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
    let local = socket.local_addr().ok()?;
    let tag = Instant::now().elapsed().as_nanos() ^ u128::from(local.port());
    // From a foreign domain so the lab does not challenge the probe (it only relays it).
    let request = format!(
        "OPTIONS sip:{user}@{domain} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-probe-{tag};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@example.invalid>;tag=p{tag}\r\n\
         To: <sip:{user}@{domain}>\r\n\
         Call-ID: probe-{tag}@127.0.0.1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    );
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut buf = vec![0u8; 65536];
    let mut sent_at = None::<Instant>;
    while Instant::now() < deadline {
        // Retransmit every second (it is UDP).
        if sent_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            socket.send_to(request.as_bytes(), registrar_udp).ok()?;
            sent_at = Some(Instant::now());
        }
        let Ok((n, _)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buf[..n]);
        let status: u16 = text.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()?;
        if status >= 200 {
            return Some(status);
        }
    }
    None
}
