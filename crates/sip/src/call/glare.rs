//! Re-INVITE glare (RFC 3261 §14.1), sans-IO: how long to wait before offering again after
//! a 491 Request Pending, so that the two ends do not collide again.

use std::time::Duration;

/// How many times we send one re-offer in all when each meets a 491.
pub(crate) const GLARE_ATTEMPTS: usize = 3;

/// The wait before retrying after a 491: the owner of the Call-ID (the end that sent the
/// initial INVITE) waits 2.1 to 4 s, the other end 0 to 2 s, both in units of 10 ms, chosen
/// at random. `random` is any random number (the caller draws it).
pub(crate) fn glare_retry_delay(owns_call_id: bool, random: u64) -> Duration {
    let (base, steps) = if owns_call_id { (2100, 191) } else { (0, 201) };
    Duration::from_millis(base + 10 * (random % steps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_of_the_call_id_waits_2_1_to_4_s_the_other_end_0_to_2_s() {
        let owner: Vec<_> = (0..1000u64)
            .map(|r| glare_retry_delay(true, r.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        let other: Vec<_> = (0..1000u64)
            .map(|r| glare_retry_delay(false, r.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        let ms = |d: &Duration| d.as_millis() as u64;
        assert!(owner.iter().all(|d| (2100..=4000).contains(&ms(d))));
        assert!(other.iter().all(|d| ms(d) <= 2000));
        // 10 ms units, and the whole range is used.
        assert!(owner.iter().chain(&other).all(|d| ms(d) % 10 == 0));
        assert_eq!(owner.iter().map(ms).min(), Some(2100));
        assert_eq!(owner.iter().map(ms).max(), Some(4000));
        assert_eq!(other.iter().map(ms).min(), Some(0));
        assert_eq!(other.iter().map(ms).max(), Some(2000));
    }
}
