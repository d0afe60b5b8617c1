//! What a user agent server checks before the application sees a request (RFC 3261
//! §8.2.1–§8.2.3): methods we do not serve (405), extensions we do not support (420),
//! bodies we cannot read (415) and answers we could not give (406). rsipstack leaves these
//! to the application; these are the rules, kept apart from the routing.

use rsipstack::sip::{Header, Method, Request, StatusCode};

use crate::screening::ALLOWED_METHODS;

/// Option tags we can honour in `Require`: rsipstack's server dialogs do PRACK (RFC 3262).
const SUPPORTED_EXTENSIONS: [&str; 1] = ["100rel"];

/// The only session description we read (RFC 3261 §13.2.1 requires SDP support).
const SDP: &str = "application/sdp";

/// A final response to send instead of processing the request.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub headers: Vec<Header>,
}

/// 420 Bad Extension listing the `Require` option tags we do not support (RFC 3261
/// §8.2.2.3). ACK and CANCEL are exempt: they cannot be refused that way.
pub(crate) fn unsupported_extensions(request: &Request) -> Option<Refusal> {
    if matches!(request.method, Method::Ack | Method::Cancel) {
        return None;
    }
    let unsupported: Vec<&str> = values(request, "Require")
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|tag| {
            !tag.is_empty()
                && !SUPPORTED_EXTENSIONS
                    .iter()
                    .any(|ours| ours.eq_ignore_ascii_case(tag))
        })
        .collect();
    if unsupported.is_empty() {
        return None;
    }
    Some(Refusal {
        status: StatusCode::BadExtension,
        headers: vec![Header::Unsupported(unsupported.join(", ").into())],
    })
}

/// 405 Method Not Allowed with the methods we serve (RFC 3261 §8.2.1 requires `Allow`).
pub(crate) fn method_not_allowed() -> Refusal {
    Refusal {
        status: StatusCode::MethodNotAllowed,
        headers: vec![Header::Allow(ALLOWED_METHODS.into())],
    }
}

/// For a new INVITE: 415 when its body is not SDP (RFC 3261 §8.2.3), 406 when its `Accept`
/// rules out the SDP answer our 2xx must carry (RFC 3261 §8.2.2, RFC 4475 §3.3.15).
pub(crate) fn offer_problem(request: &Request) -> Option<Refusal> {
    let content_type = values(request, "Content-Type").next().map(media_type);
    let encoded = values(request, "Content-Encoding")
        .flat_map(|value| value.split(','))
        .any(|coding| !coding.trim().eq_ignore_ascii_case("identity"));
    let has_body = !request.body.is_empty();
    if has_body && (encoded || content_type.as_deref().is_some_and(|t| t != SDP)) {
        return Some(Refusal {
            status: StatusCode::UnsupportedMediaType,
            headers: vec![
                Header::Accept(SDP.into()),
                Header::AcceptEncoding("identity".into()),
            ],
        });
    }
    let mut accepts = values(request, "Accept").peekable();
    if accepts.peek().is_some() && !accepts.any(accepts_sdp) {
        return Some(Refusal {
            status: StatusCode::NotAcceptable,
            headers: vec![Header::Warning(
                "399 sidetone \"only application/sdp can answer an INVITE\"".into(),
            )],
        });
    }
    None
}

/// True when an `Accept` value admits `application/sdp` (`*/*`, `application/*` or itself).
fn accepts_sdp(value: &str) -> bool {
    value
        .split(',')
        .map(media_type)
        .any(|range| matches!(range.as_str(), "*/*" | "application/*" | SDP))
}

/// `type/subtype` lower-cased, parameters dropped.
fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn values<'a>(request: &'a Request, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    request
        .headers
        .iter()
        .filter(move |h| h.name().eq_ignore_ascii_case(name))
        .map(|h| h.value())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(extra: &str, body: &str) -> Request {
        let raw = format!(
            "INVITE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
             From: <sip:b@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{extra}\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        match Request::try_from(raw.as_str()) {
            Ok(request) => request,
            Err(e) => panic!("test request does not parse: {e}"),
        }
    }

    fn status(refusal: Option<Refusal>) -> Option<u16> {
        refusal.map(|r| r.status.code())
    }

    #[test]
    fn require_lists_only_what_we_lack() {
        assert_eq!(status(unsupported_extensions(&request("", ""))), None);
        let ours = request("Require: 100rel\r\n", "");
        assert_eq!(status(unsupported_extensions(&ours)), None);
        let theirs = request("Require: 100rel, foo\r\nRequire: bar\r\n", "");
        let refusal = unsupported_extensions(&theirs);
        let unsupported = refusal.as_ref().and_then(|r| r.headers.first());
        assert_eq!(
            unsupported.map(|h| h.value().to_owned()),
            Some("foo, bar".into())
        );
        assert_eq!(status(refusal), Some(420));
    }

    #[test]
    fn an_invite_must_offer_sdp_and_accept_sdp() {
        let sdp = "v=0\r\n";
        let ok = request("Content-Type: application/sdp\r\n", sdp);
        assert_eq!(status(offer_problem(&ok)), None);
        let with_params = request("Content-Type: Application/SDP; charset=x\r\n", sdp);
        assert_eq!(status(offer_problem(&with_params)), None);
        let no_offer = request("", "");
        assert_eq!(status(offer_problem(&no_offer)), None);
        let xml = request("Content-Type: application/unknownformat\r\n", "<a/>");
        assert_eq!(status(offer_problem(&xml)), Some(415));
        let gzip = request(
            "Content-Type: application/sdp\r\nContent-Encoding: gzip\r\n",
            sdp,
        );
        assert_eq!(status(offer_problem(&gzip)), Some(415));
        let text_only = request(
            "Content-Type: application/sdp\r\nAccept: text/plain\r\n",
            sdp,
        );
        assert_eq!(status(offer_problem(&text_only)), Some(406));
        let wildcard = request(
            "Content-Type: application/sdp\r\nAccept: text/plain, application/*\r\n",
            sdp,
        );
        assert_eq!(status(offer_problem(&wildcard)), None);
    }
}
