//! The four RFC 3261 §17 transaction state machines, sans-IO.
//!
//! # Why transactions are a layer of their own
//!
//! SIP runs over UDP, so every request and every final response may be lost or
//! duplicated. A transaction is the pairing of one request with its responses
//! that hides this from the call logic (the TU, "transaction user"): the client
//! side retransmits a request until it hears back, the server side re-sends its
//! last response whenever the request is retransmitted, and both sides keep a
//! little state after the final response so late retransmissions are absorbed
//! instead of being taken for new requests. Getting this right in one place is
//! what lets the gateway's call logic treat "a request arrived" as "a new request
//! arrived".
//!
//! The machines here are the ones of RFC 3261 §17.1.1, §17.1.2, §17.2.1 and
//! §17.2.2 with the RFC 6026 correction: a 2xx to an INVITE moves both INVITE
//! machines to an *Accepted* state (timers L and M, 64·T1) rather than destroying
//! them, so a retransmitted INVITE is absorbed while the UAS core retransmits its
//! 2xx, and a retransmitted 2xx reaches the UAC core, which must re-send its ACK.
//!
//! # Why sans-IO
//!
//! The machines never read a clock or touch a socket. Every entry point takes
//! `now`, and each machine reports the next instant it wants to be woken at; the
//! [`Endpoint`](super::Endpoint) keeps one ordered timer queue over all of them.
//! Tests therefore run RFC 3261's 32-second timeouts in microseconds of virtual
//! time and assert exact instants.
//!
//! | Timer | Machine | Value (unreliable / reliable) | Meaning |
//! |-------|---------|-------------------------------|---------|
//! | A | client INVITE | T1, doubling / — | request retransmission |
//! | B | client INVITE | 64·T1 | timeout in Calling |
//! | D | client INVITE | max(32 s, 64·T1) / 0 | absorb final response retransmissions |
//! | E | client non-INVITE | T1, doubling to T2 (T2 after a 1xx) / — | request retransmission |
//! | F | client non-INVITE | 64·T1 | timeout |
//! | K | client non-INVITE | T4 / 0 | absorb response retransmissions |
//! | M | client INVITE | 64·T1 | Accepted: forward 2xx retransmissions (RFC 6026) |
//! | G | server INVITE | T1, doubling to T2 / — | non-2xx final response retransmission |
//! | H | server INVITE | 64·T1 | wait for the ACK |
//! | I | server INVITE | T4 / 0 | absorb ACK retransmissions |
//! | J | server non-INVITE | 64·T1 / 0 | absorb request retransmissions |
//! | L | server INVITE | 64·T1 | Accepted: absorb INVITE retransmissions (RFC 6026) |
//!
//! Timer D is "at least 32 seconds" (RFC 3261 §17.1.1.2); it is
//! `max(32 s, 64·T1)` here so that a larger T1 still covers the server's timer H.
//! The 200 ms "send 100 Trying unless the TU answers first" rule of §17.2.1 is an
//! extra one-shot timer of the server INVITE machine.

pub(crate) mod client_invite;
pub(crate) mod client_non_invite;
pub(crate) mod key;
pub(crate) mod server_invite;
pub(crate) mod server_non_invite;

use std::time::{Duration, Instant};

use super::message::{Message, Response};

/// The RFC 3261 timer base values (§17.1.1.1, Table 4).
///
/// All other timers derive from these three. Values below 1 ms for T1 or below T1
/// for T2 are raised to those minimums by the endpoint: a zero retransmission
/// interval would make a retransmission timer fire forever at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// Round-trip time estimate, 500 ms by default. Raise it on links known to be
    /// slow; lowering it below 500 ms is only allowed on private networks.
    pub t1: Duration,
    /// Maximum retransmission interval for non-INVITE requests and INVITE
    /// responses, 4 s by default.
    pub t2: Duration,
    /// Maximum time a message remains in the network, 5 s by default.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1, the lifetime bound of timers B, F, H, J, L and M (32 s by default).
    pub fn timeout(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Timer D: at least 32 s, and at least 64·T1.
    pub(crate) fn timer_d(&self) -> Duration {
        self.timeout().max(Duration::from_secs(32))
    }

    /// The same values with the minimums described on the type applied.
    pub(crate) fn sanitized(self) -> TimerConfig {
        let t1 = self.t1.max(Duration::from_millis(1));
        TimerConfig {
            t1,
            t2: self.t2.max(t1),
            t4: self.t4,
        }
    }
}

/// The state of a transaction, named as in RFC 3261 §17 and RFC 6026.
///
/// Not every machine uses every state: client INVITE uses Calling, Proceeding,
/// Accepted, Completed; client non-INVITE Trying, Proceeding, Completed; server
/// INVITE Proceeding, Accepted, Completed, Confirmed; server non-INVITE Trying,
/// Proceeding, Completed. A machine that reaches Terminated is removed by the
/// endpoint at once, so the endpoint never reports that state for a live id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TxnState {
    /// Client INVITE: request sent, no response yet.
    Calling,
    /// Non-INVITE: request sent (client) or received (server), no response yet.
    Trying,
    /// A provisional response was received (client) or sent (server).
    Proceeding,
    /// A 2xx to an INVITE was received (client) or sent (server); RFC 6026.
    Accepted,
    /// A final response was received (client) or sent (server); waiting out
    /// retransmissions.
    Completed,
    /// Server INVITE: the ACK for a non-2xx final response arrived.
    Confirmed,
    /// Done; the endpoint forgets the transaction.
    Terminated,
}

