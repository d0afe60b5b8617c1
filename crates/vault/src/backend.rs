//! The platform keychain behind the vault: which `keyring` credential each OS uses, and how
//! each backend's failures map onto [`VaultError`].
//!
//! Why keyring 3.6 (pinned) and not keyring-core 1 with per-OS store crates (keyring 4's
//! advice): 3.6 is one crate whose per-OS backends (Secret Service over libdbus, macOS
//! Keychain, Windows Credential Manager) are mature, build offline here and are what the
//! lab notes verified against a real gnome-keyring; the keyring-core store crates are young
//! and split across repositories. The price of keyring 3 is its silent default: with no
//! backend feature it falls back to an in-memory mock store. We therefore never ask keyring
//! for its *default* credential builder (`Entry::new`): every entry is built here from a
//! named platform credential type, and an OS without a real backend does not compile.
//!
//! Linux uses the freedesktop Secret Service (gnome-keyring, KWallet, KeePassXC) through
//! libdbus (`sync-secret-service`), with secrets encrypted on the bus (`crypto-rust`, a DH
//! session). Not the kernel keyutils store (`linux-native`): it is not persistent (secrets
//! vanish at logout/reboot), is not the desktop keychain users manage and back up, and
//! fails here outside a private session keyring. A missing Secret Service is reported as
//! [`VaultError::KeychainUnavailable`], never papered over with another store.

use keyring::{Credential, Entry};

use crate::VaultError;

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
compile_error!(
    "sidetone-vault has no keychain backend for this OS: keyring would silently use its \
     in-memory mock store. Add the OS's native backend to crates/vault (Cargo.toml and \
     src/backend.rs) before building for it."
);

/// A keychain entry for `user` under `service`, on this OS's real keychain.
pub(crate) fn entry(service: &str, user: &str) -> Result<Entry, VaultError> {
    let credential = credential(service, user).map_err(classify)?;
    Ok(Entry::new_with_credential(credential))
}

#[cfg(target_os = "linux")]
fn credential(service: &str, user: &str) -> keyring::Result<Box<Credential>> {
    // Target `None` is the Secret Service's `default` collection alias (gnome-keyring's
    // `login` keyring, unlocked at login by PAM).
    Ok(Box::new(
        keyring::secret_service::SsCredential::new_with_target(None, service, user)?,
    ))
}

#[cfg(target_os = "macos")]
fn credential(service: &str, user: &str) -> keyring::Result<Box<Credential>> {
    // Target `None` is the user's default (login) keychain.
    Ok(Box::new(keyring::macos::MacCredential::new_with_target(
        None, service, user,
    )?))
}

#[cfg(target_os = "windows")]
fn credential(service: &str, user: &str) -> keyring::Result<Box<Credential>> {
    // Target `None` makes the generic credential's target name `user.service`.
    Ok(Box::new(keyring::windows::WinCredential::new_with_target(
        None, service, user,
    )?))
}

/// Maps a keyring failure (other than `NoEntry`, which callers handle) to a [`VaultError`].
/// Nothing from a `BadEncoding` payload (the secret's bytes) is ever kept.
pub(crate) fn classify(err: keyring::Error) -> VaultError {
    match err {
        keyring::Error::NoStorageAccess(inner) => classify_platform(inner.as_ref(), true),
        keyring::Error::PlatformFailure(inner) => classify_platform(inner.as_ref(), false),
        keyring::Error::TooLong(attribute, limit) => {
            if matches!(attribute.as_str(), "password" | "secret") {
                VaultError::SecretTooLarge {
                    detail: format!("the limit is {limit}"),
                }
            } else {
                VaultError::InvalidAccountId {
                    reason: "too long for this keychain",
                }
            }
        }
        keyring::Error::Invalid(_, _) => VaultError::InvalidAccountId {
            reason: "rejected by the keychain",
        },
        keyring::Error::BadEncoding(_) => VaultError::CorruptEntry {
            reason: "the stored value is not UTF-8",
        },
        keyring::Error::Ambiguous(_) => VaultError::CorruptEntry {
            reason: "several keychain items match one secret",
        },
        keyring::Error::NoEntry => VaultError::Platform {
            detail: "no such keychain item".into(),
        },
        other => VaultError::Platform {
            detail: other.to_string(),
        },
    }
}

// ---- Linux: Secret Service over D-Bus --------------------------------------------------------

#[cfg(target_os = "linux")]
const UNAVAILABLE_HINT: &str = "start a Secret Service provider in your desktop session \
    (gnome-keyring, KeePassXC with Secret Service integration, or KWallet 5.97+; e.g. \
    `apt install gnome-keyring`) and make sure DBUS_SESSION_BUS_ADDRESS names the session bus";

