//! Calls over rsipstack's dialog layer: outgoing INVITEs (offer in the INVITE, answer in the
//! 2xx), incoming INVITEs (ring, answer, decline), BYE and CANCEL both ways. The rules of
//! which state follows which are ours ([`crate::CallMachine`]); this module only translates
//! the stack's dialog states into [`CallInput`]s and our commands into stack calls.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{
    DialogState, DialogStateReceiver, DialogStateSender, TerminatedReason, TransactionHandle,
};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::prelude::{HeadersExt, ToTypedHeader};
use rsipstack::sip::{Header, Method, StatusCode, StatusCodeKind};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::SipAddr;
use tokio::sync::mpsc;

use super::admission;
use crate::call::{
    CallDirection, CallEvent, CallId, CallInput, CallMachine, GLARE_ATTEMPTS, Referral,
    SessionUpdate, TransferUpdate, glare_retry_delay,
};
use crate::{SipError, SipUri};

/// Everything an account needs to place and take calls; cheap to clone.
#[derive(Clone)]
pub struct CallAgent {
    inner: Arc<AgentInner>,
}

impl std::fmt::Debug for CallAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallAgent")
            .field("aor", &self.inner.aor)
            .finish_non_exhaustive()
    }
}

pub(crate) struct AgentInner {
    pub dialog_layer: Arc<DialogLayer>,
    pub aor: SipUri,
    pub credential: Arc<Mutex<Credential>>,
    /// Where every request goes first (registrar or outbound proxy), with its transport.
    pub destination: SipAddr,
    /// Our Contact: how the far end reaches us within the dialog.
    pub contact: Arc<Mutex<Option<rsipstack::sip::Uri>>>,
    /// The local address facing the registrar: where our RTP socket should bind.
    pub local_ip: IpAddr,
}

impl CallAgent {
    pub(crate) fn new(inner: AgentInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The local IP address facing the server (bind RTP here and announce it in SDP).
    pub fn local_ip(&self) -> IpAddr {
        self.inner.local_ip
    }

    /// Places a call to `target` (`sip:user@host`, or a user of the account's domain) with
    /// our SDP `offer`. The call reports its progress through [`Call::next_event`].
    pub fn dial(&self, call_id: &CallId, target: &str, offer: String) -> Result<Call, SipError> {
        let inner = &self.inner;
        let target = if target.starts_with("sip:") || target.starts_with("sips:") {
            target.to_owned()
        } else {
            format!("sip:{target}@{}", inner.aor.host_port())
        };
        let callee = rsipstack::sip::Uri::try_from(target.as_str())
            .map_err(|e| SipError::InvalidAccount(format!("bad target {target}: {e}")))?;
        let caller_text = format!("sip:{}@{}", inner.aor.user, inner.aor.host_port());
        let caller = rsipstack::sip::Uri::try_from(caller_text.as_str())
            .map_err(|e| SipError::InvalidAccount(format!("bad AOR {caller_text}: {e}")))?;
        let contact = lock(&inner.contact)
            .clone()
            .ok_or_else(|| SipError::Internal("no Contact yet: register first".into()))?;
        let credential = lock(&inner.credential).clone();
        let option = InviteOption {
            caller,
            callee,
            destination: Some(inner.destination.clone()),
            content_type: Some("application/sdp".into()),
            offer: Some(offer.into_bytes()),
            contact,
            credential: Some(credential),
            call_id: Some(call_id.0.clone()),
            ..InviteOption::default()
        };
        let (state_tx, states) = inner.dialog_layer.new_dialog_state_channel();
        let (dialog, invite) = inner
            .dialog_layer
            .do_invite_async(option, state_tx.clone())
            .map_err(|e| SipError::Internal(format!("cannot send INVITE: {e}")))?;
        // A transport failure or Timer B ends the INVITE without a dialog state: report it
        // on the same channel so the call ends with a reason.
        let id = dialog.id();
        tokio::spawn(async move {
            let reason = match invite.await {
                Ok(Ok(_)) => return,
                Ok(Err(
                    rsipstack::Error::TransportLayerError(..) | rsipstack::Error::IoError(_),
                )) => TerminatedReason::UasOther(StatusCode::ServiceUnavailable),
                Ok(Err(_)) | Err(_) => TerminatedReason::Timeout,
            };
            let _ = state_tx.send(DialogState::Terminated(id, reason));
        });
        Ok(Call::new(
            call_id.clone(),
            CallDirection::Outgoing,
            dialog,
            states,
            None,
            target,
            inner.aor.host_port(),
        ))
    }
}

/// One call in progress. Owned by whoever drives it (the engine's call task).
pub struct Call {
    id: CallId,
    direction: CallDirection,
    pub(super) dialog: InviteDialog,
    states: DialogStateReceiver,
    pub(super) machine: CallMachine,
    /// The SDP the last state brought, handed out with the next event.
    remote_sdp: Option<String>,
    /// Incoming calls: the caller's offer.
    remote_offer: Option<String>,
    remote_party: String,
    /// Mid-call offer/answer steps to report, oldest first.
    updates: std::collections::VecDeque<SessionUpdate>,
    /// The far end's re-INVITE waiting for our answer.
    offer_handle: Option<TransactionHandle>,
    /// Our re-offer is out (its task reports on `reoffer_results`).
    reoffer_pending: bool,
    reoffer_sender: mpsc::UnboundedSender<SessionUpdate>,
    reoffer_results: mpsc::UnboundedReceiver<SessionUpdate>,
    /// The domain of our own address in this call (the host of a bare transfer target).
    pub(super) local_domain: String,
    /// Transfer steps to report, oldest first.
    pub(super) transfers: std::collections::VecDeque<TransferUpdate>,
    /// Our transfer, if one was started (sans-IO).
    pub(super) referral: Referral,
    /// The REFER's final status, from the task that sends it.
    pub(super) refer_results_sender: mpsc::UnboundedSender<Option<u16>>,
    refer_results: mpsc::UnboundedReceiver<Option<u16>>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("id", &self.id)
            .field("direction", &self.direction)
            .field("state", self.machine.state())
            .finish_non_exhaustive()
    }
}

