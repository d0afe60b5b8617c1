//! Playing a WAV file on a sound device in real time (a voicemail message, a greeting),
//! off the audio thread: the caller's thread feeds the speaker frame by frame.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::{AudioControls, AudioError, FRAME_SAMPLES, SAMPLE_RATE, Speaker, WavSource};

/// How far ahead of real time frames are queued: enough to ride out a scheduling hiccup,
/// well inside the speaker's ~100 ms ring.
const LEAD_FRAMES: u32 = 2;

/// What a playback did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Played {
    /// Seconds of audio played.
    pub seconds: f64,
    /// True when `stop` ended it before the end of the file.
    pub stopped: bool,
    /// Times the device ran dry (a sign of an overloaded machine).
    pub underruns: u64,
}

/// Plays `path` on `device` (the system default with `None`) from `from` into the file,
/// until its end or until `stop` is set. Blocks for the length of the audio.
pub fn play_file(
    path: &Path,
    from: Duration,
    device: Option<&str>,
    controls: &AudioControls,
    stop: &AtomicBool,
) -> Result<Played, AudioError> {
    let mut source = WavSource::open(path)?;
    let mut speaker = Speaker::open(device, controls)?;
    let frame = Duration::from_micros(FRAME_SAMPLES as u64 * 1_000_000 / u64::from(SAMPLE_RATE));
    let skip = (from.as_micros() / frame.as_micros().max(1)) as usize;
    for _ in 0..skip.min(source.duration_frames()) {
        source.next_frame();
    }
    let start = Instant::now();
    let mut played: u32 = 0;
    let mut stopped = false;
    while let Some(samples) = source.next_frame() {
        if stop.load(Ordering::Relaxed) {
            stopped = true;
            break;
        }
        if speaker.has_failed() {
            return Err(AudioError::Host(
                "the sound device stopped while playing".into(),
            ));
        }
        speaker.write_frame(&samples);
        played += 1;
        let due = frame * played.saturating_sub(LEAD_FRAMES);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    if !stopped {
        // Let what is queued reach the device before the stream closes.
        std::thread::sleep(frame * (LEAD_FRAMES + 1));
    }
    Ok(Played {
        seconds: f64::from(played) * frame.as_secs_f64(),
        stopped,
        underruns: speaker.underruns(),
    })
}
