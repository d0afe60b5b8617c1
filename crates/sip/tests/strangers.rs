//! Strangers: SIP scanners send INVITEs straight to the port a registration opened. A
//! Sidetone endpoint registered over UDP to a registrar (played by the test on 127.0.0.1)
//! must ring only for INVITEs that came from that registrar, whatever a stranger writes in
//! its Via (ghost calls), and a stranger's flood must be dropped without keeping the
//! registrar's calls from ringing.

// Test code, helpers included: a failed setup step must stop the test loudly.
#![allow(clippy::panic)]

// Shared with rfc4475.rs; this test uses only part of it.
#[allow(dead_code)]
mod rfc4475_support;

use std::net::SocketAddr;
use std::time::Duration;

use rfc4475_support::{endpoint, peer, wire};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

/// An INVITE with a G.711 offer from `from` (as its Via sent-by) to the endpoint at `to`;
/// `via_params` are appended to the top Via after the branch.
fn invite(from: SocketAddr, to: SocketAddr, via_params: &str, call_id: &str) -> String {
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        ip = from.ip()
    );
    format!(
        "INVITE sip:torture@{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {from};branch=z9hG4bK-{call_id}{via_params}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:100@{from}>;tag=scan\r\nTo: <sip:torture@{to}>\r\n\
         Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:100@{from}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

/// Sends the INVITE from `socket` and returns the final status it got.
async fn final_status(socket: &UdpSocket, to: SocketAddr, via_params: &str, id: &str) -> u16 {
    let from = socket.local_addr().unwrap_or_else(|e| panic!("{e}"));
    peer::send(socket, to, invite(from, to, via_params, id).as_bytes()).await;
    let answers = peer::collect(socket, id, true).await;
    answers
        .final_status()
        .unwrap_or_else(|| panic!("{id}: no final answer, got {:?}", answers.statuses))
}

async fn bind(addr: &str) -> UdpSocket {
    UdpSocket::bind(addr)
        .await
        .unwrap_or_else(|e| panic!("bind {addr}: {e}"))
}

#[tokio::test]
async fn invites_that_bypass_the_registrar_never_ring() {
    let mut endpoint = endpoint::start().await;
    let registrar = endpoint
        .registrar
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"));

    // A scanner elsewhere on the network, saying nothing about itself.
    let stranger = bind("127.0.0.1:0").await;
    let status = final_status(&stranger, endpoint.addr, "", "plain-scan").await;
    assert_eq!(status, 403, "a plain scanner's INVITE");

    // A scanner that claims, in its own top Via, that the registrar's address is where the
    // packet came from. It sends from another address (127.0.0.2) but from the registrar's
    // port, so its sent-by matches its real source and the stack would keep the claim.
    let spoofer = bind(&format!("127.0.0.2:{}", registrar.port())).await;
    let claim = format!(";received={}", registrar.ip());
    let status = final_status(&spoofer, endpoint.addr, &claim, "received-spoof").await;
    assert_eq!(status, 403, "an INVITE claiming received=<registrar>");
    let claim = format!(";rport={};received={}", registrar.port(), registrar.ip());
    let status = final_status(&spoofer, endpoint.addr, &claim, "rport-spoof").await;
    assert_eq!(status, 403, "an INVITE claiming rport and received");

    // The same INVITE relayed by the registrar rings (our test user declines it: 486), so
    // the refusals above were about where the INVITEs came from.
    let status = final_status(&endpoint.registrar, endpoint.addr, "", "via-registrar").await;
    assert_eq!(status, 486, "the registrar's INVITE rings");
    let mut rang = Vec::new();
    while let Ok(call_id) = endpoint.calls.try_recv() {
        rang.push(call_id);
    }
    assert_eq!(rang, ["via-registrar"], "only the registrar's INVITE rang");
}

#[tokio::test]
async fn a_strangers_flood_is_dropped_and_the_registrar_still_rings() {
    const FLOOD: usize = 3_000;
    let mut endpoint = endpoint::start().await;
    let flooder = bind("127.0.0.2:0").await;
    let from = flooder.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    for i in 0..FLOOD {
        let request = invite(from, endpoint.addr, "", &format!("flood-{i}"));
        peer::send(&flooder, endpoint.addr, request.as_bytes()).await;
    }
    // The flood is answered only within the stranger's budget (a burst of 20, then 10 a
    // second): counted for a second and a half after the flood began.
    let mut answered = 0;
    let mut buf = vec![0u8; 65_535];
    let deadline = started + Duration::from_millis(1_500);
    while let Ok(Ok((len, _))) = timeout_at(deadline, flooder.recv_from(&mut buf)).await {
        let text = String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned();
        if wire::status(&text).is_some_and(|status| status >= 200) {
            answered += 1;
        }
    }
    assert!(
        (1..=40).contains(&answered),
        "{answered} of {FLOOD} flood INVITEs were answered (a stranger is limited, not banned)"
    );

    let asked = Instant::now();
    let status = final_status(&endpoint.registrar, endpoint.addr, "", "after-flood").await;
    assert_eq!(status, 486, "the registrar's INVITE rings");
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "the registrar's INVITE took {:?} after a flood",
        asked.elapsed()
    );
    let mut rang = Vec::new();
    while let Ok(call_id) = endpoint.calls.try_recv() {
        rang.push(call_id);
    }
    assert_eq!(rang, ["after-flood"], "no flood INVITE rang");
}
