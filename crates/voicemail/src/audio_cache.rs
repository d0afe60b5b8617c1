//! The on-disk audio cache: one file per downloaded message in one directory, capped in
//! total size; when over the cap, the least recently used files go first (a file's
//! modification time is bumped each time it is used).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sidetone_store::{MessageRef, Store};

use crate::{Result, VoicemailError};

/// The extension of cache files; eviction only ever touches files ending in it.
const EXTENSION: &str = "vmaudio";

/// A size-capped directory of downloaded voicemail audio.
#[derive(Clone, Debug)]
pub struct AudioCache {
    dir: PathBuf,
    max_bytes: u64,
}

impl AudioCache {
    /// A cache in `dir` (created on first use) holding at most `max_bytes` of audio. The
    /// file just downloaded is always kept, even when it alone exceeds the cap.
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        AudioCache {
            dir: dir.into(),
            max_bytes,
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size cap in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Where a message's audio is cached: account, UIDVALIDITY and UID make it unique.
    pub(crate) fn path_for(&self, message: &MessageRef) -> PathBuf {
        let safe: String = message
            .account_id
            .chars()
            .take(32)
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        self.dir.join(format!(
            "{safe}-{:08x}-{}-{}.{EXTENSION}",
            fnv1a(message.account_id.as_bytes()) as u32,
            message.uidvalidity,
            message.uid
        ))
    }

    /// Writes `bytes` as the audio of `message` (via a temporary file, so a crash never
    /// leaves half a file under the final name). Returns the path.
    pub(crate) fn write(&self, message: &MessageRef, bytes: &[u8]) -> Result<PathBuf> {
        fs::create_dir_all(&self.dir).map_err(|e| VoicemailError::audio_file(&self.dir, e))?;
        let path = self.path_for(message);
        let tmp = path.with_extension("part");
        fs::write(&tmp, bytes).map_err(|e| VoicemailError::audio_file(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| VoicemailError::audio_file(&path, e))?;
        Ok(path)
    }

    /// Marks a cached file as just used (for LRU eviction).
    pub(crate) fn touch(path: &Path) {
        let bumped = fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(SystemTime::now()));
        if let Err(e) = bumped {
            tracing::debug!(path = %path.display(), error = %e, "could not bump cache file time");
        }
    }

    /// Deletes least recently used files until the cache fits its cap, never `keep`, and
    /// tells the store the evicted files are gone. Returns the evicted paths.
    pub fn evict(&self, store: &Store, keep: Option<&Path>) -> Result<Vec<PathBuf>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(VoicemailError::audio_file(&self.dir, e)),
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.path().extension().is_some_and(|x| x == EXTENSION))
            .filter_map(|entry| {
                let meta = entry.metadata().ok()?;
                meta.is_file().then(|| {
                    (
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        meta.len(),
                        entry.path(),
                    )
                })
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, size, _)| size).sum();
        if total <= self.max_bytes {
            return Ok(Vec::new());
        }
        files.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
        let by_path: HashMap<PathBuf, sidetone_store::VoicemailId> = store
            .voicemail()
            .list(None)?
            .into_iter()
            .filter_map(|v| Some((v.audio?.path, v.id)))
            .collect();
        let mut evicted = Vec::new();
        for (_, size, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if Some(path.as_path()) == keep {
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(VoicemailError::audio_file(&path, e)),
            }
            total = total.saturating_sub(size);
            if let Some(id) = by_path.get(&path) {
                store.voicemail().set_audio(*id, None)?;
            }
            evicted.push(path);
        }
        Ok(evicted)
    }
}

/// FNV-1a, to tell apart account ids that sanitise to the same file-name prefix.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(account: &str, uid: u32) -> MessageRef {
        MessageRef {
            account_id: account.into(),
            folder: "INBOX".into(),
            uidvalidity: 9,
            uid,
        }
    }

    #[test]
    fn paths_are_unique_and_safe() {
        let cache = AudioCache::new("/tmp/x", 10);
        let a = cache.path_for(&msg("a.b", 1));
        let b = cache.path_for(&msg("a_b", 1));
        assert_ne!(a, b);
        assert_ne!(a, cache.path_for(&msg("a.b", 2)));
        let evil = cache.path_for(&msg("../../etc/passwd", 1));
        assert_eq!(evil.parent(), Some(Path::new("/tmp/x")));
    }

    #[test]
    fn evicts_least_recently_used_first_and_keeps_the_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_memory().unwrap();
        let cache = AudioCache::new(dir.path().join("audio"), 250);
        let old = cache.write(&msg("a", 1), &[0; 100]).unwrap();
        let used = cache.write(&msg("a", 2), &[0; 100]).unwrap();
        let t0 = SystemTime::now() - std::time::Duration::from_secs(60);
        fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(t0)
            .unwrap();
        fs::File::options()
            .write(true)
            .open(&used)
            .unwrap()
            .set_modified(t0 - std::time::Duration::from_secs(60))
            .unwrap();
        AudioCache::touch(&used); // now the most recent of the two
        let new = cache.write(&msg("a", 3), &[0; 100]).unwrap();
        let evicted = cache.evict(&store, Some(&new)).unwrap();
        assert_eq!(evicted, vec![old.clone()]);
        assert!(!old.exists() && used.exists() && new.exists());
        // A lone file over the cap stays when it is the one kept.
        let small = AudioCache::new(dir.path().join("audio"), 10);
        let evicted = small.evict(&store, Some(&new)).unwrap();
        assert_eq!(evicted, vec![used]);
        assert!(new.exists());
    }
}
