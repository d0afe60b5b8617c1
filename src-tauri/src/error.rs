//! The one error shape the UI sees: a stable code to branch on and a message to show.

use serde::Serialize;

/// An error returned by a command, as `{ code, message, retryAfterSecs? }`. The UI matches on
/// `code` only; `message` is shown to people as it is, so it never contains secrets.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{code}: {message}")]
pub struct CommandError {
    /// A stable, machine-readable code such as `auth.wrong_password`.
    pub code: &'static str,
    /// A human-readable explanation, safe to show.
    pub message: String,
    /// For "try later" errors: how long to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl CommandError {
    /// An error with a code and a message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    /// Something went wrong inside Sidetone itself (not the user's or the network's fault).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }
}

impl From<sidetone_store::Error> for CommandError {
    fn from(error: sidetone_store::Error) -> Self {
        Self::new(error.code(), error.to_string())
    }
}
