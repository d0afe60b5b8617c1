//! The account flags `register`, `call` and `answer` share, and the account they describe.

use std::io::BufRead;
use std::path::PathBuf;

use clap::Args;
use sidetone_sip::{AccountConfig, OutboundProxy, Password, SipError, SipUri, Transport};

/// The account to use.
// `--account FILE` (a provisioning document, crates/onboarding) will be the other way to
// name an account; it will conflict with --uri.
#[derive(Debug, Args)]
pub struct AccountArgs {
    /// The account's address-of-record, e.g. sip:1001@pbx.example.com.
    #[arg(long, value_name = "SIP_URI")]
    pub uri: String,

    /// Read the password from the first line of stdin (never from an argument: those are
    /// visible to every user of the machine).
    #[arg(long)]
    pub password_stdin: bool,

    /// The digest user name, when it differs from the URI's user.
    #[arg(long, value_name = "NAME")]
    pub auth_user: Option<String>,

    /// How to reach the registrar: udp, tcp, tls, ws or wss [default: udp, tls for sips:].
    #[arg(long, value_name = "TRANSPORT")]
    pub transport: Option<Transport>,

    /// Send to this proxy instead of the URI's host: HOST:PORT, or a URL such as
    /// wss://host:8443/ws (the path is the WebSocket resource).
    #[arg(long, value_name = "HOST:PORT|URL")]
    pub proxy: Option<String>,

    /// Also trust this CA certificate (PEM) for TLS/WSS, besides the system's roots.
    /// Certificate checks cannot be turned off.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

impl AccountArgs {
    /// The engine's account config; reads the password from stdin when asked to.
    pub fn to_config(&self) -> Result<AccountConfig, SipError> {
        let aor = SipUri::parse(&self.uri)?;
        let password = if self.password_stdin {
            Some(read_password()?)
        } else {
            None
        };
        let transport = self.transport.unwrap_or(if aor.secure {
            Transport::Tls
        } else {
            Transport::Udp
        });
        let mut account = AccountConfig::new(aor, password);
        account.transport = transport;
        account.auth_username = self.auth_user.clone();
        account.outbound_proxy = self
            .proxy
            .as_deref()
            .map(OutboundProxy::parse)
            .transpose()?;
        account.ca_file = self.ca_file.clone();
        Ok(account)
    }
}

fn read_password() -> Result<Password, SipError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        SipError::InvalidAccount(format!("cannot read the password from stdin: {e}"))
    })?;
    Ok(Password::new(line.trim_end_matches(['\r', '\n'])))
}
