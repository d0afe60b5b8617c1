//! The one error type of the engine crate.

use sidetone_sip::{CallId, SipError};

/// Why an engine command failed. [`EngineError::code`] is stable for the shell and scripts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The caller: a setting (e.g. an environment variable) the engine cannot use.
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    /// Our side: the async runtime could not be built (out of threads or file descriptors).
    #[error("cannot start the engine runtime: {0}")]
    Runtime(String),
    /// The caller: the engine was already shut down.
    #[error("the engine is stopped")]
    Stopped,
    /// The caller: no call with this id is in progress.
    #[error("no such call: {0}")]
    UnknownCall(CallId),
    /// The caller: DTMF digits other than `0`-`9`, `*`, `#`, `A`-`D` (or none at all).
    #[error("{0}")]
    InvalidDtmf(sidetone_media::MediaError),
    /// The call cannot carry DTMF now: it agreed no telephone-event type with the far end,
    /// is on hold, or is not established yet. Nothing was sent.
    #[error("DTMF cannot be sent on this call: {0}")]
    DtmfUnavailable(&'static str),
    /// Signalling failed; the inner error says whose fault.
    #[error(transparent)]
    Sip(#[from] SipError),
}

impl EngineError {
    /// A stable machine-readable code, e.g. `engine.stopped` or `sip.wrong_password`.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Runtime(_) => "engine.runtime",
            EngineError::InvalidSetting(_) => "engine.invalid_setting",
            EngineError::Stopped => "engine.stopped",
            EngineError::UnknownCall(_) => "engine.unknown_call",
            EngineError::InvalidDtmf(_) => "engine.invalid_dtmf",
            EngineError::DtmfUnavailable(_) => "engine.dtmf_unavailable",
            EngineError::Sip(e) => e.code(),
        }
    }
}
