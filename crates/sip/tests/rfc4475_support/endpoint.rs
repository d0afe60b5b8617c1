//! A Sidetone SIP endpoint as the engine runs one: an account's flow, registered over UDP
//! to a registrar played by the test, taking incoming calls (and declining them busy).

use std::net::SocketAddr;
use std::time::Duration;

use sidetone_sip::{
    AccountConfig, AccountFlow, NameServer, RegisterOutcome, RegisterRequest, SipUri,
};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::timeout;

use super::wire;

/// The running endpoint and the registrar socket it trusts.
pub struct Endpoint {
    /// Where the endpoint listens (learned from its REGISTER).
    pub addr: SocketAddr,
    /// The fake registrar's socket: torture messages come from here, as a proxy would
    /// relay them (so INVITEs are not refused as ghost calls).
    pub registrar: UdpSocket,
    /// Call-IDs of the incoming calls the application was offered.
    pub calls: mpsc::UnboundedReceiver<String>,
    /// Kept so the endpoint lives as long as the test.
    pub flow: AccountFlow,
}

/// Opens an account flow towards a fake registrar and completes one REGISTER.
pub async fn start() -> Endpoint {
    let registrar = ok(UdpSocket::bind("127.0.0.1:0").await, "bind the registrar");
    let port = ok(registrar.local_addr(), "registrar address").port();
    let aor = ok(
        SipUri::parse(&format!("sip:torture@127.0.0.1:{port}")),
        "AOR",
    );
    let mut flow = ok(
        AccountFlow::open(&AccountConfig::new(aor, None), NameServer::System).await,
        "open the flow",
    );
    let (calls_tx, calls) = mpsc::unbounded_channel();
    if let Some(mut incoming) = flow.take_incoming_calls() {
        // The "user": every call that rings is declined busy (486), so each INVITE ends.
        tokio::spawn(async move {
            while let Some(mut call) = incoming.recv().await {
                let _ = calls_tx.send(call.id().0.clone());
                let _ = call.decline(true);
            }
        });
    }
    let register = flow.register(RegisterRequest { expires: 300 });
    let answer_register = async {
        let mut buf = vec![0u8; 65_535];
        let (len, from) = ok(registrar.recv_from(&mut buf).await, "receive REGISTER");
        let text = String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned();
        let ok_response = registered(&text);
        ok(
            registrar.send_to(ok_response.as_bytes(), from).await,
            "send 200",
        );
        from
    };
    let (outcome, addr) = ok(
        timeout(Duration::from_secs(10), async {
            tokio::join!(register, answer_register)
        })
        .await,
        "REGISTER exchange in time",
    );
    assert!(
        matches!(outcome, RegisterOutcome::Success { .. }),
        "registration failed: {outcome:?}"
    );
    Endpoint {
        addr,
        registrar,
        calls,
        flow,
    }
}

/// The registrar's 200 OK to `register`.
fn registered(register: &str) -> String {
    let get = |name, compact| wire::header(register, name, compact).unwrap_or_default();
    format!(
        "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=registrar\r\nCall-ID: {}\r\n\
         CSeq: {}\r\nContact: {};expires=300\r\nContent-Length: 0\r\n\r\n",
        get("Via", Some("v")),
        get("From", Some("f")),
        get("To", Some("t")),
        get("Call-ID", Some("i")),
        get("CSeq", None),
        get("Contact", Some("m")),
    )
}

fn ok<T, E: std::fmt::Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e:?}"),
    }
}
