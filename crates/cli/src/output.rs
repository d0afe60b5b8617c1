//! How events and failures are printed: human lines, or one JSON object per line.

use sidetone_engine::EngineEvent;
use sidetone_sip::{RegistrationState, SipError};

/// Prints one engine event to stdout.
pub fn print_event(event: &EngineEvent, json: bool) {
    let line = if json {
        event_json(event).to_string()
    } else {
        event_text(event)
    };
    println!("{line}");
}

/// The JSON form: `{"event":"registration","account":…,"state":"registered","expires":600}`
/// plus `"reason":{"code":…,"message":…}` on failure.
pub fn event_json(event: &EngineEvent) -> serde_json::Value {
    match event {
        EngineEvent::Registration {
            account_id,
            state,
            reason,
        } => {
            let mut value = serde_json::to_value(state).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.insert("event".into(), "registration".into());
                map.insert("account".into(), account_id.to_string().into());
                if let Some(reason) = reason {
                    map.insert("reason".into(), reason_json(reason));
                }
            }
            value
        }
        EngineEvent::AccountRemoved { account_id } => {
            serde_json::json!({ "event": "account_removed", "account": account_id.to_string() })
        }
        _ => serde_json::json!({ "event": "other" }),
    }
}

/// `{"code":"sip.wrong_password","message":"wrong password"}`.
pub fn reason_json(reason: &SipError) -> serde_json::Value {
    serde_json::json!({ "code": reason.code(), "message": reason.to_string() })
}

fn event_text(event: &EngineEvent) -> String {
    match event {
        EngineEvent::Registration {
            account_id,
            state,
            reason,
        } => {
            let state = match state {
                RegistrationState::Unregistered => "unregistered".to_owned(),
                RegistrationState::Registering => "registering".to_owned(),
                RegistrationState::Registered { expires } => {
                    format!("registered (expires {expires} s)")
                }
                RegistrationState::Retrying {
                    attempt,
                    retry_in_ms,
                } => {
                    format!(
                        "retrying (attempt {attempt}, next in {:.1} s)",
                        *retry_in_ms as f64 / 1000.0
                    )
                }
                RegistrationState::Unregistering => "unregistering".to_owned(),
                RegistrationState::Failed => "failed".to_owned(),
                _ => "unknown".to_owned(),
            };
            match reason {
                Some(reason) => format!("{account_id}: {state}: {reason}"),
                None => format!("{account_id}: {state}"),
            }
        }
        EngineEvent::AccountRemoved { account_id } => format!("{account_id}: removed"),
        _ => "event".to_owned(),
    }
}
