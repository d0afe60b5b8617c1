//! The rules of section 7 that types alone do not enforce. All failures are collected and the
//! one that comes first in section 8's order is reported.

use std::collections::HashSet;
use std::time::SystemTime;

use url::Url;

use super::DocumentOrigin;
use super::model::{
    Account, Credential, Extensions, IceServer, ImapTls, MediaProfile, ProvisioningDocument,
    SignInMethod, SrtpPolicy, Transport, TransportType,
};
use super::parse::escape;
use super::trust::check_ca_certificate;
use crate::error::{Invalid, OnboardingError, Result};

/// Section 8's order, for choosing which of several failures to report.
const ORDER: &[Invalid] = &[
    Invalid::MissingField,
    Invalid::UnknownField,
    Invalid::InvalidValue,
    Invalid::InsecureUrl,
    Invalid::DuplicateId,
    Invalid::DuplicateTransport,
    Invalid::UnknownCredential,
    Invalid::SecretNotAllowed,
    Invalid::InvalidCertificate,
    Invalid::CertificateNotCa,
    Invalid::CertificateExpired,
    Invalid::ProvisioningUrlOrigin,
    Invalid::IssuerMismatch,
];

/// Validates `doc` that came from `origin`, at time `now`; returns the trust anchors' DER.
pub(crate) fn validate(
    doc: &ProvisioningDocument,
    origin: &DocumentOrigin,
    now: SystemTime,
) -> Result<Vec<Vec<u8>>> {
    let mut check = Checker::default();
    let anchors = check.document(doc, origin, now);
    match check.errors.into_iter().min_by_key(|e| {
        let kind = e.invalid_kind();
        ORDER
            .iter()
            .position(|k| Some(*k) == kind)
            .unwrap_or(ORDER.len())
    }) {
        Some(error) => Err(error),
        None => Ok(anchors),
    }
}

#[derive(Default)]
struct Checker {
    errors: Vec<OnboardingError>,
}

impl Checker {
    fn fail(&mut self, kind: Invalid, pointer: &str, detail: impl Into<String>) {
        self.errors.push(OnboardingError::at(kind, pointer, detail));
    }

    fn document(
        &mut self,
        doc: &ProvisioningDocument,
        origin: &DocumentOrigin,
        now: SystemTime,
    ) -> Vec<Vec<u8>> {
        self.extensions(&doc.extensions, "");
        if let Some(at) = &doc.generated_at {
            self.timestamp(at, "/generated_at");
        }
        let p = &doc.provider;
        self.extensions(&p.extensions, "/provider");
        self.chars(&p.name, 1, 200, "/provider/name");
        for (name, url) in [
            ("support_url", &p.support_url),
            ("password_reset_url", &p.password_reset_url),
            ("change_password_url", &p.change_password_url),
            ("portal_url", &p.portal_url),
        ] {
            if let Some(url) = url {
                self.https_url(url, &format!("/provider/{name}"));
            }
        }
        self.sign_in(doc, origin);
        if let Some(refresh) = &doc.provisioning {
            self.extensions(&refresh.extensions, "/provisioning");
            if let Some(url) = self.https_url(&refresh.url, "/provisioning/url")
                && let Some(source) = origin.url()
                && url.origin() != source.origin()
            {
                self.fail(
                    Invalid::ProvisioningUrlOrigin,
                    "/provisioning/url",
                    "provisioning.url is on another origin than the document",
                );
            }
            if let Some(interval) = refresh.refresh_interval
                && !(300..=2_592_000).contains(&interval)
            {
                self.fail(
                    Invalid::InvalidValue,
                    "/provisioning/refresh_interval",
                    "300 … 2592000",
                );
            }
        }
        self.terms(doc);
        let credential_ids = self.credentials(&doc.credentials, origin);
        if doc.accounts.is_empty() || doc.accounts.len() > 16 {
            self.fail(Invalid::InvalidValue, "/accounts", "1 to 16 accounts");
        }
        let mut ids = HashSet::new();
        for (i, account) in doc.accounts.iter().enumerate() {
            let at = format!("/accounts/{i}");
            if !ids.insert(account.id.as_str()) {
                self.fail(
                    Invalid::DuplicateId,
                    &format!("{at}/id"),
                    "account id repeated",
                );
            }
            self.account(account, &at, &credential_ids);
        }
        self.trust(doc, now)
    }

