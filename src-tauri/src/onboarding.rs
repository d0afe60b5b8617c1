//! What the onboarding commands remember between steps: deployments the user has not
//! confirmed yet, and signed-in accounts waiting for the terms. All in memory: nothing is
//! stored before the user has agreed (ui/src/lib/api/README.md, "Nothing is stored before
//! consent").

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use sidetone_engine::provisioned::ProvisionedLine;
use sidetone_onboarding::{
    AccountChoice, Deployment, DiscoveredAccount, ProvisioningClient, SecretString, SignInMethod,
    Terms, Url,
};
use tokio::sync::oneshot;

use crate::error::CommandError;

/// Environment variable naming a PEM file of extra CA certificates to trust for provisioning
/// and discovery (a company's private CA, or the demo lab's): added to the OS store,
/// verification stays on.
pub const EXTRA_CA_ENV: &str = "SIDETONE_EXTRA_CA_FILE";

/// Environment variable naming the provider's discovery server (`host[:port]`), asked instead
/// of the login ID's own domain (a company that does not publish WebFinger on its mail
/// domain, or the demo lab).
pub const DISCOVERY_SERVER_ENV: &str = "SIDETONE_DISCOVERY_SERVER";

/// A deployment the UI holds a `deploymentId` for.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// From a link, code or QR code.
    Link(Deployment),
    /// From WebFinger discovery of a login ID.
    Discovered {
        /// The login ID the user typed.
        login_id: String,
        /// The accounts discovery found.
        accounts: Vec<DiscoveredAccount>,
    },
    /// A token link whose server answered "several accounts": the same token, with a choice.
    Choices {
        /// The link.
        deployment: Deployment,
        /// The accounts to pick from.
        choices: Vec<AccountChoice>,
    },
}

impl Resolved {
    /// The host the user confirmed.
    pub fn server_host(&self) -> String {
        match self {
            Resolved::Link(deployment) | Resolved::Choices { deployment, .. } => {
                deployment.display_host()
            }
            Resolved::Discovered { accounts, .. } => accounts
                .first()
                .map(|a| host_of(&a.href))
                .unwrap_or_default(),
        }
    }

    /// How the user signs in, as the UI names it.
    pub fn method(&self) -> &'static str {
        match self {
            Resolved::Link(d) | Resolved::Choices { deployment: d, .. } if d.token.is_some() => {
                "token"
            }
            Resolved::Discovered { accounts, .. }
                if accounts
                    .iter()
                    .any(|a| a.sign_in == Some(SignInMethod::Oidc)) =>
            {
                "sso"
            }
            _ => "password",
        }
    }

    /// The discovered account the user picked: by account number or list index, the first
    /// when there is one only (`None` for links, or an unknown pick).
    pub fn chosen_account(&self, account_id: Option<&str>) -> Option<&DiscoveredAccount> {
        let Resolved::Discovered { accounts, .. } = self else {
            return None;
        };
        match account_id {
            Some(id) => accounts.iter().enumerate().find_map(|(i, a)| {
                (a.account_number.as_deref() == Some(id) || i.to_string() == id).then_some(a)
            }),
            None if accounts.len() == 1 => accounts.first(),
            None => None,
        }
    }
}

/// The host (and port, when not the default) of `url`.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    }
}

/// A provisioning client trusting the OS store plus the PEM file at `extra_ca_path`.
fn build_client(
    extra_ca_path: Option<&std::ffi::OsStr>,
) -> Result<ProvisioningClient, CommandError> {
    let extra_ca = match extra_ca_path {
        Some(path) if !path.is_empty() => Some(std::fs::read(path).map_err(|e| {
            CommandError::new(
                "config.invalid",
                format!(
                    "{EXTRA_CA_ENV}={}: {e}",
                    std::path::Path::new(path).display()
                ),
            )
        })?),
        _ => None,
    };
    Ok(ProvisioningClient::new(extra_ca.as_deref())?)
}

/// A signed-in account waiting for the user to accept the provider's terms.
#[derive(Debug, Clone)]
pub struct PendingAccount {
    /// The lines of the document (the first is the account id the UI holds).
    pub lines: Vec<ProvisionedLine>,
    /// The provider's display name.
    pub provider_name: String,
    /// The host the user confirmed.
    pub server_host: String,
    /// The login ID (the document's `sign_in.login_id`).
    pub login_id: String,
    /// How the account signs in again.
    pub method: sidetone_profile::SignInMethod,
    /// The terms to accept.
    pub terms: Terms,
    /// For a single sign-on account: where it signed in, and its refresh token.
    pub sso: Option<SsoSession>,
    /// Where and how often the document refreshes.
    pub refresh: Option<sidetone_onboarding::Refresh>,
    /// The provider password, kept for refreshes when the user chose to stay signed in.
    pub kept_password: Option<SecretString>,
}

