//! A sound device as a call's speaker, fed 20 ms frames of 48 kHz mono 16-bit PCM.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use cpal::traits::DeviceTrait;
use cpal::{FromSample, Sample};
use rtrb::{Consumer, Producer, RingBuffer};

use crate::controls::AudioControls;
use crate::device_format::{DeviceFormat, OPEN_TIMEOUT, is_fatal, stream_error, with_sample_type};
use crate::host::{Direction, audio_host, find_device};
use crate::pcm::to_f32;
use crate::resample::StreamResampler;
use crate::stream_thread::StreamThread;
use crate::{AudioError, SAMPLE_RATE};

/// Audio queued for playing never exceeds this: when frames come faster than the device
/// plays them (clock drift, a burst after a stall), the oldest queued audio is skipped.
const MAX_QUEUED_MS: u32 = 100;
/// After an underrun, playing resumes once this much is queued, so frames written every
/// 20 ms by a task that jitters a little do not underrun again at once.
const PRIME_MS: u32 = 30;
/// The ring's size: room above [`MAX_QUEUED_MS`] so writes never fail while a skip waits
/// for the callback.
const RING_MS: u32 = 2 * MAX_QUEUED_MS;

/// A speaker (any output device) playing the pipeline's frames. `Send`, so a tokio task can
/// own it; dropping it closes the device.
#[derive(Debug)]
pub struct Speaker {
    producer: Producer<f32>,
    /// Samples the callback should skip (the oldest queued) before playing on.
    skip: Arc<AtomicUsize>,
    resampler: StreamResampler,
    scratch: Vec<f32>,
    converted: VecDeque<f32>,
    device_rate: u32,
    failed: Arc<AtomicBool>,
    underruns: Arc<AtomicU64>,
    /// Copies of the frames written, for the microphone's echo canceller.
    echo_reference: Option<Producer<i16>>,
    // Last: the stream stops when the handle goes.
    _stream: StreamThread,
}

impl Speaker {
    /// Opens the output device `device` (an [`crate::AudioDevice::id`]), or the system
    /// default with `None`. The output level goes to `controls`.
    pub fn open(device: Option<&str>, controls: &AudioControls) -> Result<Self, AudioError> {
        let id = device.map(str::to_owned);
        let callback_controls = controls.clone();
        let skip = Arc::new(AtomicUsize::new(0));
        let callback_skip = skip.clone();
        let failed = Arc::new(AtomicBool::new(false));
        let callback_failed = failed.clone();
        let underruns = Arc::new(AtomicU64::new(0));
        let callback_underruns = underruns.clone();
        let (stream, (producer, device_rate)) =
            StreamThread::spawn("sidetone-speaker", move || {
                let host = audio_host()?;
                let device = find_device(&host, Direction::Output, id.as_deref())?;
                let format = DeviceFormat::of(&device, Direction::Output)?;
                let (producer, consumer) = RingBuffer::new((format.rate * RING_MS / 1000) as usize);
                let on_error = move |e: cpal::Error| {
                    if is_fatal(&e) {
                        callback_failed.store(true, Ordering::Relaxed);
                    }
                };
                let playback = Playback {
                    consumer,
                    skip: callback_skip,
                    channels: usize::from(format.channels).max(1),
                    rate: format.rate,
                    prime: (format.rate * PRIME_MS / 1000) as usize,
                    playing: false,
                    underruns: callback_underruns,
                    controls: callback_controls,
                };
                let stream = with_sample_type!(format.sample_format, T => device
                .build_output_stream::<T, _, _>(
                    format.config(),
                    playback.into_callback::<T>(),
                    on_error,
                    Some(OPEN_TIMEOUT),
                ))
                .map_err(|e| stream_error(&device, e))?;
                Ok((stream, (producer, format.rate)))
            })?;
        Ok(Self {
            producer,
            skip,
            resampler: StreamResampler::new(SAMPLE_RATE, device_rate)?,
            scratch: Vec::with_capacity(crate::FRAME_SAMPLES),
            converted: VecDeque::with_capacity((device_rate * RING_MS / 1000) as usize),
            device_rate,
            failed,
            underruns,
            echo_reference: None,
            _stream: stream,
        })
    }

