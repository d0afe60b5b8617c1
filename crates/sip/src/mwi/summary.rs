//! The `application/simple-message-summary` body of an MWI NOTIFY (RFC 3842 §5.2), sans-IO.
//!
//! ```text
//! Messages-Waiting: yes
//! Message-Account: sip:alice@vmail.example.com
//! Voice-Message: 2/8 (0/2)
//! ```
//!
//! No maintained crate parses this, and the body comes from a server we do not control, so
//! the parser is small, bounded and total: any input gives a summary or an error that says
//! the peer sent it, never a panic. It is lenient where RFC 3842 servers are known to vary
//! (header-name case, whitespace, LF-only line ends, unknown lines, the optional header block
//! after an empty line) and strict where a wrong guess would show a wrong count.

use crate::SipError;

/// The largest body we read. Real ones are under 200 bytes; the optional message headers of
/// RFC 3842 §5.2 may add a few lines, not kilobytes.
pub const MAX_SUMMARY_BYTES: usize = 8 * 1024;

/// The media type the body carries (and our `Accept` asks for).
pub const SUMMARY_CONTENT_TYPE: &str = "application/simple-message-summary";

/// New and old messages of one message-context-class, with their urgent shares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    /// Messages not yet heard (read).
    pub new: u32,
    /// Messages already heard and kept.
    pub old: u32,
    /// Of the new ones, how many are urgent (0 when the line gave no urgent counts).
    pub urgent_new: u32,
    /// Of the old ones, how many are urgent.
    pub urgent_old: u32,
}

/// The message-context-classes of RFC 3458 §4.2 that a summary line may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageClass {
    /// `Voice-Message`: voicemail, the one the red dot counts.
    Voice,
    /// `Fax-Message`.
    Fax,
    /// `Pager-Message`.
    Pager,
    /// `Multimedia-Message`.
    Multimedia,
    /// `Text-Message`.
    Text,
    /// `None`: messages of no particular class.
    Unclassified,
}

impl MessageClass {
    /// The class a summary line's name stands for, in any case.
    fn from_name(name: &str) -> Option<Self> {
        const NAMES: [(&str, MessageClass); 6] = [
            ("voice-message", MessageClass::Voice),
            ("fax-message", MessageClass::Fax),
            ("pager-message", MessageClass::Pager),
            ("multimedia-message", MessageClass::Multimedia),
            ("text-message", MessageClass::Text),
            ("none", MessageClass::Unclassified),
        ];
        NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, class)| *class)
    }
}

/// What a message-summary body says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSummary {
    /// `Messages-Waiting: yes`: the server says there is something new for the user.
    pub messages_waiting: bool,
    /// `Message-Account`: the mailbox the summary is about, when the server names it.
    pub account: Option<String>,
    /// The counts per class, in the order the body listed them (each class at most once).
    pub counts: Vec<(MessageClass, MessageCounts)>,
}

impl MessageSummary {
    /// The voice-message counts; zero when the body has no `Voice-Message` line (a server
    /// may send only `Messages-Waiting: no`).
    pub fn voice(&self) -> MessageCounts {
        self.counts
            .iter()
            .find(|(class, _)| *class == MessageClass::Voice)
            .map(|(_, counts)| *counts)
            .unwrap_or_default()
    }

    /// Parses a body. Errors are [`SipError::MalformedByPeer`]: the server sent it.
    pub fn parse(body: &[u8]) -> Result<Self, SipError> {
        if body.len() > MAX_SUMMARY_BYTES {
            return Err(bad(format!(
                "{} bytes, more than the {MAX_SUMMARY_BYTES} a summary may have",
                body.len()
            )));
        }
        let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8 text".into()))?;
        let mut waiting = None;
        let mut account = None;
        let mut counts: Vec<(MessageClass, MessageCounts)> = Vec::new();
        for line in text.lines() {
            let line = line.trim_matches([' ', '\t', '\r']);
            if line.is_empty() {
                // RFC 3842 §5.2: what follows the empty line are optional message headers
                // (RFC 2822 style), not counts.
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(bad(format!("a line without a colon: {}", excerpt(line))));
            };
            let (name, value) = (name.trim_end_matches([' ', '\t']), value.trim());
            if name.eq_ignore_ascii_case("Messages-Waiting") {
                if waiting.is_some() {
                    return Err(bad("Messages-Waiting appears twice".into()));
                }
                waiting = Some(parse_status(value)?);
            } else if name.eq_ignore_ascii_case("Message-Account") {
                if account.is_some() {
                    return Err(bad("Message-Account appears twice".into()));
                }
                account = Some(value.to_owned());
            } else if let Some(class) = MessageClass::from_name(name) {
                if counts.iter().any(|(seen, _)| *seen == class) {
                    return Err(bad(format!("{name} appears twice")));
                }
                counts.push((class, parse_counts(value)?));
            }
            // Any other name: an extension we do not know (RFC 3842 leaves room for new
            // classes). Skipped, it says nothing about voicemail.
        }
        let messages_waiting = waiting.ok_or_else(|| bad("no Messages-Waiting line".to_owned()))?;
        Ok(Self {
            messages_waiting,
            account,
            counts,
        })
    }
}

/// `yes` or `no`, in any case.
fn parse_status(value: &str) -> Result<bool, SipError> {
    if value.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err(bad(format!(
            "Messages-Waiting is neither yes nor no: {}",
            excerpt(value)
        )))
    }
}

/// `new/old` optionally followed by `(urgent_new/urgent_old)`, whitespace allowed around
/// every token.
fn parse_counts(value: &str) -> Result<MessageCounts, SipError> {
    let (plain, urgent) = match value.split_once('(') {
        Some((plain, rest)) => {
            let inner = rest
                .trim_end()
                .strip_suffix(')')
                .ok_or_else(|| bad(format!("unclosed urgent counts: {}", excerpt(value))))?;
            (plain, Some(inner))
        }
        None => (value, None),
    };
    let (new, old) = pair(plain, value)?;
    let (urgent_new, urgent_old) = match urgent {
        Some(inner) => pair(inner, value)?,
        None => (0, 0),
    };
    if urgent_new > new || urgent_old > old {
        return Err(bad(format!(
            "more urgent messages than messages: {}",
            excerpt(value)
        )));
    }
    Ok(MessageCounts {
        new,
        old,
        urgent_new,
        urgent_old,
    })
}

/// `a/b` as two counts; `whole` is the line's value, for the error.
fn pair(text: &str, whole: &str) -> Result<(u32, u32), SipError> {
    let (a, b) = text
        .split_once('/')
        .ok_or_else(|| bad(format!("counts are not new/old: {}", excerpt(whole))))?;
    Ok((count(a, whole)?, count(b, whole)?))
}

/// A count: ASCII digits only (no sign, no `+`), at most what fits in a u32.
fn count(text: &str, whole: &str) -> Result<u32, SipError> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("a count is not a number: {}", excerpt(whole))));
    }
    text.parse()
        .map_err(|_| bad(format!("a count is too large: {}", excerpt(whole))))
}

fn bad(why: String) -> SipError {
    SipError::MalformedByPeer(format!("message summary: {why}"))
}

/// At most 40 characters of the peer's text, control characters escaped, for an error that
/// may be logged.
fn excerpt(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    format!("{short:?}")
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
