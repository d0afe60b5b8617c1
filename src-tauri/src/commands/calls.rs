//! Call commands: dial, answer, decline, hang up, mute. Progress comes back as `call_state`
//! events; the commands resolve when the request is sent.

use serde::Serialize;
use sidetone_sip::{AccountId, CallId};
use tauri::{AppHandle, Emitter, State};

use crate::accounts;
use crate::blocking::blocking;
use crate::error::CommandError;
use crate::state::AppState;

/// `call_dial`'s result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dialled {
    call_id: String,
}

/// What the user typed, as the engine's target: a SIP URI as it is, a `tel:`/`callto:` link's
/// number, or a number with its visual separators (spaces, dashes, dots, brackets) removed.
pub fn dial_target(typed: &str) -> Result<String, CommandError> {
    let invalid = || {
        CommandError::new(
            "call.invalid_target",
            "Enter a number or a SIP address to call.",
        )
    };
    let typed = typed.trim();
    let lower = typed.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        let ok = typed.contains('@') || typed.len() > 4;
        return ok
            .then(|| typed.to_owned())
            .filter(|t| !t.chars().any(|c| c.is_whitespace() || c.is_control()))
            .ok_or_else(invalid);
    }
    let number = ["tel:", "callto:"]
        .iter()
        .find_map(|p| lower.starts_with(p).then(|| &typed[p.len()..]))
        .unwrap_or(typed);
    // A `tel:` URI may carry parameters (`;phone-context=…`): the number is before them.
    let number = number.split(';').next().unwrap_or_default();
    let cleaned: String = number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
        .collect();
    let valid = !cleaned.is_empty()
        && cleaned.len() <= 64
        && cleaned
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || c == '*' || c == '#' || (c == '+' && i == 0));
    if valid {
        return Ok(cleaned);
    }
    // A plain user name of the account's domain (`alice`), or `user@host` without a scheme.
    let user_like = typed.chars().any(|c| c.is_ascii_alphabetic())
        && typed.len() <= 128
        && typed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+@:".contains(c));
    user_like.then(|| typed.to_owned()).ok_or_else(invalid)
}

/// The account to call from: the one asked for, else the first registered one.
fn calling_account(
    state: &AppState,
    account_id: Option<String>,
) -> Result<AccountId, CommandError> {
    let registered = |id: &str| {
        state
            .registration
            .lock()
            .map(|r| r.get(id).copied() == Some("registered"))
            .unwrap_or(false)
    };
    let not_registered = || {
        CommandError::new(
            "call.not_registered",
            "Your phone line is not connected yet.",
        )
    };
    if let Some(id) = account_id {
        return registered(&id)
            .then_some(AccountId(id))
            .ok_or_else(not_registered);
    }
    let saved = accounts::load_all(&*state.store()?)?;
    saved
        .into_iter()
        .map(|a| a.id)
        .find(|id| registered(id))
        .map(AccountId)
        .ok_or_else(not_registered)
}

/// Places a call.
#[tauri::command]
pub fn call_dial(
    state: State<'_, AppState>,
    target: String,
    account_id: Option<String>,
) -> Result<Dialled, CommandError> {
    let target = dial_target(&target)?;
    let account = calling_account(&state, account_id)?;
    let call_id = state.engine.dial(&account, &target, state.call_media())?;
    Ok(Dialled {
        call_id: call_id.to_string(),
    })
}

/// Answers a ringing call.
#[tauri::command]
pub fn call_answer(state: State<'_, AppState>, call_id: String) -> Result<(), CommandError> {
    Ok(state.engine.answer(&CallId(call_id), state.call_media())?)
}

/// Declines a ringing call.
#[tauri::command]
pub fn call_decline(state: State<'_, AppState>, call_id: String) -> Result<(), CommandError> {
    Ok(state.engine.decline(&CallId(call_id))?)
}

/// Hangs up (or cancels) a call.
#[tauri::command]
pub fn call_hangup(state: State<'_, AppState>, call_id: String) -> Result<(), CommandError> {
    Ok(state.engine.hangup(&CallId(call_id))?)
}

/// Mutes or unmutes our microphone on a call.
#[tauri::command]
pub fn call_mute(
    app: AppHandle,
    state: State<'_, AppState>,
    call_id: String,
    mute: bool,
) -> Result<(), CommandError> {
    state.engine.mute(&CallId(call_id.clone()), mute)?;
    if let Some(view) = state.calls.set_muted(&call_id, mute) {
        let _ = app.emit("call_state", view);
    }
    Ok(())
}

/// Puts a call on hold or resumes it (re-INVITE); the new state arrives as `call_state`.
#[tauri::command]
pub fn call_hold(
    state: State<'_, AppState>,
    call_id: String,
    hold: bool,
) -> Result<(), CommandError> {
    Ok(state.engine.hold(&CallId(call_id), hold)?)
}

/// Transfers a call to `target` without consulting it (REFER): once the target answers the
/// far end, our leg ends and the call's `call_state` says `ended`. A bad target or a call
/// that is not established is refused at once, off the main thread.
#[tauri::command]
pub async fn call_transfer_blind(
    state: State<'_, AppState>,
    call_id: String,
    target: String,
) -> Result<(), CommandError> {
    let engine = state.engine.clone();
    Ok(blocking(move || engine.transfer_blind(&CallId(call_id), &target)).await??)
}

/// Sends DTMF digits (`0-9*#A-D`, RFC 4733) on a call. Waits for the call to say whether
/// they went out (a tick at most), off the main thread.
#[tauri::command]
pub async fn call_dtmf(
    state: State<'_, AppState>,
    call_id: String,
    digits: String,
) -> Result<(), CommandError> {
    let engine = state.engine.clone();
    Ok(blocking(move || engine.dtmf(&CallId(call_id), &digits)).await??)
}

#[cfg(test)]
mod tests {
    use super::dial_target;

    #[test]
    fn numbers_lose_their_separators_and_links_their_scheme() {
        assert_eq!(dial_target(" +1 (555) 014-2 ").unwrap(), "+15550142");
        assert_eq!(
            dial_target("tel:+1-555-0142;phone-context=x").unwrap(),
            "+15550142"
        );
        assert_eq!(dial_target("callto:204").unwrap(), "204");
        assert_eq!(dial_target("*97#").unwrap(), "*97#");
        assert_eq!(
            dial_target("sip:ann@pbx.example.com").unwrap(),
            "sip:ann@pbx.example.com"
        );
        assert_eq!(dial_target("alice").unwrap(), "alice");
    }

    #[test]
    fn nonsense_is_refused_with_a_code() {
        for bad in ["", "   ", "1+2", "drop table;", "sip:a b@c", "<script>"] {
            assert_eq!(
                dial_target(bad).unwrap_err().code,
                "call.invalid_target",
                "{bad:?}"
            );
        }
    }
}
