//! How events and failures are printed: human lines, or one JSON object per line.

use sidetone_engine::EngineEvent;
use sidetone_sip::{AccountId, CallState, MwiState, RegistrationState, SipError};

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
        } => account_state_json("registration", account_id, state, reason.as_ref()),
        EngineEvent::AccountRemoved { account_id } => {
            serde_json::json!({ "event": "account_removed", "account": account_id.to_string() })
        }
        EngineEvent::MessageWaiting {
            account_id,
            messages_waiting,
            new_messages,
            old_messages,
            received_at,
        } => serde_json::json!({
            "event": "mwi",
            "account": account_id.to_string(),
            "messages_waiting": messages_waiting,
            "new": new_messages,
            "old": old_messages,
            "received_at_ms": received_at.0,
        }),
        EngineEvent::MwiSubscription {
            account_id,
            state,
            reason,
        } => account_state_json("mwi_subscription", account_id, state, reason.as_ref()),
        EngineEvent::Call {
            account_id,
            call_id,
            direction,
            remote,
            state,
        } => {
            let mut value = serde_json::to_value(state).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.insert("event".into(), "call".into());
                map.insert("account".into(), account_id.to_string().into());
                map.insert("call_id".into(), call_id.to_string().into());
                map.insert(
                    "direction".into(),
                    serde_json::to_value(direction).unwrap_or_default(),
                );
                map.insert("remote".into(), remote.clone().into());
            }
            value
        }
        EngineEvent::CallMedia {
            call_id,
            codec,
            local_rtp,
            remote_rtp,
        } => serde_json::json!({
            "event": "media",
            "call_id": call_id.to_string(),
            "codec": codec.as_str(),
            "local_rtp": local_rtp.to_string(),
            "remote_rtp": remote_rtp.to_string(),
        }),
        EngineEvent::CallStats { call_id, stats } => serde_json::json!({
            "event": "call_stats",
            "call_id": call_id.to_string(),
            "packets_sent": stats.packets_sent,
            "packets_received": stats.packets_received,
            "packets_ignored": stats.packets_ignored,
            "frames_concealed": stats.frames_concealed,
            "frames_skipped": stats.frames_skipped,
            "packets_late": stats.packets_late,
            "jitter_delay_ms": stats.jitter_delay_ms,
        }),
        _ => serde_json::json!({ "event": "other" }),
    }
}

/// An account's state change: the state's own fields plus `event`, `account` and, on
/// failure, `reason`.
fn account_state_json(
    event: &str,
    account_id: &AccountId,
    state: &impl serde::Serialize,
    reason: Option<&SipError>,
) -> serde_json::Value {
    let mut value = serde_json::to_value(state).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert("event".into(), event.into());
        map.insert("account".into(), account_id.to_string().into());
        if let Some(reason) = reason {
            map.insert("reason".into(), reason_json(reason));
        }
    }
    value
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
                } => retrying(*attempt, *retry_in_ms),
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
        EngineEvent::MessageWaiting {
            account_id,
            messages_waiting,
            new_messages,
            old_messages,
            ..
        } => {
            let waiting = if *messages_waiting {
                "messages waiting"
            } else {
                "nothing waiting"
            };
            format!("{account_id}: voicemail: {new_messages} new, {old_messages} old ({waiting})")
        }
        EngineEvent::MwiSubscription {
            account_id,
            state,
            reason,
        } => {
            let state = match state {
                MwiState::Idle => "idle".to_owned(),
                MwiState::Subscribing => "subscribing".to_owned(),
                MwiState::Active { expires } => format!("active (expires {expires} s)"),
                MwiState::Retrying {
                    attempt,
                    retry_in_ms,
                } => retrying(*attempt, *retry_in_ms),
                MwiState::Stopped => "stopped".to_owned(),
                _ => "unknown".to_owned(),
            };
            match reason {
                Some(reason) => format!("{account_id}: voicemail subscription {state}: {reason}"),
                None => format!("{account_id}: voicemail subscription {state}"),
            }
        }
        EngineEvent::Call {
            call_id,
            remote,
            state,
            ..
        } => match state {
            CallState::Ended { reason } => {
                format!("call {call_id} ({remote}): ended: {}", reason.short())
            }
            state => format!("call {call_id} ({remote}): {}", state.name()),
        },
        EngineEvent::CallMedia {
            call_id,
            codec,
            remote_rtp,
            ..
        } => format!("call {call_id}: media {codec} with {remote_rtp}"),
        EngineEvent::CallStats { call_id, stats } => format!(
            "call {call_id}: sent {} packets, received {}, concealed {} frames",
            stats.packets_sent, stats.packets_received, stats.frames_concealed
        ),
        _ => "event".to_owned(),
    }
}

/// `retrying (attempt 2, next in 7.5 s)`, for registrations and subscriptions alike.
fn retrying(attempt: u32, retry_in_ms: u64) -> String {
    format!(
        "retrying (attempt {attempt}, next in {:.1} s)",
        retry_in_ms as f64 / 1000.0
    )
}