impl Call {
    fn new(
        id: CallId,
        direction: CallDirection,
        dialog: InviteDialog,
        states: DialogStateReceiver,
        remote_offer: Option<String>,
        remote_party: String,
        local_domain: String,
    ) -> Self {
        let (reoffer_sender, reoffer_results) = mpsc::unbounded_channel();
        let (refer_results_sender, refer_results) = mpsc::unbounded_channel();
        Self {
            id,
            direction,
            dialog,
            states,
            machine: CallMachine::new(direction),
            remote_sdp: None,
            remote_offer,
            remote_party,
            updates: std::collections::VecDeque::new(),
            offer_handle: None,
            reoffer_pending: false,
            reoffer_sender,
            reoffer_results,
            local_domain,
            transfers: std::collections::VecDeque::new(),
            referral: Referral::default(),
            refer_results_sender,
            refer_results,
        }
    }

    /// The call's id.
    pub fn id(&self) -> &CallId {
        &self.id
    }

    /// Who placed it.
    pub fn direction(&self) -> CallDirection {
        self.direction
    }

    /// The other party's URI (the target we dialled, or the caller's From).
    pub fn remote_party(&self) -> &str {
        &self.remote_party
    }

    /// Incoming calls: the caller's SDP offer (empty when the INVITE had none).
    pub fn remote_offer(&self) -> Option<&str> {
        self.remote_offer.as_deref()
    }

    /// An event of this call in its current state, carrying nothing else yet.
    fn event_in_current_state(&self) -> CallEvent {
        CallEvent {
            call_id: self.id.clone(),
            state: self.machine.state().clone(),
            remote_sdp: None,
            update: None,
            transfer: None,
        }
    }

    /// The next state change or mid-call offer/answer step; `None` after
    /// [`crate::CallState::Ended`] was returned. Cancel-safe (use it in `select!`).
    pub async fn next_event(&mut self) -> Option<CallEvent> {
        loop {
            if let Some(state) = self.machine.poll_event() {
                return Some(CallEvent {
                    state,
                    remote_sdp: self.remote_sdp.take(),
                    ..self.event_in_current_state()
                });
            }
            if self.machine.is_ended() {
                return None;
            }
            if let Some(update) = self.updates.pop_front() {
                return Some(CallEvent {
                    update: Some(update),
                    ..self.event_in_current_state()
                });
            }
            if let Some(transfer) = self.transfers.pop_front() {
                return Some(CallEvent {
                    transfer: Some(transfer),
                    ..self.event_in_current_state()
                });
            }
            tokio::select! {
                state = self.states.recv() => match state {
                    Some(state) => self.apply(state),
                    None => self.machine.handle(CallInput::TransportFailed),
                },
                Some(result) = self.reoffer_results.recv() => {
                    self.reoffer_pending = false;
                    self.updates.push_back(result);
                }
                Some(status) = self.refer_results.recv() => self.refer_answered(status),
            }
        }
    }

