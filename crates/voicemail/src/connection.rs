//! One logged-in IMAP session: connect (plain or TLS), log in, and the few commands sync
//! needs, each counted so tests and benchmarks can see what a sync cost.

use std::collections::HashSet;
use std::time::Duration;

use async_imap::types::{Fetch, Flag, Mailbox};
use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use secrecy::ExposeSecret;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::account::{Security, VoicemailAccount};
use crate::transport::Transport;
use crate::{Result, VoicemailError, tls};

/// The header fields sync reads for a message's metadata (caller, name, duration, date).
const META_FIELDS: &str = "BODY.PEEK[HEADER.FIELDS (FROM DATE X-ASTERISK-VM-CALLER-ID-NUM \
                           X-ASTERISK-VM-CALLER-ID-NAME X-ASTERISK-VM-DURATION \
                           X-ASTERISK-VM-ORIG-TIME)]";

/// What one metadata FETCH returned for a message.
#[derive(Debug, Clone)]
pub(crate) struct FetchedMeta {
    pub uid: u32,
    pub seen: bool,
    pub internal_date_ms: Option<i64>,
    pub header: Vec<u8>,
    pub modseq: Option<u64>,
}

/// What one FLAGS fetch returned for a message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FetchedFlags {
    pub uid: u32,
    pub seen: bool,
    pub modseq: Option<u64>,
}

/// A logged-in session with the server's relevant capabilities.
pub(crate) struct ImapConnection {
    session: Session<Transport>,
    /// The server offers CONDSTORE (RFC 7162): HIGHESTMODSEQ and CHANGEDSINCE.
    pub condstore: bool,
    /// The server offers UIDPLUS (RFC 4315): UID EXPUNGE.
    pub uidplus: bool,
    /// Commands sent on this session, LOGIN included.
    pub commands: u32,
}

impl std::fmt::Debug for ImapConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapConnection")
            .field("condstore", &self.condstore)
            .field("uidplus", &self.uidplus)
            .field("commands", &self.commands)
            .finish_non_exhaustive()
    }
}

/// Connects and logs in, within `timeout`.
pub(crate) async fn connect(
    account: &VoicemailAccount,
    timeout: Duration,
) -> Result<ImapConnection> {
    account.validate()?;
    tokio::time::timeout(timeout, connect_inner(account))
        .await
        .map_err(|_| {
            VoicemailError::Unreachable(format!(
                "no answer from {}:{} within {timeout:?}",
                account.host, account.port
            ))
        })?
}

async fn connect_inner(account: &VoicemailAccount) -> Result<ImapConnection> {
    let host = account.host.trim_start_matches('[').trim_end_matches(']');
    let tcp = TcpStream::connect((host, account.port))
        .await
        .map_err(|e| {
            VoicemailError::Unreachable(format!("{}:{}: {e}", account.host, account.port))
        })?;
    let _ = tcp.set_nodelay(true);
    let transport = match account.security {
        Security::PlainLoopback => Transport::Plain(tcp),
        Security::Tls => {
            let config = tls::client_config(account.ca_file.as_deref())?;
            let name = tls::server_name(&account.host)?;
            let stream = TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| tls::classify_handshake_error(&e))?;
            Transport::Tls(Box::new(stream))
        }
    };
    let mut client = Client::new(transport);
    let greeting = client
        .read_response()
        .await
        .map_err(|e| VoicemailError::Unreachable(format!("reading the greeting: {e}")))?;
    if greeting.is_none() {
        return Err(VoicemailError::Unreachable(
            "the server closed the connection before its greeting".to_owned(),
        ));
    }
    let (mut session, caps) = client
        .login_with_capabilities(&account.username, account.password.expose_secret())
        .await
        .map_err(|(e, _client)| match e {
            async_imap::error::Error::No(_) => VoicemailError::WrongPassword,
            // The password is never echoed: async-imap's BAD text is the server's.
            other => VoicemailError::from_imap(other),
        })?;
    let mut commands = 1;
    let caps = match caps {
        Some(caps) => caps,
        None => {
            commands += 1;
            session
                .capabilities()
                .await
                .map_err(VoicemailError::from_imap)?
        }
    };
    Ok(ImapConnection {
        session,
        condstore: caps.has_str("CONDSTORE") || caps.has_str("QRESYNC"),
        uidplus: caps.has_str("UIDPLUS"),
        commands,
    })
}

fn is_seen(fetch: &Fetch) -> bool {
    fetch.flags().any(|f| matches!(f, Flag::Seen))
}

