//! SDP offer/answer for one audio stream (RFC 3264 over RFC 4566 descriptions).
//!
//! Parsing and printing use webrtc-rs's `sdp` crate; the negotiation rules are ours:
//! we offer Opus 48000/2 with in-band FEC, PCMU, PCMA and telephone-event at 48 kHz and
//! 8 kHz; an answer keeps the first codec of the offer we also support (RFC 3264 §6.1),
//! plus the telephone-event of the same clock rate; directions are mirrored (§6.1).

use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

use sdp::SessionDescription;
use sdp::description::common::{Address, Attribute, ConnectionInformation};
use sdp::description::media::{MediaDescription, MediaName, RangedPort};
use sdp::description::session::{Origin, TimeDescription, Timing};

use crate::MediaError;
use crate::codec::CodecKind;

mod version;

pub use version::LocalSdp;

/// Payload type of telephone-event/48000 in our offers.
const TELEPHONE_EVENT_48K: u8 = 101;
/// Payload type of telephone-event/8000 in our offers.
const TELEPHONE_EVENT_8K: u8 = 100;
/// Our frame duration (`a=ptime`).
const PTIME_MS: u32 = 20;

/// Which way media flows, from the point of view of the side that wrote it (RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Both ways (the default when no attribute is present).
    #[default]
    SendRecv,
    /// The writer only sends.
    SendOnly,
    /// The writer only receives.
    RecvOnly,
    /// Neither (e.g. on hold by both).
    Inactive,
}

