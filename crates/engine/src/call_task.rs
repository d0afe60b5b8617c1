//! One call's task: drives the signalling ([`sidetone_sip::Call`]) and, once offer/answer
//! agreed, the media: a UDP socket for RTP (symmetric, RFC 4961), a 20 ms clock, the
//! [`MediaSession`] and the WAV source and sink of a headless call.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sidetone_audio::{CallAudio, DeviceChoice, ProcessingConfig, WavSink, WavSource};
use sidetone_media::offer_answer::{self, LocalMedia, LocalSdp};
use sidetone_media::session::{FRAME, FRAME_SAMPLES};
use sidetone_media::{CodecKind, Direction, HoldState, MediaSession, Negotiated};
use sidetone_sip::{
    AccountId, Call, CallAgent, CallDirection, CallId, CallState, EndReason, SessionUpdate,
    TransferUpdate,
};
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc};

use crate::{EngineError, EngineEvent, TransferOutcome};

/// The voice processing on a call's microphone. Echo cancellation is off for now: sonora's
/// AEC3 suppresses the user's own speech while the far end talks for the first seconds of a
/// call, even with no echo path (its start-up settings are not exposed by sonora 0.2), and
/// tests/e2e/test_app_call.py, which scores what the far end hears, falls below its floor
/// with it on. Noise suppression and gain stay.
const CALL_PROCESSING: ProcessingConfig = ProcessingConfig {
    echo_cancellation: false,
    noise_suppression: true,
    automatic_gain: true,
};

/// How a call's audio is produced and consumed: the sound devices, or WAV files for a
/// headless call (the CLI, tests, benchmarks).
#[derive(Debug, Clone, Default)]
pub struct CallMedia {
    /// Talk and listen through these sound devices (`None`: no devices, WAV or silence).
    /// Echo cancellation, noise suppression and gain run on the microphone.
    pub devices: Option<DeviceChoice>,
    /// A WAV file to send as our voice; silence when `None` and after it ends.
    pub play: Option<PathBuf>,
    /// Where to record what we hear (48 kHz mono 16-bit WAV).
    pub record: Option<PathBuf>,
    /// Codecs to offer or accept, best first; empty means all we support.
    pub codecs: Vec<CodecKind>,
}

impl CallMedia {
    fn codecs(&self) -> Vec<CodecKind> {
        if self.codecs.is_empty() {
            CodecKind::ALL.to_vec()
        } else {
            self.codecs.clone()
        }
    }
}

/// What the engine asks of a call.
#[derive(Debug)]
pub(crate) enum CallCommand {
    /// Answer an incoming call with this media.
    Answer(CallMedia),
    /// Refuse an incoming call (603).
    Decline,
    /// Hang up (BYE, CANCEL, or 486 before answering).
    Hangup,
    /// Stop (true) or resume (false) sending our voice; silence is sent meanwhile, so the
    /// far end's jitter buffer and any NAT binding stay alive.
    Mute(bool),
    /// Put the far end on hold (true) or resume (false): a re-INVITE.
    Hold(bool),
    /// Send these DTMF digits (already checked) as RFC 4733 events.
    Dtmf(String, std::sync::mpsc::SyncSender<Result<(), EngineError>>),
    /// Blind transfer to this target (REFER); the reply says whether it was sent.
    Transfer(String, std::sync::mpsc::SyncSender<Result<(), EngineError>>),
}

/// Calls in progress, by id: how the handle reaches a call's task.
pub(crate) type CallRegistry = Arc<Mutex<HashMap<CallId, mpsc::UnboundedSender<CallCommand>>>>;

pub(crate) fn lock_registry(
    registry: &CallRegistry,
) -> std::sync::MutexGuard<'_, HashMap<CallId, mpsc::UnboundedSender<CallCommand>>> {
    registry
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The parts every call task shares.
pub(crate) struct CallContext {
    pub account_id: AccountId,
    pub call_id: CallId,
    pub events: broadcast::Sender<EngineEvent>,
    pub registry: CallRegistry,
}

