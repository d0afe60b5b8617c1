//! App settings the user chooses (theme, devices), persisted in the profile's store.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tauri::State;

use crate::blocking::blocking;
use crate::error::CommandError;
use crate::state::AppState;

/// The store key the settings live under.
const SETTINGS_KEY: &str = "ui.settings";

/// The colour theme.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Dark.
    Dark,
    /// Light.
    Light,
    /// Follow the operating system.
    #[default]
    System,
}

/// What the Settings screen shows; `None` device ids mean "follow the system default".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    theme: Theme,
    input_device_id: Option<String>,
    output_device_id: Option<String>,
    ringer_device_id: Option<String>,
}

impl Settings {
    /// The sound devices a call uses (`None` ids follow the system default).
    pub fn device_choice(&self) -> sidetone_audio::DeviceChoice {
        sidetone_audio::DeviceChoice {
            input: self.input_device_id.clone(),
            output: self.output_device_id.clone(),
        }
    }
}

/// The saved settings, or the defaults.
pub fn load(store: &sidetone_store::Store) -> Result<Settings, CommandError> {
    Ok(store.settings().get_json(SETTINGS_KEY)?.unwrap_or_default())
}

/// A device as the Settings screen lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    id: String,
    name: String,
    is_default: bool,
}

/// `devices_list`'s result.
#[derive(Debug, Serialize)]
pub struct DevicesView {
    inputs: Vec<DeviceView>,
    outputs: Vec<DeviceView>,
}

/// The microphones and speakers the system offers now.
#[tauri::command]
pub async fn devices_list() -> Result<DevicesView, CommandError> {
    // Listing talks to the sound server and may wait on it: off the async runtime.
    let list = blocking(sidetone_audio::list_devices)
        .await?
        .map_err(|e| CommandError::new("audio.unavailable", e.to_string()))?;
    let view = |devices: Vec<sidetone_audio::AudioDevice>, hide_monitors: bool| {
        devices
            .into_iter()
            // A speaker's monitor is not a microphone a person would pick.
            .filter(|d| !(hide_monitors && d.id.ends_with(".monitor")))
            .map(|d| DeviceView {
                id: d.id,
                name: d.name,
                is_default: d.is_default,
            })
            .collect()
    };
    Ok(DevicesView {
        inputs: view(list.inputs, true),
        outputs: view(list.outputs, false),
    })
}

/// Returns the settings (defaults when none were saved).
#[tauri::command]
pub fn settings_get(state: State<'_, AppState>) -> Result<Settings, CommandError> {
    Ok(state
        .store()?
        .settings()
        .get_json(SETTINGS_KEY)?
        .unwrap_or_default())
}

/// Applies a partial change (absent fields stay, `null` device ids mean the system default)
/// and returns the whole settings as saved.
#[tauri::command]
pub fn settings_set(state: State<'_, AppState>, patch: Value) -> Result<Settings, CommandError> {
    let store = state.store()?;
    let current: Settings = store.settings().get_json(SETTINGS_KEY)?.unwrap_or_default();
    let merged = merge(&current, patch)?;
    store.settings().set_json(SETTINGS_KEY, &merged)?;
    Ok(merged)
}

/// Merges a JSON patch into settings; unknown fields or wrong types are the caller's error.
fn merge(current: &Settings, patch: Value) -> Result<Settings, CommandError> {
    let Value::Object(patch) = patch else {
        return Err(CommandError::new(
            "invalid_input",
            "a settings change must be an object",
        ));
    };
    let mut value =
        serde_json::to_value(current).map_err(|e| CommandError::internal(e.to_string()))?;
    if let Value::Object(fields) = &mut value {
        fields.extend(patch);
    }
    serde_json::from_value(value).map_err(|e| {
        CommandError::new("invalid_input", format!("not a valid settings change: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_changes_only_what_it_names_and_null_means_the_system_default() {
        let current = Settings {
            input_device_id: Some("mic".into()),
            ..Settings::default()
        };
        let merged = merge(&current, serde_json::json!({ "theme": "dark" })).unwrap();
        assert_eq!(merged.theme, Theme::Dark);
        assert_eq!(merged.input_device_id.as_deref(), Some("mic"));
        let merged = merge(&merged, serde_json::json!({ "inputDeviceId": null })).unwrap();
        assert_eq!(merged.input_device_id, None);
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() {
        let current = Settings::default();
        assert_eq!(
            merge(&current, serde_json::json!({ "volume": 3 }))
                .unwrap_err()
                .code,
            "invalid_input"
        );
        assert_eq!(
            merge(&current, serde_json::json!({ "theme": "pink" }))
                .unwrap_err()
                .code,
            "invalid_input"
        );
        assert_eq!(
            merge(&current, serde_json::json!([1])).unwrap_err().code,
            "invalid_input"
        );
    }
}
