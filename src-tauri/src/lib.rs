//! The desktop shell of Sidetone: Tauri commands, events, deep links, single instance and window
//! state. It translates and forwards; every rule lives in the crates below it.

mod commands;
mod error;

use tauri::Manager;

/// Builds and runs the desktop app until the user quits.
pub fn run() {
    let mut builder = tauri::Builder::default();

    // Single instance comes first: a second launch (e.g. a clicked `sidetone://` link) hands its
    // arguments to the running app over D-Bus/IPC and exits, so a link never opens a second phone.
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    {
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }));
    }

    let result = builder
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .invoke_handler(tauri::generate_handler![commands::app::app_info])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("sidetone: the desktop app could not start: {error}");
        std::process::exit(1);
    }
}
