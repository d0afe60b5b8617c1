//! Where a profile's database lives.
//!
//! The data directory is, in order of precedence: an explicit path (a command-line flag,
//! a test), then the `SIDETONE_DATA_DIR` environment variable (must be absolute), then the
//! per-user default from the OS: `$XDG_DATA_HOME/sidetone` (usually
//! `~/.local/share/sidetone`) on Linux, `~/Library/Application Support/org.Sidetone.Sidetone`
//! on macOS, `%LOCALAPPDATA%\Sidetone\Sidetone\data` on Windows (local, not roaming: an
//! SQLite file must not roam). Each profile has its own directory below it:
//! `<data dir>/profiles/<profile>/sidetone.sqlite3`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

use crate::{Error, Result};

/// Environment variable that overrides the default data directory.
pub const DATA_DIR_ENV: &str = "SIDETONE_DATA_DIR";

/// File name of a profile's database.
pub const DATABASE_FILE_NAME: &str = "sidetone.sqlite3";

/// The profile used when the user has only one.
pub const DEFAULT_PROFILE: &str = "default";

/// Longest profile name, in bytes.
const MAX_PROFILE_BYTES: usize = 64;

/// The data directory: `explicit` if given, else `SIDETONE_DATA_DIR` if set, else the OS
/// default. Reads the environment; [`resolve_data_dir`] is the same without doing so.
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    let env = std::env::var_os(DATA_DIR_ENV);
    resolve_data_dir(explicit, env.as_deref(), default_data_dir)
}

/// [`data_dir`] with the environment value and the OS default passed in. An empty
/// environment value counts as unset; a relative one is refused (it would depend on the
/// working directory).
pub fn resolve_data_dir(
    explicit: Option<&Path>,
    env_value: Option<&OsStr>,
    os_default: impl FnOnce() -> Result<PathBuf>,
) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(value) = env_value.filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(value);
        if !dir.is_absolute() {
            return Err(Error::invalid(format!(
                "{DATA_DIR_ENV} must be an absolute path, not {}",
                dir.display()
            )));
        }
        return Ok(dir);
    }
    os_default()
}

/// The OS's per-user data directory for Sidetone (module docs), without creating it.
pub fn default_data_dir() -> Result<PathBuf> {
    ProjectDirs::from("org", "Sidetone", "Sidetone")
        .map(|dirs| dirs.data_local_dir().to_path_buf())
        .ok_or(Error::NoDataDir)
}

/// `<data_dir>/profiles/<profile>/sidetone.sqlite3`. Profile names are 1 to 64 characters
/// of `A-Z a-z 0-9 _ -`, so a name can never climb out of the data directory.
pub fn database_path(data_dir: &Path, profile: &str) -> Result<PathBuf> {
    let valid = !profile.is_empty()
        && profile.len() <= MAX_PROFILE_BYTES
        && profile
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(Error::invalid(format!(
            "profile name {profile:?} must be 1 to {MAX_PROFILE_BYTES} characters of \
             A-Z a-z 0-9 _ -"
        )));
    }
    Ok(data_dir
        .join("profiles")
        .join(profile)
        .join(DATABASE_FILE_NAME))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_default() -> Result<PathBuf> {
        Err(Error::NoDataDir)
    }

    #[test]
    fn explicit_beats_env_beats_default() {
        let env = OsStr::new("/env/dir");
        let got = resolve_data_dir(Some(Path::new("/explicit")), Some(env), no_default).unwrap();
        assert_eq!(got, PathBuf::from("/explicit"));
        let got = resolve_data_dir(None, Some(env), no_default).unwrap();
        assert_eq!(got, PathBuf::from("/env/dir"));
        let got = resolve_data_dir(None, None, || Ok(PathBuf::from("/os"))).unwrap();
        assert_eq!(got, PathBuf::from("/os"));
        let got = resolve_data_dir(None, Some(OsStr::new("")), || Ok(PathBuf::from("/os")));
        assert_eq!(got.unwrap(), PathBuf::from("/os"), "empty env var = unset");
        assert_eq!(
            resolve_data_dir(None, None, no_default).unwrap_err().code(),
            "store.no_data_dir"
        );
    }

    #[test]
    fn relative_env_dir_is_refused() {
        let err = resolve_data_dir(None, Some(OsStr::new("rel/dir")), no_default).unwrap_err();
        assert_eq!(err.code(), "store.invalid_input");
    }

    #[test]
    fn database_path_is_per_profile_and_cannot_escape() {
        let p = database_path(Path::new("/data"), DEFAULT_PROFILE).unwrap();
        assert_eq!(p, PathBuf::from("/data/profiles/default/sidetone.sqlite3"));
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "with space",
            &"x".repeat(65),
        ] {
            assert!(database_path(Path::new("/data"), bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_default_is_under_xdg_data_home() {
        // The directories crate reads HOME / XDG_DATA_HOME; only the shape is checked.
        let dir = default_data_dir().unwrap();
        assert!(dir.ends_with("sidetone"), "{}", dir.display());
    }
}