    fn sign_in(&mut self, doc: &ProvisioningDocument, origin: &DocumentOrigin) {
        let s = &doc.sign_in;
        self.extensions(&s.extensions, "/sign_in");
        self.chars(&s.login_id, 1, 320, "/sign_in/login_id");
        if s.login_id.chars().any(char::is_whitespace) {
            self.fail(
                Invalid::InvalidValue,
                "/sign_in/login_id",
                "spaces in the login id",
            );
        }
        match s.method {
            SignInMethod::Password => {
                for (name, present) in [
                    ("issuer", s.issuer.is_some()),
                    ("client_id", s.client_id.is_some()),
                    ("scopes", s.scopes.is_some()),
                ] {
                    if present {
                        self.fail(
                            Invalid::InvalidValue,
                            &format!("/sign_in/{name}"),
                            "not allowed with the password method",
                        );
                    }
                }
            }
            SignInMethod::Oidc => {
                match &s.issuer {
                    None => self.fail(
                        Invalid::MissingField,
                        "/sign_in/issuer",
                        "oidc needs issuer",
                    ),
                    Some(issuer) => {
                        if let Some(url) = self.https_url(issuer, "/sign_in/issuer")
                            && (url.query().is_some() || url.fragment().is_some())
                        {
                            self.fail(
                                Invalid::InvalidValue,
                                "/sign_in/issuer",
                                "an issuer has no query or fragment",
                            );
                        }
                        if let DocumentOrigin::Authenticated {
                            bearer_issuer: Some(used),
                            ..
                        } = origin
                            && used != issuer
                        {
                            self.fail(
                                Invalid::IssuerMismatch,
                                "/sign_in/issuer",
                                "the document names another issuer than the one signed in at",
                            );
                        }
                    }
                }
                match &s.client_id {
                    None => self.fail(Invalid::MissingField, "/sign_in/client_id", "oidc needs it"),
                    Some(id) => self.chars(id, 1, 255, "/sign_in/client_id"),
                }
                match &s.scopes {
                    None => self.fail(Invalid::MissingField, "/sign_in/scopes", "oidc needs it"),
                    Some(scopes) => {
                        let unique: HashSet<_> = scopes.iter().collect();
                        let syntax = scopes.iter().all(|scope| {
                            (1..=128).contains(&scope.len())
                                && scope
                                    .bytes()
                                    .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
                        });
                        if scopes.is_empty()
                            || scopes.len() > 32
                            || unique.len() != scopes.len()
                            || !syntax
                            || !scopes.iter().any(|s| s == "openid")
                        {
                            self.fail(
                                Invalid::InvalidValue,
                                "/sign_in/scopes",
                                "1–32 unique scopes including openid",
                            );
                        }
                    }
                }
            }
        }
    }

    fn terms(&mut self, doc: &ProvisioningDocument) {
        let Some(terms) = &doc.terms else { return };
        self.extensions(&terms.extensions, "/terms");
        if let Some(licence) = &terms.licence {
            self.extensions(&licence.extensions, "/terms/licence");
            self.version(&licence.version, "/terms/licence/version");
            match (&licence.text, &licence.url) {
                (Some(text), None) => self.chars(text, 1, 65_536, "/terms/licence/text"),
                (None, Some(url)) => {
                    self.https_url(url, "/terms/licence/url");
                }
                (None, None) => {
                    self.fail(Invalid::MissingField, "/terms/licence/text", "text or url")
                }
                (Some(_), Some(_)) => self.fail(
                    Invalid::InvalidValue,
                    "/terms/licence",
                    "text or url, not both",
                ),
            }
        }
        if let Some(emergency) = &terms.emergency {
            self.extensions(&emergency.extensions, "/terms/emergency");
            self.version(&emergency.version, "/terms/emergency/version");
            self.chars(&emergency.text, 1, 65_536, "/terms/emergency/text");
            if let Some(url) = &emergency.address_url {
                self.https_url(url, "/terms/emergency/address_url");
            }
        }
    }

