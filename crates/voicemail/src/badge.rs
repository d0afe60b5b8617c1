//! The unheard count behind the red dot, merging what IMAP sync cached with the count a
//! SIP MWI NOTIFY (RFC 3842 `message-summary`) reported.
//!
//! The rule: **the cache wins when it is fresh.** If the folder was synced within
//! [`SYNC_FRESH_FOR`] and no MWI count arrived after that sync, the count is the store's
//! (which already includes the user's offline heard/delete changes). Otherwise, when an MWI
//! count is known, it is shown (the PBX knows of messages the cache has not seen yet; the
//! engine should start a sync). Without either, the store's count is shown as it is.

use std::time::Duration;

use sidetone_store::{Store, UnixMillis};

use crate::{Result, sync_state};

/// How long after a sync its count is trusted over an older MWI count.
pub const SYNC_FRESH_FOR: Duration = Duration::from_secs(5 * 60);

/// A new-message count from SIP MWI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MwiCount {
    /// New (unheard) voice messages, from `Voice-Message: new/old`.
    pub new_messages: u64,
    /// When the NOTIFY arrived.
    pub received_at: UnixMillis,
}

/// Where the shown count came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadgeSource {
    /// The IMAP-synced cache.
    Imap,
    /// The latest MWI NOTIFY.
    Mwi,
}

/// The unheard count to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnheardBadge {
    /// Unheard messages.
    pub count: u64,
    /// Where the count came from.
    pub source: BadgeSource,
}

/// Applies the rule in the module docs to plain values (no IO).
pub fn merge_unheard(
    cached_unheard: u64,
    last_sync: Option<UnixMillis>,
    mwi: Option<MwiCount>,
    now: UnixMillis,
) -> UnheardBadge {
    let imap = UnheardBadge {
        count: cached_unheard,
        source: BadgeSource::Imap,
    };
    let fresh_sync = last_sync.filter(|synced| {
        let age = now.millis_since(*synced);
        age >= 0 && u128::from(age.unsigned_abs()) <= SYNC_FRESH_FOR.as_millis()
    });
    match (fresh_sync, mwi) {
        (Some(synced), Some(m)) if m.received_at > synced => UnheardBadge {
            count: m.new_messages,
            source: BadgeSource::Mwi,
        },
        (Some(_), _) | (None, None) => imap,
        (None, Some(m)) => UnheardBadge {
            count: m.new_messages,
            source: BadgeSource::Mwi,
        },
    }
}

/// The badge for one account's voicemail folder: the store's unheard count and last sync
/// time merged with `mwi` by [`merge_unheard`].
pub fn unheard_badge(
    store: &Store,
    account_id: &str,
    folder: &str,
    mwi: Option<MwiCount>,
    now: UnixMillis,
) -> Result<UnheardBadge> {
    let cached = store.voicemail().unheard_count(Some(account_id))?;
    let last_sync = sync_state::load(store, account_id, folder)?.map(|s| s.synced_at);
    Ok(merge_unheard(cached, last_sync, mwi, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn mwi(n: u64, at: i64) -> Option<MwiCount> {
        Some(MwiCount {
            new_messages: n,
            received_at: UnixMillis(at),
        })
    }

    #[test]
    fn fresh_sync_wins_over_older_mwi() {
        let b = merge_unheard(
            2,
            Some(UnixMillis(10 * MIN)),
            mwi(5, 9 * MIN),
            UnixMillis(12 * MIN),
        );
        assert_eq!(
            b,
            UnheardBadge {
                count: 2,
                source: BadgeSource::Imap
            }
        );
    }

    #[test]
    fn newer_mwi_or_stale_sync_gives_mwi() {
        let newer = merge_unheard(
            2,
            Some(UnixMillis(10 * MIN)),
            mwi(3, 11 * MIN),
            UnixMillis(12 * MIN),
        );
        assert_eq!(
            newer,
            UnheardBadge {
                count: 3,
                source: BadgeSource::Mwi
            }
        );
        let stale = merge_unheard(2, Some(UnixMillis(0)), mwi(4, 0), UnixMillis(60 * MIN));
        assert_eq!(stale.source, BadgeSource::Mwi);
        assert_eq!(stale.count, 4);
    }

    #[test]
    fn without_mwi_the_cache_is_shown() {
        let b = merge_unheard(1, None, None, UnixMillis(0));
        assert_eq!(
            b,
            UnheardBadge {
                count: 1,
                source: BadgeSource::Imap
            }
        );
        let stale = merge_unheard(1, Some(UnixMillis(0)), None, UnixMillis(60 * MIN));
        assert_eq!(stale.source, BadgeSource::Imap);
    }

    #[test]
    fn badge_reads_the_store() {
        let store = Store::open_in_memory().unwrap();
        let b = unheard_badge(&store, "a", "INBOX", mwi(2, 5), UnixMillis(10)).unwrap();
        assert_eq!(
            b,
            UnheardBadge {
                count: 2,
                source: BadgeSource::Mwi
            }
        );
    }
}
