use super::*;
use crate::test_support::temp_store;

fn msg(account: &str, uid: u32) -> MessageRef {
    MessageRef {
        account_id: account.into(),
        folder: "INBOX".into(),
        uidvalidity: 7,
        uid,
    }
}

fn update(account: &str, uid: u32, received_at: i64, heard: bool) -> VoicemailUpdate {
    VoicemailUpdate {
        message: msg(account, uid),
        caller: format!("sip:{uid}@example.org"),
        caller_name: Some(format!("Caller {uid}")),
        received_at: UnixMillis(received_at),
        duration: Some(Duration::from_millis(12_340)),
        heard,
    }
}

#[test]
fn upsert_inserts_then_updates_the_same_message() {
    let (_dir, store) = temp_store();
    let vm = store.voicemail();
    let id = vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    let mut changed = update("a", 1, 1_000, false);
    changed.caller_name = Some("New Name".into());
    assert_eq!(
        vm.upsert(&changed).unwrap(),
        id,
        "same server message, same row"
    );
    let got = vm.get(id).unwrap().unwrap();
    assert_eq!(got.caller_name.as_deref(), Some("New Name"));
    assert_eq!(got.duration, Some(Duration::from_millis(12_340)));
    assert_eq!(got.message, msg("a", 1));
    assert!(!got.heard && !got.delete_pending && got.audio.is_none());

    // A new UIDVALIDITY is a different message.
    let mut other = update("a", 1, 1_000, false);
    other.message.uidvalidity = 8;
    assert_ne!(vm.upsert(&other).unwrap(), id);
}

#[test]
fn list_is_newest_first_per_account_and_counts_unheard() {
    let (_dir, store) = temp_store();
    let vm = store.voicemail();
    vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    vm.upsert(&update("a", 2, 3_000, true)).unwrap();
    vm.upsert(&update("a", 3, 2_000, false)).unwrap();
    vm.upsert(&update("b", 1, 5_000, false)).unwrap();
    let uids: Vec<u32> = vm
        .list(Some("a"))
        .unwrap()
        .iter()
        .map(|v| v.message.uid)
        .collect();
    assert_eq!(uids, [2, 3, 1]);
    assert_eq!(vm.list(None).unwrap().len(), 4);
    assert_eq!(vm.unheard_count(Some("a")).unwrap(), 2);
    assert_eq!(vm.unheard_count(Some("b")).unwrap(), 1);
    assert_eq!(vm.unheard_count(None).unwrap(), 3);
    assert_eq!(vm.unheard_count(Some("nobody")).unwrap(), 0);
}

#[test]
fn offline_heard_changes_are_queued_coalesced_and_win_over_the_server() {
    let (_dir, store) = temp_store();
    let vm = store.voicemail();
    let id = vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    vm.set_heard(id, true, UnixMillis(10)).unwrap();
    vm.set_heard(id, false, UnixMillis(11)).unwrap();
    vm.set_heard(id, true, UnixMillis(12)).unwrap();
    let pending = vm.pending_changes().unwrap();
    assert_eq!(pending.len(), 1, "only the latest heard wish: {pending:?}");
    assert_eq!(pending[0].change, VoicemailChange::MarkHeard);
    assert_eq!(pending[0].queued_at, UnixMillis(12));
    assert_eq!(pending[0].message, msg("a", 1));

    // Sync sees the server still unseen: the local wish stands until replayed.
    vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    assert!(vm.get(id).unwrap().unwrap().heard);
    assert_eq!(vm.unheard_count(None).unwrap(), 0);

    assert!(vm.complete_change(pending[0].id).unwrap());
    assert!(!vm.complete_change(pending[0].id).unwrap());
    // With nothing queued, the server is the truth again.
    vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    assert!(!vm.get(id).unwrap().unwrap().heard);
}

#[test]
fn offline_delete_hides_queues_and_survives_sync_until_removed() {
    let (dir, store) = temp_store();
    let vm = store.voicemail();
    let id = vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    let keep = vm.upsert(&update("a", 2, 2_000, false)).unwrap();
    let audio = CachedAudio {
        path: dir.path().join("vm-1.wav"),
        size: 48_000,
    };
    vm.set_audio(id, Some(&audio)).unwrap();
    vm.set_heard(id, true, UnixMillis(5)).unwrap();
    vm.delete(id, UnixMillis(6)).unwrap();

    assert_eq!(vm.list(None).unwrap().len(), 1);
    assert_eq!(vm.unheard_count(None).unwrap(), 1);
    assert!(vm.get(id).unwrap().unwrap().delete_pending);
    // The server still has it: sync must not resurrect it.
    vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    assert_eq!(vm.list(None).unwrap()[0].id, keep);

    let changes: Vec<VoicemailChange> = vm
        .pending_changes()
        .unwrap()
        .iter()
        .map(|p| p.change)
        .collect();
    assert_eq!(
        changes,
        [VoicemailChange::MarkHeard, VoicemailChange::Delete]
    );

    assert_eq!(vm.remove(id).unwrap(), Some(audio));
    assert_eq!(vm.get(id).unwrap(), None);
    assert_eq!(vm.remove(id).unwrap(), None);
    // The queue is keyed by the server identity: removing the row keeps it.
    assert_eq!(vm.pending_changes().unwrap().len(), 2);
}