/// What is kept of a single sign-on: enough to fetch the document again without the browser.
#[derive(Debug, Clone)]
pub struct SsoSession {
    /// The issuer, exactly as its metadata names it.
    pub issuer: String,
    /// The client id used there.
    pub client_id: String,
    /// The refresh token, for the keychain (never the store). `None` when the issuer gave
    /// none: then the next document refresh asks the user to sign in again.
    pub refresh_token: Option<SecretString>,
}

/// The onboarding commands' memory.
pub struct OnboardingState {
    deployments: Mutex<HashMap<String, Resolved>>,
    pending: Mutex<HashMap<String, PendingAccount>>,
    next_id: AtomicU64,
    /// Single sign-ons waiting for the browser, by deployment id: sending cancels one.
    sso_waits: Mutex<HashMap<String, oneshot::Sender<()>>>,
    /// Built on first use: loading the OS's root certificates is work most starts of the app
    /// never need (the accounts exist already), and a bad extra CA must fail onboarding with
    /// a clear error, not stop the phone from starting.
    client: OnceLock<ProvisioningClient>,
    /// Where a discovery without a server of its own goes (see [`DISCOVERY_SERVER_ENV`]).
    pub discovery_server: Option<String>,
    /// Where trusted provider CA files are written.
    pub trust_dir: PathBuf,
}

impl OnboardingState {
    /// Reads the discovery server from the environment; `trust_dir` is where providers' CA
    /// certificates are kept. Touches no file and no network.
    pub fn new(trust_dir: PathBuf) -> Self {
        let discovery_server = std::env::var(DISCOVERY_SERVER_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        Self {
            deployments: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            sso_waits: Mutex::new(HashMap::new()),
            client: OnceLock::new(),
            discovery_server,
            trust_dir,
        }
    }

    /// The HTTPS client for provisioning and discovery, trusting the OS store plus the CA
    /// file named by [`EXTRA_CA_ENV`]. A failure is not remembered: fixing the file and trying
    /// again works without a restart.
    pub fn client(&self) -> Result<&ProvisioningClient, CommandError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = build_client(std::env::var_os(EXTRA_CA_ENV).as_deref())?;
        Ok(self.client.get_or_init(|| client))
    }

    /// Remembers a deployment and returns the id the UI will send back.
    pub fn remember(&self, resolved: Resolved) -> String {
        let id = format!("dep-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        if let Ok(mut map) = self.deployments.lock() {
            map.insert(id.clone(), resolved);
        }
        id
    }

    /// Replaces what `id` stands for (a token link that turned out to have several accounts).
    pub fn replace(&self, id: &str, resolved: Resolved) {
        if let Ok(mut map) = self.deployments.lock() {
            map.insert(id.to_owned(), resolved);
        }
    }

    /// The deployment behind `id`.
    pub fn deployment(&self, id: &str) -> Result<Resolved, CommandError> {
        self.deployments
            .lock()
            .ok()
            .and_then(|map| map.get(id).cloned())
            .ok_or_else(|| {
                CommandError::new(
                    "onboarding.deployment_unknown",
                    "That set-up has expired. Open the link or code again.",
                )
            })
    }

    /// Forgets a deployment once it has been used.
    pub fn forget(&self, id: &str) {
        if let Ok(mut map) = self.deployments.lock() {
            map.remove(id);
        }
    }

    /// Notes that `id`'s single sign-on waits for the browser; the receiver completes when
    /// the user cancels it, or when a newer sign-in for the same deployment replaces it.
    pub fn sso_started(&self, id: &str) -> oneshot::Receiver<()> {
        let (cancel, cancelled) = oneshot::channel();
        if let Ok(mut map) = self.sso_waits.lock() {
            map.insert(id.to_owned(), cancel);
        }
        cancelled
    }

    /// Cancels `id`'s waiting single sign-on; false when none waits.
    pub fn cancel_sso(&self, id: &str) -> bool {
        let waiting = self.sso_waits.lock().ok().and_then(|mut m| m.remove(id));
        waiting.is_some_and(|cancel| cancel.send(()).is_ok())
    }

