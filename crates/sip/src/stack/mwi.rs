//! MWI over rsipstack: SUBSCRIBE exchanges as the stack's client transactions (digest
//! challenges answered with its own authenticator, as its REGISTER does), and the NOTIFYs
//! that reach the account's router. When to subscribe is [`crate::MwiSubscription`]'s; which
//! NOTIFY to take is `crate::mwi::judge_notify`'s.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rsipstack::dialog::authenticate::{AuthRetry, Credential, handle_client_authenticate};
use rsipstack::sip::prelude::{HeadersExt, ToTypedHeader};
use rsipstack::sip::{Header, Method, Param, SipMessage, StatusCode, StatusCodeKind};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use rsipstack::transaction::key::{TransactionKey, TransactionRole};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transaction::{make_call_id, make_tag};
use rsipstack::transport::SipAddr;
use tokio::sync::mpsc;

use super::EXCHANGE_DEADLINE;
use super::call::{came_from, lock};
use crate::mwi::{
    MWI_EVENT, MessageSummary, MwiNotification, NotifiedState, NotifyFacts, NotifyVerdict,
    SUMMARY_CONTENT_TYPE, SubscribeOutcome, SubscribeRequest, SubscriptionDialog, judge_notify,
};
use crate::{SipError, SipUri};

/// The subscription's dialog, shared by the SUBSCRIBE side and the NOTIFY side.
pub(crate) type SharedDialog = Arc<Mutex<Option<SubscriptionDialog>>>;

/// Sends an account's message-summary SUBSCRIBEs; cheap to clone. Exchanges run one at a
/// time as [`crate::MwiSubscription`] asks for them.
#[derive(Clone)]
pub struct MwiAgent {
    inner: Arc<AgentInner>,
}

impl std::fmt::Debug for MwiAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MwiAgent")
            .field("aor", &self.inner.aor)
            .finish_non_exhaustive()
    }
}

pub(crate) struct AgentInner {
    pub endpoint: EndpointInnerRef,
    pub aor: SipUri,
    pub credential: Arc<Mutex<Credential>>,
    /// Where every request goes (registrar or outbound proxy), with its transport.
    pub destination: SipAddr,
    pub contact: Arc<Mutex<Option<rsipstack::sip::Uri>>>,
    pub dialog: SharedDialog,
}

