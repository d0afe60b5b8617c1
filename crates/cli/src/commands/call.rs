//! `sidetone-cli call` and `sidetone-cli answer`: one headless call with audio from and to
//! WAV files.

use crate::commands::engine_session::EngineSession;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use sidetone_engine::{CallMedia, EngineEvent, EngineHandle};
use sidetone_media::CodecKind;
use sidetone_sip::{
    AccountConfig, AccountId, CallDirection, CallId, CallState, EndReason, RegistrationState,
    SipError,
};
use tokio::sync::broadcast;

pub use crate::commands::account_args::AccountArgs;
use crate::output;

/// The call's audio and timing.
#[derive(Debug, Args)]
pub struct MediaArgs {
    /// Send this WAV file as our voice (any rate, mono or stereo); silence after it ends.
    #[arg(long, value_name = "WAV")]
    play: Option<PathBuf>,

    /// Record what we hear into this WAV file (48 kHz mono 16-bit).
    #[arg(long, value_name = "WAV")]
    record: Option<PathBuf>,

    /// Hang up this many seconds after the call is established (the far end may end it
    /// sooner).
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    duration: f64,

    /// Use only this codec: opus, pcmu or pcma [default: offer all, Opus first].
    #[arg(long, value_name = "CODEC", value_parser = parse_codec)]
    codec: Option<CodecKind>,

    /// Talk and listen through the sound devices (the system's defaults unless
    /// --input-device/--output-device name others); a WAV given with --play still wins.
    #[arg(long)]
    sound: bool,

    /// The microphone to use with --sound (an id from the system's device list).
    #[arg(long, value_name = "ID", requires = "sound")]
    input_device: Option<String>,

    /// The speaker to use with --sound.
    #[arg(long, value_name = "ID", requires = "sound")]
    output_device: Option<String>,

    /// Print one JSON object per line instead of text.
    #[arg(long)]
    json: bool,
}

/// Call TARGET through the account's registrar, send --play, record into --record, hang up
/// after --duration seconds.
///
/// Exit status: 0 the call was established and ended normally; 7 busy, 8 declined,
/// 9 not found, 5 timeout, 4 unreachable, 3 wrong password, 1 any other failure, 2 bad
/// usage. On failure one line `sidetone-cli: REASON` goes to stderr.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  echo \"$PW\" | sidetone-cli call 1002 --uri sip:1001@pbx.example.com \\\n      --password-stdin --play hello.wav --record heard.wav --duration 5 --json"
)]
pub struct CallArgs {
    /// Whom to call: a user of the account's domain (1002) or a SIP URI.
    target: String,

    #[command(flatten)]
    account: AccountArgs,

    #[command(flatten)]
    media: MediaArgs,

    /// Give up if the call is not established within this many seconds.
    #[arg(long, value_name = "S", default_value_t = 45)]
    timeout: u64,
}

/// Wait for an incoming call, answer it, send --play, record into --record, hang up after
/// --duration seconds or when the far end hangs up. Exit status as for `call`.
#[derive(Debug, Args)]
pub struct AnswerArgs {
    #[command(flatten)]
    account: AccountArgs,

    #[command(flatten)]
    media: MediaArgs,

    /// Give up if no call arrives within this many seconds.
    #[arg(long, value_name = "S", default_value_t = 60)]
    timeout: u64,
}

fn parse_codec(name: &str) -> Result<CodecKind, String> {
    CodecKind::from_name(name).ok_or_else(|| format!("unknown codec {name:?} (opus, pcmu, pcma)"))
}

/// Why a call command failed.
enum Failure {
    Sip(SipError),
    Call(EndReason),
}

/// Runs `call`.
pub fn run_call(args: CallArgs) -> ExitCode {
    let json = args.media.json;
    let config = args.account.to_config();
    run(config, json, |engine, events, id| {
        Box::pin(place(engine, events, id, args))
    })
}

/// Runs `answer`.
pub fn run_answer(args: AnswerArgs) -> ExitCode {
    let json = args.media.json;
    let config = args.account.to_config();
    run(config, json, |engine, events, id| {
        Box::pin(take(engine, events, id, args))
    })
}

type Session<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), Failure>> + 'a>>;

