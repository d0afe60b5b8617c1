//! The one error type of the audio crate.

/// Why audio could not be read, written or converted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The file: missing, unreadable or not a WAV we understand.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The file system: the recording could not be written.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Our side: the resampler refused the rates.
    #[error("cannot resample: {0}")]
    Resample(String),
}
