//! Our side of a blind transfer (RFC 3515 REFER, RFC 5589 §6), sans-IO: the target's
//! Refer-To URI, reading the NOTIFYs of the implicit `refer` subscription, and which
//! [`TransferUpdate`] users hear, each final outcome once.

use crate::SipError;
use crate::call::TransferUpdate;

/// Where one call's transfer is.
#[derive(Debug, Default)]
pub(crate) struct Referral {
    state: ReferralState,
    /// A REFER was sent in this call: NOTIFYs of `refer` are ours to accept (late ones too).
    ever_sent: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ReferralState {
    /// No transfer under way: one may start.
    #[default]
    Idle,
    /// Our REFER is out or accepted; its final outcome is not known yet.
    Pending,
}

/// What to do with an in-dialog NOTIFY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotifyVerdict {
    /// Answer 200 (true) or 489 Bad Event (false, RFC 6665 §4.1.3).
    pub accept: bool,
    /// What users hear of it, if anything.
    pub update: Option<TransferUpdate>,
}

impl Referral {
    /// True when a new transfer may start (none is under way).
    pub(crate) fn can_start(&self) -> bool {
        self.state == ReferralState::Idle
    }

    /// Our REFER is being sent.
    pub(crate) fn started(&mut self) {
        self.state = ReferralState::Pending;
        self.ever_sent = true;
    }

    /// The REFER's final status, `None` when none came: accepted (2xx) or refused.
    pub(crate) fn handle_refer_status(&mut self, status: Option<u16>) -> TransferUpdate {
        match status {
            Some(status) if (200..300).contains(&status) => TransferUpdate::Accepted,
            refused => {
                self.state = ReferralState::Idle;
                TransferUpdate::Refused {
                    status: refused.unwrap_or(408),
                }
            }
        }
    }

    /// A NOTIFY's headers (name, value) and body. Progress of our REFER is accepted; its
    /// first final status (or the end of the subscription) is reported once as
    /// [`TransferUpdate::Finished`] and ends the transfer; later NOTIFYs are accepted silently.
    pub(crate) fn handle_notify(&mut self, headers: &[(&str, &str)], body: &[u8]) -> NotifyVerdict {
        let Some((status, done)) = refer_progress(headers, body).filter(|_| self.ever_sent) else {
            return NotifyVerdict {
                accept: false,
                update: None,
            };
        };
        let update = match self.state {
            ReferralState::Idle => None,
            ReferralState::Pending if done || status >= 200 => {
                self.state = ReferralState::Idle;
                Some(TransferUpdate::Finished { status })
            }
            ReferralState::Pending => Some(TransferUpdate::Progress { status }),
        };
        NotifyVerdict {
            accept: true,
            update,
        }
    }
}

/// A NOTIFY of the `refer` event package (RFC 3515 §2.4.4): the status code of its
/// `message/sipfrag` status line, and whether `Subscription-State` is `terminated`. `None`
/// for any other event or a body without a status line. (rsipstack's `ReferStatus::parse`
/// misses the Event header, which its parser types.)
pub(crate) fn refer_progress(headers: &[(&str, &str)], body: &[u8]) -> Option<(u16, bool)> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    let event = header("Event").or_else(|| header("o"))?;
    // `refer`, or `refer;id=NN` for a second REFER in the dialog.
    if event.split(';').next()?.trim() != "refer" {
        return None;
    }
    let done = header("Subscription-State")?
        .split(';')
        .next()?
        .trim()
        .eq("terminated");
    let body = std::str::from_utf8(body).ok()?;
    let line = body.lines().find(|l| l.starts_with("SIP/2.0 "))?;
    let status = line.split_whitespace().nth(1)?.parse::<u16>().ok()?;
    (100..700).contains(&status).then_some((status, done))
}

