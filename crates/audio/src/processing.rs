//! Voice processing on the microphone path: echo cancellation (WebRTC's AEC3), noise
//! suppression and automatic gain (AGC2), through `sonora`, a pure-Rust port of WebRTC's
//! audio processing module (no system library, so it builds offline on every platform).

use sonora::config::{EchoCanceller, GainController2, HighPassFilter, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};

use crate::SAMPLE_RATE;

/// The processor works on 10 ms blocks; a pipeline frame is two of them.
const BLOCK_SAMPLES: usize = SAMPLE_RATE as usize / 100;

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
pub struct VoiceProcessor {
    apm: Option<AudioProcessing>,
    block: [i16; BLOCK_SAMPLES],
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
                    echo_canceller: config.echo_cancellation.then(EchoCanceller::default),
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
        Self {
            apm,
            block: [0; BLOCK_SAMPLES],
        }
    }

    /// Feeds a frame the speaker is about to play (the echo reference). Call it for every
    /// frame played, before the microphone frames that may contain its echo.
    pub fn analyze_speaker_frame(&mut self, frame: &[i16]) {
        let Some(apm) = self.apm.as_mut() else {
            return;
        };
        for block in frame.chunks_exact(BLOCK_SAMPLES) {
            // The render side is analysed, not changed: the output copy is discarded.
            let _ = apm.process_render_i16(block, &mut self.block);
        }
    }

    /// Processes a microphone frame in place. Frames are processed in 10 ms blocks; a tail
    /// shorter than a block (not a pipeline frame) is left as it is.
    pub fn process_microphone_frame(&mut self, frame: &mut [i16]) {
        let Some(apm) = self.apm.as_mut() else {
            return;
        };
        for block in frame.chunks_exact_mut(BLOCK_SAMPLES) {
            if apm.process_capture_i16(block, &mut self.block).is_ok() {
                block.copy_from_slice(&self.block);
            }
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
