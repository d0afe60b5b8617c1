//! One account's task: the registration rules, the clock, and the flow doing the IO.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Instant;

use sidetone_sip::{
    AccountConfig, AccountFlow, AccountId, NameServer, Password, RegisterOutcome, RegisterRequest,
    Registration, RegistrationEvent, RegistrationPolicy, RegistrationState,
};
use sidetone_sip::{CallDirection, CallId, CallState, EndReason};
use tokio::sync::{broadcast, mpsc};

use crate::EngineEvent;
use crate::account_mwi::AccountMwi;
use crate::call_task::{self, CallContext, CallMedia, CallRegistry};

/// What the engine asks of an account.
#[derive(Debug)]
pub(crate) enum AccountCommand {
    /// Use this password from now on.
    SetPassword(Option<Password>),
    /// Place a call.
    Dial {
        /// The id the handle already gave out.
        call_id: CallId,
        /// Whom to call.
        target: String,
        /// Its audio.
        media: CallMedia,
    },
    /// Unregister and end the task.
    Stop,
}

/// What the account task asks of its flow (one at a time, in order).
enum FlowCommand {
    Register(RegisterRequest),
    SetPassword(Option<Password>),
}

/// What the flow tells the account task.
enum FlowReport {
    /// The REGISTER it was asked for ended so.
    Outcome(RegisterOutcome),
    /// The connection the binding rides on closed.
    ConnectionLost,
}

/// Runs until the account is stopped and unregistered (or its commands channel closes).
pub(crate) async fn run(
    config: AccountConfig,
    name_server: NameServer,
    mut commands: mpsc::UnboundedReceiver<AccountCommand>,
    events: broadcast::Sender<EngineEvent>,
    calls: CallRegistry,
) {
    let id = config.id.clone();
    let emit = |event: RegistrationEvent| {
        // No subscriber is fine: events are for whoever listens.
        let _ = events.send(EngineEvent::Registration {
            account_id: id.clone(),
            state: event.state,
            reason: event.reason,
        });
    };
    let mut flow = match AccountFlow::open(&config, name_server).await {
        Ok(flow) => flow,
        Err(error) => {
            emit(RegistrationEvent {
                state: RegistrationState::Failed,
                reason: Some(error),
            });
            wait_for_stop(&mut commands, &events, &id).await;
            removed(&events, &id);
            return;
        }
    };
    let agent = flow.call_agent();
    let mut incoming = flow.take_incoming_calls();
    let seed = RandomState::new().hash_one(&id);
    let mut mwi = AccountMwi::new(
        config.mwi,
        flow.mwi_agent(),
        flow.take_mwi_notifications(),
        seed.rotate_left(17),
    );
    let (flow_tx, flow_rx) = mpsc::unbounded_channel();
    let (report_tx, mut reports) = mpsc::unbounded_channel();
    let worker = tokio::spawn(flow_worker(flow, flow_rx, report_tx));

    let policy = RegistrationPolicy::for_transport(config.transport);
    let mut registration = Registration::new(policy, config.expires, seed);
    registration.start(Instant::now());
    let mut stopping = false;
    loop {
        while let Some(request) = registration.poll_transmit() {
            if flow_tx.send(FlowCommand::Register(request)).is_err() {
                break;
            }
        }
        while let Some(event) = registration.poll_event() {
            mwi.registration_changed(&event.state);
            emit(event);
        }
        mwi.pump(&events, &id);
        if stopping && registration.is_idle() && mwi.is_idle() {
            break;
        }
        let wake = [registration.poll_timeout(), mwi.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .map(tokio::time::Instant::from_std);
        tokio::select! {
            command = commands.recv() => match command {
                Some(AccountCommand::SetPassword(password)) => {
                    let _ = flow_tx.send(FlowCommand::SetPassword(password));
                    registration.credentials_changed(Instant::now());
                }
                Some(AccountCommand::Dial { call_id, target, media }) => {
                    let (context, rx) = CallContext::enrol(&id, call_id, &events, &calls);
                    tokio::spawn(call_task::run_outgoing(agent.clone(), context, target, media, rx));
                }
                Some(AccountCommand::Stop) | None => {
                    stopping = true;
                    // Before the registration: the unsubscribe goes out while registered.
                    mwi.stop();
                    registration.stop(Instant::now());
                }
            },
            report = reports.recv() => match report {
                Some(FlowReport::Outcome(outcome)) => {
                    registration.handle_outcome(outcome, Instant::now());
                }
                Some(FlowReport::ConnectionLost) => registration.flow_lost(Instant::now()),
                None => break, // the flow worker is gone; nothing more can be sent
            },
            () = sleep_until(wake) => {
                registration.handle_timeout(Instant::now());
                mwi.handle_timeout(Instant::now());
            }
            input = mwi.next_input() => mwi.handle(input, &events, &id, Instant::now()),
            call = next_call(&mut incoming) => match call {
                Some(call) => {
                    let (context, rx) =
                        CallContext::enrol(&id, call.id().clone(), &events, &calls);
                    tokio::spawn(call_task::run_incoming(agent.clone(), context, call, rx));
                }
                None => incoming = None,
            },
        }
    }
    drop(flow_tx);
    let _ = worker.await;
    removed(&events, &id);
}

async fn sleep_until(wake: Option<tokio::time::Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn next_call(
    incoming: &mut Option<mpsc::UnboundedReceiver<sidetone_sip::Call>>,
) -> Option<sidetone_sip::Call> {
    match incoming {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn wait_for_stop(
    commands: &mut mpsc::UnboundedReceiver<AccountCommand>,
    events: &broadcast::Sender<EngineEvent>,
    id: &AccountId,
) {
    while let Some(command) = commands.recv().await {
        match command {
            AccountCommand::Stop => return,
            // An account that could not open cannot call.
            AccountCommand::Dial {
                call_id, target, ..
            } => {
                let _ = events.send(EngineEvent::Call {
                    account_id: id.clone(),
                    call_id,
                    direction: CallDirection::Outgoing,
                    remote: target,
                    state: CallState::Ended {
                        reason: EndReason::Unreachable,
                    },
                });
            }
            AccountCommand::SetPassword(_) => {}
        }
    }
}

fn removed(events: &broadcast::Sender<EngineEvent>, id: &AccountId) {
    let _ = events.send(EngineEvent::AccountRemoved {
        account_id: id.clone(),
    });
}

/// Owns the flow (its exchanges need `&mut`), so the account loop stays responsive to
/// commands and timers while a REGISTER is out.
async fn flow_worker(
    mut flow: AccountFlow,
    mut commands: mpsc::UnboundedReceiver<FlowCommand>,
    reports: mpsc::UnboundedSender<FlowReport>,
) {
    loop {
        let closed = flow.connection_closed();
        let report = tokio::select! {
            command = commands.recv() => match command {
                Some(FlowCommand::Register(request)) => {
                    FlowReport::Outcome(flow.register(request).await)
                }
                Some(FlowCommand::SetPassword(password)) => {
                    flow.set_password(password);
                    continue;
                }
                None => break,
            },
            () = closed => {
                flow.forget_connection();
                FlowReport::ConnectionLost
            }
        };
        if reports.send(report).is_err() {
            break;
        }
    }
    flow.close();
}
