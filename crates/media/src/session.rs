//! One call's audio stream, sans-IO: 20 ms frames of 48 kHz mono PCM in and out, RTP
//! datagrams in and out. The engine owns the socket and the clock; this owns the codec,
//! the RTP header fields and the jitter buffer.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rubato::{FftFixedInOut, Resampler};
use webrtc_util::marshal::{Marshal, Unmarshal};

use crate::MediaError;
use crate::codec::{CodecKind, g711};
use crate::dtmf::{DtmfFrame, DtmfReceiver, DtmfSender};
use crate::fec_plan::{self, FecPlan};
use crate::jitter::{JitterBuffer, JitterConfig, Packet, Playout};
use crate::offer_answer::Negotiated;

/// The pipeline's sample rate.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples per 20 ms frame at [`SAMPLE_RATE`].
pub const FRAME_SAMPLES: usize = 960;
/// The frame period.
pub const FRAME: Duration = Duration::from_millis(20);
/// Opus bitrate (bit/s): wideband speech with headroom for in-band FEC.
const OPUS_BITRATE: i32 = 32_000;
/// Each concealed G.711 frame in a row plays at this fraction of the one before.
const G711_CONCEAL_FADE: f32 = 0.5;

/// Counters for one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// RTP packets we produced.
    pub packets_sent: u64,
    /// RTP packets of the negotiated payload type we accepted.
    pub packets_received: u64,
    /// Datagrams dropped: not RTP, or another payload type.
    pub packets_ignored: u64,
    /// Frames concealed (loss, late packets, or the buffer ran dry).
    pub frames_concealed: u64,
    /// Frames the jitter buffer dropped to bring its delay back down.
    pub frames_skipped: u64,
    /// Packets that arrived after their slot was played.
    pub packets_late: u64,
    /// The jitter buffer's current target delay, in milliseconds.
    pub jitter_delay_ms: u64,
}

/// One call's audio stream (see the module docs).
pub struct MediaSession {
    negotiated: Negotiated,
    encoder: Encoder,
    decoder: Decoder,
    jitter: JitterBuffer<Bytes>,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    sent_first: bool,
    remote_ssrc: Option<u32>,
    stats: MediaStats,
    fec_plan: FecPlan,
    /// RFC 4733 events to send, when a telephone-event payload type was agreed.
    dtmf_out: Option<DtmfSender>,
    /// The RTP timestamp every packet of the event being sent repeats.
    dtmf_timestamp: u32,
    /// The next voice packet starts a talk spurt (after an event: RFC 4733 §2.6).
    talkspurt: bool,
    dtmf_in: DtmfReceiver,
    /// Digits received and not yet taken by [`MediaSession::poll_dtmf`].
    heard: std::collections::VecDeque<char>,
}

