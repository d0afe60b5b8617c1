use super::*;

fn run(direction: CallDirection, inputs: &[CallInput]) -> Vec<CallState> {
    let mut machine = CallMachine::new(direction);
    let mut seen = Vec::new();
    while let Some(state) = machine.poll_event() {
        seen.push(state);
    }
    for input in inputs {
        machine.handle(input.clone());
        while let Some(state) = machine.poll_event() {
            seen.push(state);
        }
    }
    seen
}

fn ended(reason: EndReason) -> CallState {
    CallState::Ended { reason }
}

#[test]
fn outgoing_call_rings_then_talks_then_ends() {
    use CallInput::*;
    let states = run(
        CallDirection::Outgoing,
        &[
            Provisional { status: 100 },
            Provisional { status: 180 },
            Provisional { status: 180 },
            Provisional { status: 183 },
            Final { status: 200 },
            // A retransmitted 2xx changes nothing.
            Final { status: 200 },
            RemoteHangup,
            // Nothing after the end.
            LocalHangup,
        ],
    );
    assert_eq!(
        states,
        vec![
            CallState::Dialing,
            CallState::Ringing,
            CallState::Early,
            CallState::Established,
            ended(EndReason::RemoteHangup),
        ]
    );
}

#[test]
fn failures_map_to_reasons() {
    for (status, reason) in [
        (486, EndReason::Busy),
        (600, EndReason::Busy),
        (603, EndReason::Declined),
        (404, EndReason::NotFound),
        (480, EndReason::NotFound),
        (408, EndReason::Timeout),
        (407, EndReason::Unauthorized),
        (488, EndReason::IncompatibleMedia),
        (500, EndReason::Rejected { status: 500 }),
    ] {
        let states = run(
            CallDirection::Outgoing,
            &[
                CallInput::Provisional { status: 180 },
                CallInput::Final { status },
            ],
        );
        assert_eq!(states.last(), Some(&ended(reason)), "status {status}");
    }
    let states = run(CallDirection::Outgoing, &[CallInput::TransportFailed]);
    assert_eq!(states.last(), Some(&ended(EndReason::Unreachable)));
    let states = run(CallDirection::Outgoing, &[CallInput::Timeout]);
    assert_eq!(states.last(), Some(&ended(EndReason::Timeout)));
}

#[test]
fn cancelling_while_ringing_is_a_local_hangup_and_a_late_487_is_ignored() {
    let states = run(
        CallDirection::Outgoing,
        &[
            CallInput::Provisional { status: 180 },
            CallInput::LocalHangup,
            CallInput::Final { status: 487 },
        ],
    );
    assert_eq!(
        states,
        vec![
            CallState::Dialing,
            CallState::Ringing,
            ended(EndReason::LocalHangup)
        ]
    );
}

#[test]
fn incoming_call_rings_is_answered_or_declined_or_cancelled() {
    let answered = run(
        CallDirection::Incoming,
        &[CallInput::Acknowledged, CallInput::LocalHangup],
    );
    assert_eq!(
        answered,
        vec![
            CallState::Ringing,
            CallState::Established,
            ended(EndReason::LocalHangup)
        ]
    );
    let declined = run(CallDirection::Incoming, &[CallInput::LocalDecline]);
    assert_eq!(declined.last(), Some(&ended(EndReason::LocalDecline)));
    let cancelled = run(CallDirection::Incoming, &[CallInput::RemoteHangup]);
    assert_eq!(cancelled.last(), Some(&ended(EndReason::RemoteHangup)));
    // Provisional responses belong to outgoing calls only.
    let odd = run(
        CallDirection::Incoming,
        &[CallInput::Provisional { status: 183 }],
    );
    assert_eq!(odd, vec![CallState::Ringing]);
}

#[test]
fn end_reasons_have_short_phrases_and_json_codes() {
    assert_eq!(EndReason::Busy.short(), "busy");
    assert_eq!(EndReason::NotFound.short(), "not found");
    assert!(EndReason::RemoteHangup.is_normal());
    assert!(!EndReason::Busy.is_normal());
    let json = serde_json::to_value(CallState::Ended {
        reason: EndReason::Rejected { status: 500 },
    })
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"state": "ended", "reason": {"code": "rejected", "status": 500}})
    );
}
