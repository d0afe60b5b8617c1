//! Secrets in the operating system's keychain (passwords, refresh tokens) and nothing else; no plaintext fallback, ever.
