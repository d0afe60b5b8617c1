//! Turning the stack's answers into [`RegisterOutcome`]s and [`SubscribeOutcome`]s: whose
//! fault, retry or not.

use std::time::Duration;

use rsipstack::sip::Response;

use crate::mwi::{SubscribeOutcome, SubscribeRequest};
use crate::{RegisterOutcome, SipError};

/// Maps the final response to one REGISTER exchange. `granted` is what the stack computed
/// from the 2xx (RFC 3261 §10.2.4), `unregister` says we asked for `Expires: 0`.
pub(crate) fn response(resp: &Response, granted: u32, unregister: bool) -> RegisterOutcome {
    let status = resp.status_code.code();
    let reason = reason(resp);
    match status {
        200..=299 => RegisterOutcome::Success {
            granted_expires: if unregister { 0 } else { granted },
        },
        // The stack answers a challenge once (and again only for stale=true); a 401/407
        // coming back to us means the credentials themselves were refused.
        401 | 407 | 403 => RegisterOutcome::CredentialsRejected,
        423 => RegisterOutcome::IntervalTooBrief {
            min_expires: header_seconds(resp, "Min-Expires"),
        },
        408 => RegisterOutcome::Failed {
            error: SipError::Timeout,
            retry_after: None,
        },
        480 | 500..=599 => RegisterOutcome::Failed {
            error: SipError::ServerUnavailable { status, reason },
            retry_after: header_seconds(resp, "Retry-After")
                .map(|s| Duration::from_secs(u64::from(s))),
        },
        _ => RegisterOutcome::Failed {
            error: SipError::Rejected { status, reason },
            retry_after: None,
        },
    }
}

/// Maps the final response to one SUBSCRIBE exchange (RFC 6665 §4.1.2). As for REGISTER,
/// except: 403 is a refusal of the subscription, not of the password; 481 to a refresh means
/// the server forgot it; a 2xx grants its `Expires` (what we asked when it has none).
pub(crate) fn subscribe_response(resp: &Response, request: SubscribeRequest) -> SubscribeOutcome {
    match resp.status_code.code() {
        403 => {
            return SubscribeOutcome::Failed {
                error: SipError::Rejected {
                    status: 403,
                    reason: reason(resp),
                },
                retry_after: None,
            };
        }
        481 if request.refresh => return SubscribeOutcome::NoSuchSubscription,
        _ => {}
    }
    let granted = header_seconds(resp, "Expires").unwrap_or(request.expires);
    match response(resp, granted, request.expires == 0) {
        RegisterOutcome::Success { granted_expires } => {
            SubscribeOutcome::Success { granted_expires }
        }
        RegisterOutcome::CredentialsRejected => SubscribeOutcome::CredentialsRejected,
        RegisterOutcome::IntervalTooBrief { min_expires } => {
            SubscribeOutcome::IntervalTooBrief { min_expires }
        }
        RegisterOutcome::Failed { error, retry_after } => {
            SubscribeOutcome::Failed { error, retry_after }
        }
    }
}

/// The reason phrase the server sent, else the standard one.
fn reason(resp: &Response) -> String {
    resp.wire_reason
        .clone()
        .unwrap_or_else(|| resp.status_code.text().to_owned())
}

/// Maps a stack error (no final response at all).
pub(crate) fn error(error: &rsipstack::Error) -> SipError {
    use rsipstack::Error;
    match error {
        Error::IoError(io) => io_error(io),
        Error::TransportLayerError(msg, addr) => SipError::Unreachable(format!("{msg}: {addr}")),
        Error::DnsResolutionError(msg) => SipError::Unreachable(format!("cannot resolve: {msg}")),
        Error::WebSocketError(e) => SipError::Unreachable(format!("WebSocket: {e}")),
        other => SipError::Internal(other.to_string()),
    }
}

fn io_error(io: &std::io::Error) -> SipError {
    use std::io::ErrorKind;
    match io.kind() {
        ErrorKind::TimedOut => SipError::Timeout,
        _ => SipError::Unreachable(io.to_string()),
    }
}