    /// True while an offer/answer step is open (our re-offer awaits its answer, or the far
    /// end's awaits ours): a new re-offer must wait (RFC 3261 §14.1).
    pub fn offer_pending(&self) -> bool {
        self.reoffer_pending || self.offer_handle.is_some()
    }

    /// Established calls: sends a re-INVITE with our new `sdp` offer (hold, resume). The
    /// outcome arrives as a [`SessionUpdate`] from [`Call::next_event`]. A 491 (glare) is
    /// retried after the random wait of RFC 3261 §14.1, up to three attempts in all.
    pub fn send_offer(&mut self, sdp: String) -> Result<(), SipError> {
        if *self.machine.state() != crate::CallState::Established {
            return Err(SipError::Internal("the call is not established".into()));
        }
        if self.offer_pending() {
            return Err(SipError::Internal(
                "an offer/answer exchange is already in progress".into(),
            ));
        }
        self.reoffer_pending = true;
        let dialog = self.dialog.clone();
        let results = self.reoffer_sender.clone();
        // We own the Call-ID when we sent the initial INVITE.
        let owns_call_id = self.direction == CallDirection::Outgoing;
        let seed = self.id.0.clone();
        tokio::spawn(async move {
            let outcome = reinvite(&dialog, sdp.into_bytes(), owns_call_id, &seed).await;
            let _ = results.send(outcome);
        });
        Ok(())
    }

    /// Answers the far end's re-offer ([`SessionUpdate::RemoteOffer`]) with 200 and `sdp`.
    pub async fn answer_offer(&mut self, sdp: String) -> Result<(), SipError> {
        let handle = self
            .offer_handle
            .take()
            .ok_or_else(|| SipError::Internal("no re-offer to answer".into()))?;
        let content_type = Header::ContentType("application/sdp".to_owned().into());
        handle
            .respond(
                StatusCode::OK,
                Some(vec![content_type]),
                Some(sdp.into_bytes()),
            )
            .await
            .map_err(|_| SipError::Internal("the re-INVITE transaction is gone".into()))
    }

    /// Refuses the far end's re-offer with 488: the session stays as it was (RFC 3261
    /// §14.2), the call goes on.
    pub async fn refuse_offer(&mut self) -> Result<(), SipError> {
        let handle = self
            .offer_handle
            .take()
            .ok_or_else(|| SipError::Internal("no re-offer to refuse".into()))?;
        handle
            .reply(StatusCode::NotAcceptableHere)
            .await
            .map_err(|_| SipError::Internal("the re-INVITE transaction is gone".into()))
    }

    /// Incoming: tell the caller we ring (180).
    pub fn ring(&self) -> Result<(), SipError> {
        self.dialog.ringing(None, None).map_err(stack_error)
    }

    /// Incoming: answer (200 with our SDP answer); the call is established when the ACK
    /// arrives.
    pub fn answer(&self, sdp: String) -> Result<(), SipError> {
        let content_type = Header::ContentType("application/sdp".to_owned().into());
        self.dialog
            .accept(Some(vec![content_type]), Some(sdp.into_bytes()))
            .map_err(stack_error)
    }

    /// Incoming, before answering: refuse with 486 Busy Here (`busy`) or 603 Decline.
    pub fn decline(&mut self, busy: bool) -> Result<(), SipError> {
        let status = if busy {
            StatusCode::BusyHere
        } else {
            StatusCode::Decline
        };
        self.machine.handle(CallInput::LocalDecline);
        self.dialog.reject(Some(status), None).map_err(stack_error)
    }

    /// Refuses an incoming offer we cannot use (488) and ends the call.
    pub fn reject_media(&mut self) -> Result<(), SipError> {
        self.machine.handle(CallInput::MediaFailed);
        self.dialog
            .reject(Some(StatusCode::NotAcceptableHere), None)
            .map_err(stack_error)
    }

    /// Hangs up: BYE once established, CANCEL while an outgoing call rings, 486 for an
    /// incoming call not yet answered.
    pub async fn hangup(&mut self) -> Result<(), SipError> {
        let unanswered_incoming = self.direction == CallDirection::Incoming
            && *self.machine.state() == crate::CallState::Ringing;
        self.machine.handle(CallInput::LocalHangup);
        if unanswered_incoming {
            return self
                .dialog
                .reject(Some(StatusCode::BusyHere), None)
                .map_err(stack_error);
        }
        self.dialog.hangup().await.map_err(stack_error)
    }

