//! The voicemail cache: what IMAP sync last saw, the user's offline heard/delete changes,
//! and where each message's audio is cached. The sync itself lives in `sidetone-voicemail`.
//!
//! The flow: sync calls [`VoicemailCache::upsert`] for every message on the server and
//! [`VoicemailCache::remove`] for messages gone from it. The UI lists and marks messages;
//! [`VoicemailCache::set_heard`] and [`VoicemailCache::delete`] change the cache at once
//! and queue a [`PendingChange`]; sync replays [`VoicemailCache::pending_changes`] on the
//! server, oldest first, and calls [`VoicemailCache::complete_change`] for each one done.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::history::check_text;
use crate::{Error, Result, Store, UnixMillis};

/// The row id of a cached voicemail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VoicemailId(pub i64);

/// The row id of a queued change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PendingChangeId(pub i64);

/// Where a message lives on the IMAP server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageRef {
    /// The account (as the engine names it).
    pub account_id: String,
    /// The IMAP folder (mailbox) name.
    pub folder: String,
    /// The folder's UIDVALIDITY when the message was seen (non-zero).
    pub uidvalidity: u32,
    /// The message's UID in that folder (non-zero).
    pub uid: u32,
}

/// What sync knows about a message; [`VoicemailCache::upsert`] writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoicemailUpdate {
    /// Where it lives on the server.
    pub message: MessageRef,
    /// The caller's URI or number.
    pub caller: String,
    /// The caller's display name, when known.
    pub caller_name: Option<String>,
    /// When the message was left.
    pub received_at: UnixMillis,
    /// How long it is, when known.
    pub duration: Option<Duration>,
    /// Whether the server has it `\Seen`.
    pub heard: bool,
}

/// An audio file cached on disk for a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedAudio {
    /// The file (written and deleted by the voicemail crate; the store only remembers it).
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

/// One cached voicemail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voicemail {
    /// Row id.
    pub id: VoicemailId,
    /// Where it lives on the server.
    pub message: MessageRef,
    /// The caller's URI or number.
    pub caller: String,
    /// The caller's display name, when known.
    pub caller_name: Option<String>,
    /// When the message was left.
    pub received_at: UnixMillis,
    /// How long it is, when known.
    pub duration: Option<Duration>,
    /// Heard, here or (once synced) on the server.
    pub heard: bool,
    /// Deleted here, the delete not yet done on the server. Hidden from lists and counts.
    pub delete_pending: bool,
    /// The cached audio file, if downloaded.
    pub audio: Option<CachedAudio>,
}

/// A change made offline, waiting to be applied on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoicemailChange {
    /// Set `\Seen`.
    MarkHeard,
    /// Clear `\Seen`.
    MarkUnheard,
    /// Delete (set `\Deleted` and expunge, or move to trash: the sync's choice).
    Delete,
}

impl VoicemailChange {
    fn as_str(self) -> &'static str {
        match self {
            VoicemailChange::MarkHeard => "mark_heard",
            VoicemailChange::MarkUnheard => "mark_unheard",
            VoicemailChange::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "mark_heard" => Some(VoicemailChange::MarkHeard),
            "mark_unheard" => Some(VoicemailChange::MarkUnheard),
            "delete" => Some(VoicemailChange::Delete),
            _ => None,
        }
    }
}

/// A queued change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChange {
    /// Queue id, for [`VoicemailCache::complete_change`].
    pub id: PendingChangeId,
    /// The message it applies to.
    pub message: MessageRef,
    /// What to do.
    pub change: VoicemailChange,
    /// When the user made it.
    pub queued_at: UnixMillis,
}

/// The voicemail cache of one store; from [`Store::voicemail`].
#[derive(Debug, Clone, Copy)]
pub struct VoicemailCache<'s> {
    store: &'s Store,
}

const VOICEMAIL_COLUMNS: &str = "id, account_id, folder, uidvalidity, uid, caller, caller_name, \
                                 received_at, duration_ms, heard, delete_pending, audio_path, \
                                 audio_size";

impl<'s> VoicemailCache<'s> {
    pub(crate) fn new(store: &'s Store) -> Self {
        VoicemailCache { store }
    }

