//! Call hold, sans-IO (RFC 3264 §8.4, RFC 6337 §5): who holds whom, which direction our
//! offers and answers carry, and whether our voice may go out.
//!
//! Hold is said by the offerer: an offer that will not receive (`sendonly`, `inactive`, or
//! the old `c=0.0.0.0`) puts the answerer on hold; the answer only mirrors it. So the far
//! end's hold changes with its offers, ours with our offers.

use crate::Direction;

/// Who has put whom on hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HoldState {
    /// We hold the far end (our last offer said `sendonly` or `inactive`).
    pub local: bool,
    /// The far end holds us (its last offer said it will not receive).
    pub remote: bool,
}

impl HoldState {
    /// The direction of our offer for this state: `sendonly` to hold, `inactive` to hold a
    /// far end that holds us already, `recvonly` to resume while it still holds us, and
    /// `sendrecv` when nobody holds (RFC 6337 §5.3).
    pub fn offer_direction(self) -> Direction {
        match (self.local, self.remote) {
            (false, false) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (true, true) => Direction::Inactive,
            (false, true) => Direction::RecvOnly,
        }
    }

    /// What we are willing to do when answering an offer: while we hold, we do not receive.
    /// [`crate::offer_answer`] intersects it with the mirror of the offer, so `sendonly`
    /// is answered `recvonly` and `inactive` `inactive`.
    pub fn answer_preference(self) -> Direction {
        if self.local {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        }
    }

    /// The state after the far end offered `offered` (its own direction).
    pub fn after_remote_offer(self, offered: Direction) -> Self {
        Self {
            remote: !offered.receives(),
            ..self
        }
    }

    /// True when our voice goes out, given the direction offer/answer agreed for us: not
    /// while we hold (we have no music on hold to send instead), and not when the far end
    /// does not receive.
    pub fn sends_voice(self, agreed: Direction) -> bool {
        agreed.sends() && !self.local
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offer_answer::{LocalMedia, LocalSdp, accept_answer, remote_direction};
    use crate::{CodecKind, Negotiated};

    fn media(direction: Direction, port: u16) -> LocalMedia {
        LocalMedia {
            address: "127.0.0.1".parse().unwrap(),
            port,
            codecs: vec![CodecKind::Pcmu],
            direction,
        }
    }

    #[test]
    fn offer_direction_covers_every_state() {
        let state = |local, remote| HoldState { local, remote };
        assert_eq!(state(false, false).offer_direction(), Direction::SendRecv);
        assert_eq!(state(true, false).offer_direction(), Direction::SendOnly);
        assert_eq!(state(true, true).offer_direction(), Direction::Inactive);
        assert_eq!(state(false, true).offer_direction(), Direction::RecvOnly);
    }

    /// One offer/answer exchange between two ends with hold states `a` (offerer) and `b`.
    fn exchange(a: HoldState, b: HoldState) -> (HoldState, Negotiated, Negotiated) {
        let offer = LocalSdp::new(1).offer(&media(a.offer_direction(), 4000));
        let offered = remote_direction(&offer).unwrap();
        let b = b.after_remote_offer(offered);
        let (answer, b_agreed) = LocalSdp::new(2)
            .answer(&media(b.answer_preference(), 5000), &offer)
            .unwrap();
        let a_agreed = accept_answer(&media(a.offer_direction(), 4000), &answer).unwrap();
        (b, a_agreed, b_agreed)
    }

    #[test]
    fn holding_and_resuming_as_seen_by_both_ends() {
        let idle = HoldState::default();
        let holding = HoldState {
            local: true,
            remote: false,
        };
        // A holds B: sendonly answered recvonly; B knows it is held; nobody's voice flows
        // (A plays no music on hold).
        let (b, a_dir, b_dir) = exchange(holding, idle);
        assert!(b.remote && !b.local);
        assert_eq!(a_dir.direction, Direction::SendOnly);
        assert_eq!(b_dir.direction, Direction::RecvOnly);
        assert!(!holding.sends_voice(a_dir.direction));
        assert!(!b.sends_voice(b_dir.direction));

        // B holds A too: B's offer is inactive, A answers inactive.
        let b_holding = HoldState { local: true, ..b };
        assert_eq!(b_holding.offer_direction(), Direction::Inactive);
        let (a, b_dir, a_dir) = exchange(b_holding, holding);
        assert!(a.local && a.remote);
        assert_eq!(a_dir.direction, Direction::Inactive);
        assert_eq!(b_dir.direction, Direction::Inactive);

        // A resumes while B still holds: recvonly, answered sendonly by B.
        let a_resumed = HoldState { local: false, ..a };
        let (b, a_dir, _) = exchange(a_resumed, b_holding);
        assert_eq!(a_dir.direction, Direction::RecvOnly);
        assert!(!b.remote && b.local);

        // Both resume: sendrecv, voice both ways.
        let (b, a_dir, b_dir) = exchange(idle, idle);
        assert_eq!(b, idle);
        assert!(idle.sends_voice(a_dir.direction) && b.sends_voice(b_dir.direction));
    }

    #[test]
    fn the_old_zero_address_hold_counts_as_not_receiving() {
        let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
                     m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
        let offered = remote_direction(offer).unwrap();
        assert_eq!(offered, Direction::SendOnly);
        assert!(HoldState::default().after_remote_offer(offered).remote);
    }
}
