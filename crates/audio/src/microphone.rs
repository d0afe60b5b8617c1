//! A sound device as a call's microphone: 20 ms frames of 48 kHz mono 16-bit PCM.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use cpal::traits::DeviceTrait;
use cpal::{FromSample, Sample};
use rtrb::{Consumer, Producer, RingBuffer};

use crate::controls::AudioControls;
use crate::device_format::{DeviceFormat, OPEN_TIMEOUT, is_fatal, stream_error, with_sample_type};
use crate::host::{Direction, audio_host, find_device};
use crate::pcm::to_i16;
use crate::processing::VoiceProcessor;
use crate::resample::StreamResampler;
use crate::stream_thread::StreamThread;
use crate::{AudioError, FRAME_SAMPLES, SAMPLE_RATE};

/// Captured audio waiting for the reader beyond this is stale: a reader that fell behind
/// skips ahead instead of adding delay to the call.
const MAX_BACKLOG_MS: u32 = 100;
/// What is kept when skipping ahead: two frames, so the next reads do not starve.
const KEEP_BACKLOG_MS: u32 = 40;
/// The capture ring holds this much, so a reader that stalls briefly loses nothing.
const RING_MS: u32 = 500;

/// A microphone (any input device, speaker monitors included) delivering the pipeline's
/// frames. `Send`, so a tokio task can own it; dropping it closes the device.
#[derive(Debug)]
pub struct Microphone {
    consumer: Consumer<f32>,
    resampler: StreamResampler,
    /// Device-rate samples taken from the ring, before conversion.
    scratch: Vec<f32>,
    /// Converted 48 kHz samples not yet read.
    pending: VecDeque<f32>,
    device_rate: u32,
    controls: AudioControls,
    failed: Arc<AtomicBool>,
    /// Device-rate samples lost: ring full (callback side) or stale audio skipped (ours).
    dropped: Arc<AtomicU64>,
    /// Echo cancellation and friends, with the speaker's frames as the echo reference when
    /// echo cancellation is on (nothing else needs them).
    processing: Option<(VoiceProcessor, Option<Consumer<i16>>)>,
    reference_frame: Vec<i16>,
    // Last: the stream stops when the handle goes, after the fields it feeds.
    _stream: StreamThread,
}

impl Microphone {
    /// Opens the input device `device` (an [`crate::AudioDevice::id`]), or the system default
    /// with `None`. Levels and mute go through `controls`.
    pub fn open(device: Option<&str>, controls: &AudioControls) -> Result<Self, AudioError> {
        let id = device.map(str::to_owned);
        let callback_controls = controls.clone();
        let failed = Arc::new(AtomicBool::new(false));
        let callback_failed = failed.clone();
        let dropped = Arc::new(AtomicU64::new(0));
        let callback_dropped = dropped.clone();
        let (stream, (consumer, device_rate)) =
            StreamThread::spawn("sidetone-microphone", move || {
                let host = audio_host()?;
                let device = find_device(&host, Direction::Input, id.as_deref())?;
                let format = DeviceFormat::of(&device, Direction::Input)?;
                let (producer, consumer) = RingBuffer::new((format.rate * RING_MS / 1000) as usize);
                let on_error = move |e: cpal::Error| {
                    if is_fatal(&e) {
                        callback_failed.store(true, Ordering::Relaxed);
                    }
                };
                let channels = usize::from(format.channels);
                let stream = with_sample_type!(format.sample_format, T => device
                .build_input_stream::<T, _, _>(
                    format.config(),
                    capture_callback::<T>(
                            producer,
                            channels,
                            format.rate,
                            callback_controls,
                            callback_dropped,
                        ),
                    on_error,
                    Some(OPEN_TIMEOUT),
                ))
                .map_err(|e| stream_error(&device, e))?;
                Ok((stream, (consumer, format.rate)))
            })?;
        Ok(Self {
            consumer,
            resampler: StreamResampler::new(device_rate, SAMPLE_RATE)?,
            scratch: Vec::with_capacity((device_rate * RING_MS / 1000) as usize),
            pending: VecDeque::with_capacity((SAMPLE_RATE * RING_MS / 1000) as usize),
            device_rate,
            controls: controls.clone(),
            failed,
            dropped,
            processing: None,
            reference_frame: vec![0; FRAME_SAMPLES],
            _stream: stream,
        })
    }

    /// Fills `out` (normally [`crate::FRAME_SAMPLES`] samples: 20 ms at 48 kHz mono) with the
    /// oldest captured audio not yet read and returns true, or returns false and leaves `out`
    /// alone when not that much has been captured yet. Silence while muted. Call it until it
    /// returns false to drain what arrived.
    pub fn read_frame(&mut self, out: &mut [i16]) -> bool {
        self.take_captured();
        if self.pending.len() < out.len() {
            return false;
        }
        let n = out.len();
        for (slot, sample) in out.iter_mut().zip(self.pending.drain(..n)) {
            *slot = to_i16(sample);
        }
        if let Some((processor, reference)) = self.processing.as_mut() {
            // Everything the speaker queued so far goes to the processor first: its echo can
            // only be in this frame or later ones. The processor analyses it in step with
            // the microphone frames.
            drain_reference(processor, reference, &mut self.reference_frame);
            // Processed even while muted, so the canceller stays adapted when unmuting.
            processor.process_microphone_frame(out);
        }
        if self.controls.is_muted() {
            out.fill(0);
        }
        true
    }

