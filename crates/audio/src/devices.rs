//! The sound devices a person can choose for calls.

use cpal::traits::{DeviceTrait, HostTrait};

use crate::AudioError;
use crate::host::{Direction, audio_host, device_id};

/// One microphone or speaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioDevice {
    /// The host's own name for the device (e.g. PulseAudio's `vsink`), stable across runs:
    /// store this in settings and pass it back in a [`crate::DeviceChoice`].
    pub id: String,
    /// A name for people (e.g. "Built-in Audio Analog Stereo").
    pub name: String,
    /// Whether the system uses this device when none is chosen.
    pub is_default: bool,
}

/// The devices present now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceList {
    /// Microphones (with PulseAudio, speaker monitors too: they are sources).
    pub inputs: Vec<AudioDevice>,
    /// Speakers and headsets.
    pub outputs: Vec<AudioDevice>,
}

/// Lists the sound devices of the system's sound server.
pub fn list_devices() -> Result<DeviceList, AudioError> {
    let host = audio_host()?;
    let default_input = host.default_input_device().as_ref().and_then(device_id);
    let default_output = host.default_output_device().as_ref().and_then(device_id);
    let mut list = DeviceList::default();
    let devices = host
        .devices()
        .map_err(|e| AudioError::Host(e.to_string()))?;
    for device in devices {
        // A device that vanished between listing and asking is simply not listed.
        let Some(id) = device_id(&device) else {
            continue;
        };
        let name = device
            .description()
            .map(|d| d.name().to_owned())
            .unwrap_or_else(|_| id.clone());
        for direction in [Direction::Input, Direction::Output] {
            let (supported, default, list) = match direction {
                Direction::Input => (device.supports_input(), &default_input, &mut list.inputs),
                Direction::Output => (device.supports_output(), &default_output, &mut list.outputs),
            };
            if supported {
                list.push(AudioDevice {
                    is_default: default.as_deref() == Some(id.as_str()),
                    id: id.clone(),
                    name: name.clone(),
                });
            }
        }
    }
    Ok(list)
}