impl Direction {
    /// The attribute name (`sendrecv`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction the other side takes when answering this one.
    pub fn reversed(self) -> Self {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// True when the writer sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// True when the writer receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// What we can do: where we receive RTP and which codecs we accept, best first.
#[derive(Debug, Clone)]
pub struct LocalMedia {
    /// The address the far end sends RTP to (`c=`).
    pub address: IpAddr,
    /// The RTP port (`m=audio PORT`).
    pub port: u16,
    /// Codecs we offer or accept, in order of preference.
    pub codecs: Vec<CodecKind>,
    /// Which way we want media to flow.
    pub direction: Direction,
}

/// The outcome of offer/answer for the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The codec both sides use.
    pub codec: CodecKind,
    /// Its payload type in this session (the offerer's number).
    pub payload_type: u8,
    /// The telephone-event payload type of the same clock rate, when both support it.
    pub telephone_event: Option<u8>,
    /// Where to send RTP (the far end's `c=` and `m=` port).
    pub remote: SocketAddr,
    /// What we do: send, receive, both or neither.
    pub direction: Direction,
}

/// Writes our offer (origin version = `session_id`; see [`LocalSdp`] for later versions).
pub fn create_offer(local: &LocalMedia, session_id: u64) -> String {
    offer_at(local, session_id, session_id)
}

/// Writes an offer with the given `o=` session id and version.
fn offer_at(local: &LocalMedia, session_id: u64, version: u64) -> String {
    let mut media = audio_media(local.port);
    for codec in &local.codecs {
        media = with_codec(media, *codec, codec.default_payload_type());
    }
    let has_48k = local.codecs.iter().any(|c| c.clock_rate() == 48_000);
    let has_8k = local.codecs.iter().any(|c| c.clock_rate() == 8_000);
    if has_48k {
        media = media.with_codec(
            TELEPHONE_EVENT_48K,
            "telephone-event".into(),
            48_000,
            0,
            "0-16".into(),
        );
    }
    if has_8k {
        media = media.with_codec(
            TELEPHONE_EVENT_8K,
            "telephone-event".into(),
            8_000,
            0,
            "0-16".into(),
        );
    }
    finish(local, session_id, version, media).marshal()
}

/// Answers a far end's offer: returns our answer and what was agreed. Errs with
/// [`MediaError::NoCommonCodec`] (reply 488) or [`MediaError::BadRemoteSdp`] (reply 400/488).
pub fn create_answer(
    local: &LocalMedia,
    offer: &str,
    session_id: u64,
) -> Result<(String, Negotiated), MediaError> {
    answer_at(local, offer, session_id, session_id)
}

/// Answers with the given `o=` session id and version.
fn answer_at(
    local: &LocalMedia,
    offer: &str,
    session_id: u64,
    version: u64,
) -> Result<(String, Negotiated), MediaError> {
    let remote = parse(offer)?;
    let audio = RemoteAudio::find(&remote)?;
    let (codec, payload_type) = audio
        .codecs
        .iter()
        .find(|(codec, _)| local.codecs.contains(codec))
        .copied()
        .ok_or(MediaError::NoCommonCodec)?;
    let telephone_event = audio.telephone_event(codec.clock_rate());
    let direction = answer_direction(local.direction, audio.direction);
    let mut media = with_codec(audio_media(local.port), codec, payload_type);
    if let Some(pt) = telephone_event {
        media = media.with_codec(
            pt,
            "telephone-event".into(),
            codec.clock_rate(),
            0,
            "0-16".into(),
        );
    }
    let answer_local = LocalMedia {
        direction,
        ..local.clone()
    };
    let answer = finish(&answer_local, session_id, version, media).marshal();
    Ok((
        answer,
        Negotiated {
            codec,
            payload_type,
            telephone_event,
            remote: audio.remote,
            direction,
        },
    ))
}

/// Reads the far end's answer to our offer.
pub fn accept_answer(local: &LocalMedia, answer: &str) -> Result<Negotiated, MediaError> {
    let remote = parse(answer)?;
    let audio = RemoteAudio::find(&remote)?;
    // RFC 3264 §7: the answer's first codec is the one to send with; it must be one we offered.
    let (codec, payload_type) = audio
        .codecs
        .iter()
        .find(|(codec, _)| local.codecs.contains(codec))
        .copied()
        .ok_or(MediaError::NoCommonCodec)?;
    Ok(Negotiated {
        codec,
        payload_type,
        telephone_event: audio.telephone_event(codec.clock_rate()),
        remote: audio.remote,
        direction: answer_direction(local.direction, audio.direction),
    })
}

/// The direction the far end wrote for its audio stream (an offer or an answer). A
/// connection address of `0.0.0.0` is the pre-RFC 3264 way to say "do not send to me"
/// (RFC 3264 §8.4): it counts as not receiving.
pub fn remote_direction(sdp: &str) -> Result<Direction, MediaError> {
    let remote = parse(sdp)?;
    Ok(RemoteAudio::find(&remote)?.direction)
}

/// Our direction given what we want and what the far end wrote.
fn answer_direction(ours: Direction, theirs: Direction) -> Direction {
    let mirrored = theirs.reversed();
    let send = ours.sends() && mirrored.sends();
    let recv = ours.receives() && mirrored.receives();
    match (send, recv) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}

fn parse(text: &str) -> Result<SessionDescription, MediaError> {
    // The parser wants CRLF or LF line ends and a final line end.
    let mut text = text.to_owned();
    if !text.ends_with('\n') {
        text.push_str("\r\n");
    }
    SessionDescription::unmarshal(&mut Cursor::new(text.as_bytes()))
        .map_err(|e| MediaError::BadRemoteSdp(e.to_string()))
}

/// The audio stream of a far end's description.
struct RemoteAudio {
    remote: SocketAddr,
    /// Codecs we know, in the far end's order, with their payload types.
    codecs: Vec<(CodecKind, u8)>,
    /// `telephone-event` payload types with their clock rates.
    events: Vec<(u8, u32)>,
    direction: Direction,
}

impl RemoteAudio {
    fn find(session: &SessionDescription) -> Result<Self, MediaError> {
        let media = session
            .media_descriptions
            .iter()
            .find(|m| m.media_name.media == "audio")
            .ok_or_else(|| MediaError::BadRemoteSdp("no audio stream".into()))?;
        let port = u16::try_from(media.media_name.port.value)
            .map_err(|_| MediaError::BadRemoteSdp("bad audio port".into()))?;
        if port == 0 {
            return Err(MediaError::NoCommonCodec);
        }
        let connection = media
            .connection_information
            .as_ref()
            .or(session.connection_information.as_ref())
            .and_then(|c| c.address.as_ref())
            .ok_or_else(|| MediaError::BadRemoteSdp("no connection address (c=)".into()))?;
        let ip: IpAddr = connection.address.parse().map_err(|_| {
            MediaError::BadRemoteSdp(format!("unsupported address {}", connection.address))
        })?;
        let mut direction = direction_of(&media.attributes)
            .or_else(|| direction_of(&session.attributes))
            .unwrap_or_default();
        if ip.is_unspecified() {
            direction = match direction {
                Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
                Direction::RecvOnly | Direction::Inactive => Direction::Inactive,
            };
        }
        let mut codecs = Vec::new();
        let mut events = Vec::new();
        for format in &media.media_name.formats {
            let Ok(pt) = format.parse::<u8>() else {
                continue;
            };
            match rtpmap(media, pt) {
                Some((name, rate)) if name.eq_ignore_ascii_case("telephone-event") => {
                    events.push((pt, rate));
                }
                Some((name, rate)) => {
                    if let Some(codec) = CodecKind::ALL.into_iter().find(|c| {
                        c.encoding_name().eq_ignore_ascii_case(&name) && c.clock_rate() == rate
                    }) {
                        codecs.push((codec, pt));
                    }
                }
                // Static payload types need no rtpmap (RFC 3551 Table 4).
                None if pt == 0 => codecs.push((CodecKind::Pcmu, pt)),
                None if pt == 8 => codecs.push((CodecKind::Pcma, pt)),
                None => {}
            }
        }
        Ok(Self {
            remote: SocketAddr::new(ip, port),
            codecs,
            events,
            direction,
        })
    }