impl CallContext {
    /// Enters a new call in `registry` (so the handle's commands reach it) and returns its
    /// context and the receiving end of those commands, for the call's task.
    pub(crate) fn enrol(
        account_id: &AccountId,
        call_id: CallId,
        events: &broadcast::Sender<EngineEvent>,
        registry: &CallRegistry,
    ) -> (Self, mpsc::UnboundedReceiver<CallCommand>) {
        let (tx, rx) = mpsc::unbounded_channel();
        lock_registry(registry).insert(call_id.clone(), tx);
        let context = Self {
            account_id: account_id.clone(),
            call_id,
            events: events.clone(),
            registry: registry.clone(),
        };
        (context, rx)
    }

    fn emit_state(&self, direction: CallDirection, remote: &str, state: CallState) {
        let _ = self.events.send(EngineEvent::Call {
            account_id: self.account_id.clone(),
            call_id: self.call_id.clone(),
            direction,
            remote: remote.to_owned(),
            state,
        });
    }
}

impl Drop for CallContext {
    fn drop(&mut self) {
        lock_registry(&self.registry).remove(&self.call_id);
    }
}

/// Places a call and runs it to its end.
pub(crate) async fn run_outgoing(
    agent: CallAgent,
    context: CallContext,
    target: String,
    media: CallMedia,
    commands: mpsc::UnboundedReceiver<CallCommand>,
) {
    let fail = |reason: EndReason| {
        context.emit_state(
            CallDirection::Outgoing,
            &target,
            CallState::Ended { reason },
        );
    };
    let socket = match bind_rtp(&agent).await {
        Ok(socket) => socket,
        Err(e) => {
            tracing::warn!(error = %e, "cannot bind an RTP socket");
            fail(EndReason::Unreachable);
            return;
        }
    };
    let local = LocalMedia {
        address: agent.local_ip(),
        port: socket.local_addr().map(|a| a.port()).unwrap_or_default(),
        codecs: media.codecs(),
        direction: Direction::SendRecv,
    };
    // Open the WAV files before dialing: reading and resampling a file takes a moment, and
    // the far end's RTP must not pile up unread meanwhile.
    let io = match MediaIo::open_off_runtime(&media).await {
        Ok(io) => io,
        Err(e) => {
            tracing::warn!(error = %e, "cannot open the call's audio");
            fail(EndReason::LocalMediaFailed);
            return;
        }
    };
    let mut sdp = LocalSdp::new(random());
    let offer = sdp.offer(&local);
    let call = match agent.dial(&context.call_id, &target, offer) {
        Ok(call) => call,
        Err(e) => {
            tracing::warn!(error = %e, "cannot place the call");
            fail(EndReason::Unreachable);
            return;
        }
    };
    drive(call, context, socket, local, sdp, Some(io), commands).await;
}

/// Runs an incoming call: rings, then waits for the user's answer, decline or hangup.
pub(crate) async fn run_incoming(
    agent: CallAgent,
    context: CallContext,
    mut call: Call,
    commands: mpsc::UnboundedReceiver<CallCommand>,
) {
    let socket = match bind_rtp(&agent).await {
        Ok(socket) => socket,
        Err(e) => {
            tracing::warn!(error = %e, "cannot bind an RTP socket");
            let _ = call.decline(true);
            return;
        }
    };
    let local = LocalMedia {
        address: agent.local_ip(),
        port: socket.local_addr().map(|a| a.port()).unwrap_or_default(),
        codecs: CodecKind::ALL.to_vec(),
        direction: Direction::SendRecv,
    };
    if let Err(e) = call.ring() {
        tracing::debug!(error = %e, "could not send 180");
    }
    drive(
        call,
        context,
        socket,
        local,
        LocalSdp::new(random()),
        None,
        commands,
    )
    .await;
}

async fn bind_rtp(agent: &CallAgent) -> std::io::Result<UdpSocket> {
    UdpSocket::bind(SocketAddr::new(agent.local_ip(), 0)).await
}

fn random() -> u64 {
    RandomState::new().hash_one(Instant::now())
}

/// A call's sound devices, WAV source and recording, opened before the media starts.
struct MediaIo {
    source: Option<WavSource>,
    sink: Option<WavSink>,
    device: Option<CallAudio>,
}

impl MediaIo {
    /// [`MediaIo::open`] on a blocking thread: opening sound devices talks to the sound
    /// server and may wait on it (seconds when it is gone), which must not stall the
    /// runtime's other calls and registrations.
    async fn open_off_runtime(media: &CallMedia) -> Result<Self, String> {
        let media = media.clone();
        tokio::task::spawn_blocking(move || Self::open(&media))
            .await
            .map_err(|e| format!("opening the call's audio stopped: {e}"))?
    }

