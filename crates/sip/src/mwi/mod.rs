//! Voicemail message-waiting indication (RFC 3842): the `message-summary` subscription
//! (RFC 6665) and its NOTIFY bodies, sans-IO. The stack side (SUBSCRIBE exchanges, NOTIFY
//! routing) is [`crate::MwiAgent`] and the account's request router.
//!
//! - [`MessageSummary`]: the `application/simple-message-summary` body parser.
//! - [`MwiSubscription`]: when to SUBSCRIBE, refresh, back off and stop.
//! - the NOTIFY rules: which ones we take (ours, or unsolicited from our registrar) and
//!   what we answer to the others (489, 481, 415, 403).

mod machine;
mod notify;
mod state;
mod summary;

pub use machine::{MWI_EXPIRES, MWI_MAX_FAILURES, MwiSubscription};
pub use notify::MWI_EVENT;
pub(crate) use notify::{NotifyFacts, NotifyVerdict, SubscriptionDialog, judge_notify};
pub use state::{
    MwiEvent, MwiNotification, MwiState, NotifiedState, SubscribeOutcome, SubscribeRequest,
};
pub use summary::{
    MAX_SUMMARY_BYTES, MessageClass, MessageCounts, MessageSummary, SUMMARY_CONTENT_TYPE,
};
