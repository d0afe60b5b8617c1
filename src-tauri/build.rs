//! Build script: lets Tauri embed the configuration, the icons and the capabilities.
fn main() {
    tauri_build::build();
}
