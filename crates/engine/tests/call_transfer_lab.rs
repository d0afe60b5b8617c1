//! Blind transfer against real phones: we (1001) call baresip 2000 through the lab's
//! Kamailio, then transfer it to baresip 2010. What is checked: 2000 accepts the REFER and
//! calls 2010 (2010 reports the established call from 2000), the engine reports the
//! transfer accepted and completed, and our own leg ends by itself. A transfer to an
//! extension that does not exist fails and leaves our call as it was. A transfer the far end
//! asks of us is declined (603).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod far_end;

use std::time::Duration;

use far_end::{FarEnd, Phone};
use sidetone_engine::{CallMedia, EngineEvent, TransferOutcome};
use sidetone_media::CodecKind;
use sidetone_sip::{CallId, CallState, EndReason};

const TARGET: &str = "2010";

fn call_2000(phone: &mut Phone) -> CallId {
    let media = CallMedia {
        codecs: vec![CodecKind::Pcmu],
        ..CallMedia::default()
    };
    phone.dial_established("2000", media)
}

fn transfer_outcome(phone: &mut Phone, within: Duration) -> TransferOutcome {
    match phone.wait(within, |e| {
        matches!(
            e,
            EngineEvent::CallTransfer {
                outcome: TransferOutcome::Completed | TransferOutcome::Failed { .. },
                ..
            }
        )
    }) {
        EngineEvent::CallTransfer { outcome, .. } => outcome,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_blind_transfer_connects_the_far_end_to_the_target_and_ends_our_leg() {
    let far = FarEnd::start_with("tone:1000", "pcmu", &[TARGET]);
    let mut phone = Phone::register(&far);
    let call_id = call_2000(&mut phone);

    // Junk targets are refused before anything is sent; the call goes on.
    assert!(phone.handle.transfer_blind(&call_id, "20<10>").is_err());

    phone.handle.transfer_blind(&call_id, TARGET).unwrap();
    phone.wait(Duration::from_secs(5), |e| {
        matches!(
            e,
            EngineEvent::CallTransfer {
                outcome: TransferOutcome::Accepted,
                ..
            }
        )
    });
    assert_eq!(
        transfer_outcome(&mut phone, Duration::from_secs(15)),
        TransferOutcome::Completed
    );
    // Our leg ends by itself once the target answered.
    let ended = phone.wait(Duration::from_secs(10), |e| {
        matches!(
            e,
            EngineEvent::Call {
                state: CallState::Ended { .. },
                ..
            }
        )
    });
    assert!(
        matches!(&ended, EngineEvent::Call { call_id: id, .. } if *id == call_id),
        "{ended:?}"
    );

    // The target talks to 2000 now.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let established = far.events_of(TARGET).into_iter().find(|e| {
            e["type"] == "CALL_ESTABLISHED"
                && e["peeruri"].as_str().is_some_and(|p| p.contains("2000"))
        });
        if established.is_some() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "2010 never talked to 2000: {:#?}",
            far.events_of(TARGET)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_transfer_to_nobody_fails_and_our_call_goes_on() {
    let far = FarEnd::start_with("tone:1000", "pcmu", &[TARGET]);
    let mut phone = Phone::register(&far);
    let call_id = call_2000(&mut phone);
    phone.handle.transfer_blind(&call_id, "2999").unwrap();
    let outcome = transfer_outcome(&mut phone, Duration::from_secs(15));
    assert!(
        matches!(outcome, TransferOutcome::Failed { status } if status >= 400),
        "{outcome:?}"
    );
    // Still ours: it can be put on hold, and hung up.
    phone.handle.hold(&call_id, true).unwrap();
    phone.wait(Duration::from_secs(5), |e| {
        matches!(e, EngineEvent::CallHeld { local: true, .. })
    });
    phone.handle.hangup(&call_id).unwrap();
}

#[test]
fn a_transfer_the_far_end_asks_of_us_is_declined_at_once() {
    // Being transferred (accepting a REFER) is not supported yet: the far end must hear a
    // clear 603 at once, not wait for a REFER nobody answers, and no one is called. (baresip
    // hangs up its leg after any blind transfer, so the call ends from its side.)
    let mut far = FarEnd::start_with("tone:1000", "pcmu", &[TARGET]);
    let mut phone = Phone::register(&far);
    let call_id = call_2000(&mut phone);
    let domain = far.kamailio()["domain"].as_str().unwrap().to_owned();
    far.command("transfer", &format!("sip:{TARGET}@{domain}"));
    let failed = far.wait_event(Duration::from_secs(5), |e| e["type"] == "TRANSFER_FAILED");
    assert!(
        failed["param"]
            .as_str()
            .is_some_and(|p| p.starts_with("603")),
        "{failed}"
    );
    let ended = phone.wait(Duration::from_secs(5), |e| {
        matches!(
            e,
            EngineEvent::Call {
                state: CallState::Ended { .. },
                ..
            }
        )
    });
    assert!(
        matches!(&ended, EngineEvent::Call { call_id: id, state: CallState::Ended { reason }, .. }
            if *id == call_id && *reason == EndReason::RemoteHangup),
        "{ended:?}"
    );
    assert!(far.events_of(TARGET).is_empty(), "the target was called");
}
