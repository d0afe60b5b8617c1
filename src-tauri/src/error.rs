//! The one error shape the UI sees: a stable code to branch on and a message to show.

use serde::Serialize;

/// An error returned by a command, as `{ code, message }`. The UI matches on `code` only.
#[derive(Debug, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    /// A stable, machine-readable code such as `sip.wrong_password`.
    pub code: &'static str,
    /// A human-readable explanation, safe to show (never contains secrets).
    pub message: String,
}
