//! Voicemail in the app: syncing every account's mailbox into the store (at start, every few
//! minutes, when a screen asks), the red dot's counts sent to the UI as `mwi` events, and the
//! one message playing at a time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sidetone_profile::{AccountSecrets, SavedAccount};
use sidetone_store::UnixMillis;
use sidetone_voicemail::{
    MwiCount, VoicemailAccount, VoicemailError, VoicemailSync, unheard_badge,
};
use tauri::{AppHandle, Emitter, Manager};

use crate::accounts;
use crate::blocking::blocking;
use crate::error::CommandError;
use crate::state::AppState;

/// How often every mailbox is synced while the app runs (MWI, when the phone system sends
/// it, brings news sooner).
pub const SYNC_EVERY: Duration = Duration::from_secs(5 * 60);

/// The message playing now, the counts MWI reported per account, and the mailbox logins
/// read from the keychain.
#[derive(Default)]
pub struct VoicemailState {
    playing: Mutex<Option<Playing>>,
    mwi: Mutex<HashMap<String, MwiCount>>,
    /// Kept in memory after the first read, so a locked keychain does not prompt the user at
    /// every background sync; dropped when the server refuses the password.
    logins: Mutex<HashMap<String, VoicemailAccount>>,
}

/// A message being played and the switch that stops it.
struct Playing {
    id: String,
    stop: Arc<AtomicBool>,
}

impl VoicemailState {
    /// Starts tracking a playback of `id`, stopping the one before; returns its stop switch.
    pub fn start_playing(&self, id: &str) -> Arc<AtomicBool> {
        let stop = Arc::new(AtomicBool::new(false));
        if let Ok(mut playing) = self.playing.lock()
            && let Some(before) = playing.replace(Playing {
                id: id.to_owned(),
                stop: stop.clone(),
            })
        {
            before.stop.store(true, Ordering::Relaxed);
        }
        stop
    }

    /// Stops what is playing, if anything.
    pub fn stop_playing(&self) {
        if let Ok(mut playing) = self.playing.lock()
            && let Some(now) = playing.take()
        {
            now.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Forgets the playback of `id` once it ended (a newer one is kept).
    pub fn ended(&self, id: &str) {
        if let Ok(mut playing) = self.playing.lock()
            && playing.as_ref().is_some_and(|p| p.id == id)
        {
            *playing = None;
        }
    }

    /// Keeps the latest MWI count of an account.
    pub fn set_mwi(&self, account_id: &str, count: MwiCount) {
        if let Ok(mut mwi) = self.mwi.lock() {
            mwi.insert(account_id.to_owned(), count);
        }
    }

    fn mwi(&self, account_id: &str) -> Option<MwiCount> {
        self.mwi.lock().ok()?.get(account_id).copied()
    }

    /// Forgets an account's mailbox login (wrong password, sign-out).
    pub fn forget_login(&self, account_id: &str) {
        if let Ok(mut logins) = self.logins.lock() {
            logins.remove(account_id);
        }
    }
}

/// `account`'s mailbox login: from memory, else from the keychain (off the async runtime).
pub async fn login(
    state: &AppState,
    account: &SavedAccount,
) -> Result<VoicemailAccount, CommandError> {
    let kept = state
        .voicemail
        .logins
        .lock()
        .ok()
        .and_then(|logins| logins.get(&account.id).cloned());
    if let Some(login) = kept {
        return Ok(login);
    }
    let saved = account.clone();
    let login = blocking(move || saved.voicemail_login(&AccountSecrets::new())).await??;
    if let Ok(mut logins) = state.voicemail.logins.lock() {
        logins.insert(account.id.clone(), login.clone());
    }
    Ok(login)
}

/// `mwi`'s payload: the red dot's count of one account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MwiView {
    account_id: String,
    unheard: u64,
    total: u64,
}

/// What a sync of every mailbox did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncOutcome {
    /// Accounts synced.
    pub synced: Vec<String>,
    /// Accounts whose server could not be reached (their cache is shown as it is).
    pub offline: Vec<String>,
    /// Accounts that failed otherwise (wrong password, TLS), with why.
    pub failed: Vec<crate::error::CommandError>,
}

pub(crate) fn now() -> UnixMillis {
    UnixMillis::from_system_time(SystemTime::now())
}

/// The saved accounts that have a voicemail mailbox.
fn with_voicemail(state: &AppState) -> Result<Vec<SavedAccount>, CommandError> {
    Ok(accounts::load_all(&*state.store()?)?
        .into_iter()
        .filter(|a| a.voicemail.is_some())
        .collect())
}

/// Syncs every account's mailbox, then tells the UI each account's counts.
pub async fn sync_all(app: &AppHandle) -> Result<SyncOutcome, CommandError> {
    let state = app.state::<AppState>();
    let mut outcome = SyncOutcome::default();
    for account in with_voicemail(&state)? {
        match login(&state, &account).await {
            Ok(imap) => match VoicemailSync::new()
                .sync(&imap, state.store_lock(), now())
                .await
            {
                Ok(_) => outcome.synced.push(account.id.clone()),
                Err(error) if error.is_offline() => outcome.offline.push(account.id.clone()),
                Err(error) => {
                    if matches!(error, VoicemailError::WrongPassword) {
                        // A refresh may bring a new password into the keychain: read it again.
                        state.voicemail.forget_login(&account.id);
                    }
                    outcome.failed.push(error.into());
                }
            },
            Err(error) => outcome.failed.push(error),
        }
        emit_counts(app, &account)?;
    }
    Ok(outcome)
}

/// Sends `mwi` for `account`: the cache's count, or MWI's when it is newer (see
/// `sidetone_voicemail::merge_unheard`).
pub fn emit_counts(app: &AppHandle, account: &SavedAccount) -> Result<(), CommandError> {
    let state = app.state::<AppState>();
    let view = {
        let store = state.store()?;
        let mwi = state.voicemail.mwi(&account.id);
        let badge = unheard_badge(&store, &account.id, account.voicemail_folder(), mwi, now())?;
        let total = store.voicemail().list(Some(&account.id))?.len() as u64;
        MwiView {
            account_id: account.id.clone(),
            unheard: badge.count,
            total,
        }
    };
    let _ = app.emit("mwi", view);
    Ok(())
}

/// The phone system said how many messages wait: the red dot shows it at once (unless a
/// newer sync knows better) and a sync fetches what is new.
pub fn on_message_waiting(app: &AppHandle, account_id: &str, count: MwiCount) {
    let state = app.state::<AppState>();
    state.voicemail.set_mwi(account_id, count);
    let account = state
        .store()
        .and_then(|store| accounts::load_all(&store))
        .ok()
        .and_then(|all| all.into_iter().find(|a| a.id == account_id));
    let Some(account) = account else {
        return;
    };
    if account.voicemail.is_none() {
        // No mailbox to sync: the count is all there is.
        let _ = app.emit(
            "mwi",
            MwiView {
                account_id: account.id,
                unheard: count.new_messages,
                total: count.new_messages,
            },
        );
        return;
    }
    let _ = emit_counts(app, &account);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(error) = sync_all(&app).await {
            eprintln!("sidetone: voicemail sync: {}", error.message);
        }
    });
}

/// Syncs at start and every [`SYNC_EVERY`] while the app runs.
pub fn keep_synced(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            if let Err(error) = sync_all(&app).await {
                eprintln!("sidetone: voicemail sync: {}", error.message);
            }
            tokio::time::sleep(SYNC_EVERY).await;
        }
    });
}
