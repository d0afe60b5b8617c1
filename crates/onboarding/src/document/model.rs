//! The provisioning document's types, version 1 (docs/provisioning.md, section 7).
//!
//! Every object keeps its `x-…` members in `extensions`; any other unknown member is refused
//! by validation (`unknown_field`). Passwords are [`SecretString`]s, never serialized.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Members of an object that are not defined by the format; only `x-…` names validate.
pub type Extensions = BTreeMap<String, Value>;

/// A version 1 provisioning document.
#[derive(Debug, Deserialize, Serialize)]
pub struct ProvisioningDocument {
    /// Format version, always 1.
    pub sidetone_provisioning: u32,
    /// When the server made it (RFC 3339; diagnostics only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    /// Who runs the phone system.
    pub provider: Provider,
    /// How the user authenticates for refreshes.
    pub sign_in: SignIn,
    /// Where and how often to fetch the document again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Refresh>,
    /// Terms to accept before saving anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<Terms>,
    /// SIP accounts (lines), 1–16.
    pub accounts: Vec<Account>,
    /// Secrets, referenced by id.
    #[serde(default)]
    pub credentials: Vec<Credential>,
    /// CA certificates for this provider's hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<Trust>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `provider`: who runs the phone system.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Provider {
    /// Display name, 1–200 characters.
    pub name: String,
    /// "Get help".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
    /// "Forgot password?".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_reset_url: Option<String>,
    /// "Change password".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_password_url: Option<String>,
    /// "Open portal".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<String>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// How the user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignInMethod {
    /// HTTP Basic against the provisioning endpoint.
    Password,
    /// OpenID Connect at `issuer`.
    Oidc,
}

/// `sign_in`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SignIn {
    /// Password or OIDC.
    pub method: SignInMethod,
    /// The user's login id.
    pub login_id: String,
    /// OIDC issuer (`oidc` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// OIDC client id (`oidc` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// OIDC scopes, containing `openid` (`oidc` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `provisioning`: where to refresh from.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Refresh {
    /// `https://` URL on the document's origin.
    pub url: String,
    /// Seconds between refreshes, 300 … 2 592 000 (default 86 400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_interval: Option<u32>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `terms`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Terms {
    /// The licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<Licence>,
    /// Emergency-calling terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<Emergency>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `terms.licence`: exactly one of `text` and `url`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Licence {
    /// The accepted version is stored per provider.
    pub version: String,
    /// Plain text, at most 64 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An `https://` page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `terms.emergency`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Emergency {
    /// The accepted version is stored per provider.
    pub version: String,
    /// Plain text, at most 64 KiB.
    pub text: String,
    /// Whether the user must confirm an emergency address.
    pub address_required: bool,
    /// Where to confirm it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_url: Option<String>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `accounts[]`: one SIP line.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Account {
    /// Stable id, unique in the document.
    pub id: String,
    /// Shown in the account list and as the SIP display name.
    pub display_name: String,
    /// The provider's account number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    /// Address of record (`sip:`/`sips:` with a user part).
    pub aor: String,
    /// Digest username.
    pub auth_username: String,
    /// Digest realm to answer, if restricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Id of the SIP password in `credentials`.
    pub credential_id: String,
    /// Registrar URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registrar: Option<String>,
    /// First-hop URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_proxy: Option<String>,
    /// 1–5 transports in preference order, types not repeated.
    pub transports: Vec<Transport>,
    /// REGISTER expiry, 60 … 86 400 (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_expires: Option<u32>,
    /// Media profile, SRTP policy, codecs, ICE servers.
    pub media: Media,
    /// Subscribe to message-summary (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mwi: Option<bool>,
    /// IMAP voicemail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<Voicemail>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A SIP transport type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportType {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS (certificate verified).
    Tls,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket.
    Wss,
}

/// `transports[]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Transport {
    /// The transport type.
    #[serde(rename = "type")]
    pub kind: TransportType,
    /// Host to connect to (`udp`/`tcp`/`tls`, with `port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port to connect to (with `host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// WebSocket URL (`ws`/`wss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `media.profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaProfile {
    /// RTP/AVP or RTP/SAVP with SDES keys.
    Rtp,
    /// ICE, DTLS-SRTP, rtcp-mux.
    Webrtc,
}

/// `media.srtp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SrtpPolicy {
    /// Plain RTP.
    Off,
    /// Offer SRTP, accept RTP.
    Optional,
    /// Refuse calls without SRTP.
    Required,
}

/// A codec name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// Opus.
    Opus,
    /// G.722.
    G722,
    /// G.711 µ-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
}

/// `media`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Media {
    /// Default `rtp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<MediaProfile>,
    /// SRTP policy.
    pub srtp: SrtpPolicy,
    /// Preference order; default opus, pcmu, pcma.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codecs: Option<Vec<Codec>>,
    /// Up to 8 ICE servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ice_servers: Vec<IceServer>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `media.ice_servers[]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct IceServer {
    /// `stun:`/`stuns:`/`turn:`/`turns:` URIs.
    pub urls: Vec<String>,
    /// TURN username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password's credential id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `voicemail.imap.tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImapTls {
    /// IMAPS.
    Implicit,
    /// STARTTLS.
    Starttls,
    /// Plain text, loopback hosts only.
    None,
}

/// `voicemail.imap`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Imap {
    /// IMAP host.
    pub host: String,
    /// IMAP port.
    pub port: u16,
    /// TLS mode.
    pub tls: ImapTls,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `voicemail`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Voicemail {
    /// Where the IMAP server is.
    pub imap: Imap,
    /// Folder (default `INBOX`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    /// IMAP login.
    pub username: String,
    /// Id of the IMAP password in `credentials`.
    pub credential_id: String,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `credentials[]`. The password is taken out by validation (see
/// [`ValidatedDocument`](crate::ValidatedDocument)) and is never serialized.
#[derive(Debug, Deserialize, Serialize)]
pub struct Credential {
    /// Unique id referenced by `credential_id` fields.
    pub id: String,
    /// The secret, until validation moves it into [`Secrets`](crate::Secrets).
    #[serde(default, skip_serializing)]
    pub password: Option<SecretString>,
    /// Minted for this device only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_device: Option<bool>,
    /// RFC 3339; fetch the document again before then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `trust`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Trust {
    /// Up to 8 PEM certificates.
    #[serde(default)]
    pub ca_certificates: Vec<String>,
    /// `x-…` members.
    #[serde(flatten)]
    pub extensions: Extensions,
}