#[test]
fn audio_can_be_set_and_forgotten() {
    let (_dir, store) = temp_store();
    let vm = store.voicemail();
    let id = vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    let audio = CachedAudio {
        path: PathBuf::from("/cache/vm/1.opus"),
        size: 1234,
    };
    vm.set_audio(id, Some(&audio)).unwrap();
    assert_eq!(vm.get(id).unwrap().unwrap().audio, Some(audio));
    vm.set_audio(id, None).unwrap();
    assert_eq!(vm.get(id).unwrap().unwrap().audio, None);
}

#[test]
fn bad_input_and_unknown_ids() {
    let (_dir, store) = temp_store();
    let vm = store.voicemail();
    let mut zero = update("a", 1, 0, false);
    zero.message.uid = 0;
    assert_eq!(vm.upsert(&zero).unwrap_err().code(), "store.invalid_input");
    let mut no_folder = update("a", 1, 0, false);
    no_folder.message.folder = String::new();
    assert_eq!(
        vm.upsert(&no_folder).unwrap_err().code(),
        "store.invalid_input"
    );
    let ghost = VoicemailId(99);
    assert_eq!(
        vm.set_heard(ghost, true, UnixMillis(1)).unwrap_err().code(),
        "store.not_found"
    );
    assert_eq!(
        vm.delete(ghost, UnixMillis(1)).unwrap_err().code(),
        "store.not_found"
    );
    assert_eq!(
        vm.set_audio(ghost, None).unwrap_err().code(),
        "store.not_found"
    );
    assert!(
        vm.pending_changes().unwrap().is_empty(),
        "failed changes queue nothing"
    );
}

#[test]
fn a_tampered_size_is_a_corrupt_error() {
    let (_dir, store) = temp_store();
    let vm = store.voicemail();
    let id = vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    store
        .conn()
        .execute_batch(
            "PRAGMA ignore_check_constraints = ON;
             UPDATE voicemail SET duration_ms = -5;
             PRAGMA ignore_check_constraints = OFF;",
        )
        .unwrap();
    assert_eq!(vm.get(id).unwrap_err().code(), "store.corrupt");
}

#[test]
fn find_by_server_position_includes_pending_deletes() {
    let (_dir, store) = temp_store();
    let vm = store.voicemail();
    let id = vm.upsert(&update("a", 3, 1_000, false)).unwrap();
    assert_eq!(vm.find(&msg("a", 3)).unwrap().unwrap().id, id);
    assert!(vm.find(&msg("a", 4)).unwrap().is_none());
    assert!(vm.find(&msg("b", 3)).unwrap().is_none());
    vm.delete(id, UnixMillis(2_000)).unwrap();
    let found = vm.find(&msg("a", 3)).unwrap().unwrap();
    assert!(found.delete_pending);
}

#[test]
fn forget_account_removes_its_messages_and_queued_changes_only() {
    let (_dir, store) = temp_store();
    let vm = store.voicemail();
    let a1 = vm.upsert(&update("a", 1, 1_000, false)).unwrap();
    vm.upsert(&update("a", 2, 2_000, false)).unwrap();
    let b1 = vm.upsert(&update("b", 1, 1_000, false)).unwrap();
    let audio = CachedAudio {
        path: PathBuf::from("/cache/a1.wav"),
        size: 10,
    };
    vm.set_audio(a1, Some(&audio)).unwrap();
    vm.set_heard(a1, true, UnixMillis(5)).unwrap();
    vm.set_heard(b1, true, UnixMillis(5)).unwrap();

    let files = vm.forget_account("a").unwrap();
    assert_eq!(
        files,
        vec![audio],
        "the audio file to delete is handed back"
    );
    assert!(vm.list(Some("a")).unwrap().is_empty());
    assert_eq!(
        vm.list(Some("b")).unwrap().len(),
        1,
        "other accounts are kept"
    );
    let pending = vm.pending_changes().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].message.account_id, "b");
}
