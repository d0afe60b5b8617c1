//! Account commands: the manual (administrator) login, the account list, sign-out.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use sidetone_sip::{Password, manual_account_candidates};
use tauri::State;

use crate::accounts::{self, SavedAccount};
use crate::blocking::blocking;
use crate::error::CommandError;
use crate::events::ui_error;
use crate::state::AppState;

/// How long one transport may take to answer during a manual login.
const PER_TRANSPORT: Duration = Duration::from_secs(8);

/// The result of a sign-in: the account, and whether terms must be accepted first.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInResult {
    /// The account the UI follows (the first line of a document).
    pub account_id: String,
    /// True when the terms must be accepted before it registers.
    pub terms_required: bool,
}

/// An account as the UI lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    id: String,
    display_name: String,
    login_id: String,
    provider_name: String,
    server_host: String,
    method: String,
    registration: &'static str,
    terms_pending: bool,
    sign_in_again: bool,
}

/// Signs in with a server name, login ID and password typed by hand: tries the transports
/// the server's DNS offers (NAPTR, SRV; TLS first), else TLS, TCP, then UDP on their default
/// ports, keeps the first that registers, and files the password in the keychain.
#[tauri::command]
pub async fn onboarding_manual(
    state: State<'_, AppState>,
    server: String,
    login_id: String,
    password: String,
) -> Result<SignInResult, CommandError> {
    let password = Password::new(password);
    // The input is checked at once, before DNS is asked.
    manual_account_candidates(&server, &login_id, password.clone())
        .map_err(|e| CommandError::new("invalid_input", e.to_string()))?;
    let engine = state.engine.clone();
    let (typed_server, typed_login, typed_password) =
        (server.clone(), login_id.clone(), password.clone());
    let registered = blocking(move || {
        let candidates = engine.manual_candidates(&typed_server, &typed_login, typed_password)?;
        engine.register_first_working(candidates, PER_TRANSPORT)
    })
    .await?
    .map_err(|e| match e {
        sidetone_engine::EngineError::Sip(sip) => ui_error(&sip),
        other => CommandError::internal(other.to_string()),
    })?;
    let saved = SavedAccount::from_config(&registered, login_id.trim(), server.trim());
    // The keychain may block on an unlock prompt: keep it off the async runtime.
    let id = saved.id.clone();
    let stored = blocking(move || accounts::store_password(&id, &password)).await?;
    if let Err(error) = stored {
        // No keychain, no account: never keep the password anywhere else.
        let _ = state.engine.unregister(&registered.id);
        return Err(error);
    }
    accounts::save(&*state.store()?, saved.clone())?;
    if let Ok(mut states) = state.registration.lock() {
        states.insert(saved.id.clone(), "registered");
    }
    Ok(SignInResult {
        account_id: saved.id,
        terms_required: false,
    })
}

/// The accounts of this profile with their registration state.
#[tauri::command]
pub fn accounts_list(state: State<'_, AppState>) -> Result<Vec<AccountView>, CommandError> {
    let saved = accounts::load_all(&*state.store()?)?;
    let parked = state.onboarding.parked_all();
    let states: HashMap<String, &'static str> = state
        .registration
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    let waiting = parked.into_iter().map(|(id, p)| AccountView {
        registration: "unregistered",
        display_name: p
            .lines
            .first()
            .map_or_else(|| p.login_id.clone(), |l| l.display_name.clone()),
        id,
        login_id: p.login_id,
        provider_name: p.provider_name,
        server_host: p.server_host,
        method: p.method.as_str().to_owned(),
        terms_pending: true,
        sign_in_again: false,
    });
    Ok(saved
        .into_iter()
        .map(|a| AccountView {
            registration: states.get(&a.id).copied().unwrap_or("unregistered"),
            display_name: a.display_name.clone().unwrap_or_else(|| a.login_id.clone()),
            sign_in_again: a.sign_in_again,
            id: a.id,
            login_id: a.login_id,
            provider_name: a.provider_name,
            server_host: a.server_host,
            method: a.method,
            terms_pending: false,
        })
        .chain(waiting)
        .collect())
}

/// Fetches an account's provisioning document again now and applies it.
#[tauri::command]
pub async fn account_refresh(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    account_id: String,
) -> Result<crate::refresh::RefreshStatus, CommandError> {
    let account = accounts::load_all(&*state.store()?)?
        .into_iter()
        .find(|a| a.id == account_id)
        .ok_or_else(|| CommandError::new("profile.unknown_account", "No such account."))?;
    crate::refresh::refresh_account(&app, account).await
}

/// Signs an account out: unregisters it, forgets it and removes its secrets; with
/// `forget_data`, also the voicemail this computer kept for it (messages and audio).
#[tauri::command]
pub async fn account_sign_out(
    state: State<'_, AppState>,
    account_id: String,
    forget_data: Option<bool>,
) -> Result<(), CommandError> {
    // An account still waiting for its terms was never saved: forgetting it is enough.
    if state.onboarding.unpark(&account_id).is_some() {
        return Ok(());
    }
    let _ = state
        .engine
        .unregister(&sidetone_sip::AccountId(account_id.clone()));
    accounts::remove(&*state.store()?, &account_id)?;
    state.voicemail.forget_login(&account_id);
    if forget_data == Some(true) {
        let cache = sidetone_profile::voicemail_audio_cache(&state.profile_dir);
        sidetone_voicemail::forget_account(&*state.store()?, &cache, &account_id)?;
    }
    blocking(move || accounts::forget_secrets(&account_id)).await?
}
