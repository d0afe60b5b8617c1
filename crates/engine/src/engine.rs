//! The engine's runtime, its supervisor task and the handle that talks to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sidetone_sip::{AccountConfig, AccountId, Password};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::account_task::{self, AccountCommand};
use crate::{EngineError, EngineEvent};

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Runtime worker threads (signalling is light; audio has its own threads).
    pub worker_threads: usize,
    /// How long [`EngineHandle::shutdown`] waits for accounts to unregister. A dead UDP
    /// registrar would otherwise hold shutdown for a whole Timer F (32 s).
    pub shutdown_grace: Duration,
    /// How many events a slow subscriber may fall behind before it misses some.
    pub event_capacity: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            worker_threads: 2,
            shutdown_grace: Duration::from_secs(5),
            event_capacity: 256,
        }
    }
}

/// Starts the engine.
#[derive(Debug)]
pub struct Engine;

impl Engine {
    /// Builds the runtime and starts the supervisor. Returns the handle to command it.
    pub fn start(config: EngineConfig) -> Result<EngineHandle, EngineError> {
        sidetone_sip::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads.max(1))
            .thread_name("sidetone-engine")
            .enable_all()
            .build()
            .map_err(|e| EngineError::Runtime(e.to_string()))?;
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        let (commands, command_rx) = mpsc::unbounded_channel();
        let supervisor =
            runtime.spawn(supervise(command_rx, events.clone(), config.shutdown_grace));
        Ok(EngineHandle {
            shared: Arc::new(Shared {
                commands,
                events,
                runtime: Mutex::new(Some((runtime, supervisor))),
            }),
        })
    }
}

/// Commands in, events out. Cheap to clone; every clone talks to the same engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    events: broadcast::Sender<EngineEvent>,
    runtime: Mutex<Option<(tokio::runtime::Runtime, JoinHandle<()>)>>,
}

#[derive(Debug)]
enum Command {
    Register(Box<AccountConfig>),
    Unregister(AccountId),
    SetPassword(AccountId, Option<Password>),
    Shutdown(oneshot::Sender<()>),
}

impl EngineHandle {
    /// Receives every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.shared.events.subscribe()
    }

    /// Registers an account (or, for a known id, registers again now with the new config).
    pub fn register(&self, account: AccountConfig) -> Result<AccountId, EngineError> {
        let id = account.id.clone();
        self.send(Command::Register(Box::new(account)))?;
        Ok(id)
    }

    /// Unregisters an account (`Expires: 0`) and forgets it.
    pub fn unregister(&self, account_id: &AccountId) -> Result<(), EngineError> {
        self.send(Command::Unregister(account_id.clone()))
    }

    /// Gives an account a new password; a lockout after a wrong password ends and it
    /// registers again at once.
    pub fn set_password(
        &self,
        account_id: &AccountId,
        password: Option<Password>,
    ) -> Result<(), EngineError> {
        self.send(Command::SetPassword(account_id.clone(), password))
    }

    /// Unregisters every account (waiting at most the configured grace), then stops the
    /// runtime. Blocks: call it from a plain thread, not from async code.
    pub fn shutdown(&self) -> Result<(), EngineError> {
        let taken = self
            .shared
            .runtime
            .lock()
            .map_err(|_| EngineError::Runtime("engine lock poisoned".into()))?
            .take();
        let Some((runtime, supervisor)) = taken else {
            return Err(EngineError::Stopped);
        };
        let (done_tx, done_rx) = oneshot::channel();
        if self
            .shared
            .commands
            .send(Command::Shutdown(done_tx))
            .is_ok()
        {
            // The supervisor bounds its own wait by the grace period.
            let _ = runtime.block_on(async {
                let _ = done_rx.await;
                supervisor.await
            });
        }
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(())
    }

    fn send(&self, command: Command) -> Result<(), EngineError> {
        self.shared
            .commands
            .send(command)
            .map_err(|_| EngineError::Stopped)
    }
}

struct AccountEntry {
    commands: mpsc::UnboundedSender<AccountCommand>,
    task: JoinHandle<()>,
}

async fn supervise(
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: broadcast::Sender<EngineEvent>,
    grace: Duration,
) {
    let mut accounts: HashMap<AccountId, AccountEntry> = HashMap::new();
    while let Some(command) = commands.recv().await {
        // Forget tasks that ended by themselves.
        accounts.retain(|_, entry| !entry.task.is_finished());
        match command {
            Command::Register(config) => {
                if let Some(old) = accounts.remove(&config.id) {
                    // A new config replaces the old flow: unregister that one first.
                    let _ = old.commands.send(AccountCommand::Stop);
                    let _ = tokio::time::timeout(grace, old.task).await;
                }
                let (tx, rx) = mpsc::unbounded_channel();
                let id = config.id.clone();
                let task = tokio::spawn(account_task::run(*config, rx, events.clone()));
                accounts.insert(id, AccountEntry { commands: tx, task });
            }
            Command::Unregister(id) => {
                if let Some(entry) = accounts.get(&id) {
                    let _ = entry.commands.send(AccountCommand::Stop);
                }
            }
            Command::SetPassword(id, password) => {
                if let Some(entry) = accounts.get(&id) {
                    let _ = entry.commands.send(AccountCommand::SetPassword(password));
                }
            }
            Command::Shutdown(done) => {
                for entry in accounts.values() {
                    let _ = entry.commands.send(AccountCommand::Stop);
                }
                let all = futures_join_all(accounts.drain().map(|(_, entry)| entry.task));
                let _ = tokio::time::timeout(grace, all).await;
                let _ = done.send(());
                return;
            }
        }
    }
}

/// Awaits every task (a tiny join_all, to avoid a futures dependency for one call).
async fn futures_join_all(tasks: impl Iterator<Item = JoinHandle<()>>) {
    for task in tasks.collect::<Vec<_>>() {
        let _ = task.await;
    }
}
