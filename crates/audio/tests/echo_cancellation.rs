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

    let (cleaned, reported) = run(&echo_cancellation_only(), &speaker, &microphone);
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

/// How the near end's speech came through, over the frames in `seconds` where it talks:
/// (overall level change, the level change of the 10 % worst frames, of the median frame), in
/// dB.
fn near_end_kept(
    near: &[i16],
    processed: &[i16],
    seconds: std::ops::Range<f64>,
) -> (f64, f64, f64) {
    let at = |s: f64| (s * f64::from(SAMPLE_RATE)) as usize / FRAME_SAMPLES * FRAME_SAMPLES;
    let span = at(seconds.start)..at(seconds.end).min(near.len() - FRAME_SAMPLES);
    // The processing delays the signal a few ms (band splitting, blocks): compare the near
    // end with the output where it comes out, found as the best-correlated lag.
    let lag = (0..FRAME_SAMPLES)
        .max_by(|&a, &b| {
            let correlation = |lag: usize| -> f64 {
                // One second tells the lag; more only costs time in debug builds.
                near[span.start..span.end.min(span.start + SAMPLE_RATE as usize)]
                    .iter()
                    .zip(&processed[span.start + lag..])
                    .map(|(&x, &y)| f64::from(x) * f64::from(y))
                    .sum()
            };
            correlation(a).total_cmp(&correlation(b))
        })
        .unwrap_or(0);
    let (mut before, mut after) = (0.0, 0.0);
    let mut frames = Vec::new();
    for (spoken, sent) in near[span.clone()]
        .chunks(FRAME_SAMPLES)
        .zip(processed[span.start + lag..span.end + lag].chunks(FRAME_SAMPLES))
    {
        if energy(spoken) / FRAME_SAMPLES as f64 > 300.0f64.powi(2) {
            before += energy(spoken);
            after += energy(sent);
            frames.push(10.0 * (energy(sent).max(1.0) / energy(spoken)).log10());
        }
    }
    frames.sort_by(f64::total_cmp);
    let worst = frames[frames.len() / 10];
    let median = frames[frames.len() / 2];
    (10.0 * (after.max(1.0) / before).log10(), worst, median)
}

/// The near end talks only inside `windows` (seconds).
fn talking_during(voice: &[f32], windows: &[std::ops::Range<f32>]) -> Vec<f32> {
    voice
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let t = i as f32 / SAMPLE_RATE as f32;
            if windows.iter().any(|w| w.contains(&t)) {
                s
            } else {
                0.0
            }
        })
        .collect()
}

/// Both ends talk and nothing echoes (a headset): the speaker's far end, the near end's
/// voice, and the microphone (that voice plus a little noise).
fn double_talk_without_echo() -> (Vec<i16>, Vec<i16>, Vec<i16>) {
    let far = talker(SECONDS, 120.0, 4.0, 0.5);
    let near = talker(SECONDS, 210.0, 3.0, 0.3);
    let microphone: Vec<f32> = near
        .iter()
        .zip(noise(near.len()))
        .map(|(v, n)| v + n)
        .collect();
    (pcm(&far), pcm(&near), pcm(&microphone))
}

fn echo_cancellation_only() -> ProcessingConfig {
    ProcessingConfig {
        echo_cancellation: true,
        noise_suppression: false,
        automatic_gain: false,
    }
}

#[test]
fn near_end_speech_survives_a_talking_far_end_when_there_is_no_echo() {
    // A headset, or a speaker the microphone cannot hear: both ends talk, nothing echoes.
    // AEC3 cannot tell "no echo" from "echo not found yet" at first; it must find out
    // within ~3 s of far-end speech and then pass the near end untouched.
    let (speaker, near, microphone) = double_talk_without_echo();

    let (cleaned, _) = run(&echo_cancellation_only(), &speaker, &microphone);
    let (start, _, _) = near_end_kept(&near, &cleaned, 0.5..3.0);
    let (kept, worst, _) = near_end_kept(&near, &cleaned, 3.0..SECONDS as f64);
    eprintln!(
        "no echo, both talk: near end {start:.1} dB in 0.5-3 s; {kept:.1} dB after 3 s \
         (worst 10 % of frames {worst:.1} dB)"
    );
    assert!(kept > -1.0, "near end attenuated by {:.1} dB", -kept);
    assert!(worst > -3.0, "near end gated: worst frames {worst:.1} dB");

    // The full chain changes the level (gain control) but must not gate the voice.
    let (cleaned, _) = run(&ProcessingConfig::default(), &speaker, &microphone);
    let (_, worst, _) = near_end_kept(&near, &cleaned, 3.0..SECONDS as f64);
    eprintln!("no echo, both talk, full chain: worst 10 % of frames {worst:.1} dB");
    assert!(worst > -3.0, "near end gated: worst frames {worst:.1} dB");
}

