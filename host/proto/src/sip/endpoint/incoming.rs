//! Messages from the network: matching to transactions, refusals, CANCEL, ACK.

use std::time::Instant;

use super::uas2xx::AckKey;
use super::{
    ClientMachine, Endpoint, Event, Peer, ServerEntry, ServerMachine, ServerTxnId, TxnAction,
};
use crate::sip::txn::TxnState;
use crate::sip::txn::key::{ClientKey, ServerKey, to_tag};
use crate::sip::txn::server_invite::{Matched, ServerInvite};
use crate::sip::txn::server_non_invite::ServerNonInvite;
use crate::sip::{Method, Request, Response, StatusCode, Verdict, check_request, check_response};

impl Endpoint {
    pub(super) fn on_request(&mut self, now: Instant, from: Peer, mut req: Request) {
        self.stats.requests += 1;
        let key = ServerKey::of(&req);
        if let Some(k) = &key
            && let Some(&id) = self.server_index.get(k)
            && self.same_to_tag(id, k, &req)
        {
            self.on_matched_request(now, id, from, req);
            return;
        }
        if req.method == Method::Ack {
            self.on_unmatched_ack(from, req);
            return;
        }
        stamp_received(&mut req, &from);
        let verdict = check_request(&req, &self.config.policy);
        if matches!(verdict, Verdict::Drop { .. }) {
            self.stats.dropped += 1;
            return;
        }
        let Some(key) = key else {
            // No Via, or an RFC 2543 request without Call-ID/CSeq: no transaction
            // can hold it. Answer statelessly if a response can be routed at all.
            self.refuse_statelessly(from, &req, verdict.status());
            return;
        };
        if self.transactions() >= self.config.max_transactions {
            self.stats.overloaded += 1;
            self.refuse_statelessly(from, &req, Some(StatusCode::SERVICE_UNAVAILABLE));
            return;
        }
        let id = self.create_server(now, key, from.clone(), req.clone());
        let tag = self.local_tag(id).unwrap_or_default().to_owned();
        if let Some(refusal) = verdict.response(&req, &tag) {
            self.stats.refused += 1;
            let _ = self.respond(now, id, refusal);
            return;
        }
        if req.method == Method::Cancel {
            self.on_cancel(now, id, &req);
            return;
        }
        self.events.push_back(Event::Request {
            txn: Some(id),
            from,
            request: req,
        });
    }

    fn create_server(
        &mut self,
        now: Instant,
        key: ServerKey,
        peer: Peer,
        req: Request,
    ) -> ServerTxnId {
        let id = ServerTxnId(self.next_id());
        let reliable = peer.is_reliable();
        let timers = self.config.timers;
        let request_to_tag = to_tag(&req.headers);
        let machine = if req.method == Method::Invite {
            ServerMachine::Invite(Box::new(ServerInvite::new(
                now,
                req,
                reliable,
                timers,
                self.config.trying_delay,
            )))
        } else {
            ServerMachine::NonInvite(Box::new(ServerNonInvite::new(now, req, reliable, timers)))
        };
        let local_tag = request_to_tag.clone().unwrap_or_else(|| self.rng.tag());
        self.server_index.insert(key.clone(), id);
        self.servers.insert(
            id,
            ServerEntry {
                key,
                peer,
                machine,
                local_tag,
                request_to_tag,
                scheduled: None,
            },
        );
        self.apply_server(id, &mut Vec::new());
        id
    }

    /// RFC 2543 matching also compares To tags: the request's for retransmissions,
    /// the tag of our response for an ACK.
    fn same_to_tag(&self, id: ServerTxnId, key: &ServerKey, req: &Request) -> bool {
        if !key.is_rfc2543() {
            return true;
        }
        let Some(e) = self.servers.get(&id) else {
            return false;
        };
        let tag = to_tag(&req.headers);
        if req.method == Method::Ack {
            tag.as_deref() == Some(e.local_tag.as_str())
        } else {
            tag == e.request_to_tag
        }
    }

    fn on_matched_request(&mut self, now: Instant, id: ServerTxnId, from: Peer, req: Request) {
        let Some(e) = self.servers.get_mut(&id) else {
            return;
        };
        let mut out: Vec<TxnAction> = Vec::new();
        let matched = match &mut e.machine {
            ServerMachine::Invite(m) => m.on_request(now, &req, &mut out),
            ServerMachine::NonInvite(m) => {
                m.on_request(&mut out);
                Matched::Absorbed
            }
        };
        self.apply_server(id, &mut out);
        match matched {
            Matched::Absorbed => self.stats.absorbed += 1,
            // An ACK for our 2xx that reused the INVITE's branch.
            Matched::AckForTu => self.on_unmatched_ack(from, req),
        }
    }

