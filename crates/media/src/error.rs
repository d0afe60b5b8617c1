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
}
