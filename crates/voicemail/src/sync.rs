//! Folder sync: a full listing the first time (or when UIDVALIDITY changed), then cheap
//! incremental resyncs: only new UIDs get their metadata fetched; flag changes come from
//! CHANGEDSINCE (CONDSTORE) or a `UID FETCH 1:* (FLAGS)`; messages gone from the server are
//! removed locally. Queued offline changes are replayed first.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use sidetone_store::{MessageRef, Store, UnixMillis, Voicemail, VoicemailUpdate};

use crate::connection::{self, FetchedMeta, ImapConnection};
use crate::headers::parse_meta;
use crate::store_access::{delete_audio_file, lock};
use crate::sync_state::{self, FolderState};
use crate::{Result, SyncReport, VoicemailAccount, VoicemailError, changes};

/// Syncs voicemail folders into the store. Cheap to create; holds only settings.
#[derive(Clone, Debug)]
pub struct VoicemailSync {
    connect_timeout: Duration,
    operation_timeout: Duration,
    use_condstore: bool,
}

impl Default for VoicemailSync {
    fn default() -> Self {
        VoicemailSync {
            connect_timeout: Duration::from_secs(15),
            operation_timeout: Duration::from_secs(120),
            use_condstore: true,
        }
    }
}

/// What the server's folder looked like after SELECT.
struct Selected {
    uidvalidity: u32,
    uidnext: Option<u32>,
    highest_modseq: Option<u64>,
    exists: u32,
}

impl VoicemailSync {
    /// A sync with the default connect-and-login timeout (15 s).
    pub fn new() -> Self {
        Self::default()
    }

    /// A sync whose connect-and-login step gives up after `timeout` (default 15 s).
    pub fn with_timeout(timeout: Duration) -> Self {
        VoicemailSync {
            connect_timeout: timeout,
            ..Self::default()
        }
    }

    /// Sets how long the work after login (a whole folder sync, one audio download) may
    /// take before the server counts as unreachable (default 120 s).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// Whether to use CONDSTORE when the server offers it (default true). Off, resyncs
    /// read every message's flags (`UID FETCH 1:* (FLAGS)`): for servers whose CONDSTORE
    /// misbehaves, and to test that path.
    pub fn use_condstore(mut self, use_it: bool) -> Self {
        self.use_condstore = use_it;
        self
    }

    /// Connects and logs in (shared with audio downloads).
    pub(crate) async fn open(&self, account: &VoicemailAccount) -> Result<ImapConnection> {
        let mut conn = connection::connect(account, self.connect_timeout).await?;
        conn.condstore &= self.use_condstore;
        Ok(conn)
    }

    /// Runs `work` within the operation timeout.
    pub(crate) async fn within_timeout<T>(
        &self,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::time::timeout(self.operation_timeout, work)
            .await
            .map_err(|_| {
                VoicemailError::Unreachable(format!(
                    "the server did not finish within {:?}",
                    self.operation_timeout
                ))
            })?
    }

    /// Syncs `account`'s voicemail folder into `store`: replays queued offline changes,
    /// then lists the folder (fully the first time or after a UIDVALIDITY change, else
    /// incrementally). `now` stamps the sync for [`crate::unheard_badge`].
    ///
    /// On any error the queue keeps what was not applied and the cache stays as it was
    /// (metadata already written stays; the folder state is only saved at the end).
    /// Run one sync per account at a time (the engine serialises them): two at once could
    /// replay the same queued change twice.
    pub async fn sync(
        &self,
        account: &VoicemailAccount,
        store: &Mutex<Store>,
        now: UnixMillis,
    ) -> Result<SyncReport> {
        let mut conn = self.open(account).await?;
        let result = self
            .within_timeout(sync_folder(&mut conn, account, store, now))
            .await;
        let mut report = result?;
        report.commands = conn.commands + 1;
        conn.logout().await;
        Ok(report)
    }
}

async fn sync_folder(
    conn: &mut ImapConnection,
    account: &VoicemailAccount,
    store: &Mutex<Store>,
    now: UnixMillis,
) -> Result<SyncReport> {
    let mailbox = conn.select(&account.folder).await?;
    let selected = Selected {
        uidvalidity: mailbox
            .uid_validity
            .filter(|&v| v != 0)
            .ok_or_else(|| VoicemailError::Protocol("SELECT gave no UIDVALIDITY".to_owned()))?,
        uidnext: mailbox.uid_next,
        highest_modseq: mailbox.highest_modseq.filter(|_| conn.condstore),
        exists: mailbox.exists,
    };
    let (changes_applied, expunged) =
        changes::replay(conn, account, selected.uidvalidity, store).await?;
    let previous = sync_state::load(&lock(store), &account.account_id, &account.folder)?
        .filter(|s| s.uidvalidity == selected.uidvalidity);
    let mut report = match previous {
        None => full_sync(conn, account, store, &selected, now).await?,
        Some(previous) => {
            incremental_sync(
                conn,
                account,
                store,
                &selected,
                &previous,
                changes_applied > 0 || expunged,
                now,
            )
            .await?
        }
    };
    report.changes_applied = changes_applied;
    Ok(report)
}