    /// Inserts a message seen on the server, or updates the cached one. A heard/unheard
    /// change still queued here wins over the server's flag, and a pending delete stays
    /// pending. Returns the row id.
    pub fn upsert(&self, update: &VoicemailUpdate) -> Result<VoicemailId> {
        check_message(&update.message)?;
        check_text("caller", &update.caller, true)?;
        let caller_name = update
            .caller_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if let Some(n) = caller_name {
            check_text("caller_name", n, true)?;
        }
        let duration_ms = update.duration.map(duration_ms).transpose()?;
        let m = &update.message;
        let id = self
            .store
            .conn()
            .prepare_cached(
                "INSERT INTO voicemail (account_id, folder, uidvalidity, uid, caller, caller_name,
                     received_at, duration_ms, heard)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (account_id, folder, uidvalidity, uid) DO UPDATE SET
                     caller = excluded.caller,
                     caller_name = excluded.caller_name,
                     received_at = excluded.received_at,
                     duration_ms = excluded.duration_ms,
                     heard = CASE WHEN EXISTS (
                                 SELECT 1 FROM voicemail_pending_change p
                                 WHERE p.account_id = excluded.account_id
                                   AND p.folder = excluded.folder
                                   AND p.uidvalidity = excluded.uidvalidity
                                   AND p.uid = excluded.uid
                                   AND p.change IN ('mark_heard', 'mark_unheard'))
                             THEN heard ELSE excluded.heard END
                 RETURNING id",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        m.account_id,
                        m.folder,
                        m.uidvalidity,
                        m.uid,
                        update.caller,
                        caller_name,
                        update.received_at.0,
                        duration_ms,
                        update.heard,
                    ],
                    |r| r.get(0),
                )
            })
            .map_err(|e| self.store.db_err(e))?;
        Ok(VoicemailId(id))
    }

    /// One cached message by id (including one whose delete is pending).
    pub fn get(&self, id: VoicemailId) -> Result<Option<Voicemail>> {
        self.store
            .conn()
            .prepare_cached(&format!(
                "SELECT {VOICEMAIL_COLUMNS} FROM voicemail WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id.0], read_voicemail).optional())
            .map_err(|e| self.store.db_err(e))
    }

    /// The cached message at a server position (including one whose delete is pending).
    pub fn find(&self, message: &MessageRef) -> Result<Option<Voicemail>> {
        self.store
            .conn()
            .prepare_cached(&format!(
                "SELECT {VOICEMAIL_COLUMNS} FROM voicemail
                 WHERE account_id = ?1 AND folder = ?2 AND uidvalidity = ?3 AND uid = ?4"
            ))
            .and_then(|mut s| {
                s.query_row(
                    params![
                        message.account_id,
                        message.folder,
                        message.uidvalidity,
                        message.uid
                    ],
                    read_voicemail,
                )
                .optional()
            })
            .map_err(|e| self.store.db_err(e))
    }

    /// The cached messages of one account (or all), newest first, without those whose
    /// delete is pending.
    pub fn list(&self, account_id: Option<&str>) -> Result<Vec<Voicemail>> {
        self.store
            .conn()
            .prepare_cached(&format!(
                "SELECT {VOICEMAIL_COLUMNS} FROM voicemail
                 WHERE delete_pending = 0 AND (?1 IS NULL OR account_id = ?1)
                 ORDER BY received_at DESC, id DESC"
            ))
            .and_then(|mut s| {
                s.query_map([account_id], read_voicemail)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.store.db_err(e))
    }

    /// How many listed messages are unheard, for one account (or all).
    pub fn unheard_count(&self, account_id: Option<&str>) -> Result<u64> {
        let n: i64 = self
            .store
            .conn()
            .prepare_cached(
                "SELECT count(*) FROM voicemail
                 WHERE heard = 0 AND delete_pending = 0 AND (?1 IS NULL OR account_id = ?1)",
            )
            .and_then(|mut s| s.query_row([account_id], |r| r.get(0)))
            .map_err(|e| self.store.db_err(e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Records (or, with `None`, forgets) the cached audio file of a message.
    pub fn set_audio(&self, id: VoicemailId, audio: Option<&CachedAudio>) -> Result<()> {
        let (path, size) = match audio {
            None => (None, None),
            Some(a) => {
                let path = a.path.to_str().ok_or_else(|| {
                    Error::invalid(format!("audio path {} is not UTF-8", a.path.display()))
                })?;
                check_text("audio path", path, true)?;
                let size =
                    i64::try_from(a.size).map_err(|_| Error::invalid("audio size out of range"))?;
                (Some(path), Some(size))
            }
        };
        let n = self
            .store
            .conn()
            .prepare_cached("UPDATE voicemail SET audio_path = ?2, audio_size = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id.0, path, size]))
            .map_err(|e| self.store.db_err(e))?;
        found(n, id)
    }

    /// Marks a message heard or unheard here and queues the change for the server
    /// (replacing an earlier queued heard/unheard change for it). One transaction.
    pub fn set_heard(&self, id: VoicemailId, heard: bool, now: UnixMillis) -> Result<()> {
        let change = if heard {
            VoicemailChange::MarkHeard
        } else {
            VoicemailChange::MarkUnheard
        };
        self.change_and_queue(id, change, now)
    }

    /// Deletes a message here (hidden at once) and queues the delete for the server. The row
    /// stays, flagged, until sync calls [`VoicemailCache::remove`]. One transaction.
    pub fn delete(&self, id: VoicemailId, now: UnixMillis) -> Result<()> {
        self.change_and_queue(id, VoicemailChange::Delete, now)
    }

    /// The queued changes, oldest first.
    pub fn pending_changes(&self) -> Result<Vec<PendingChange>> {
        let rows = self
            .store
            .conn()
            .prepare_cached(
                "SELECT id, account_id, folder, uidvalidity, uid, change, queued_at
                 FROM voicemail_pending_change ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        read_message_ref(r, 1)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, i64>(6)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.store.db_err(e))?;
        rows.into_iter()
            .map(|(id, message, change, queued_at)| {
                let change = VoicemailChange::parse(&change).ok_or_else(|| Error::Corrupt {
                    path: self.store.path().to_path_buf(),
                    detail: format!("pending change {id}: unknown change {change:?}"),
                })?;
                Ok(PendingChange {
                    id: PendingChangeId(id),
                    message,
                    change,
                    queued_at: UnixMillis(queued_at),
                })
            })
            .collect()
    }

    /// Drops a queued change once sync has applied it on the server (or decided it no longer
    /// applies); `false` if it was not queued.
    pub fn complete_change(&self, id: PendingChangeId) -> Result<bool> {
        let n = self
            .store
            .conn()
            .prepare_cached("DELETE FROM voicemail_pending_change WHERE id = ?1")
            .and_then(|mut s| s.execute([id.0]))
            .map_err(|e| self.store.db_err(e))?;
        Ok(n > 0)
    }

    /// Forgets a message (gone from the server, or its delete done). Returns its cached
    /// audio so the caller can delete the file; `None` if there was none or no such row.
    pub fn remove(&self, id: VoicemailId) -> Result<Option<CachedAudio>> {
        let audio = self
            .store
            .conn()
            .prepare_cached("DELETE FROM voicemail WHERE id = ?1 RETURNING audio_path, audio_size")
            .and_then(|mut s| s.query_row([id.0], read_audio).optional())
            .map_err(|e| self.store.db_err(e))?;
        Ok(audio.flatten())
    }

    /// Forgets every cached message of an account and its queued changes (sign-out with
    /// "remove my data"). Returns the cached audio files so the caller can delete them.
    pub fn forget_account(&self, account_id: &str) -> Result<Vec<CachedAudio>> {
        let conn = self.store.conn();
        let err = |e| self.store.db_err(e);
        self.store.atomically(|| {
            conn.execute(
                "DELETE FROM voicemail_pending_change WHERE account_id = ?1",
                [account_id],
            )
            .map_err(err)?;
            let mut delete = conn
                .prepare(
                    "DELETE FROM voicemail WHERE account_id = ?1 RETURNING audio_path, audio_size",
                )
                .map_err(err)?;
            let audio = delete
                .query_map([account_id], read_audio)
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(err)?;
            Ok(audio.into_iter().flatten().collect())
        })
    }

    fn change_and_queue(
        &self,
        id: VoicemailId,
        change: VoicemailChange,
        now: UnixMillis,
    ) -> Result<()> {
        let conn = self.store.conn();
        let err = |e| self.store.db_err(e);
        self.store.atomically(|| {
            let update = match change {
                VoicemailChange::MarkHeard => "UPDATE voicemail SET heard = 1 WHERE id = ?1",
                VoicemailChange::MarkUnheard => "UPDATE voicemail SET heard = 0 WHERE id = ?1",
                VoicemailChange::Delete => "UPDATE voicemail SET delete_pending = 1 WHERE id = ?1",
            };
            let n = conn.execute(update, [id.0]).map_err(err)?;
            found(n, id)?;
            if change != VoicemailChange::Delete {
                // Only the latest heard/unheard wish matters.
                conn.execute(
                    "DELETE FROM voicemail_pending_change
                 WHERE change IN ('mark_heard', 'mark_unheard')
                   AND (account_id, folder, uidvalidity, uid) =
                       (SELECT account_id, folder, uidvalidity, uid FROM voicemail WHERE id = ?1)",
                    [id.0],
                )
                .map_err(err)?;
            }
            conn.execute(
                "INSERT INTO voicemail_pending_change
                 (account_id, folder, uidvalidity, uid, change, queued_at)
             SELECT account_id, folder, uidvalidity, uid, ?2, ?3 FROM voicemail WHERE id = ?1",
                params![id.0, change.as_str(), now.0],
            )
            .map_err(err)?;
            Ok(())
        })
    }
}

fn check_message(m: &MessageRef) -> Result<()> {
    check_text("account_id", &m.account_id, true)?;
    check_text("folder", &m.folder, true)?;
    if m.uidvalidity == 0 || m.uid == 0 {
        return Err(Error::invalid("IMAP UIDVALIDITY and UID are never 0"));
    }
    Ok(())
}

fn duration_ms(d: Duration) -> Result<i64> {
    i64::try_from(d.as_millis()).map_err(|_| Error::invalid("voicemail duration out of range"))
}

fn found(changed: usize, id: VoicemailId) -> Result<()> {
    if changed == 0 {
        Err(Error::NotFound {
            what: "voicemail",
            id: id.0,
        })
    } else {
        Ok(())
    }
}

/// Reads account, folder, uidvalidity, uid starting at column `first`.
fn read_message_ref(r: &Row<'_>, first: usize) -> rusqlite::Result<MessageRef> {
    Ok(MessageRef {
        account_id: r.get(first)?,
        folder: r.get(first + 1)?,
        uidvalidity: r.get(first + 2)?,
        uid: r.get(first + 3)?,
    })
}

/// Reads `audio_path, audio_size` at columns 0 and 1 (a `DELETE ... RETURNING`).
fn read_audio(r: &Row<'_>) -> rusqlite::Result<Option<CachedAudio>> {
    audio_from(r.get(0)?, r.get(1)?, 1)
}

fn audio_from(
    path: Option<String>,
    size: Option<i64>,
    size_column: usize,
) -> rusqlite::Result<Option<CachedAudio>> {
    Ok(match (path, size) {
        (Some(path), Some(size)) => Some(CachedAudio {
            path: PathBuf::from(path),
            size: non_negative(size_column, size)?,
        }),
        _ => None,
    })
}

/// A stored count or length; negative only in a tampered file.
fn non_negative(column: usize, v: i64) -> rusqlite::Result<u64> {
    u64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(column, v))
}

/// Reads the columns listed in `VOICEMAIL_COLUMNS`. Out-of-range numbers (a tampered file)
/// surface as conversion errors, which map to [`Error::Corrupt`].
fn read_voicemail(r: &Row<'_>) -> rusqlite::Result<Voicemail> {
    let duration_ms = r
        .get::<_, Option<i64>>(8)?
        .map(|v| non_negative(8, v))
        .transpose()?;
    Ok(Voicemail {
        id: VoicemailId(r.get(0)?),
        message: read_message_ref(r, 1)?,
        caller: r.get(5)?,
        caller_name: r.get(6)?,
        received_at: UnixMillis(r.get(7)?),
        duration: duration_ms.map(Duration::from_millis),
        heard: r.get(9)?,
        delete_pending: r.get(10)?,
        audio: audio_from(r.get(11)?, r.get(12)?, 12)?,
    })
}

#[cfg(test)]
mod tests;
