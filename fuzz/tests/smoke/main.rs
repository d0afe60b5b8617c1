//! CI's smoke run of every fuzz target on stable Rust: each input of the checked-in corpus
//! (`fuzz/corpus/<target>/`), then seeded mutations of them for a bounded count and time.
//! The long coverage-guided runs are `fuzz/run` (libFuzzer); both call the same functions.
//!
//! A failing input is written to `$CARGO_TARGET_TMPDIR/fuzz-failures/<target>/`, and the
//! message says how to replay it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mutator;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mutator::{Rng, mutate};
use sidetone_fuzz::{TARGETS, Target};

/// Mutated inputs per target, at most.
const MUTATIONS: usize = 4_000;
/// Time per target for mutations, at most (debug builds are slower than libFuzzer's).
const MUTATION_TIME: Duration = Duration::from_secs(6);

fn corpus_dir(target: &Target) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target.name)
}

fn corpus(target: &Target) -> Vec<Vec<u8>> {
    let dir = corpus_dir(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// Runs one input; on a panic saves it and fails with the way to replay it.
fn run_one(target: &Target, input: &[u8], origin: &str) {
    if catch_unwind(AssertUnwindSafe(|| (target.run)(input))).is_ok() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-failures")
        .join(target.name);
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(format!("{origin}.bin"));
    let _ = std::fs::write(&file, input);
    panic!(
        "fuzz target {} panicked on {origin} ({} bytes), saved as {}; replay: \
         fuzz/run {} {}",
        target.name,
        input.len(),
        file.display(),
        target.name,
        file.display()
    );
}

fn smoke(target: &Target) {
    let inputs = corpus(target);
    assert!(
        inputs.len() >= 3,
        "{}: the corpus needs at least three seeds",
        corpus_dir(target).display()
    );
    for (i, input) in inputs.iter().enumerate() {
        run_one(target, input, &format!("corpus-{i}"));
    }
    let mut rng = Rng::new(0x51de_70e0 ^ target.name.len() as u64);
    let started = Instant::now();
    let mut done = 0;
    while done < MUTATIONS && started.elapsed() < MUTATION_TIME {
        let input = &inputs[rng.below(inputs.len())];
        let other = &inputs[rng.below(inputs.len())];
        let mutated = mutate(&mut rng, input, other);
        run_one(target, &mutated, &format!("mutation-{done}"));
        done += 1;
    }
    eprintln!(
        "{}: {} corpus inputs, {done} mutations in {:.1} s",
        target.name,
        inputs.len(),
        started.elapsed().as_secs_f64()
    );
}

macro_rules! smoke_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let target = TARGETS
                    .iter()
                    .find(|t| t.name == stringify!($name))
                    .expect("a target of that name");
                smoke(target);
            }
        )*

        #[test]
        fn every_target_has_a_smoke_test_and_a_libfuzzer_binary() {
            let tested = [$(stringify!($name)),*];
            let manifest = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
            )
            .expect("fuzz/Cargo.toml");
            for target in TARGETS {
                assert!(tested.contains(&target.name), "{} has no smoke test", target.name);
                let entry = format!("fuzz_targets/{}.rs", target.name);
                assert!(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join(&entry).is_file()
                        && manifest.contains(&format!("name = \"{}\"", target.name))
                        && manifest.contains(&format!("path = \"{entry}\"")),
                    "{}: no [[bin]] with {entry} in fuzz/Cargo.toml",
                    target.name
                );
            }
        }
    };
}

smoke_tests!(
    sip_datagram,
    sip_stream,
    sip_uri,
    message_summary,
    sdp_offer,
    rtp_receive,
    deep_link,
    auth_code,
    provisioning_document,
    provisioning_answer,
    qr_image,
    webfinger_jrd,
    sso_callback,
    oidc_json,
    voicemail_message,
);
