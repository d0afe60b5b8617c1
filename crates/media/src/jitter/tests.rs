//! The jitter buffer on simulated networks, in fake time.

use std::time::{Duration, Instant};

use super::*;

const FRAME: Duration = Duration::from_millis(20);
const TICKS_PER_FRAME: u32 = 960; // 20 ms at 48 kHz

/// A deterministic pseudo-random source (xorshift), so every run sees the same network.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [0, max).
    fn below(&mut self, max: u64) -> u64 {
        self.next() % max.max(1)
    }
}

fn packet(n: u32) -> Packet<u32> {
    Packet {
        seq: (n % 65_536) as u16,
        timestamp: n.wrapping_mul(TICKS_PER_FRAME),
        marker: n == 0,
        payload: n,
    }
}

/// A simulated call: packet `n` is sent at `n * frame * rate` and arrives after `delay(n)`
/// (None = lost); the playout clock pops every frame. Returns what was played, in order.
fn simulate(
    frames: u32,
    sender_rate: f64,
    mut delay: impl FnMut(u32) -> Option<Duration>,
    buffer: &mut JitterBuffer<u32>,
) -> Vec<Playout<u32>> {
    let start = Instant::now();
    let mut arrivals: Vec<(Duration, u32)> = (0..frames)
        .filter_map(|n| {
            let sent = FRAME.mul_f64(f64::from(n) * sender_rate);
            delay(n).map(|d| (sent + d, n))
        })
        .collect();
    arrivals.sort();
    let mut out = Vec::new();
    let mut next_arrival = 0;
    // Pop until every packet has arrived and been played out, and no longer: the silence
    // after a stream ends is not what these tests look at. The cap keeps a bug from looping.
    let cap = FRAME * (frames * 2 + 200);
    let mut tick = Duration::ZERO;
    while tick < cap && (next_arrival < arrivals.len() || jb_has_audio(buffer)) {
        while next_arrival < arrivals.len() && arrivals[next_arrival].0 <= tick {
            buffer.push(
                packet(arrivals[next_arrival].1),
                start + arrivals[next_arrival].0,
            );
            next_arrival += 1;
        }
        out.push(buffer.pop(start + tick));
        tick += FRAME;
    }
    out
}

fn jb_has_audio(buffer: &JitterBuffer<u32>) -> bool {
    buffer.buffered() > Duration::ZERO
}

fn played(out: &[Playout<u32>]) -> Vec<u32> {
    out.iter()
        .filter_map(|p| match p {
            Playout::Frame(n) => Some(*n),
            _ => None,
        })
        .collect()
}

fn fixed(ms: u64) -> impl FnMut(u32) -> Option<Duration> {
    move |_| Some(Duration::from_millis(ms))
}

#[test]
fn a_clean_stream_plays_every_frame_in_order_at_the_minimum_delay() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let out = simulate(500, 1.0, fixed(30), &mut jb);
    assert_eq!(played(&out), (0..500).collect::<Vec<_>>());
    let s = jb.stats();
    assert_eq!((s.lost, s.late, s.stretched, s.skipped), (0, 0, 0, 0));
    assert_eq!(s.target_delay, Duration::from_millis(20));
}

#[test]
fn reordered_packets_are_played_in_sequence() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    // Every odd packet is overtaken by its successor by 15 ms.
    let out = simulate(
        400,
        1.0,
        |n| Some(Duration::from_millis(if n % 2 == 1 { 45 } else { 30 })),
        &mut jb,
    );
    assert_eq!(played(&out), (0..400).collect::<Vec<_>>());
    assert_eq!(jb.stats().lost, 0);
}

#[test]
fn duplicates_are_counted_and_played_once() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let t0 = Instant::now();
    for n in 0..5 {
        jb.push(packet(n), t0 + FRAME * n);
        jb.push(packet(n), t0 + FRAME * n + Duration::from_millis(1));
    }
    let mut frames = Vec::new();
    for i in 0..10 {
        if let Playout::Frame(n) = jb.pop(t0 + FRAME * (i + 1)) {
            frames.push(n);
        }
    }
    assert_eq!(frames, vec![0, 1, 2, 3, 4]);
    assert_eq!(jb.stats().duplicates, 5);
}

#[test]
fn a_lost_packet_is_concealed_once_with_the_next_packet_offered_for_fec() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let out = simulate(
        100,
        1.0,
        |n| (n != 50).then_some(Duration::from_millis(30)),
        &mut jb,
    );
    let conceal_at = out
        .iter()
        .position(|p| matches!(p, Playout::Conceal { .. }))
        .expect("the gap is concealed");
    assert_eq!(
        out[conceal_at],
        Playout::Conceal {
            fec_source: Some(51)
        }
    );
    assert_eq!(out[conceal_at - 1], Playout::Frame(49));
    assert_eq!(out[conceal_at + 1], Playout::Frame(51));
    assert_eq!(jb.stats().lost, 1);
}

