//! What one sync did, for logs, tests and benchmarks.

/// The outcome of [`crate::VoicemailSync::sync`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncReport {
    /// A full listing was done (first sync, or the folder's UIDVALIDITY changed).
    pub full: bool,
    /// Messages whose metadata (header fields) was fetched.
    pub metadata_fetched: usize,
    /// Messages whose flags were fetched (without metadata).
    pub flags_fetched: usize,
    /// Messages new to the cache.
    pub added: usize,
    /// Cached messages whose heard state changed from the server.
    pub flags_changed: usize,
    /// Cached messages removed because they are gone from the server.
    pub removed: usize,
    /// Queued offline changes applied on the server (or dropped as obsolete).
    pub changes_applied: usize,
    /// Messages skipped because their metadata could not be stored.
    pub skipped: usize,
    /// IMAP commands sent, LOGIN and LOGOUT included.
    pub commands: u32,
}
