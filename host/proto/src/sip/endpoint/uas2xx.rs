//! 2xx retransmission by the UAS core (RFC 3261 §13.3.1.4).
//!
//! A 2xx to an INVITE ends the server transaction's retransmission duty, because
//! proxies forward it statelessly and forget: only the UAS that produced it can
//! make sure it arrives. So the UAS core re-sends it at T1, 2·T1, 4·T1 … capped at
//! T2, until the ACK (a new transaction, matched here by Call-ID, CSeq number and
//! the dialog tags) arrives, and gives up after 64·T1, when the session should be
//! torn down with a BYE (the endpoint reports [`Event::AckTimeout2xx`](super::Event::AckTimeout2xx)).
//!
//! After the ACK, the record stays until the 64·T1 mark so that the ACKs a UAC
//! sends for our retransmissions that crossed its first ACK are absorbed rather
//! than handed to the TU again.

use std::time::Instant;

use super::{Peer, ServerTxnId};
use crate::sip::dialog::DialogId;
use crate::sip::txn::key::{from_tag, to_tag};
use crate::sip::txn::{Retransmit, Timer, TimerConfig};
use crate::sip::{Request, Response};

/// How an ACK is matched to the 2xx it acknowledges.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct AckKey {
    call_id: String,
    cseq: u32,
    remote_tag: String,
}

impl AckKey {
    /// The key of an incoming ACK, and its To tag.
    pub(super) fn of_ack(ack: &Request) -> Option<(AckKey, Option<String>)> {
        let h = &ack.headers;
        let key = AckKey {
            call_id: h.call_id().ok()?.to_owned(),
            cseq: h.cseq().ok()?.seq,
            remote_tag: from_tag(h).unwrap_or_default(),
        };
        Some((key, to_tag(h)))
    }
}

/// What a due timer of a record asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fired {
    /// Re-send the 2xx.
    Resend(Response),
    /// 64·T1 passed; `acked` says whether the ACK came.
    Expired { acked: bool },
}

#[derive(Debug, Clone)]
pub(super) struct Pending2xx {
    pub(super) key: AckKey,
    pub(super) txn: ServerTxnId,
    pub(super) peer: Peer,
    pub(super) dialog: DialogId,
    response: Response,
    retransmit: Retransmit,
    deadline: Timer,
    acked: bool,
    timers: TimerConfig,
    pub(super) scheduled: Option<Instant>,
}

impl Pending2xx {
    /// Starts retransmitting `response` (already sent once at `now`); `None` if it
    /// lacks what an ACK is matched by (Call-ID, CSeq, To tag).
    pub(super) fn new(
        now: Instant,
        txn: ServerTxnId,
        peer: Peer,
        response: Response,
        retransmit: bool,
        timers: TimerConfig,
    ) -> Option<Pending2xx> {
        let dialog = DialogId::of_uas_response(&response)?;
        let key = AckKey {
            call_id: dialog.call_id.clone(),
            cseq: response.headers.cseq().ok()?.seq,
            remote_tag: dialog.remote_tag.clone(),
        };
        let mut deadline = Timer::default();
        deadline.set(now + timers.timeout());
        Some(Pending2xx {
            key,
            txn,
            peer,
            dialog,
            response,
            retransmit: if retransmit {
                Retransmit::start(now, timers.t1)
            } else {
                Retransmit::off()
            },
            deadline,
            acked: false,
            timers,
            scheduled: None,
        })
    }

    /// Whether an ACK with this To tag acknowledges our 2xx.
    pub(super) fn accepts(&self, to_tag: Option<&str>) -> bool {
        to_tag == Some(self.dialog.local_tag.as_str())
    }

    /// An ACK arrived; returns whether it is the first (to be passed to the TU).
    pub(super) fn on_ack(&mut self) -> bool {
        self.retransmit.timer.clear();
        !std::mem::replace(&mut self.acked, true)
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        crate::sip::txn::earliest(&[self.retransmit.timer, self.deadline])
    }

    /// Handles the due timer at `now`, if any.
    pub(super) fn on_timeout(&mut self, now: Instant) -> Option<Fired> {
        if self.deadline.due(now) {
            self.deadline.clear();
            self.retransmit.timer.clear();
            return Some(Fired::Expired { acked: self.acked });
        }
        if self.retransmit.timer.due(now) {
            self.retransmit.backoff(now, Some(self.timers.t2));
            return Some(Fired::Resend(self.response.clone()));
        }
        None
    }
}
