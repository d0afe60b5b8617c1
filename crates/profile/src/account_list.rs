//! The saved accounts of a profile, in the order they were added, kept as one setting.

use sidetone_store::Store;

use crate::{ProfileError, Result, SavedAccount};

/// The store key of the account list.
pub const ACCOUNTS_KEY: &str = "accounts.v1";

/// The account list of one profile's store.
pub struct AccountList<'a> {
    store: &'a Store,
}

impl<'a> AccountList<'a> {
    /// The list kept in `store`.
    pub fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Every saved account, in the order they were added.
    pub fn all(&self) -> Result<Vec<SavedAccount>> {
        Ok(self
            .store
            .settings()
            .get_json(ACCOUNTS_KEY)?
            .unwrap_or_default())
    }

    /// Replaces the whole list.
    pub fn save_all(&self, accounts: &[SavedAccount]) -> Result<()> {
        Ok(self.store.settings().set_json(ACCOUNTS_KEY, accounts)?)
    }

    /// Adds `account`, or replaces the saved account with the same id (keeping its place).
    pub fn upsert(&self, account: SavedAccount) -> Result<()> {
        let mut all = self.all()?;
        match all.iter_mut().find(|a| a.id == account.id) {
            Some(slot) => *slot = account,
            None => all.push(account),
        }
        self.save_all(&all)
    }

    /// Removes the account `id`; returns what was removed, `None` when there was none.
    pub fn remove(&self, id: &str) -> Result<Option<SavedAccount>> {
        let mut all = self.all()?;
        let Some(at) = all.iter().position(|a| a.id == id) else {
            return Ok(None);
        };
        let removed = all.remove(at);
        self.save_all(&all)?;
        Ok(Some(removed))
    }

    /// The account `id`, if saved.
    pub fn find(&self, id: &str) -> Result<Option<SavedAccount>> {
        Ok(self.all()?.into_iter().find(|a| a.id == id))
    }

    /// The account a command means: the one named (by id, AOR, login ID or account number),
    /// or the only one when none is named. Several and none named is an error listing them.
    pub fn pick(&self, named: Option<&str>) -> Result<SavedAccount> {
        let all = self.all()?;
        match named {
            Some(name) => all
                .into_iter()
                .find(|a| {
                    a.id == name
                        || a.aor == name
                        || a.login_id == name
                        || a.account_number.as_deref() == Some(name)
                })
                .ok_or_else(|| ProfileError::UnknownAccount(name.to_owned())),
            None => match all.len() {
                0 => Err(ProfileError::NoAccount),
                1 => all.into_iter().next().ok_or(ProfileError::NoAccount),
                n => Err(ProfileError::AccountNotNamed(
                    n,
                    all.iter()
                        .map(|a| a.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use sidetone_sip::{AccountConfig, SipUri};

    use super::*;

    fn account(user: &str) -> SavedAccount {
        let aor = SipUri::parse(&format!("sip:{user}@pbx.example.com")).unwrap();
        SavedAccount::from_config(&AccountConfig::new(aor, None), user, "pbx.example.com")
    }

    #[test]
    fn upsert_adds_then_replaces_in_place_and_remove_says_what_it_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("db.sqlite3")).unwrap();
        let list = AccountList::new(&store);
        list.upsert(account("1001")).unwrap();
        list.upsert(account("1002")).unwrap();
        let mut renamed = account("1001");
        renamed.display_name = Some("Front desk".into());
        list.upsert(renamed).unwrap();
        let all = list.all().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].label(), "Front desk");
        assert_eq!(
            list.remove("1002@pbx.example.com")
                .unwrap()
                .unwrap()
                .login_id,
            "1002"
        );
        assert!(list.remove("1002@pbx.example.com").unwrap().is_none());
        assert_eq!(list.all().unwrap().len(), 1);
    }

    #[test]
    fn pick_takes_the_only_account_or_the_named_one_and_explains_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("db.sqlite3")).unwrap();
        let list = AccountList::new(&store);
        assert_eq!(list.pick(None).unwrap_err().code(), "profile.no_account");
        list.upsert(account("1001")).unwrap();
        assert_eq!(list.pick(None).unwrap().login_id, "1001");
        list.upsert(account("1002")).unwrap();
        let error = list.pick(None).unwrap_err();
        assert_eq!(error.code(), "profile.account_not_named");
        assert!(
            error.to_string().contains("1002@pbx.example.com"),
            "{error}"
        );
        assert_eq!(
            list.pick(Some("sip:1002@pbx.example.com"))
                .unwrap()
                .login_id,
            "1002"
        );
        assert_eq!(list.pick(Some("1001")).unwrap().login_id, "1001");
        assert_eq!(
            list.pick(Some("9999")).unwrap_err().code(),
            "profile.unknown_account"
        );
    }
}
