//! Blind transfer of an established call over rsipstack: the REFER goes out on the call's
//! dialog, the NOTIFYs of its subscription come in; what they mean is
//! [`crate::call::Referral`]'s (sans-IO). What to do with the outcome (hang up after a 2xx,
//! carry on after a failure) is the caller's.

use rsipstack::dialog::dialog::TransactionHandle;
use rsipstack::sip::StatusCode;

use super::call::Call;
use crate::call::refer_target;
use crate::{CallState, SipError};

impl Call {
    /// Asks the far end to call `target` (`sip:`/`sips:` URI, or a user of our own domain)
    /// instead of us. The outcome arrives as [`crate::TransferUpdate`]s from
    /// [`Call::next_event`]; another transfer may start once one has finished.
    pub fn transfer(&mut self, target: &str) -> Result<(), SipError> {
        if *self.machine.state() != CallState::Established {
            return Err(SipError::Internal("the call is not established".into()));
        }
        if !self.referral.can_start() {
            return Err(SipError::Internal("a transfer is already under way".into()));
        }
        let refer_to = refer_target(target, &self.local_domain)?;
        let uri = rsipstack::sip::Uri::try_from(refer_to.as_str()).map_err(|e| {
            SipError::InvalidAccount(format!("bad transfer target {refer_to}: {e}"))
        })?;
        self.referral.started();
        let dialog = self.dialog.clone();
        let results = self.refer_results_sender.clone();
        tokio::spawn(async move {
            let status = match dialog.refer(uri, None, None).await {
                Ok(Some(resp)) => Some(resp.status_code.code()),
                Ok(None) | Err(_) => None,
            };
            let _ = results.send(status);
        });
        Ok(())
    }

    /// The REFER's final status (from its task), `None` when none came.
    pub(super) fn refer_answered(&mut self, status: Option<u16>) {
        let update = self.referral.handle_refer_status(status);
        self.transfers.push_back(update);
    }

    /// An in-dialog NOTIFY: answered at once, 200 for our REFER's progress, else 489.
    pub(super) fn notified(
        &mut self,
        request: &rsipstack::sip::Request,
        handle: TransactionHandle,
    ) {
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|h| (h.name(), h.value()))
            .collect();
        let verdict = self.referral.handle_notify(&headers, &request.body);
        let reply = if verdict.accept {
            StatusCode::OK
        } else {
            StatusCode::BadEvent
        };
        tokio::spawn(async move {
            let _ = handle.reply(reply).await;
        });
        self.transfers.extend(verdict.update);
    }
}
