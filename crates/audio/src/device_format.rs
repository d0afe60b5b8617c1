//! The format a device stream is opened in: the device's own rate, channels and sample format
//! (conversion to the pipeline's 48 kHz mono happens on our side), with short periods.

use std::time::Duration;

use cpal::traits::DeviceTrait;
use cpal::{BufferSize, SampleFormat, StreamConfig, SupportedBufferSize};

use crate::AudioError;
use crate::host::Direction;

/// How long a stream may take to open before we call the device unusable.
pub(crate) const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// A device's stream format as we open it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeviceFormat {
    /// Frames per second.
    pub(crate) rate: u32,
    /// Interleaved channels per frame.
    pub(crate) channels: u16,
    /// The sample type the callbacks see.
    pub(crate) sample_format: SampleFormat,
    buffer_size: BufferSize,
}

impl DeviceFormat {
    /// The device's preferred format, with 20 ms callback periods when the device allows a
    /// fixed size: PulseAudio's default buffering adds about a second of delay (LAB-NOTES),
    /// while 10 ms periods (a 10 ms capture buffer with cpal's PulseAudio host) lose audio as
    /// soon as the machine is busy. 20 ms is also the pipeline's frame.
    pub(crate) fn of(device: &cpal::Device, direction: Direction) -> Result<Self, AudioError> {
        let supported = match direction {
            Direction::Input => device.default_input_config(),
            Direction::Output => device.default_output_config(),
        }
        .map_err(|e| stream_error(device, e))?;
        let rate = supported.sample_rate();
        let period = (rate / 50).max(1);
        let buffer_size = match supported.buffer_size() {
            SupportedBufferSize::Range { min, max } if (*min..=*max).contains(&period) => {
                BufferSize::Fixed(period)
            }
            _ => BufferSize::Default,
        };
        let sample_format = if is_handled(supported.sample_format()) {
            supported.sample_format()
        } else {
            // An exotic native format: ask for float and let the sound server convert.
            SampleFormat::F32
        };
        Ok(Self {
            rate,
            channels: supported.channels().max(1),
            sample_format,
            buffer_size,
        })
    }

    /// The cpal stream configuration.
    pub(crate) fn config(&self) -> StreamConfig {
        StreamConfig {
            channels: self.channels,
            sample_rate: self.rate,
            buffer_size: self.buffer_size,
        }
    }
}

/// The sample formats [`with_sample_type!`] dispatches on.
fn is_handled(format: SampleFormat) -> bool {
    matches!(
        format,
        SampleFormat::F32
            | SampleFormat::F64
            | SampleFormat::I8
            | SampleFormat::I16
            | SampleFormat::I24
            | SampleFormat::I32
            | SampleFormat::U8
            | SampleFormat::U16
            | SampleFormat::U32
    )
}

/// A device-side failure, named after the device.
pub(crate) fn stream_error(device: &cpal::Device, error: impl std::fmt::Display) -> AudioError {
    let name = device
        .description()
        .map(|d| d.name().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    AudioError::Stream {
        device: name,
        reason: error.to_string(),
    }
}

/// Whether a stream error means the stream is gone (unplugged device, dead server), as
/// opposed to a glitch it recovers from.
pub(crate) fn is_fatal(error: &cpal::Error) -> bool {
    !matches!(
        error.kind(),
        cpal::ErrorKind::Xrun | cpal::ErrorKind::RealtimeDenied | cpal::ErrorKind::DeviceChanged
    )
}

/// Runs `$body` with the type alias `$T` set to the Rust type of `$format` (one of those
/// [`is_handled`] accepts; anything else is treated as `f32`, which [`DeviceFormat::of`]
/// already substituted).
macro_rules! with_sample_type {
    ($format:expr, $T:ident => $body:expr) => {
        match $format {
            cpal::SampleFormat::F64 => {
                type $T = f64;
                $body
            }
            cpal::SampleFormat::I8 => {
                type $T = i8;
                $body
            }
            cpal::SampleFormat::I16 => {
                type $T = i16;
                $body
            }
            cpal::SampleFormat::I24 => {
                type $T = cpal::I24;
                $body
            }
            cpal::SampleFormat::I32 => {
                type $T = i32;
                $body
            }
            cpal::SampleFormat::U8 => {
                type $T = u8;
                $body
            }
            cpal::SampleFormat::U16 => {
                type $T = u16;
                $body
            }
            cpal::SampleFormat::U32 => {
                type $T = u32;
                $body
            }
            _ => {
                type $T = f32;
                $body
            }
        }
    };
}

pub(crate) use with_sample_type;
