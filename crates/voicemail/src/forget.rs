//! Removing what this profile cached of an account's voicemail, when the user signs the
//! account out and asks for its data to go too. The server's mailbox is not touched.

use sidetone_store::Store;

use crate::{AudioCache, Result, VoicemailError, sync_state};

/// Forgets every cached message of `account_id`, its queued heard/delete changes, its sync
/// state and its downloaded audio files. Returns how many audio files were deleted.
pub fn forget_account(store: &Store, audio: &AudioCache, account_id: &str) -> Result<usize> {
    let files = store.voicemail().forget_account(account_id)?;
    sync_state::forget(store, account_id)?;
    let mut deleted = 0;
    for file in files {
        // Only files inside the cache are ours to delete, whatever the row says.
        if !file.path.starts_with(audio.dir()) {
            continue;
        }
        match std::fs::remove_file(&file.path) {
            Ok(()) => deleted += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(VoicemailError::audio_file(&file.path, e)),
        }
    }
    Ok(deleted)
}
