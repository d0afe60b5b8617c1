//! Commands about the app itself: version, platform, demo mode.

use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

/// What the About screen and the onboarding screens need to know about this build.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// The app's version, from Cargo.
    pub version: &'static str,
    /// True when the app was started against the local demo phone system.
    pub demo_mode: bool,
    /// The operating system, as Rust names it (`linux`, `macos`, `windows`).
    pub platform: &'static str,
    /// Where an unreadable database was kept when a fresh one was started at launch, so the
    /// UI can tell the user once; absent normally.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_recovered_to: Option<String>,
}

/// Returns the app's version, platform and whether it runs against the local demo system.
#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        demo_mode: std::env::var_os("SIDETONE_DEMO").is_some_and(|v| v == "1"),
        platform: std::env::consts::OS,
        store_recovered_to: state
            .recovered_store
            .as_ref()
            .map(|p| p.display().to_string()),
    })
}
