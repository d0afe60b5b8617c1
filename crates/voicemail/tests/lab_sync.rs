//! Sync against the lab's real Dovecot: first sync, incremental resyncs, heard both ways,
//! deletes both ways, offline queue, UIDVALIDITY change, audio download and cache cap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use sidetone_store::UnixMillis;
use sidetone_voicemail::{AudioCache, VoicemailSync};

fn now() -> UnixMillis {
    UnixMillis::from_system_time(std::time::SystemTime::now())
}

#[tokio::test]
async fn seeded_inbox_first_sync_resync_heard_and_delete() {
    let account = account("INBOX");
    let (_dir, store) = store();
    let sync = VoicemailSync::new();

    // First sync: the 3 seeded voicemails, caller, name, duration and heard right.
    let t = Instant::now();
    let report = sync.sync(&account, &store, now()).await.unwrap();
    println!(
        "first sync of the seeded INBOX: {:?} {report:?}",
        t.elapsed()
    );
    assert!(report.full);
    assert_eq!(report.added, 3);
    let list = store.lock().unwrap().voicemail().list(None).unwrap();
    assert_eq!(list.len(), 3, "{list:#?}");
    // Newest first: Clinic (12 min), Dave (5 h), Carol (2 days, heard).
    let callers: Vec<_> = list.iter().map(|v| v.caller.as_str()).collect();
    assert_eq!(callers, ["1002", "+15551234567", "1003"]);
    let names: Vec<_> = list.iter().map(|v| v.caller_name.as_deref()).collect();
    assert_eq!(
        names,
        [Some("Clinic"), Some("Dave Front Desk"), Some("Carol Jones")]
    );
    let heard: Vec<_> = list.iter().map(|v| v.heard).collect();
    assert_eq!(heard, [false, false, true]);
    for v in &list {
        let d = v.duration.expect("duration from X-Asterisk-VM-Duration");
        assert!(
            d >= Duration::from_secs(1) && d < Duration::from_secs(60),
            "{d:?}"
        );
        let age = now().millis_since(v.received_at);
        assert!(age > 0 && age < 3 * 24 * 3600 * 1000, "age {age} ms");
    }
    assert_eq!(
        store
            .lock()
            .unwrap()
            .voicemail()
            .unheard_count(None)
            .unwrap(),
        2
    );

    // A no-change resync fetches nothing but the folder status.
    let t = Instant::now();
    let report = sync.sync(&account, &store, now()).await.unwrap();
    let took = t.elapsed();
    println!("no-change resync: {took:?} {report:?}");
    assert!(!report.full);
    assert_eq!((report.metadata_fetched, report.flags_fetched), (0, 0));
    assert!(
        report.commands <= 4,
        "LOGIN, (CAPABILITY), SELECT, LOGOUT: {report:?}"
    );
    assert!(took < Duration::from_millis(500), "{took:?}");

    // A new message appears on resync, with only its metadata fetched.
    append(
        "INBOX",
        &[voicemail_message(
            4,
            "1004",
            "Eve",
            9,
            now().as_millis() / 1000,
            &wav(800),
        )],
    )
    .await;
    let report = sync.sync(&account, &store, now()).await.unwrap();
    println!("resync after one new message: {report:?}");
    assert_eq!((report.added, report.metadata_fetched), (1, 1));
    let list = store.lock().unwrap().voicemail().list(None).unwrap();
    assert_eq!(list.len(), 4);
    let eve = list.iter().find(|v| v.caller == "1004").unwrap();
    assert_eq!(eve.caller_name.as_deref(), Some("Eve"));
    assert_eq!(eve.duration, Some(Duration::from_secs(9)));
    assert!(!eve.heard);

    // Heard on the server (another client) shows here.
    let dave = list
        .iter()
        .find(|v| v.caller == "+15551234567")
        .unwrap()
        .clone();
    server_store("INBOX", dave.message.uid, "+FLAGS.SILENT (\\Seen)").await;
    let report = sync.sync(&account, &store, now()).await.unwrap();
    println!("resync after heard elsewhere: {report:?}");
    assert_eq!(report.flags_changed, 1);
    assert!(
        store
            .lock()
            .unwrap()
            .voicemail()
            .get(dave.id)
            .unwrap()
            .unwrap()
            .heard
    );

    // Heard here shows on the server.
    store
        .lock()
        .unwrap()
        .voicemail()
        .set_heard(eve.id, true, now())
        .unwrap();
    let report = sync.sync(&account, &store, now()).await.unwrap();
    assert_eq!(report.changes_applied, 1);
    assert_eq!(
        server_seen("INBOX").await.get(&eve.message.uid),
        Some(&true)
    );
    assert!(
        store
            .lock()
            .unwrap()
            .voicemail()
            .pending_changes()
            .unwrap()
            .is_empty()
    );

    // Deleted on the server → gone here after sync.
    server_delete("INBOX", dave.message.uid).await;
    let report = sync.sync(&account, &store, now()).await.unwrap();
    println!("resync after delete elsewhere: {report:?}");
    assert_eq!(report.removed, 1);
    assert!(
        store
            .lock()
            .unwrap()
            .voicemail()
            .get(dave.id)
            .unwrap()
            .is_none()
    );

    // Deleted here → expunged on the server.
    store
        .lock()
        .unwrap()
        .voicemail()
        .delete(eve.id, now())
        .unwrap();
    let report = sync.sync(&account, &store, now()).await.unwrap();
    assert_eq!(report.changes_applied, 1);
    assert!(!server_seen("INBOX").await.contains_key(&eve.message.uid));
    assert!(
        store
            .lock()
            .unwrap()
            .voicemail()
            .get(eve.id)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.lock().unwrap().voicemail().list(None).unwrap().len(),
        2
    );

    // And the cache is quiet again.
    let report = sync.sync(&account, &store, now()).await.unwrap();
    assert_eq!(
        (
            report.metadata_fetched,
            report.flags_fetched,
            report.removed
        ),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn offline_changes_wait_for_the_server() {
    let folder = "OfflineTest";
    fresh_folder(folder).await;
    append(
        folder,
        &[voicemail_message(
            1,
            "2001",
            "Frank",
            3,
            1_795_000_000,
            &wav(400),
        )],
    )
    .await;
    let online = account(folder);
    let mut offline = online.clone();
    offline.port = closed_port();
    let (_dir, store) = store();
    let sync = VoicemailSync::with_timeout(Duration::from_secs(2));
    sync.sync(&online, &store, now()).await.unwrap();
    let id = store.lock().unwrap().voicemail().list(None).unwrap()[0].id;

    // The server is away: the change is made here and queued.
    store
        .lock()
        .unwrap()
        .voicemail()
        .set_heard(id, true, now())
        .unwrap();
    let err = sync.sync(&offline, &store, now()).await.unwrap_err();
    assert_eq!(err.code(), "voicemail.unreachable", "{err}");
    assert!(err.is_offline());
    assert_eq!(
        store
            .lock()
            .unwrap()
            .voicemail()
            .pending_changes()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .lock()
            .unwrap()
            .voicemail()
            .unheard_count(None)
            .unwrap(),
        0
    );
    assert_eq!(
        server_seen(folder).await.into_values().collect::<Vec<_>>(),
        [false]
    );

    // Back online: applied, queue empty.
    let report = sync.sync(&online, &store, now()).await.unwrap();
    assert_eq!(report.changes_applied, 1);
    assert!(
        store
            .lock()
            .unwrap()
            .voicemail()
            .pending_changes()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        server_seen(folder).await.into_values().collect::<Vec<_>>(),
        [true]
    );
}

#[tokio::test]
async fn uidvalidity_change_forces_a_full_resync() {
    let folder = "RebuiltTest";
    fresh_folder(folder).await;
    append(
        folder,
        &[
            voicemail_message(1, "3001", "A", 1, 1_795_000_000, &wav(100)),
            voicemail_message(2, "3002", "B", 2, 1_795_000_100, &wav(100)),
        ],
    )
    .await;
    let account = account(folder);
    let (_dir, store) = store();
    let sync = VoicemailSync::new();
    sync.sync(&account, &store, now()).await.unwrap();
    let before =
        sidetone_voicemail::folder_state(&store.lock().unwrap(), &account.account_id, folder)
            .unwrap()
            .unwrap();

    // Deleting and recreating the folder gives it a new UIDVALIDITY.
    tokio::time::sleep(Duration::from_millis(1100)).await; // Dovecot's UIDVALIDITY is a clock
    fresh_folder(folder).await;
    append(
        folder,
        &[voicemail_message(
            1,
            "3003",
            "C",
            3,
            1_795_000_200,
            &wav(100),
        )],
    )
    .await;
    let report = sync.sync(&account, &store, now()).await.unwrap();
    println!("after the folder was rebuilt: {report:?}");
    assert!(report.full);
    assert_eq!((report.added, report.removed), (1, 2));
    let after =
        sidetone_voicemail::folder_state(&store.lock().unwrap(), &account.account_id, folder)
            .unwrap()
            .unwrap();
    assert_ne!(before.uidvalidity, after.uidvalidity);
    let list = store.lock().unwrap().voicemail().list(None).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].caller, "3003");
}

