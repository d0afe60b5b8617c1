//! One account's voicemail indication: its [`MwiSubscription`] (the rules), the
//! [`MwiAgent`] doing the SUBSCRIBEs, and the NOTIFYs the account's router took, turned into
//! engine events. Driven by the account task, which owns the clock.

use std::time::{Instant, SystemTime};

use sidetone_sip::{
    AccountId, MWI_EXPIRES, MwiAgent, MwiNotification, MwiSubscription, RegistrationPolicy,
    RegistrationState, SubscribeOutcome,
};
use sidetone_store::UnixMillis;
use tokio::sync::{broadcast, mpsc};

use crate::EngineEvent;

/// Something for the machine: a SUBSCRIBE's outcome, or a NOTIFY we answered.
pub(crate) enum MwiInput {
    Outcome(SubscribeOutcome),
    Notified(MwiNotification),
}

/// The subscription of one account plus its IO ends.
pub(crate) struct AccountMwi {
    /// Subscribe at all (the account's `mwi` setting); unsolicited NOTIFYs count either way.
    enabled: bool,
    machine: MwiSubscription,
    agent: MwiAgent,
    outcomes_tx: mpsc::UnboundedSender<SubscribeOutcome>,
    outcomes: mpsc::UnboundedReceiver<SubscribeOutcome>,
    notifications: Option<mpsc::UnboundedReceiver<MwiNotification>>,
}

impl AccountMwi {
    /// `seed` drives the refresh and backoff jitter.
    pub(crate) fn new(
        enabled: bool,
        agent: MwiAgent,
        notifications: Option<mpsc::UnboundedReceiver<MwiNotification>>,
        seed: u64,
    ) -> Self {
        let (outcomes_tx, outcomes) = mpsc::unbounded_channel();
        Self {
            enabled,
            machine: MwiSubscription::new(RegistrationPolicy::default(), MWI_EXPIRES, seed),
            agent,
            outcomes_tx,
            outcomes,
            notifications,
        }
    }

    /// The account's registration moved to `state`.
    pub(crate) fn registration_changed(&mut self, state: &RegistrationState) {
        match state {
            RegistrationState::Registered { .. } if self.enabled => self.machine.registered(),
            RegistrationState::Registered { .. } => {}
            _ => self.machine.registration_lost(),
        }
    }

    /// The account stops: end a live subscription.
    pub(crate) fn stop(&mut self) {
        self.machine.stop();
    }

    /// True when no SUBSCRIBE is out or queued.
    pub(crate) fn is_idle(&self) -> bool {
        self.machine.is_idle()
    }

    /// When the machine wants [`AccountMwi::handle_timeout`].
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.machine.poll_timeout()
    }

    /// Time passed.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.machine.handle_timeout(now);
    }

    /// The next outcome or NOTIFY; pending forever when there is none to come.
    pub(crate) async fn next_input(&mut self) -> MwiInput {
        tokio::select! {
            Some(outcome) = self.outcomes.recv() => MwiInput::Outcome(outcome),
            Some(notification) = next_notification(&mut self.notifications) => {
                MwiInput::Notified(notification)
            }
            // Neither can end while we hold a sender and the router lives; should both,
            // there is nothing more to wait for.
            else => std::future::pending().await,
        }
    }

    /// Feeds an input in; a NOTIFY's summary becomes an [`EngineEvent::MessageWaiting`].
    pub(crate) fn handle(
        &mut self,
        input: MwiInput,
        events: &broadcast::Sender<EngineEvent>,
        account_id: &AccountId,
        now: Instant,
    ) {
        match input {
            MwiInput::Outcome(outcome) => self.machine.handle_outcome(outcome, now),
            MwiInput::Notified(notification) => {
                if notification.solicited {
                    self.machine.handle_notify(notification.subscription, now);
                }
                if let Some(summary) = notification.summary {
                    let voice = summary.voice();
                    let _ = events.send(EngineEvent::MessageWaiting {
                        account_id: account_id.clone(),
                        messages_waiting: summary.messages_waiting,
                        new_messages: voice.new,
                        old_messages: voice.old,
                        received_at: UnixMillis::from_system_time(SystemTime::now()),
                    });
                }
            }
        }
    }

    /// Sends what the machine asks for (each SUBSCRIBE in its own task, so the account loop
    /// stays responsive) and reports its state changes.
    pub(crate) fn pump(&mut self, events: &broadcast::Sender<EngineEvent>, account_id: &AccountId) {
        while let Some(request) = self.machine.poll_transmit() {
            let agent = self.agent.clone();
            let outcomes = self.outcomes_tx.clone();
            tokio::spawn(async move {
                let _ = outcomes.send(agent.subscribe(request).await);
            });
        }
        while let Some(event) = self.machine.poll_event() {
            if let Some(reason) = &event.reason {
                tracing::info!(account = %account_id, state = ?event.state, %reason, "MWI subscription");
            }
            let _ = events.send(EngineEvent::MwiSubscription {
                account_id: account_id.clone(),
                state: event.state,
                reason: event.reason,
            });
        }
    }
}

async fn next_notification(
    notifications: &mut Option<mpsc::UnboundedReceiver<MwiNotification>>,
) -> Option<MwiNotification> {
    match notifications {
        Some(rx) => match rx.recv().await {
            Some(notification) => Some(notification),
            None => {
                // The router is gone with the endpoint: nothing more will come.
                *notifications = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}
