//! Replays the user's offline changes (heard, unheard, delete) on the server, oldest first.
//! A change is dropped from the queue only once the server did it (or it became obsolete);
//! the first failure stops the replay and keeps the rest queued.

use std::sync::Mutex;

use sidetone_store::{PendingChange, Store, VoicemailChange};

use crate::connection::ImapConnection;
use crate::store_access::{delete_audio_file, lock};
use crate::{Result, VoicemailAccount};

/// Applies the queued changes of `account`'s folder; returns how many left the queue and
/// whether any message was expunged.
pub(crate) async fn replay(
    conn: &mut ImapConnection,
    account: &VoicemailAccount,
    uidvalidity: u32,
    store: &Mutex<Store>,
) -> Result<(usize, bool)> {
    let queued: Vec<PendingChange> = lock(store)
        .voicemail()
        .pending_changes()?
        .into_iter()
        .filter(|c| {
            c.message.account_id == account.account_id && c.message.folder == account.folder
        })
        .collect();
    let mut done = 0;
    let mut expunged = false;
    for change in queued {
        let current = change.message.uidvalidity == uidvalidity;
        if current {
            match change.change {
                VoicemailChange::MarkHeard => conn.set_seen(change.message.uid, true).await?,
                VoicemailChange::MarkUnheard => conn.set_seen(change.message.uid, false).await?,
                VoicemailChange::Delete => {
                    conn.delete(change.message.uid).await?;
                    expunged = true;
                }
            }
        } else {
            tracing::info!(change = ?change.change, "dropping a voicemail change: the folder was rebuilt on the server");
        }
        let guard = lock(store);
        let cache = guard.voicemail();
        let audio = guard.atomically(|| {
            let mut audio = None;
            if change.change == VoicemailChange::Delete
                && let Some(row) = cache.find(&change.message)?
            {
                audio = cache.remove(row.id)?;
            }
            cache.complete_change(change.id)?;
            Ok(audio)
        })?;
        drop(guard);
        delete_audio_file(audio);
        done += 1;
    }
    Ok((done, expunged))
}
