//! Requests the TU sends: new client transactions, ACKs to 2xx, CANCEL.

use std::time::Instant;

use super::{ClientEntry, ClientMachine, ClientTxnId, Endpoint, Peer, TxnError};
use crate::sip::txn::TxnState;
use crate::sip::txn::client_invite::{ClientInvite, build_cancel};
use crate::sip::txn::client_non_invite::ClientNonInvite;
use crate::sip::txn::key::ClientKey;
use crate::sip::{Header, HeaderName, Headers, Host, Message, Method, Request, Via};

impl Endpoint {
    /// Sends `request` to `to` in a new client transaction and returns its id;
    /// responses come back as [`Event::Response`](super::Event::Response), a
    /// timeout as [`Event::Timeout`](super::Event::Timeout).
    ///
    /// The request needs Call-ID, From, To and a CSeq whose method is the
    /// request's. If it has no Via, one is added with our address for
    /// `to.transport` ([`EndpointConfig::local`](super::EndpointConfig::local)),
    /// a fresh branch and `rport`; if its top Via has no RFC 3261 branch, a fresh
    /// one is set. Max-Forwards 70 is added if absent.
    pub fn send_request(
        &mut self,
        now: Instant,
        to: Peer,
        mut request: Request,
    ) -> Result<ClientTxnId, TxnError> {
        if request.method == Method::Ack {
            return Err(TxnError::AckIsNotATransaction);
        }
        let h = &request.headers;
        let cseq = h.cseq().map_err(invalid)?;
        if cseq.method != request.method {
            return Err(TxnError::InvalidRequest(
                "CSeq method differs from the request method".into(),
            ));
        }
        h.call_id().map_err(invalid)?;
        h.from_address().map_err(invalid)?;
        h.to_address().map_err(invalid)?;
        if self.transactions() >= self.config.max_transactions {
            return Err(TxnError::TooManyTransactions {
                limit: self.config.max_transactions,
            });
        }
        self.ensure_via(&to, &mut request)?;
        if !request.headers.contains(HeaderName::MaxForwards) {
            request.headers.append(HeaderName::MaxForwards, "70");
        }
        let key = ClientKey::of_request(&request)
            .ok_or_else(|| TxnError::InvalidRequest("top Via has no branch".into()))?;
        if self.client_index.contains_key(&key) {
            return Err(TxnError::BranchInUse);
        }
        Ok(self.start_client(now, to, key, request))
    }

    fn start_client(
        &mut self,
        now: Instant,
        to: Peer,
        key: ClientKey,
        request: Request,
    ) -> ClientTxnId {
        let id = ClientTxnId(self.next_id());
        let reliable = to.is_reliable();
        let timers = self.config.timers;
        let mut out = Vec::new();
        let machine = if request.method == Method::Invite {
            ClientMachine::Invite(Box::new(ClientInvite::new(
                now, request, reliable, timers, &mut out,
            )))
        } else {
            ClientMachine::NonInvite(Box::new(ClientNonInvite::new(
                now, request, reliable, timers, &mut out,
            )))
        };
        self.client_index.insert(key.clone(), id);
        self.clients.insert(
            id,
            ClientEntry {
                key,
                peer: to,
                machine,
                cancel_pending: false,
                scheduled: None,
            },
        );
        self.apply_client(id, &mut out);
        id
    }

    /// Sends the ACK for a 2xx to an INVITE we sent. It is not a transaction
    /// (RFC 3261 §13.2.2.4, §17.1.1.3): nothing retransmits it; the TU sends it
    /// again for every retransmitted 2xx it is given. Build it with
    /// [`Dialog::request`](crate::sip::Dialog::request)`(Method::Ack)`. A Via with a
    /// fresh branch is added as in [`Endpoint::send_request`].
    pub fn send_ack_2xx(
        &mut self,
        now: Instant,
        to: Peer,
        mut ack: Request,
    ) -> Result<(), TxnError> {
        let _ = now;
        if ack.method != Method::Ack {
            return Err(TxnError::InvalidRequest("not an ACK".into()));
        }
        self.ensure_via(&to, &mut ack)?;
        if !ack.headers.contains(HeaderName::MaxForwards) {
            ack.headers.append(HeaderName::MaxForwards, "70");
        }
        self.transmit(to, Message::Request(ack));
        Ok(())
    }

