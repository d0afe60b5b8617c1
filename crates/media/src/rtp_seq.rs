//! Extends RTP's 16-bit sequence numbers to 64 bits, across wrap-around and reordering.

/// Turns the wrapping 16-bit RTP sequence numbers of one stream into a monotonic 64-bit count.
///
/// A packet is placed in the 65,536-wide window centred on the highest number seen so far, so
/// reordered packets from before a wrap and new packets after it both land correctly
/// (the approach of RFC 3550, Appendix A.1, without its probation step).
#[derive(Debug, Default, Clone)]
pub struct SequenceExtender {
    highest: Option<u64>,
}

impl SequenceExtender {
    /// A fresh extender for a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The 64-bit sequence number of a packet with 16-bit number `seq`.
    pub fn extend(&mut self, seq: u16) -> u64 {
        let Some(highest) = self.highest else {
            // Start one cycle up, so packets reordered from just before the first cannot go
            // below zero.
            let first = (1u64 << 16) + u64::from(seq);
            self.highest = Some(first);
            return first;
        };
        let cycle = highest & !0xFFFF;
        let candidates = [
            cycle.wrapping_sub(1 << 16) | u64::from(seq),
            cycle | u64::from(seq),
            (cycle + (1 << 16)) | u64::from(seq),
        ];
        let extended = candidates
            .into_iter()
            .min_by_key(|c| c.abs_diff(highest))
            .unwrap_or(cycle | u64::from(seq));
        if extended > highest {
            self.highest = Some(extended);
        }
        extended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_across_a_wrap() {
        let mut ext = SequenceExtender::new();
        let a = ext.extend(65534);
        let b = ext.extend(65535);
        let c = ext.extend(0);
        let d = ext.extend(1);
        assert_eq!([b - a, c - b, d - c], [1, 1, 1]);
    }

    #[test]
    fn places_a_packet_reordered_across_the_wrap_before_its_successors() {
        let mut ext = SequenceExtender::new();
        let last_before = ext.extend(65533);
        let after = ext.extend(2);
        let late = ext.extend(65535);
        assert!(last_before < late && late < after);
        assert_eq!(after - late, 3);
    }

    #[test]
    fn a_packet_reordered_before_the_first_stays_below_it() {
        let mut ext = SequenceExtender::new();
        let first = ext.extend(5);
        let earlier = ext.extend(3);
        assert_eq!(first - earlier, 2);
    }
}
