//! The INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4).
//!
//! ```text
//!              INVITE sent, timer A = T1 (unreliable), timer B = 64·T1
//!                  |
//!   A: resend,  +--v------+  B: timeout to TU
//!   A = 2·A     | Calling |-------------------------------+
//!               +---------+                               |
//!        1xx to TU |      \ 300-699: ACK, to TU           |
//!                  v       \                              |
//!            +------------+ \         +-----------+       |
//!  1xx to TU | Proceeding |--+------->| Completed |  D    v
//!            +------------+  300-699  +-----------+-----> Terminated
//!                  | 2xx to TU        300-699: resend ACK   ^
//!                  v                                        |
//!            +----------+  2xx to TU            M = 64·T1   |
//!            | Accepted |-------------------------------------+
//!            +----------+
//! ```
//!
//! A 2xx from Calling also goes to Accepted. The ACK to a 2xx is not part of this
//! transaction: the UAC core sends it (RFC 3261 §13.2.2.4), and again for each
//! retransmitted 2xx the Accepted state hands it.
//!
//! Once a CANCEL for this INVITE has been sent, the transaction gives the INVITE
//! 64·T1 more to get a final response and then reports a timeout (§9.1), so a peer
//! that vanished after a 180 does not leave it in Proceeding forever.

use std::time::Instant;

use super::{Retransmit, Timer, TimerConfig, TxnAction, TxnState, earliest, first_due};
use crate::sip::{HeaderName, Message, Method, Request, Response};

#[derive(Debug, Clone)]
pub(crate) struct ClientInvite {
    state: TxnState,
    request: Request,
    reliable: bool,
    timers: TimerConfig,
    a: Retransmit,
    b: Timer,
    d: Timer,
    m: Timer,
    cancel_deadline: Timer,
    ack: Option<Request>,
}

#[derive(Debug, Clone, Copy)]
enum Which {
    A,
    B,
    D,
    M,
    Cancel,
}

impl ClientInvite {
    /// Starts the transaction: sends the INVITE and arms timers A and B.
    pub(crate) fn new(
        now: Instant,
        request: Request,
        reliable: bool,
        timers: TimerConfig,
        out: &mut Vec<TxnAction>,
    ) -> Self {
        out.push(TxnAction::Send(Message::Request(request.clone())));
        let mut b = Timer::default();
        b.set(now + timers.timeout());
        ClientInvite {
            state: TxnState::Calling,
            request,
            reliable,
            timers,
            a: if reliable {
                Retransmit::off()
            } else {
                Retransmit::start(now, timers.t1)
            },
            b,
            d: Timer::default(),
            m: Timer::default(),
            cancel_deadline: Timer::default(),
            ack: None,
        }
    }

    pub(crate) fn state(&self) -> TxnState {
        self.state
    }

