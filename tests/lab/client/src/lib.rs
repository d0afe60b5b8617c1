//! Starts Sidetone's lab of real servers (tests/lab) from Rust tests and benchmarks.
//!
//! The lab runs as a child process (`tests/lab/lab up --json --stdin-lifeline`) whose stdin we
//! hold: when this process ends, however it ends, the pipe closes and the lab stops every
//! server it started. Endpoints (ports, users, random passwords, CA paths) come back as JSON.
//!
//! Settings that a library reads from the environment at connect time (a D-Bus address for the
//! keychain, a PulseAudio server) cannot be set safely in a multi-threaded test process, so
//! [`rerun_with_env`] runs one test again in a child process with that environment.
//!
//! Faults are injected through the same pipe: [`Lab::control`] (or a [`Lifeline`] held by a
//! test that starts the lab itself) asks a running service for one of its control actions,
//! e.g. `lab.control("kamailio", "kill")` — a crash, SIGKILL of its whole process group — and
//! `lab.control("kamailio", "revive")` to start it again on the same ports with the same
//! users (its in-memory registrations are gone, as after a real crash).

pub mod sipp;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

/// Why the lab could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    /// The lab's entry point could not be started (missing python3 or a broken checkout).
    #[error("could not start the lab: {0}")]
    Spawn(#[source] std::io::Error),
    /// The lab started but a service failed; the lab's own message says which and why.
    #[error("the lab failed to start: {0}")]
    Failed(String),
    /// The lab printed something that is not its endpoints JSON.
    #[error("the lab printed unexpected output: {0}")]
    BadOutput(String),
}

/// A running lab. Dropping it stops every server it started.
#[derive(Debug)]
pub struct Lab {
    child: Child,
    lifeline: Option<Lifeline>,
    endpoints: Value,
}

/// The pipes of a `lab up --stdin-lifeline` process: closing stdin stops the lab; a line on
/// it is a control command, answered by one JSON line on its stdout.
#[derive(Debug)]
pub struct Lifeline {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Lifeline {
    /// Wraps the pipes of a lab child whose first stdout line (the endpoints) was read
    /// through `stdout` already.
    pub fn new(stdin: ChildStdin, stdout: BufReader<ChildStdout>) -> Self {
        Self { stdin, stdout }
    }

    /// Runs `action` on the running `service` (only actions its lab class lists in
    /// `CONTROL_ACTIONS`, e.g. Kamailio's `kill`, `revive`, `restart`) and returns the
    /// service's endpoints afterwards. Blocks until the lab has done it.
    pub fn control(&mut self, service: &str, action: &str) -> Result<Value, LabError> {
        let command = serde_json::json!({"service": service, "action": action});
        writeln!(self.stdin, "{command}").map_err(LabError::Spawn)?;
        self.stdin.flush().map_err(LabError::Spawn)?;
        let mut line = String::new();
        let read = self.stdout.read_line(&mut line).map_err(LabError::Spawn)?;
        if read == 0 {
            return Err(LabError::Failed("the lab exited".into()));
        }
        let answer: Value =
            serde_json::from_str(&line).map_err(|_| LabError::BadOutput(line.clone()))?;
        if answer["ok"].as_bool() == Some(true) {
            Ok(answer["endpoints"].clone())
        } else {
            Err(LabError::Failed(
                answer["error"]
                    .as_str()
                    .unwrap_or("no reason given")
                    .to_owned(),
            ))
        }
    }
}

impl Lab {
    /// Starts the named services (e.g. `["kamailio", "keyring"]`) and waits until they answer.
    pub fn start(services: &[&str]) -> Result<Self, LabError> {
        Self::start_with(services, &[])
    }

