//! The engine's runtime, its supervisor task and the handle that talks to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use sidetone_sip::{
    AccountConfig, AccountId, CallDirection, CallId, CallState, EndReason, NameServer, Password,
};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::account_task::{self, AccountCommand};
use crate::call_task::{CallCommand, CallMedia, CallRegistry, lock_registry};
use crate::{EngineError, EngineEvent};

/// How long [`EngineHandle::dtmf`] and [`EngineHandle::transfer_blind`] wait for the call's
/// task to say whether the request went out (it answers within a tick; a call that ends
/// meanwhile counts as gone).
pub const CALL_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

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
    /// Who answers the DNS queries that locate SIP servers (RFC 3263). `None`: the server
    /// in [`DNS_SERVER_ENV`] when it is set (tests), else the system's configuration.
    pub name_server: Option<NameServer>,
}

/// Environment variable naming a DNS server (`IP:PORT`) to ask instead of the system's
/// configuration when locating SIP servers; read once when the engine starts. For tests
/// against the lab's DNS server, without touching /etc/resolv.conf.
pub const DNS_SERVER_ENV: &str = "SIDETONE_DNS_SERVER";

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            worker_threads: 2,
            shutdown_grace: Duration::from_secs(5),
            event_capacity: 256,
            name_server: None,
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
        let name_server = match config.name_server {
            Some(name_server) => name_server,
            None => name_server_from_env()?,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads.max(1))
            .thread_name("sidetone-engine")
            .enable_all()
            .build()
            .map_err(|e| EngineError::Runtime(e.to_string()))?;
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        let (commands, command_rx) = mpsc::unbounded_channel();
        let calls = CallRegistry::default();
        let supervisor = runtime.spawn(supervise(
            command_rx,
            events.clone(),
            config.shutdown_grace,
            calls.clone(),
            name_server,
        ));
        Ok(EngineHandle {
            shared: Arc::new(Shared {
                commands,
                events,
                calls,
                name_server,
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
    calls: CallRegistry,
    name_server: NameServer,
    runtime: Mutex<Option<(tokio::runtime::Runtime, JoinHandle<()>)>>,
}

/// [`DNS_SERVER_ENV`], when set; a value that is not an address is an error, not a silent
/// fall back to the system's DNS (a test would then pass or fail for the wrong reason).
fn name_server_from_env() -> Result<NameServer, EngineError> {
    match std::env::var(DNS_SERVER_ENV) {
        Ok(text) if !text.trim().is_empty() => NameServer::parse(&text)
            .map_err(|e| EngineError::InvalidSetting(format!("{DNS_SERVER_ENV}: {e}"))),
        _ => Ok(NameServer::System),
    }
}

#[derive(Debug)]
enum Command {
    Register(Box<AccountConfig>),
    Unregister(AccountId),
    SetPassword(AccountId, Option<Password>),
    Dial {
        account_id: AccountId,
        call_id: CallId,
        target: String,
        media: CallMedia,
    },
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

    /// Calls `target` (`sip:user@host`, or a user of the account's domain) from a registered
    /// account, with `media` as its audio. Progress arrives as [`EngineEvent::Call`] events
    /// for the returned id (the call's SIP Call-ID).
    pub fn dial(
        &self,
        account_id: &AccountId,
        target: &str,
        media: CallMedia,
    ) -> Result<CallId, EngineError> {
        let call_id =
            CallId::random(RandomState::new().hash_one((target, std::time::SystemTime::now())));
        self.send(Command::Dial {
            account_id: account_id.clone(),
            call_id: call_id.clone(),
            target: target.to_owned(),
            media,
        })?;
        Ok(call_id)
    }

    /// Answers a ringing incoming call with `media` as its audio.
    pub fn answer(&self, call_id: &CallId, media: CallMedia) -> Result<(), EngineError> {
        self.call_command(call_id, CallCommand::Answer(media))
    }

    /// Mutes (`true`) or unmutes our voice on a call: silence is sent while muted.
    pub fn mute(&self, call_id: &CallId, muted: bool) -> Result<(), EngineError> {
        self.call_command(call_id, CallCommand::Mute(muted))
    }

    /// Puts an established call on hold (`true`) or resumes it (`false`): a re-INVITE whose
    /// SDP says `sendonly` (`inactive` if the far end holds us already) or, to resume,
    /// `sendrecv` (`recvonly` while the far end still holds us), RFC 3264 §8.4. Our voice
    /// stops at once on hold and comes back when the far end accepts the resume. The result
    /// arrives as [`EngineEvent::CallHeld`]; a request made while another re-INVITE is out
    /// is sent after it, and a 491 (glare) is retried after RFC 3261 §14.1's random wait.
    pub fn hold(&self, call_id: &CallId, hold: bool) -> Result<(), EngineError> {
        self.call_command(call_id, CallCommand::Hold(hold))
    }

    /// Sends DTMF `digits` (`0`-`9`, `*`, `#`, `A`-`D`) on an established call as RFC 4733
    /// telephone-events: per digit a 100 ms event (three end packets) in place of voice,
    /// 60 ms apart. Invalid digits fail with [`EngineError::InvalidDtmf`]; a call that agreed
    /// no telephone-event type, is on hold or not yet established fails with
    /// [`EngineError::DtmfUnavailable`] (the call's task answers at once; this waits for it,
    /// at most [`CALL_ANSWER_WAIT`]). Do not call it from inside an async task.
    pub fn dtmf(&self, call_id: &CallId, digits: &str) -> Result<(), EngineError> {
        sidetone_media::dtmf::parse_digits(digits).map_err(EngineError::InvalidDtmf)?;
        self.call_request(call_id, |reply| CallCommand::Dtmf(digits.to_owned(), reply))
    }

    /// Transfers an established call to `target` (an extension or number of the account's
    /// domain, or a `sip:` URI) without consulting it: a REFER asks the far end to call the
    /// target. Progress arrives as [`EngineEvent::CallTransfer`]; once the target answered,
    /// our leg is hung up. A bad target or a call that is not established fails at once
    /// (this waits for the call's task, at most [`CALL_ANSWER_WAIT`]). Do not call it from
    /// inside an async task.
    pub fn transfer_blind(&self, call_id: &CallId, target: &str) -> Result<(), EngineError> {
        self.call_request(call_id, |reply| {
            CallCommand::Transfer(target.to_owned(), reply)
        })
    }

    /// Refuses a ringing incoming call (603 Decline).
    pub fn decline(&self, call_id: &CallId) -> Result<(), EngineError> {
        self.call_command(call_id, CallCommand::Decline)
    }

    /// Hangs up a call: BYE once established, CANCEL while ours rings, 486 for an incoming
    /// call not yet answered.
    pub fn hangup(&self, call_id: &CallId) -> Result<(), EngineError> {
        self.call_command(call_id, CallCommand::Hangup)
    }

    /// Who answers this engine's DNS queries (see [`EngineConfig::name_server`]).
    pub fn name_server(&self) -> NameServer {
        self.shared.name_server
    }

    /// Runs `work` on the engine's runtime and waits for its result, at most `deadline`.
    /// For callers outside any async task (the CLI, the shell's blocking pool).
    pub(crate) fn run_on_engine<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = T> + Send + 'static,
        deadline: Duration,
    ) -> Result<T, EngineError> {
        let handle = self
            .shared
            .runtime
            .lock()
            .map_err(|_| EngineError::Runtime("engine lock poisoned".into()))?
            .as_ref()
            .map(|(runtime, _)| runtime.handle().clone())
            .ok_or(EngineError::Stopped)?;
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        handle.spawn(async move {
            let _ = reply.send(work.await);
        });
        answer
            .recv_timeout(deadline)
            .map_err(|_| EngineError::Runtime("the engine did not answer in time".into()))
    }

    /// Sends a command that the call's task answers, and waits for the answer (at most
    /// [`CALL_ANSWER_WAIT`]; no answer means the call is gone).
    fn call_request(
        &self,
        call_id: &CallId,
        command: impl FnOnce(std::sync::mpsc::SyncSender<Result<(), EngineError>>) -> CallCommand,
    ) -> Result<(), EngineError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.call_command(call_id, command(reply))?;
        answer
            .recv_timeout(CALL_ANSWER_WAIT)
            .map_err(|_| EngineError::UnknownCall(call_id.clone()))?
    }

    fn call_command(&self, call_id: &CallId, command: CallCommand) -> Result<(), EngineError> {
        let sender = lock_registry(&self.shared.calls).get(call_id).cloned();
        sender
            .ok_or_else(|| EngineError::UnknownCall(call_id.clone()))?
            .send(command)
            .map_err(|_| EngineError::UnknownCall(call_id.clone()))
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
    calls: CallRegistry,
    name_server: NameServer,
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
                let task = tokio::spawn(account_task::run(
                    *config,
                    name_server,
                    rx,
                    events.clone(),
                    calls.clone(),
                ));
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
            Command::Dial {
                account_id,
                call_id,
                target,
                media,
            } => {
                let dial = AccountCommand::Dial {
                    call_id: call_id.clone(),
                    target: target.clone(),
                    media,
                };
                let sent = accounts
                    .get(&account_id)
                    .is_some_and(|entry| entry.commands.send(dial).is_ok());
                if !sent {
                    let _ = events.send(EngineEvent::Call {
                        account_id,
                        call_id,
                        direction: CallDirection::Outgoing,
                        remote: target,
                        state: CallState::Ended {
                            reason: EndReason::Unreachable,
                        },
                    });
                }
            }
            Command::Shutdown(done) => {
                // Calls first: their BYEs go out while the accounts are still registered.
                let open_calls: Vec<_> = lock_registry(&calls).values().cloned().collect();
                for call in open_calls {
                    let _ = call.send(CallCommand::Hangup);
                }
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
