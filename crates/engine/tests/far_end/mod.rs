//! A far-end phone for call tests: the lab's Kamailio and one baresip (user 2000, answers
//! at once), started with options the plain lab client cannot pass (a never-ending tone,
//! a codec list), plus a ctrl_tcp connection that collects baresip's events, WAV helpers
//! and an engine registered as user 1001.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sidetone_engine::{CallMedia, Engine, EngineConfig, EngineEvent, EngineHandle};
use sidetone_sip::{
    AccountConfig, AccountId, CallId, CallState, OutboundProxy, Password, RegistrationState,
    SipUri, Transport,
};
use tokio::sync::broadcast;

/// What a baresip sent over ctrl_tcp, with when it arrived.
type EventLog = Arc<Mutex<Vec<(Instant, Value)>>>;

/// Kamailio and baresip; dropping it stops both (the lab's stdin lifeline closes).
pub struct FarEnd {
    child: Child,
    lifeline: Option<sidetone_lab_client::Lifeline>,
    pub endpoints: Value,
    ctrl: TcpStream,
    events: EventLog,
    /// More phones (by user), each with its ctrl_tcp connection and the events it sent.
    others: Vec<(String, TcpStream, EventLog)>,
}

impl FarEnd {
    /// Starts the lab with baresip playing `play` (e.g. `tone:440`) and offering `codecs`
    /// (e.g. `pcmu` or `opus,pcmu`).
    pub fn start(play: &str, codecs: &str) -> Self {
        Self::start_with(play, codecs, &[])
    }

