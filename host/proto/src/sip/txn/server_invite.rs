//! The INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §8.5–8.7).
//!
//! ```text
//!                     INVITE received, to TU; 200 ms "Trying" timer
//!                        |
//!  INVITE: resend     +--v---------+  2xx from TU: send   +----------+
//!  last 1xx           | Proceeding |--------------------->| Accepted |  INVITE absorbed,
//!  1xx from TU: send  +------------+                      +----------+  ACK to TU
//!  200 ms: send 100      |  300-699 from TU: send              | L = 64·T1
//!                        v  G = T1 (unreliable), H = 64·T1     v
//!  G: resend,        +-----------+  H: ACK timeout to TU   Terminated
//!  G = min(2G, T2)   | Completed |-------------------------->  ^
//!  INVITE: resend    +-----------+                             |
//!                        | ACK: I = T4 (unreliable), 0 (reliable)
//!                        v                                     |
//!                    +-----------+  I                          |
//!   ACK absorbed     | Confirmed |-----------------------------+
//!                    +-----------+
//! ```
//!
//! The 2xx itself is retransmitted by the UAS core, not here (RFC 3261 §13.3.1.4):
//! it must reach the far UAC end to end, through proxies that forget their own
//! transactions once they forward it. The Accepted state only keeps the
//! transaction alive so that a retransmitted INVITE is not taken for a new call.

use std::time::{Duration, Instant};

use super::{Retransmit, Timer, TimerConfig, TxnAction, TxnState, earliest, first_due};
use crate::sip::{Message, Method, Request, Response, StatusCode};

#[derive(Debug, Clone)]
pub(crate) struct ServerInvite {
    state: TxnState,
    request: Request,
    reliable: bool,
    timers: TimerConfig,
    trying: Timer,
    last_provisional: Option<Response>,
    final_response: Option<Response>,
    g: Retransmit,
    h: Timer,
    i: Timer,
    l: Timer,
}

/// What the server machine does with a request that matched it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Matched {
    /// A retransmission or an ACK the transaction handles itself.
    Absorbed,
    /// An ACK in Accepted state: it acknowledges the 2xx and belongs to the TU.
    AckForTu,
}

#[derive(Debug, Clone, Copy)]
enum Which {
    Trying,
    G,
    H,
    I,
    L,
}

impl ServerInvite {
    /// A new INVITE arrived; the endpoint passes it to the TU. A 100 Trying goes
    /// out `trying_delay` from now unless the TU responds first.
    pub(crate) fn new(
        now: Instant,
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        trying_delay: Duration,
    ) -> Self {
        let mut trying = Timer::default();
        trying.set(now + trying_delay);
        ServerInvite {
            state: TxnState::Proceeding,
            request,
            reliable,
            timers,
            trying,
            last_provisional: None,
            final_response: None,
            g: Retransmit::off(),
            h: Timer::default(),
            i: Timer::default(),
            l: Timer::default(),
        }
    }

    pub(crate) fn state(&self) -> TxnState {
        self.state
    }

