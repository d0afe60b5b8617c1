//! SIPp playing a server for one test: a scenario from `tests/lab/scenarios` on its own
//! loopback UDP port, its message trace and error log in a temp dir, killed on drop.
//!
//! The lab's Python side runs SIPp as a client (`sidetone_lab/sipp.py`); Rust tests need it
//! as the server their engine registers with, started and stopped by the test itself.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::{LabError, repo_root};

/// A running SIPp.
#[derive(Debug)]
pub struct Sipp {
    child: Child,
    /// Where it listens (UDP on 127.0.0.1).
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Sipp {
    /// Starts `scenario` (a file name in tests/lab/scenarios) as a server for at most
    /// `calls` calls and `timeout` in all, with `-key` values `keys`; returns once SIPp has
    /// bound its port.
    pub fn start(
        scenario: &str,
        calls: u32,
        timeout: Duration,
        keys: &[(&str, &str)],
    ) -> Result<Self, LabError> {
        let path = repo_root().join("tests/lab/scenarios").join(scenario);
        if !path.is_file() {
            return Err(LabError::Failed(format!("no scenario {}", path.display())));
        }
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sidetone-sipp-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(LabError::Spawn)?;
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map_err(LabError::Spawn)?
            .port();
        let mut command = Command::new("sipp");
        command
            .arg("-sf")
            .arg(&path)
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-t", "u1"])
            .args(["-m", &calls.to_string()])
            .args(["-timeout", &format!("{}s", timeout.as_secs().max(1))])
            .args(["-timeout_error", "-nostdin", "-trace_err", "-trace_msg"])
            .arg("-error_file")
            .arg(dir.join("errors.log"))
            .arg("-message_file")
            .arg(dir.join("messages.log"));
        for (key, value) in keys {
            command.args(["-key", key, value]);
        }
        let screen = std::fs::File::create(dir.join("screen.log")).map_err(LabError::Spawn)?;
        let child = command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(screen)
            .stderr(Stdio::null())
            .spawn()
            .map_err(LabError::Spawn)?;
        let mut sipp = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        sipp.wait_listening()?;
        Ok(sipp)
    }

    /// Until SIPp holds its port (we cannot bind it any more), 5 s at most.
    fn wait_listening(&mut self) -> Result<(), LabError> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while UdpSocket::bind(self.addr).is_ok() {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(LabError::Failed(format!(
                    "sipp exited {status} before listening: {}",
                    self.log()
                )));
            }
            if Instant::now() >= deadline {
                return Err(LabError::Failed(format!("sipp never bound {}", self.addr)));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Waits for SIPp to finish, at most `within`; `None` if it is still running.
    pub fn wait(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many transactions of `method` SIPp received (retransmissions counted once: by
    /// their Via branch).
    pub fn requests_received(&self, method: &str) -> usize {
        let trace = std::fs::read_to_string(self.dir.join("messages.log")).unwrap_or_default();
        let start = format!("{method} ");
        let mut branches: Vec<&str> = trace
            .split("-----------------------------------------------")
            .filter(|block| block.contains("message received"))
            .filter(|block| block.lines().any(|l| l.trim_start().starts_with(&start)))
            .filter_map(|block| {
                let via = block
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("via:"))?;
                via.split("branch=").nth(1)?.split([';', ' ', '\r']).next()
            })
            .collect();
        branches.sort_unstable();
        branches.dedup();
        branches.len()
    }

    /// The error log and the tail of the message trace, for assertion messages.
    pub fn log(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        let trace = read("messages.log");
        let skip = trace.chars().count().saturating_sub(4000);
        let tail: String = trace.chars().skip(skip).collect();
        format!(
            "--- sipp errors ---\n{}\n--- sipp messages (tail) ---\n{tail}",
            read("errors.log")
        )
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