    fn credentials(
        &mut self,
        credentials: &[Credential],
        origin: &DocumentOrigin,
    ) -> HashSet<String> {
        if credentials.len() > 64 {
            self.fail(
                Invalid::InvalidValue,
                "/credentials",
                "at most 64 credentials",
            );
        }
        let mut ids = HashSet::new();
        for (i, credential) in credentials.iter().enumerate() {
            let at = format!("/credentials/{i}");
            self.extensions(&credential.extensions, &at);
            self.id(&credential.id, &format!("{at}/id"));
            if !ids.insert(credential.id.clone()) {
                self.fail(
                    Invalid::DuplicateId,
                    &format!("{at}/id"),
                    "credential id repeated",
                );
            }
            if let Some(password) = &credential.password {
                let len = secrecy::ExposeSecret::expose_secret(password)
                    .chars()
                    .count();
                if !(1..=1024).contains(&len) {
                    self.fail(
                        Invalid::InvalidValue,
                        &format!("{at}/password"),
                        "1 to 1024 chars",
                    );
                }
                if !origin.may_carry_secrets() {
                    self.fail(
                        Invalid::SecretNotAllowed,
                        &format!("{at}/password"),
                        "passwords only come in answer to an authenticated HTTPS request",
                    );
                }
            }
            if let Some(at_time) = &credential.expires_at {
                self.timestamp(at_time, &format!("{at}/expires_at"));
            }
        }
        ids
    }

    fn account(&mut self, a: &Account, at: &str, credentials: &HashSet<String>) {
        self.extensions(&a.extensions, at);
        self.id(&a.id, &format!("{at}/id"));
        self.chars(&a.display_name, 1, 200, &format!("{at}/display_name"));
        if let Some(number) = &a.account_number {
            self.chars(number, 1, 64, &format!("{at}/account_number"));
        }
        if !is_aor(&a.aor) {
            self.fail(
                Invalid::InvalidValue,
                &format!("{at}/aor"),
                "sip: or sips: URI with a user",
            );
        }
        self.chars(&a.auth_username, 1, 255, &format!("{at}/auth_username"));
        if let Some(realm) = &a.realm {
            self.chars(realm, 1, 255, &format!("{at}/realm"));
        }
        self.reference(
            &a.credential_id,
            credentials,
            &format!("{at}/credential_id"),
        );
        for (name, uri) in [
            ("registrar", &a.registrar),
            ("outbound_proxy", &a.outbound_proxy),
        ] {
            if let Some(uri) = uri
                && !is_sip_uri(uri)
            {
                self.fail(
                    Invalid::InvalidValue,
                    &format!("{at}/{name}"),
                    "sip: or sips: URI, no user",
                );
            }
        }
        if a.transports.is_empty() || a.transports.len() > 5 {
            self.fail(
                Invalid::InvalidValue,
                &format!("{at}/transports"),
                "1 to 5 transports",
            );
        }
        let mut types = HashSet::new();
        for (i, transport) in a.transports.iter().enumerate() {
            let tat = format!("{at}/transports/{i}");
            if !types.insert(transport.kind) {
                self.fail(
                    Invalid::DuplicateTransport,
                    &format!("{tat}/type"),
                    "type repeated",
                );
            }
            self.transport(transport, &tat);
        }
        if let Some(expires) = a.registration_expires
            && !(60..=86_400).contains(&expires)
        {
            self.fail(
                Invalid::InvalidValue,
                &format!("{at}/registration_expires"),
                "60 … 86400",
            );
        }
        let m = &a.media;
        let mat = format!("{at}/media");
        self.extensions(&m.extensions, &mat);
        if m.profile == Some(MediaProfile::Webrtc) && m.srtp != SrtpPolicy::Required {
            self.fail(
                Invalid::InvalidValue,
                &format!("{mat}/srtp"),
                "webrtc requires required",
            );
        }
        if let Some(codecs) = &m.codecs {
            let unique: HashSet<_> = codecs.iter().collect();
            if codecs.is_empty() || codecs.len() > 8 || unique.len() != codecs.len() {
                self.fail(
                    Invalid::InvalidValue,
                    &format!("{mat}/codecs"),
                    "1–8 unique codecs",
                );
            }
        }
        if m.ice_servers.len() > 8 {
            self.fail(
                Invalid::InvalidValue,
                &format!("{mat}/ice_servers"),
                "at most 8",
            );
        }
        for (i, ice) in m.ice_servers.iter().enumerate() {
            self.ice_server(ice, &format!("{mat}/ice_servers/{i}"), credentials);
        }
        if let Some(vm) = &a.voicemail {
            let vat = format!("{at}/voicemail");
            self.extensions(&vm.extensions, &vat);
            self.extensions(&vm.imap.extensions, &format!("{vat}/imap"));
            if !is_host(&vm.imap.host) {
                self.fail(
                    Invalid::InvalidValue,
                    &format!("{vat}/imap/host"),
                    "not a host",
                );
            }
            if vm.imap.port == 0 {
                self.fail(
                    Invalid::InvalidValue,
                    &format!("{vat}/imap/port"),
                    "1 … 65535",
                );
            }
            if vm.imap.tls == ImapTls::None
                && !matches!(vm.imap.host.as_str(), "127.0.0.1" | "localhost" | "[::1]")
            {
                self.fail(
                    Invalid::InvalidValue,
                    &format!("{vat}/imap/tls"),
                    "tls none is only for a loopback host",
                );
            }
            if let Some(mailbox) = &vm.mailbox {
                self.chars(mailbox, 1, 255, &format!("{vat}/mailbox"));
            }
            self.chars(&vm.username, 1, 255, &format!("{vat}/username"));
            self.reference(
                &vm.credential_id,
                credentials,
                &format!("{vat}/credential_id"),
            );
        }
    }