/// The leading number of a header such as `Retry-After: 120 (maintenance);duration=60`.
fn header_seconds(resp: &Response, name: &str) -> Option<u32> {
    let value = resp
        .headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))?
        .value();
    let digits: String = value
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Response {
        let raw = format!(
            "{text}\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:1@h>;tag=a\r\n\
             To: <sip:1@h>;tag=b\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n"
        );
        match Response::try_from(raw.as_str()) {
            Ok(resp) => resp,
            Err(e) => panic!("test response does not parse: {e}"),
        }
    }

    fn with_header(status_line: &str, header: &str) -> Response {
        parse(&format!("{status_line}\r\n{header}"))
    }

    #[test]
    fn maps_final_responses() {
        assert_eq!(
            response(&parse("SIP/2.0 200 OK"), 300, false),
            RegisterOutcome::Success {
                granted_expires: 300
            }
        );
        assert_eq!(
            response(&parse("SIP/2.0 200 OK"), 300, true),
            RegisterOutcome::Success { granted_expires: 0 }
        );
        assert_eq!(
            response(&parse("SIP/2.0 401 Unauthorized"), 0, false),
            RegisterOutcome::CredentialsRejected
        );
        assert_eq!(
            response(&parse("SIP/2.0 403 Forbidden"), 0, false),
            RegisterOutcome::CredentialsRejected
        );
        assert_eq!(
            response(
                &with_header("SIP/2.0 423 Interval Too Brief", "Min-Expires: 1800"),
                0,
                false
            ),
            RegisterOutcome::IntervalTooBrief {
                min_expires: Some(1800)
            }
        );
        assert_eq!(
            response(
                &with_header(
                    "SIP/2.0 503 Service Unavailable",
                    "Retry-After: 120 (maint)"
                ),
                0,
                false
            ),
            RegisterOutcome::Failed {
                error: SipError::ServerUnavailable {
                    status: 503,
                    reason: "Service Unavailable".into()
                },
                retry_after: Some(Duration::from_secs(120)),
            }
        );
        assert_eq!(
            response(&parse("SIP/2.0 408 Request Timeout"), 0, false),
            RegisterOutcome::Failed {
                error: SipError::Timeout,
                retry_after: None
            }
        );
        assert!(matches!(
            response(&parse("SIP/2.0 404 Not Found"), 0, false),
            RegisterOutcome::Failed {
                error: SipError::Rejected { status: 404, .. },
                ..
            }
        ));
    }

    #[test]
    fn maps_subscribe_responses() {
        let new = SubscribeRequest {
            expires: 3600,
            refresh: false,
        };
        let refresh = SubscribeRequest {
            expires: 3600,
            refresh: true,
        };
        assert_eq!(
            subscribe_response(&with_header("SIP/2.0 202 Accepted", "Expires: 1800"), new),
            SubscribeOutcome::Success {
                granted_expires: 1800
            }
        );
        assert_eq!(
            subscribe_response(&parse("SIP/2.0 200 OK"), new),
            SubscribeOutcome::Success {
                granted_expires: 3600
            }
        );
        assert!(matches!(
            subscribe_response(&parse("SIP/2.0 489 Bad Event"), new),
            SubscribeOutcome::Failed {
                error: SipError::Rejected { status: 489, .. },
                ..
            }
        ));
        assert!(matches!(
            subscribe_response(&parse("SIP/2.0 403 Forbidden"), new),
            SubscribeOutcome::Failed {
                error: SipError::Rejected { status: 403, .. },
                ..
            }
        ));
        assert_eq!(
            subscribe_response(&parse("SIP/2.0 401 Unauthorized"), new),
            SubscribeOutcome::CredentialsRejected
        );
        assert_eq!(
            subscribe_response(&parse("SIP/2.0 481 Subscription Does Not Exist"), refresh),
            SubscribeOutcome::NoSuchSubscription
        );
        assert!(matches!(
            subscribe_response(&parse("SIP/2.0 481 Subscription Does Not Exist"), new),
            SubscribeOutcome::Failed {
                error: SipError::Rejected { status: 481, .. },
                ..
            }
        ));
        assert!(matches!(
            subscribe_response(&parse("SIP/2.0 408 Request Timeout"), new),
            SubscribeOutcome::Failed {
                error: SipError::Timeout,
                ..
            }
        ));
    }
}
