//! Opening the sign-in page in the user's own browser (RFC 8252 §8.12: never an embedded
//! webview, whose password fields the app could read).

use std::process::{Command, Stdio};

use url::Url;

use crate::error::{OnboardingError, Result};

/// The common Unix convention for "my browser": a command (or several, `:`-separated, the
/// first that starts wins) that gets the URL as its one argument. Honoured before the
/// desktop's default so people with several browsers, and tests, choose where sign-in opens.
pub const BROWSER_ENV: &str = "BROWSER";

/// Opens `url` (an `https://` sign-in page) in the system browser. Returns once the browser
/// was started; what happens there comes back through the loopback redirect.
pub fn open_in_browser(url: &Url) -> Result<()> {
    if url.scheme() != "https" {
        return Err(OnboardingError::SsoFailed {
            detail: "refusing to open a sign-in page that is not https://".to_owned(),
        });
    }
    if let Some(commands) = std::env::var_os(BROWSER_ENV).filter(|v| !v.is_empty()) {
        let commands = commands.to_string_lossy().into_owned();
        for command in commands.split(':').filter(|c| !c.trim().is_empty()) {
            // The URL is one argument, never interpolated into a shell line.
            let started = Command::new(command.trim())
                .arg(url.as_str())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            match started {
                Ok(mut child) => {
                    // Reaped in the background, so a long-running app keeps no zombie.
                    std::thread::spawn(move || child.wait());
                    return Ok(());
                }
                Err(e) => tracing::warn!(command, error = %e, "the $BROWSER command did not start"),
            }
        }
    }
    open::that_detached(url.as_str()).map_err(|e| OnboardingError::SsoFailed {
        detail: format!("could not open the browser: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_sign_in_pages_are_opened() {
        // Refused before any browser is looked for: nothing starts.
        for url in [
            "http://login.example.com/authorize",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            let e = open_in_browser(&Url::parse(url).unwrap()).unwrap_err();
            assert_eq!(e.code(), "onboarding.sso_failed", "{url}");
        }
    }
}
