//! Echo cancellation measured: speech-like audio goes to the speaker reference, an attenuated,
//! delayed and reflected copy of it (a room) comes back into the microphone, and the
//! processed microphone must be far quieter (ERLE, echo return loss enhancement, in dB).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::talker;
use sidetone_audio::{FRAME_SAMPLES, ProcessingConfig, SAMPLE_RATE, VoiceProcessor};

const SECONDS: usize = 12;

/// The room: the direct path 60 ms late at -10 dB and two weaker reflections.
fn echo_of(speaker: &[f32]) -> Vec<f32> {
    let ms = |m: usize| m * SAMPLE_RATE as usize / 1000;
    let taps = [(ms(60), 0.32), (ms(67), 0.12), (ms(81), 0.05)];
    (0..speaker.len())
        .map(|i| {
            taps.iter()
                .filter(|(delay, _)| i >= *delay)
                .map(|(delay, gain)| gain * speaker[i - delay])
                .sum()
        })
        .collect()
}

/// A little noise, so the microphone is never digitally silent (-70 dBFS).
fn noise(len: usize) -> Vec<f32> {
    let mut state = 0x1234_5678u32;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32 - 0.5) * 0.001
        })
        .collect()
}

fn pcm(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|&s| (s * 32768.0).clamp(-32768.0, 32767.0) as i16)
        .collect()
}

fn energy(x: &[i16]) -> f64 {
    x.iter().map(|&s| f64::from(s).powi(2)).sum()
}

/// Runs the call: speaker frames into the processor's reference, microphone frames through
/// it. Returns the processed microphone.
fn run(config: &ProcessingConfig, speaker: &[i16], microphone: &[i16]) -> (Vec<i16>, Option<f64>) {
    let mut processor = VoiceProcessor::new(config);
    let mut out = Vec::with_capacity(microphone.len());
    for (played, heard) in speaker
        .chunks_exact(FRAME_SAMPLES)
        .zip(microphone.chunks_exact(FRAME_SAMPLES))
    {
        processor.analyze_speaker_frame(played);
        let mut frame = heard.to_vec();
        processor.process_microphone_frame(&mut frame);
        out.extend_from_slice(&frame);
    }
    (out, processor.echo_return_loss_enhancement_db())
}

/// ERLE over the second half (the canceller has converged), counting only frames where the
/// far end talks.
fn erle_db(speaker: &[i16], microphone: &[i16], processed: &[i16]) -> f64 {
    let half = speaker.len() / 2;
    let (mut before, mut after) = (0.0, 0.0);
    for ((played, heard), cleaned) in speaker[half..]
        .chunks(FRAME_SAMPLES)
        .zip(microphone[half..].chunks(FRAME_SAMPLES))
        .zip(processed[half..].chunks(FRAME_SAMPLES))
    {
        if energy(played) / FRAME_SAMPLES as f64 > 300.0f64.powi(2) {
            before += energy(heard);
            after += energy(cleaned);
        }
    }
    10.0 * (before / after.max(1.0)).log10()
}

#[test]
fn echo_canceller_removes_the_speakers_echo_from_the_microphone() {
    let far = talker(SECONDS, 120.0, 4.0, 0.5);
    let echo = echo_of(&far);
    let noise = noise(far.len());
    let microphone: Vec<f32> = echo.iter().zip(&noise).map(|(e, n)| e + n).collect();
    let (speaker, microphone) = (pcm(&far), pcm(&microphone));

    let echo_only = ProcessingConfig {
        echo_cancellation: true,
        noise_suppression: false,
        automatic_gain: false,
    };
    let (cleaned, reported) = run(&echo_only, &speaker, &microphone);
    let erle = erle_db(&speaker, &microphone, &cleaned);
    eprintln!("echo cancellation only: ERLE {erle:.1} dB (canceller's own estimate {reported:?})");
    assert!(erle > 20.0, "ERLE {erle:.1} dB");

    // Without processing nothing is removed: the measurement itself is sound.
    let (untouched, _) = run(&ProcessingConfig::off(), &speaker, &microphone);
    assert_eq!(untouched, microphone);
    assert!(erle_db(&speaker, &microphone, &untouched).abs() < 0.01);

    // The full chain (with noise suppression and gain) still removes the echo: the gain
    // control must not lift the residual back up.
    let (cleaned, _) = run(&ProcessingConfig::default(), &speaker, &microphone);
    let erle_all = erle_db(&speaker, &microphone, &cleaned);
    eprintln!("full chain: ERLE {erle_all:.1} dB");
    assert!(erle_all > 15.0, "ERLE {erle_all:.1} dB");
}

#[test]
fn near_end_speech_survives_while_the_far_end_is_silent() {
    // Only the near end talks: the processor must pass the voice through, not suppress it.
    let near = pcm(&talker(SECONDS, 210.0, 3.0, 0.3));
    let speaker = vec![0i16; near.len()];
    let echo_only = ProcessingConfig {
        echo_cancellation: true,
        noise_suppression: false,
        automatic_gain: false,
    };
    let (cleaned, _) = run(&echo_only, &speaker, &near);
    let half = near.len() / 2;
    let kept_db = 10.0 * (energy(&cleaned[half..]) / energy(&near[half..])).log10();
    eprintln!("near end alone: level change {kept_db:.1} dB");
    assert!(
        kept_db.abs() < 3.0,
        "near-end level changed by {kept_db:.1} dB"
    );
}
