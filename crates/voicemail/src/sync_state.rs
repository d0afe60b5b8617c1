//! What the last sync of a folder saw (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, when), kept in
//! the store's settings so an incremental resync knows where to start.

use serde::{Deserialize, Serialize};
use sidetone_store::{Store, UnixMillis};

/// The settings key holding every folder's state (a JSON list; a handful of entries).
const KEY: &str = "voicemail.sync_state";

/// One folder's state after a successful sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderState {
    /// The account.
    pub account_id: String,
    /// The folder.
    pub folder: String,
    /// The folder's UIDVALIDITY: when it changes, every cached UID is void.
    pub uidvalidity: u32,
    /// The folder's UIDNEXT: messages at or above it are new.
    pub uidnext: u32,
    /// The folder's HIGHESTMODSEQ, when the server offers CONDSTORE.
    pub highest_modseq: Option<u64>,
    /// When this sync finished.
    pub synced_at: UnixMillis,
}

/// The state of one folder, if it was ever synced.
pub fn load(
    store: &Store,
    account_id: &str,
    folder: &str,
) -> sidetone_store::Result<Option<FolderState>> {
    Ok(load_all(store)?
        .into_iter()
        .find(|s| s.account_id == account_id && s.folder == folder))
}

/// Replaces the state of `state`'s folder.
pub(crate) fn save(store: &Store, state: &FolderState) -> sidetone_store::Result<()> {
    let mut all = load_all(store)?;
    all.retain(|s| !(s.account_id == state.account_id && s.folder == state.folder));
    all.push(state.clone());
    store.settings().set_json(KEY, &all)
}

/// Forgets the state of every folder of `account_id` (its next sync is a full one).
pub(crate) fn forget(store: &Store, account_id: &str) -> sidetone_store::Result<()> {
    let mut all = load_all(store)?;
    all.retain(|s| s.account_id != account_id);
    store.settings().set_json(KEY, &all)
}

fn load_all(store: &Store) -> sidetone_store::Result<Vec<FolderState>> {
    match store.settings().get_json::<Vec<FolderState>>(KEY) {
        Ok(all) => Ok(all.unwrap_or_default()),
        // A state this version cannot read only costs a full resync.
        Err(e) if e.code() == "store.setting_unreadable" => {
            tracing::warn!(error = %e, "unreadable voicemail sync state; doing a full sync");
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}
