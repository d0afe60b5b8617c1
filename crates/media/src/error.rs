//! The one error type of the media crate.

/// Why media could not be set up or processed, named after who is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The far end: its SDP does not parse or lacks what RFC 3264 requires.
    #[error("bad SDP from the far end: {0}")]
    BadRemoteSdp(String),
    /// Both ends: no codec in common, or the audio stream was refused (port 0).
    #[error("no common codec")]
    NoCommonCodec,
    /// Our side: a codec (libopus) or resampler could not be created or failed.
    #[error("codec error: {0}")]
    Codec(String),
    /// The caller: a DTMF string with a character that is no digit (`None`: it was empty).
    #[error("{}", match .0 {
        Some(c) => format!("invalid DTMF digit {c:?}: use 0-9, *, #, A-D"),
        None => "no DTMF digits given: use 0-9, *, #, A-D".to_owned(),
    })]
    InvalidDtmfDigit(Option<char>),
    /// Both ends: no telephone-event payload type was agreed, so RFC 4733 DTMF cannot be
    /// sent on this call.
    #[error("the call has no telephone-event (RFC 4733) payload type")]
    DtmfNotNegotiated,
}
