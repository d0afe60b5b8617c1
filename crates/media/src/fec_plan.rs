//! How much loss Opus plans its in-band FEC for, from the loss the call actually sees.
//!
//! FEC is not free: at a fixed bitrate, every bit of redundancy is taken from the voice. So
//! a call starts planning for little loss and plans for more only when loss shows up (the
//! PESQ rows of bench/RESULTS.md, with and without loss, are the figures to watch). Until
//! RTCP receiver reports are in, the loss we *receive* (frames the jitter
//! buffer had to conceal) stands in for the loss we cause: most paths lose in both directions.
//!
//! Sans-IO: counters in, a new plan out; no clock (one observation per played frame).

/// What a call plans for before it has seen anything: enough for libopus to keep some
/// redundancy on, little enough to cost almost nothing.
pub const INITIAL_EXPECTED_LOSS_PERCENT: i32 = 2;
/// The most loss planned for (beyond this FEC cannot keep up; concealment takes over).
pub const MAX_EXPECTED_LOSS_PERCENT: i32 = 25;
/// Frames per observation window (5 s at 20 ms).
const WINDOW_FRAMES: u64 = 250;

/// Follows the call's loss and says when the encoder's plan should change.
#[derive(Debug, Clone)]
pub struct FecPlan {
    current: i32,
    frames_in_window: u64,
    concealed_at_window_start: u64,
}

impl Default for FecPlan {
    fn default() -> Self {
        Self {
            current: INITIAL_EXPECTED_LOSS_PERCENT,
            frames_in_window: 0,
            concealed_at_window_start: 0,
        }
    }
}

impl FecPlan {
    /// The loss percentage planned for now.
    pub fn current(&self) -> i32 {
        self.current
    }

    /// Called once per played frame with the running count of concealed frames; returns the
    /// new plan when a window closes and the plan changes. Loss rises at once (up to 1.5 times
    /// the window's loss, plus one point of margin) and falls slowly (halfway per window), so
    /// a bursty path keeps its protection.
    pub fn on_frame_played(&mut self, frames_concealed_total: u64) -> Option<i32> {
        self.frames_in_window += 1;
        if self.frames_in_window < WINDOW_FRAMES {
            return None;
        }
        let concealed = frames_concealed_total.saturating_sub(self.concealed_at_window_start);
        self.concealed_at_window_start = frames_concealed_total;
        self.frames_in_window = 0;
        let loss_percent = (concealed * 100 / WINDOW_FRAMES) as i32;
        let wanted = (loss_percent * 3 / 2 + 1).clamp(0, MAX_EXPECTED_LOSS_PERCENT);
        let next = if wanted >= self.current {
            wanted
        } else {
            (self.current + wanted.max(INITIAL_EXPECTED_LOSS_PERCENT)) / 2
        };
        let next = next.max(INITIAL_EXPECTED_LOSS_PERCENT);
        (next != self.current).then(|| {
            self.current = next;
            next
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays `windows` windows losing `per_window` frames each; returns the plans announced.
    fn run(plan: &mut FecPlan, concealed: &mut u64, per_window: u64, windows: u64) -> Vec<i32> {
        let mut changes = Vec::new();
        for _ in 0..windows {
            for frame in 0..WINDOW_FRAMES {
                if frame < per_window {
                    *concealed += 1;
                }
                if let Some(next) = plan.on_frame_played(*concealed) {
                    changes.push(next);
                }
            }
        }
        changes
    }

    #[test]
    fn a_clean_call_keeps_the_small_initial_plan() {
        let mut plan = FecPlan::default();
        let mut concealed = 0;
        assert!(run(&mut plan, &mut concealed, 0, 10).is_empty());
        assert_eq!(plan.current(), INITIAL_EXPECTED_LOSS_PERCENT);
    }

    #[test]
    fn loss_raises_the_plan_at_once_and_it_decays_slowly() {
        let mut plan = FecPlan::default();
        let mut concealed = 0;
        // 10 % loss (25 of 250 frames): plan 16 % after the first window.
        assert_eq!(run(&mut plan, &mut concealed, 25, 1), vec![16]);
        // The path heals: the plan halves its way down, never below the initial plan.
        assert_eq!(run(&mut plan, &mut concealed, 0, 5), vec![9, 5, 3, 2]);
    }

    #[test]
    fn the_plan_is_capped() {
        let mut plan = FecPlan::default();
        let mut concealed = 0;
        assert_eq!(
            run(&mut plan, &mut concealed, 125, 1),
            vec![MAX_EXPECTED_LOSS_PERCENT]
        );
    }
}
