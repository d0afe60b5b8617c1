//! The crate's one error type: who is at fault, and a stable code for the UI.

use std::time::Duration;

/// What is wrong with a link, code, QR image, pasted text or provisioning document.
///
/// The names follow docs/provisioning.md, section 8; [`Invalid::as_str`] is that code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Invalid {
    /// `link_malformed`: not a `sidetone://provision?…` link, too long, repeated parameter.
    LinkMalformed,
    /// `link_missing_target`: not exactly one of `url` and `server`.
    LinkMissingTarget,
    /// `link_insecure_url`: the `url` parameter is not `https://`.
    LinkInsecureUrl,
    /// `link_invalid_server`: the `server` parameter is not `host[:port]`.
    LinkInvalidServer,
    /// `link_invalid_token`: the token is not 16–64 Crockford base32 symbols.
    LinkInvalidToken,
    /// `code_malformed`: an authentication code with wrong length, symbols or host.
    CodeMalformed,
    /// `code_checksum`: the check symbol does not match (a typo).
    CodeChecksum,
    /// `code_unsupported_version`: the code's first symbol is not `1`.
    CodeUnsupportedVersion,
    /// `image_unreadable`: not a PNG/JPEG image we can read (or too large).
    ImageUnreadable,
    /// `qr_not_found`: no readable QR code in the image.
    QrNotFound,
    /// `qr_multiple`: more than one QR code in the image.
    QrMultiple,
    /// `qr_not_a_link`: the QR code's payload is not a Sidetone deployment link.
    QrNotALink,
    /// `input_empty`: nothing was pasted.
    InputEmpty,
    /// `input_unrecognized`: neither a link, a code nor a login id.
    InputUnrecognized,
    /// `login_id_malformed`: looks like `user@domain` but is not a usable login id.
    LoginIdMalformed,
    /// `document_too_large`: more than 256 KiB.
    DocumentTooLarge,
    /// `document_not_json`: not UTF-8 JSON, not an object, or a member repeated.
    DocumentNotJson,
    /// `unsupported_version`: `sidetone_provisioning` missing or not `1`.
    UnsupportedVersion,
    /// `missing_field`: a required member is missing.
    MissingField,
    /// `unknown_field`: a member that is neither defined nor `x-…`.
    UnknownField,
    /// `invalid_value`: wrong type, out of range, bad syntax.
    InvalidValue,
    /// `insecure_url`: a non-`https` URL where `https://` is required (or `ws://` for `wss`).
    InsecureUrl,
    /// `duplicate_id`: a repeated account or credential id.
    DuplicateId,
    /// `duplicate_transport`: a transport type repeated in one account.
    DuplicateTransport,
    /// `unknown_credential`: a `credential_id` that no credential has.
    UnknownCredential,
    /// `secret_not_allowed`: passwords in a document not from an authenticated HTTPS request.
    SecretNotAllowed,
    /// `invalid_certificate`: a trust entry that is not exactly one X.509 certificate.
    InvalidCertificate,
    /// `certificate_not_ca`: a trust certificate without `CA:TRUE`.
    CertificateNotCa,
    /// `certificate_expired`: a trust certificate outside its validity period.
    CertificateExpired,
    /// `provisioning_url_origin`: `provisioning.url` on another origin than the document's.
    ProvisioningUrlOrigin,
    /// `issuer_mismatch`: the document names another issuer than the one in use.
    IssuerMismatch,
}