    /// The INVITE as sent.
    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        earliest(&[self.a.timer, self.b, self.d, self.m, self.cancel_deadline])
    }

    fn terminate(&mut self) {
        self.state = TxnState::Terminated;
        self.a.timer.clear();
        self.b.clear();
        self.d.clear();
        self.m.clear();
        self.cancel_deadline.clear();
    }

    /// A response matched this transaction.
    pub(crate) fn on_response(&mut self, now: Instant, resp: Response, out: &mut Vec<TxnAction>) {
        let status = resp.status;
        match self.state {
            TxnState::Calling | TxnState::Proceeding => {
                self.a.timer.clear();
                self.b.clear();
                if status.is_provisional() {
                    self.state = TxnState::Proceeding;
                    out.push(TxnAction::Response(resp));
                } else if status.is_success() {
                    self.state = TxnState::Accepted;
                    self.cancel_deadline.clear();
                    self.m.set(now + self.timers.timeout());
                    out.push(TxnAction::Response(resp));
                } else {
                    let ack = build_ack(&self.request, &resp);
                    out.push(TxnAction::Send(Message::Request(ack.clone())));
                    out.push(TxnAction::Response(resp));
                    self.ack = Some(ack);
                    self.state = TxnState::Completed;
                    self.cancel_deadline.clear();
                    if self.reliable {
                        self.terminate();
                    } else {
                        self.d.set(now + self.timers.timer_d());
                    }
                }
            }
            TxnState::Accepted if status.is_success() => out.push(TxnAction::Response(resp)),
            TxnState::Completed if status.is_final() && !status.is_success() => {
                if let Some(ack) = &self.ack {
                    out.push(TxnAction::Send(Message::Request(ack.clone())));
                }
            }
            _ => {}
        }
    }

    /// Fires every timer due at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant, out: &mut Vec<TxnAction>) {
        while self.state != TxnState::Terminated {
            let due = first_due(
                now,
                &[
                    (self.b, Which::B),
                    (self.cancel_deadline, Which::Cancel),
                    (self.d, Which::D),
                    (self.m, Which::M),
                    (self.a.timer, Which::A),
                ],
            );
            match due {
                None => break,
                Some(Which::A) => {
                    out.push(TxnAction::Send(Message::Request(self.request.clone())));
                    self.a.backoff(now, None);
                }
                Some(Which::B | Which::Cancel) => {
                    out.push(TxnAction::Timeout);
                    self.terminate();
                }
                Some(Which::D | Which::M) => self.terminate(),
            }
        }
    }

    /// A CANCEL for this INVITE was sent: give up 64·T1 from now unless a final
    /// response arrives (RFC 3261 §9.1).
    pub(crate) fn cancel_sent(&mut self, now: Instant) {
        if matches!(self.state, TxnState::Calling | TxnState::Proceeding) {
            self.cancel_deadline.set(now + self.timers.timeout());
        }
    }

    /// The transport failed to deliver the request (RFC 3261 §17.1.4).
    pub(crate) fn transport_error(&mut self, out: &mut Vec<TxnAction>) {
        if matches!(self.state, TxnState::Calling | TxnState::Proceeding) {
            out.push(TxnAction::Timeout);
        }
        self.terminate();
    }
}

/// The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): Request-URI,
/// Call-ID, From and CSeq number of the INVITE, To of the response, the INVITE's
/// top Via only, and its Route headers.
pub(crate) fn build_ack(invite: &Request, resp: &Response) -> Request {
    let mut b = Request::builder(Method::Ack, invite.uri.clone());
    if let Ok(via) = invite.headers.top_via() {
        b = b.via(&via);
    }
    for h in invite.headers.get_all(HeaderName::Route) {
        b = b.header(HeaderName::Route, h.value.clone());
    }
    b = b.max_forwards(70);
    if let Some(v) = invite.headers.value(HeaderName::From) {
        b = b.header(HeaderName::From, v.clone());
    }
    if let Some(v) = resp.headers.value(HeaderName::To) {
        b = b.header(HeaderName::To, v.clone());
    }
    if let Some(v) = invite.headers.value(HeaderName::CallId) {
        b = b.header(HeaderName::CallId, v.clone());
    }
    if let Ok(cseq) = invite.headers.cseq() {
        b = b.cseq(cseq.seq);
    }
    b.build()
}