#[tokio::test]
async fn audio_download_save_as_and_cache_cap() {
    let folder = "AudioTest";
    fresh_folder(folder).await;
    let messages: Vec<_> = (1..=3)
        .map(|n| {
            voicemail_message(
                n,
                &format!("400{n}"),
                "Gina",
                2,
                1_795_000_000 + i64::from(n),
                &wav(16_000),
            )
        })
        .collect();
    append(folder, &messages).await;
    let account = account(folder);
    let (dir, store) = store();
    let sync = VoicemailSync::new();
    sync.sync(&account, &store, now()).await.unwrap();
    let ids: Vec<_> = {
        let mut l = store.lock().unwrap().voicemail().list(None).unwrap();
        l.sort_by_key(|v| v.message.uid);
        l.iter().map(|v| v.id).collect()
    };
    // Room for two 32 KB files, not three.
    let cache = AudioCache::new(dir.path().join("audio"), 70_000);

    let t = Instant::now();
    let first = sync.audio(&account, &store, ids[0], &cache).await.unwrap();
    println!("audio download: {:?}", t.elapsed());
    let bytes = std::fs::read(&first).unwrap();
    assert_eq!(bytes, wav(16_000), "the attachment, decoded byte for byte");
    let cached = store
        .lock()
        .unwrap()
        .voicemail()
        .get(ids[0])
        .unwrap()
        .unwrap();
    assert_eq!(
        cached.audio.as_ref().map(|a| a.size),
        Some(bytes.len() as u64)
    );
    assert!(
        !cached.heard,
        "listening via BODY.PEEK does not mark it heard"
    );

    // Save as WAV: a valid RIFF/WAVE file of 2 s.
    let dest = dir.path().join("saved.wav");
    let n = sync
        .save_as_wav(&account, &store, ids[0], &cache, &dest)
        .await
        .unwrap();
    let saved = std::fs::read(&dest).unwrap();
    assert_eq!(n as usize, saved.len());
    assert_eq!(&saved[0..4], b"RIFF");
    assert_eq!(&saved[8..12], b"WAVE");
    let data_len = u32::from_le_bytes(saved[40..44].try_into().unwrap());
    assert_eq!(data_len, 32_000, "2 s of 8 kHz 16-bit mono");

    std::thread::sleep(Duration::from_millis(20));
    let second = sync.audio(&account, &store, ids[1], &cache).await.unwrap();
    std::thread::sleep(Duration::from_millis(20));
    // Use the first again: now the second is the least recently used.
    assert_eq!(
        sync.audio(&account, &store, ids[0], &cache).await.unwrap(),
        first
    );
    std::thread::sleep(Duration::from_millis(20));
    let third = sync.audio(&account, &store, ids[2], &cache).await.unwrap();
    assert!(first.exists() && third.exists());
    assert!(!second.exists(), "least recently used evicted");
    let evicted = store
        .lock()
        .unwrap()
        .voicemail()
        .get(ids[1])
        .unwrap()
        .unwrap();
    assert!(evicted.audio.is_none(), "the store forgot the evicted file");
}