    /// The INVITE that created the transaction.
    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.trying, self.g.timer, self.h, self.i, self.l])
    }

    fn terminate(&mut self) {
        self.state = TxnState::Terminated;
        for t in [
            &mut self.trying,
            &mut self.g.timer,
            &mut self.h,
            &mut self.i,
            &mut self.l,
        ] {
            t.clear();
        }
    }

    fn send_trying(&mut self, out: &mut Vec<TxnAction>) {
        let trying = Response::reply(&self.request, StatusCode::TRYING).build();
        out.push(TxnAction::Send(Message::Response(trying.clone())));
        self.last_provisional = Some(trying);
        self.trying.clear();
    }

    /// A retransmitted INVITE or an ACK matched this transaction.
    pub(crate) fn on_request(
        &mut self,
        now: Instant,
        req: &Request,
        out: &mut Vec<TxnAction>,
    ) -> Matched {
        if req.method == Method::Ack {
            match self.state {
                TxnState::Completed => {
                    self.state = TxnState::Confirmed;
                    self.g.timer.clear();
                    self.h.clear();
                    if self.reliable {
                        self.terminate();
                    } else {
                        self.i.set(now + self.timers.t4);
                    }
                }
                TxnState::Accepted => return Matched::AckForTu,
                _ => {}
            }
            return Matched::Absorbed;
        }
        match self.state {
            TxnState::Proceeding => match &self.last_provisional {
                Some(p) => out.push(TxnAction::Send(Message::Response(p.clone()))),
                // The client is already retransmitting: tell it we are here now.
                None => self.send_trying(out),
            },
            TxnState::Completed => {
                if let Some(f) = &self.final_response {
                    out.push(TxnAction::Send(Message::Response(f.clone())));
                }
            }
            _ => {}
        }
        Matched::Absorbed
    }

    /// The TU responds. Fails (and sends nothing) once a final response went out.
    pub(crate) fn on_tu_response(
        &mut self,
        now: Instant,
        resp: Response,
        out: &mut Vec<TxnAction>,
    ) -> Result<(), Response> {
        if self.state != TxnState::Proceeding {
            return Err(resp);
        }
        self.trying.clear();
        out.push(TxnAction::Send(Message::Response(resp.clone())));
        let status = resp.status;
        if status.is_provisional() {
            self.last_provisional = Some(resp);
        } else if status.is_success() {
            self.state = TxnState::Accepted;
            self.l.set(now + self.timers.timeout());
        } else {
            self.state = TxnState::Completed;
            self.final_response = Some(resp);
            if !self.reliable {
                self.g = Retransmit::start(now, self.timers.t1);
            }
            self.h.set(now + self.timers.timeout());
        }
        Ok(())
    }

    /// Fires every timer due at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant, out: &mut Vec<TxnAction>) {
        while self.state != TxnState::Terminated {
            let due = first_due(
                now,
                &[
                    (self.h, Which::H),
                    (self.i, Which::I),
                    (self.l, Which::L),
                    (self.trying, Which::Trying),
                    (self.g.timer, Which::G),
                ],
            );
            match due {
                None => break,
                Some(Which::Trying) => self.send_trying(out),
                Some(Which::G) => {
                    if let Some(f) = &self.final_response {
                        out.push(TxnAction::Send(Message::Response(f.clone())));
                    }
                    self.g.backoff(now, Some(self.timers.t2));
                }
                Some(Which::H) => {
                    out.push(TxnAction::AckTimeout);
                    self.terminate();
                }
                Some(Which::I | Which::L) => self.terminate(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::txn::test_support::{Machine, ms, request, response, run, send_times, split};

    impl Machine for ServerInvite {
        fn next(&self) -> Option<Instant> {
            self.next_timeout()
        }
        fn fire(&mut self, now: Instant, out: &mut Vec<TxnAction>) {
            self.on_timeout(now, out);
        }
    }

    fn start(reliable: bool) -> (Instant, ServerInvite) {
        let t0 = Instant::now();
        let req = request("INVITE", "z9hG4bKsi");
        let txn = ServerInvite::new(t0, req, reliable, TimerConfig::default(), ms(200));
        (t0, txn)
    }

    #[test]
    fn trying_after_200ms_then_retransmission_resends_it() {
        let (t0, mut txn) = start(false);
        assert_eq!(txn.next_timeout(), Some(t0 + ms(200)));
        let mut out = Vec::new();
        txn.on_timeout(t0 + ms(200), &mut out);
        let [TxnAction::Send(Message::Response(r))] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(r.status, StatusCode::TRYING);
        assert_eq!(r.headers.to_address().unwrap().tag(), None);
        let first = r.clone();
        out.clear();
        let again = txn.request().clone();
        assert_eq!(
            txn.on_request(t0 + ms(500), &again, &mut out),
            Matched::Absorbed
        );
        assert_eq!(out, [TxnAction::Send(Message::Response(first))]);
        assert_eq!(txn.next_timeout(), None);
    }

    #[test]
    fn tu_response_before_200ms_suppresses_trying() {
        let (t0, mut txn) = start(false);
        let mut out = Vec::new();
        let ringing = response(txn.request(), 180);
        txn.on_tu_response(t0 + ms(50), ringing.clone(), &mut out)
            .unwrap();
        assert_eq!(split(&mut out).0, 1);
        assert_eq!(txn.next_timeout(), None);
        let again = txn.request().clone();
        txn.on_request(t0 + ms(500), &again, &mut out);
        assert_eq!(out, [TxnAction::Send(Message::Response(ringing))]);
    }

    #[test]
    fn timer_g_until_h_without_ack() {
        let (t0, mut txn) = start(false);
        let mut out = Vec::new();
        let busy = response(txn.request(), 486);
        txn.on_tu_response(t0, busy, &mut out).unwrap();
        let log = run(t0, ms(40_000), &mut txn);
        assert_eq!(
            send_times(&log),
            [
                500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500
            ]
        );
        let last = log.last().unwrap();
        assert_eq!((last.0, &last.1), (ms(32_000), &TxnAction::AckTimeout));
        assert_eq!(txn.state(), TxnState::Terminated);
    }

    #[test]
    fn ack_confirms_then_timer_i() {
        let (t0, mut txn) = start(false);
        let mut out = Vec::new();
        let busy = response(txn.request(), 486);
        txn.on_tu_response(t0, busy.clone(), &mut out).unwrap();
        out.clear();
        let again = txn.request().clone();
        txn.on_request(t0 + ms(100), &again, &mut out);
        assert_eq!(out, [TxnAction::Send(Message::Response(busy.clone()))]);
        let ack = request("ACK", "z9hG4bKsi");
        out.clear();
        assert_eq!(
            txn.on_request(t0 + ms(700), &ack, &mut out),
            Matched::Absorbed
        );
        assert!(out.is_empty());
        assert_eq!(txn.state(), TxnState::Confirmed);
        assert_eq!(txn.next_timeout(), Some(t0 + ms(5_700)));
        assert_eq!(
            txn.on_request(t0 + ms(800), &ack, &mut out),
            Matched::Absorbed
        );
        assert!(
            txn.on_tu_response(t0 + ms(900), busy, &mut out).is_err(),
            "no second final"
        );
        txn.on_timeout(t0 + ms(5_700), &mut out);
        assert!(out.is_empty());
        assert_eq!(txn.state(), TxnState::Terminated);
    }

    #[test]
    fn accepted_absorbs_invites_and_passes_ack() {
        let (t0, mut txn) = start(false);
        let mut out = Vec::new();
        txn.on_tu_response(t0, response(txn.request(), 200), &mut out)
            .unwrap();
        out.clear();
        assert_eq!(txn.state(), TxnState::Accepted);
        let again = txn.request().clone();
        assert_eq!(
            txn.on_request(t0 + ms(500), &again, &mut out),
            Matched::Absorbed
        );
        assert!(out.is_empty());
        let ack = request("ACK", "z9hG4bKsi");
        assert_eq!(
            txn.on_request(t0 + ms(600), &ack, &mut out),
            Matched::AckForTu
        );
        assert_eq!(txn.next_timeout(), Some(t0 + ms(32_000)));
    }

    #[test]
    fn reliable_no_g_and_zero_i() {
        let (t0, mut txn) = start(true);
        let mut out = Vec::new();
        txn.on_tu_response(t0, response(txn.request(), 603), &mut out)
            .unwrap();
        assert_eq!(txn.next_timeout(), Some(t0 + ms(32_000)), "only H");
        txn.on_request(t0 + ms(10), &request("ACK", "z9hG4bKsi"), &mut out);
        assert_eq!(txn.state(), TxnState::Terminated);
    }
}