fn run<F>(config: Result<AccountConfig, SipError>, json: bool, session: F) -> ExitCode
where
    F: for<'a> FnOnce(
        &'a EngineHandle,
        &'a mut broadcast::Receiver<EngineEvent>,
        AccountId,
    ) -> Session<'a>,
{
    let config = match config {
        Ok(config) => config,
        Err(e) => return fail(&Failure::Sip(e), json),
    };
    let EngineSession {
        engine,
        mut events,
        waiter,
    } = match EngineSession::start() {
        Ok(session) => session,
        Err(code) => return code,
    };
    let result = waiter.block_on(async {
        let id = register(&engine, &mut events, config, json).await?;
        let outcome = session(&engine, &mut events, id.clone()).await;
        let _ = engine.unregister(&id);
        // Print the unregister as it happens; the engine's shutdown grace bounds the rest.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(event) = events.recv().await {
                output::print_event(&event, json);
                if matches!(&event, EngineEvent::AccountRemoved { account_id } if *account_id == id)
                {
                    break;
                }
            }
        })
        .await;
        outcome
    });
    let _ = engine.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(&failure, json),
    }
}

async fn register(
    engine: &EngineHandle,
    events: &mut broadcast::Receiver<EngineEvent>,
    config: AccountConfig,
    json: bool,
) -> Result<AccountId, Failure> {
    let id = engine
        .register(config)
        .map_err(|e| Failure::Sip(SipError::Internal(e.to_string())))?;
    let registered = async {
        loop {
            let event = next(events).await?;
            output::print_event(&event, json);
            if let EngineEvent::Registration {
                account_id,
                state,
                reason,
            } = &event
                && *account_id == id
            {
                match (state, reason) {
                    (RegistrationState::Registered { .. }, _) => return Ok(()),
                    (
                        RegistrationState::Retrying { .. } | RegistrationState::Failed,
                        Some(reason),
                    ) => return Err(Failure::Sip(reason.clone())),
                    _ => {}
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), registered)
        .await
        .unwrap_or(Err(Failure::Sip(SipError::Timeout)))?;
    Ok(id)
}

async fn next(events: &mut broadcast::Receiver<EngineEvent>) -> Result<EngineEvent, Failure> {
    loop {
        match events.recv().await {
            Ok(event) => return Ok(event),
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => {
                return Err(Failure::Sip(SipError::Internal("engine stopped".into())));
            }
        }
    }
}

fn media_of(args: &MediaArgs) -> CallMedia {
    CallMedia {
        play: args.play.clone(),
        record: args.record.clone(),
        codecs: args.codec.into_iter().collect(),
        devices: args.sound.then(|| sidetone_audio::DeviceChoice {
            input: args.input_device.clone(),
            output: args.output_device.clone(),
        }),
    }
}

async fn place(
    engine: &EngineHandle,
    events: &mut broadcast::Receiver<EngineEvent>,
    account: AccountId,
    args: CallArgs,
) -> Result<(), Failure> {
    let started = Instant::now();
    let call_id = engine
        .dial(&account, &args.target, media_of(&args.media))
        .map_err(|e| Failure::Sip(SipError::Internal(e.to_string())))?;
    follow(
        engine,
        events,
        &call_id,
        &args.media,
        started,
        Some(Duration::from_secs(args.timeout)),
    )
    .await
}

async fn take(
    engine: &EngineHandle,
    events: &mut broadcast::Receiver<EngineEvent>,
    account: AccountId,
    args: AnswerArgs,
) -> Result<(), Failure> {
    let ringing = async {
        loop {
            let event = next(events).await?;
            output::print_event(&event, args.media.json);
            if let EngineEvent::Call {
                account_id,
                call_id,
                direction: CallDirection::Incoming,
                state: CallState::Ringing,
                ..
            } = &event
                && *account_id == account
            {
                return Ok::<_, Failure>(call_id.clone());
            }
        }
    };
    let call_id = tokio::time::timeout(Duration::from_secs(args.timeout), ringing)
        .await
        .unwrap_or(Err(Failure::Call(EndReason::Timeout)))?;
    let started = Instant::now();
    engine
        .answer(&call_id, media_of(&args.media))
        .map_err(|e| Failure::Sip(SipError::Internal(e.to_string())))?;
    follow(engine, events, &call_id, &args.media, started, None).await
}

/// Prints the call's events until it ends; hangs up `duration` after it is established (or
/// when the setup takes longer than `setup_timeout`, or on Ctrl-C).
async fn follow(
    engine: &EngineHandle,
    events: &mut broadcast::Receiver<EngineEvent>,
    call_id: &CallId,
    media: &MediaArgs,
    started: Instant,
    setup_timeout: Option<Duration>,
) -> Result<(), Failure> {
    let far_future = Duration::from_secs(365 * 24 * 3600);
    let deadline = tokio::time::sleep(setup_timeout.unwrap_or(far_future));
    tokio::pin!(deadline);
    let mut established = false;
    let mut hung_up = false;
    loop {
        tokio::select! {
            () = &mut deadline, if !hung_up => {
                hung_up = true;
                let _ = engine.hangup(call_id);
                if !established {
                    // Keep reading until the CANCEL's outcome; report a timeout.
                    let _ = wait_end(events, call_id, media.json, started).await;
                    return Err(Failure::Call(EndReason::Timeout));
                }
            }
            _ = tokio::signal::ctrl_c(), if !hung_up => {
                hung_up = true;
                let _ = engine.hangup(call_id);
            }
            event = next(events) => {
                let event = event?;
                if !concerns(&event, call_id) {
                    continue;
                }
                print_timed(&event, media.json, started);
                if let EngineEvent::Call { state, .. } = &event {
                    match state {
                        CallState::Established if !established => {
                            established = true;
                            let duration = Duration::from_secs_f64(media.duration.max(0.0));
                            deadline
                                .as_mut()
                                .reset(tokio::time::Instant::now() + duration);
                        }
                        CallState::Ended { reason } => {
                            // Let the final stats arrive.
                            let _ = tokio::time::timeout(Duration::from_millis(500), async {
                                while let Ok(event) = next(events).await {
                                    if concerns(&event, call_id) {
                                        print_timed(&event, media.json, started);
                                    }
                                    if matches!(event, EngineEvent::CallStats { .. }) {
                                        break;
                                    }
                                }
                            })
                            .await;
                            return if established && reason.is_normal() {
                                Ok(())
                            } else {
                                Err(Failure::Call(reason.clone()))
                            };
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

async fn wait_end(
    events: &mut broadcast::Receiver<EngineEvent>,
    call_id: &CallId,
    json: bool,
    started: Instant,
) -> Result<(), Failure> {
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let event = next(events).await?;
            if concerns(&event, call_id) {
                print_timed(&event, json, started);
                if matches!(
                    &event,
                    EngineEvent::Call {
                        state: CallState::Ended { .. },
                        ..
                    }
                ) {
                    return Ok::<(), Failure>(());
                }
            }
        }
    })
    .await;
    Ok(())
}

fn concerns(event: &EngineEvent, id: &CallId) -> bool {
    match event {
        EngineEvent::Call { call_id, .. }
        | EngineEvent::CallMedia { call_id, .. }
        | EngineEvent::CallStats { call_id, .. } => call_id == id,
        _ => false,
    }
}

/// Prints an event; JSON call events carry `elapsed_ms` since the dial (or the answer).
fn print_timed(event: &EngineEvent, json: bool, started: Instant) {
    if json {
        let mut value = output::event_json(event);
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "elapsed_ms".into(),
                (started.elapsed().as_millis() as u64).into(),
            );
        }
        println!("{value}");
    } else {
        output::print_event(event, false);
    }
}

fn fail(failure: &Failure, json: bool) -> ExitCode {
    let (code, message, status) = match failure {
        Failure::Sip(error) => (
            error.code().to_owned(),
            error.to_string(),
            match error {
                SipError::WrongPassword => 3,
                SipError::Unreachable(_) => 4,
                SipError::Timeout => 5,
                SipError::TlsUntrusted(_) => 6,
                _ => 1,
            },
        ),
        Failure::Call(reason) => (
            format!(
                "call.{}",
                serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
                    .unwrap_or_default()
            ),
            reason.short(),
            match reason {
                EndReason::Busy => 7,
                EndReason::Declined => 8,
                EndReason::NotFound => 9,
                EndReason::Timeout => 5,
                EndReason::Unreachable => 4,
                EndReason::Unauthorized => 3,
                _ => 1,
            },
        ),
    };
    if json {
        println!(
            "{}",
            serde_json::json!({ "event": "error", "reason": { "code": code, "message": message } })
        );
    }
    eprintln!("sidetone-cli: {message}");
    ExitCode::from(status)
}