impl ImapConnection {
    /// SELECTs `folder` (with CONDSTORE when offered, so HIGHESTMODSEQ comes back).
    pub async fn select(&mut self, folder: &str) -> Result<Mailbox> {
        self.commands += 1;
        let result = if self.condstore {
            self.session.select_condstore(folder).await
        } else {
            self.session.select(folder).await
        };
        result.map_err(|e| match e {
            async_imap::error::Error::No(_) => VoicemailError::FolderMissing(folder.to_owned()),
            other => VoicemailError::from_imap(other),
        })
    }

    /// Metadata (flags, internal date, the voicemail header fields) of the UIDs in `set`.
    pub async fn fetch_meta(&mut self, set: &str) -> Result<Vec<FetchedMeta>> {
        let query = format!("(UID FLAGS INTERNALDATE {META_FIELDS})");
        let fetches = self.uid_fetch_all(set, &query).await?;
        Ok(fetches
            .iter()
            .filter_map(|f| {
                Some(FetchedMeta {
                    uid: f.uid?,
                    seen: is_seen(f),
                    internal_date_ms: f.internal_date().map(|d| d.timestamp_millis()),
                    header: f.header().unwrap_or_default().to_vec(),
                    modseq: f.modseq,
                })
            })
            .collect())
    }

    /// The `\Seen` flag of the UIDs in `set`; only those changed after `changed_since` when
    /// given (CONDSTORE).
    pub async fn fetch_flags(
        &mut self,
        set: &str,
        changed_since: Option<u64>,
    ) -> Result<Vec<FetchedFlags>> {
        let query = match changed_since {
            Some(modseq) => format!("(UID FLAGS) (CHANGEDSINCE {modseq})"),
            None => "(UID FLAGS)".to_owned(),
        };
        let fetches = self.uid_fetch_all(set, &query).await?;
        Ok(fetches
            .iter()
            .filter_map(|f| {
                Some(FetchedFlags {
                    uid: f.uid?,
                    seen: is_seen(f),
                    modseq: f.modseq,
                })
            })
            .collect())
    }

    /// Every UID in the selected folder.
    pub async fn all_uids(&mut self) -> Result<HashSet<u32>> {
        self.commands += 1;
        self.session
            .uid_search("ALL")
            .await
            .map_err(VoicemailError::from_imap)
    }

    /// Sets or clears `\Seen` on one message.
    pub async fn set_seen(&mut self, uid: u32, seen: bool) -> Result<()> {
        let op = if seen {
            "+FLAGS.SILENT"
        } else {
            "-FLAGS.SILENT"
        };
        self.store_flags(uid, &format!("{op} (\\Seen)")).await
    }

    /// Deletes one message: `\Deleted`, then `UID EXPUNGE` (UIDPLUS) or `EXPUNGE`.
    pub async fn delete(&mut self, uid: u32) -> Result<()> {
        self.store_flags(uid, "+FLAGS.SILENT (\\Deleted)").await?;
        self.commands += 1;
        if self.uidplus {
            let stream = self.session.uid_expunge(uid.to_string()).await;
            drain(stream).await
        } else {
            let stream = self.session.expunge().await;
            drain(stream).await
        }
    }

    async fn store_flags(&mut self, uid: u32, query: &str) -> Result<()> {
        self.commands += 1;
        let stream = self.session.uid_store(uid.to_string(), query).await;
        drain(stream).await
    }

    /// The whole raw message (`BODY.PEEK[]`: does not set `\Seen`); `None` if no such UID.
    pub async fn fetch_message(&mut self, uid: u32) -> Result<Option<Vec<u8>>> {
        let fetches = self
            .uid_fetch_all(&uid.to_string(), "(UID BODY.PEEK[])")
            .await?;
        Ok(fetches
            .iter()
            .find(|f| f.uid == Some(uid))
            .and_then(|f| f.body())
            .map(<[u8]>::to_vec))
    }

    /// One `UID FETCH` (counted as one command), its responses collected.
    async fn uid_fetch_all(&mut self, set: &str, query: &str) -> Result<Vec<Fetch>> {
        self.commands += 1;
        let stream = self
            .session
            .uid_fetch(set, query)
            .await
            .map_err(VoicemailError::from_imap)?;
        stream
            .try_collect()
            .await
            .map_err(VoicemailError::from_imap)
    }

    /// Says goodbye, waiting at most 2 s; errors are ignored (the work is done).
    pub async fn logout(mut self) {
        self.commands += 1;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.session.logout()).await;
    }
}

/// Reads a command's response stream to its end (the server's answers are not needed, only
/// that the command completed), mapping failures of the command or the stream.
async fn drain<S, T>(stream: std::result::Result<S, async_imap::error::Error>) -> Result<()>
where
    S: futures_util::Stream<Item = std::result::Result<T, async_imap::error::Error>>,
{
    let stream = stream.map_err(VoicemailError::from_imap)?;
    stream
        .try_for_each(|_| std::future::ready(Ok(())))
        .await
        .map_err(VoicemailError::from_imap)
}
