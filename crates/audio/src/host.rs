//! Which sound system we talk to, and finding a device in it by id.

use cpal::traits::{DeviceTrait, HostTrait};

use crate::AudioError;

/// A device's direction, as the error messages and lookups need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// A microphone (a PulseAudio source, monitors included).
    Input,
    /// A speaker (a PulseAudio sink).
    Output,
}

impl Direction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }

    fn supported_by(self, device: &cpal::Device) -> bool {
        match self {
            Direction::Input => device.supports_input(),
            Direction::Output => device.supports_output(),
        }
    }
}

/// The sound system for calls: on Linux PulseAudio's native protocol when a server is
/// reachable (it follows $PULSE_SERVER, and PipeWire answers it too), otherwise ALSA; the
/// platform's default host elsewhere.
pub(crate) fn audio_host() -> Result<cpal::Host, AudioError> {
    #[cfg(target_os = "linux")]
    {
        if cpal::available_hosts().contains(&cpal::HostId::PulseAudio)
            && let Ok(host) = cpal::host_from_id(cpal::HostId::PulseAudio)
        {
            return Ok(host);
        }
        // Not `cpal::default_host()`: it would try PulseAudio again (a 2 s timeout when the
        // server hangs) and panics if ALSA is missing.
        cpal::host_from_id(cpal::HostId::Alsa).map_err(|e| AudioError::Host(e.to_string()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        Ok(cpal::default_host())
    }
}

/// The id we show and store for a device: the host's own name for it (PulseAudio's sink or
/// source name, e.g. `alsa_output.pci-0000_00_1f.3.analog-stereo`), stable across runs and
/// reboots, unlike an index.
pub(crate) fn device_id(device: &cpal::Device) -> Option<String> {
    device.id().ok().map(|id| id.id().to_owned())
}

/// The device with `id`, or the system default for `direction` when `id` is `None`.
pub(crate) fn find_device(
    host: &cpal::Host,
    direction: Direction,
    id: Option<&str>,
) -> Result<cpal::Device, AudioError> {
    let Some(id) = id else {
        let default = match direction {
            Direction::Input => host.default_input_device(),
            Direction::Output => host.default_output_device(),
        };
        return default.ok_or(AudioError::NoDefaultDevice {
            direction: direction.as_str(),
        });
    };
    let devices = host
        .devices()
        .map_err(|e| AudioError::Host(e.to_string()))?;
    for device in devices {
        if direction.supported_by(&device) && device_id(&device).as_deref() == Some(id) {
            return Ok(device);
        }
    }
    Err(AudioError::DeviceNotFound {
        direction: direction.as_str(),
        id: id.to_owned(),
    })
}
