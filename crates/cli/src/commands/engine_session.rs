//! What every engine-driving subcommand starts with: the engine, its event stream, and a
//! small runtime of the command's own to wait on those events and on timers (the engine
//! runs its own).

use std::process::ExitCode;

use sidetone_engine::{Engine, EngineConfig, EngineEvent, EngineHandle};
use tokio::runtime::Runtime;
use tokio::sync::broadcast;

/// A started engine, subscribed from its first event, and the runtime to wait on it with.
pub struct EngineSession {
    /// The engine.
    pub engine: EngineHandle,
    /// Its events, from before anything was asked of it.
    pub events: broadcast::Receiver<EngineEvent>,
    /// A current-thread runtime for the command's waiting.
    pub waiter: Runtime,
}

impl EngineSession {
    /// Starts both; on failure says why on stderr and returns the exit code to end with
    /// (nothing is left running).
    pub fn start() -> Result<Self, ExitCode> {
        let engine = Engine::start(EngineConfig::default()).map_err(|e| {
            eprintln!("sidetone-cli: {e}");
            ExitCode::FAILURE
        })?;
        let events = engine.subscribe();
        let waiter = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                eprintln!("sidetone-cli: {e}");
                let _ = engine.shutdown();
                ExitCode::FAILURE
            })?;
        Ok(Self {
            engine,
            events,
            waiter,
        })
    }
}