    fn transport(&mut self, t: &Transport, at: &str) {
        self.extensions(&t.extensions, at);
        match t.kind {
            TransportType::Udp | TransportType::Tcp | TransportType::Tls => {
                if t.url.is_some() {
                    self.fail(
                        Invalid::InvalidValue,
                        &format!("{at}/url"),
                        "only for ws and wss",
                    );
                }
                match (&t.host, t.port) {
                    (Some(_), None) => {
                        self.fail(Invalid::MissingField, &format!("{at}/port"), "with host")
                    }
                    (None, Some(_)) => {
                        self.fail(Invalid::MissingField, &format!("{at}/host"), "with port")
                    }
                    _ => {}
                }
                if let Some(host) = &t.host
                    && !is_host(host)
                {
                    self.fail(Invalid::InvalidValue, &format!("{at}/host"), "not a host");
                }
                if t.port == Some(0) {
                    self.fail(Invalid::InvalidValue, &format!("{at}/port"), "1 … 65535");
                }
            }
            TransportType::Ws | TransportType::Wss => {
                if t.host.is_some() || t.port.is_some() {
                    self.fail(
                        Invalid::InvalidValue,
                        at,
                        "ws and wss take url, not host and port",
                    );
                }
                let Some(url) = &t.url else {
                    self.fail(
                        Invalid::MissingField,
                        &format!("{at}/url"),
                        "ws and wss need url",
                    );
                    return;
                };
                let want = if t.kind == TransportType::Wss {
                    "wss"
                } else {
                    "ws"
                };
                match Url::parse(url) {
                    Ok(parsed) if parsed.scheme() == want => {
                        if url.len() > 2048
                            || !parsed.username().is_empty()
                            || parsed.host_str().is_none()
                            || parsed.fragment().is_some()
                        {
                            self.fail(
                                Invalid::InvalidValue,
                                &format!("{at}/url"),
                                "bad WebSocket URL",
                            );
                        }
                    }
                    Ok(parsed) if want == "wss" && parsed.scheme() == "ws" => {
                        self.fail(
                            Invalid::InsecureUrl,
                            &format!("{at}/url"),
                            "wss needs wss://",
                        );
                    }
                    _ => self.fail(
                        Invalid::InvalidValue,
                        &format!("{at}/url"),
                        "bad WebSocket URL",
                    ),
                }
            }
        }
    }

