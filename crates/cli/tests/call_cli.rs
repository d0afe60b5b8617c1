//! `sidetone-cli call` and `answer` end to end against the lab: Kamailio routes, a baresip
//! phone auto-answers (or calls us), plays speech and records what it hears. Both
//! recordings must carry speech: the test fails on silence, one-way audio or no call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use sidetone_lab_client::Lab;

/// Floors, with margin below what was measured here (speech at about -21 dBFS, active
/// 73-80 % of 20 ms frames, on both sides, both codecs).
const MIN_LEVEL_DBFS: f64 = -32.0;
const MIN_ACTIVITY: f64 = 0.5;
const ACTIVE_FRAME_DBFS: f64 = -45.0;

struct Phone {
    lab: Lab,
    dir: PathBuf,
}

impl Phone {
    fn start() -> Self {
        let lab = Lab::start(&["kamailio", "baresip"]).unwrap_or_else(|e| panic!("lab: {e}"));
        let dir = lab.root().join("sidetone-test");
        std::fs::create_dir_all(&dir).unwrap();
        Self { lab, dir }
    }

    fn kamailio(&self) -> &Value {
        self.lab.service("kamailio")
    }

    fn baresip(&self) -> &Value {
        self.lab.service("baresip")
    }

    /// Our account: user 1001 of the lab's Kamailio, reached at its UDP address.
    fn account_args(&self) -> (Vec<String>, String) {
        let kam = self.kamailio();
        let udp = kam["udp"].as_str().unwrap();
        let password = kam["users"]["1001"].as_str().unwrap().to_owned();
        (
            vec![
                "--uri".into(),
                format!("sip:1001@{udp}"),
                "--password-stdin".into(),
            ],
            password,
        )
    }

    /// Speech for us to send, made at test time (espeak-ng writes 22.05 kHz mono, which
    /// also exercises the resampler).
    fn speech(&self) -> PathBuf {
        let path = self.dir.join("our-speech.wav");
        if !path.exists() {
            let status = Command::new("espeak-ng")
                .args(["-w"])
                .arg(&path)
                .arg(
                    "This is Sidetone calling the lab. One, two, three, four, five. \
                     The quick brown fox jumps over the lazy dog.",
                )
                .status()
                .expect("espeak-ng (apt install espeak-ng)");
            assert!(status.success());
        }
        path
    }

    /// The newest recording of what baresip heard, once the call is over.
    fn baresip_heard(&self, since: SystemTime) -> PathBuf {
        let dir = PathBuf::from(self.baresip()["record_dir"].as_str().unwrap());
        sidetone_lab_client::baresip_heard(&dir, Some(since)).expect("baresip recorded nothing")
    }

    /// Sends one ctrl_tcp command (a netstring of JSON) to baresip.
    fn baresip_command(&self, command: &str, params: &str) {
        let ctrl = self.baresip()["ctrl"].as_str().unwrap();
        let mut stream = TcpStream::connect(ctrl).unwrap();
        let body =
            serde_json::json!({"command": command, "params": params, "token": "t"}).to_string();
        write!(stream, "{}:{},", body.len(), body).unwrap();
        stream.flush().unwrap();
        // Keep the connection open a moment so baresip reads it before we close.
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn spawn_cli(args: &[String], password: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sidetone-cli"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{password}").unwrap();
    }
    child
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

fn call_states(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "call")
        .map(|e| e["state"].as_str().unwrap().to_owned())
        .collect()
}

/// Overall level (dBFS) and the fraction of 20 ms frames above [`ACTIVE_FRAME_DBFS`].
fn speech_energy(path: &Path) -> (f64, f64) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    let samples: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Int => reader
            .samples::<i32>()
            .map(|s| f64::from(s.unwrap()) / f64::from(1u32 << (spec.bits_per_sample - 1)))
            .collect(),
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .map(|s| f64::from(s.unwrap()))
            .collect(),
    };
    let mono: Vec<f64> = samples
        .chunks(channels)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let db = |x: &[f64]| {
        let ms = x.iter().map(|s| s * s).sum::<f64>() / x.len().max(1) as f64;
        10.0 * ms.max(1e-20).log10()
    };
    let frame = (spec.sample_rate / 50) as usize;
    let frames: Vec<f64> = mono.chunks_exact(frame).map(db).collect();
    let active = frames.iter().filter(|&&l| l > ACTIVE_FRAME_DBFS).count();
    (db(&mono), active as f64 / frames.len().max(1) as f64)
}

