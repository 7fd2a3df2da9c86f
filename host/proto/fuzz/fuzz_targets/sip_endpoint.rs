//! The transaction endpoint and the dialog layer under a hostile peer.
//!
//! The input is one or more datagrams separated by two NUL bytes (a torture-corpus
//! file is one datagram). Each is parsed and handed to an [`Endpoint`] at an
//! advancing virtual time, once with the peer on UDP and once on TCP; timers fire
//! between deliveries. A small TU answers what reaches it (180, then 200 with a
//! dialog, 486, or later), answers CANCELs with 487 and in-dialog requests through
//! a [`DialogSet`]. The endpoint also has a call of its own out to the peer (an
//! INVITE and an OPTIONS with fixed branches, so fuzzed responses can match them;
//! the INVITE is cancelled after the first datagram); a 2xx to it is ACKed and the
//! call hung up with a BYE, built by the UAC dialog from the fuzzed response.
//!
//! Checked: nothing panics; every message the endpoint transmits, including the
//! ones built from the peer's data, prints to bytes that parse; and once input
//! stops and the TU has answered everything, the timers run out and every
//! transaction and 2xx record is gone (a peer cannot pin state).
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use voxgate_proto::sip::{
    self, ClientTxnId, Dialog, DialogSet, Endpoint, EndpointConfig, Event, HeaderName, Message,
    Method, Peer, Request, Response, ServerTxnId, StatusCode, Transport, Uri,
};

mod common;

/// Separates datagrams in the input.
const SEPARATOR: &[u8] = b"\0\0";
/// Datagrams read from one input.
const MAX_DATAGRAMS: usize = 16;
/// Pauses before a datagram, picked by the datagram's length: retransmission
/// intervals, the 100 Trying delay, T2, the 32 s transaction lifetime.
const GAPS_MS: [u64; 8] = [0, 10, 150, 250, 600, 2_000, 5_000, 33_000];
/// Timer firings allowed while draining; a UDP transaction fires at most about 20.
const MAX_FIRINGS: usize = 10_000;

const BUSY_HERE: StatusCode = match StatusCode::new(486) {
    Some(s) => s,
    None => StatusCode::SERVER_INTERNAL_ERROR,
};
const OUR_CONTACT: &str = "<sip:gw@198.51.100.1:5060>";

struct Harness {
    ep: Endpoint,
    peer: Peer,
    now: Instant,
    dialogs: DialogSet,
    /// Server INVITE transactions the TU has not finally answered yet.
    unanswered: Vec<ServerTxnId>,
    /// Our outgoing INVITE as sent (with the endpoint's Via).
    invite: Option<(ClientTxnId, Request)>,
    /// The ACK for the 2xx to our INVITE, once sent (we then hang up with a BYE).
    ack: Option<Request>,
}

impl Harness {
    fn new(transport: Transport, retransmit_2xx_on_reliable: bool) -> Self {
        let local: SocketAddr = ([198, 51, 100, 1], 5060).into();
        let config = EndpointConfig {
            seed: 7,
            max_transactions: 12,
            retransmit_2xx_on_reliable,
            ..EndpointConfig::default()
        }
        .with_local(Transport::Udp, local)
        .with_local(Transport::Tcp, local);
        let peer = Peer::new(([192, 0, 2, 10], 5060).into(), transport);
        Harness {
            ep: Endpoint::new(config),
            peer,
            now: Instant::now(),
            dialogs: DialogSet::new(),
            unanswered: Vec::new(),
            invite: None,
            ack: None,
        }
    }

    fn outgoing(&self, method: Method, branch: &str) -> Request {
        let uri: Uri = "sip:support@pbx.example.com"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let transport = self.peer.transport.as_str();
        Request::builder(method, uri)
            .header(
                HeaderName::Via,
                format!("SIP/2.0/{transport} 198.51.100.1:5060;branch={branch};rport"),
            )
            .header(HeaderName::From, "<sip:gw@voxgate.example>;tag=fuzzfrom")
            .header(HeaderName::To, "<sip:support@pbx.example.com>")
            .call_id("fuzz-call-1")
            .cseq(1)
            .contact(
                &sip::Address::parse(OUR_CONTACT.as_bytes()).unwrap_or_else(|_| unreachable!()),
            )
            .build()
    }

