//! Voicemail sync from the account's IMAP mailbox into the store, and the unheard-message count that drives the red dot.
//!
//! - [`VoicemailSync::sync`] lists the folder into the store's voicemail cache (the first
//!   time, or after a UIDVALIDITY change, in full; afterwards only new UIDs, flag changes
//!   and deletions), after replaying the user's queued offline changes (heard, unheard,
//!   delete). A server that cannot be reached leaves the queue as it is.
//! - [`VoicemailSync::audio`] downloads one message's audio into a size-capped
//!   [`AudioCache`]; [`VoicemailSync::save_as_wav`] copies it out.
//! - [`unheard_badge`] / [`merge_unheard`] give the red dot's count, merging the cache with
//!   a SIP MWI count.
//!
//! Marking heard or deleting is done on the store ([`sidetone_store::VoicemailCache::set_heard`],
//! [`sidetone_store::VoicemailCache::delete`]), which queues the change; the next sync applies it.
//! The store sits behind a `std::sync::Mutex` that is never held across an await, so the
//! futures are `Send`. Passwords arrive as [`secrecy::SecretString`] and are never logged
//! by this crate.
//!
//! Logging caveat: async-imap writes every command it sends, `LOGIN` included, to the
//! `log` crate at **trace** level. Whoever installs a `log` logger (the shell's log plugin)
//! must cap the `async_imap` target at `debug` or lower.

mod account;
mod audio;
mod audio_cache;
mod badge;
mod changes;
mod connection;
mod error;
mod forget;
mod headers;
mod report;
mod store_access;
mod sync;
mod sync_state;
mod tls;
mod transport;

pub use account::{Security, VoicemailAccount};
pub use audio::audio_attachment;
pub use audio_cache::AudioCache;
pub use badge::{
    BadgeSource, MwiCount, SYNC_FRESH_FOR, UnheardBadge, merge_unheard, unheard_badge,
};
pub use error::{Result, VoicemailError};
pub use forget::forget_account;
pub use headers::{MessageMeta, UNKNOWN_CALLER, parse_meta};
pub use report::SyncReport;
pub use sync::VoicemailSync;
pub use sync_state::{FolderState, load as folder_state};
