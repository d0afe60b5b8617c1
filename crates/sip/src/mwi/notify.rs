//! Which NOTIFYs we take (RFC 6665 §4.1.3, RFC 3842 §4.2), sans-IO: the router asks, the
//! rules answer with a status.

use super::summary::SUMMARY_CONTENT_TYPE;

/// The event package of voicemail notifications (RFC 3842 §3).
pub const MWI_EVENT: &str = "message-summary";

/// Our side of a subscription's dialog: enough to refresh it and to tell its NOTIFYs from
/// strangers'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubscriptionDialog {
    /// The Call-ID of our SUBSCRIBE.
    pub call_id: String,
    /// Our From tag (the To tag of the server's NOTIFYs).
    pub local_tag: String,
    /// The server's tag, from its 2xx or first NOTIFY.
    pub remote_tag: Option<String>,
    /// The server's Contact, where in-dialog requests are addressed.
    pub remote_target: Option<String>,
    /// The CSeq of our last SUBSCRIBE in this dialog.
    pub cseq: u32,
}

impl SubscriptionDialog {
    /// The server's tag and Contact, from its 2xx or a NOTIFY, whichever came first (RFC
    /// 6665 §4.1.2.4: a NOTIFY may overtake the 2xx).
    pub(crate) fn learn_remote(&mut self, tag: Option<String>, target: Option<String>) {
        if self.remote_tag.is_none() {
            self.remote_tag = tag;
        }
        if self.remote_target.is_none() {
            self.remote_target = target;
        }
    }
}

/// What a NOTIFY says about itself, as far as the rules need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NotifyFacts<'a> {
    /// The `Event` header (`o` in compact form), when present.
    pub event: Option<&'a str>,
    /// Its Call-ID.
    pub call_id: &'a str,
    /// The To tag: a NOTIFY of a dialog carries ours.
    pub to_tag: Option<&'a str>,
    /// The `Content-Type`, when present.
    pub content_type: Option<&'a str>,
    /// True when the body is not empty.
    pub has_body: bool,
    /// True when it came through the registrar (or outbound proxy) we registered with.
    pub from_registrar: bool,
}

/// What to do with a NOTIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotifyVerdict {
    /// Read its body; answer 200 if it parses (400 if not). `solicited` when it belongs to
    /// our subscription, false for an unsolicited one (Asterisk sends those to registered
    /// contacts).
    Take {
        /// It belongs to our subscription's dialog.
        solicited: bool,
    },
    /// Refuse with this status: 489 Bad Event (an event package we do not take), 481 (a
    /// dialog we do not have), 415 (a body that is not a message summary), 403 (an
    /// unsolicited one that did not come through our registrar).
    Refuse(u16),
}

