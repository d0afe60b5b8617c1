//! The store behind a mutex: locked only between network awaits, never across one, so the
//! sync futures stay `Send`.

use std::sync::{Mutex, MutexGuard};

use sidetone_store::Store;

/// Locks the store. A panic elsewhere while holding it leaves SQLite consistent (every
/// write is a transaction), so a poisoned lock is used as is.
pub(crate) fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Deletes a cached audio file that the store has forgotten; a missing file is fine.
pub(crate) fn delete_audio_file(audio: Option<sidetone_store::CachedAudio>) {
    if let Some(audio) = audio
        && let Err(e) = std::fs::remove_file(&audio.path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %audio.path.display(), error = %e, "could not delete cached voicemail audio");
    }
}
