//! Voice processing on the microphone path: echo cancellation (WebRTC's AEC3), noise
//! suppression and automatic gain (AGC2), through `sonora`, a pure-Rust port of WebRTC's
//! audio processing module (no system library, so it builds offline on every platform).

use std::collections::VecDeque;

use sonora::config::{
    EchoCanceller, GainController2, HighPassFilter, NoiseSuppression, TransparentModeType,
};
use sonora::{AudioProcessing, Config, StreamConfig};

use crate::{FRAME_SAMPLES, SAMPLE_RATE};

/// The processor works on 10 ms blocks; a pipeline frame is two of them.
const BLOCK_SAMPLES: usize = SAMPLE_RATE as usize / 100;
/// Speaker audio queued ahead of the microphone beyond this is analysed at once rather than in
/// step: the speaker got this far ahead for good (clock drift), not for a moment (jitter).
const MAX_REFERENCE_LEAD: usize = 5 * FRAME_SAMPLES;
/// Speaker audio the queue holds at most (half a second): a microphone that stops being read
/// must not make it grow; the oldest is dropped.
const REFERENCE_CAPACITY: usize = SAMPLE_RATE as usize / 2;

/// Which processing a call's microphone gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingConfig {
    /// Remove the far end's voice that the microphone picks up from the speaker.
    pub echo_cancellation: bool,
    /// Reduce steady background noise (fans, hum, street).
    pub noise_suppression: bool,
    /// Bring a quiet or loud talker to a steady level.
    pub automatic_gain: bool,
}

impl Default for ProcessingConfig {
    /// Everything on: what a softphone on a laptop needs.
    fn default() -> Self {
        Self {
            echo_cancellation: true,
            noise_suppression: true,
            automatic_gain: true,
        }
    }
}

impl ProcessingConfig {
    /// No processing (e.g. a headset with its own, or measurements).
    pub fn off() -> Self {
        Self {
            echo_cancellation: false,
            noise_suppression: false,
            automatic_gain: false,
        }
    }

    fn is_off(&self) -> bool {
        *self == Self::off()
    }
}

/// Cleans microphone frames using what the speaker plays as the echo reference. Works on the
/// pipeline's 48 kHz mono frames; not realtime-bound (it runs in the microphone's reader).
///
/// Speaker frames are queued and analysed in step with the microphone: one speaker frame (or
/// silence when none came) before each microphone frame. AEC3 takes any jump between the two
/// streams (a burst of speaker frames, a microphone frame with no speaker frame before it) for
/// an echo path change and starts over, suppressing the near end as if it were echo for
/// seconds; analysed in step, the offset between the streams stays put.
pub struct VoiceProcessor {
    apm: Option<AudioProcessing>,
    /// Only the echo canceller uses the speaker's audio: without it none is queued or
    /// analysed.
    cancels_echo: bool,
    block: [i16; BLOCK_SAMPLES],
    /// Speaker audio not analysed yet, oldest first.
    reference: VecDeque<i16>,
    /// One speaker frame, taken from `reference` (silence when it ran dry).
    reference_frame: [i16; FRAME_SAMPLES],
}

impl std::fmt::Debug for VoiceProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceProcessor")
            .field("active", &self.apm.is_some())
            .finish()
    }
}

