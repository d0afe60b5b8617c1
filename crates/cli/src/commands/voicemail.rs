//! `sidetone-cli voicemail`: an account's voicemail from its IMAP mailbox, through the same
//! cache the app shows (works offline; heard/delete made offline are applied at the next
//! sync), played on a sound device or saved as a WAV file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use sidetone_audio::{AudioControls, play_file};
use sidetone_profile::{
    AccountList, AccountSecrets, ProfileError, SavedAccount, voicemail_audio_cache,
};
use sidetone_store::{Store, UnixMillis, Voicemail, VoicemailId};
use sidetone_voicemail::{
    AudioCache, SyncReport, VoicemailAccount, VoicemailError, VoicemailSync, unheard_badge,
};

use crate::commands::cli_error::CliError;
use crate::commands::profile_args::ProfileArgs;

/// Lists, syncs, plays, marks, deletes and saves voicemail.
#[derive(Debug, Args)]
pub struct VoicemailArgs {
    #[command(subcommand)]
    action: Action,
    /// The account (its id, SIP address, login ID or account number); may be left out when
    /// the profile has only one.
    #[arg(long, global = true)]
    account: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(flatten)]
    profile: ProfileArgs,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Sync from the server (unless --offline), then list the messages, newest first.
    List {
        /// Show the cache as it is, without contacting the server.
        #[arg(long)]
        offline: bool,
    },
    /// Sync from the server and say what changed.
    Sync,
    /// Play a message on a sound device (downloads its audio if needed).
    Play {
        /// The message's number from `list`.
        id: i64,
        /// Start this many seconds in.
        #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
        from: f64,
        /// The output device id (default: the system's).
        #[arg(long)]
        device: Option<String>,
    },
    /// Mark a message heard (on the server at once, or at the next sync when offline).
    Heard {
        /// The message's number from `list`.
        id: i64,
    },
    /// Mark a message unheard.
    Unheard {
        /// The message's number from `list`.
        id: i64,
    },
    /// Delete a message (on the server at once, or at the next sync when offline).
    Delete {
        /// The message's number from `list`.
        id: i64,
    },
    /// Save a message's audio as a WAV file (e.g. to forward it).
    Save {
        /// The message's number from `list`.
        id: i64,
        /// Where to write the WAV file.
        file: PathBuf,
    },
}

/// Runs the subcommand; exit 0 on success, 1 with `code: message` otherwise.
pub fn run(args: VoicemailArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return CliError::new("cli.runtime", e.to_string()).report(args.json),
    };
    match runtime.block_on(run_action(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.report(args.json),
    }
}

/// How a sync went, short of an error.
enum Synced {
    /// The cache matches the server.
    Done(SyncReport),
    /// The server could not be reached.
    Offline(VoicemailError),
}

impl Synced {
    /// The note shown above a list made offline.
    fn offline_note(&self) -> Option<String> {
        match self {
            Synced::Done(_) => None,
            Synced::Offline(error) => {
                Some(format!("offline ({error}): showing what was synced before"))
            }
        }
    }
}

/// What every action needs: the store, the account, its mailbox and the audio cache.
struct Mailbox {
    store: Mutex<Store>,
    account: SavedAccount,
    cache: AudioCache,
    sync: VoicemailSync,
}

impl Mailbox {
    /// The IMAP account, with the password from the keychain (asked for only when the
    /// server is about to be contacted).
    fn imap(&self) -> Result<VoicemailAccount, CliError> {
        Ok(self.account.voicemail_login(&AccountSecrets::new())?)
    }