    /// Ends the call locally after the media failed (no common codec in the answer).
    pub async fn fail_media(&mut self) -> Result<(), SipError> {
        self.machine.handle(CallInput::MediaFailed);
        self.dialog.hangup().await.map_err(stack_error)
    }

    fn apply(&mut self, state: DialogState) {
        let body = |resp: &rsipstack::sip::Response| {
            (!resp.body.is_empty()).then(|| String::from_utf8_lossy(&resp.body).into_owned())
        };
        let established = *self.machine.state() == crate::CallState::Established;
        let input = match state {
            DialogState::Trying(_) => Some(CallInput::Provisional { status: 100 }),
            // Mid-call, responses to re-INVITEs (ours or theirs) carry no new call state;
            // our re-offer's answer comes from its own task.
            DialogState::Early(..) | DialogState::Confirmed(..) if established => None,
            DialogState::Updated(_, request, handle) => {
                self.remote_reoffer(&request, handle);
                None
            }
            DialogState::Notify(_, request, handle) => {
                self.notified(&request, handle);
                None
            }
            DialogState::Refer(_, _, handle) => {
                // Being transferred by the far end is not supported yet: say no at once
                // (RFC 3515 §2.4.2) rather than leave its REFER unanswered.
                tokio::spawn(async move {
                    let _ = handle.reply(StatusCode::Decline).await;
                });
                None
            }
            DialogState::Options(_, _, handle) => {
                // In-dialog OPTIONS (a keep-alive probe): we are here.
                tokio::spawn(async move {
                    let _ = handle.reply(StatusCode::OK).await;
                });
                None
            }
            DialogState::Early(_, resp) if self.direction == CallDirection::Outgoing => {
                self.remote_sdp = body(&resp);
                Some(CallInput::Provisional {
                    status: resp.status_code.code(),
                })
            }
            DialogState::Confirmed(_, resp) => match self.direction {
                CallDirection::Outgoing => {
                    self.remote_sdp = body(&resp);
                    Some(CallInput::Final {
                        status: resp.status_code.code(),
                    })
                }
                CallDirection::Incoming => Some(CallInput::Acknowledged),
            },
            DialogState::Terminated(_, reason) => Some(match reason {
                TerminatedReason::UacBye | TerminatedReason::UasBye => CallInput::RemoteHangup,
                TerminatedReason::UacCancel => match self.direction {
                    CallDirection::Incoming => CallInput::RemoteHangup,
                    CallDirection::Outgoing => CallInput::LocalHangup,
                },
                TerminatedReason::Timeout => CallInput::Timeout,
                TerminatedReason::UacBusy | TerminatedReason::UasBusy => {
                    CallInput::Final { status: 486 }
                }
                TerminatedReason::UasDecline => CallInput::Final { status: 603 },
                TerminatedReason::ProxyAuthRequired => CallInput::Final { status: 407 },
                TerminatedReason::ProxyError(code)
                | TerminatedReason::UacOther(code)
                | TerminatedReason::UasOther(code) => CallInput::Final {
                    status: code.code(),
                },
            }),
            _ => None,
        };
        if let Some(input) = input {
            self.machine.handle(input);
        }
    }
}

impl Call {
    /// A request that the stack reports as `Updated`: a re-INVITE (queued for the engine to
    /// answer) or an UPDATE (refused: we do not offer through UPDATE yet, RFC 3311).
    fn remote_reoffer(&mut self, request: &rsipstack::sip::Request, handle: TransactionHandle) {
        let status = if request.method != Method::Invite {
            Some(StatusCode::NotImplemented)
        } else if *self.machine.state() != crate::CallState::Established {
            // An offer before the call is up cannot be ours to take (RFC 3261 §14.2).
            Some(StatusCode::RequestPending)
        } else if self.offer_pending() {
            // Glare: our own re-offer is out (RFC 3261 §14.2).
            Some(StatusCode::RequestPending)
        } else {
            None
        };
        if let Some(status) = status {
            tokio::spawn(async move {
                let _ = handle.reply(status).await;
            });
            return;
        }
        self.offer_handle = Some(handle);
        self.updates.push_back(SessionUpdate::RemoteOffer {
            sdp: String::from_utf8_lossy(&request.body).into_owned(),
        });
    }
}

