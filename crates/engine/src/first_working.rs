//! Registers the first of several candidate accounts that a server answers (manual login).

use std::time::{Duration, Instant};

use sidetone_sip::{
    AccountConfig, Password, RegistrationState, SipError, locate_manual_candidates,
    worth_trying_next,
};
use tokio::sync::broadcast::error::TryRecvError;

use crate::{EngineError, EngineEvent, EngineHandle};

/// How often the blocking wait looks at the event queue.
const POLL: Duration = Duration::from_millis(20);

/// Longer than the location step can take (a NAPTR query, then the SRV queries at once,
/// each bounded by its own deadline), so its own fall back is what the user gets.
const LOCATE_DEADLINE: Duration = Duration::from_secs(10);

impl EngineHandle {
    /// The accounts a manual login tries, in order (see
    /// `sidetone_sip::locate_manual_candidates`): the transports the server's DNS offers
    /// (NAPTR, SRV), TLS first, else TLS, TCP, UDP on their default ports. Asks this engine's
    /// name server. Blocks: call it off the async runtime.
    pub fn manual_candidates(
        &self,
        server: &str,
        login_id: &str,
        password: Password,
    ) -> Result<Vec<AccountConfig>, EngineError> {
        let (server, login_id) = (server.to_owned(), login_id.to_owned());
        let name_server = self.name_server();
        let located = self.run_on_engine(
            async move {
                locate_manual_candidates(&server, &login_id, password, name_server).await
            },
            LOCATE_DEADLINE,
        )?;
        Ok(located?)
    }

    /// Tries `candidates` in order (see `sidetone_sip::manual_account_candidates`), waiting at
    /// most `per_attempt` for each, and returns the one that registered; it stays registered.
    /// Moves on only when a server did not answer: a wrong password or an untrusted
    /// certificate ends the search with that error, so nothing is retried against a lockout
    /// and TLS failures never fall back to plain text. Blocks: call it off the async runtime.
    pub fn register_first_working(
        &self,
        candidates: Vec<AccountConfig>,
        per_attempt: Duration,
    ) -> Result<AccountConfig, EngineError> {
        let mut last_error = SipError::Unreachable("no transport to try".into());
        for candidate in candidates {
            match self.attempt(&candidate, per_attempt) {
                Ok(()) => return Ok(candidate),
                Err(error) if worth_trying_next(&error) => last_error = error,
                Err(error) => return Err(error.into()),
            }
        }
        Err(last_error.into())
    }

    fn attempt(&self, candidate: &AccountConfig, per_attempt: Duration) -> Result<(), SipError> {
        // Subscribe before registering, so no event of this attempt is missed.
        let mut events = self.subscribe();
        let id = self.register(candidate.clone()).map_err(into_sip)?;
        let deadline = Instant::now() + per_attempt;
        let outcome = loop {
            match events.try_recv() {
                Ok(EngineEvent::Registration {
                    account_id,
                    state,
                    reason,
                }) if account_id == id => match (state, reason) {
                    (RegistrationState::Registered { .. }, _) => return Ok(()),
                    (
                        RegistrationState::Failed | RegistrationState::Retrying { .. },
                        Some(reason),
                    ) => {
                        break Err(reason);
                    }
                    _ => {}
                },
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty) => {
                    if Instant::now() >= deadline {
                        break Err(SipError::Timeout);
                    }
                    std::thread::sleep(POLL);
                }
                Err(TryRecvError::Closed) => {
                    break Err(SipError::Internal("the engine stopped".into()));
                }
            }
        };
        // This candidate failed: remove it before the next one takes the same account id.
        let _ = self.unregister(&id);
        let removed_by = Instant::now() + Duration::from_secs(6);
        while Instant::now() < removed_by {
            match events.try_recv() {
                Ok(EngineEvent::AccountRemoved { account_id }) if account_id == id => break,
                Err(TryRecvError::Empty) => std::thread::sleep(POLL),
                Err(TryRecvError::Closed) => break,
                _ => {}
            }
        }
        outcome
    }
}

fn into_sip(error: EngineError) -> SipError {
    match error {
        EngineError::Sip(error) => error,
        other => SipError::Internal(other.to_string()),
    }
}