    /// Cleans every frame read from now on with `processor`, fed the speaker's frames that
    /// arrive through `reference` (`None` without echo cancellation).
    pub(crate) fn process_with(
        &mut self,
        processor: VoiceProcessor,
        reference: Option<Consumer<i16>>,
    ) {
        self.processing = Some((processor, reference));
    }

    /// The echo canceller's estimate of the echo it removes, in dB, when processing is on
    /// and it has converged: for call quality statistics.
    pub fn echo_return_loss_enhancement_db(&self) -> Option<f64> {
        self.processing
            .as_ref()
            .and_then(|(processor, _)| processor.echo_return_loss_enhancement_db())
    }

    /// The device's own sample rate (what the conversion starts from).
    pub fn device_rate(&self) -> u32 {
        self.device_rate
    }

    /// How many captured samples (at the device's rate) were thrown away because they were
    /// not read in time: a reader that stalls, for call quality statistics.
    pub fn dropped_samples(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// True once the device stopped delivering for good (unplugged, sound server gone): the
    /// call should reopen a device.
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Moves what the callback captured into `pending`, converted, dropping stale audio.
    fn take_captured(&mut self) {
        let available = self.consumer.slots();
        let max = (self.device_rate * MAX_BACKLOG_MS / 1000) as usize;
        if available > max {
            let keep = (self.device_rate * KEEP_BACKLOG_MS / 1000) as usize;
            if let Ok(chunk) = self.consumer.read_chunk(available - keep) {
                chunk.commit_all();
                self.dropped
                    .fetch_add((available - keep) as u64, Ordering::Relaxed);
                let at_our_rate = (available - keep) as u64 * u64::from(SAMPLE_RATE)
                    / u64::from(self.device_rate);
                self.skip_speaker_audio(at_our_rate as usize);
            }
            // What was converted earlier is older still.
            let stale =
                self.pending.len() as u64 * u64::from(self.device_rate) / u64::from(SAMPLE_RATE);
            self.dropped.fetch_add(stale, Ordering::Relaxed);
            self.skip_speaker_audio(self.pending.len());
            self.pending.clear();
        }
        let available = self.consumer.slots();
        if available == 0 {
            return;
        }
        self.scratch.clear();
        if let Ok(chunk) = self.consumer.read_chunk(available) {
            let (first, second) = chunk.as_slices();
            self.scratch.extend_from_slice(first);
            self.scratch.extend_from_slice(second);
            chunk.commit_all();
        }
        if self
            .resampler
            .process(&self.scratch, &mut self.pending)
            .is_err()
        {
            // Cannot happen with rates the resampler accepted at open; lose the audio
            // rather than the call.
            self.pending.clear();
        }
        let max = (SAMPLE_RATE * MAX_BACKLOG_MS / 1000) as usize;
        if self.pending.len() > max {
            let keep = (SAMPLE_RATE * KEEP_BACKLOG_MS / 1000) as usize;
            let stale = self.pending.len() - keep;
            self.pending.drain(..stale);
            let at_device_rate =
                stale as u64 * u64::from(self.device_rate) / u64::from(SAMPLE_RATE);
            self.dropped.fetch_add(at_device_rate, Ordering::Relaxed);
            self.skip_speaker_audio(stale);
        }
    }

    /// The echo canceller forgets as much speaker audio as the microphone skipped (`samples`
    /// at 48 kHz), so the two streams it compares stay in step. The speaker audio queued so
    /// far is taken in first: it is what the skipped audio was heard with.
    fn skip_speaker_audio(&mut self, samples: usize) {
        if let Some((processor, reference)) = self.processing.as_mut() {
            drain_reference(processor, reference, &mut self.reference_frame);
            processor.skip_speaker_audio(samples);
        }
    }
}

/// Hands every whole frame the speaker queued in `reference` to `processor`.
fn drain_reference(
    processor: &mut VoiceProcessor,
    reference: &mut Option<Consumer<i16>>,
    frame: &mut [i16],
) {
    let Some(reference) = reference.as_mut() else {
        return;
    };
    let n = frame.len();
    while reference.slots() >= n {
        if let Ok(chunk) = reference.read_chunk(n) {
            let (first, second) = chunk.as_slices();
            frame[..first.len()].copy_from_slice(first);
            frame[first.len()..].copy_from_slice(second);
            chunk.commit_all();
            processor.analyze_speaker_frame(frame);
        }
    }
}

/// The realtime side: downmix to mono float, push into the ring, measure the peak. No
/// allocation, no lock; when the ring is full (nobody reads) the newest audio is dropped.
fn capture_callback<T>(
    mut producer: Producer<f32>,
    channels: usize,
    rate: u32,
    controls: AudioControls,
    dropped: Arc<AtomicU64>,
) -> impl FnMut(&[T], &cpal::InputCallbackInfo) + Send + 'static
where
    T: Sample + Send + 'static,
    f32: FromSample<T>,
{
    let channels = channels.max(1);
    move |data: &[T], _info| {
        let mut peak = 0.0f32;
        let mut frames = 0;
        for frame in data.chunks(channels) {
            let sum: f32 = frame.iter().map(|&s| f32::from_sample_(s)).sum();
            let mono = sum / frame.len() as f32;
            peak = peak.max(mono.abs());
            if producer.push(mono).is_err() {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
            frames += 1;
        }
        controls.record_input(peak, frames, rate);
    }
}