    /// An ACK outside any server transaction: for a 2xx we are retransmitting,
    /// or stray.
    fn on_unmatched_ack(&mut self, from: Peer, ack: Request) {
        if let Some((key, to)) = AckKey::of_ack(&ack)
            && let Some(&pid) = self.pending_index.get(&key)
            && let Some(p) = self.pending.get_mut(&pid)
            && p.accepts(to.as_deref())
        {
            let first = p.on_ack();
            self.settle_pending(pid);
            if !first {
                self.stats.absorbed += 1;
                return;
            }
        } else if !matches!(check_request(&ack, &self.config.policy), Verdict::Accept) {
            self.stats.dropped += 1;
            return;
        }
        self.events.push_back(Event::Request {
            txn: None,
            from,
            request: ack,
        });
    }

    /// RFC 3261 §9.2: 200 to a CANCEL that matches a server INVITE transaction,
    /// 481 otherwise; the INVITE's TU learns of it if it has not answered finally.
    fn on_cancel(&mut self, now: Instant, cancel_id: ServerTxnId, cancel: &Request) {
        let cancel_to_tag = to_tag(&cancel.headers);
        let invite = ServerKey::cancelled_invite(cancel)
            .and_then(|k| self.server_index.get(&k).copied())
            .and_then(|id| self.servers.get(&id).map(|e| (id, e)))
            .filter(|(_, e)| {
                matches!(e.machine, ServerMachine::Invite(_))
                    && (!e.key.is_rfc2543() || e.request_to_tag == cancel_to_tag)
            })
            .map(|(id, e)| (id, e.local_tag.clone(), e.machine.state()));
        let Some((invite_id, tag, state)) = invite else {
            self.stats.refused += 1;
            let resp = Response::reply(cancel, StatusCode::CALL_DOES_NOT_EXIST).build();
            let _ = self.respond(now, cancel_id, resp);
            return;
        };
        // The 200's To tag is the INVITE's, as RFC 3261 §9.2 recommends.
        let ok = Response::reply(cancel, StatusCode::OK).to_tag(tag).build();
        let _ = self.respond(now, cancel_id, ok);
        if state == TxnState::Proceeding {
            self.events
                .push_back(Event::Cancelled { invite: invite_id });
        }
    }

    /// Answers without a transaction (overload, or nothing to key one on).
    fn refuse_statelessly(&mut self, from: Peer, req: &Request, status: Option<StatusCode>) {
        let Some(status) = status.filter(|_| req.headers.top_via().is_ok()) else {
            self.stats.dropped += 1;
            return;
        };
        if status != StatusCode::SERVICE_UNAVAILABLE {
            self.stats.refused += 1;
        }
        let tag = self.rng.tag();
        let resp = Response::reply(req, status).to_tag(tag).build();
        self.transmit(from, resp.into());
    }

    pub(super) fn on_response(&mut self, now: Instant, resp: Response) {
        self.stats.responses += 1;
        // RFC 3261 §8.1.3.3: a response with several Vias was not meant for a UA.
        let one_via = resp.headers.vias().is_ok_and(|v| v.len() == 1);
        if !one_via || !matches!(check_response(&resp), Verdict::Accept) {
            self.stats.dropped += 1;
            return;
        }
        let Some(id) =
            ClientKey::of_response(&resp).and_then(|k| self.client_index.get(&k).copied())
        else {
            self.events
                .push_back(Event::StrayResponse { response: resp });
            return;
        };
        let Some(e) = self.clients.get_mut(&id) else {
            return;
        };
        let provisional = resp.status.is_provisional();
        let mut out = Vec::new();
        match &mut e.machine {
            ClientMachine::Invite(m) => m.on_response(now, resp, &mut out),
            ClientMachine::NonInvite(m) => m.on_response(now, resp, &mut out),
        }
        let cancel_now = provisional && std::mem::take(&mut e.cancel_pending);
        self.apply_client(id, &mut out);
        if cancel_now {
            self.send_cancel(now, id);
        }
    }
}

/// RFC 3261 §18.2.1 and RFC 3581: note in the top Via the address the request
/// really came from, so responses carry it back.
fn stamp_received(req: &mut Request, from: &Peer) {
    let Ok(mut via) = req.headers.top_via() else {
        return;
    };
    let ip = from.addr.ip();
    let wants_rport = via.rport() == Some(None);
    if via.host.ip() == Some(ip) && !wants_rport {
        return;
    }
    via.params.set("received", Some(ip.to_string()));
    if wants_rport {
        via.params.set("rport", Some(from.addr.port().to_string()));
    }
    super::outgoing::replace_top_via(&mut req.headers, &via);
}