/// Sends one re-offer, retrying on 491 (see [`Call::send_offer`]); says how it ended.
async fn reinvite(
    dialog: &InviteDialog,
    body: Vec<u8>,
    owns_call_id: bool,
    seed: &str,
) -> SessionUpdate {
    use std::hash::BuildHasher;
    let headers = vec![Header::ContentType("application/sdp".to_owned().into())];
    let mut waited_for_confirmed = 0;
    let mut attempt = 0;
    loop {
        match dialog
            .reinvite(Some(headers.clone()), Some(body.clone()))
            .await
        {
            Ok(Some(resp)) if resp.status_code.kind() == StatusCodeKind::Successful => {
                return SessionUpdate::Answered {
                    sdp: String::from_utf8_lossy(&resp.body).into_owned(),
                };
            }
            Ok(Some(resp)) if resp.status_code == StatusCode::RequestPending => {
                attempt += 1;
                if attempt >= GLARE_ATTEMPTS {
                    return SessionUpdate::Refused { status: 491 };
                }
                let random = std::collections::hash_map::RandomState::new().hash_one((
                    seed,
                    attempt,
                    std::time::SystemTime::now(),
                ));
                let delay = glare_retry_delay(owns_call_id, random);
                tracing::debug!(?delay, "re-INVITE glare (491): offering again later");
                tokio::time::sleep(delay).await;
            }
            Ok(Some(resp)) => {
                return SessionUpdate::Refused {
                    status: resp.status_code.code(),
                };
            }
            // The stack sends nothing while the dialog is not confirmed: the far end's own
            // re-INVITE is still waiting for its ACK. Give it up to 2 s.
            Ok(None) if waited_for_confirmed < 20 => {
                waited_for_confirmed += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Ok(None) => return SessionUpdate::Refused { status: 408 },
            Err(e) => {
                tracing::debug!(error = %e, "re-INVITE failed");
                return SessionUpdate::Refused { status: 408 };
            }
        }
    }
}

/// Routes requests that arrive at an account's endpoint: new INVITEs become incoming
/// [`Call`]s, in-dialog requests go to their dialog, other NOTIFYs to MWI, OPTIONS is
/// answered.
pub(crate) struct RequestRouter {
    pub dialog_layer: Arc<DialogLayer>,
    pub incoming: mpsc::UnboundedSender<Call>,
    pub contact: Arc<Mutex<Option<rsipstack::sip::Uri>>>,
    /// The registrar (or outbound proxy) address: INVITEs from anywhere else are ghosts.
    pub registrar: SocketAddr,
    /// NOTIFYs no call's dialog claims: message summaries, or refused.
    pub mwi: super::mwi::MwiInbox,
}

impl RequestRouter {
    pub async fn route(&self, mut tx: Transaction) {
        let in_dialog = tx
            .original
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .is_some();
        let method = tx.original.method;
        if let Some(refusal) = admission::unsupported_extensions(&tx.original) {
            refuse(&mut tx, refusal).await;
            return;
        }
        if method == Method::Invite && !in_dialog {
            self.new_call(tx).await;
            return;
        }
        if let Some(mut dialog) = self.dialog_layer.match_dialog(&tx) {
            tokio::spawn(async move {
                if let Err(e) = dialog.handle(&mut tx).await {
                    tracing::debug!(error = %e, "in-dialog request failed");
                }
            });
            return;
        }
        if method == Method::Notify {
            self.mwi.notified(tx).await;
            return;
        }
        let status = match method {
            Method::Options => StatusCode::OK,
            Method::Ack => return,
            _ if in_dialog => StatusCode::CallTransactionDoesNotExist,
            // Nothing of ours to end or cancel (RFC 3261 §9.2, §15.1.2).
            Method::Bye | Method::Cancel => StatusCode::CallTransactionDoesNotExist,
            // A method the stack knows but we do not serve (REGISTER, MESSAGE, …): we are
            // no registrar (RFC 3261 §8.2.1, RFC 4475 §3.3.7). Unknown ones never get here:
            // the screening answers them 501.
            _ => {
                refuse(&mut tx, admission::method_not_allowed()).await;
                return;
            }
        };
        if let Err(e) = tx.reply(status).await {
            tracing::debug!(error = %e, "could not answer an incoming request");
        }
    }

    async fn new_call(&self, mut tx: Transaction) {
        // Ghost calls: an INVITE that did not come through our registrar (a scanner
        // probing the port the registration opened) must not ring. Refuse it quietly.
        if !came_from(&tx, self.registrar) {
            tracing::info!("refused an INVITE that did not come from the registrar");
            let _ = tx.reply(StatusCode::Forbidden).await;
            return;
        }
        if let Some(refusal) = admission::offer_problem(&tx.original) {
            refuse(&mut tx, refusal).await;
            return;
        }
        let (state_tx, states): (DialogStateSender, DialogStateReceiver) =
            self.dialog_layer.new_dialog_state_channel();
        let contact = lock(&self.contact).clone();
        let dialog = match self
            .dialog_layer
            .get_or_create_server_invite(&tx, state_tx, None, contact)
        {
            Ok(dialog) => dialog,
            Err(e) => {
                tracing::debug!(error = %e, "cannot create a dialog for an INVITE");
                let _ = tx.reply(StatusCode::ServerInternalError).await;
                return;
            }
        };
        let offer = String::from_utf8_lossy(&tx.original.body).into_owned();
        let caller = tx
            .original
            .from_header()
            .ok()
            .and_then(|from| from.typed().ok())
            .map(|from| from.uri.to_string())
            .unwrap_or_default();
        let call_id = tx
            .original
            .call_id_header()
            .map(|h| h.value().to_owned())
            .unwrap_or_else(|_| dialog.id().to_string());
        // Our own address in this call is the To of the INVITE.
        let local_domain = tx
            .original
            .to_header()
            .ok()
            .and_then(|to| to.typed().ok())
            .map(|to| to.uri.host_with_port.to_string())
            .unwrap_or_default();
        let call = Call::new(
            CallId(call_id),
            CallDirection::Incoming,
            dialog.clone(),
            states,
            Some(offer),
            caller,
            local_domain,
        );
        if self.incoming.send(call).is_err() {
            let _ = tx.reply(StatusCode::TemporarilyUnavailable).await;
            return;
        }
        // The server transaction runs until the ACK (or CANCEL) arrives.
        let mut dialog = dialog;
        tokio::spawn(async move {
            if let Err(e) = dialog.handle(&mut tx).await {
                tracing::debug!(error = %e, "incoming INVITE transaction failed");
            }
        });
    }
}

/// True when the request's last hop (top Via, with `received`/`rport` as the transport
/// layer recorded them, RFC 3261 §18.2.1 / RFC 3581) is `registrar`.
pub(crate) fn came_from(tx: &Transaction, registrar: SocketAddr) -> bool {
    let Ok(via) = tx.original.via_header().and_then(|v| v.typed()) else {
        return false;
    };
    let sent_by = via.sent_by();
    let host = match via.received() {
        Some(Ok(ip)) => ip.to_string(),
        _ => sent_by.host.to_string(),
    };
    let port = match via.rport() {
        Some(Some(port)) => Some(port),
        _ => sent_by
            .port
            .as_ref()
            .and_then(|p| p.to_string().parse().ok()),
    };
    is_registrar(&host, port, registrar)
}

/// The ghost-call rule, sans-IO: host and port of the last hop against the registrar's.
pub(crate) fn is_registrar(host: &str, port: Option<u16>, registrar: SocketAddr) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(ip) = host.parse::<IpAddr>() else {
        return false;
    };
    ip == registrar.ip() && port.unwrap_or(5060) == registrar.port()
}

/// Sends a refusal as the final response of `tx`.
async fn refuse(tx: &mut Transaction, refusal: admission::Refusal) {
    if let Err(e) = tx.reply_with(refusal.status, refusal.headers, None).await {
        tracing::debug!(error = %e, "could not refuse an incoming request");
    }
}

fn stack_error(e: rsipstack::Error) -> SipError {
    super::classify::error(&e)
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_registrar_may_ring_us() {
        let registrar: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        assert!(is_registrar("127.0.0.1", Some(5060), registrar));
        assert!(is_registrar("127.0.0.1", None, registrar));
        assert!(!is_registrar("127.0.0.1", Some(5070), registrar));
        assert!(!is_registrar("192.0.2.9", Some(5060), registrar));
        assert!(!is_registrar("scanner.example", Some(5060), registrar));
        let v6: SocketAddr = "[::1]:5080".parse().unwrap();
        assert!(is_registrar("[::1]", Some(5080), v6));
    }
}
