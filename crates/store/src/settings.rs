//! Small key/value settings, stored as text: plain strings or JSON. Never secrets.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result, Store};

/// Keys under this prefix belong to the store itself and cannot be set through [`Settings`].
const RESERVED_PREFIX: &str = "store.";

/// When missed calls were last marked seen (unix ms as decimal text).
pub(crate) const MISSED_SEEN_KEY: &str = "store.history.missed_seen_at";

/// Longest key, in bytes.
const MAX_KEY_BYTES: usize = 128;

/// Largest value, in bytes. Settings are small; anything bigger belongs in its own table.
const MAX_VALUE_BYTES: usize = 256 * 1024;

/// Words that mark a key as holding a secret. Secrets live in the vault (OS keychain), never
/// here; a key like this is refused so the mistake shows up in development.
const SECRET_WORDS: [&str; 6] = [
    "password",
    "passwd",
    "secret",
    "access_token",
    "refresh_token",
    "id_token",
];

/// The settings of one store; from [`Store::settings`].
///
/// Keys are 1 to 128 characters of `a-z 0-9 . _ -`, by convention dotted by owner
/// (`ui.theme`, `audio.ringer_device`). Keys starting with `store.` are reserved, and keys
/// that name a secret (`password`, `secret`, `*_token`...) are refused.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'s> {
    store: &'s Store,
}

impl<'s> Settings<'s> {
    pub(crate) fn new(store: &'s Store) -> Self {
        Settings { store }
    }

    /// The raw text stored under `key` (a JSON value's text for keys set with
    /// [`Settings::set_json`]); `None` if unset.
    pub fn get_string(&self, key: &str) -> Result<Option<String>> {
        self.store
            .conn()
            .prepare_cached("SELECT value FROM setting WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(|e| self.store.db_err(e))
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn set_string(&self, key: &str, value: &str) -> Result<()> {
        check_key(key)?;
        self.write(key, value)
    }

    /// Decodes the JSON stored under `key`; `None` if unset,
    /// [`Error::SettingUnreadable`] if it does not decode as `T`.
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let Some(text) = self.get_string(key)? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| Error::SettingUnreadable {
                key: key.to_owned(),
                source,
            })
    }

    /// Stores `value` as JSON under `key`, replacing what was there.
    pub fn set_json<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        check_key(key)?;
        let text = serde_json::to_string(value)
            .map_err(|e| Error::invalid(format!("setting {key:?} does not serialize: {e}")))?;
        self.write(key, &text)
    }

    /// Removes `key`; `false` if it was not set.
    pub fn remove(&self, key: &str) -> Result<bool> {
        check_key(key)?;
        let n = self
            .store
            .conn()
            .prepare_cached("DELETE FROM setting WHERE key = ?1")
            .and_then(|mut s| s.execute([key]))
            .map_err(|e| self.store.db_err(e))?;
        Ok(n > 0)
    }

    /// Writes one of the store's own `store.*` keys.
    pub(crate) fn set_internal(&self, key: &str, value: &str) -> Result<()> {
        debug_assert!(key.starts_with(RESERVED_PREFIX));
        self.write(key, value)
    }

    fn write(&self, key: &str, value: &str) -> Result<()> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(Error::invalid(format!(
                "setting {key:?} is larger than {MAX_VALUE_BYTES} bytes"
            )));
        }
        self.store
            .conn()
            .prepare_cached(
                "INSERT INTO setting (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut s| s.execute(params![key, value]))
            .map_err(|e| self.store.db_err(e))?;
        Ok(())
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(format!(
            "setting key must be 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(Error::invalid(format!(
            "setting key {key:?} may only use a-z 0-9 . _ -"
        )));
    }
    if key.starts_with(RESERVED_PREFIX) {
        return Err(Error::invalid(format!(
            "setting key {key:?} is reserved for the store"
        )));
    }
    if let Some(word) = SECRET_WORDS.iter().find(|w| key.contains(*w)) {
        return Err(Error::invalid(format!(
            "setting key {key:?} names a secret ({word}); secrets belong in the vault"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use crate::test_support::temp_store;

    #[derive(Debug, PartialEq, serde::Serialize, Deserialize)]
    struct Window {
        width: u32,
        maximized: bool,
    }

    #[test]
    fn strings_round_trip_and_overwrite() {
        let (_dir, store) = temp_store();
        let s = store.settings();
        assert_eq!(s.get_string("ui.theme").unwrap(), None);
        s.set_string("ui.theme", "dark").unwrap();
        s.set_string("ui.theme", "light").unwrap();
        assert_eq!(s.get_string("ui.theme").unwrap().as_deref(), Some("light"));
        assert!(s.remove("ui.theme").unwrap());
        assert!(!s.remove("ui.theme").unwrap());
        assert_eq!(s.get_string("ui.theme").unwrap(), None);
    }

    #[test]
    fn json_round_trips_and_a_wrong_shape_is_a_clear_error() {
        let (_dir, store) = temp_store();
        let s = store.settings();
        let w = Window {
            width: 800,
            maximized: true,
        };
        s.set_json("ui.window", &w).unwrap();
        assert_eq!(s.get_json::<Window>("ui.window").unwrap(), Some(w));
        s.set_string("ui.window", "not json").unwrap();
        let err = s.get_json::<Window>("ui.window").unwrap_err();
        assert_eq!(err.code(), "store.setting_unreadable");
        assert_eq!(s.get_json::<Window>("ui.absent").unwrap(), None);
    }

    #[test]
    fn bad_reserved_and_secret_keys_are_refused() {
        let (_dir, store) = temp_store();
        let s = store.settings();
        for key in [
            "",
            "UI.Theme",
            "ui theme",
            "store.history.missed_seen_at",
            "sip.password",
            "oidc.refresh_token",
            "x.client_secret",
        ] {
            let err = s.set_string(key, "v").unwrap_err();
            assert_eq!(err.code(), "store.invalid_input", "{key:?}");
        }
        let long = "k".repeat(129);
        assert!(s.set_string(&long, "v").is_err());
        let big = "v".repeat(256 * 1024 + 1);
        assert_eq!(
            s.set_string("ui.big", &big).unwrap_err().code(),
            "store.invalid_input"
        );
        // Allowed: tokens that are not secrets are named otherwise.
        s.set_string("oidc.token_endpoint", "https://idp.example/token")
            .unwrap();
    }
}
