//! Shared helpers for the lab tests: one lab per test binary (CA + Kamailio + Dovecot),
//! accounts pointing at it, a raw IMAP session to play "the other client", and
//! Asterisk-style messages to APPEND.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Mutex, OnceLock};

use async_imap::Session;
use base64::Engine as _;
use futures_util::TryStreamExt;
use secrecy::SecretString;
use sidetone_lab_client::Lab;
use sidetone_store::Store;
use sidetone_voicemail::{Security, VoicemailAccount};
use tokio::net::TcpStream;

/// The lab, started once per test binary; it stops when the process exits (stdin lifeline).
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| Lab::start(&["ca", "kamailio", "dovecot"]).expect("lab starts"))
}

fn dovecot() -> &'static serde_json::Value {
    lab().service("dovecot")
}

pub fn user() -> String {
    dovecot()["mailbox_user"].as_str().unwrap().to_owned()
}

pub fn password() -> String {
    dovecot()["users"][user()].as_str().unwrap().to_owned()
}

fn host_port(key: &str) -> (String, u16) {
    let ep = dovecot()[key].as_str().unwrap();
    let (host, port) = ep.rsplit_once(':').unwrap();
    (host.to_owned(), port.parse().unwrap())
}

/// A plain-IMAP account on the lab for `folder`.
pub fn account(folder: &str) -> VoicemailAccount {
    let (host, port) = host_port("imap");
    VoicemailAccount {
        account_id: format!("acct-{folder}"),
        host,
        port,
        security: Security::PlainLoopback,
        ca_file: None,
        username: user(),
        password: SecretString::from(password()),
        folder: folder.to_owned(),
    }
}

/// The same account over IMAPS, trusting the lab CA.
pub fn tls_account(folder: &str) -> VoicemailAccount {
    let (host, port) = host_port("imaps");
    VoicemailAccount {
        port,
        host,
        security: Security::Tls,
        ca_file: Some(dovecot()["ca_cert"].as_str().unwrap().into()),
        ..account(folder)
    }
}

pub fn store() -> (tempfile::TempDir, Mutex<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.sqlite3")).unwrap();
    (dir, Mutex::new(store))
}

/// "The other client": a raw logged-in async-imap session.
pub async fn raw_session() -> Session<TcpStream> {
    let (host, port) = host_port("imap");
    let tcp = TcpStream::connect((host.as_str(), port)).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().unwrap();
    client
        .login(user(), password())
        .await
        .map_err(|(e, _)| e)
        .unwrap()
}

/// Creates `folder` (empty) for one test.
pub async fn fresh_folder(folder: &str) {
    let mut s = raw_session().await;
    let _ = s.delete(folder).await;
    s.create(folder).await.unwrap();
    s.logout().await.unwrap();
}

/// A mono 8 kHz 16-bit WAV of `samples` samples (a quiet saw tooth).
pub fn wav(samples: u32) -> Vec<u8> {
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        out.extend_from_slice(&(((i % 64) as i16 - 32) * 100).to_le_bytes());
    }
    out
}

/// An Asterisk-style voicemail e-mail (text part + base64 `audio/wav` attachment).
pub fn voicemail_message(
    number: u32,
    caller: &str,
    caller_name: &str,
    duration_s: u32,
    orig_time: i64,
    audio: &[u8],
) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(audio);
    let mut body64 = String::new();
    for chunk in b64.as_bytes().chunks(76) {
        body64.push_str(std::str::from_utf8(chunk).unwrap());
        body64.push_str("\r\n");
    }
    format!(
        "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n\
         From: \"Voicemail System\" <voicemail@sidetone.lab>\r\n\
         To: <1001@sidetone.lab>\r\n\
         Subject: [PBX]: New message {number}\r\n\
         Message-ID: <vm-{number}-{orig_time}@sidetone.lab>\r\n\
         MIME-Version: 1.0\r\n\
         X-Asterisk-VM-Message-Num: {number}\r\n\
         X-Asterisk-VM-Caller-ID-Num: {caller}\r\n\
         X-Asterisk-VM-Caller-ID-Name: {caller_name}\r\n\
         X-Asterisk-VM-Duration: {duration_s}\r\n\
         X-Asterisk-VM-Orig-time: {orig_time}\r\n\
         Content-Type: multipart/mixed; boundary=\"----VM-BOUNDARY\"\r\n\
         \r\n\
         ------VM-BOUNDARY\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         You have a new voicemail from {caller}.\r\n\
         ------VM-BOUNDARY\r\n\
         Content-Type: audio/wav; name=\"msg{number:04}.wav\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"msg{number:04}.wav\"\r\n\
         \r\n\
         {body64}\
         ------VM-BOUNDARY--\r\n"
    )
    .into_bytes()
}

/// APPENDs messages to `folder` as "the PBX".
pub async fn append(folder: &str, messages: &[Vec<u8>]) {
    let mut s = raw_session().await;
    for m in messages {
        s.append(folder, None, None, m).await.unwrap();
    }
    s.logout().await.unwrap();
}

/// The server's `\Seen` state of every message in `folder`, by UID.
pub async fn server_seen(folder: &str) -> std::collections::BTreeMap<u32, bool> {
    let mut s = raw_session().await;
    s.select(folder).await.unwrap();
    let fetches: Vec<_> = s
        .uid_fetch("1:*", "(UID FLAGS)")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let out = fetches
        .iter()
        .map(|f| {
            (
                f.uid.unwrap(),
                f.flags()
                    .any(|fl| matches!(fl, async_imap::types::Flag::Seen)),
            )
        })
        .collect();
    s.logout().await.unwrap();
    out
}

/// Runs a UID STORE as the other client.
pub async fn server_store(folder: &str, uid: u32, query: &str) {
    let mut s = raw_session().await;
    s.select(folder).await.unwrap();
    let _: Vec<_> = s
        .uid_store(uid.to_string(), query)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    s.logout().await.unwrap();
}

/// Deletes one message as the other client.
pub async fn server_delete(folder: &str, uid: u32) {
    server_store(folder, uid, "+FLAGS.SILENT (\\Deleted)").await;
    let mut s = raw_session().await;
    s.select(folder).await.unwrap();
    let _: Vec<_> = s.expunge().await.unwrap().try_collect().await.unwrap();
    s.logout().await.unwrap();
}

/// A loopback port nobody listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