#[tokio::test]
async fn tls_with_the_lab_ca_and_refusals() {
    let folder = "TlsTest";
    fresh_folder(folder).await;
    append(
        folder,
        &[voicemail_message(
            1,
            "5001",
            "Hal",
            1,
            1_795_000_000,
            &wav(100),
        )],
    )
    .await;
    let (_dir, store) = store();
    let sync = VoicemailSync::new();

    let report = sync
        .sync(&tls_account(folder), &store, now())
        .await
        .unwrap();
    assert_eq!(report.added, 1);

    let mut untrusted = tls_account(folder);
    untrusted.ca_file = None;
    let err = sync.sync(&untrusted, &store, now()).await.unwrap_err();
    assert_eq!(err.code(), "voicemail.tls", "{err}");

    let mut wrong = account(folder);
    wrong.password = secrecy::SecretString::from("not-the-password".to_owned());
    let err = sync.sync(&wrong, &store, now()).await.unwrap_err();
    assert_eq!(err.code(), "voicemail.wrong_password", "{err}");
    assert!(!err.to_string().contains("not-the-password"));

    let err = sync
        .sync(&account("NoSuchFolder"), &store, now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "voicemail.folder_missing", "{err}");
}

#[test]
fn sync_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let (_dir, store) = store();
    let account = account("INBOX");
    let sync = VoicemailSync::new();
    is_send(&sync.sync(&account, &store, UnixMillis(0)));
}