    fn open(media: &CallMedia) -> Result<Self, String> {
        Ok(Self {
            source: media
                .play
                .as_deref()
                .map(WavSource::open)
                .transpose()
                .map_err(|e| e.to_string())?,
            sink: media
                .record
                .as_deref()
                .map(WavSink::create)
                .transpose()
                .map_err(|e| e.to_string())?,
            // A call without a working sound device still connects (the user can fix the
            // headset and hear the far end's "hello?"), so a device error is not fatal.
            device: media.devices.as_ref().and_then(|choice| {
                CallAudio::open(choice, &CALL_PROCESSING)
                    .inspect_err(|e| tracing::warn!(error = %e, "the call has no sound device"))
                    .ok()
            }),
        })
    }
}

/// A call's media while it flows.
struct MediaRunner {
    session: MediaSession,
    remote: SocketAddr,
    latched: bool,
    sends: bool,
    source: Option<WavSource>,
    sink: Option<WavSink>,
    device: Option<CallAudio>,
    captured: Vec<i16>,
    silence: Vec<i16>,
    muted: bool,
}

impl MediaRunner {
    /// Takes what a re-INVITE agreed and who holds whom now: the stream goes on with the new
    /// direction (and address or codec, if they changed).
    fn renegotiated(&mut self, negotiated: Negotiated, hold: HoldState) -> Result<(), String> {
        if negotiated.remote != self.session.negotiated().remote {
            // A new address in the SDP: send there until its stream arrives.
            self.remote = negotiated.remote;
            self.latched = false;
        }
        self.sends = hold.sends_voice(negotiated.direction);
        self.session.update(negotiated).map_err(|e| e.to_string())
    }

    /// Starts the media with `muted` as the user left it before the call connected (a mute
    /// pressed while ringing must hold once the far end answers).
    fn start(negotiated: Negotiated, io: MediaIo, muted: bool) -> Result<Self, String> {
        let MediaIo {
            source,
            sink,
            device,
        } = io;
        let mut runner = Self {
            remote: negotiated.remote,
            sends: negotiated.direction.sends(),
            session: MediaSession::new(negotiated, random()).map_err(|e| e.to_string())?,
            latched: false,
            source,
            sink,
            device,
            captured: vec![0; FRAME_SAMPLES],
            silence: vec![0; FRAME_SAMPLES],
            muted: false,
        };
        runner.set_muted(muted);
        Ok(runner)
    }

    /// Stops (or resumes) sending our voice; the device's meter then shows the user talking
    /// into a muted microphone.
    fn set_muted(&mut self, muted: bool) {
        self.muted = muted;
        if let Some(device) = self.device.as_ref() {
            device.controls.set_muted(muted);
        }
    }

