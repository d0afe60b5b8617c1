//! The crate's one error type, named after who is at fault.

use std::path::PathBuf;

/// Why a voicemail operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VoicemailError {
    /// The server refused the user name or password (IMAP `NO` to `LOGIN`).
    #[error("the voicemail server refused the user name or password")]
    WrongPassword,
    /// The server could not be reached, or the connection dropped or timed out.
    #[error("the voicemail server is unreachable: {0}")]
    Unreachable(String),
    /// The server's TLS certificate is not trusted (or the TLS handshake failed).
    #[error("the voicemail server's TLS certificate was refused: {0}")]
    Tls(String),
    /// The server answered something we cannot use (`BAD`, an unexpected `NO`, a parse error).
    #[error("the voicemail server broke the IMAP protocol: {0}")]
    Protocol(String),
    /// The voicemail folder does not exist on the server.
    #[error("the voicemail folder {0:?} does not exist on the server")]
    FolderMissing(String),
    /// One message could not be understood (no audio attachment, unparsable MIME).
    #[error("voicemail message {uid} is malformed: {detail}")]
    MalformedMessage {
        /// The message's UID.
        uid: u32,
        /// What is wrong with it.
        detail: String,
    },
    /// The account settings are unusable (plain IMAP off loopback, unreadable CA file...).
    #[error("the voicemail account settings are invalid: {0}")]
    InvalidAccount(String),
    /// The message is not in the local cache (or no longer on the server).
    #[error("voicemail {0} not found")]
    NotFound(i64),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] sidetone_store::Error),
    /// Reading or writing the audio cache (or a save-as target) failed.
    #[error("audio file {path}: {source}")]
    AudioFile {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

impl VoicemailError {
    /// A stable code for the UI and logs, e.g. `voicemail.wrong_password`.
    pub fn code(&self) -> &'static str {
        match self {
            VoicemailError::WrongPassword => "voicemail.wrong_password",
            VoicemailError::Unreachable(_) => "voicemail.unreachable",
            VoicemailError::Tls(_) => "voicemail.tls",
            VoicemailError::Protocol(_) => "voicemail.protocol",
            VoicemailError::FolderMissing(_) => "voicemail.folder_missing",
            VoicemailError::MalformedMessage { .. } => "voicemail.malformed_message",
            VoicemailError::InvalidAccount(_) => "voicemail.invalid_account",
            VoicemailError::NotFound(_) => "voicemail.not_found",
            VoicemailError::Store(_) => "voicemail.store",
            VoicemailError::AudioFile { .. } => "voicemail.audio_file",
        }
    }

    /// True when the server could not be reached: queued changes stay queued and the cache
    /// is shown as it is (offline mode).
    pub fn is_offline(&self) -> bool {
        matches!(self, VoicemailError::Unreachable(_))
    }

    pub(crate) fn audio_file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        VoicemailError::AudioFile {
            path: path.into(),
            source,
        }
    }

    /// Classifies an error from async-imap on an established session.
    pub(crate) fn from_imap(err: async_imap::error::Error) -> Self {
        use async_imap::error::Error as E;
        match err {
            E::Io(e) => VoicemailError::Unreachable(e.to_string()),
            E::ConnectionLost => VoicemailError::Unreachable("connection lost".to_owned()),
            E::Bad(s) => VoicemailError::Protocol(format!("server said BAD: {s}")),
            E::No(s) => VoicemailError::Protocol(format!("server said NO: {s}")),
            other => VoicemailError::Protocol(other.to_string()),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = VoicemailError> = std::result::Result<T, E>;