#[tokio::test]
async fn resync_without_condstore_reads_all_flags() {
    let folder = "NoCondstoreTest";
    fresh_folder(folder).await;
    append(
        folder,
        &[
            voicemail_message(1, "6001", "Ida", 4, 1_795_000_000, &wav(100)),
            voicemail_message(2, "6002", "Jon", 5, 1_795_000_100, &wav(100)),
        ],
    )
    .await;
    let account = account(folder);
    let (_dir, store) = store();
    let sync = VoicemailSync::new().use_condstore(false);
    sync.sync(&account, &store, now()).await.unwrap();
    let state =
        sidetone_voicemail::folder_state(&store.lock().unwrap(), &account.account_id, folder)
            .unwrap()
            .unwrap();
    assert_eq!(state.highest_modseq, None);

    let report = sync.sync(&account, &store, now()).await.unwrap();
    println!("no-change resync without CONDSTORE: {report:?}");
    assert_eq!((report.metadata_fetched, report.flags_fetched), (0, 2));
    assert_eq!(
        (report.added, report.flags_changed, report.removed),
        (0, 0, 0)
    );

    let list = store.lock().unwrap().voicemail().list(None).unwrap();
    let ida = list.iter().find(|v| v.caller == "6001").unwrap().clone();
    let jon = list.iter().find(|v| v.caller == "6002").unwrap().clone();
    server_store(folder, ida.message.uid, "+FLAGS.SILENT (\\Seen)").await;
    server_delete(folder, jon.message.uid).await;
    append(
        folder,
        &[voicemail_message(
            3,
            "6003",
            "Kim",
            6,
            1_795_000_200,
            &wav(100),
        )],
    )
    .await;
    let report = sync.sync(&account, &store, now()).await.unwrap();
    println!("resync without CONDSTORE after changes: {report:?}");
    assert_eq!(
        (report.added, report.flags_changed, report.removed),
        (1, 1, 1)
    );
    let list = store.lock().unwrap().voicemail().list(None).unwrap();
    let callers: Vec<_> = list.iter().map(|v| (v.caller.as_str(), v.heard)).collect();
    assert_eq!(callers, [("6003", false), ("6001", true)]);
}
