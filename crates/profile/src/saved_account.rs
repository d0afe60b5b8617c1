//! One saved account: what is kept to register it again (never a secret).

use serde::{Deserialize, Serialize};
use sidetone_engine::provisioned::ProvisionedLine;
use sidetone_sip::{AccountConfig, AccountId, OutboundProxy, Password, SipUri, Transport};

use crate::{ProfileError, Result, SavedVoicemail};

/// How an account signs in again when its document is fetched anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// A password (typed, or the manual login's).
    Password,
    /// Single sign-on at the company's identity provider.
    Sso,
    /// A one-time token from a welcome link or code.
    Token,
}

impl SignInMethod {
    /// The name kept in the store and shown to the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::Sso => "sso",
            SignInMethod::Token => "token",
        }
    }
}

/// What is persisted about an account: enough to register it again with the password from
/// the keychain. Never a secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SavedAccount {
    /// The engine's account id.
    pub id: String,
    /// The address of record, `sip:user@domain`.
    pub aor: String,
    /// The login ID the user typed.
    pub login_id: String,
    /// The server host the user typed or confirmed (shown in the UI).
    pub server_host: String,
    /// Which transport worked.
    pub transport: Transport,
    /// Where requests go (`host:port`).
    pub proxy: Option<String>,
    /// "Provider" name shown in the UI.
    pub provider_name: String,
    /// How the user signs in: "password", "sso" or "token" (see [`SignInMethod::as_str`]).
    pub method: String,
    /// The name shown for the line (the provisioning document's `display_name`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// The digest user name when it differs from the AOR's user.
    #[serde(default)]
    pub auth_username: Option<String>,
    /// The provider's CA certificates (PEM) trusted for this account, from its document.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// The provider's account number, when it has one.
    #[serde(default)]
    pub account_number: Option<String>,
    /// For "sso" accounts: the issuer signed in at (its refresh token is in the keychain).
    #[serde(default)]
    pub sso_issuer: Option<String>,
    /// For "sso" accounts: the client id used at the issuer.
    #[serde(default)]
    pub sso_client_id: Option<String>,
    /// The line's voicemail mailbox (its password is in the keychain).
    #[serde(default)]
    pub voicemail: Option<SavedVoicemail>,
    /// Subscribe to voicemail counts (MWI), as the provisioning document said; accounts
    /// saved before this existed read as off.
    #[serde(default)]
    pub mwi: bool,
    /// Where the provisioning document is fetched again (its `provisioning.url`).
    #[serde(default)]
    pub provisioning_url: Option<String>,
    /// Seconds between document refreshes (the document's `provisioning.refresh_interval`).
    #[serde(default)]
    pub refresh_interval_secs: Option<u64>,
    /// When the document was last fetched, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub refreshed_at_ms: Option<i64>,
    /// The provider ended the session (or no credentials to refresh with are kept): the user
    /// must sign in again. The line keeps working with what it has until then.
    #[serde(default)]
    pub sign_in_again: bool,
}

impl SavedAccount {
    /// What to keep of an account that just registered with `config`.
    pub fn from_config(config: &AccountConfig, login_id: &str, server_host: &str) -> Self {
        Self {
            id: config.id.to_string(),
            aor: config.aor.to_string(),
            login_id: login_id.to_owned(),
            server_host: server_host.to_owned(),
            transport: config.transport,
            proxy: config.outbound_proxy.as_ref().map(proxy_text),
            provider_name: server_host.to_owned(),
            method: SignInMethod::Password.as_str().into(),
            display_name: None,
            auth_username: config.auth_username.clone(),
            ca_file: config.ca_file.clone(),
            account_number: None,
            sso_issuer: None,
            sso_client_id: None,
            voicemail: None,
            mwi: config.mwi,
            provisioning_url: None,
            refresh_interval_secs: None,
            refreshed_at_ms: None,
            sign_in_again: false,
        }
    }