impl VoiceProcessor {
    /// A processor doing what `config` asks (nothing at all with [`ProcessingConfig::off`]).
    pub fn new(config: &ProcessingConfig) -> Self {
        let apm = (!config.is_off()).then(|| {
            let stream = StreamConfig::new(SAMPLE_RATE, 1);
            let mut apm = AudioProcessing::builder()
                .config(Config {
                    // Removes rumble and DC that would waste the other stages' effort.
                    high_pass_filter: Some(HighPassFilter::default()),
                    // The HMM detector decides "no echo here" (a headset, a speaker the
                    // microphone cannot hear) after ~2 s of far-end speech the filter cannot
                    // model; the legacy one needs 6 s and forgets at every echo path change.
                    // Until it decides, AEC3 treats the far end as 0 dB echo and suppresses
                    // the near end whenever the far end talks louder.
                    echo_canceller: config.echo_cancellation.then(|| EchoCanceller {
                        transparent_mode: TransparentModeType::Hmm,
                        ..Default::default()
                    }),
                    noise_suppression: config.noise_suppression.then(NoiseSuppression::default),
                    gain_controller2: config.automatic_gain.then(|| GainController2 {
                        adaptive_digital: Some(Default::default()),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .capture_config(stream)
                .render_config(stream)
                .build();
            // AEC3 finds the echo's delay itself; the API still wants a starting value.
            let _ = apm.set_stream_delay_ms(0);
            apm
        });
        let cancels_echo = apm.is_some() && config.echo_cancellation;
        let capacity = if cancels_echo { REFERENCE_CAPACITY } else { 0 };
        Self {
            apm,
            cancels_echo,
            block: [0; BLOCK_SAMPLES],
            reference: VecDeque::with_capacity(capacity),
            reference_frame: [0; FRAME_SAMPLES],
        }
    }

    /// Feeds a frame the speaker is about to play (the echo reference). Call it for every
    /// frame played, before the microphone frames that may contain its echo. It is queued and
    /// analysed in step with the microphone frames (see [`VoiceProcessor`]).
    pub fn analyze_speaker_frame(&mut self, frame: &[i16]) {
        if !self.cancels_echo {
            return;
        }
        let overflow = (self.reference.len() + frame.len()).saturating_sub(REFERENCE_CAPACITY);
        self.reference.drain(..overflow.min(self.reference.len()));
        let fresh = frame.len().min(REFERENCE_CAPACITY);
        self.reference.extend(&frame[frame.len() - fresh..]);
    }

    /// Forgets up to `samples` of the oldest queued speaker audio: the microphone skipped that
    /// much stale audio, so the speaker audio it would have been heard with goes too, keeping
    /// the two streams in step.
    pub fn skip_speaker_audio(&mut self, samples: usize) {
        self.reference.drain(..samples.min(self.reference.len()));
    }

    /// Processes a microphone frame in place. Frames are processed in 10 ms blocks; a tail
    /// shorter than a block (not a pipeline frame) is left as it is.
    pub fn process_microphone_frame(&mut self, frame: &mut [i16]) {
        if self.apm.is_none() {
            return;
        }
        self.analyze_reference_for(frame.len());
        let Some(apm) = self.apm.as_mut() else {
            return;
        };
        for block in frame.chunks_exact_mut(BLOCK_SAMPLES) {
            if apm.process_capture_i16(block, &mut self.block).is_ok() {
                block.copy_from_slice(&self.block);
            }
        }
    }

    /// Analyses as much queued speaker audio as the microphone frame of `len` samples covers
    /// (silence for what is missing: the speaker plays silence when nothing came), plus any
    /// lead beyond [`MAX_REFERENCE_LEAD`].
    fn analyze_reference_for(&mut self, len: usize) {
        let Some(apm) = self.apm.as_mut().filter(|_| self.cancels_echo) else {
            return;
        };
        let lead = self.reference.len().saturating_sub(len);
        let excess = lead.saturating_sub(MAX_REFERENCE_LEAD);
        // Whole blocks only: what is drained is analysed, nothing is lost in between.
        let due = len - len % BLOCK_SAMPLES + excess - excess % BLOCK_SAMPLES;
        let mut left = due;
        while left > 0 {
            let n = left.min(FRAME_SAMPLES);
            let frame = &mut self.reference_frame[..n];
            let available = n.min(self.reference.len());
            for (slot, sample) in frame.iter_mut().zip(self.reference.drain(..available)) {
                *slot = sample;
            }
            frame[available..].fill(0);
            for block in frame.chunks_exact(BLOCK_SAMPLES) {
                // The render side is analysed, not changed: the output copy is discarded.
                let _ = apm.process_render_i16(block, &mut self.block);
            }
            left -= n;
        }
    }

    /// The echo canceller's own estimate of how much echo it removes (ERLE), in dB, once it
    /// has one: for call quality statistics.
    pub fn echo_return_loss_enhancement_db(&self) -> Option<f64> {
        self.apm
            .as_ref()
            .and_then(|apm| apm.statistics().echo_return_loss_enhancement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_echo_cancellation_keeps_the_speakers_audio() {
        let frame = [1000i16; FRAME_SAMPLES];
        let no_echo = ProcessingConfig {
            echo_cancellation: false,
            ..ProcessingConfig::default()
        };
        let mut without = VoiceProcessor::new(&no_echo);
        without.analyze_speaker_frame(&frame);
        assert!(
            without.reference.is_empty(),
            "nothing to analyse without AEC"
        );
        let mut with = VoiceProcessor::new(&ProcessingConfig::default());
        with.analyze_speaker_frame(&frame);
        assert_eq!(with.reference.len(), FRAME_SAMPLES);
        // The microphone frame takes its speaker frame with it.
        let mut mic = [0i16; FRAME_SAMPLES];
        with.process_microphone_frame(&mut mic);
        assert!(with.reference.is_empty());
    }
}
