//! The non-INVITE server transaction (RFC 3261 §17.2.2).
//!
//! ```text
//!                  request received, to TU
//!                      |
//!  request: absorbed +-v------+  200-699 from TU: send
//!                    | Trying |------------------------+
//!                    +--------+                        |
//!     1xx from TU: send |                              |
//!                       v                              v
//!  request: resend  +------------+  200-699: send  +-----------+  J = 64·T1 (unreliable),
//!  last 1xx         | Proceeding |---------------->| Completed |---> Terminated  0 (reliable)
//!  1xx: send        +------------+                 +-----------+
//!                                                   request: resend final
//! ```
//!
//! One addition to the RFC: if the TU has not sent a final response 64·T1 after
//! the request arrived, the client gave up long ago (its timer F), so the
//! transaction ends quietly. That bounds the state a TU that forgets to answer
//! can leave behind; a late answer then gets `UnknownTransaction`.

use std::time::Instant;

use super::{Timer, TimerConfig, TxnAction, TxnState, earliest, first_due};
use crate::sip::{Message, Request, Response};

#[derive(Debug, Clone)]
pub(crate) struct ServerNonInvite {
    state: TxnState,
    request: Request,
    reliable: bool,
    timers: TimerConfig,
    last_response: Option<Response>,
    j: Timer,
    abandon: Timer,
}

#[derive(Debug, Clone, Copy)]
enum Which {
    J,
    Abandon,
}

impl ServerNonInvite {
    /// A new request arrived; the endpoint passes it to the TU.
    pub(crate) fn new(now: Instant, request: Request, reliable: bool, timers: TimerConfig) -> Self {
        let mut abandon = Timer::default();
        abandon.set(now + timers.timeout());
        ServerNonInvite {
            state: TxnState::Trying,
            request,
            reliable,
            timers,
            last_response: None,
            j: Timer::default(),
            abandon,
        }
    }

    pub(crate) fn state(&self) -> TxnState {
        self.state
    }

    /// The request that created the transaction.
    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.j, self.abandon])
    }

    fn terminate(&mut self) {
        self.state = TxnState::Terminated;
        self.j.clear();
        self.abandon.clear();
    }

    /// A retransmission of the request: re-send the last response, if any.
    pub(crate) fn on_request(&mut self, out: &mut Vec<TxnAction>) {
        if matches!(self.state, TxnState::Proceeding | TxnState::Completed)
            && let Some(r) = &self.last_response
        {
            out.push(TxnAction::Send(Message::Response(r.clone())));
        }
    }

    /// The TU responds. Fails (and sends nothing) once a final response went out.
    pub(crate) fn on_tu_response(
        &mut self,
        now: Instant,
        resp: Response,
        out: &mut Vec<TxnAction>,
    ) -> Result<(), Response> {
        if !matches!(self.state, TxnState::Trying | TxnState::Proceeding) {
            return Err(resp);
        }
        out.push(TxnAction::Send(Message::Response(resp.clone())));
        let final_ = resp.status.is_final();
        self.last_response = Some(resp);
        if !final_ {
            self.state = TxnState::Proceeding;
            return Ok(());
        }
        self.state = TxnState::Completed;
        self.abandon.clear();
        if self.reliable {
            self.terminate();
        } else {
            self.j.set(now + self.timers.timeout());
        }
        Ok(())
    }

    /// Fires every timer due at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant, _out: &mut Vec<TxnAction>) {
        if first_due(now, &[(self.j, Which::J), (self.abandon, Which::Abandon)]).is_some() {
            self.terminate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::txn::test_support::{ms, request, response};

    fn start(reliable: bool) -> (Instant, ServerNonInvite) {
        let t0 = Instant::now();
        let req = request("BYE", "z9hG4bKsn");
        (
            t0,
            ServerNonInvite::new(t0, req, reliable, TimerConfig::default()),
        )
    }

    #[test]
    fn absorbs_until_timer_j() {
        let (t0, mut txn) = start(false);
        let mut out = Vec::new();
        txn.on_request(&mut out);
        assert!(out.is_empty(), "nothing to resend in Trying");
        let ok = response(txn.request(), 200);
        txn.on_tu_response(t0 + ms(10), ok.clone(), &mut out)
            .unwrap();
        out.clear();
        txn.on_request(&mut out);
        assert_eq!(out, [TxnAction::Send(Message::Response(ok.clone()))]);
        assert!(txn.on_tu_response(t0 + ms(20), ok, &mut out).is_err());
        assert_eq!(txn.next_timeout(), Some(t0 + ms(32_010)));
        txn.on_timeout(t0 + ms(32_009), &mut out);
        assert_eq!(txn.state(), TxnState::Completed);
        txn.on_timeout(t0 + ms(32_010), &mut out);
        assert_eq!(txn.state(), TxnState::Terminated);
    }

    #[test]
    fn provisional_is_resent_and_unanswered_requests_expire() {
        let (t0, mut txn) = start(false);
        let mut out = Vec::new();
        let trying = response(txn.request(), 100);
        txn.on_tu_response(t0, trying.clone(), &mut out).unwrap();
        out.clear();
        txn.on_request(&mut out);
        assert_eq!(out, [TxnAction::Send(Message::Response(trying))]);
        assert_eq!(txn.next_timeout(), Some(t0 + ms(32_000)));
        txn.on_timeout(t0 + ms(32_000), &mut out);
        assert_eq!(txn.state(), TxnState::Terminated);
    }

    #[test]
    fn reliable_timer_j_is_zero() {
        let (t0, mut txn) = start(true);
        let mut out = Vec::new();
        txn.on_tu_response(t0, response(txn.request(), 200), &mut out)
            .unwrap();
        assert_eq!(txn.state(), TxnState::Terminated);
        assert_eq!(txn.next_timeout(), None);
    }
}
