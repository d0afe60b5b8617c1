//! `sidetone-cli register` end to end: exit status, one-line reasons, JSON lines, against the
//! lab's real Kamailio where a server is needed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sidetone_lab_client::Lab;
use sidetone_lab_client::sipp::Sipp;

/// The lab's Kamailio endpoints (`SIDETONE_TEST_KAMAILIO` = endpoints JSON of an already
/// running Kamailio, for debugging).
struct Kamailio {
    _lab: Option<Lab>,
    endpoints: Value,
}

impl Kamailio {
    fn start() -> Self {
        if let Ok(json) = std::env::var("SIDETONE_TEST_KAMAILIO") {
            return Self {
                _lab: None,
                endpoints: serde_json::from_str(&json).unwrap(),
            };
        }
        let lab = Lab::start(&["kamailio"]).unwrap_or_else(|e| panic!("lab: {e}"));
        let endpoints = lab.service("kamailio").clone();
        Self {
            _lab: Some(lab),
            endpoints,
        }
    }

    fn str(&self, key: &str) -> String {
        self.endpoints[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key}"))
            .to_owned()
    }

    fn user(&self) -> (String, String) {
        let users = self.endpoints["users"].as_object().unwrap();
        let (user, password) = users.iter().next().unwrap();
        (user.clone(), password.as_str().unwrap().to_owned())
    }

    fn uri(&self) -> String {
        format!("sip:{}@{}", self.user().0, self.str("domain"))
    }
}

/// Runs the CLI with `password` on stdin.
fn cli(args: &[&str], password: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sidetone-cli"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{password}");
    }
    child.wait_with_output().unwrap()
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

fn states(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l["state"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn help_documents_register() {
    let output = Command::new(env!("CARGO_BIN_EXE_sidetone-cli"))
        .args(["register", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--uri",
        "--password-stdin",
        "--transport",
        "--proxy",
        "--ca-file",
        "--expires",
        "--json",
        "--hold",
        "--mwi",
        "Exit status",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn registers_over_tls_holds_and_unregisters_printing_json_lines() {
    let kamailio = Kamailio::start();
    let (_, password) = kamailio.user();
    let output = cli(
        &[
            "register",
            "--uri",
            &kamailio.uri(),
            "--password-stdin",
            "--transport",
            "tls",
            "--proxy",
            &kamailio.str("tls"),
            "--ca-file",
            &kamailio.str("ca_cert"),
            "--hold",
            "1",
            "--json",
        ],
        &password,
    );
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let states = states(&json_lines(&output));
    let registered = states.iter().position(|s| s == "registered");
    let unregistered = states.iter().rposition(|s| s == "unregistered");
    assert!(
        matches!((registered, unregistered), (Some(r), Some(u)) if r < u),
        "{states:?}"
    );
}

#[test]
fn hold_refreshes_before_the_registration_expires() {
    let kamailio = Kamailio::start();
    let (_, password) = kamailio.user();
    // 10 s granted → refresh after ~5 s (half-life floor); hold 8 s sees at least one.
    let output = cli(
        &[
            "register",
            "--uri",
            &kamailio.uri(),
            "--password-stdin",
            "--proxy",
            &kamailio.str("udp"),
            "--expires",
            "10",
            "--hold",
            "8",
            "--json",
        ],
        &password,
    );
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let states = states(&json_lines(&output));
    let registrations = states.iter().filter(|s| *s == "registered").count();
    assert!(registrations >= 2, "no refresh seen: {states:?}");
}

#[test]
fn wrong_password_exits_3_with_a_one_line_reason() {
    let kamailio = Kamailio::start();
    let output = cli(
        &[
            "register",
            "--uri",
            &kamailio.uri(),
            "--password-stdin",
            "--proxy",
            &kamailio.str("udp"),
        ],
        "not-the-password",
    );
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        stderr_lines(&output),
        vec!["sidetone-cli: wrong password".to_owned()]
    );
}

#[test]
fn tls_without_the_ca_exits_6_certificate_not_trusted() {
    let kamailio = Kamailio::start();
    let (_, password) = kamailio.user();
    let output = cli(
        &[
            "register",
            "--uri",
            &kamailio.uri(),
            "--password-stdin",
            "--transport",
            "wss",
            "--proxy",
            &kamailio.str("wss"),
            "--json",
        ],
        &password,
    );
    assert_eq!(output.status.code(), Some(6));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("sidetone-cli: TLS certificate not trusted"),
        "{lines:?}"
    );
    let last = json_lines(&output).pop().unwrap();
    assert_eq!(last["reason"]["code"], "sip.tls_untrusted");
}

#[test]
fn closed_tcp_port_exits_4_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let proxy = format!("127.0.0.1:{port}");
    let output = cli(
        &[
            "register",
            "--uri",
            "sip:1001@127.0.0.1",
            "--password-stdin",
            "--transport",
            "tcp",
            "--proxy",
            &proxy,
        ],
        "pw",
    );
    assert_eq!(output.status.code(), Some(4));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("sidetone-cli: unreachable"),
        "{lines:?}"
    );
}

#[test]
fn silent_udp_server_exits_5_timeout() {
    // Bound but never answering: the REGISTER goes nowhere.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let proxy = silent.local_addr().unwrap().to_string();
    let output = cli(
        &[
            "register",
            "--uri",
            "sip:1001@127.0.0.1",
            "--password-stdin",
            "--proxy",
            &proxy,
            "--timeout",
            "2",
        ],
        "pw",
    );
    assert_eq!(output.status.code(), Some(5));
    assert_eq!(
        stderr_lines(&output),
        vec!["sidetone-cli: timeout".to_owned()]
    );
}

#[test]
fn mwi_prints_the_voicemail_counts_as_json_lines() {
    // SIPp plays registrar and voicemail server: a challenged SUBSCRIBE, then 2/8 and 0/10.
    let mut sipp = Sipp::start(
        "mwi_server.xml",
        2,
        std::time::Duration::from_secs(30),
        &[("user", "1001"), ("password", "cli-mwi-secret")],
    )
    .unwrap();
    let proxy = sipp.addr.to_string();
    let output = cli(
        &[
            "register",
            "--uri",
            "sip:1001@127.0.0.1",
            "--password-stdin",
            "--proxy",
            &proxy,
            "--mwi",
            "--hold",
            "3",
            "--timeout",
            "10",
            "--json",
        ],
        "cli-mwi-secret",
    );
    assert!(output.status.success(), "{:?}", stderr_lines(&output));
    let lines = json_lines(&output);
    let counts: Vec<(u64, u64, bool)> = lines
        .iter()
        .filter(|l| l["event"] == "mwi")
        .map(|l| {
            (
                l["new"].as_u64().unwrap(),
                l["old"].as_u64().unwrap(),
                l["messages_waiting"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [(2, 8, true), (0, 10, false)],
        "{lines:#?}\n{}",
        sipp.log()
    );
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "mwi_subscription" && l["state"] == "active"),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["event"] != "mwi" || l["received_at_ms"].is_i64())
    );
    let status = sipp.wait(std::time::Duration::from_secs(5));
    assert!(status.is_some_and(|s| s.success()), "{}", sipp.log());
}
