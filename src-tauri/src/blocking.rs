//! Work that may block (the keychain waiting on an unlock prompt, the sound server, an engine
//! request that waits for a call's answer) runs on the blocking pool, never on the async
//! runtime that serves the UI.

use crate::error::CommandError;

/// Runs `work` on the blocking pool and returns what it returned; a panic there is an
/// internal error.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::internal(e.to_string()))
}
