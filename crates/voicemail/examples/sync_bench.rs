//! Times voicemail sync against the lab's Dovecot: APPENDs 1,000 voicemails (headers + a
//! tiny WAV attachment) to a fresh folder, then times the first sync (metadata of all) and
//! a no-change resync. Targets: first sync ≤ 3 s, no-change resync ≤ 100 ms.
//!
//! `cargo run --release -p sidetone-voicemail --example sync_bench [-- COUNT]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use sidetone_store::UnixMillis;
use sidetone_voicemail::VoicemailSync;

fn now() -> UnixMillis {
    UnixMillis::from_system_time(std::time::SystemTime::now())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let count: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("COUNT is a number"))
        .unwrap_or(1000);
    let folder = "Bench";
    let t = Instant::now();
    common::lab();
    println!("lab up in {:?}", t.elapsed());

    common::fresh_folder(folder).await;
    let tiny = common::wav(80); // 10 ms
    let messages: Vec<Vec<u8>> = (1..=count)
        .map(|n| {
            common::voicemail_message(
                n,
                &format!("+1555{n:07}"),
                &format!("Caller {n}"),
                n % 120,
                1_795_000_000 + i64::from(n),
                &tiny,
            )
        })
        .collect();
    let t = Instant::now();
    common::append(folder, &messages).await;
    println!("appended {count} messages in {:?}", t.elapsed());

    let account = common::account(folder);
    let (_dir, store) = common::store();
    let sync = VoicemailSync::new();

    let t = Instant::now();
    let first = sync.sync(&account, &store, now()).await.unwrap();
    let first_took = t.elapsed();
    assert_eq!(first.added, count as usize, "{first:?}");
    println!("first sync ({count} messages, metadata): {first_took:?}  {first:?}");

    let mut resyncs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = sync.sync(&account, &store, now()).await.unwrap();
        resyncs.push(t.elapsed());
        assert_eq!(
            (r.metadata_fetched, r.flags_fetched, r.added),
            (0, 0, 0),
            "{r:?}"
        );
    }
    resyncs.sort();
    let median = resyncs[resyncs.len() / 2];
    println!(
        "no-change resync: median {median:?}, min {:?}, max {:?} (5 runs)",
        resyncs[0],
        resyncs[resyncs.len() - 1]
    );
    let verdict = |took: Duration, target: Duration| if took <= target { "OK" } else { "OVER" };
    println!(
        "targets: first sync {} (≤ 3 s), no-change resync {} (≤ 100 ms)",
        verdict(first_took, Duration::from_secs(3)),
        verdict(median, Duration::from_millis(100))
    );
}
