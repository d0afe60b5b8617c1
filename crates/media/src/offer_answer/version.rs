//! Our side of a session's descriptions over its lifetime: one `o=` session id, and a
//! version that goes up by one each time what we describe changes (RFC 3264 §8: "MUST be
//! incremented by one" on a change, and stay the same when the description is unchanged,
//! so a session refresh does not look like a modification).

use super::{LocalMedia, Negotiated, answer_at, offer_at};
use crate::MediaError;

/// Writes every offer and answer of one call with the right `o=` line (see module docs).
#[derive(Debug, Clone)]
pub struct LocalSdp {
    session_id: u64,
    version: u64,
    /// The last description we sent, without its `o=` line, to tell a change.
    last: Option<String>,
}

impl LocalSdp {
    /// A call's descriptions; `session_id` should be random (RFC 4566 §5.2). The first one
    /// carries version `session_id`, as [`super::create_offer`] does.
    pub fn new(session_id: u64) -> Self {
        Self {
            session_id,
            version: session_id,
            last: None,
        }
    }

    /// The version of the last description written.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Our offer (the first, or a re-offer such as hold or resume).
    pub fn offer(&mut self, local: &LocalMedia) -> String {
        let sdp = offer_at(local, self.session_id, self.version);
        match self.bump_if_changed(&sdp) {
            true => offer_at(local, self.session_id, self.version),
            false => sdp,
        }
    }

    /// Our answer to the far end's offer (the first, or a re-offer).
    pub fn answer(
        &mut self,
        local: &LocalMedia,
        offer: &str,
    ) -> Result<(String, Negotiated), MediaError> {
        let (sdp, negotiated) = answer_at(local, offer, self.session_id, self.version)?;
        match self.bump_if_changed(&sdp) {
            true => answer_at(local, offer, self.session_id, self.version),
            false => Ok((sdp, negotiated)),
        }
    }

    /// Records `sdp` (written at the current version) as sent; returns true when it differs
    /// from the previous one, after raising the version for it to be written again.
    fn bump_if_changed(&mut self, sdp: &str) -> bool {
        let body = without_origin(sdp);
        let changed = self.last.as_ref().is_some_and(|last| *last != body);
        self.last = Some(body);
        if changed {
            self.version = self.version.wrapping_add(1);
        }
        changed
    }
}

fn without_origin(sdp: &str) -> String {
    sdp.lines()
        .filter(|line| !line.starts_with("o="))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CodecKind, Direction};

    fn local(direction: Direction) -> LocalMedia {
        LocalMedia {
            address: "127.0.0.1".parse().unwrap(),
            port: 40000,
            codecs: vec![CodecKind::Pcmu],
            direction,
        }
    }

    fn origin_version(sdp: &str) -> u64 {
        let line = sdp.lines().find(|l| l.starts_with("o=")).unwrap();
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    }

    #[test]
    fn version_goes_up_by_one_per_change_and_stays_on_a_refresh() {
        let mut sdp = LocalSdp::new(500);
        let first = sdp.offer(&local(Direction::SendRecv));
        assert_eq!(origin_version(&first), 500);
        let hold = sdp.offer(&local(Direction::SendOnly));
        assert_eq!(origin_version(&hold), 501);
        assert!(hold.contains("a=sendonly"), "{hold}");
        // The same description again (a session refresh): same version.
        let refresh = sdp.offer(&local(Direction::SendOnly));
        assert_eq!(origin_version(&refresh), 501);
        let resume = sdp.offer(&local(Direction::SendRecv));
        assert_eq!(origin_version(&resume), 502);
        assert!(resume.contains("a=sendrecv"), "{resume}");
        assert_eq!(sdp.version(), 502);
    }

    #[test]
    fn answers_count_as_descriptions_of_the_same_session() {
        let mut theirs = LocalSdp::new(9);
        let mut ours = LocalSdp::new(1000);
        let offer = theirs.offer(&local(Direction::SendRecv));
        let (answer, _) = ours.answer(&local(Direction::SendRecv), &offer).unwrap();
        assert_eq!(origin_version(&answer), 1000);
        // They put us on hold: our answer turns recvonly, a change.
        let hold = theirs.offer(&local(Direction::SendOnly));
        let (answer, agreed) = ours.answer(&local(Direction::SendRecv), &hold).unwrap();
        assert_eq!(agreed.direction, Direction::RecvOnly);
        assert!(answer.contains("a=recvonly"), "{answer}");
        assert_eq!(origin_version(&answer), 1001);
    }
}
