//! Keeping provisioned accounts current: each account's document is fetched again when its
//! `refresh_interval` has passed (checked every few minutes), with the keychain's refresh
//! token or kept password. A new SIP password goes to the engine at once. When the provider
//! ended the session, the account is marked and the UI is told (`session_expired`) to ask
//! the user to sign in again; nothing is retried until they do.

use std::time::Duration;

use serde::Serialize;
use sidetone_profile::refresh::{self, Refreshed};
use sidetone_profile::{AccountSecrets, SavedAccount};
use sidetone_sip::AccountId;
use tauri::{AppHandle, Emitter, Manager};

use crate::accounts;
use crate::blocking::blocking;
use crate::error::CommandError;
use crate::state::AppState;
use crate::voicemail::now;

/// How often the app looks for accounts whose refresh is due.
const CHECK_EVERY: Duration = Duration::from_secs(10 * 60);

/// `session_expired`'s payload: which account needs its user to sign in again.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionExpired {
    account_id: String,
    login_id: String,
    provider_name: String,
}

/// What a refresh of one account ended with, for the UI.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshStatus {
    /// The document was fetched and applied.
    Refreshed,
    /// The provider ended the session (or nothing is kept to refresh with).
    SignInAgain,
}

/// Refreshes `account` now.
pub async fn refresh_account(
    app: &AppHandle,
    account: SavedAccount,
) -> Result<RefreshStatus, CommandError> {
    let state = app.state::<AppState>();
    let for_keychain = account.clone();
    let credentials =
        blocking(move || for_keychain.refresh_credentials(&AccountSecrets::new())).await??;
    let Some(credentials) = credentials else {
        return sign_in_again(app, &account);
    };
    let client = state.onboarding.client()?;
    match refresh::fetch_refreshed(client, &account, credentials).await? {
        Refreshed::Document {
            document,
            rotated_refresh_token,
        } => {
            let store = state.store()?;
            let applied = refresh::apply_refreshed(
                &store,
                &AccountSecrets::new(),
                &account,
                &document,
                rotated_refresh_token.as_ref(),
                now(),
            )?;
            drop(store);
            if applied.sip_password_changed {
                let password = accounts::load_password(&account.id)?;
                state
                    .engine
                    .set_password(&AccountId(account.id.clone()), password)?;
            }
            Ok(RefreshStatus::Refreshed)
        }
        Refreshed::SignInAgain(reason) => {
            eprintln!("sidetone: {}: {reason}", account.id);
            sign_in_again(app, &account)
        }
    }
}

fn sign_in_again(app: &AppHandle, account: &SavedAccount) -> Result<RefreshStatus, CommandError> {
    refresh::mark_sign_in_again(&*app.state::<AppState>().store()?, account)?;
    let _ = app.emit(
        "session_expired",
        SessionExpired {
            account_id: account.id.clone(),
            login_id: account.login_id.clone(),
            provider_name: account.provider_name.clone(),
        },
    );
    Ok(RefreshStatus::SignInAgain)
}

/// Refreshes due accounts now and then while the app runs. A server that can't be reached
/// is tried again at the next check.
pub fn keep_current(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let due: Vec<SavedAccount> = match app
                .state::<AppState>()
                .store()
                .and_then(|store| accounts::load_all(&store))
            {
                Ok(all) => all.into_iter().filter(|a| a.refresh_due(now())).collect(),
                Err(_) => continue,
            };
            for account in due {
                let id = account.id.clone();
                if let Err(error) = refresh_account(&app, account).await {
                    eprintln!("sidetone: refreshing {id}: {}", error.message);
                }
            }
        }
    });
}
