//! Unit tests of the vault's logic on keyring's mock store (allowed here only: `cfg(test)`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use super::mock::MockStore;
use super::*;

fn mock_vault() -> (Vault, Arc<MockStore>) {
    let store = Arc::new(MockStore::default());
    let vault = Vault {
        service: Arc::from("org.sidetone.test"),
        unlock_prompt_timeout: Duration::ZERO,
        store: Store::Mock(store.clone()),
    };
    (vault, store)
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

#[test]
fn store_load_delete_round_trip() {
    let (vault, _) = mock_vault();
    assert!(
        vault
            .load("1001", SecretKind::SipPassword)
            .unwrap()
            .is_none()
    );
    vault
        .store("1001", SecretKind::SipPassword, &secret("hunter2"))
        .unwrap();
    let loaded = vault
        .load("1001", SecretKind::SipPassword)
        .unwrap()
        .unwrap();
    assert_eq!(loaded.expose_secret(), "hunter2");
    vault
        .store("1001", SecretKind::SipPassword, &secret("new"))
        .unwrap();
    let loaded = vault
        .load("1001", SecretKind::SipPassword)
        .unwrap()
        .unwrap();
    assert_eq!(loaded.expose_secret(), "new");
    vault.delete("1001", SecretKind::SipPassword).unwrap();
    assert!(
        vault
            .load("1001", SecretKind::SipPassword)
            .unwrap()
            .is_none()
    );
    // Deleting what is not there is fine.
    vault.delete("1001", SecretKind::SipPassword).unwrap();
}

#[test]
fn kinds_and_accounts_are_separate_items() {
    let (vault, store) = mock_vault();
    vault
        .store("a", SecretKind::SipPassword, &secret("sip"))
        .unwrap();
    vault
        .store("a", SecretKind::RefreshToken, &secret("rt"))
        .unwrap();
    vault
        .store("b", SecretKind::SipPassword, &secret("other"))
        .unwrap();
    assert_eq!(
        vault
            .load("a", SecretKind::SipPassword)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "sip"
    );
    assert_eq!(
        vault
            .load("a", SecretKind::RefreshToken)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "rt"
    );
    assert!(
        vault
            .load("a", SecretKind::ProvisioningPassword)
            .unwrap()
            .is_none()
    );
    let mut names = store.names();
    names.sort();
    assert!(names.contains(&"a/sip-password".to_owned()));
    assert!(names.contains(&"a/refresh-token".to_owned()));
    assert!(names.contains(&"b/sip-password".to_owned()));
}

#[test]
fn delete_account_removes_every_kind_of_that_account_only() {
    let (vault, _) = mock_vault();
    for kind in SecretKind::ALL {
        vault.store("a", kind, &secret(kind.as_str())).unwrap();
    }
    vault
        .store("b", SecretKind::RefreshToken, &secret("keep"))
        .unwrap();
    vault.delete_account("a").unwrap();
    for kind in SecretKind::ALL {
        assert!(
            vault.load("a", kind).unwrap().is_none(),
            "{kind:?} left behind"
        );
    }
    assert_eq!(
        vault
            .load("b", SecretKind::RefreshToken)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "keep"
    );
}

#[test]
fn delete_account_tries_every_kind_and_reports_the_first_failure() {
    let (vault, store) = mock_vault();
    for kind in SecretKind::ALL {
        vault.store("a", kind, &secret("x")).unwrap();
    }
    store.fail_next(
        "a/sip-password",
        keyring::Error::NoStorageAccess(Box::new(std::io::Error::other("locked"))),
    );
    let err = vault.delete_account("a").unwrap_err();
    assert_eq!(err.code(), "vault.locked");
    assert!(vault.load("a", SecretKind::RefreshToken).unwrap().is_none());
    assert!(
        vault
            .load("a", SecretKind::ProvisioningPassword)
            .unwrap()
            .is_none()
    );
    // Retrying after the user unlocked finishes the job.
    vault.delete_account("a").unwrap();
    assert!(vault.load("a", SecretKind::SipPassword).unwrap().is_none());
}

#[test]
fn unicode_and_long_secrets_survive() {
    let (vault, _) = mock_vault();
    let text = "pässwörd 🔑 пароль 密码 \u{200d}";
    vault
        .store("ü-1", SecretKind::ProvisioningPassword, &secret(text))
        .unwrap();
    let loaded = vault
        .load("ü-1", SecretKind::ProvisioningPassword)
        .unwrap()
        .unwrap();
    assert_eq!(loaded.expose_secret(), text);
    let token = "t".repeat(2000);
    vault
        .store("ü-1", SecretKind::RefreshToken, &secret(&token))
        .unwrap();
    let loaded = vault
        .load("ü-1", SecretKind::RefreshToken)
        .unwrap()
        .unwrap();
    assert_eq!(loaded.expose_secret(), token);
}

#[test]
fn account_ids_are_validated() {
    let (vault, _) = mock_vault();
    let s = secret("x");
    for bad in ["", "a\nb", "tab\there", &"x".repeat(MAX_ACCOUNT_ID_LEN + 1)] {
        let err = vault.store(bad, SecretKind::SipPassword, &s).unwrap_err();
        assert_eq!(err.code(), "vault.invalid_account_id", "{bad:?}");
        assert!(vault.load(bad, SecretKind::SipPassword).is_err());
        assert!(vault.delete(bad, SecretKind::SipPassword).is_err());
        assert!(vault.delete_account(bad).is_err());
    }
    vault
        .store(&"x".repeat(MAX_ACCOUNT_ID_LEN), SecretKind::SipPassword, &s)
        .unwrap();
}

#[test]
fn item_names_are_stable() {
    // Stored items are found by these names: changing one orphans users' secrets.
    assert_eq!(
        item_user("1001", SecretKind::SipPassword),
        "1001/sip-password"
    );
    assert_eq!(
        item_user("1001", SecretKind::RefreshToken),
        "1001/refresh-token"
    );
    assert_eq!(
        item_user("1001", SecretKind::ProvisioningPassword),
        "1001/provisioning-password"
    );
}

#[test]
fn ambiguous_items_are_replaced_on_store_and_removed_on_delete() {
    let (vault, store) = mock_vault();
    let dup = || -> Box<keyring::Credential> { Box::<keyring::mock::MockCredential>::default() };
    store.fail_next(
        "a/sip-password",
        keyring::Error::Ambiguous(vec![dup(), dup()]),
    );
    vault
        .store("a", SecretKind::SipPassword, &secret("v"))
        .unwrap();
    assert_eq!(
        vault
            .load("a", SecretKind::SipPassword)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "v"
    );
    store.fail_next("a/sip-password", keyring::Error::Ambiguous(vec![dup()]));
    let err = vault.load("a", SecretKind::SipPassword).unwrap_err();
    assert_eq!(err.code(), "vault.corrupt_entry");
    store.fail_next("a/sip-password", keyring::Error::Ambiguous(vec![dup()]));
    vault.delete("a", SecretKind::SipPassword).unwrap();
}

#[test]
fn errors_never_carry_the_secret() {
    let (vault, store) = mock_vault();
    store.fail_next(
        "a/sip-password",
        keyring::Error::BadEncoding(b"top-secret-bytes".to_vec()),
    );
    let err = vault.load("a", SecretKind::SipPassword).unwrap_err();
    assert_eq!(err.code(), "vault.corrupt_entry");
    assert!(!format!("{err} {err:?}").contains("top-secret"));
}

#[test]
fn secrets_and_vaults_never_print() {
    let (vault, _) = mock_vault();
    vault
        .store("a", SecretKind::SipPassword, &secret("hunter2"))
        .unwrap();
    let loaded = vault.load("a", SecretKind::SipPassword).unwrap().unwrap();
    let printed = format!("{loaded:?} {vault:?}");
    assert!(!printed.contains("hunter2"));
    assert!(printed.contains("REDACTED"));
}

#[test]
fn too_long_maps_to_who_is_at_fault() {
    let err = backend::classify(keyring::Error::TooLong("password".into(), 2560));
    assert_eq!(err.code(), "vault.secret_too_large");
    let err = backend::classify(keyring::Error::TooLong("user".into(), 513));
    assert_eq!(err.code(), "vault.invalid_account_id");
}

#[test]
fn codes_are_stable_and_distinct() {
    let errors = [
        VaultError::KeychainLocked,
        VaultError::KeychainUnavailable {
            detail: String::new(),
            hint: "",
        },
        VaultError::AccessDenied {
            detail: String::new(),
        },
        VaultError::InvalidAccountId { reason: "" },
        VaultError::SecretTooLarge {
            detail: String::new(),
        },
        VaultError::CorruptEntry { reason: "" },
        VaultError::Platform {
            detail: String::new(),
        },
    ];
    let codes: Vec<_> = errors.iter().map(VaultError::code).collect();
    assert_eq!(
        codes,
        [
            "vault.locked",
            "vault.unavailable",
            "vault.access_denied",
            "vault.invalid_account_id",
            "vault.secret_too_large",
            "vault.corrupt_entry",
            "vault.platform"
        ]
    );
    assert!(errors[0].is_retryable() && errors[1].is_retryable());
    assert!(!errors[2].is_retryable());
}

#[tokio::test]
async fn async_wrappers_run_off_the_runtime() {
    let (vault, _) = mock_vault();
    vault
        .store_async("a", SecretKind::RefreshToken, secret("rt"))
        .await
        .unwrap();
    let loaded = vault
        .load_async("a", SecretKind::RefreshToken)
        .await
        .unwrap();
    assert_eq!(loaded.unwrap().expose_secret(), "rt");
    vault.delete_account_async("a").await.unwrap();
    assert!(
        vault
            .load_async("a", SecretKind::RefreshToken)
            .await
            .unwrap()
            .is_none()
    );
    vault.check_async().await.unwrap();
}

/// The guard against keyring's silent mock store: the OS store builds the platform's own
/// credential type, never a mock (building an entry does not touch the keychain).
#[test]
fn os_store_uses_the_platform_credential_not_the_mock() {
    let vault = Vault::new("org.sidetone.test");
    let entry = vault.entry("a", SecretKind::SipPassword).unwrap();
    let credential = entry.get_credential();
    assert!(
        credential
            .downcast_ref::<keyring::mock::MockCredential>()
            .is_none()
    );
    #[cfg(target_os = "linux")]
    assert!(
        credential
            .downcast_ref::<keyring::secret_service::SsCredential>()
            .is_some()
    );
    #[cfg(target_os = "macos")]
    assert!(
        credential
            .downcast_ref::<keyring::macos::MacCredential>()
            .is_some()
    );
    #[cfg(target_os = "windows")]
    assert!(
        credential
            .downcast_ref::<keyring::windows::WinCredential>()
            .is_some()
    );
}

#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use dbus_secret_service::Error as SsError;

    fn classify_boxed(no_access: bool, inner: SsError) -> VaultError {
        let err = if no_access {
            keyring::Error::NoStorageAccess(Box::new(inner))
        } else {
            keyring::Error::PlatformFailure(Box::new(inner))
        };
        backend::classify(err)
    }

    fn dbus(name: &str) -> SsError {
        SsError::Dbus(dbus::Error::new_custom(name, "message"))
    }

    #[test]
    fn secret_service_errors_map_to_who_is_at_fault() {
        assert_eq!(classify_boxed(true, SsError::Locked).code(), "vault.locked");
        assert_eq!(classify_boxed(true, SsError::Prompt).code(), "vault.locked");
        assert_eq!(
            classify_boxed(true, SsError::NoResult).code(),
            "vault.unavailable"
        );
        assert_eq!(
            classify_boxed(false, SsError::Unavailable).code(),
            "vault.unavailable"
        );
        for name in [
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.freedesktop.DBus.Error.NoServer",
            "org.freedesktop.DBus.Error.FileNotFound",
            "org.freedesktop.DBus.Error.Spawn.ExecFailed",
        ] {
            let err = classify_boxed(false, dbus(name));
            assert_eq!(err.code(), "vault.unavailable", "{name}");
            assert!(
                err.to_string().contains("gnome-keyring"),
                "hint missing: {err}"
            );
        }
        assert_eq!(
            classify_boxed(false, dbus("org.freedesktop.Secret.Error.IsLocked")).code(),
            "vault.locked"
        );
        assert_eq!(
            classify_boxed(false, dbus("org.freedesktop.DBus.Error.AccessDenied")).code(),
            "vault.access_denied"
        );
        assert_eq!(
            classify_boxed(false, dbus("org.freedesktop.DBus.Error.Failed")).code(),
            "vault.platform"
        );
    }

    #[test]
    fn mock_failures_flow_through_the_vault() {
        let (vault, store) = mock_vault();
        store.fail_next(
            "a/refresh-token",
            keyring::Error::NoStorageAccess(Box::new(SsError::Locked)),
        );
        let err = vault.load("a", SecretKind::RefreshToken).unwrap_err();
        assert!(matches!(err, VaultError::KeychainLocked));
        assert!(err.is_retryable());
        // The retry (keychain unlocked now) works.
        assert!(vault.load("a", SecretKind::RefreshToken).unwrap().is_none());
        store.fail_next(
            "a/refresh-token",
            keyring::Error::PlatformFailure(Box::new(dbus(
                "org.freedesktop.DBus.Error.ServiceUnknown",
            ))),
        );
        let err = vault
            .store("a", SecretKind::RefreshToken, &secret("rt"))
            .unwrap_err();
        assert!(matches!(err, VaultError::KeychainUnavailable { .. }));
    }
}
