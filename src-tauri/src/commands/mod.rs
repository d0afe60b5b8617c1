//! Tauri commands, one module per screen area. Each takes and returns DTOs only.

pub mod app;