    fn ice_server(&mut self, ice: &IceServer, at: &str, credentials: &HashSet<String>) {
        self.extensions(&ice.extensions, at);
        let unique: HashSet<_> = ice.urls.iter().collect();
        let syntax = ice.urls.iter().all(|u| {
            u.len() <= 512
                && !u.chars().any(char::is_whitespace)
                && ["stun:", "stuns:", "turn:", "turns:"]
                    .iter()
                    .any(|p| u.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
        });
        if ice.urls.is_empty() || ice.urls.len() > 8 || unique.len() != ice.urls.len() || !syntax {
            self.fail(
                Invalid::InvalidValue,
                &format!("{at}/urls"),
                "1–8 unique stun/turn URIs",
            );
        }
        let turn = ice
            .urls
            .iter()
            .any(|u| u.starts_with("turn:") || u.starts_with("turns:"));
        if turn && ice.username.is_none() {
            self.fail(
                Invalid::MissingField,
                &format!("{at}/username"),
                "TURN needs a username",
            );
        }
        if let Some(username) = &ice.username {
            self.chars(username, 1, 512, &format!("{at}/username"));
        }
        match &ice.credential_id {
            Some(id) => self.reference(id, credentials, &format!("{at}/credential_id")),
            None if turn => self.fail(
                Invalid::MissingField,
                &format!("{at}/credential_id"),
                "TURN needs it",
            ),
            None => {}
        }
    }

    fn trust(&mut self, doc: &ProvisioningDocument, now: SystemTime) -> Vec<Vec<u8>> {
        let Some(trust) = &doc.trust else {
            return Vec::new();
        };
        self.extensions(&trust.extensions, "/trust");
        if trust.ca_certificates.len() > 8 {
            self.fail(Invalid::InvalidValue, "/trust/ca_certificates", "at most 8");
        }
        let mut anchors = Vec::new();
        for (i, pem) in trust.ca_certificates.iter().enumerate() {
            match check_ca_certificate(pem, now, &format!("/trust/ca_certificates/{i}")) {
                Ok(der) => anchors.push(der),
                Err(e) => self.errors.push(e),
            }
        }
        anchors
    }

    // ---- small rules ----------------------------------------------------------------------

    fn extensions(&mut self, extensions: &Extensions, at: &str) {
        for name in extensions.keys().filter(|k| !k.starts_with("x-")) {
            self.fail(
                Invalid::UnknownField,
                &format!("{at}/{}", escape(name)),
                "unknown member",
            );
        }
    }

    fn chars(&mut self, value: &str, min: usize, max: usize, at: &str) {
        let len = value.chars().count();
        if len < min || len > max {
            self.fail(
                Invalid::InvalidValue,
                at,
                format!("{min} to {max} characters"),
            );
        }
    }

    fn id(&mut self, value: &str, at: &str) {
        if !is_id(value) {
            self.fail(
                Invalid::InvalidValue,
                at,
                "an id is [A-Za-z0-9][A-Za-z0-9._-]{0,63}",
            );
        }
    }

    fn version(&mut self, value: &str, at: &str) {
        let b = value.as_bytes();
        let ok = (1..=64).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"._:+-".contains(c));
        if !ok {
            self.fail(
                Invalid::InvalidValue,
                at,
                "a version is 1–64 of [A-Za-z0-9._:+-]",
            );
        }
    }

    fn reference(&mut self, id: &str, credentials: &HashSet<String>, at: &str) {
        if !is_id(id) {
            self.fail(Invalid::InvalidValue, at, "not an id");
        } else if !credentials.contains(id) {
            self.fail(Invalid::UnknownCredential, at, "no credential has this id");
        }
    }

    fn timestamp(&mut self, value: &str, at: &str) {
        let format = time::format_description::well_known::Rfc3339;
        if value.len() > 64 || time::OffsetDateTime::parse(value, &format).is_err() {
            self.fail(Invalid::InvalidValue, at, "not an RFC 3339 timestamp");
        }
    }

    /// An `https://` URL without user info; non-https is `insecure_url`.
    fn https_url(&mut self, value: &str, at: &str) -> Option<Url> {
        if value.len() > 2048 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.fail(Invalid::InvalidValue, at, "not a URL");
            return None;
        }
        let Ok(url) = Url::parse(value) else {
            self.fail(Invalid::InvalidValue, at, "not an absolute URL");
            return None;
        };
        if url.scheme() != "https" {
            self.fail(Invalid::InsecureUrl, at, "must be https://");
            return None;
        }
        if !url.username().is_empty() || url.password().is_some() || url.host_str().is_none() {
            self.fail(
                Invalid::InvalidValue,
                at,
                "https URL with a host and no user info",
            );
            return None;
        }
        Some(url)
    }
}

fn is_id(value: &str) -> bool {
    let b = value.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

/// A DNS name, IPv4 address or bracketed IPv6 address (the schema's `host`).
fn is_host(value: &str) -> bool {
    if let Some(v6) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    value.len() <= 255
        && value.split('.').all(|label| {
            let b = label.as_bytes();
            (1..=63).contains(&b.len())
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

fn sip_rest(value: &str) -> Option<&str> {
    if value.len() > 512 {
        return None;
    }
    value
        .strip_prefix("sips:")
        .or_else(|| value.strip_prefix("sip:"))
}

/// `^sips?:[^\s@]+@[^\s@;?]+$`
fn is_aor(value: &str) -> bool {
    let Some(rest) = sip_rest(value) else {
        return false;
    };
    let Some((user, host)) = rest.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && !host.is_empty()
        && !user.chars().any(char::is_whitespace)
        && !host.chars().any(|c| c.is_whitespace() || "@;?".contains(c))
}

/// `^sips?:[^\s@]+$`
fn is_sip_uri(value: &str) -> bool {
    sip_rest(value).is_some_and(|rest| {
        !rest.is_empty() && !rest.chars().any(|c| c.is_whitespace() || c == '@')
    })
}