fn assert_speech(path: &Path, what: &str) {
    let (level, activity) = speech_energy(path);
    eprintln!("{what}: {level:.1} dBFS, {:.0} % active", activity * 100.0);
    assert!(
        level > MIN_LEVEL_DBFS && activity > MIN_ACTIVITY,
        "{what} ({}) has no speech: {level:.1} dBFS, {:.0} % of frames active",
        path.display(),
        activity * 100.0
    );
}

#[test]
fn calls_baresip_with_pcmu_and_opus_and_both_directions_carry_speech() {
    let phone = Phone::start();
    let (args, password) = phone.account_args();
    let target = phone.baresip()["user"].as_str().unwrap().to_owned();
    let speech = phone.speech();
    for codec in ["pcmu", "opus"] {
        let record = phone.dir.join(format!("heard-{codec}.wav"));
        let before = SystemTime::now();
        let mut call_args = vec!["call".to_owned(), target.clone()];
        call_args.extend(args.iter().cloned());
        call_args.extend(
            [
                "--play",
                speech.to_str().unwrap(),
                "--record",
                record.to_str().unwrap(),
                "--duration",
                "5",
                "--codec",
                codec,
                "--json",
            ]
            .map(str::to_owned),
        );
        let output = spawn_cli(&call_args, &password).wait_with_output().unwrap();
        let events = json_lines(&output);
        assert!(
            output.status.success(),
            "{codec}: exit {:?}\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let states = call_states(&events);
        assert_eq!(
            states.first().map(String::as_str),
            Some("dialing"),
            "{states:?}"
        );
        assert!(states.iter().any(|s| s == "established"), "{states:?}");
        assert_eq!(
            states.last().map(String::as_str),
            Some("ended"),
            "{states:?}"
        );
        let media = events.iter().find(|e| e["event"] == "media").unwrap();
        assert_eq!(media["codec"], codec);
        let established = events.iter().find(|e| e["state"] == "established").unwrap();
        eprintln!(
            "{codec}: dial -> established {} ms",
            established["elapsed_ms"]
        );
        let stats = events.iter().find(|e| e["event"] == "call_stats").unwrap();
        assert!(stats["packets_sent"].as_u64().unwrap() > 200, "{stats}");
        assert!(stats["packets_received"].as_u64().unwrap() > 200, "{stats}");

        assert_speech(
            &phone.baresip_heard(before),
            &format!("{codec}: what baresip heard"),
        );
        assert_speech(&record, &format!("{codec}: what Sidetone heard"));
    }
}

#[test]
fn baresip_calls_sidetone_which_answers_and_both_directions_carry_speech() {
    let phone = Phone::start();
    let (account, password) = phone.account_args();
    let speech = phone.speech();
    let record = phone.dir.join("answered.wav");
    let mut args = vec!["answer".to_owned()];
    args.extend(account);
    args.extend(
        [
            "--play",
            speech.to_str().unwrap(),
            "--record",
            record.to_str().unwrap(),
            "--duration",
            "4",
            "--timeout",
            "30",
            "--json",
        ]
        .map(str::to_owned),
    );
    let before = SystemTime::now();
    let mut child = spawn_cli(&args, &password);
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    // Dial once we are registered.
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("\"registered\"") {
            phone.baresip_command("dial", "sip:1001@127.0.0.1");
            break;
        }
    }
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        status.success(),
        "exit {status:?}\n{}\n{stderr}",
        seen.join("\n")
    );
    let events: Vec<Value> = seen
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let states = call_states(&events);
    assert_eq!(states, ["ringing", "established", "ended"], "{seen:?}");
    let incoming = events.iter().find(|e| e["event"] == "call").unwrap();
    assert_eq!(incoming["direction"], "incoming");

    assert_speech(&record, "answer: what Sidetone heard");
    assert_speech(&phone.baresip_heard(before), "answer: what baresip heard");
}

#[test]
fn calling_an_unknown_user_fails_with_not_found() {
    let phone = Phone::start();
    let (account, password) = phone.account_args();
    let mut args = vec!["call".to_owned(), "4040".to_owned()];
    args.extend(account);
    args.push("--json".into());
    let output = spawn_cli(&args, &password).wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(9), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim(), "sidetone-cli: not found");
    let events = json_lines(&output);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "error");
    assert_eq!(last["reason"]["code"], "call.not_found");
}
