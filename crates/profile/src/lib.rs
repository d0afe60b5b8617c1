//! What a Sidetone profile keeps about its accounts, shared by the desktop app and
//! `sidetone-cli` so both see the same phone lines:
//!
//! - [`SavedAccount`]s in the profile's store (no secret ever): enough to register again,
//!   and where the line's voicemail is ([`SavedVoicemail`]);
//! - their secrets in the OS keychain through [`AccountSecrets`] (SIP password, single
//!   sign-on refresh token, voicemail password), never anywhere else;
//! - which provider terms were accepted, with the emergency address ([`terms`]).
//!
//! Nothing here talks to a server; the app and the CLI compose this with the engine.

mod account_list;
mod error;
pub mod refresh;
mod saved_account;
mod secrets;
pub mod terms;
mod voicemail_settings;

pub use account_list::{ACCOUNTS_KEY, AccountList};
pub use error::{ProfileError, Result};
pub use saved_account::{SavedAccount, SignInMethod};
pub use secrets::{AccountSecrets, VAULT_SERVICE};
pub use voicemail_settings::{
    SavedVoicemail, VOICEMAIL_AUDIO_BYTES, VoicemailSecurity, voicemail_audio_cache,
};
