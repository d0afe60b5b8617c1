//! What the shell holds while the app runs: the engine, the profile's store, the accounts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use sidetone_engine::{CallMedia, Engine, EngineConfig, EngineHandle};
use sidetone_store::{OpenOutcome, Store, paths};

use crate::calls::CallBook;
use crate::error::CommandError;
use crate::onboarding::OnboardingState;
use crate::voicemail::VoicemailState;

/// The app's shared state, managed by Tauri and reached from every command.
pub struct AppState {
    /// The phone engine (signalling, media, audio).
    pub engine: EngineHandle,
    store: Mutex<Store>,
    /// Each account's registration state as the UI names it, kept from engine events.
    pub registration: Mutex<HashMap<String, &'static str>>,
    /// Links that arrived before the UI was ready for `deep_link` events; `None` once it is.
    pub pending_links: Mutex<Option<Vec<String>>>,
    /// Set when the database was unreadable at start and a fresh one was begun, so the UI
    /// can tell the user where the old file was kept.
    pub recovered_store: Option<PathBuf>,
    /// Deployments being confirmed and accounts waiting for their terms.
    pub onboarding: OnboardingState,
    /// The calls in progress, as the UI sees them.
    pub calls: CallBook,
    /// The directory of this profile's files (database, caches).
    pub profile_dir: PathBuf,
    /// Voicemail playing now and the MWI counts heard from the phone system.
    pub voicemail: VoicemailState,
}

impl AppState {
    /// Opens the default profile's store and starts the engine.
    pub fn start() -> Result<Self, CommandError> {
        let dir = paths::data_dir(None)?;
        let db = paths::database_path(&dir, paths::DEFAULT_PROFILE)?;
        if let Some(parent) = db.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                CommandError::new(
                    "store.io",
                    format!("cannot create {}: {e}", parent.display()),
                )
            })?;
        }
        let (store, outcome) = Store::open_or_recover(&db)?;
        // Calls that were in progress when the app last died are closed, not left "ongoing".
        store.history().close_interrupted()?;
        let recovered_store = match outcome {
            OpenOutcome::Recovered { set_aside, .. } => Some(set_aside),
            _ => None,
        };
        let onboarding = OnboardingState::new(dir.join("trust"));
        let profile_dir = db
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.clone());
        let engine = Engine::start(EngineConfig::default())
            .map_err(|e| CommandError::internal(format!("the phone engine did not start: {e}")))?;
        Ok(Self {
            engine,
            store: Mutex::new(store),
            registration: Mutex::new(HashMap::new()),
            pending_links: Mutex::new(Some(Vec::new())),
            recovered_store,
            onboarding,
            calls: CallBook::default(),
            profile_dir,
            voicemail: VoicemailState::default(),
        })
    }

    /// The audio a call of this app uses: the sound devices chosen in Settings (or the
    /// system's defaults).
    pub fn call_media(&self) -> CallMedia {
        let settings = self
            .store()
            .and_then(|store| crate::commands::settings::load(&store))
            .unwrap_or_default();
        CallMedia {
            devices: Some(settings.device_choice()),
            ..CallMedia::default()
        }
    }

    /// The store's lock itself, for work that locks it only between awaits (voicemail sync).
    pub fn store_lock(&self) -> &Mutex<Store> {
        &self.store
    }

    /// The store, locked for the duration of one command.
    pub fn store(&self) -> Result<MutexGuard<'_, Store>, CommandError> {
        self.store
            .lock()
            .map_err(|_| CommandError::internal("the store is unavailable"))
    }
}
