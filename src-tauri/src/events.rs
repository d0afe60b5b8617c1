//! Engine events forwarded to the UI as typed Tauri events.

use serde::Serialize;
use sidetone_engine::{CallLog, EngineEvent, EngineHandle};
use sidetone_sip::{RegistrationState, SipError};
use sidetone_store::UnixMillis;
use sidetone_voicemail::MwiCount;
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::state::AppState;

/// `registration_changed`'s payload.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationChanged {
    account_id: String,
    state: &'static str,
    reason: Option<crate::error::CommandError>,
}

/// The UI's four registration states (retrying shows as registering: it is on its way).
fn ui_state(state: &RegistrationState) -> &'static str {
    match state {
        RegistrationState::Registered { .. } => "registered",
        RegistrationState::Registering | RegistrationState::Retrying { .. } => "registering",
        RegistrationState::Failed => "failed",
        _ => "unregistered",
    }
}

/// The UI's error codes for signalling failures (ui/src/lib/api/README.md).
pub fn ui_error(error: &SipError) -> crate::error::CommandError {
    let code = match error.code() {
        "sip.wrong_password" => "auth.wrong_password",
        "sip.unreachable" => "net.unreachable",
        "sip.timeout" => "net.timeout",
        "sip.tls_untrusted" => "net.tls",
        _ => "internal",
    };
    crate::error::CommandError::new(code, error.to_string())
}

/// Forwards engine events to the UI until the engine stops. Runs on its own thread: the
/// engine's broadcast channel is read blocking, so no runtime is needed here.
pub fn forward(app: AppHandle, engine: &EngineHandle) {
    let mut events = engine.subscribe();
    let mut call_log = CallLog::new();
    let spawned = std::thread::Builder::new()
        .name("sidetone-events".into())
        .spawn(move || {
            loop {
                match events.blocking_recv() {
                    Ok(EngineEvent::Registration {
                        account_id,
                        state,
                        reason,
                    }) => {
                        let state = ui_state(&state);
                        if let Ok(mut states) = app.state::<AppState>().registration.lock() {
                            states.insert(account_id.to_string(), state);
                        }
                        let payload = RegistrationChanged {
                            account_id: account_id.to_string(),
                            state,
                            reason: reason.as_ref().map(ui_error),
                        };
                        let _ = app.emit("registration_changed", payload);
                    }
                    Ok(event @ EngineEvent::Call { .. }) => {
                        forward_call(&app, &event, &mut call_log);
                    }
                    Ok(EngineEvent::CallHeld {
                        call_id,
                        local,
                        remote,
                    }) => {
                        let calls = &app.state::<AppState>().calls;
                        if let Some(view) = calls.set_held(&call_id.0, local, remote) {
                            let _ = app.emit("call_state", view);
                        }
                    }
                    Ok(EngineEvent::MessageWaiting {
                        account_id,
                        new_messages,
                        received_at,
                        ..
                    }) => crate::voicemail::on_message_waiting(
                        &app,
                        &account_id.0,
                        MwiCount {
                            new_messages: u64::from(new_messages),
                            received_at,
                        },
                    ),
                    Ok(_) => {}
                    // A slow UI missed some events; the next ones still describe the current state.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        });
    if let Err(error) = spawned {
        eprintln!("sidetone: cannot forward engine events: {error}");
    }
}

/// A call's state to the UI (`call_state`, and `incoming_call` when it starts ringing) and
/// to the history.
fn forward_call(app: &AppHandle, event: &EngineEvent, call_log: &mut CallLog) {
    let now = UnixMillis::from_system_time(std::time::SystemTime::now());
    let app_state = app.state::<AppState>();
    let Some((view, ringing_in)) = app_state.calls.update(event, now.0) else {
        return;
    };
    if ringing_in {
        let _ = app.emit("incoming_call", crate::calls::IncomingCallView::of(&view));
    }
    let _ = app.emit("call_state", view);
    // The history is written even when the UI is not looking; a store error loses one row,
    // never the call.
    match app_state.store() {
        Ok(store) => {
            if let Err(error) = call_log.record(&store.history(), event, now) {
                eprintln!("sidetone: call history: {error}");
            }
        }
        Err(error) => eprintln!("sidetone: call history: {}", error.message),
    }
}
