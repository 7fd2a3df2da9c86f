//! The non-INVITE client transaction (RFC 3261 §17.1.2).
//!
//! ```text
//!              request sent, timer E = T1 (unreliable), timer F = 64·T1
//!                  |
//!   E: resend,  +--v-----+   F or transport error: timeout to TU
//!   E=min(2E,T2)| Trying |----------------------------------+
//!               +--------+                                  |
//!        1xx to TU |     \ 200-699 to TU                    |
//!                  v      \                                 |
//!   E: resend, +------------+  200-699   +-----------+  K   v
//!   E = T2     | Proceeding |----------->| Completed |----> Terminated
//!  1xx to TU   +------------+  to TU     +-----------+
//!                                          responses absorbed
//! ```
//!
//! Unlike INVITE, a provisional response does not stop retransmission: it only
//! slows it to every T2, because a non-INVITE request is expected to be answered
//! quickly and the 1xx may be all a stateless proxy sent back.

use std::time::Instant;

use super::{Retransmit, Timer, TimerConfig, TxnAction, TxnState, earliest, first_due};
use crate::sip::{Message, Request, Response};

#[derive(Debug, Clone)]
pub(crate) struct ClientNonInvite {
    state: TxnState,
    request: Request,
    reliable: bool,
    timers: TimerConfig,
    e: Retransmit,
    f: Timer,
    k: Timer,
}

#[derive(Debug, Clone, Copy)]
enum Which {
    E,
    F,
    K,
}

impl ClientNonInvite {
    /// Starts the transaction: sends the request and arms timers E and F.
    pub(crate) fn new(
        now: Instant,
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<TxnAction>,
    ) -> Self {
        out.push(TxnAction::Send(Message::Request(request.clone())));
        let mut f = Timer::default();
        f.set(now + timers.timeout());
        ClientNonInvite {
            state: TxnState::Trying,
            request,
            reliable,
            timers,
            e: if reliable {
                Retransmit::off()
            } else {
                Retransmit::start(now, timers.t1)
            },
            f,
            k: Timer::default(),
        }
    }

    pub(crate) fn state(&self) -> TxnState {
        self.state
    }

    /// The request as sent.
    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.e.timer, self.f, self.k])
    }

    fn terminate(&mut self) {
        self.state = TxnState::Terminated;
        self.e.timer.clear();
        self.f.clear();
        self.k.clear();
    }

    /// A response matched this transaction.
    pub(crate) fn on_response(&mut self, now: Instant, resp: Response, out: &mut Vec<TxnAction>) {
        if !matches!(self.state, TxnState::Trying | TxnState::Proceeding) {
            return; // Completed absorbs retransmitted responses.
        }
        let provisional = resp.status.is_provisional();
        out.push(TxnAction::Response(resp));
        if provisional {
            self.state = TxnState::Proceeding;
            return;
        }
        self.state = TxnState::Completed;
        self.e.timer.clear();
        self.f.clear();
        if self.reliable {
            self.terminate();
        } else {
            self.k.set(now + self.timers.t4);
        }
    }

    /// Fires every timer due at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant, out: &mut Vec<TxnAction>) {
        while self.state != TxnState::Terminated {
            match first_due(
                now,
                &[
                    (self.f, Which::F),
                    (self.k, Which::K),
                    (self.e.timer, Which::E),
                ],
            ) {
                None => break,
                Some(Which::E) => {
                    out.push(TxnAction::Send(Message::Request(self.request.clone())));
                    if self.state == TxnState::Proceeding {
                        self.e.interval = self.timers.t2;
                        self.e.timer.set(now + self.timers.t2);
                    } else {
                        self.e.backoff(now, Some(self.timers.t2));
                    }
                }
                Some(Which::F) => {
                    out.push(TxnAction::Timeout);
                    self.terminate();
                }
                Some(Which::K) => self.terminate(),
            }
        }
    }

    /// The transport failed to deliver the request (RFC 3261 §17.1.4).
    pub(crate) fn transport_error(&mut self, out: &mut Vec<TxnAction>) {
        if matches!(self.state, TxnState::Trying | TxnState::Proceeding) {
            out.push(TxnAction::Timeout);
        }
        self.terminate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::txn::test_support::{Machine, ms, request, response, run, send_times, split};

    impl Machine for ClientNonInvite {
        fn next(&self) -> Option<Instant> {
            self.next_timeout()
        }
        fn fire(&mut self, now: Instant, out: &mut Vec<TxnAction>) {
            self.on_timeout(now, out);
        }
    }

    fn start(reliable: bool) -> (Instant, ClientNonInvite) {
        let t0 = Instant::now();
        let mut out = Vec::new();
        let txn = ClientNonInvite::new(
            t0,
            request("OPTIONS", "z9hG4bKcn"),
            reliable,
            TimerConfig::default(),
            &mut out,
        );
        assert_eq!(split(&mut out).0, 1);
        (t0, txn)
    }

    #[test]
    fn timer_e_caps_at_t2_then_timer_f() {
        let (t0, mut txn) = start(false);
        let log = run(t0, ms(40_000), &mut txn);
        assert_eq!(
            send_times(&log),
            [
                500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
            ]
        );
        let last = log.last().unwrap();
        assert_eq!((last.0, &last.1), (ms(32_000), &TxnAction::Timeout));
    }

    #[test]
    fn provisional_slows_to_t2_and_final_starts_k() {
        let (t0, mut txn) = start(false);
        let mut out = Vec::new();
        txn.on_response(t0 + ms(200), response(txn.request(), 100), &mut out);
        assert_eq!(txn.state(), TxnState::Proceeding);
        // Timer E was armed for 0.5 s before the 1xx; from then on it is T2.
        let log = run(t0, ms(9_000), &mut txn);
        assert_eq!(send_times(&log), [500, 4500, 8500]);
        out.clear();
        let ok = response(txn.request(), 200);
        txn.on_response(t0 + ms(9_000), ok.clone(), &mut out);
        assert!(matches!(&out[..], [TxnAction::Response(_)]));
        assert_eq!(txn.state(), TxnState::Completed);
        assert_eq!(txn.next_timeout(), Some(t0 + ms(14_000)));
        out.clear();
        txn.on_response(t0 + ms(9_500), ok, &mut out);
        assert!(out.is_empty(), "retransmitted final absorbed");
        txn.on_timeout(t0 + ms(14_000), &mut out);
        assert_eq!(txn.state(), TxnState::Terminated);
    }

    #[test]
    fn reliable_timers() {
        let (t0, mut txn) = start(true);
        assert_eq!(txn.next_timeout(), Some(t0 + ms(32_000)));
        let mut out = Vec::new();
        txn.on_response(t0 + ms(1), response(txn.request(), 404), &mut out);
        assert_eq!(txn.state(), TxnState::Terminated);
        assert_eq!(txn.next_timeout(), None);
    }
}
