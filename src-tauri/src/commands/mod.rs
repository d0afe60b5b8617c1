//! Tauri commands, one module per screen area. Each takes and returns DTOs only.

pub mod accounts;
pub mod app;
pub mod calls;
pub mod deep_link;
pub mod history;
pub mod onboarding;
pub mod settings;
pub mod sso;
pub mod voicemail;
