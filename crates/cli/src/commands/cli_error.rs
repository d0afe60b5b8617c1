//! A subcommand's failure: a stable code for scripts and a message for people, printed as
//! one `sidetone-cli: code: message` line on stderr, or `{"error":{code,message}}` with --json.

use std::process::ExitCode;

use sidetone_profile::ProfileError;
use sidetone_voicemail::VoicemailError;

/// Why a subcommand failed.
#[derive(Debug)]
pub struct CliError {
    /// Stable code, e.g. `vault.locked` or `voicemail.unreachable`.
    pub code: &'static str,
    /// What happened, safe to show (never a secret).
    pub message: String,
}

impl CliError {
    /// A failure with its own code.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Prints the failure and returns exit status 1.
    pub fn report(&self, json: bool) -> ExitCode {
        if json {
            println!(
                "{}",
                serde_json::json!({ "error": { "code": self.code, "message": self.message } })
            );
        } else {
            eprintln!("sidetone-cli: {}: {}", self.code, self.message);
        }
        ExitCode::FAILURE
    }
}

impl From<ProfileError> for CliError {
    fn from(error: ProfileError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

impl From<VoicemailError> for CliError {
    fn from(error: VoicemailError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

impl From<sidetone_store::Error> for CliError {
    fn from(error: sidetone_store::Error) -> Self {
        Self::new(error.code(), error.to_string())
    }
}