    fn telephone_event(&self, clock_rate: u32) -> Option<u8> {
        self.events
            .iter()
            .find(|(_, rate)| *rate == clock_rate)
            .map(|(pt, _)| *pt)
    }
}

fn direction_of(attributes: &[Attribute]) -> Option<Direction> {
    attributes.iter().find_map(|a| Direction::parse(&a.key))
}

/// `a=rtpmap:PT NAME/RATE[/CH]` → (NAME, RATE).
fn rtpmap(media: &MediaDescription, pt: u8) -> Option<(String, u32)> {
    let prefix = format!("{pt} ");
    media.attributes.iter().find_map(|a| {
        if a.key != "rtpmap" {
            return None;
        }
        let value = a.value.as_deref()?.strip_prefix(&prefix)?;
        let mut parts = value.trim().split('/');
        let name = parts.next()?.to_owned();
        let rate = parts.next()?.parse().ok()?;
        Some((name, rate))
    })
}

fn audio_media(port: u16) -> MediaDescription {
    MediaDescription {
        media_name: MediaName {
            media: "audio".into(),
            port: RangedPort {
                value: port as isize,
                range: None,
            },
            protos: vec!["RTP".into(), "AVP".into()],
            formats: Vec::new(),
        },
        media_title: None,
        connection_information: None,
        bandwidth: Vec::new(),
        encryption_key: None,
        attributes: Vec::new(),
    }
}

fn with_codec(media: MediaDescription, codec: CodecKind, pt: u8) -> MediaDescription {
    let fmtp = match codec {
        // RFC 7587 §6.1: we decode FEC and want the far end to send it; mono voice.
        CodecKind::Opus => "useinbandfec=1;stereo=0;sprop-stereo=0".to_owned(),
        CodecKind::Pcmu | CodecKind::Pcma => String::new(),
    };
    let channels = match codec {
        CodecKind::Opus => codec.rtpmap_channels(),
        // RFC 4566: the channel count may be omitted for one channel.
        CodecKind::Pcmu | CodecKind::Pcma => 0,
    };
    media.with_codec(
        pt,
        codec.encoding_name().into(),
        codec.clock_rate(),
        channels,
        fmtp,
    )
}

fn finish(
    local: &LocalMedia,
    session_id: u64,
    version: u64,
    media: MediaDescription,
) -> SessionDescription {
    let address_type = if local.address.is_ipv4() {
        "IP4"
    } else {
        "IP6"
    };
    let media = media
        .with_value_attribute("ptime".into(), PTIME_MS.to_string())
        .with_property_attribute(local.direction.as_str().into());
    SessionDescription {
        version: 0,
        origin: Origin {
            username: "-".into(),
            session_id,
            session_version: version,
            network_type: "IN".into(),
            address_type: address_type.into(),
            unicast_address: local.address.to_string(),
        },
        session_name: "Sidetone".into(),
        connection_information: Some(ConnectionInformation {
            network_type: "IN".into(),
            address_type: address_type.into(),
            address: Some(Address {
                address: local.address.to_string(),
                ttl: None,
                range: None,
            }),
        }),
        time_descriptions: vec![TimeDescription {
            timing: Timing {
                start_time: 0,
                stop_time: 0,
            },
            repeat_times: Vec::new(),
        }],
        media_descriptions: vec![media],
        ..SessionDescription::default()
    }
}

#[cfg(test)]
mod tests;