/// The Refer-To URI for what the user typed: a SIP URI as it is, else a user (extension or
/// number, visual separators dropped) at our own domain.
pub(crate) fn refer_target(target: &str, local_domain: &str) -> Result<String, SipError> {
    let target = target.trim();
    if target.starts_with("sip:") || target.starts_with("sips:") {
        return Ok(target.to_owned());
    }
    let user: String = target
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let valid = !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '*' | '#' | '_' | '~'));
    if !valid || local_domain.is_empty() {
        return Err(SipError::InvalidAccount(format!(
            "cannot transfer to {target:?}: give an extension, a number or a sip: address"
        )));
    }
    Ok(format!("sip:{user}@{local_domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refer_notifies_give_the_sipfrag_status_and_the_subscription_end() {
        let active = [
            ("Event", "refer"),
            ("Subscription-State", "active;expires=60"),
        ];
        assert_eq!(
            refer_progress(&active, b"SIP/2.0 180 Ringing\r\n"),
            Some((180, false))
        );
        let done = [
            ("Event", "refer;id=93"),
            ("Subscription-State", "terminated;reason=noresource"),
        ];
        assert_eq!(
            refer_progress(&done, b"SIP/2.0 200 OK\r\n"),
            Some((200, true))
        );
    }

    #[test]
    fn other_events_and_broken_bodies_are_not_refer_progress() {
        let presence = [("Event", "presence"), ("Subscription-State", "active")];
        assert_eq!(refer_progress(&presence, b"SIP/2.0 200 OK"), None);
        let refer = [("Event", "refer"), ("Subscription-State", "active")];
        assert_eq!(refer_progress(&refer, b"hello"), None);
        assert_eq!(refer_progress(&refer, b"SIP/2.0 abc OK"), None);
        assert_eq!(refer_progress(&refer, b"SIP/2.0 999 Nine"), None);
        assert_eq!(refer_progress(&refer, b"\xff\xfe"), None);
        assert_eq!(
            refer_progress(&[("Event", "refer")], b"SIP/2.0 200 OK"),
            None
        );
    }

    #[test]
    fn a_bare_extension_or_number_goes_to_our_domain() {
        assert_eq!(
            refer_target("1002", "pbx.example.com").unwrap(),
            "sip:1002@pbx.example.com"
        );
        assert_eq!(
            refer_target(" +1 (555) 010-2030 ", "pbx.example.com:5061").unwrap(),
            "sip:+15550102030@pbx.example.com:5061"
        );
    }

    #[test]
    fn a_sip_uri_is_taken_as_it_is() {
        assert_eq!(
            refer_target("sip:alice@other.example", "pbx.example.com").unwrap(),
            "sip:alice@other.example"
        );
    }

    #[test]
    fn junk_is_refused_before_anything_is_sent() {
        for bad in ["", "   ", "10<02>", "a@b", "1002\r\nVia: x", "tel:1002"] {
            assert!(refer_target(bad, "pbx.example.com").is_err(), "{bad:?}");
        }
        assert!(refer_target("1002", "").is_err());
    }

    #[test]
    fn a_transfer_reports_accepted_progress_and_one_final_outcome() {
        let mut referral = Referral::default();
        assert!(referral.can_start());
        referral.started();
        assert!(!referral.can_start());
        assert_eq!(
            referral.handle_refer_status(Some(202)),
            TransferUpdate::Accepted
        );
        let active = [("Event", "refer"), ("Subscription-State", "active")];
        let ended = [("Event", "refer"), ("Subscription-State", "terminated")];
        let ringing = referral.handle_notify(&active, b"SIP/2.0 180 Ringing");
        assert_eq!(
            ringing,
            NotifyVerdict {
                accept: true,
                update: Some(TransferUpdate::Progress { status: 180 })
            }
        );
        // Some phones send the final status while the subscription is still active, then
        // again with `terminated`: users hear it once.
        let ok = referral.handle_notify(&active, b"SIP/2.0 200 OK");
        assert_eq!(ok.update, Some(TransferUpdate::Finished { status: 200 }));
        assert!(referral.can_start());
        let again = referral.handle_notify(&ended, b"SIP/2.0 200 OK");
        assert_eq!(
            again,
            NotifyVerdict {
                accept: true,
                update: None
            }
        );
    }

    #[test]
    fn a_subscription_that_ends_without_a_final_status_finishes_the_transfer() {
        let mut referral = Referral::default();
        referral.started();
        referral.handle_refer_status(Some(202));
        let ended = [
            ("Event", "refer"),
            ("Subscription-State", "terminated;reason=timeout"),
        ];
        let verdict = referral.handle_notify(&ended, b"SIP/2.0 100 Trying");
        assert_eq!(
            verdict.update,
            Some(TransferUpdate::Finished { status: 100 })
        );
        assert!(referral.can_start());
    }

    #[test]
    fn a_refused_or_unanswered_refer_ends_the_transfer_at_once() {
        let mut referral = Referral::default();
        referral.started();
        assert_eq!(
            referral.handle_refer_status(Some(603)),
            TransferUpdate::Refused { status: 603 }
        );
        assert!(referral.can_start());
        referral.started();
        assert_eq!(
            referral.handle_refer_status(None),
            TransferUpdate::Refused { status: 408 }
        );
    }

    #[test]
    fn notifies_we_never_asked_for_are_bad_events() {
        let mut referral = Referral::default();
        let refer = [("Event", "refer"), ("Subscription-State", "active")];
        // No REFER sent in this call: a refer NOTIFY is not ours.
        assert!(!referral.handle_notify(&refer, b"SIP/2.0 200 OK").accept);
        referral.started();
        let presence = [("Event", "presence"), ("Subscription-State", "active")];
        assert!(!referral.handle_notify(&presence, b"SIP/2.0 200 OK").accept);
        assert!(!referral.handle_notify(&refer, b"not a sipfrag").accept);
    }
}