    /// What to keep of a provisioned `line` whose candidate `config` registered.
    pub fn from_line(
        config: &AccountConfig,
        line: &ProvisionedLine,
        login_id: &str,
        server_host: &str,
        provider_name: &str,
        method: SignInMethod,
    ) -> Self {
        let mut saved = Self::from_config(config, login_id, server_host);
        saved.provider_name = provider_name.to_owned();
        saved.method = method.as_str().into();
        saved.display_name = Some(line.display_name.clone());
        saved.account_number = line.account_number.clone();
        saved.voicemail = line.voicemail.as_ref().map(SavedVoicemail::from_line);
        saved
    }

    /// The engine's account config, with the password from the keychain.
    pub fn to_config(&self, password: Option<Password>) -> Result<AccountConfig> {
        let unusable = |reason: String| ProfileError::Unusable {
            account: self.id.clone(),
            reason,
        };
        let aor = SipUri::parse(&self.aor).map_err(|e| unusable(e.to_string()))?;
        let mut config = AccountConfig::new(aor, password);
        config.id = AccountId(self.id.clone());
        config.transport = self.transport;
        config.auth_username = self.auth_username.clone();
        config.ca_file = self.ca_file.clone();
        config.mwi = self.mwi;
        config.outbound_proxy = match &self.proxy {
            Some(proxy) => Some(OutboundProxy::parse(proxy).map_err(|e| unusable(e.to_string()))?),
            None => None,
        };
        Ok(config)
    }

    /// The name shown for the line: its display name, else the login ID.
    pub fn label(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.login_id)
    }
}

/// `host:port` (or `host`) of a proxy, as kept in [`SavedAccount::proxy`].
fn proxy_text(proxy: &OutboundProxy) -> String {
    match proxy.port {
        Some(port) => format!("{}:{port}", proxy.host),
        None => proxy.host.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_account_gives_back_the_config_it_was_made_from() {
        let aor = SipUri::parse("sip:1001@pbx.example.com").unwrap();
        let mut config = AccountConfig::new(aor, None);
        config.transport = Transport::Tcp;
        config.auth_username = Some("u1001".into());
        config.outbound_proxy = Some(OutboundProxy::parse("edge.example.com:5070").unwrap());
        let saved = SavedAccount::from_config(&config, "1001", "pbx.example.com");
        let again = saved.to_config(None).unwrap();
        assert_eq!(again.id, config.id);
        assert_eq!(again.aor.to_string(), "sip:1001@pbx.example.com");
        assert_eq!(again.transport, Transport::Tcp);
        assert_eq!(again.auth_username.as_deref(), Some("u1001"));
        assert_eq!(saved.proxy.as_deref(), Some("edge.example.com:5070"));
        assert_eq!(saved.label(), "1001");
    }

    #[test]
    fn an_account_saved_by_an_older_version_still_loads() {
        // What a profile written before voicemail and account numbers holds.
        let old = r#"{"id":"1001@pbx","aor":"sip:1001@pbx","loginId":"1001",
            "serverHost":"pbx","transport":"udp","proxy":null,"providerName":"pbx",
            "method":"password"}"#;
        let saved: SavedAccount = serde_json::from_str(old).unwrap();
        assert!(saved.voicemail.is_none());
        assert!(saved.display_name.is_none());
        assert!(!saved.mwi && !saved.to_config(None).unwrap().mwi);
    }

    #[test]
    fn mwi_is_kept() {
        let aor = SipUri::parse("sip:201@acme.example.com").unwrap();
        let mut config = AccountConfig::new(aor, None);
        config.mwi = true;
        let saved = SavedAccount::from_config(&config, "201", "acme.example.com");
        let json = serde_json::to_value(&saved).unwrap();
        assert_eq!(json["mwi"], true);
        let back: SavedAccount = serde_json::from_value(json).unwrap();
        assert!(back.to_config(None).unwrap().mwi);
    }

    #[test]
    fn a_saved_address_this_version_refuses_is_a_clear_error() {
        let aor = SipUri::parse("sip:1001@pbx.example.com").unwrap();
        let mut saved = SavedAccount::from_config(&AccountConfig::new(aor, None), "1001", "pbx");
        saved.aor = "sip:10 01@pbx".into();
        let error = saved.to_config(None).unwrap_err();
        assert_eq!(error.code(), "profile.unusable_account");
    }
}