impl Invalid {
    /// The code from docs/provisioning.md (without the `onboarding.` prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LinkMalformed => "link_malformed",
            Self::LinkMissingTarget => "link_missing_target",
            Self::LinkInsecureUrl => "link_insecure_url",
            Self::LinkInvalidServer => "link_invalid_server",
            Self::LinkInvalidToken => "link_invalid_token",
            Self::CodeMalformed => "code_malformed",
            Self::CodeChecksum => "code_checksum",
            Self::CodeUnsupportedVersion => "code_unsupported_version",
            Self::ImageUnreadable => "image_unreadable",
            Self::QrNotFound => "qr_not_found",
            Self::QrMultiple => "qr_multiple",
            Self::QrNotALink => "qr_not_a_link",
            Self::InputEmpty => "input_empty",
            Self::InputUnrecognized => "input_unrecognized",
            Self::LoginIdMalformed => "login_id_malformed",
            Self::DocumentTooLarge => "document_too_large",
            Self::DocumentNotJson => "document_not_json",
            Self::UnsupportedVersion => "unsupported_version",
            Self::MissingField => "missing_field",
            Self::UnknownField => "unknown_field",
            Self::InvalidValue => "invalid_value",
            Self::InsecureUrl => "insecure_url",
            Self::DuplicateId => "duplicate_id",
            Self::DuplicateTransport => "duplicate_transport",
            Self::UnknownCredential => "unknown_credential",
            Self::SecretNotAllowed => "secret_not_allowed",
            Self::InvalidCertificate => "invalid_certificate",
            Self::CertificateNotCa => "certificate_not_ca",
            Self::CertificateExpired => "certificate_expired",
            Self::ProvisioningUrlOrigin => "provisioning_url_origin",
            Self::IssuerMismatch => "issuer_mismatch",
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong between a pasted link and a validated document.
///
/// Variants say who is at fault: the input (`Invalid`), the server's answer (`WrongPassword`
/// … `UnexpectedResponse`), or the network (`Unreachable`, `Tls`, `Timeout`). Messages never
/// contain tokens, passwords or full URLs with their query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnboardingError {
    /// The link, code, QR image, pasted text or document is malformed.
    #[error("{kind}: {detail}{}", at_pointer(.pointer))]
    Invalid {
        /// Which rule was broken.
        kind: Invalid,
        /// For documents: the JSON pointer of the offending member (`/accounts/0/aor`).
        pointer: Option<String>,
        /// A short English explanation for logs and developers.
        detail: String,
    },
    /// `invalid_credentials`: wrong login id or password. Never retried automatically.
    #[error("wrong username or password")]
    WrongPassword,
    /// `use_single_sign_on`: this user signs in with SSO at `issuer`.
    #[error("this account signs in with single sign-on")]
    UseSingleSignOn {
        /// The issuer the server named, if any.
        issuer: Option<String>,
    },
    /// `invalid_token`: the bearer access token is expired or revoked.
    #[error("the access token was refused")]
    AccessTokenRejected,
    /// `password_expired`: the password must be changed first.
    #[error("the password has expired and must be changed")]
    PasswordExpired {
        /// Where to change it, when the server said.
        change_password_url: Option<String>,
    },
    /// `unknown_token`: the link or code is not known to the server.
    #[error("the server does not know this link or code")]
    UnknownToken,
    /// `unknown_account`: no such account for this user (or token bound to another).
    #[error("no such account for this user")]
    UnknownAccount,
    /// `token_used` / `token_expired` (410): the link or code was used already or expired.
    #[error("this link or code has {}", token_state(.expired))]
    TokenUsedOrExpired {
        /// True for `token_expired`, false for `token_used`.
        expired: bool,
    },
    /// `locked` (429/423): too many failed attempts.
    #[error("too many failed attempts{}", try_again(.retry_after))]
    LockedOut {
        /// How long until the lock ends, from `Retry-After` or the body.
        retry_after: Option<Duration>,
    },
    /// `bad_request` (400): the server says our request was malformed.
    #[error("the server refused the request as malformed: {message}")]
    BadRequest {
        /// The server's message.
        message: String,
    },
    /// `webfinger_not_found`: the server knows no such user.
    #[error("no such user at this server")]
    WebFingerNotFound,
    /// `webfinger_failed`: the WebFinger answer was unusable.
    #[error("discovery failed: {detail}")]
    WebFingerFailed {
        /// What was wrong.
        detail: String,
    },
    /// `no_provisioning_link`: WebFinger named no provisioning endpoint for the user.
    #[error("the server named no provisioning endpoint for this user")]
    NoProvisioningLink,
    /// `redirect_refused`: a redirect to `http://` or (for the document) another origin.
    #[error("refused a redirect to {location}")]
    RedirectRefused {
        /// Scheme and host of where the server wanted to send us.
        location: String,
    },
    /// Any other answer (5xx, unexpected status or body).
    #[error("unexpected answer from the server: HTTP {status}{}", in_parens(.error))]
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// The body's `error` member, if any.
        error: Option<String>,
    },
    /// `tls_error`: certificate verification (or the TLS handshake) failed. Never bypassed.
    #[error("TLS failed for {host}: {detail}")]
    Tls {
        /// The host we tried.
        host: String,
        /// The verifier's reason.
        detail: String,
    },
    /// `sso_cancelled`: the user cancelled at the identity provider (`access_denied`).
    #[error("single sign-on was cancelled at the identity provider")]
    SsoCancelled,
    /// `sso_failed`: the identity provider's answer failed a check (issuer, `state`, `iss`,
    /// ID token signature, audience, nonce, expiry) or reported an error. Never retried.
    #[error("single sign-on failed: {detail}")]
    SsoFailed {
        /// What failed, for logs (never a token or code).
        detail: String,
    },
    /// `sso_timeout`: the browser's redirect did not come in time (a forgotten tab).
    #[error("the browser sign-in did not finish in {} minutes", .waited.as_secs().div_ceil(60))]
    SsoTimeout {
        /// How long Sidetone waited.
        waited: Duration,
    },
    /// `session_expired`: the identity provider no longer accepts the refresh token (revoked,
    /// expired, or the user was signed out there): sign in again.
    #[error("the single sign-on session has ended: sign in again")]
    SessionExpired,
    /// The server could not be reached (DNS, refused, reset).
    #[error("could not reach {host}: {detail}")]
    Unreachable {
        /// The host we tried.
        host: String,
        /// The reason.
        detail: String,
    },
    /// The server did not answer in time.
    #[error("{host} did not answer in time")]
    Timeout {
        /// The host we tried.
        host: String,
    },
}

