//! SIP signalling for Sidetone: accounts, registration, calls, transfers and subscriptions
//! (MWI), as sans-IO state machines over a maintained SIP stack that stays behind our own types.
//!
//! Two halves:
//! - sans-IO logic ([`Registration`], [`MwiSubscription`], [`MessageSummary`]): takes `(input, now)`, says what to send
//!   ([`Registration::poll_transmit`]), what happened ([`Registration::poll_event`]) and when
//!   to wake it up ([`Registration::poll_timeout`]). No clock, no sockets, fully unit-tested.
//! - the IO adapter ([`AccountFlow`]) over rsipstack: dials the account's transport and sends
//!   one REGISTER exchange at a time, answering with a [`RegisterOutcome`]. Nothing of
//!   rsipstack appears in this crate's public API, so the stack can be swapped.

mod account;
mod call;
mod error;
mod locate;
mod manual;
mod mwi;
mod registration;
mod screening;
mod stack;
mod transport;

pub use account::{AccountConfig, AccountId, OutboundProxy, Password, SipUri};
pub use call::{
    CallDirection, CallEvent, CallId, CallInput, CallMachine, CallState, EndReason, SessionUpdate,
    TransferUpdate,
};
pub use error::SipError;
pub use locate::NameServer;
pub use manual::{locate_manual_candidates, manual_account_candidates, worth_trying_next};
pub use mwi::{
    MAX_SUMMARY_BYTES, MWI_EVENT, MWI_EXPIRES, MWI_MAX_FAILURES, MessageClass, MessageCounts,
    MessageSummary, MwiEvent, MwiNotification, MwiState, MwiSubscription, NotifiedState,
    SUMMARY_CONTENT_TYPE, SubscribeOutcome, SubscribeRequest,
};
pub use registration::{
    RegisterOutcome, RegisterRequest, Registration, RegistrationEvent, RegistrationPolicy,
    RegistrationState,
};
pub use screening::{DatagramVerdict, screen_datagram};
pub use stack::{AccountFlow, Call, CallAgent, MwiAgent, install_crypto_provider};
pub use transport::Transport;