    /// Syncs now. A server that can't be reached is [`Synced::Offline`] (the cache is still
    /// shown, changes stay queued); any other failure (wrong password, TLS) is an error.
    async fn sync_now(&self) -> Result<Synced, CliError> {
        let imap = self.imap()?;
        match self.sync.sync(&imap, &self.store, now()).await {
            Ok(report) => Ok(Synced::Done(report)),
            Err(error) if error.is_offline() => Ok(Synced::Offline(error)),
            Err(error) => Err(error.into()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The message `id` of this account, or a clear error.
    fn message(&self, id: i64) -> Result<Voicemail, CliError> {
        self.lock()
            .voicemail()
            .get(VoicemailId(id))?
            .filter(|v| v.message.account_id == self.account.id && !v.delete_pending)
            .ok_or_else(|| {
                CliError::new(
                    "voicemail.not_found",
                    format!(
                        "no voicemail {id} for this account: see `sidetone-cli voicemail list`"
                    ),
                )
            })
    }
}

async fn run_action(args: &VoicemailArgs) -> Result<(), CliError> {
    let profile = args.profile.open()?;
    let account = AccountList::new(&profile.store).pick(args.account.as_deref())?;
    if account.voicemail.is_none() {
        return Err(ProfileError::NoVoicemail(account.id).into());
    }
    let mailbox = Mailbox {
        store: Mutex::new(profile.store),
        account,
        cache: voicemail_audio_cache(&profile.dir),
        sync: VoicemailSync::new(),
    };
    match &args.action {
        Action::List { offline } => {
            let note = if *offline {
                None
            } else {
                mailbox.sync_now().await?.offline_note()
            };
            print_list(&mailbox, note.as_deref(), args.json)
        }
        Action::Sync => match mailbox.sync_now().await? {
            Synced::Done(report) => {
                print_report(&report, args.json);
                Ok(())
            }
            Synced::Offline(error) => Err(error.into()),
        },
        Action::Play { id, from, device } => {
            mailbox.message(*id)?;
            let imap = mailbox.imap()?;
            let path = mailbox
                .sync
                .audio(&imap, &mailbox.store, VoicemailId(*id), &mailbox.cache)
                .await?;
            play(&path, *from, device.as_deref(), args.json)
        }
        Action::Heard { id } | Action::Unheard { id } | Action::Delete { id } => {
            mailbox.message(*id)?;
            {
                let store = mailbox.lock();
                let cache = store.voicemail();
                match &args.action {
                    Action::Delete { .. } => cache.delete(VoicemailId(*id), now())?,
                    Action::Heard { .. } => cache.set_heard(VoicemailId(*id), true, now())?,
                    _ => cache.set_heard(VoicemailId(*id), false, now())?,
                }
            }
            // Apply it on the server now; offline, it stays queued for the next sync.
            let applied = matches!(mailbox.sync_now().await?, Synced::Done(_));
            print_done(*id, applied, args.json);
            Ok(())
        }
        Action::Save { id, file } => {
            mailbox.message(*id)?;
            let imap = mailbox.imap()?;
            let bytes = mailbox
                .sync
                .save_as_wav(
                    &imap,
                    &mailbox.store,
                    VoicemailId(*id),
                    &mailbox.cache,
                    file,
                )
                .await?;
            if args.json {
                println!("{}", serde_json::json!({ "saved": file, "bytes": bytes }));
            } else {
                println!(
                    "Saved voicemail {id} to {} ({bytes} bytes).",
                    file.display()
                );
            }
            Ok(())
        }
    }
}

fn print_list(mailbox: &Mailbox, note: Option<&str>, json: bool) -> Result<(), CliError> {
    let store = mailbox.lock();
    let list = store.voicemail().list(Some(&mailbox.account.id))?;
    let folder = mailbox.account.voicemail_folder();
    let badge = unheard_badge(&store, &mailbox.account.id, folder, None, now())?;
    if json {
        let messages: Vec<_> = list.iter().map(message_json).collect();
        println!(
            "{}",
            serde_json::json!({
                "account": mailbox.account.id, "unheard": badge.count,
                "offline": note.is_some(), "messages": messages,
            })
        );
        return Ok(());
    }
    if let Some(note) = note {
        eprintln!("sidetone-cli: {note}");
    }
    for v in &list {
        println!(
            "{:>5}  {}  {}  {:>6}  {}",
            v.id.0,
            if v.heard { " " } else { "*" },
            v.received_at.to_rfc3339().unwrap_or_default(),
            v.duration.map_or_else(|| "-".to_owned(), clock),
            match &v.caller_name {
                Some(name) => format!("{name} <{}>", v.caller),
                None => v.caller.clone(),
            }
        );
    }
    println!("{} messages, {} unheard", list.len(), badge.count);
    Ok(())
}

fn message_json(v: &Voicemail) -> serde_json::Value {
    serde_json::json!({
        "id": v.id.0, "caller": v.caller, "caller_name": v.caller_name,
        "received_at": v.received_at.to_rfc3339(),
        "duration_s": v.duration.map(|d| d.as_secs_f64()),
        "heard": v.heard, "downloaded": v.audio.is_some(),
    })
}

fn print_report(report: &SyncReport, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "full": report.full, "added": report.added, "removed": report.removed,
                "flags_changed": report.flags_changed, "changes_applied": report.changes_applied,
                "skipped": report.skipped,
            })
        );
    } else {
        println!(
            "Synced: {} new, {} removed, {} changed on the server, {} of your changes applied.",
            report.added, report.removed, report.flags_changed, report.changes_applied
        );
    }
}

fn print_done(id: i64, applied: bool, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({ "id": id, "applied": applied, "queued": !applied })
        );
    } else if applied {
        println!("Done.");
    } else {
        println!("Saved here; the server gets it at the next sync (it can't be reached now).");
    }
}

/// Plays `path` from `from` seconds on `device`; Ctrl-C stops it.
fn play(path: &Path, from: f64, device: Option<&str>, json: bool) -> Result<(), CliError> {
    let from = Duration::try_from_secs_f64(from.max(0.0)).unwrap_or_default();
    let stop = AtomicBool::new(false);
    let played = play_file(path, from, device, &AudioControls::new(), &stop)
        .map_err(|e| CliError::new("audio.device", e.to_string()))?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "played_s": played.seconds, "underruns": played.underruns })
        );
    } else {
        println!("Played {:.1} s.", played.seconds);
    }
    Ok(())
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

fn now() -> UnixMillis {
    UnixMillis::from_system_time(SystemTime::now())
}