impl std::fmt::Debug for MediaSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSession")
            .field("negotiated", &self.negotiated)
            .field("ssrc", &self.ssrc)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl MediaSession {
    /// A stream for what offer/answer agreed. `random` seeds the SSRC, first sequence number
    /// and timestamp (RFC 3550 §5.1 wants them random).
    pub fn new(negotiated: Negotiated, random: u64) -> Result<Self, MediaError> {
        let codec = negotiated.codec;
        let jitter = JitterBuffer::new(JitterConfig {
            clock_rate: codec.clock_rate(),
            ..JitterConfig::default()
        });
        Ok(Self {
            encoder: Encoder::new(codec)?,
            decoder: Decoder::new(codec)?,
            jitter,
            ssrc: (random >> 32) as u32,
            seq: (random >> 16) as u16,
            timestamp: random as u32 & 0x7FFF_FFFF,
            sent_first: false,
            remote_ssrc: None,
            stats: MediaStats::default(),
            fec_plan: FecPlan::default(),
            dtmf_out: dtmf_sender(&negotiated),
            dtmf_timestamp: 0,
            talkspurt: false,
            dtmf_in: DtmfReceiver::new(),
            heard: std::collections::VecDeque::new(),
            negotiated,
        })
    }

    /// Takes what a later offer/answer (a re-INVITE: hold, resume, a new address) agreed.
    /// The stream goes on (same SSRC, sequence and timestamp); the codec is rebuilt only if
    /// it changed, and queued DTMF is dropped if the telephone-event type went away.
    pub fn update(&mut self, negotiated: Negotiated) -> Result<(), MediaError> {
        if negotiated.codec != self.negotiated.codec {
            self.encoder = Encoder::new(negotiated.codec)?;
            self.decoder = Decoder::new(negotiated.codec)?;
            self.jitter = JitterBuffer::new(JitterConfig {
                clock_rate: negotiated.codec.clock_rate(),
                ..JitterConfig::default()
            });
            self.remote_ssrc = None;
        }
        let same_events = negotiated.codec == self.negotiated.codec
            && negotiated.telephone_event == self.negotiated.telephone_event;
        if !same_events {
            self.dtmf_out = dtmf_sender(&negotiated);
        }
        self.negotiated = negotiated;
        Ok(())
    }

    /// Queues DTMF digits (`0`-`9`, `*`, `#`, `A`-`D`) to send as RFC 4733 events, after
    /// any still going out. Each takes the place of voice for 140 ms (a 100 ms tone and its
    /// three end packets), with 20 ms of voice between digits; see [`crate::dtmf`].
    pub fn queue_dtmf(&mut self, digits: &str) -> Result<(), MediaError> {
        let events = crate::dtmf::parse_digits(digits)?;
        self.dtmf_out
            .as_mut()
            .ok_or(MediaError::DtmfNotNegotiated)?
            .queue(&events);
        Ok(())
    }

    /// True while DTMF digits are being sent or wait to be.
    pub fn dtmf_pending(&self) -> bool {
        self.dtmf_out.as_ref().is_some_and(DtmfSender::is_busy)
    }

    /// The next DTMF digit received from the far end, oldest first.
    pub fn poll_dtmf(&mut self) -> Option<char> {
        self.heard.pop_front()
    }

    /// What offer/answer agreed.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Counters so far.
    pub fn stats(&self) -> MediaStats {
        let jitter = self.jitter.stats();
        MediaStats {
            frames_skipped: jitter.skipped,
            packets_late: jitter.late,
            jitter_delay_ms: jitter.target_delay.as_millis() as u64,
            ..self.stats
        }
    }

    /// Encodes one 20 ms frame ([`FRAME_SAMPLES`] samples at 48 kHz, mono) into an RTP
    /// datagram to send.
    ///
    /// While a DTMF event is being sent (see [`MediaSession::queue_dtmf`]) the frame is not
    /// encoded: the datagram carries the event instead, so the voice pauses.
    pub fn send_frame(&mut self, pcm: &[i16]) -> Result<Vec<u8>, MediaError> {
        let event = match (self.dtmf_out.as_mut(), self.negotiated.telephone_event) {
            (Some(sender), Some(pt)) => match sender.next_frame() {
                DtmfFrame::Event { payload, first } => Some((pt, payload, first)),
                DtmfFrame::Voice => None,
            },
            _ => None,
        };
        let (payload_type, marker, timestamp, payload) = match event {
            Some((pt, payload, first)) => {
                if first {
                    self.dtmf_timestamp = self.timestamp;
                }
                self.talkspurt = true;
                (pt, first, self.dtmf_timestamp, payload.to_bytes().to_vec())
            }
            None => {
                // The first packet of the stream starts a talk spurt (RFC 3551 §4.1), and so
                // does the first after an event.
                let marker = !self.sent_first || self.talkspurt;
                self.talkspurt = false;
                let voice = self.encoder.encode(pcm)?;
                (self.negotiated.payload_type, marker, self.timestamp, voice)
            }
        };
        let packet = rtp::packet::Packet {
            header: rtp::header::Header {
                version: 2,
                marker,
                payload_type,
                sequence_number: self.seq,
                timestamp,
                ssrc: self.ssrc,
                ..rtp::header::Header::default()
            },
            payload: Bytes::from(payload),
        };
        let datagram = packet
            .marshal()
            .map_err(|e| MediaError::Codec(format!("RTP: {e}")))?;
        self.sent_first = true;
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self
            .timestamp
            .wrapping_add(self.negotiated.codec.clock_rate() / 50);
        self.stats.packets_sent += 1;
        Ok(datagram.to_vec())
    }

    /// Lets one frame period pass without sending (on hold, or the far end does not receive):
    /// the RTP clock keeps pace with real time (RFC 3550 §5.1), so the next packet's
    /// timestamp shows the gap, and it starts a talk spurt. Queued DTMF is dropped: a digit
    /// typed on hold must not go out when the call resumes.
    pub fn skip_frame(&mut self) {
        self.timestamp = self
            .timestamp
            .wrapping_add(self.negotiated.codec.clock_rate() / 50);
        self.talkspurt = true;
        if self.dtmf_out.as_ref().is_some_and(DtmfSender::is_busy) {
            self.dtmf_out = dtmf_sender(&self.negotiated);
        }
    }

    /// Takes one datagram that arrived at `now`. Returns true when it was RTP of our
    /// stream (so the engine may latch the far end's address: symmetric RTP, RFC 4961).
    /// Telephone-events of the agreed type are decoded (see [`MediaSession::poll_dtmf`]);
    /// anything else — garbage, RTCP, other payload types — is ignored.
    pub fn receive(&mut self, datagram: &[u8], now: Instant) -> bool {
        let mut buf = datagram;
        let Ok(packet) = rtp::packet::Packet::unmarshal(&mut buf) else {
            self.stats.packets_ignored += 1;
            return false;
        };
        let header = &packet.header;
        if header.version == 2 && Some(header.payload_type) == self.negotiated.telephone_event {
            let digits = self.dtmf_in.receive(header.timestamp, &packet.payload);
            self.heard.extend(digits);
            return true;
        }
        if header.version != 2 || header.payload_type != self.negotiated.payload_type {
            self.stats.packets_ignored += 1;
            return false;
        }
        if self.remote_ssrc != Some(header.ssrc) {
            // A new source (first packet, or the far end restarted its stream): start over.
            if self.remote_ssrc.is_some() {
                self.jitter = JitterBuffer::new(JitterConfig {
                    clock_rate: self.negotiated.codec.clock_rate(),
                    ..JitterConfig::default()
                });
            }
            self.remote_ssrc = Some(header.ssrc);
        }
        self.stats.packets_received += 1;
        self.jitter.push(
            Packet {
                seq: header.sequence_number,
                timestamp: header.timestamp,
                marker: header.marker,
                payload: packet.payload,
            },
            now,
        );
        true
    }

    /// The next 20 ms to play ([`FRAME_SAMPLES`] samples at 48 kHz, mono). Call once per
    /// frame period.
    pub fn playout(&mut self, now: Instant) -> Vec<i16> {
        let playout = self.jitter.pop(now);
        if matches!(playout, Playout::Conceal { .. }) {
            self.stats.frames_concealed += 1;
        }
        if let Some(expected) = self.fec_plan.on_frame_played(self.stats.frames_concealed)
            && let Encoder::Opus(encoder) = &mut self.encoder
        {
            // A refused setting leaves the previous plan in force: worth a log, not the call.
            let _ = encoder.set_packet_loss_perc(expected);
        }
        self.decoder.decode(playout)
    }
}