    /// Cancels an INVITE we sent (RFC 3261 §9.1). The CANCEL is its own
    /// transaction; the INVITE should then end with a 487. Returns the CANCEL's
    /// transaction, or `None` if no provisional response has arrived yet: a CANCEL
    /// must not overtake its INVITE, so it goes out with the first 1xx. Either way
    /// the INVITE transaction gives up 64·T1 after the CANCEL is sent if no final
    /// response comes. Fails once the INVITE has a final response.
    pub fn cancel(
        &mut self,
        now: Instant,
        invite: ClientTxnId,
    ) -> Result<Option<ClientTxnId>, TxnError> {
        let e = self
            .clients
            .get_mut(&invite)
            .ok_or(TxnError::UnknownTransaction)?;
        let ClientMachine::Invite(m) = &e.machine else {
            return Err(TxnError::NotCancellable);
        };
        match m.state() {
            TxnState::Calling => {
                e.cancel_pending = true;
                Ok(None)
            }
            TxnState::Proceeding => Ok(self.send_cancel(now, invite)),
            _ => Err(TxnError::NotCancellable),
        }
    }

    /// Sends the CANCEL for a proceeding INVITE (or returns the one already sent).
    pub(super) fn send_cancel(&mut self, now: Instant, invite: ClientTxnId) -> Option<ClientTxnId> {
        let e = self.clients.get_mut(&invite)?;
        let ClientMachine::Invite(m) = &mut e.machine else {
            return None;
        };
        let cancel = build_cancel(m.request());
        let key = ClientKey::of_request(&cancel)?;
        if let Some(&existing) = self.client_index.get(&key) {
            return Some(existing);
        }
        m.cancel_sent(now);
        let peer = e.peer.clone();
        self.apply_client(invite, &mut Vec::new());
        Some(self.start_client(now, peer, key, cancel))
    }

    /// A transport failure towards `peer` (a refused or reset connection): every
    /// client transaction to it that awaits a response times out (RFC 3261
    /// §17.1.4). Server transactions are left to their timers.
    pub fn handle_transport_error(&mut self, now: Instant, peer: &Peer) {
        let _ = now;
        let ids: Vec<ClientTxnId> = self
            .clients
            .iter()
            .filter(|(_, e)| &e.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let mut out = Vec::new();
            if let Some(e) = self.clients.get_mut(&id) {
                match &mut e.machine {
                    ClientMachine::Invite(m) => m.transport_error(&mut out),
                    ClientMachine::NonInvite(m) => m.transport_error(&mut out),
                }
            }
            self.apply_client(id, &mut out);
        }
    }

    /// Makes sure the top Via carries a magic-cookie branch, adding a Via with
    /// our sent-by if there is none.
    fn ensure_via(&mut self, to: &Peer, req: &mut Request) -> Result<(), TxnError> {
        match req.headers.top_via() {
            Ok(via) if via.has_rfc3261_branch() => Ok(()),
            Ok(mut via) => {
                via.params.set("branch", Some(self.rng.branch()));
                replace_top_via(&mut req.headers, &via);
                Ok(())
            }
            Err(_) if req.headers.contains(HeaderName::Via) => {
                Err(TxnError::InvalidRequest("malformed Via".into()))
            }
            Err(_) => {
                let local =
                    self.config.local.get(&to.transport).ok_or_else(|| {
                        TxnError::NoLocalAddress(to.transport.as_str().to_owned())
                    })?;
                let mut via = Via::new(
                    to.transport.clone(),
                    Host::from(local.ip()),
                    Some(local.port()),
                    &self.rng.branch(),
                );
                via.params.set("rport", None::<String>);
                let mut headers = Headers::new();
                headers.push(Header::new(HeaderName::Via, via.to_string()));
                for h in req.headers.iter() {
                    headers.push(h.clone());
                }
                req.headers = headers;
                Ok(())
            }
        }
    }
}

fn invalid(e: crate::sip::ParseError) -> TxnError {
    TxnError::InvalidRequest(e.to_string())
}

/// Replaces the first value of the first Via header field, keeping the others.
pub(super) fn replace_top_via(headers: &mut Headers, via: &Via) {
    let rest: Vec<String> = headers
        .get(HeaderName::Via)
        .and_then(|h| crate::sip::via::parse_via_list(&h.value).ok())
        .map(|list| list.iter().skip(1).map(ToString::to_string).collect())
        .unwrap_or_default();
    let mut value = via.to_string();
    for v in rest {
        value.push_str(", ");
        value.push_str(&v);
    }
    let mut out = Headers::new();
    let mut replaced = false;
    for h in headers.iter() {
        if !replaced && h.name == HeaderName::Via {
            out.push(Header::new(HeaderName::Via, value.clone()));
            replaced = true;
        } else {
            out.push(h.clone());
        }
    }
    if !replaced {
        out.push(Header::new(HeaderName::Via, value));
    }
    *headers = out;
}