#[test]
fn a_packet_that_comes_after_its_slot_is_late_not_played() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let out = simulate(
        100,
        1.0,
        |n| Some(Duration::from_millis(if n == 30 { 300 } else { 30 })),
        &mut jb,
    );
    assert!(!played(&out).contains(&30));
    assert_eq!(jb.stats().late, 1);
    assert_eq!(jb.stats().lost, 1);
}

#[test]
fn the_target_grows_to_cover_network_jitter_and_few_packets_come_too_late() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut rng = Rng(0x5eed);
    // Delay uniform in 20..80 ms: 60 ms of jitter.
    let out = simulate(
        3_000,
        1.0,
        |_| Some(Duration::from_millis(20 + rng.below(60))),
        &mut jb,
    );
    let s = jb.stats().clone();
    assert!(
        s.jitter >= Duration::from_millis(45),
        "jitter estimate {:?}",
        s.jitter
    );
    assert!(
        s.target_delay >= Duration::from_millis(60),
        "target {:?}",
        s.target_delay
    );
    assert!(
        s.target_delay <= Duration::from_millis(120),
        "target {:?}",
        s.target_delay
    );
    // After the estimate settles, late losses stay rare.
    let late_rate = s.late as f64 / 3_000.0;
    assert!(late_rate < 0.03, "late rate {late_rate} stats {s:?}");
    assert!(played(&out).len() > 2_850, "played {}", played(&out).len());
}

#[test]
fn a_fast_sender_clock_does_not_grow_the_delay() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    // The far end's clock runs 1 % fast for a minute: 30 frames too many.
    let out = simulate(3_000, 0.99, fixed(30), &mut jb);
    let s = jb.stats();
    assert!(s.skipped >= 15, "skipped {} frames", s.skipped);
    assert!(
        jb.buffered() <= Duration::from_millis(80),
        "buffered {:?}",
        jb.buffered()
    );
    assert_eq!(s.overflow, 0);
    assert!(played(&out).len() > 2_900);
}

#[test]
fn a_slow_sender_clock_stretches_but_loses_nothing() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    // 1 % slow: the buffer runs dry now and then and must wait, not skip ahead.
    let out = simulate(3_000, 1.01, fixed(30), &mut jb);
    let s = jb.stats();
    assert_eq!(played(&out), (0..3_000).collect::<Vec<_>>());
    assert!(
        s.stretched >= 15 && s.stretched <= 60,
        "stretched {}",
        s.stretched
    );
    assert_eq!(s.lost, 0);
}

#[test]
fn sequence_numbers_wrapping_mid_call_do_not_disturb_playout() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let t0 = Instant::now();
    let mut frames = Vec::new();
    for i in 0..40u32 {
        let n = 65_516 + i; // wraps at i = 20
        let p = Packet {
            seq: (n % 65_536) as u16,
            timestamp: n * TICKS_PER_FRAME,
            marker: false,
            payload: n,
        };
        jb.push(p, t0 + FRAME * i);
        if let Playout::Frame(n) = jb.pop(t0 + FRAME * i + Duration::from_millis(1)) {
            frames.push(n);
        }
    }
    for i in 40..45u32 {
        if let Playout::Frame(n) = jb.pop(t0 + FRAME * i + Duration::from_millis(1)) {
            frames.push(n);
        }
    }
    assert_eq!(frames, (65_516..65_556).collect::<Vec<_>>());
    assert_eq!(jb.stats().lost, 0);
}

#[test]
fn a_pause_in_the_stream_turns_into_silence_and_playout_resumes_after_it() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    // 1 s with no packets (the far end is silent / on hold), then the stream continues.
    let out = simulate(
        200,
        1.0,
        |n| Some(Duration::from_millis(if n >= 100 { 1_030 } else { 30 })),
        &mut jb,
    );
    let silences = out.iter().filter(|p| matches!(p, Playout::Silence)).count();
    assert!(silences >= 40, "silence frames {silences}");
    assert!(
        jb.stats().stretched <= 6,
        "stretched {}",
        jb.stats().stretched
    );
    assert_eq!(played(&out), (0..200).collect::<Vec<_>>());
}

#[test]
fn the_buffer_never_holds_more_than_its_capacity() {
    let mut jb = JitterBuffer::new(JitterConfig {
        capacity: 10,
        ..JitterConfig::default()
    });
    let t0 = Instant::now();
    for n in 0..50 {
        jb.push(packet(n), t0);
    }
    assert_eq!(jb.stats().overflow, 40);
    assert!(jb.buffered() <= FRAME * 10);
}