/// A DTMF sender when a telephone-event type was agreed (it shares the codec's clock:
/// offer/answer only pairs them at the same rate).
fn dtmf_sender(negotiated: &Negotiated) -> Option<DtmfSender> {
    negotiated
        .telephone_event
        .map(|_| DtmfSender::new(negotiated.codec.clock_rate()))
}

/// Converts 20 ms frames between two rates with rubato's FFT resampler.
struct RateConverter {
    resampler: FftFixedInOut<f32>,
    input: Vec<Vec<f32>>,
}

impl RateConverter {
    fn new(from: u32, to: u32) -> Result<Self, MediaError> {
        let frame = (from / 50) as usize;
        let resampler = FftFixedInOut::new(from as usize, to as usize, frame, 1)
            .map_err(|e| MediaError::Codec(format!("resampler: {e}")))?;
        Ok(Self {
            resampler,
            input: vec![Vec::with_capacity(frame)],
        })
    }

    fn process(&mut self, pcm: &[i16]) -> Vec<i16> {
        let wanted = self.resampler.input_frames_next();
        let input = &mut self.input[0];
        input.clear();
        input.extend(pcm.iter().map(|&s| f32::from(s) / 32768.0));
        input.resize(wanted, 0.0);
        match self.resampler.process(&self.input, None) {
            Ok(mut out) => out
                .pop()
                .unwrap_or_default()
                .into_iter()
                .map(to_i16)
                .collect(),
            Err(_) => vec![0; self.resampler.output_frames_next()],
        }
    }
}

fn to_i16(sample: f32) -> i16 {
    (sample * 32768.0).clamp(-32768.0, 32767.0) as i16
}

enum Encoder {
    Opus(Box<opus::Encoder>),
    G711 {
        law: CodecKind,
        down: Box<RateConverter>,
    },
}

