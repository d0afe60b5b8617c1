//! What the engine tells its users.

use sidetone_sip::{AccountId, RegistrationState, SipError};

/// Something that happened in the engine, broadcast to every subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineEvent {
    /// An account's registration changed state.
    Registration {
        /// Which account.
        account_id: AccountId,
        /// Its new state.
        state: RegistrationState,
        /// Why, when it is retrying or has failed.
        reason: Option<SipError>,
    },
    /// An account was removed (after unregistering) and will send nothing more.
    AccountRemoved {
        /// Which account.
        account_id: AccountId,
    },
}