impl OnboardingError {
    /// A stable code for the UI and scripts, e.g. `onboarding.insecure_url`.
    pub fn code(&self) -> String {
        format!("onboarding.{}", self.code_suffix())
    }

    /// The code without the `onboarding.` prefix (the doc's code where it has one).
    pub fn code_suffix(&self) -> &'static str {
        match self {
            Self::Invalid { kind, .. } => kind.as_str(),
            Self::WrongPassword => "invalid_credentials",
            Self::UseSingleSignOn { .. } => "use_single_sign_on",
            Self::AccessTokenRejected => "invalid_token",
            Self::PasswordExpired { .. } => "password_expired",
            Self::UnknownToken => "unknown_token",
            Self::UnknownAccount => "unknown_account",
            Self::TokenUsedOrExpired { expired: false } => "token_used",
            Self::TokenUsedOrExpired { expired: true } => "token_expired",
            Self::LockedOut { .. } => "locked",
            Self::BadRequest { .. } => "bad_request",
            Self::WebFingerNotFound => "webfinger_not_found",
            Self::WebFingerFailed { .. } => "webfinger_failed",
            Self::NoProvisioningLink => "no_provisioning_link",
            Self::RedirectRefused { .. } => "redirect_refused",
            Self::UnexpectedResponse { .. } => "unexpected_response",
            Self::SsoCancelled => "sso_cancelled",
            Self::SsoFailed { .. } => "sso_failed",
            Self::SsoTimeout { .. } => "sso_timeout",
            Self::SessionExpired => "session_expired",
            Self::Tls { .. } => "tls_error",
            Self::Unreachable { .. } => "unreachable",
            Self::Timeout { .. } => "timeout",
        }
    }

    /// The input error kind, when the input (not the server or network) is at fault.
    pub fn invalid_kind(&self) -> Option<Invalid> {
        match self {
            Self::Invalid { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// An input error without a JSON pointer.
    pub(crate) fn invalid(kind: Invalid, detail: impl Into<String>) -> Self {
        Self::Invalid {
            kind,
            pointer: None,
            detail: detail.into(),
        }
    }

    /// A document error at `pointer`.
    pub(crate) fn at(kind: Invalid, pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Invalid {
            kind,
            pointer: Some(pointer.into()),
            detail: detail.into(),
        }
    }
}

fn at_pointer(pointer: &Option<String>) -> String {
    pointer
        .as_deref()
        .map(|p| format!(" (at {p})"))
        .unwrap_or_default()
}

fn token_state(expired: &bool) -> &'static str {
    if *expired {
        "expired"
    } else {
        "been used already"
    }
}

fn try_again(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; try again in {} minutes", d.as_secs().div_ceil(60).max(1)))
        .unwrap_or_default()
}

fn in_parens(error: &Option<String>) -> String {
    error
        .as_deref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default()
}

/// Results of this crate.
pub type Result<T, E = OnboardingError> = std::result::Result<T, E>;