#[cfg(target_os = "linux")]
fn classify_platform(inner: &(dyn std::error::Error + 'static), no_access: bool) -> VaultError {
    match inner.downcast_ref::<dbus_secret_service::Error>() {
        Some(err) => classify_secret_service(err),
        None if no_access => VaultError::KeychainLocked,
        None => VaultError::Platform {
            detail: inner.to_string(),
        },
    }
}

/// Maps a Secret Service (D-Bus) failure to a [`VaultError`].
#[cfg(target_os = "linux")]
pub(crate) fn classify_secret_service(err: &dbus_secret_service::Error) -> VaultError {
    use dbus_secret_service::Error;
    match err {
        // Locked: an item or collection is locked. Prompt: the unlock prompt was dismissed,
        // could not be shown (headless) or timed out.
        Error::Locked | Error::Prompt => VaultError::KeychainLocked,
        // NoResult: the service has no `default` collection; Unavailable: no provider.
        Error::NoResult | Error::Unavailable => unavailable(err.to_string()),
        Error::Dbus(dbus_err) => classify_dbus(dbus_err),
        other => VaultError::Platform {
            detail: other.to_string(),
        },
    }
}

#[cfg(target_os = "linux")]
fn classify_dbus(err: &dbus::Error) -> VaultError {
    let name = err.name().unwrap_or_default();
    let detail = match err.message() {
        Some(message) if !message.is_empty() => format!("{name}: {message}"),
        _ => name.to_owned(),
    };
    match name {
        // Nobody owns org.freedesktop.secrets, or there is no bus at all (unset, invalid or
        // dead address), or the bus could not start (activate) a provider.
        "org.freedesktop.DBus.Error.ServiceUnknown"
        | "org.freedesktop.DBus.Error.NameHasNoOwner"
        | "org.freedesktop.DBus.Error.NoServer"
        | "org.freedesktop.DBus.Error.NoNetwork"
        | "org.freedesktop.DBus.Error.FileNotFound"
        | "org.freedesktop.DBus.Error.BadAddress"
        | "org.freedesktop.DBus.Error.Disconnected"
        | "org.freedesktop.DBus.Error.NotSupported"
        | "org.freedesktop.DBus.Error.NoReply"
        | "org.freedesktop.DBus.Error.Timeout"
        | "org.freedesktop.DBus.Error.TimedOut"
        | "org.freedesktop.DBus.Error.UnknownObject"
        | "org.freedesktop.DBus.Error.UnknownMethod"
        | "org.freedesktop.DBus.Error.UnknownInterface" => unavailable(detail),
        n if n.starts_with("org.freedesktop.DBus.Error.Spawn.") => unavailable(detail),
        "org.freedesktop.Secret.Error.IsLocked" => VaultError::KeychainLocked,
        "org.freedesktop.DBus.Error.AccessDenied" | "org.freedesktop.DBus.Error.AuthFailed" => {
            VaultError::AccessDenied { detail }
        }
        _ => VaultError::Platform { detail },
    }
}

#[cfg(target_os = "linux")]
fn unavailable(detail: String) -> VaultError {
    VaultError::KeychainUnavailable {
        detail,
        hint: UNAVAILABLE_HINT,
    }
}

/// Makes sure the `default` collection (where our items live) is unlocked before keyring
/// touches it, showing the desktop's unlock prompt for at most `prompt_timeout`.
///
/// Why: keyring 3 unlocks locked items itself but waits for the prompt for up to a year.
/// Here the wait is bounded, and a prompt that cannot be shown (headless), is dismissed or
/// times out becomes [`VaultError::KeychainLocked`]. No secret crosses the bus here, so a
/// plain (unencrypted) session is enough.
#[cfg(target_os = "linux")]
pub(crate) fn ensure_unlocked(prompt_timeout: std::time::Duration) -> Result<(), VaultError> {
    use dbus_secret_service::{EncryptionType, SecretService};
    let to_error = |err: dbus_secret_service::Error| classify_secret_service(&err);
    let service = SecretService::connect_with_max_prompt_timeout(
        EncryptionType::Plain,
        prompt_timeout.as_secs(),
    )
    .map_err(to_error)?;
    let collection = service.get_default_collection().map_err(to_error)?;
    if collection.is_locked().map_err(to_error)? {
        collection.unlock().map_err(to_error)?;
        if collection.is_locked().map_err(to_error)? {
            return Err(VaultError::KeychainLocked);
        }
    }
    Ok(())
}

// ---- macOS: Keychain Services ----------------------------------------------------------------

#[cfg(target_os = "macos")]
fn classify_platform(inner: &(dyn std::error::Error + 'static), no_access: bool) -> VaultError {
    let detail = inner.to_string();
    let code = inner
        .downcast_ref::<security_framework::base::Error>()
        .map(|e| e.code());
    match code {
        // errSecInteractionNotAllowed (locked, no UI allowed), errSecUserCanceled (the user
        // dismissed the unlock dialog).
        Some(-25308) | Some(-128) => VaultError::KeychainLocked,
        // errSecAuthFailed, errSecMissingEntitlement.
        Some(-25293) | Some(-34018) => VaultError::AccessDenied { detail },
        _ if no_access => VaultError::KeychainUnavailable {
            detail,
            hint: "the login keychain is missing or damaged: repair it with Keychain Access",
        },
        _ => VaultError::Platform { detail },
    }
}

/// The macOS keychain prompts for unlocking by itself; nothing to prepare.
#[cfg(target_os = "macos")]
pub(crate) fn ensure_unlocked(_prompt_timeout: std::time::Duration) -> Result<(), VaultError> {
    Ok(())
}

// ---- Windows: Credential Manager -------------------------------------------------------------

#[cfg(target_os = "windows")]
fn classify_platform(inner: &(dyn std::error::Error + 'static), no_access: bool) -> VaultError {
    const ERROR_ACCESS_DENIED: u32 = 5;
    let detail = inner.to_string();
    let code = inner.downcast_ref::<keyring::windows::Error>().map(|e| e.0);
    match code {
        Some(ERROR_ACCESS_DENIED) => VaultError::AccessDenied { detail },
        _ if no_access => VaultError::KeychainUnavailable {
            detail,
            hint: "Windows Credential Manager has no logon session here: sign in to Windows \
                   interactively (not as a service or over a network logon)",
        },
        _ => VaultError::Platform { detail },
    }
}

/// Credential Manager has no lock state; nothing to prepare.
#[cfg(target_os = "windows")]
pub(crate) fn ensure_unlocked(_prompt_timeout: std::time::Duration) -> Result<(), VaultError> {
    Ok(())
}