impl MwiAgent {
    pub(crate) fn new(inner: AgentInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Performs one SUBSCRIBE exchange (answering one digest challenge) and says how it
    /// ended. Bounded by two non-INVITE transactions' time.
    pub async fn subscribe(&self, request: SubscribeRequest) -> SubscribeOutcome {
        let exchange = self.exchange(request);
        match tokio::time::timeout(EXCHANGE_DEADLINE, exchange).await {
            Err(_) => failed(SipError::Timeout),
            Ok(Err(error)) => failed(error),
            Ok(Ok(resp)) => super::classify::subscribe_response(&resp, request),
        }
    }

    async fn exchange(
        &self,
        request: SubscribeRequest,
    ) -> Result<rsipstack::sip::Response, SipError> {
        let inner = &self.inner;
        let dialog = self.dialog_for(request);
        let sip = build_subscribe(inner, &dialog, request).await?;
        let stack = |e: rsipstack::Error| super::classify::error(&e);
        let key = TransactionKey::from_request(&sip, TransactionRole::Client).map_err(stack)?;
        let mut tx = Transaction::new_client(key, sip, inner.endpoint.clone(), None);
        tx.destination = Some(inner.destination.clone());
        tx.send().await.map_err(stack)?;
        let mut auth = AuthRetry::new();
        while let Some(message) = tx.receive().await {
            let SipMessage::Response(resp) = message else {
                continue;
            };
            if resp.status_code.kind() == StatusCodeKind::Provisional {
                continue;
            }
            let challenged = matches!(
                resp.status_code,
                StatusCode::Unauthorized | StatusCode::ProxyAuthenticationRequired
            );
            if challenged && auth.should_answer(&resp) {
                let credential = lock(&inner.credential).clone();
                let seq = self.next_cseq(&dialog.call_id);
                tx = handle_client_authenticate(seq, &tx, resp, &credential)
                    .await
                    .map_err(stack)?;
                tx.send().await.map_err(stack)?;
                continue;
            }
            if resp.status_code.kind() == StatusCodeKind::Successful {
                self.learn_from_2xx(&dialog.call_id, &resp);
            }
            return Ok(resp);
        }
        // The transaction ended without a final response: Timer F.
        Err(SipError::Timeout)
    }

    /// The dialog this request goes in: the current one with the next CSeq for a refresh,
    /// else a new one (new Call-ID and tag) that NOTIFYs will be matched against.
    fn dialog_for(&self, request: SubscribeRequest) -> SubscriptionDialog {
        let mut guard = lock(&self.inner.dialog);
        if request.refresh
            && let Some(dialog) = guard.as_mut()
        {
            dialog.cseq = dialog.cseq.saturating_add(1);
            return dialog.clone();
        }
        let options = &self.inner.endpoint.option;
        let dialog = SubscriptionDialog {
            call_id: make_call_id(options.callid_suffix.as_deref(), options.callid_format)
                .value()
                .to_owned(),
            local_tag: make_tag().value().to_owned(),
            remote_tag: None,
            remote_target: None,
            cseq: 1,
        };
        *guard = Some(dialog.clone());
        dialog
    }

    /// The CSeq for the authenticated retry, kept in the dialog so refreshes go on from it.
    fn next_cseq(&self, call_id: &str) -> u32 {
        let mut guard = lock(&self.inner.dialog);
        match guard.as_mut().filter(|d| d.call_id == call_id) {
            Some(dialog) => {
                dialog.cseq = dialog.cseq.saturating_add(1);
                dialog.cseq
            }
            None => 2,
        }
    }

    /// The 2xx names the server's tag and Contact (RFC 6665 §4.1.2.1), unless a NOTIFY
    /// already did.
    fn learn_from_2xx(&self, call_id: &str, resp: &rsipstack::sip::Response) {
        let tag = resp
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .map(|t| t.value().to_owned());
        let mut guard = lock(&self.inner.dialog);
        if let Some(dialog) = guard.as_mut().filter(|d| d.call_id == call_id) {
            dialog.learn_remote(tag, contact_uri(resp));
        }
    }
}

/// The SUBSCRIBE of `dialog`: to our own AOR (RFC 3842 §4.1) or, in the dialog, to the
/// server's Contact; always sent to the registrar or outbound proxy.
async fn build_subscribe(
    inner: &AgentInner,
    dialog: &SubscriptionDialog,
    request: SubscribeRequest,
) -> Result<rsipstack::sip::Request, SipError> {
    let aor_text = format!("sip:{}@{}", inner.aor.user, inner.aor.host_port());
    let parse = |text: &str| {
        rsipstack::sip::Uri::try_from(text)
            .map_err(|e| SipError::InvalidAccount(format!("bad URI {text}: {e}")))
    };
    let aor = parse(&aor_text)?;
    let request_uri = match (&dialog.remote_target, request.refresh) {
        (Some(target), true) => parse(target).unwrap_or_else(|_| aor.clone()),
        _ => aor.clone(),
    };
    let contact = lock(&inner.contact)
        .clone()
        .ok_or_else(|| SipError::Internal("no Contact yet: register first".into()))?;
    // The Via names the connection the request leaves on (TCP/TLS/WS need theirs).
    let via_addr = inner
        .endpoint
        .transport_layer
        .lookup(&inner.destination, None)
        .await
        .ok()
        .map(|(connection, _)| connection.get_addr().clone());
    let via = inner
        .endpoint
        .get_via(via_addr, None)
        .map_err(|e| super::classify::error(&e))?;
    let from = rsipstack::sip::typed::From {
        display_name: None,
        uri: aor.clone(),
        params: vec![Param::Tag(dialog.local_tag.clone().into())],
    };
    let to = rsipstack::sip::typed::To {
        display_name: None,
        uri: aor,
        params: match (&dialog.remote_tag, request.refresh) {
            (Some(tag), true) => vec![Param::Tag(tag.clone().into())],
            _ => Vec::new(),
        },
    };
    let mut sip = inner.endpoint.make_request(
        Method::Subscribe,
        request_uri,
        via,
        from,
        to,
        dialog.cseq,
        Some(dialog.call_id.clone().into()),
    );
    let headers = &mut sip.headers;
    headers.push(rsipstack::sip::typed::Contact::from(contact).into());
    headers.push(Header::Event(MWI_EVENT.into()));
    headers.push(Header::Expires(request.expires.into()));
    headers.push(Header::Accept(SUMMARY_CONTENT_TYPE.into()));
    headers.push(Header::ContentLength(0.into()));
    Ok(sip)
}

fn failed(error: SipError) -> SubscribeOutcome {
    SubscribeOutcome::Failed {
        error,
        retry_after: None,
    }
}

/// The NOTIFY side: answers every NOTIFY the router could not give to a call's dialog, and
/// reports the message summaries it took.
pub(crate) struct MwiInbox {
    pub dialog: SharedDialog,
    pub reports: mpsc::UnboundedSender<MwiNotification>,
    /// The registrar (or outbound proxy): the only sender of unsolicited NOTIFYs we take.
    pub registrar: SocketAddr,
}

impl MwiInbox {
    /// Answers `tx` (a NOTIFY) and reports what it said, if we took it.
    pub async fn notified(&self, mut tx: Transaction) {
        let request = &tx.original;
        let header = |names: &[&str]| {
            request
                .headers
                .iter()
                .find(|h| names.iter().any(|n| h.name().eq_ignore_ascii_case(n)))
                .map(|h| h.value().to_owned())
        };
        let event = header(&["Event", "o"]);
        let content_type = header(&["Content-Type", "c"]);
        let call_id = request
            .call_id_header()
            .map(|h| h.value().to_owned())
            .unwrap_or_default();
        let to_tag = request
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .map(|t| t.value().to_owned());
        let facts = NotifyFacts {
            event: event.as_deref(),
            call_id: &call_id,
            to_tag: to_tag.as_deref(),
            content_type: content_type.as_deref(),
            has_body: !request.body.is_empty(),
            from_registrar: came_from(&tx, self.registrar),
        };
        let dialog = lock(&self.dialog).clone();
        let solicited = match judge_notify(dialog.as_ref(), &facts) {
            NotifyVerdict::Take { solicited } => solicited,
            NotifyVerdict::Refuse(status) => {
                tracing::debug!(status, event = ?facts.event, "refused a NOTIFY");
                let headers = if status == 415 {
                    vec![Header::Accept(SUMMARY_CONTENT_TYPE.into())]
                } else {
                    Vec::new()
                };
                reply(&mut tx, status, headers).await;
                return;
            }
        };
        let summary = if facts.has_body {
            match MessageSummary::parse(&request.body) {
                Ok(summary) => Some(summary),
                Err(error) => {
                    tracing::info!(%error, "refused a NOTIFY whose message summary is broken");
                    let warning = Header::Warning(
                        "399 sidetone \"the message summary cannot be read\"".into(),
                    );
                    reply(&mut tx, 400, vec![warning]).await;
                    return;
                }
            }
        } else {
            None
        };
        let subscription = if solicited {
            self.learn_from_notify(request);
            header(&["Subscription-State"]).and_then(|v| NotifiedState::parse(&v))
        } else {
            None
        };
        reply(&mut tx, 200, Vec::new()).await;
        let _ = self.reports.send(MwiNotification {
            summary,
            subscription,
            solicited,
        });
    }

    /// A NOTIFY may come before the SUBSCRIBE's 2xx: its From tag and Contact make the
    /// dialog then (RFC 6665 §4.1.2.4).
    fn learn_from_notify(&self, request: &rsipstack::sip::Request) {
        let tag = request
            .from_header()
            .ok()
            .and_then(|from| from.tag().ok().flatten())
            .map(|t| t.value().to_owned());
        if let Some(dialog) = lock(&self.dialog).as_mut() {
            dialog.learn_remote(tag, contact_uri(request));
        }
    }
}

/// The URI of a message's Contact, as text.
fn contact_uri(message: &impl HeadersExt) -> Option<String> {
    message
        .contact_header()
        .ok()
        .and_then(|c| c.typed().ok())
        .map(|c| c.uri.to_string())
}

async fn reply(tx: &mut Transaction, status: u16, headers: Vec<Header>) {
    if let Err(e) = tx.reply_with(StatusCode::from(status), headers, None).await {
        tracing::debug!(error = %e, "could not answer a NOTIFY");
    }
}