    /// Queues `frame` (normally [`crate::FRAME_SAMPLES`] samples of 48 kHz mono) for playing.
    /// Never blocks: when more than ~100 ms is already queued, the oldest audio is dropped.
    pub fn write_frame(&mut self, frame: &[i16]) {
        if let Some(reference) = self.echo_reference.as_mut() {
            // A microphone that stopped reading must not stall the speaker: drop instead.
            for &sample in frame {
                if reference.push(sample).is_err() {
                    break;
                }
            }
        }
        self.scratch.clear();
        self.scratch.extend(frame.iter().map(|&s| to_f32(s)));
        if self
            .resampler
            .process(&self.scratch, &mut self.converted)
            .is_err()
        {
            // Cannot happen with rates accepted at open; a lost frame plays as silence.
            self.converted.clear();
            return;
        }
        let max = (self.device_rate * MAX_QUEUED_MS / 1000) as usize;
        let pending_skip = self.skip.load(Ordering::Relaxed);
        let queued = (self.producer.buffer().capacity() - self.producer.slots())
            .saturating_sub(pending_skip);
        let incoming = self.converted.len();
        if queued + incoming > max {
            self.skip
                .fetch_add((queued + incoming - max).min(queued), Ordering::Relaxed);
        }
        while let Some(&sample) = self.converted.front() {
            if self.producer.push(sample).is_err() {
                break;
            }
            self.converted.pop_front();
        }
        // Whatever did not fit is dropped rather than delayed.
        self.converted.clear();
    }

    /// The device's own sample rate (what the conversion goes to).
    pub fn device_rate(&self) -> u32 {
        self.device_rate
    }

    /// Sends a copy of every frame written from now on to `reference` (the microphone's echo
    /// canceller).
    pub(crate) fn send_echo_reference(&mut self, reference: Producer<i16>) {
        self.echo_reference = Some(reference);
    }

    /// How many times the device had nothing to play (frames came late or stopped coming)
    /// since the speaker opened: each is an audible gap, for call quality statistics.
    pub fn underruns(&self) -> u64 {
        self.underruns.load(Ordering::Relaxed)
    }

    /// True once the device stopped playing for good (unplugged, sound server gone).
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }
}

/// The realtime side's state.
struct Playback {
    consumer: Consumer<f32>,
    skip: Arc<AtomicUsize>,
    channels: usize,
    rate: u32,
    prime: usize,
    playing: bool,
    underruns: Arc<AtomicU64>,
    controls: AudioControls,
}

impl Playback {
    /// The callback: skip what the writer asked, play queued mono audio on every channel,
    /// silence on underrun, measure the peak. No allocation, no lock.
    fn into_callback<T>(mut self) -> impl FnMut(&mut [T], &cpal::OutputCallbackInfo) + Send
    where
        T: Sample + FromSample<f32> + Send + 'static,
    {
        move |data: &mut [T], _info| {
            let skip = self.skip.swap(0, Ordering::Relaxed);
            if skip > 0 {
                let n = skip.min(self.consumer.slots());
                if let Ok(chunk) = self.consumer.read_chunk(n) {
                    chunk.commit_all();
                }
            }
            if !self.playing && self.consumer.slots() >= self.prime {
                self.playing = true;
            }
            let mut peak = 0.0f32;
            let mut frames = 0;
            for frame in data.chunks_mut(self.channels) {
                let sample = match self.playing.then(|| self.consumer.pop()) {
                    Some(Ok(sample)) => sample,
                    Some(Err(_)) => {
                        // Underrun: silence until enough is queued again.
                        self.playing = false;
                        self.underruns.fetch_add(1, Ordering::Relaxed);
                        0.0
                    }
                    None => 0.0,
                };
                peak = peak.max(sample.abs());
                frame.fill(T::from_sample_(sample));
                frames += 1;
            }
            self.controls.record_output(peak, frames, self.rate);
        }
    }
}