/// What a machine asks its owner to do. The endpoint turns these into
/// transmissions to the transaction's peer and into TU events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxnAction {
    /// Transmit this message to the transaction's peer.
    Send(Message),
    /// Client: pass this response to the TU.
    Response(Response),
    /// Client: timer B, timer F, or the CANCEL deadline fired; the TU treats it as 408.
    Timeout,
    /// Server INVITE: timer H fired without an ACK.
    AckTimeout,
}

/// A one-shot timer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Timer(Option<Instant>);

impl Timer {
    pub(crate) fn set(&mut self, at: Instant) {
        self.0 = Some(at);
    }

    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }

    pub(crate) fn at(&self) -> Option<Instant> {
        self.0
    }

    /// Whether it is armed and due at `now`.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.0.is_some_and(|t| t <= now)
    }
}

/// A retransmission timer: an instant plus the interval that led to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retransmit {
    pub(crate) timer: Timer,
    pub(crate) interval: Duration,
}

impl Retransmit {
    /// Armed to fire `interval` after `now`.
    pub(crate) fn start(now: Instant, interval: Duration) -> Self {
        let mut timer = Timer::default();
        timer.set(now + interval);
        Retransmit { timer, interval }
    }

    /// Not armed.
    pub(crate) fn off() -> Self {
        Retransmit {
            timer: Timer::default(),
            interval: Duration::ZERO,
        }
    }

    /// Doubles the interval, capped at `cap` if given, and re-arms from `now`.
    pub(crate) fn backoff(&mut self, now: Instant, cap: Option<Duration>) {
        let doubled = self.interval.saturating_mul(2);
        self.interval = cap.map_or(doubled, |c| doubled.min(c));
        self.timer.set(now + self.interval);
    }
}

/// The earliest of several timers.
pub(crate) fn earliest(timers: &[Timer]) -> Option<Instant> {
    timers.iter().filter_map(Timer::at).min()
}

/// Which of several timers fires first at `now`: the earliest due one, and on a
/// tie the one listed first (machines list their terminating timers first, so
/// that, say, timer H wins over a timer G retransmission due at the same instant).
pub(crate) fn first_due<W: Copy>(now: Instant, timers: &[(Timer, W)]) -> Option<W> {
    let mut best: Option<(Instant, W)> = None;
    for (t, w) in timers {
        if let Some(at) = t.at().filter(|&at| at <= now)
            && best.is_none_or(|(b, _)| at < b)
        {
            best = Some((at, *w));
        }
    }
    best.map(|(_, w)| w)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Messages and clocks shared by the machines' unit tests.

    use std::time::{Duration, Instant};

    use super::TxnAction;
    use crate::sip::{Message, Request, Response, StatusCode, parse_datagram};

    pub(crate) fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    pub(crate) fn request(method: &str, branch: &str) -> Request {
        let text = format!(
            "{method} sip:bob@gw.example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP pbx.example.com:5060;branch={branch}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:alice@example.com>;tag=from1\r\n\
             To: <sip:bob@gw.example.com>\r\n\
             Call-ID: call-1@example.com\r\n\
             CSeq: 1 {method}\r\n\
             Contact: <sip:alice@192.0.2.1:5060>\r\n\
             Content-Length: 0\r\n\r\n"
        );
        match parse_datagram(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    pub(crate) fn response(req: &Request, code: u16) -> Response {
        let status = StatusCode::new(code).unwrap();
        let b = Response::reply(req, status);
        if code > 100 { b.to_tag("tt") } else { b }.build()
    }

    /// Drains actions, counting sends and returning the other actions.
    pub(crate) fn split(out: &mut Vec<TxnAction>) -> (usize, Vec<TxnAction>) {
        let mut sends = 0;
        let mut rest = Vec::new();
        for a in out.drain(..) {
            match a {
                TxnAction::Send(_) => sends += 1,
                other => rest.push(other),
            }
        }
        (sends, rest)
    }

    /// A machine under test, driven only by its timers.
    pub(crate) trait Machine {
        fn next(&self) -> Option<Instant>;
        fn fire(&mut self, now: Instant, out: &mut Vec<TxnAction>);
    }

    /// Fires every timer of a machine up to `start + end`, returning each action
    /// with the instant (relative to `start`) it happened at.
    pub(crate) fn run(
        start: Instant,
        end: Duration,
        m: &mut impl Machine,
    ) -> Vec<(Duration, TxnAction)> {
        let mut log = Vec::new();
        let mut out = Vec::new();
        while let Some(t) = m.next() {
            if t > start + end {
                break;
            }
            m.fire(t, &mut out);
            for a in out.drain(..) {
                log.push((t - start, a));
            }
        }
        log
    }

    /// The instants (ms after start) of the sends in a log.
    pub(crate) fn send_times(log: &[(Duration, TxnAction)]) -> Vec<u128> {
        log.iter()
            .filter(|(_, a)| matches!(a, TxnAction::Send(_)))
            .map(|(t, _)| t.as_millis())
            .collect()
    }
}