    /// As [`FarEnd::start`], plus one more auto-answering baresip per user in `more_users`
    /// (lab service `baresip:<user>`, same `play` and `codecs`), e.g. a transfer target.
    pub fn start_with(play: &str, codecs: &str, more_users: &[&str]) -> Self {
        let entry = sidetone_lab_client::repo_root().join("tests/lab/lab");
        let mut services = String::from("kamailio,baresip");
        for user in more_users {
            services.push_str(&format!(",baresip:{user}"));
        }
        let mut child = Command::new(entry)
            .args(["up", "--json", "--stdin-lifeline"])
            .args(["--services", &services])
            .args(["--opt", &format!("baresip.play={play}")])
            .args(["--opt", &format!("baresip.codecs={codecs}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tests/lab/lab");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let lifeline = Some(sidetone_lab_client::Lifeline::new(stdin, stdout));
        if line.trim().is_empty() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the lab did not start: {err}");
        }
        let endpoints: Value = serde_json::from_str(&line).unwrap();
        let ctrl_addr = endpoints["services"]["baresip"]["ctrl"]
            .as_str()
            .unwrap()
            .to_owned();
        let (ctrl, events) = watch(&ctrl_addr);
        let others = more_users
            .iter()
            .map(|user| {
                let addr = endpoints["services"][format!("baresip:{user}")]["ctrl"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let (ctrl, events) = watch(&addr);
                ((*user).to_owned(), ctrl, events)
            })
            .collect();
        Self {
            child,
            lifeline,
            endpoints,
            ctrl,
            events,
            others,
        }
    }

    /// The events the extra phone of `user` sent so far.
    pub fn events_of(&self, user: &str) -> Vec<Value> {
        let (_, _, events) = self
            .others
            .iter()
            .find(|(u, _, _)| u == user)
            .expect("a phone started with start_with");
        events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Runs a lab control action on a service, e.g. `("kamailio", "kill")` (a crash) and
    /// `("kamailio", "revive")` (same ports, registrations forgotten).
    pub fn control(&mut self, service: &str, action: &str) {
        self.lifeline
            .as_mut()
            .unwrap()
            .control(service, action)
            .unwrap_or_else(|e| panic!("lab {service} {action}: {e}"));
    }

    pub fn kamailio(&self) -> &Value {
        &self.endpoints["services"]["kamailio"]
    }

    pub fn baresip(&self) -> &Value {
        &self.endpoints["services"]["baresip"]
    }

    /// A scratch directory inside the lab's (removed with it).
    pub fn dir(&self) -> PathBuf {
        let dir = PathBuf::from(self.endpoints["root"].as_str().unwrap()).join("engine-test");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Our account: user 1001 over UDP.
    pub fn account(&self) -> AccountConfig {
        let kam = self.kamailio();
        let udp = kam["udp"].as_str().unwrap();
        let password = kam["users"]["1001"].as_str().unwrap();
        let aor = SipUri::parse(&format!("sip:1001@{}", kam["domain"].as_str().unwrap())).unwrap();
        let mut account = AccountConfig::new(aor, Some(Password::new(password.to_owned())));
        account.transport = Transport::Udp;
        account.outbound_proxy = Some(OutboundProxy::parse(udp).unwrap());
        account.expires = 120;
        account
    }

    /// Sends a ctrl_tcp command (a baresip menu command) without waiting for its reply.
    pub fn command(&mut self, command: &str, params: &str) {
        let body =
            serde_json::json!({"command": command, "params": params, "token": command}).to_string();
        write!(self.ctrl, "{}:{},", body.len(), body).unwrap();
        self.ctrl.flush().unwrap();
    }

    /// Every event and response baresip sent so far, with when it arrived.
    pub fn events(&self) -> Vec<(Instant, Value)> {
        self.events.lock().unwrap().clone()
    }

    /// Waits up to `within` for an event matching `want`.
    pub fn wait_event(&self, within: Duration, want: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Some((_, event)) = self.events().into_iter().find(|(_, e)| want(e)) {
                return event;
            }
            if Instant::now() > deadline {
                let seen: Vec<_> = self.events().into_iter().map(|(_, e)| e).collect();
                panic!("no matching baresip event within {within:?}; saw {seen:#?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The newest recording of what baresip heard (`dec`) once it is complete.
    pub fn heard(&self) -> PathBuf {
        let dir = PathBuf::from(self.baresip()["record_dir"].as_str().unwrap());
        sidetone_lab_client::baresip_heard(&dir, None).expect("baresip recorded nothing")
    }
}

impl Drop for FarEnd {
    fn drop(&mut self) {
        let _ = self.ctrl.shutdown(std::net::Shutdown::Both);
        for (_, ctrl, _) in &self.others {
            let _ = ctrl.shutdown(std::net::Shutdown::Both);
        }
        drop(self.lifeline.take());
        let _ = self.child.wait();
    }
}

/// Connects to a baresip's ctrl_tcp and collects what it sends.
fn watch(addr: &str) -> (TcpStream, EventLog) {
    let ctrl = TcpStream::connect(addr).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let reader = ctrl.try_clone().unwrap();
    let sink = events.clone();
    std::thread::spawn(move || read_netstrings(reader, &sink));
    (ctrl, events)
}

fn read_netstrings(mut stream: TcpStream, events: &Mutex<Vec<(Instant, Value)>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(colon) = buf.iter().position(|&b| b == b':') {
            let Ok(size) = std::str::from_utf8(&buf[..colon])
                .unwrap_or("x")
                .parse::<usize>()
            else {
                buf.clear();
                break;
            };
            let end = colon + 1 + size;
            if buf.len() < end + 1 {
                break;
            }
            if let Ok(value) = serde_json::from_slice::<Value>(&buf[colon + 1..end]) {
                events.lock().unwrap().push((Instant::now(), value));
            }
            buf.drain(..=end);
        }
    }
}

/// An engine and its events, registered as user 1001 of the far end's Kamailio.
pub struct Phone {
    pub handle: EngineHandle,
    pub events: broadcast::Receiver<EngineEvent>,
    pub account_id: AccountId,
    runtime: tokio::runtime::Runtime,
}

impl Phone {
    pub fn register(far: &FarEnd) -> Self {
        Self::register_account(far.account())
    }

    /// As [`Phone::register`] with another account (e.g. `far.account()` over TCP).
    pub fn register_account(account: AccountConfig) -> Self {
        let handle = Engine::start(EngineConfig::default()).unwrap();
        let events = handle.subscribe();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let account_id = handle.register(account).unwrap();
        let mut phone = Self {
            handle,
            events,
            account_id,
            runtime,
        };
        phone.wait(Duration::from_secs(20), |e| match e {
            EngineEvent::Registration { state, reason, .. } => match state {
                RegistrationState::Registered { .. } => true,
                RegistrationState::Failed => panic!("registration failed: {reason:?}"),
                _ => false,
            },
            _ => false,
        });
        phone
    }

    /// Dials `target` with `media` and waits until the call is established (panics when it
    /// ends or nothing happens within 10 s).
    pub fn dial_established(&mut self, target: &str, media: CallMedia) -> CallId {
        let call_id = self.handle.dial(&self.account_id, target, media).unwrap();
        let event = self.wait(Duration::from_secs(10), |e| {
            matches!(
                e,
                EngineEvent::Call {
                    state: CallState::Established | CallState::Ended { .. },
                    ..
                }
            )
        });
        assert!(
            matches!(
                &event,
                EngineEvent::Call {
                    state: CallState::Established,
                    ..
                }
            ),
            "{event:?}"
        );
        call_id
    }

    /// Waits up to `within` for an event matching `want`; returns it.
    pub fn wait(&mut self, within: Duration, want: impl Fn(&EngineEvent) -> bool) -> EngineEvent {
        let events = &mut self.events;
        self.runtime.block_on(async {
            tokio::time::timeout(within, async {
                loop {
                    match events.recv().await {
                        Ok(event) if want(&event) => return event,
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => panic!("engine stopped"),
                    }
                }
            })
            .await
            .unwrap_or_else(|_| panic!("no matching engine event within {within:?}"))
        })
    }

    /// Collects every event for `period`.
    pub fn collect(&mut self, period: Duration) -> Vec<EngineEvent> {
        let events = &mut self.events;
        self.runtime.block_on(async {
            let mut seen = Vec::new();
            let _ = tokio::time::timeout(period, async {
                loop {
                    match events.recv().await {
                        Ok(event) => seen.push(event),
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            })
            .await;
            seen
        })
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        let _ = self.handle.shutdown();
    }
}

/// Writes `seconds` of a `freq` Hz tone at -12 dBFS, 48 kHz mono 16-bit.
pub fn write_tone(path: &Path, freq: f32, seconds: f32) {
    let rate = 48_000u32;
    let samples: Vec<i16> = (0..(rate as f32 * seconds) as usize)
        .map(|i| {
            (8000.0 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin()) as i16
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, out).unwrap();
}

/// A 16-bit PCM WAV's sample rate and samples (channels averaged to mono).
pub fn read_wav(path: &Path) -> (u32, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], b"RIFF", "{} is no WAV", path.display());
    let mut pos = 12;
    let (mut channels, mut rate, mut bits) = (1usize, 0u32, 16u16);
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            channels = usize::from(u16::from_le_bytes([bytes[body + 2], bytes[body + 3]]));
            rate = u32::from_le_bytes(bytes[body + 4..body + 8].try_into().unwrap());
            bits = u16::from_le_bytes([bytes[body + 14], bytes[body + 15]]);
        } else if id == b"data" {
            assert_eq!(bits, 16, "only 16-bit WAVs");
            // A header written before the end may say 0 or too much: take what is there.
            let end = if size == 0 || body + size > bytes.len() {
                bytes.len()
            } else {
                body + size
            };
            let samples: Vec<f64> = bytes[body..end]
                .chunks_exact(2)
                .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                .collect::<Vec<_>>()
                .chunks(channels.max(1))
                .map(|c| c.iter().sum::<f64>() / c.len() as f64)
                .collect();
            return (rate, samples);
        }
        pos = body + size + (size & 1);
    }
    panic!("{} has no data chunk", path.display());
}

/// Level in dBFS of `samples[from..to]` (seconds), clamped to the recording.
pub fn level_dbfs(rate: u32, samples: &[f64], from: f64, to: f64) -> f64 {
    let a = ((from * f64::from(rate)) as usize).min(samples.len());
    let b = ((to * f64::from(rate)) as usize).min(samples.len());
    let part = &samples[a..b.max(a)];
    let ms = part.iter().map(|s| s * s).sum::<f64>() / part.len().max(1) as f64;
    10.0 * ms.max(1e-20).log10()
}
