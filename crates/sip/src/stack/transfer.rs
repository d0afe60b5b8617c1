//! Blind transfer of an established call (RFC 3515 REFER, RFC 5589 §6): we ask the far end
//! to call the target; its progress comes back as NOTIFYs of the implicit `refer`
//! subscription, each a `message/sipfrag` status line. What to do with the outcome (hang
//! up after a 2xx, carry on after a failure) is the caller's.

use rsipstack::dialog::dialog::TransactionHandle;
use rsipstack::sip::{StatusCode, StatusCodeKind};

use super::call::Call;
use crate::call::TransferUpdate;
use crate::{CallState, SipError};

impl Call {
    /// Asks the far end to call `target` (`sip:`/`sips:` URI, or a user of our own domain)
    /// instead of us. The outcome arrives as [`TransferUpdate`]s from [`Call::next_event`].
    pub fn transfer(&mut self, target: &str) -> Result<(), SipError> {
        if *self.machine.state() != CallState::Established {
            return Err(SipError::Internal("the call is not established".into()));
        }
        if self.transfer_pending {
            return Err(SipError::Internal("a transfer is already under way".into()));
        }
        let refer_to = refer_target(target, &self.local_domain)?;
        let uri = rsipstack::sip::Uri::try_from(refer_to.as_str()).map_err(|e| {
            SipError::InvalidAccount(format!("bad transfer target {refer_to}: {e}"))
        })?;
        self.transfer_pending = true;
        let dialog = self.dialog.clone();
        let results = self.transfer_sender.clone();
        tokio::spawn(async move {
            let outcome = match dialog.refer(uri, None, None).await {
                Ok(Some(resp)) if resp.status_code.kind() == StatusCodeKind::Successful => {
                    TransferUpdate::Accepted
                }
                Ok(Some(resp)) => TransferUpdate::Refused {
                    status: resp.status_code.code(),
                },
                Ok(None) | Err(_) => TransferUpdate::Refused { status: 408 },
            };
            let _ = results.send(outcome);
        });
        Ok(())
    }

    /// Records one step of our transfer (from its task).
    pub(super) fn transfer_step(&mut self, step: TransferUpdate) {
        if matches!(step, TransferUpdate::Refused { .. }) {
            self.transfer_pending = false;
        }
        self.transfers.push_back(step);
    }

    /// An in-dialog NOTIFY: the progress of our REFER (answered 200), or an event we never
    /// subscribed to (489 Bad Event, RFC 6665 §4.1.3).
    pub(super) fn refer_notify(
        &mut self,
        request: &rsipstack::sip::Request,
        handle: TransactionHandle,
    ) {
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|h| (h.name(), h.value()))
            .collect();
        let status = refer_progress(&headers, &request.body).filter(|_| self.transfer_pending);
        let reply = if status.is_some() {
            StatusCode::OK
        } else {
            StatusCode::BadEvent
        };
        tokio::spawn(async move {
            let _ = handle.reply(reply).await;
        });
        if let Some((status, done)) = status {
            if done {
                self.transfer_pending = false;
            }
            self.transfers
                .push_back(TransferUpdate::Progress { status, done });
        }
    }
}

/// A NOTIFY of the `refer` event package (RFC 3515 §2.4.4): the status code of its
/// `message/sipfrag` status line, and whether `Subscription-State` is `terminated`. `None`
/// for any other event or a body without a status line. (rsipstack's `ReferStatus::parse`
/// misses the Event header, which its parser types.)
fn refer_progress(headers: &[(&str, &str)], body: &[u8]) -> Option<(u16, bool)> {
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
fn refer_target(target: &str, local_domain: &str) -> Result<String, SipError> {
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
    use super::{refer_progress, refer_target};

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
}
