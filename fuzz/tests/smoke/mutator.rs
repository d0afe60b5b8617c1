//! Seeded mutations of corpus inputs: a small, deterministic stand-in for libFuzzer's
//! mutators, so the smoke run on stable Rust also feeds inputs nobody wrote by hand.

/// A xorshift64* generator: deterministic for a seed, so a failing input can be made again.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value; zero is replaced).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that matter to the parsers under test: delimiters, digits, high bytes.
const INTERESTING: &[u8] = b"\0\r\n \t:;,=<>\"'@%?&#/[]{}\\-+.0123456789\x7f\x80\xff";

/// Applies one to four random edits to `input`, taking material from `other` for splices.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                out[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                out[at] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let at = rng.below(len + 1);
                out.insert(at, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                out.drain(at..end);
            }
            4 if len > 0 => {
                // Repeat a slice: long headers, deep nesting, many packets.
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                let piece = out[at..end].to_vec();
                for _ in 0..=rng.below(8) {
                    out.splice(at..at, piece.iter().copied());
                }
            }
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                let at = rng.below(len + 1);
                out.splice(at..at, other[from..end].iter().copied());
            }
            6 if len > 0 => out.truncate(rng.below(len)),
            _ => {
                // Overwrite with a boundary number as text (lengths, ports, counts).
                let number =
                    ["0", "-1", "65536", "4294967296", "99999999999999999999"][rng.below(5)];
                let at = rng.below(len + 1);
                out.splice(at..at, number.bytes());
            }
        }
    }
    out
}