/// Decides what to do with a NOTIFY sent to us, given our subscription's dialog, if any.
pub(crate) fn judge_notify(
    dialog: Option<&SubscriptionDialog>,
    facts: &NotifyFacts<'_>,
) -> NotifyVerdict {
    let ours = dialog
        .is_some_and(|d| d.call_id == facts.call_id && facts.to_tag == Some(d.local_tag.as_str()));
    let is_mwi = facts
        .event
        .and_then(|event| event.split(';').next())
        .is_some_and(|package| package.trim().eq_ignore_ascii_case(MWI_EVENT));
    if !is_mwi {
        // RFC 6665 §8.2.1 (489) for a package we do not take; a dialog we never had is 481.
        return if facts.to_tag.is_some() && !ours {
            NotifyVerdict::Refuse(481)
        } else {
            NotifyVerdict::Refuse(489)
        };
    }
    let solicited = if ours {
        true
    } else if facts.to_tag.is_some() {
        // A subscription that ended (or never was ours).
        return NotifyVerdict::Refuse(481);
    } else if facts.from_registrar {
        false
    } else {
        // Anyone can send a datagram to the port our registration opened; only the server
        // we registered with may tell us about voicemail.
        return NotifyVerdict::Refuse(403);
    };
    let summary_type = facts.content_type.is_none_or(|t| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case(SUMMARY_CONTENT_TYPE)
    });
    if facts.has_body && !summary_type {
        return NotifyVerdict::Refuse(415);
    }
    NotifyVerdict::Take { solicited }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog() -> SubscriptionDialog {
        SubscriptionDialog {
            call_id: "c1".into(),
            local_tag: "ours".into(),
            remote_tag: None,
            remote_target: None,
            cseq: 1,
        }
    }

    fn facts<'a>(
        event: Option<&'a str>,
        call_id: &'a str,
        to_tag: Option<&'a str>,
    ) -> NotifyFacts<'a> {
        NotifyFacts {
            event,
            call_id,
            to_tag,
            content_type: Some("application/simple-message-summary"),
            has_body: true,
            from_registrar: true,
        }
    }

    #[test]
    fn notifies_of_our_subscription_are_taken() {
        let d = dialog();
        let ours = facts(Some("message-summary"), "c1", Some("ours"));
        assert_eq!(
            judge_notify(Some(&d), &ours),
            NotifyVerdict::Take { solicited: true }
        );
        let params = facts(Some(" Message-Summary ;id=1"), "c1", Some("ours"));
        assert_eq!(
            judge_notify(Some(&d), &params),
            NotifyVerdict::Take { solicited: true }
        );
        // Of our dialog even from elsewhere: the Call-ID and our random tag are the proof.
        let relayed = NotifyFacts {
            from_registrar: false,
            ..ours
        };
        assert_eq!(
            judge_notify(Some(&d), &relayed),
            NotifyVerdict::Take { solicited: true }
        );
        // A pending or terminating NOTIFY without a body.
        let empty = NotifyFacts {
            content_type: None,
            has_body: false,
            ..ours
        };
        assert_eq!(
            judge_notify(Some(&d), &empty),
            NotifyVerdict::Take { solicited: true }
        );
    }

    #[test]
    fn unsolicited_ones_only_from_our_registrar() {
        let asterisk = facts(Some("message-summary"), "any", None);
        assert_eq!(
            judge_notify(None, &asterisk),
            NotifyVerdict::Take { solicited: false }
        );
        assert_eq!(
            judge_notify(Some(&dialog()), &asterisk),
            NotifyVerdict::Take { solicited: false }
        );
        let stranger = NotifyFacts {
            from_registrar: false,
            ..asterisk
        };
        assert_eq!(judge_notify(None, &stranger), NotifyVerdict::Refuse(403));
    }

    #[test]
    fn other_events_dialogs_and_bodies_are_refused() {
        let d = dialog();
        assert_eq!(
            judge_notify(Some(&d), &facts(Some("presence"), "x", None)),
            NotifyVerdict::Refuse(489)
        );
        assert_eq!(
            judge_notify(None, &facts(None, "x", None)),
            NotifyVerdict::Refuse(489)
        );
        assert_eq!(
            judge_notify(Some(&d), &facts(Some("dialog"), "c1", Some("ours"))),
            NotifyVerdict::Refuse(489)
        );
        assert_eq!(
            judge_notify(Some(&d), &facts(Some("refer"), "gone", Some("t"))),
            NotifyVerdict::Refuse(481)
        );
        assert_eq!(
            judge_notify(
                Some(&d),
                &facts(Some("message-summary"), "c0", Some("ours"))
            ),
            NotifyVerdict::Refuse(481)
        );
        assert_eq!(
            judge_notify(None, &facts(Some("message-summary"), "c1", Some("ours"))),
            NotifyVerdict::Refuse(481)
        );
        let html = NotifyFacts {
            content_type: Some("text/html"),
            ..facts(Some("message-summary"), "c1", Some("ours"))
        };
        assert_eq!(judge_notify(Some(&d), &html), NotifyVerdict::Refuse(415));
    }
}