/// The CANCEL for an INVITE (RFC 3261 §9.1): Request-URI, Call-ID, To, From and
/// CSeq number of the INVITE, its top Via only (same branch) and its Route headers.
pub(crate) fn build_cancel(invite: &Request) -> Request {
    let mut b = Request::builder(Method::Cancel, invite.uri.clone());
    if let Ok(via) = invite.headers.top_via() {
        b = b.via(&via);
    }
    for h in invite.headers.get_all(HeaderName::Route) {
        b = b.header(HeaderName::Route, h.value.clone());
    }
    b = b.max_forwards(70);
    for name in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
        if let Some(v) = invite.headers.value(&name) {
            b = b.header(name, v.clone());
        }
    }
    if let Ok(cseq) = invite.headers.cseq() {
        b = b.cseq(cseq.seq);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::txn::test_support::{Machine, ms, request, response, run, send_times, split};

    impl Machine for ClientInvite {
        fn next(&self) -> Option<Instant> {
            self.next_timeout()
        }
        fn fire(&mut self, now: Instant, out: &mut Vec<TxnAction>) {
            self.on_timeout(now, out);
        }
    }

    fn start(reliable: bool) -> (Instant, ClientInvite, Vec<TxnAction>) {
        let t0 = Instant::now();
        let mut out = Vec::new();
        let txn = ClientInvite::new(
            t0,
            request("INVITE", "z9hG4bKci"),
            reliable,
            TimerConfig::default(),
            &mut out,
        );
        (t0, txn, out)
    }

    #[test]
    fn timer_a_doubles_until_timer_b() {
        let (t0, mut txn, mut out) = start(false);
        assert_eq!(split(&mut out).0, 1);
        let log = run(t0, ms(40_000), &mut txn);
        assert_eq!(send_times(&log), [500, 1500, 3500, 7500, 15500, 31500]);
        let last = log.last().unwrap();
        assert_eq!((last.0, &last.1), (ms(32_000), &TxnAction::Timeout));
        assert_eq!(txn.state(), TxnState::Terminated);
    }

    #[test]
    fn non_2xx_is_acked_with_the_response_to_tag() {
        let (t0, mut txn, mut out) = start(false);
        out.clear();
        let resp = response(txn.request(), 486);
        txn.on_response(t0 + ms(100), resp.clone(), &mut out);
        let [
            TxnAction::Send(Message::Request(ack)),
            TxnAction::Response(r),
        ] = &out[..]
        else {
            panic!("{out:?}")
        };
        assert_eq!(r, &resp);
        assert_eq!(ack.method, Method::Ack);
        assert_eq!(ack.uri, txn.request().uri);
        assert_eq!(ack.headers.to_address().unwrap().tag(), Some("tt"));
        assert_eq!(ack.headers.cseq().unwrap().to_string(), "1 ACK");
        assert_eq!(ack.headers.top_via().unwrap().branch(), Some("z9hG4bKci"));
        assert_eq!(ack.headers.count(HeaderName::Via), 1);
        assert_eq!(txn.state(), TxnState::Completed);
        assert_eq!(txn.next_timeout(), Some(t0 + ms(32_100)));
        let ack = ack.clone();
        out.clear();
        txn.on_response(t0 + ms(600), resp, &mut out);
        assert_eq!(out, [TxnAction::Send(Message::Request(ack))]);
    }

    #[test]
    fn reliable_has_no_timer_a_and_no_timer_d() {
        let (t0, mut txn, mut out) = start(true);
        out.clear();
        assert_eq!(txn.next_timeout(), Some(t0 + ms(32_000)));
        let resp = response(txn.request(), 503);
        txn.on_response(t0 + ms(10), resp, &mut out);
        assert_eq!(txn.state(), TxnState::Terminated);
        assert_eq!(txn.next_timeout(), None);
    }

    #[test]
    fn cancel_deadline_and_accepted() {
        let (t0, mut txn, mut out) = start(false);
        txn.on_response(t0 + ms(100), response(txn.request(), 180), &mut out);
        assert_eq!(txn.next_timeout(), None, "no timer B in Proceeding");
        txn.cancel_sent(t0 + ms(5_000));
        assert_eq!(txn.next_timeout(), Some(t0 + ms(37_000)));
        out.clear();
        txn.on_timeout(t0 + ms(37_000), &mut out);
        assert_eq!(out, [TxnAction::Timeout]);

        let (t0, mut txn, mut out) = start(false);
        let ok = response(txn.request(), 200);
        txn.on_response(t0 + ms(100), ok.clone(), &mut out);
        assert_eq!(txn.state(), TxnState::Accepted);
        out.clear();
        txn.on_response(t0 + ms(600), ok, &mut out);
        assert!(matches!(&out[..], [TxnAction::Response(_)]));
        txn.on_timeout(t0 + ms(32_100), &mut out);
        assert_eq!(txn.state(), TxnState::Terminated);
    }

    #[test]
    fn cancel_copies_the_invite() {
        let invite = request("INVITE", "z9hG4bKx");
        let c = build_cancel(&invite);
        assert_eq!(c.method, Method::Cancel);
        assert_eq!(c.headers.cseq().unwrap().to_string(), "1 CANCEL");
        for n in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
            assert_eq!(c.headers.value(&n), invite.headers.value(&n));
        }
        assert_eq!(c.headers.top_via().unwrap().branch(), Some("z9hG4bKx"));
    }
}