    /// Forgets `id`'s single sign-on once it has ended either way. Call it after dropping
    /// the receiver [`Self::sso_started`] gave: only a wait nobody listens to any more is
    /// removed, so a newer sign-in that replaced this one keeps its Cancel.
    pub fn sso_ended(&self, id: &str) {
        if let Ok(mut map) = self.sso_waits.lock()
            && map.get(id).is_some_and(oneshot::Sender::is_closed)
        {
            map.remove(id);
        }
    }

    /// Keeps an account until its terms are accepted.
    pub fn park(&self, account_id: String, pending: PendingAccount) {
        if let Ok(mut map) = self.pending.lock() {
            map.insert(account_id, pending);
        }
    }

    /// The account waiting for its terms, if any.
    pub fn parked(&self, account_id: &str) -> Option<PendingAccount> {
        self.pending.lock().ok()?.get(account_id).cloned()
    }

    /// Every account waiting for its terms, by id.
    pub fn parked_all(&self) -> Vec<(String, PendingAccount)> {
        self.pending
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// Takes the account out of the waiting room (terms accepted or declined).
    pub fn unpark(&self, account_id: &str) -> Option<PendingAccount> {
        self.pending.lock().ok()?.remove(account_id)
    }
}

#[cfg(test)]
mod tests {
    use sidetone_onboarding::DeploymentLink;

    use super::*;

    fn link(text: &str) -> Deployment {
        DeploymentLink::parse(text).unwrap().deployment
    }

    #[test]
    fn a_missing_extra_ca_file_is_a_clear_error_and_none_is_fine() {
        let missing = build_client(Some(std::ffi::OsStr::new("/nonexistent/ca.pem")));
        let error = missing.err().unwrap();
        assert_eq!(error.code, "config.invalid");
        assert!(
            error.message.contains("/nonexistent/ca.pem"),
            "{}",
            error.message
        );
        assert!(build_client(None).is_ok());
        // Nothing is read or built until onboarding needs it.
        let state = OnboardingState::new(PathBuf::from("/nonexistent/trust"));
        assert!(state.client.get().is_none());
    }

    #[test]
    fn a_newer_sign_in_keeps_its_cancel_when_the_one_it_replaced_ends() {
        let state = OnboardingState::new(PathBuf::from("/nonexistent/trust"));
        let mut first = state.sso_started("dep-1");
        let mut second = state.sso_started("dep-1");
        // The replaced sign-in hears it is over (its sender was dropped)…
        assert!(first.try_recv().is_err());
        // …and ends, as commands::sso does: receiver dropped, then sso_ended.
        drop(first);
        state.sso_ended("dep-1");
        // The newer one can still be cancelled by the user.
        assert!(
            state.cancel_sso("dep-1"),
            "the newer sign-in lost its Cancel"
        );
        assert_eq!(second.try_recv(), Ok(()));
        drop(second);
        state.sso_ended("dep-1");
        assert!(!state.cancel_sso("dep-1"), "nothing waits any more");
    }

    #[test]
    fn the_sign_in_method_follows_what_the_deployment_carries() {
        let token = link("sidetone://provision?server=pbx.example.com&token=7Q2M0D4K9VXR1H8A");
        assert_eq!(Resolved::Link(token).method(), "token");
        let no_token = link("sidetone://provision?server=pbx.example.com&user=ann%40example.com");
        let resolved = Resolved::Link(no_token);
        assert_eq!(resolved.method(), "password");
        assert_eq!(resolved.server_host(), "pbx.example.com");
        let account = |sign_in| DiscoveredAccount {
            href: Url::parse("https://pbx.example.com:8443/provisioning/v1/document").unwrap(),
            title: Some("Example".into()),
            account_number: None,
            sign_in,
            issuer: None,
        };
        let sso = Resolved::Discovered {
            login_id: "ann@example.com".into(),
            accounts: vec![account(Some(SignInMethod::Oidc))],
        };
        assert_eq!(sso.method(), "sso");
        assert_eq!(sso.server_host(), "pbx.example.com:8443");
        let password = Resolved::Discovered {
            login_id: "ann@example.com".into(),
            accounts: vec![account(Some(SignInMethod::Password))],
        };
        assert_eq!(password.method(), "password");
    }
}