/// Lists the whole folder; everything cached for it that the server lacks is removed.
async fn full_sync(
    conn: &mut ImapConnection,
    account: &VoicemailAccount,
    store: &Mutex<Store>,
    selected: &Selected,
    now: UnixMillis,
) -> Result<SyncReport> {
    let metas = if selected.exists > 0 {
        conn.fetch_meta("1:*").await?
    } else {
        Vec::new()
    };
    let on_server: HashSet<u32> = metas.iter().map(|m| m.uid).collect();
    let mut report = SyncReport {
        full: true,
        metadata_fetched: metas.len(),
        ..SyncReport::default()
    };
    let guard = lock(store);
    let removed_audio = guard.atomically(|| {
        let cached = cached_in_folder(&guard, account)?;
        let known: HashSet<u32> = cached
            .iter()
            .filter(|v| v.message.uidvalidity == selected.uidvalidity)
            .map(|v| v.message.uid)
            .collect();
        upsert_all(
            &guard,
            account,
            selected.uidvalidity,
            &metas,
            &known,
            &mut report,
        )?;
        let gone: Vec<&Voicemail> = cached
            .iter()
            .filter(|v| {
                v.message.uidvalidity != selected.uidvalidity || !on_server.contains(&v.message.uid)
            })
            .collect();
        let audio = remove_all(&guard, &gone)?;
        report.removed = gone.len();
        save_state(&guard, account, selected, &metas, None, now)?;
        Ok(audio)
    })?;
    drop(guard);
    removed_audio
        .into_iter()
        .for_each(|a| delete_audio_file(Some(a)));
    Ok(report)
}

/// Fetches only what changed since `previous`.
async fn incremental_sync(
    conn: &mut ImapConnection,
    account: &VoicemailAccount,
    store: &Mutex<Store>,
    selected: &Selected,
    previous: &FolderState,
    we_changed_flags: bool,
    now: UnixMillis,
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    // New messages: only UIDs at or above the last UIDNEXT. ("N:*" also returns the last
    // message when nothing is above N, hence the filter.)
    let maybe_new = selected.exists > 0 && selected.uidnext.is_none_or(|n| n > previous.uidnext);
    let new: Vec<FetchedMeta> = if maybe_new {
        conn.fetch_meta(&format!("{}:*", previous.uidnext.max(1)))
            .await?
            .into_iter()
            .filter(|m| m.uid >= previous.uidnext)
            .collect()
    } else {
        Vec::new()
    };
    report.metadata_fetched = new.len();

    // Flags of the messages we already had, and which of them still exist.
    let old_range = (previous.uidnext > 1).then(|| format!("1:{}", previous.uidnext - 1));
    let (flags, still_there) = match (previous.highest_modseq, selected.highest_modseq) {
        (Some(old_modseq), Some(new_modseq)) => {
            let flags = match &old_range {
                Some(range) if new_modseq != old_modseq || we_changed_flags => {
                    conn.fetch_flags(range, Some(old_modseq)).await?
                }
                _ => Vec::new(),
            };
            (flags, None)
        }
        _ => {
            let flags = match &old_range {
                Some(range) if selected.exists > 0 => conn.fetch_flags(range, None).await?,
                _ => Vec::new(),
            };
            let there: HashSet<u32> = flags.iter().map(|f| f.uid).collect();
            (flags, Some(there))
        }
    };
    report.flags_fetched = flags.len();

    let cached = cached_in_folder(&lock(store), account)?;
    let known: HashSet<u32> = cached
        .iter()
        .filter(|v| v.message.uidvalidity == selected.uidvalidity)
        .map(|v| v.message.uid)
        .collect();
    // With CONDSTORE, expunges are invisible to CHANGEDSINCE: when the server's count does
    // not match ours (or we expunged), ask for the UID list (one short line per message).
    let still_there = match still_there {
        Some(there) => there,
        None => {
            let expected = known.len() + new.iter().filter(|m| !known.contains(&m.uid)).count();
            if we_changed_flags || u32::try_from(expected).ok() != Some(selected.exists) {
                conn.all_uids().await?
            } else {
                known
                    .iter()
                    .copied()
                    .chain(new.iter().map(|m| m.uid))
                    .collect()
            }
        }
    };

    let guard = lock(store);
    let removed_audio = guard.atomically(|| {
        upsert_all(
            &guard,
            account,
            selected.uidvalidity,
            &new,
            &known,
            &mut report,
        )?;
        let by_uid: HashMap<u32, &Voicemail> = cached
            .iter()
            .filter(|v| v.message.uidvalidity == selected.uidvalidity)
            .map(|v| (v.message.uid, v))
            .collect();
        for f in &flags {
            if let Some(v) = by_uid.get(&f.uid)
                && v.heard != f.seen
            {
                guard.voicemail().upsert(&VoicemailUpdate {
                    message: v.message.clone(),
                    caller: v.caller.clone(),
                    caller_name: v.caller_name.clone(),
                    received_at: v.received_at,
                    duration: v.duration,
                    heard: f.seen,
                })?;
                report.flags_changed += 1;
            }
        }
        let new_uids: HashSet<u32> = new.iter().map(|m| m.uid).collect();
        let gone: Vec<&Voicemail> = cached
            .iter()
            .filter(|v| {
                v.message.uidvalidity != selected.uidvalidity
                    || (!still_there.contains(&v.message.uid) && !new_uids.contains(&v.message.uid))
            })
            .collect();
        let audio = remove_all(&guard, &gone)?;
        report.removed = gone.len();
        let flag_modseq = flags.iter().filter_map(|f| f.modseq).max();
        save_state(&guard, account, selected, &new, flag_modseq, now)?;
        Ok(audio)
    })?;
    drop(guard);
    removed_audio
        .into_iter()
        .for_each(|a| delete_audio_file(Some(a)));
    Ok(report)
}

