//! The far end: one UDP socket that sends torture messages and reads what comes back,
//! every wait bounded.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use super::wire;

/// How long a final answer may take on loopback before the case fails.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

/// How long silence must last to count as "no answer".
const SILENCE_FOR: Duration = Duration::from_millis(400);

/// What came back for one message.
#[derive(Debug, Default)]
pub struct Answers {
    /// Status codes in arrival order, provisional ones included.
    pub statuses: Vec<u16>,
    /// The final response's text, to build the ACK from.
    pub last_final: Option<String>,
}

impl Answers {
    /// The final status, if one arrived.
    pub fn final_status(&self) -> Option<u16> {
        self.statuses.iter().copied().find(|s| *s >= 200)
    }
}

/// Sends `bytes` to `to` from `socket`.
pub async fn send(socket: &UdpSocket, to: SocketAddr, bytes: &[u8]) {
    if let Err(e) = socket.send_to(bytes, to).await {
        panic!("cannot send to the endpoint: {e}");
    }
}

/// Collects responses whose key (Call-ID, or CSeq) is `key` until a final one arrives
/// (`want_final`) or for the whole silence window; everything else read is ignored.
pub async fn collect(socket: &UdpSocket, key: &str, want_final: bool) -> Answers {
    let deadline = Instant::now()
        + if want_final {
            ANSWER_WITHIN
        } else {
            SILENCE_FOR
        };
    let mut answers = Answers::default();
    let mut buf = vec![0u8; 65_535];
    while let Ok(Ok((len, _))) = timeout_at(deadline, socket.recv_from(&mut buf)).await {
        let text = String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned();
        if wire::key(&text).as_deref() != Some(key) {
            continue;
        }
        let Some(status) = wire::status(&text) else {
            continue;
        };
        answers.statuses.push(status);
        if status >= 200 {
            answers.last_final = Some(text);
            if want_final {
                break;
            }
        }
    }
    answers
}

/// The ACK for a non-2xx final answer to an INVITE sent to `request_uri` (RFC 3261
/// §17.1.1.3): same Via branch, From, Call-ID, the answer's To, CSeq number with ACK.
pub fn ack_for(request_uri: &str, answer: &str) -> Option<String> {
    let via = wire::header(answer, "Via", Some("v"))?;
    let from = wire::header(answer, "From", Some("f"))?;
    let to = wire::header(answer, "To", Some("t"))?;
    let call_id = wire::header(answer, "Call-ID", Some("i"))?;
    let number = wire::header(answer, "CSeq", None)?
        .split_whitespace()
        .next()?;
    Some(format!(
        "ACK {request_uri} SIP/2.0\r\nVia: {via}\r\nFrom: {from}\r\nTo: {to}\r\n\
         Call-ID: {call_id}\r\nCSeq: {number} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ))
}