    /// As [`Lab::start`], with service options as `lab up --opt` takes them:
    /// `("kamailio.domain", "sip.lab.test")`, the value parsed as JSON when it can be.
    pub fn start_with(services: &[&str], options: &[(&str, &str)]) -> Result<Self, LabError> {
        let mut args: Vec<String> = ["up", "--json", "--stdin-lifeline", "--services"]
            .map(String::from)
            .into();
        args.push(services.join(","));
        for (key, value) in options {
            args.push("--opt".into());
            args.push(format!("{key}={value}"));
        }
        let mut child = Command::new(lab_entry_point())
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(LabError::Spawn)?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| LabError::BadOutput("no stdin".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| LabError::BadOutput("no stdout".into()))?;
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let read = stdout.read_line(&mut line).map_err(LabError::Spawn)?;
        if read == 0 {
            let mut message = String::new();
            if let Some(stderr) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut message);
            }
            let _ = child.wait();
            return Err(LabError::Failed(message.trim().to_owned()));
        }
        let endpoints: Value =
            serde_json::from_str(&line).map_err(|_| LabError::BadOutput(line.clone()))?;
        Ok(Self {
            child,
            lifeline: Some(Lifeline::new(stdin, stdout)),
            endpoints,
        })
    }

    /// Runs a control action on a running service (see [`Lifeline::control`]), e.g.
    /// `("kamailio", "kill")` then `("kamailio", "revive")`; returns its endpoints after.
    pub fn control(&mut self, service: &str, action: &str) -> Result<Value, LabError> {
        match self.lifeline.as_mut() {
            Some(lifeline) => lifeline.control(service, action),
            None => Err(LabError::Failed("the lab is stopping".into())),
        }
    }

    /// All endpoints: `{"root": dir, "services": {name: {...}}}`.
    pub fn endpoints(&self) -> &Value {
        &self.endpoints
    }

    /// One service's endpoints, e.g. `lab.service("kamailio")["udp"]`.
    pub fn service(&self, name: &str) -> &Value {
        &self.endpoints["services"][name]
    }

    /// The lab's temp directory (logs are under `logs/`).
    pub fn root(&self) -> PathBuf {
        PathBuf::from(self.endpoints["root"].as_str().unwrap_or_default())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Closing stdin asks the lab to stop everything; then wait so no port is left bound.
        drop(self.lifeline.take());
        let _ = self.child.wait();
    }
}

/// The repository's root, found from this crate's manifest dir.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .components()
        .collect()
}

fn lab_entry_point() -> PathBuf {
    repo_root().join("tests/lab/lab")
}

/// The environment variable that marks a test already running inside [`rerun_with_env`].
pub const CHILD_MARKER: &str = "SIDETONE_LAB_CHILD";

/// True inside the child process started by [`rerun_with_env`].
pub fn in_child() -> bool {
    std::env::var_os(CHILD_MARKER).is_some()
}

/// Runs the test named `test_name` again in a child process with `env` added, and returns
/// whether it passed (with its output on failure). Call it from the parent branch of a test
/// that checks [`in_child`] first.
pub fn rerun_with_env(test_name: &str, env: &[(String, String)]) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(CHILD_MARKER, "1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The child must have run exactly this one test and passed it; "0 passed" is a failure.
    if output.status.success() && text.contains("1 passed") {
        Ok(())
    } else {
        Err(text)
    }
}

/// The newest complete recording of what a lab baresip heard (`*-dec.wav` in its
/// `record_dir`), made at or after `since` when given. Waits up to 5 s for one to appear
/// (`None` if none does), then half a second more so baresip can finish its header after
/// the hang-up.
pub fn baresip_heard(record_dir: &Path, since: Option<std::time::SystemTime>) -> Option<PathBuf> {
    use std::time::Duration;
    for _ in 0..50 {
        let newest = std::fs::read_dir(record_dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
            .filter(|(modified, _)| since.is_none_or(|since| *modified >= since))
            .max();
        if let Some((_, path)) = newest {
            std::thread::sleep(Duration::from_millis(500));
            return Some(path);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}
