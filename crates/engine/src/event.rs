//! What the engine tells its users.

use std::net::SocketAddr;

use sidetone_media::{CodecKind, MediaStats};
use sidetone_sip::{
    AccountId, CallDirection, CallId, CallState, MwiState, RegistrationState, SipError,
};
use sidetone_store::UnixMillis;

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
    /// The voicemail server said how many messages wait (an RFC 3842 `message-summary`
    /// NOTIFY, of our subscription or unsolicited from the registrar). Feed it to
    /// `sidetone_voicemail::MwiCount { new_messages, received_at }` for the red dot.
    MessageWaiting {
        /// Which account.
        account_id: AccountId,
        /// `Messages-Waiting: yes`: the server says something is new.
        messages_waiting: bool,
        /// New (unheard) voice messages.
        new_messages: u32,
        /// Old (heard, kept) voice messages.
        old_messages: u32,
        /// When the NOTIFY arrived.
        received_at: UnixMillis,
    },
    /// An account's MWI subscription changed state (only for accounts with `mwi` on).
    /// [`MwiState::Stopped`] with its reason says the server will not serve it (489 Bad
    /// Event, 404, 403 …) or kept failing: no more SUBSCRIBEs until the account registers
    /// anew.
    MwiSubscription {
        /// Which account.
        account_id: AccountId,
        /// Its new state.
        state: MwiState,
        /// Why, when it is retrying or stopped.
        reason: Option<SipError>,
    },
    /// An account was removed (after unregistering) and will send nothing more.
    AccountRemoved {
        /// Which account.
        account_id: AccountId,
    },
    /// A call changed state (the first event of an incoming call is `Ringing`).
    Call {
        /// The account the call belongs to.
        account_id: AccountId,
        /// Which call.
        call_id: CallId,
        /// Who placed it.
        direction: CallDirection,
        /// The other party's URI.
        remote: String,
        /// Its new state.
        state: CallState,
    },
    /// A call's audio started flowing.
    CallMedia {
        /// Which call.
        call_id: CallId,
        /// The codec offer/answer agreed on.
        codec: CodecKind,
        /// Our RTP address.
        local_rtp: SocketAddr,
        /// The far end's RTP address.
        remote_rtp: SocketAddr,
    },
    /// A call's hold state changed: we put the far end on hold or resumed it
    /// ([`crate::EngineHandle::hold`]; reported once the far end accepted the re-INVITE), or
    /// the far end held or resumed us (its re-INVITE, answered at once). Both flags are the
    /// whole state after the change; voice flows both ways only when both are false.
    CallHeld {
        /// Which call.
        call_id: CallId,
        /// We hold the far end: our voice is not sent, and it sends nothing to us.
        local: bool,
        /// The far end holds us: we send nothing (it may play music on hold to us).
        remote: bool,
    },
    /// The far end sent a DTMF digit (an RFC 4733 telephone-event), reported once per
    /// key press when the event ends.
    Dtmf {
        /// Which call.
        call_id: CallId,
        /// `0`-`9`, `*`, `#` or `A`-`D`.
        digit: char,
    },
    /// How our blind transfer of a call went ([`crate::EngineHandle::transfer_blind`]).
    /// After [`TransferOutcome::Completed`] the engine hangs up its leg by itself.
    CallTransfer {
        /// Which call.
        call_id: CallId,
        /// Where the far end was sent (as given to `transfer_blind`).
        target: String,
        /// The step reached.
        outcome: TransferOutcome,
    },
    /// A call's media counters, once, when the call ends.
    CallStats {
        /// Which call.
        call_id: CallId,
        /// The counters.
        stats: MediaStats,
    },
}

/// A step of a blind transfer, as users hear of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferOutcome {
    /// The far end accepted to call the target.
    Accepted,
    /// The target answered the far end: the transfer is done and our leg ends.
    Completed,
    /// The far end refused, or its call to the target failed (the SIP status); our call
    /// goes on as it was.
    Failed {
        /// The SIP status of the refusal or of the far end's call to the target.
        status: u16,
    },
}
