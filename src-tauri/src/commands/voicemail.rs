//! Voicemail commands: the cached list (works offline), a sync on demand, play and stop,
//! heard/unheard and delete (applied on the server at once when it answers, else at the next
//! sync), and saving a message as a WAV file.

use std::path::PathBuf;

use serde::Serialize;
use sidetone_audio::{AudioControls, play_file};
use sidetone_profile::{SavedAccount, voicemail_audio_cache};
use sidetone_store::{Voicemail, VoicemailId};
use sidetone_voicemail::VoicemailSync;
use tauri::{AppHandle, Emitter, Manager, State};

use crate::accounts;
use crate::error::CommandError;
use crate::state::AppState;
use crate::voicemail::{self, SyncOutcome, now};

/// One message as the Voicemail screen shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoicemailView {
    id: String,
    account_id: String,
    from: String,
    display_name: Option<String>,
    received_at: i64,
    duration_secs: u64,
    heard: bool,
}

impl From<Voicemail> for VoicemailView {
    fn from(v: Voicemail) -> Self {
        Self {
            id: v.id.0.to_string(),
            account_id: v.message.account_id,
            from: v.caller,
            display_name: v.caller_name,
            received_at: v.received_at.0,
            duration_secs: v.duration.map_or(0, |d| d.as_secs()),
            heard: v.heard,
        }
    }
}

/// `voicemail_playback`'s payload.
#[derive(Debug, Clone, Serialize)]
struct PlaybackView {
    id: String,
    playing: bool,
}

/// Where a saved message went.
#[derive(Debug, Serialize)]
pub struct ExportView {
    path: String,
}

/// Every account's cached messages, newest first.
#[tauri::command]
pub fn voicemail_list(state: State<'_, AppState>) -> Result<Vec<VoicemailView>, CommandError> {
    let mut all = state.store()?.voicemail().list(None)?;
    all.sort_by_key(|m| std::cmp::Reverse(m.received_at));
    Ok(all.into_iter().map(VoicemailView::from).collect())
}

/// Syncs every mailbox now (the screen calls it when it opens).
#[tauri::command]
pub async fn voicemail_sync(app: AppHandle) -> Result<SyncOutcome, CommandError> {
    voicemail::sync_all(&app).await
}

/// Plays a message (downloading its audio first when needed) on the chosen speaker.
#[tauri::command]
pub async fn voicemail_play(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> Result<(), CommandError> {
    let (message, account) = message_and_account(&state, &id)?;
    let path = local_audio(&state, &account, message.id).await?;
    let device = state
        .store()
        .and_then(|store| crate::commands::settings::load(&store))
        .unwrap_or_default()
        .device_choice()
        .output;
    let stop = state.voicemail.start_playing(&id);
    let _ = app.emit(
        "voicemail_playback",
        PlaybackView {
            id: id.clone(),
            playing: true,
        },
    );
    let done_app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let played = play_file(
            &path,
            std::time::Duration::ZERO,
            device.as_deref(),
            &AudioControls::new(),
            &stop,
        );
        if let Err(error) = played {
            eprintln!("sidetone: voicemail {id} did not play: {error}");
        }
        done_app.state::<AppState>().voicemail.ended(&id);
        let _ = done_app.emit("voicemail_playback", PlaybackView { id, playing: false });
    });
    Ok(())
}

/// Stops the message playing.
#[tauri::command]
pub fn voicemail_stop(state: State<'_, AppState>) {
    state.voicemail.stop_playing();
}

/// Marks a message heard or unheard.
#[tauri::command]
pub async fn voicemail_mark_heard(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    heard: bool,
) -> Result<(), CommandError> {
    let (message, account) = message_and_account(&state, &id)?;
    state
        .store()?
        .voicemail()
        .set_heard(message.id, heard, now())?;
    apply_soon(app, account)
}

/// Deletes a message.
#[tauri::command]
pub async fn voicemail_delete(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> Result<(), CommandError> {
    let (message, account) = message_and_account(&state, &id)?;
    state.store()?.voicemail().delete(message.id, now())?;
    apply_soon(app, account)
}

/// Saves a message as a WAV file at `path`, or in Downloads (else home) under the caller's
/// name and the date when no path is given.
#[tauri::command]
pub async fn voicemail_export(
    state: State<'_, AppState>,
    id: String,
    path: Option<String>,
) -> Result<ExportView, CommandError> {
    let (message, account) = message_and_account(&state, &id)?;
    let dest = match path {
        Some(path) if !path.trim().is_empty() => PathBuf::from(path),
        _ => default_export_path(&message)?,
    };
    let imap = voicemail::login(&state, &account).await?;
    VoicemailSync::new()
        .save_as_wav(
            &imap,
            state.store_lock(),
            message.id,
            &voicemail_audio_cache(&state.profile_dir),
            &dest,
        )
        .await?;
    Ok(ExportView {
        path: dest.display().to_string(),
    })
}

/// The message `id` and its account, or `voicemail.not_found`.
fn message_and_account(
    state: &AppState,
    id: &str,
) -> Result<(Voicemail, SavedAccount), CommandError> {
    let not_found = || CommandError::new("voicemail.not_found", "This message is gone.");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let store = state.store()?;
    let message = store
        .voicemail()
        .get(VoicemailId(id))?
        .filter(|m| !m.delete_pending)
        .ok_or_else(not_found)?;
    let account = accounts::load_all(&store)?
        .into_iter()
        .find(|a| a.id == message.message.account_id)
        .ok_or_else(not_found)?;
    Ok((message, account))
}

/// The message's audio on disk (downloaded now when it is not cached).
async fn local_audio(
    state: &AppState,
    account: &SavedAccount,
    id: VoicemailId,
) -> Result<PathBuf, CommandError> {
    let imap = voicemail::login(state, account).await?;
    Ok(VoicemailSync::new()
        .audio(
            &imap,
            state.store_lock(),
            id,
            &voicemail_audio_cache(&state.profile_dir),
        )
        .await?)
}

/// Shows the change in the counts now and applies it on the server in the background (when
/// the server can't be reached it stays queued for the next sync).
fn apply_soon(app: AppHandle, account: SavedAccount) -> Result<(), CommandError> {
    voicemail::emit_counts(&app, &account)?;
    tauri::async_runtime::spawn(async move {
        if let Err(error) = voicemail::sync_all(&app).await {
            eprintln!("sidetone: voicemail sync: {}", error.message);
        }
    });
    Ok(())
}

fn default_export_path(message: &Voicemail) -> Result<PathBuf, CommandError> {
    let dir = crate::export_dir::default_export_dir("voicemail.export_failed")?;
    let day = message
        .received_at
        .to_rfc3339()
        .map_or_else(|| "message".into(), |t| t[..10].to_owned());
    let caller: String = message
        .caller
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '+' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(dir.join(format!("voicemail-{caller}-{day}-{}.wav", message.id.0)))
}