/// Like [`run`], with the call task's timing: one speaker frame per 20 ms tick, while the
/// microphone delivers in bursts (`per_tick` frames at each tick, cycling; the same total).
fn run_jittery(speaker: &[i16], microphone: &[i16], per_tick: &[usize]) -> Vec<i16> {
    let mut processor = VoiceProcessor::new(&echo_cancellation_only());
    let mut heard = microphone.chunks_exact(FRAME_SAMPLES);
    let mut out = Vec::with_capacity(microphone.len());
    for (tick, played) in speaker.chunks_exact(FRAME_SAMPLES).enumerate() {
        for frame in heard.by_ref().take(per_tick[tick % per_tick.len()]) {
            let mut frame = frame.to_vec();
            processor.process_microphone_frame(&mut frame);
            out.extend_from_slice(&frame);
        }
        processor.analyze_speaker_frame(played);
    }
    for frame in heard {
        let mut frame = frame.to_vec();
        processor.process_microphone_frame(&mut frame);
        out.extend_from_slice(&frame);
    }
    out
}

#[test]
fn double_talk_keeps_the_near_end_while_the_echo_goes() {
    // A laptop's speaker and microphone: the far end talks throughout and echoes; the near end
    // talks over it from 5 to 8 s and from 10 s on.
    let far = talker(SECONDS, 120.0, 4.0, 0.5);
    let near = talking_during(&talker(SECONDS, 210.0, 3.0, 0.3), &[5.0..8.0, 10.0..99.0]);
    let microphone: Vec<f32> = echo_of(&far)
        .iter()
        .zip(&near)
        .zip(noise(far.len()))
        .map(|((e, v), n)| e + v + n)
        .collect();
    let (speaker, near, microphone) = (pcm(&far), pcm(&near), pcm(&microphone));
    let echo_only = |x: &[i16]| {
        let mut x = x.to_vec();
        for (frame, spoken) in x.chunks_mut(FRAME_SAMPLES).zip(near.chunks(FRAME_SAMPLES)) {
            if energy(spoken) > 0.0 {
                frame.fill(0);
            }
        }
        x
    };

    for (name, cleaned) in [
        (
            "in step",
            run(&echo_cancellation_only(), &speaker, &microphone).0,
        ),
        // The microphone's frames come in bursts of 0-2 per tick.
        (
            "bursty",
            run_jittery(&speaker, &microphone, &[1, 0, 2, 1, 0, 2, 1, 1]),
        ),
    ] {
        let (kept, worst, median) = near_end_kept(&near, &cleaned, 5.0..SECONDS as f64);
        let erle = erle_db(&speaker, &echo_only(&microphone), &echo_only(&cleaned));
        eprintln!(
            "double talk ({name}): near end {kept:.1} dB (median frame {median:.1} dB, worst \
             10 % {worst:.1} dB); echo alone: ERLE {erle:.1} dB"
        );
        assert!(kept.abs() < 3.0, "{name}: near end changed by {kept:.1} dB");
        // AEC3's suppressor still clips the quiet starts of syllables that the echo covers
        // (the worst 10 % of frames lose 20-30 dB); the body of the speech must pass.
        assert!(
            median > -3.0,
            "{name}: near end gated: median frame {median:.1} dB"
        );
        assert!(erle > 20.0, "{name}: ERLE {erle:.1} dB");
    }
}

#[test]
fn near_end_speech_survives_bursty_timing_with_no_echo() {
    // The call task's timing (speaker frames at each tick, microphone frames in bursts) must
    // not look like echo path changes, each of which makes AEC3 relearn and suppress again.
    let (speaker, near, microphone) = double_talk_without_echo();
    for per_tick in [&[1, 0, 2, 1, 0, 2, 1, 1][..], &[0, 0, 0, 4], &[2, 0]] {
        let cleaned = run_jittery(&speaker, &microphone, per_tick);
        let (kept, worst, _) = near_end_kept(&near, &cleaned, 3.0..SECONDS as f64);
        eprintln!("no echo, bursts {per_tick:?}: near end {kept:.1} dB (worst {worst:.1} dB)");
        assert!(kept > -1.0, "near end attenuated by {:.1} dB", -kept);
        assert!(worst > -3.0, "near end gated: worst frames {worst:.1} dB");
    }
}
