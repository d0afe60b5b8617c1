//! Writes every call into the history as the engine's events describe it: a row when the call
//! starts, its answer time, and how it ended. The shell and the CLI feed it the events they
//! receive, so the history is the same whichever face placed the call.

use std::collections::HashMap;

use sidetone_sip::{CallDirection, CallId, CallState, EndReason};
use sidetone_store::{
    CallEnd, CallHistory, Direction, Disposition, NewCall, Transfer, TransferKind, UnixMillis,
};

use crate::{EngineEvent, TransferOutcome};

/// What the log remembers of a call in progress.
#[derive(Debug, Clone)]
struct OpenCall {
    row: sidetone_store::CallId,
    direction: CallDirection,
    answered: bool,
    /// Where our completed blind transfer sent the far end.
    transferred_to: Option<String>,
}

/// The calls in progress and their history rows.
#[derive(Debug, Default)]
pub struct CallLog {
    open: HashMap<CallId, OpenCall>,
}

impl CallLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records what `event` says about a call at `now`. Events that are not about a call's
    /// state are ignored. Returns the history row the event touched, if any.
    pub fn record(
        &mut self,
        history: &CallHistory<'_>,
        event: &EngineEvent,
        now: UnixMillis,
    ) -> Result<Option<sidetone_store::CallId>, sidetone_store::Error> {
        if let EngineEvent::CallTransfer {
            call_id,
            target,
            outcome: TransferOutcome::Completed,
        } = event
        {
            // The leg ends next; its row says where the call went.
            let open = self.open.get_mut(call_id);
            return Ok(open.map(|open| {
                open.transferred_to = Some(target.clone());
                open.row
            }));
        }
        let EngineEvent::Call {
            account_id,
            call_id,
            direction,
            remote,
            state,
        } = event
        else {
            return Ok(None);
        };
        let open = match self.open.get(call_id).cloned() {
            Some(open) => open,
            None => {
                let row = history.record_start(&NewCall {
                    account_id: account_id.to_string(),
                    direction: match direction {
                        CallDirection::Incoming => Direction::Incoming,
                        CallDirection::Outgoing => Direction::Outgoing,
                    },
                    remote_uri: remote.clone(),
                    remote_name: None,
                    started_at: now,
                })?;
                let open = OpenCall {
                    row,
                    direction: *direction,
                    answered: false,
                    transferred_to: None,
                };
                self.open.insert(call_id.clone(), open.clone());
                open
            }
        };
        match state {
            CallState::Established if !open.answered => {
                history.record_answer(open.row, now)?;
                if let Some(entry) = self.open.get_mut(call_id) {
                    entry.answered = true;
                }
            }
            CallState::Ended { reason } => {
                self.open.remove(call_id);
                history.record_end(
                    open.row,
                    &CallEnd {
                        ended_at: now,
                        disposition: disposition(open.direction, open.answered, reason),
                        transfer: open.transferred_to.map(|target| Transfer {
                            kind: TransferKind::Blind,
                            target,
                        }),
                    },
                )?;
            }
            _ => {}
        }
        Ok(Some(open.row))
    }
}

/// How a call that ended for `reason` is filed.
fn disposition(direction: CallDirection, answered: bool, reason: &EndReason) -> Disposition {
    if answered {
        return Disposition::Answered;
    }
    match (direction, reason) {
        (CallDirection::Incoming, EndReason::LocalDecline) => Disposition::Rejected,
        // The caller gave up, or it rang out: a missed call, the one that gets the badge.
        (CallDirection::Incoming, _) => Disposition::Missed,
        (CallDirection::Outgoing, EndReason::LocalHangup) => Disposition::Cancelled,
        (CallDirection::Outgoing, EndReason::Busy) => Disposition::Busy,
        (CallDirection::Outgoing, EndReason::Declined) => Disposition::Rejected,
        (CallDirection::Outgoing, _) => Disposition::Failed,
    }
}

#[cfg(test)]
mod tests {
    use sidetone_sip::AccountId;
    use sidetone_store::{CallQuery, Store};

    use super::*;

    fn call(id: &str, direction: CallDirection, state: CallState) -> EngineEvent {
        EngineEvent::Call {
            account_id: AccountId("1001@pbx.test".into()),
            call_id: CallId(id.into()),
            direction,
            remote: "sip:1002@pbx.test".into(),
            state,
        }
    }

