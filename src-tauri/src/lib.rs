//! The desktop shell of Sidetone: Tauri commands, events, deep links, single instance and window
//! state. It translates and forwards; every rule lives in the crates below it.

mod accounts;
mod blocking;
mod calls;
mod commands;
mod error;
mod events;
mod export_dir;
mod onboarding;
mod refresh;
mod registration;
mod state;
mod voicemail;

use tauri::{Manager, RunEvent};
use tauri_plugin_deep_link::DeepLinkExt;

use crate::state::AppState;

/// Builds and runs the desktop app until the user quits.
pub fn run() {
    let state = match AppState::start() {
        Ok(state) => state,
        Err(error) => {
            eprintln!("sidetone: cannot start: {}", error.message);
            std::process::exit(1);
        }
    };

    let mut builder = tauri::Builder::default();

    // Single instance comes first: a second launch (e.g. a clicked `sidetone://` link) hands its
    // arguments to the running app and exits, so a link never opens a second phone.
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    {
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            commands::deep_link::deliver(app, argv.into_iter().skip(1));
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }));
    }

    let app = builder
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .manage(state)
        .setup(|app| {
            let handle = app.handle().clone();
            events::forward(handle.clone(), &app.state::<AppState>().engine);
            restore_accounts(&handle);
            voicemail::keep_synced(handle.clone());
            refresh::keep_current(handle.clone());
            // Links that launched the app, then every later one.
            if let Ok(Some(urls)) = app.deep_link().get_current() {
                commands::deep_link::deliver(&handle, urls.into_iter().map(|u| u.to_string()));
            }
            let on_open = handle.clone();
            app.deep_link().on_open_url(move |event| {
                commands::deep_link::deliver(
                    &on_open,
                    event.urls().into_iter().map(|u| u.to_string()),
                );
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::accounts::onboarding_manual,
            commands::onboarding::onboarding_parse_input,
            commands::onboarding::onboarding_decode_qr_image,
            commands::onboarding::onboarding_discover,
            commands::onboarding::onboarding_sign_in_token,
            commands::onboarding::onboarding_sign_in_password,
            commands::sso::onboarding_sign_in_sso,
            commands::sso::onboarding_cancel_sso,
            commands::onboarding::terms_get,
            commands::onboarding::terms_accept,
            commands::accounts::accounts_list,
            commands::accounts::account_sign_out,
            commands::accounts::account_refresh,
            commands::deep_link::deep_link_pending,
            commands::calls::call_dial,
            commands::calls::call_answer,
            commands::calls::call_decline,
            commands::calls::call_hangup,
            commands::calls::call_mute,
            commands::calls::call_hold,
            commands::calls::call_dtmf,
            commands::calls::call_transfer_blind,
            commands::history::history_query,
            commands::history::history_export,
            commands::history::history_delete,
            commands::settings::settings_get,
            commands::settings::settings_set,
            commands::settings::devices_list,
            commands::voicemail::voicemail_list,
            commands::voicemail::voicemail_sync,
            commands::voicemail::voicemail_play,
            commands::voicemail::voicemail_stop,
            commands::voicemail::voicemail_mark_heard,
            commands::voicemail::voicemail_delete,
            commands::voicemail::voicemail_export,
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("sidetone: the desktop app could not start: {error}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            // Unregister every account before the process ends (bounded by the engine's grace).
            let _ = handle.state::<AppState>().engine.shutdown();
        }
    });
}

/// Registers the saved accounts again, with their passwords from the keychain. Runs on its own
/// thread: the keychain may wait for the user to unlock it.
fn restore_accounts(app: &tauri::AppHandle) {
    let app = app.clone();
    let _ = std::thread::Builder::new()
        .name("sidetone-restore".into())
        .spawn(move || {
            let state = app.state::<AppState>();
            let saved = match state.store().and_then(|store| accounts::load_all(&store)) {
                Ok(saved) => saved,
                Err(error) => {
                    eprintln!(
                        "sidetone: cannot read the saved accounts: {}",
                        error.message
                    );
                    return;
                }
            };
            for account in saved {
                let registered = accounts::load_password(&account.id)
                    .and_then(|password| Ok(account.to_config(password)?))
                    .and_then(|config| {
                        state
                            .engine
                            .register(config)
                            .map_err(|e| error::CommandError::internal(e.to_string()))
                    });
                if let Err(error) = registered {
                    eprintln!(
                        "sidetone: account {} not registered: {}",
                        account.id, error.message
                    );
                }
            }
        });
}