impl Encoder {
    fn new(codec: CodecKind) -> Result<Self, MediaError> {
        let opus_error = |e: opus::Error| MediaError::Codec(format!("Opus encoder: {e}"));
        match codec {
            CodecKind::Opus => {
                let mut enc =
                    opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
                        .map_err(opus_error)?;
                enc.set_bitrate(opus::Bitrate::Bits(OPUS_BITRATE))
                    .map_err(opus_error)?;
                enc.set_inband_fec(true).map_err(opus_error)?;
                enc.set_packet_loss_perc(fec_plan::INITIAL_EXPECTED_LOSS_PERCENT)
                    .map_err(opus_error)?;
                Ok(Encoder::Opus(Box::new(enc)))
            }
            law => Ok(Encoder::G711 {
                law,
                down: Box::new(RateConverter::new(SAMPLE_RATE, law.clock_rate())?),
            }),
        }
    }

    fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, MediaError> {
        let mut frame = [0i16; FRAME_SAMPLES];
        let n = pcm.len().min(FRAME_SAMPLES);
        frame[..n].copy_from_slice(&pcm[..n]);
        match self {
            Encoder::Opus(enc) => enc
                .encode_vec(&frame, 1500)
                .map_err(|e| MediaError::Codec(format!("Opus encode: {e}"))),
            Encoder::G711 { law, down } => {
                let narrow = down.process(&frame);
                Ok(match law {
                    CodecKind::Pcma => narrow.iter().map(|&s| g711::linear_to_alaw(s)).collect(),
                    _ => narrow.iter().map(|&s| g711::linear_to_ulaw(s)).collect(),
                })
            }
        }
    }
}

enum Decoder {
    Opus(Box<opus::Decoder>),
    G711 {
        law: CodecKind,
        up: Box<RateConverter>,
        /// The last frame played (8 kHz), repeated with a fade to conceal a loss.
        last: Vec<i16>,
        gain: f32,
    },
}

impl Decoder {
    fn new(codec: CodecKind) -> Result<Self, MediaError> {
        match codec {
            CodecKind::Opus => opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)
                .map(|d| Decoder::Opus(Box::new(d)))
                .map_err(|e| MediaError::Codec(format!("Opus decoder: {e}"))),
            law => Ok(Decoder::G711 {
                law,
                up: Box::new(RateConverter::new(law.clock_rate(), SAMPLE_RATE)?),
                last: Vec::new(),
                gain: 1.0,
            }),
        }
    }

    fn decode(&mut self, playout: Playout<Bytes>) -> Vec<i16> {
        let mut out = vec![0i16; FRAME_SAMPLES];
        match self {
            Decoder::Opus(dec) => {
                let mut pcm = [0i16; 5760];
                let decoded = match &playout {
                    Playout::Frame(payload) => dec.decode(payload, &mut pcm, false),
                    // The next packet carries this frame's FEC (RFC 7587 §3.3); decode it
                    // with exactly one frame's room so libopus rebuilds only the lost one.
                    Playout::Conceal {
                        fec_source: Some(next),
                    } => dec.decode(next, &mut pcm[..FRAME_SAMPLES], true),
                    Playout::Conceal { fec_source: None } => {
                        dec.decode(&[], &mut pcm[..FRAME_SAMPLES], false)
                    }
                    Playout::Silence => return out,
                };
                if let Ok(n) = decoded {
                    let n = n.min(FRAME_SAMPLES);
                    out[..n].copy_from_slice(&pcm[..n]);
                }
                out
            }
            Decoder::G711 {
                law,
                up,
                last,
                gain,
            } => {
                let narrow: Vec<i16> = match playout {
                    Playout::Frame(payload) => {
                        *gain = 1.0;
                        *last = payload
                            .iter()
                            .map(|&b| match law {
                                CodecKind::Pcma => g711::alaw_to_linear(b),
                                _ => g711::ulaw_to_linear(b),
                            })
                            .collect();
                        last.clone()
                    }
                    Playout::Conceal { .. } => {
                        *gain *= G711_CONCEAL_FADE;
                        let g = *gain;
                        last.iter().map(|&s| (f32::from(s) * g) as i16).collect()
                    }
                    Playout::Silence => Vec::new(),
                };
                let wide = up.process(&narrow);
                let n = wide.len().min(FRAME_SAMPLES);
                out[..n].copy_from_slice(&wide[..n]);
                out
            }
        }
    }
}

#[cfg(test)]
mod tests;
