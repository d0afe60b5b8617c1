//! Deep links (`sidetone://` onboarding links, `sip:`/`tel:` click-to-dial) reaching the UI.

use tauri::{AppHandle, Emitter, Manager, State};

use crate::error::CommandError;
use crate::state::AppState;

/// The schemes Sidetone answers; anything else from the OS is ignored.
const SCHEMES: [&str; 5] = ["sidetone:", "sip:", "sips:", "tel:", "callto:"];

/// True for a link Sidetone handles (by scheme, case-insensitively).
pub fn is_ours(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    SCHEMES.iter().any(|s| lower.starts_with(s))
}

/// Hands links to the UI: queued until the UI has asked for them with `deep_link_pending`
/// (a link that launched the app arrives before the UI listens), as `deep_link` events after.
/// Nothing is acted on here: the UI confirms onboarding links with the user first.
pub fn deliver(app: &AppHandle, urls: impl IntoIterator<Item = String>) {
    let state = app.state::<AppState>();
    for url in urls.into_iter().filter(|u| is_ours(u)) {
        let Ok(mut pending) = state.pending_links.lock() else {
            continue;
        };
        match pending.as_mut() {
            Some(queue) => queue.push(url),
            None => {
                let _ = app.emit("deep_link", serde_json::json!({ "url": url }));
            }
        }
    }
}

/// Returns the links received before the UI was ready; from then on links come as events.
#[tauri::command]
pub fn deep_link_pending(state: State<'_, AppState>) -> Result<Vec<String>, CommandError> {
    let mut pending = state
        .pending_links
        .lock()
        .map_err(|_| CommandError::internal("link queue unavailable"))?;
    Ok(pending.take().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::is_ours;

    #[test]
    fn only_our_schemes_are_taken() {
        assert!(is_ours("sidetone://provision?server=x&token=y"));
        assert!(is_ours("SIP:1002@example.com"));
        assert!(is_ours("tel:+15551234"));
        assert!(!is_ours("https://example.com"));
        assert!(!is_ours("file:///etc/passwd"));
        assert!(!is_ours("javascript:alert(1)"));
    }
}
