//! The phone: owns the tokio runtime, sockets and timers, composes the signalling, media,
//! audio, onboarding, vault, store and voicemail crates, and exposes one [`EngineHandle`]
//! (commands in, events out) shared by the desktop shell and the CLI.
//!
//! Today it runs registration and calls: per account, an [`sidetone_sip::AccountFlow`] (the IO) driven
//! by a [`sidetone_sip::Registration`] (the rules), with the engine supplying the clock; per
//! call, a task driving a [`sidetone_sip::Call`] and, once offer/answer agreed, its RTP socket
//! and [`sidetone_media::MediaSession`] on a 20 ms clock. Per account with `mwi` on, a
//! [`sidetone_sip::MwiSubscription`] subscribes to voicemail counts once registered; every
//! message summary (subscribed or unsolicited) arrives as [`EngineEvent::MessageWaiting`].

mod account_mwi;
mod account_task;
mod call_log;
mod call_task;
mod engine;
mod error;
mod event;
mod first_working;
pub mod provisioned;

pub use call_log::CallLog;
pub use call_task::CallMedia;
pub use engine::{CALL_ANSWER_WAIT, DNS_SERVER_ENV, Engine, EngineConfig, EngineHandle};
pub use error::EngineError;
pub use event::{EngineEvent, TransferOutcome};
