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

impl From<sidetone_voicemail::VoicemailError> for CommandError {
    fn from(error: sidetone_voicemail::VoicemailError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

impl From<sidetone_profile::ProfileError> for CommandError {
    fn from(error: sidetone_profile::ProfileError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

impl From<sidetone_onboarding::OnboardingError> for CommandError {
    /// The UI's codes (ui/src/lib/api/README.md) for what onboarding reports: the input's
    /// fault, the server's answer, or the network's.
    fn from(error: sidetone_onboarding::OnboardingError) -> Self {
        use sidetone_onboarding::{Invalid, OnboardingError as E};
        let code = match &error {
            E::Invalid { kind, .. } => match kind {
                Invalid::LinkMalformed
                | Invalid::LinkMissingTarget
                | Invalid::LinkInsecureUrl
                | Invalid::LinkInvalidServer
                | Invalid::LinkInvalidToken => "onboarding.link_invalid",
                Invalid::CodeMalformed
                | Invalid::CodeChecksum
                | Invalid::CodeUnsupportedVersion => "onboarding.code_invalid",
                Invalid::ImageUnreadable | Invalid::QrNotFound => "onboarding.qr_not_found",
                Invalid::QrMultiple | Invalid::QrNotALink => "onboarding.qr_invalid",
                Invalid::InputEmpty | Invalid::InputUnrecognized | Invalid::LoginIdMalformed => {
                    "onboarding.input_unrecognised"
                }
                // Everything else is about the document the server sent.
                _ => "onboarding.document_invalid",
            },
            E::WrongPassword => "auth.wrong_password",
            E::LockedOut { .. } => "auth.locked",
            E::PasswordExpired { .. } => "auth.password_expired",
            E::UseSingleSignOn { .. } => "onboarding.use_sso",
            E::SsoCancelled => "onboarding.sso_cancelled",
            E::SsoFailed { .. } => "onboarding.sso_failed",
            E::SsoTimeout { .. } => "onboarding.sso_timeout",
            E::SessionExpired => "auth.session_expired",
            E::UnknownToken => "onboarding.link_invalid",
            E::TokenUsedOrExpired { .. } => "onboarding.link_expired",
            E::WebFingerNotFound | E::NoProvisioningLink | E::UnknownAccount => {
                "onboarding.discovery_not_found"
            }
            E::Tls { .. } => "net.tls",
            E::Unreachable { .. } => "net.unreachable",
            E::Timeout { .. } => "net.timeout",
            _ => "onboarding.server_error",
        };
        let retry_after_secs = match &error {
            E::LockedOut { retry_after } => retry_after.map(|d| d.as_secs().max(1)),
            _ => None,
        };
        Self {
            code,
            message: error.to_string(),
            retry_after_secs,
        }
    }
}

impl From<sidetone_engine::EngineError> for CommandError {
    fn from(error: sidetone_engine::EngineError) -> Self {
        match error {
            sidetone_engine::EngineError::Sip(sip) => crate::events::ui_error(&sip),
            sidetone_engine::EngineError::UnknownCall(id) => {
                Self::new("call.not_found", format!("no call {id}"))
            }
            error @ sidetone_engine::EngineError::InvalidDtmf(_) => {
                Self::new("call.invalid_target", error.to_string())
            }
            error @ sidetone_engine::EngineError::DtmfUnavailable(_) => {
                Self::new("call.dtmf_unavailable", error.to_string())
            }
            other => Self::internal(other.to_string()),
        }
    }
}