    /// Starts our own call and an OPTIONS ping towards the peer.
    fn start_client(&mut self) {
        let invite = self.outgoing(Method::Invite, "z9hG4bKfuzzinvite");
        if let Ok(id) = self.ep.send_request(self.now, self.peer.clone(), invite)
            && let Some(sent) = self.ep.client_request(id).cloned()
        {
            self.invite = Some((id, sent));
        }
        let options = self.outgoing(Method::Options, "z9hG4bKfuzzoptions");
        let _ = self.ep.send_request(self.now, self.peer.clone(), options);
        self.drain();
    }

    /// Delivers one datagram at the current time.
    fn deliver(&mut self, msg: Message) {
        self.ep.handle_message(self.now, self.peer.clone(), msg);
        self.drain();
    }

    /// Fires every timer due up to `until`, then moves the clock there.
    fn advance(&mut self, until: Instant) {
        for _ in 0..MAX_FIRINGS {
            match self.ep.poll_timeout() {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.ep.handle_timeout(self.now);
                    self.drain();
                }
                _ => break,
            }
        }
        self.now = self.now.max(until);
    }

    fn respond(&mut self, txn: ServerTxnId, resp: Response) {
        let _ = self.ep.respond(self.now, txn, resp);
    }

    /// A final answer to an INVITE, creating the UAS dialog for a 2xx.
    fn answer_invite(&mut self, txn: ServerTxnId, status: StatusCode) {
        let Some(req) = self.ep.server_request(txn).cloned() else {
            return;
        };
        let tag = self.ep.local_tag(txn).unwrap_or("fuzzto").to_owned();
        let resp = Response::reply(&req, status)
            .to_tag(tag)
            .header(HeaderName::Contact, OUR_CONTACT)
            .build();
        if status.is_success()
            && let Ok(d) = Dialog::new_uas(&req, &resp, &self.peer.transport)
        {
            self.dialogs.insert(d);
        }
        self.respond(txn, resp);
    }

    /// The TU: reacts to every event, sends what the endpoint queued, and checks
    /// that all of it is a valid message.
    fn drain(&mut self) {
        for _ in 0..1_000 {
            let mut idle = true;
            while let Some(t) = self.ep.poll_transmit() {
                idle = false;
                common::check_generated(&t.message, "the endpoint");
            }
            while let Some(ev) = self.ep.poll_event() {
                idle = false;
                self.on_event(ev);
            }
            if idle {
                return;
            }
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Request {
                txn: Some(txn),
                request,
                ..
            } => self.on_request(txn, &request),
            Event::Request {
                txn: None, request, ..
            } => {
                // An ACK: to a 2xx of one of our dialogs, or stray.
                let _ = self.dialogs.receive_request(&request);
            }
            Event::Cancelled { invite } => {
                self.unanswered.retain(|t| *t != invite);
                self.answer_invite(invite, StatusCode::REQUEST_TERMINATED);
            }
            Event::Response { txn, response } => self.on_response(txn, &response),
            Event::Timeout { .. }
            | Event::AckTimeout { .. }
            | Event::AckTimeout2xx { .. }
            | Event::StrayResponse { .. } => {}
        }
    }

    fn on_request(&mut self, txn: ServerTxnId, req: &Request) {
        let in_dialog = sip::DialogId::of_incoming(req).is_some();
        if in_dialog && req.method != Method::Cancel {
            match self.dialogs.receive_request(req) {
                Ok(dialog) => {
                    if req.method == Method::Bye {
                        let id = dialog.id().clone();
                        self.dialogs.remove(&id);
                    }
                }
                Err(e) => {
                    let resp = Response::reply(req, e.status()).build();
                    self.respond(txn, resp);
                    return;
                }
            }
        }
        match req.method {
            Method::Invite => {
                let ringing = Response::reply(req, StatusCode::RINGING).build();
                self.respond(txn, ringing);
                match req.headers.cseq().map_or(0, |c| c.seq % 3) {
                    0 => self.answer_invite(txn, StatusCode::OK),
                    1 => self.answer_invite(txn, BUSY_HERE),
                    _ => self.unanswered.push(txn),
                }
            }
            Method::Register | Method::Subscribe | Method::Publish => {
                let resp = Response::reply(req, StatusCode::METHOD_NOT_ALLOWED)
                    .header(HeaderName::Allow, "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO")
                    .build();
                self.respond(txn, resp);
            }
            _ => {
                if req.method == Method::Info
                    && let Ok(Some(ct)) = req.headers.content_type()
                {
                    let ct = format!("{}/{}", ct.ty, ct.subtype);
                    let _ = voxgate_proto::dtmf::parse_info(&ct, &req.body);
                }
                self.respond(txn, Response::reply(req, StatusCode::OK).build());
            }
        }
    }

    fn on_response(&mut self, txn: ClientTxnId, resp: &Response) {
        let Some((id, invite)) = &self.invite else {
            return;
        };
        if *id != txn || !resp.status.is_success() {
            return;
        }
        // A retransmitted 2xx gets the same ACK again (RFC 3261 §13.2.2.4).
        if let Some(ack) = &self.ack {
            let _ = self
                .ep
                .send_ack_2xx(self.now, self.peer.clone(), ack.clone());
            return;
        }
        let Ok(mut dialog) = Dialog::new_uac(invite, resp) else {
            return;
        };
        let ack = dialog.request(Method::Ack);
        common::check_generated(&Message::Request(ack.clone()), "Dialog::request(ACK)");
        let _ = self
            .ep
            .send_ack_2xx(self.now, self.peer.clone(), ack.clone());
        self.ack = Some(ack);
        let bye = dialog.request(Method::Bye);
        common::check_generated(&Message::Request(bye.clone()), "Dialog::request(BYE)");
        let _ = self.ep.send_request(self.now, self.peer.clone(), bye);
    }

    /// Answers what is still open, then lets every timer run out.
    fn finish(&mut self) {
        for txn in std::mem::take(&mut self.unanswered) {
            self.answer_invite(txn, StatusCode::OK);
        }
        self.drain();
        let mut firings = 0;
        while let Some(t) = self.ep.poll_timeout() {
            firings += 1;
            assert!(
                firings <= MAX_FIRINGS,
                "timers keep firing: {} transactions, {} pending 2xx, next at +{:?}",
                self.ep.transactions(),
                self.ep.pending_2xx(),
                t.saturating_duration_since(self.now)
            );
            self.now = self.now.max(t);
            self.ep.handle_timeout(self.now);
            self.drain();
        }
        assert_eq!(
            (
                self.ep.transactions(),
                self.ep.pending_2xx(),
                self.ep.timer_count()
            ),
            (0, 0, 0),
            "state left after every timer ran out ({:?})",
            self.ep.stats()
        );
    }
}

fn run(datagrams: &[&[u8]], transport: Transport, retransmit_2xx_on_reliable: bool) {
    let mut h = Harness::new(transport, retransmit_2xx_on_reliable);
    h.start_client();
    for (i, d) in datagrams.iter().enumerate() {
        let gap = GAPS_MS
            .get((d.len() + i) % GAPS_MS.len())
            .copied()
            .unwrap_or(0);
        let at = h.now + Duration::from_millis(gap);
        h.advance(at);
        if let Ok(msg) = sip::parse_datagram(d) {
            h.deliver(msg);
        }
        if i == 0
            && let Some((id, _)) = &h.invite
        {
            let id = *id;
            let _ = h.ep.cancel(h.now, id);
            h.drain();
        }
    }
    h.finish();
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < MAX_DATAGRAMS {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                out.push(rest.get(..at).unwrap_or_default());
                rest = rest.get(at + SEPARATOR.len()..).unwrap_or_default();
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

fuzz_target!(|data: &[u8]| {
    let datagrams = split(data);
    run(&datagrams, Transport::Udp, false);
    run(&datagrams, Transport::Tcp, data.len() % 2 == 1);
});
