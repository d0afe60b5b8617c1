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
    /// The user's choice or the system: no sound device has this id (unplugged, renamed, or a
    /// stale setting). The UI offers the device list again.
    #[error("no {direction} sound device {id:?}")]
    DeviceNotFound {
        /// `"input"` or `"output"`.
        direction: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// The system: there is no default device of this kind (no sound card, or none enabled).
    #[error("no default {direction} sound device")]
    NoDefaultDevice {
        /// `"input"` or `"output"`.
        direction: &'static str,
    },
    /// The system: the sound server or driver failed (not running, refused, disconnected).
    #[error("sound system failed: {0}")]
    Host(String),
    /// The device: it exists but would not open or start a stream in a format we can use.
    #[error("cannot open sound device {device:?}: {reason}")]
    Stream {
        /// The device's name or id.
        device: String,
        /// What went wrong.
        reason: String,
    },
}