    async fn tick(&mut self, socket: &UdpSocket) {
        if !self.sends {
            // Keep the RTP clock in step with real time for when sending resumes.
            self.session.skip_frame();
        } else {
            // The source keeps running while muted, so unmuting resumes in step with it.
            let wav = self.source.as_mut().and_then(WavSource::next_frame);
            let spoken = match self.device.as_mut() {
                Some(device) => device
                    .microphone
                    .read_frame(&mut self.captured)
                    .then_some(self.captured.as_slice()),
                None => None,
            };
            let frame = match (wav.as_deref(), spoken) {
                _ if self.muted => &self.silence,
                (Some(frame), _) | (None, Some(frame)) => frame,
                (None, None) => &self.silence,
            };
            match self.session.send_frame(frame) {
                Ok(datagram) => {
                    if let Err(e) = socket.send_to(&datagram, self.remote).await {
                        tracing::debug!(error = %e, "RTP send failed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot encode a frame"),
            }
        }
        let heard = self.session.playout(Instant::now());
        if let Some(device) = self.device.as_mut() {
            device.speaker.write_frame(&heard);
        }
        if let Some(sink) = self.sink.as_mut()
            && let Err(e) = sink.write(&heard)
        {
            tracing::warn!(error = %e, "recording stopped");
            self.sink = None;
        }
    }

    fn receive(&mut self, datagram: &[u8], from: SocketAddr) {
        // Symmetric RTP: once the far end's stream arrives, answer where it comes from
        // (a NAT in between may have rewritten the address its SDP announced).
        if self.session.receive(datagram, Instant::now()) && !self.latched {
            self.latched = true;
            self.remote = from;
        }
    }

    fn finish(self, context: &CallContext) {
        let _ = context.events.send(EngineEvent::CallStats {
            call_id: context.call_id.clone(),
            stats: self.session.stats(),
        });
        if let Some(sink) = self.sink
            && let Err(e) = sink.finalize()
        {
            tracing::warn!(error = %e, "cannot finish the recording");
        }
    }
}

/// A call's hold state and the re-INVITE that changes it.
#[derive(Debug, Default)]
struct Hold {
    state: HoldState,
    /// What the user asked for last, not yet offered (another offer/answer was open).
    wanted: Option<bool>,
    /// The state our re-offer in flight asks for, with the media we offered.
    offered: Option<(HoldState, LocalMedia)>,
}

impl Hold {
    /// Sends the re-offer the user's last request needs, when none is open.
    fn offer_if_wanted(
        &mut self,
        call: &mut Call,
        local: &LocalMedia,
        sdp: &mut LocalSdp,
        runner: &mut MediaRunner,
    ) {
        let Some(wanted) = self.wanted else { return };
        if call.offer_pending() || self.offered.is_some() {
            return;
        }
        self.wanted = None;
        if wanted == self.state.local {
            return;
        }
        let next = HoldState {
            local: wanted,
            ..self.state
        };
        let offer_local = LocalMedia {
            direction: next.offer_direction(),
            ..local.clone()
        };
        match call.send_offer(sdp.offer(&offer_local)) {
            Ok(()) => {
                if wanted {
                    // Silence at once; resuming waits for the far end's answer.
                    runner.sends = false;
                }
                self.offered = Some((next, offer_local));
            }
            Err(e) => tracing::warn!(error = %e, "cannot send the re-INVITE"),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    mut call: Call,
    context: CallContext,
    socket: UdpSocket,
    mut local: LocalMedia,
    mut sdp: LocalSdp,
    mut outgoing_io: Option<MediaIo>,
    mut commands: mpsc::UnboundedReceiver<CallCommand>,
) {
    let direction = call.direction();
    let remote = call.remote_party().to_owned();
    let mut runner: Option<MediaRunner> = None;
    // Where our blind transfer sends the far end, for the events (and so the history).
    let mut transfer_target = String::new();
    // The user's mute, kept apart from the media so a mute before the answer is not lost.
    let mut muted = false;
    let mut clock = tokio::time::interval(FRAME);
    let mut buf = vec![0u8; 2048];
    let mut commands_open = true;
    let mut hold = Hold::default();
    loop {
        let media_on = runner.is_some();
        tokio::select! {
            event = call.next_event() => {
                let Some(event) = event else { break };
                if let Some(step) = event.transfer {
                    transfer_step(&mut call, &context, step, &transfer_target).await;
                    continue;
                }
                if let Some(update) = event.update {
                    if let Some(runner) = runner.as_mut() {
                        session_update(&mut call, &context, update, &mut hold, &local, &mut sdp, runner).await;
                        hold.offer_if_wanted(&mut call, &local, &mut sdp, runner);
                    } else if matches!(update, SessionUpdate::RemoteOffer { .. }) {
                        let _ = call.refuse_offer().await;
                    }
                    continue;
                }
                let ended = matches!(event.state, CallState::Ended { .. });
                if direction == CallDirection::Outgoing
                    && event.state == CallState::Established
                    && runner.is_none()
                {
                    let io = outgoing_io.take().unwrap_or(MediaIo { source: None, sink: None, device: None });
                    let agreed = event
                        .remote_sdp
                        .as_deref()
                        .ok_or_else(|| "the 2xx has no SDP answer".to_owned())
                        .and_then(|sdp| {
                            offer_answer::accept_answer(&local, sdp).map_err(|e| e.to_string())
                        });
                    match agreed.and_then(|n| MediaRunner::start(n, io, muted)) {
                        Ok(started) => {
                            context.emit_state(direction, &remote, event.state.clone());
                            media_started(&context, &socket, &started);
                            runner = Some(started);
                            clock.reset();
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "no usable media: hanging up");
                            let _ = call.fail_media().await;
                        }
                    }
                }
                context.emit_state(direction, &remote, event.state);
                if ended {
                    break;
                }
            }
            command = commands.recv(), if commands_open => match command {
                Some(CallCommand::Answer(media)) if direction == CallDirection::Incoming && runner.is_none() => {
                    let offer = call.remote_offer().unwrap_or_default().to_owned();
                    local.codecs = media.codecs();
                    let answered = sdp.answer(&local, &offer);
                    match answered {
                        Ok((answer, agreed)) => match MediaIo::open_off_runtime(&media).await.and_then(|io| MediaRunner::start(agreed, io, muted)) {
                            Ok(started) => {
                                if let Err(e) = call.answer(answer) {
                                    tracing::warn!(error = %e, "cannot answer");
                                }
                                media_started(&context, &socket, &started);
                                runner = Some(started);
                                clock.reset();
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "cannot start media");
                                let _ = call.decline(true);
                            }
                        },
                        Err(e) => {
                            tracing::info!(error = %e, "cannot answer the offer");
                            let _ = call.reject_media();
                        }
                    }
                }
                Some(CallCommand::Answer(_)) => {}
                Some(CallCommand::Decline) => {
                    let _ = call.decline(false);
                }
                Some(CallCommand::Mute(on)) => {
                    muted = on;
                    if let Some(runner) = runner.as_mut() {
                        runner.set_muted(on);
                    }
                }
                Some(CallCommand::Hold(on)) => match runner.as_mut() {
                    Some(runner) => {
                        hold.wanted = Some(on);
                        hold.offer_if_wanted(&mut call, &local, &mut sdp, runner);
                    }
                    None => tracing::info!("hold ignored: the call is not established"),
                },
                Some(CallCommand::Dtmf(digits, reply)) => {
                    let sent = match runner.as_mut() {
                        Some(runner) if runner.sends => runner
                            .session
                            .queue_dtmf(&digits)
                            .map_err(|_| EngineError::DtmfUnavailable("the far end agreed no telephone-event (RFC 4733)")),
                        Some(_) => Err(EngineError::DtmfUnavailable("the call is on hold")),
                        None => Err(EngineError::DtmfUnavailable("the call is not established")),
                    };
                    // The handle may have stopped waiting; nothing else to tell then.
                    let _ = reply.try_send(sent);
                }
                Some(CallCommand::Transfer(target, reply)) => {
                    let sent = call.transfer(&target).map_err(EngineError::Sip);
                    if sent.is_ok() {
                        transfer_target = target;
                    }
                    let _ = reply.try_send(sent);
                }
                Some(CallCommand::Hangup) => {
                    if let Err(e) = call.hangup().await {
                        tracing::debug!(error = %e, "hangup failed");
                    }
                }
                None => {
                    // The engine is going away: end the call properly.
                    commands_open = false;
                    let _ = call.hangup().await;
                }
            },
            _ = clock.tick(), if media_on => {
                if let Some(runner) = runner.as_mut() {
                    runner.tick(&socket).await;
                }
            }
            received = socket.recv_from(&mut buf), if media_on => {
                if let (Ok((len, from)), Some(runner)) = (received, runner.as_mut()) {
                    runner.receive(&buf[..len], from);
                    while let Some(digit) = runner.session.poll_dtmf() {
                        let _ = context.events.send(EngineEvent::Dtmf {
                            call_id: context.call_id.clone(),
                            digit,
                        });
                    }
                }
            }
        }
    }
    if let Some(runner) = runner {
        runner.finish(&context);
    }
}

/// One step of our blind transfer: users hear of it; a 2xx from the target ends our leg
/// (RFC 5589 §6.1: the transferor hangs up once the transfer succeeded).
async fn transfer_step(call: &mut Call, context: &CallContext, step: TransferUpdate, target: &str) {
    let outcome = match step {
        TransferUpdate::Accepted => TransferOutcome::Accepted,
        TransferUpdate::Finished { status } if (200..300).contains(&status) => {
            TransferOutcome::Completed
        }
        TransferUpdate::Refused { status } | TransferUpdate::Finished { status } => {
            TransferOutcome::Failed { status }
        }
        // 1xx of the far end's call to the target: nothing for users yet.
        _ => return,
    };
    let _ = context.events.send(EngineEvent::CallTransfer {
        call_id: context.call_id.clone(),
        target: target.to_owned(),
        outcome,
    });
    if outcome == TransferOutcome::Completed
        && let Err(e) = call.hangup().await
    {
        tracing::debug!(error = %e, "hangup after the transfer failed");
    }
}

/// One mid-call offer/answer step: the far end's re-offer (answered here, at once) or the
/// outcome of ours. Media follows what was agreed; users hear of hold changes.
#[allow(clippy::too_many_arguments)]
async fn session_update(
    call: &mut Call,
    context: &CallContext,
    update: SessionUpdate,
    hold: &mut Hold,
    local: &LocalMedia,
    sdp: &mut LocalSdp,
    runner: &mut MediaRunner,
) {
    let before = hold.state;
    match update {
        SessionUpdate::RemoteOffer { sdp: offer } if offer.trim().is_empty() => {
            // An offerless re-INVITE (a session refresh): offer what we have now. The answer
            // in its ACK is not applied (our media stays as agreed before).
            let ours = LocalMedia {
                direction: hold.state.offer_direction(),
                ..local.clone()
            };
            if let Err(e) = call.answer_offer(sdp.offer(&ours)).await {
                tracing::warn!(error = %e, "cannot answer the re-INVITE");
            }
        }
        SessionUpdate::RemoteOffer { sdp: offer } => {
            let agreed = offer_answer::remote_direction(&offer).and_then(|offered| {
                let next = hold.state.after_remote_offer(offered);
                let ours = LocalMedia {
                    direction: next.answer_preference(),
                    ..local.clone()
                };
                sdp.answer(&ours, &offer).map(|answer| (next, answer))
            });
            match agreed {
                Ok((next, (answer, negotiated))) => {
                    if let Err(e) = call.answer_offer(answer).await {
                        tracing::warn!(error = %e, "cannot answer the re-INVITE");
                        return;
                    }
                    hold.state = next;
                    if let Err(e) = runner.renegotiated(negotiated, next) {
                        tracing::warn!(error = %e, "cannot follow the new session");
                    }
                }
                Err(e) => {
                    tracing::info!(error = %e, "refusing the far end's re-offer");
                    let _ = call.refuse_offer().await;
                }
            }
        }
        SessionUpdate::Answered { sdp: answer } => {
            let Some((next, offered)) = hold.offered.take() else {
                return;
            };
            match offer_answer::accept_answer(&offered, &answer) {
                Ok(negotiated) => {
                    hold.state = next;
                    if let Err(e) = runner.renegotiated(negotiated, next) {
                        tracing::warn!(error = %e, "cannot follow the new session");
                    }
                }
                Err(e) => {
                    // The far end accepted an offer it answered badly; keep what we had
                    // (its re-INVITE transaction is over: nothing to refuse).
                    tracing::warn!(error = %e, "unusable answer to our re-INVITE");
                    runner.sends = hold
                        .state
                        .sends_voice(runner.session.negotiated().direction);
                }
            }
        }
        SessionUpdate::Refused { status } => {
            tracing::warn!(status, "the far end refused our re-INVITE");
            hold.offered = None;
            runner.sends = hold
                .state
                .sends_voice(runner.session.negotiated().direction);
            // Tell users the state stayed as it was (their request did not take).
            emit_hold(context, hold.state);
            return;
        }
        _ => {}
    }
    if hold.state != before {
        emit_hold(context, hold.state);
    }
}

fn emit_hold(context: &CallContext, state: HoldState) {
    let _ = context.events.send(EngineEvent::CallHeld {
        call_id: context.call_id.clone(),
        local: state.local,
        remote: state.remote,
    });
}

fn media_started(context: &CallContext, socket: &UdpSocket, runner: &MediaRunner) {
    let Ok(local_rtp) = socket.local_addr() else {
        return;
    };
    let negotiated = runner.session.negotiated();
    let _ = context.events.send(EngineEvent::CallMedia {
        call_id: context.call_id.clone(),
        codec: negotiated.codec,
        local_rtp,
        remote_rtp: negotiated.remote,
    });
}