/// The cached (not delete-pending) messages of the account's folder.
fn cached_in_folder(
    store: &Store,
    account: &VoicemailAccount,
) -> sidetone_store::Result<Vec<Voicemail>> {
    Ok(store
        .voicemail()
        .list(Some(&account.account_id))?
        .into_iter()
        .filter(|v| v.message.folder == account.folder)
        .collect())
}

/// Upserts fetched messages; one the store refuses (odd text) is skipped, not fatal.
fn upsert_all(
    store: &Store,
    account: &VoicemailAccount,
    uidvalidity: u32,
    metas: &[FetchedMeta],
    known: &HashSet<u32>,
    report: &mut SyncReport,
) -> sidetone_store::Result<()> {
    for m in metas {
        let meta = parse_meta(&m.header, m.internal_date_ms);
        let update = VoicemailUpdate {
            message: MessageRef {
                account_id: account.account_id.clone(),
                folder: account.folder.clone(),
                uidvalidity,
                uid: m.uid,
            },
            caller: meta.caller,
            caller_name: meta.caller_name,
            received_at: UnixMillis(meta.received_at_ms),
            duration: meta.duration,
            heard: m.seen,
        };
        match store.voicemail().upsert(&update) {
            Ok(_) => {
                if !known.contains(&m.uid) {
                    report.added += 1;
                }
            }
            Err(e) if e.code() == "store.invalid_input" => {
                tracing::warn!(uid = m.uid, error = %e, "skipping a voicemail the store refused");
                report.skipped += 1;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn remove_all(
    store: &Store,
    gone: &[&Voicemail],
) -> sidetone_store::Result<Vec<sidetone_store::CachedAudio>> {
    let mut audio = Vec::new();
    for v in gone {
        audio.extend(store.voicemail().remove(v.id)?);
    }
    Ok(audio)
}

fn save_state(
    store: &Store,
    account: &VoicemailAccount,
    selected: &Selected,
    fetched: &[FetchedMeta],
    flag_modseq: Option<u64>,
    now: UnixMillis,
) -> sidetone_store::Result<()> {
    let after_fetched = fetched.iter().map(|m| m.uid.saturating_add(1)).max();
    let uidnext = selected
        .uidnext
        .into_iter()
        .chain(after_fetched)
        .max()
        .unwrap_or(1);
    let modseq = selected.highest_modseq.map(|m| {
        fetched
            .iter()
            .filter_map(|f| f.modseq)
            .chain(flag_modseq)
            .fold(m, u64::max)
    });
    let state = FolderState {
        account_id: account.account_id.clone(),
        folder: account.folder.clone(),
        uidvalidity: selected.uidvalidity,
        uidnext,
        highest_modseq: modseq,
        synced_at: now,
    };
    sync_state::save(store, &state)
}
