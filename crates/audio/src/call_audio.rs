//! A call's sound devices opened together: microphone, speaker, mute and meters.

use rtrb::RingBuffer;

use crate::controls::AudioControls;
use crate::microphone::Microphone;
use crate::processing::{ProcessingConfig, VoiceProcessor};
use crate::speaker::Speaker;
use crate::{AudioError, SAMPLE_RATE};

/// Speaker frames waiting for the microphone's echo canceller: half a second, far more than
/// the ~20 ms between a write and the next read in a running call.
const ECHO_REFERENCE_MS: u32 = 500;

/// Which devices a call uses: ids from [`crate::list_devices`], `None` for the system default
/// (which then follows the system's choice at the time the call opens them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceChoice {
    /// The microphone's [`crate::AudioDevice::id`].
    pub input: Option<String>,
    /// The speaker's [`crate::AudioDevice::id`].
    pub output: Option<String>,
}

/// A call's open devices. Each part is `Send + 'static` and can move into its own task;
/// dropping a part closes its device.
#[derive(Debug)]
pub struct CallAudio {
    /// Where the call's outgoing frames come from.
    pub microphone: Microphone,
    /// Where the call's incoming frames go.
    pub speaker: Speaker,
    /// Mute and level meters, shared with both devices; clone it for the UI.
    pub controls: AudioControls,
}

impl CallAudio {
    /// Opens both devices of `choice`; fails without opening either if one cannot be used.
    /// The microphone's frames get `processing`, with the speaker's frames as the echo
    /// reference.
    pub fn open(choice: &DeviceChoice, processing: &ProcessingConfig) -> Result<Self, AudioError> {
        let controls = AudioControls::new();
        let mut speaker = Speaker::open(choice.output.as_deref(), &controls)?;
        let mut microphone = Microphone::open(choice.input.as_deref(), &controls)?;
        if *processing != ProcessingConfig::off() {
            // Only the echo canceller needs what the speaker plays: without it, the speaker
            // copies nothing and the microphone analyses nothing.
            let reference = processing.echo_cancellation.then(|| {
                let (producer, consumer) =
                    RingBuffer::new((SAMPLE_RATE * ECHO_REFERENCE_MS / 1000) as usize);
                speaker.send_echo_reference(producer);
                consumer
            });
            microphone.process_with(VoiceProcessor::new(processing), reference);
        }
        Ok(Self {
            microphone,
            speaker,
            controls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movable_into_a_task<T: Send + 'static>() {}
    fn shareable<T: Send + Sync + 'static>() {}

    #[test]
    fn handles_can_move_into_tokio_tasks() {
        movable_into_a_task::<Microphone>();
        movable_into_a_task::<Speaker>();
        movable_into_a_task::<CallAudio>();
        shareable::<AudioControls>();
    }
}