    #[test]
    fn an_answered_call_has_start_answer_end_and_duration() {
        let store = Store::open_in_memory().unwrap();
        let history = store.history();
        let mut log = CallLog::new();
        let out = CallDirection::Outgoing;
        log.record(
            &history,
            &call("a", out, CallState::Dialing),
            UnixMillis(1_000),
        )
        .unwrap();
        log.record(
            &history,
            &call("a", out, CallState::Ringing),
            UnixMillis(2_000),
        )
        .unwrap();
        log.record(
            &history,
            &call("a", out, CallState::Established),
            UnixMillis(3_000),
        )
        .unwrap();
        let reason = EndReason::RemoteHangup;
        let row = log
            .record(
                &history,
                &call("a", out, CallState::Ended { reason }),
                UnixMillis(63_000),
            )
            .unwrap()
            .unwrap();
        let record = history.get(row).unwrap().unwrap();
        assert_eq!(record.direction, Direction::Outgoing);
        assert_eq!(record.answered_at, Some(UnixMillis(3_000)));
        assert_eq!(record.disposition, Some(Disposition::Answered));
        assert_eq!(record.duration.map(|d| d.as_secs()), Some(60));
        assert_eq!(history.query(&CallQuery::default()).unwrap().calls.len(), 1);
    }

    #[test]
    fn a_call_we_transferred_says_where_it_went_and_a_failed_transfer_says_nothing() {
        let store = Store::open_in_memory().unwrap();
        let history = store.history();
        let mut log = CallLog::new();
        let out = CallDirection::Outgoing;
        let transfer = |id: &str, outcome| EngineEvent::CallTransfer {
            call_id: CallId(id.into()),
            target: "sip:2001@pbx.test".into(),
            outcome,
        };
        for (id, outcome) in [
            ("done", TransferOutcome::Completed),
            ("refused", TransferOutcome::Failed { status: 603 }),
        ] {
            log.record(&history, &call(id, out, CallState::Dialing), UnixMillis(1))
                .unwrap();
            log.record(
                &history,
                &call(id, out, CallState::Established),
                UnixMillis(2),
            )
            .unwrap();
            log.record(&history, &transfer(id, outcome), UnixMillis(3))
                .unwrap();
        }
        let ended = CallState::Ended {
            reason: EndReason::LocalHangup,
        };
        let done = log
            .record(&history, &call("done", out, ended.clone()), UnixMillis(4))
            .unwrap()
            .unwrap();
        let refused = log
            .record(&history, &call("refused", out, ended), UnixMillis(4))
            .unwrap()
            .unwrap();
        assert_eq!(
            history.get(done).unwrap().unwrap().transfer,
            Some(Transfer {
                kind: TransferKind::Blind,
                target: "sip:2001@pbx.test".into()
            })
        );
        assert_eq!(history.get(refused).unwrap().unwrap().transfer, None);
        // A transfer event for a call the log never saw touches nothing.
        let stray = transfer("stray", TransferOutcome::Completed);
        assert_eq!(log.record(&history, &stray, UnixMillis(5)).unwrap(), None);
    }

    #[test]
    fn unanswered_calls_are_filed_by_who_ended_them() {
        let store = Store::open_in_memory().unwrap();
        let history = store.history();
        let mut log = CallLog::new();
        let cases = [
            (
                "in-gave-up",
                CallDirection::Incoming,
                EndReason::RemoteHangup,
                Disposition::Missed,
            ),
            (
                "in-declined",
                CallDirection::Incoming,
                EndReason::LocalDecline,
                Disposition::Rejected,
            ),
            (
                "out-cancel",
                CallDirection::Outgoing,
                EndReason::LocalHangup,
                Disposition::Cancelled,
            ),
            (
                "out-busy",
                CallDirection::Outgoing,
                EndReason::Busy,
                Disposition::Busy,
            ),
            (
                "out-404",
                CallDirection::Outgoing,
                EndReason::NotFound,
                Disposition::Failed,
            ),
        ];
        for (id, direction, reason, expected) in cases {
            let first = match direction {
                CallDirection::Incoming => CallState::Ringing,
                CallDirection::Outgoing => CallState::Dialing,
            };
            log.record(&history, &call(id, direction, first), UnixMillis(1_000))
                .unwrap();
            let row = log
                .record(
                    &history,
                    &call(id, direction, CallState::Ended { reason }),
                    UnixMillis(5_000),
                )
                .unwrap()
                .unwrap();
            let record = history.get(row).unwrap().unwrap();
            assert_eq!(record.disposition, Some(expected), "{id}");
            assert_eq!(record.duration.map(|d| d.as_secs()), Some(0), "{id}");
        }
        // Nothing is left open once every call ended.
        assert!(log.open.is_empty());
    }
}
