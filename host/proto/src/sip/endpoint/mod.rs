//! The SIP endpoint: every transaction of one UA, and the 2xx retransmission of
//! its UAS core, driven sans-IO.
//!
//! # Why one object owns all transactions
//!
//! Matching is global: an incoming request is a retransmission, an ACK, a CANCEL
//! of an earlier INVITE, or new, and only something that sees every live
//! transaction can tell (RFC 3261 §17.2.3). Timers are global too: the gateway
//! wants one timer for all of SIP, not one per transaction. So the gateway owns
//! one [`Endpoint`], feeds it what the network delivers, and carries out what it
//! asks, in the quinn-proto style:
//!
//! * inputs: [`Endpoint::handle_message`] (a parsed datagram or stream message),
//!   [`Endpoint::handle_timeout`], and the TU's actions ([`Endpoint::respond`],
//!   [`Endpoint::send_request`], [`Endpoint::send_ack_2xx`], [`Endpoint::cancel`]);
//! * outputs: [`Endpoint::poll_transmit`] (messages to serialise and send),
//!   [`Endpoint::poll_event`] (what the call logic must act on), and
//!   [`Endpoint::poll_timeout`] (when to call `handle_timeout` next).
//!
//! Nothing here reads a clock, so the whole of RFC 3261's timing can be tested
//! in virtual time, and nothing blocks, so one task can drive thousands of calls.
//!
//! # What the endpoint decides on its own
//!
//! * Retransmissions in both directions, absorption of duplicates, ACKs for
//!   non-2xx final responses, 100 Trying after 200 ms, and 2xx retransmission
//!   until the ACK (RFC 3261 §13.3.1.4) — the TU answers once.
//! * Every new request is checked with [`check_request`](super::check_request)
//!   and the configured [`UasPolicy`] before the TU sees it.
//!   Refusals are answered here: 400 for a malformed request, 501 for an unknown
//!   method, 505, 416, 420, 415, 406 as `sip::lint` documents. Registered methods
//!   the gateway does not serve (REGISTER, SUBSCRIBE …) do reach the TU, which
//!   answers 405 with an Allow header. A request without a Via cannot be answered
//!   and is dropped; so is a refused ACK.
//! * A CANCEL is answered here: 200 if it matches a server INVITE transaction
//!   (then [`Event::Cancelled`] tells the TU to answer the INVITE with 487), 481
//!   otherwise.
//! * Above [`EndpointConfig::max_transactions`] live transactions, new requests
//!   get a stateless 503 and [`Endpoint::send_request`] fails.
//! * Responses go back to the address the request came from (the RFC 3581
//!   `rport` behaviour, which also works through NAT); the top Via of each new
//!   request gets `received` and a filled-in `rport` as RFC 3261 §18.2.1 and
//!   RFC 3581 require, so responses show the peer what address we saw.
//!
//! # The drive loop
//!
//! ```
//! use std::time::{Duration, Instant};
//! use voxgate_proto::sip::{
//!     self, Endpoint, EndpointConfig, Event, Peer, Response, StatusCode, Transmit,
//! };
//!
//! /// What a gateway's I/O task does after every input: send what is queued, hand
//! /// events to the calls, and re-arm its single timer.
//! fn drive(ep: &mut Endpoint, now: Instant, wire: &mut Vec<Transmit>) -> Option<Instant> {
//!     while let Some(t) = ep.poll_transmit() {
//!         wire.push(t); // socket.send_to(&t.message.to_bytes(), t.to.addr)
//!     }
//!     while let Some(ev) = ep.poll_event() {
//!         if let Event::Request { txn: Some(txn), request, .. } = ev {
//!             // The call logic answers; the endpoint does the rest.
//!             let ok = Response::reply(&request, StatusCode::OK)
//!                 .header("Contact", "<sip:gw@198.51.100.1:5060>")
//!                 .build();
//!             ep.respond(now, txn, ok).ok()?;
//!         }
//!     }
//!     while let Some(t) = ep.poll_transmit() {
//!         wire.push(t);
//!     }
//!     ep.poll_timeout() // sleep until then, or until the socket has data
//! }
//!
//! let mut ep = Endpoint::new(EndpointConfig { seed: 1, ..EndpointConfig::default() });
//! let pbx = Peer::udp("192.0.2.10:5060".parse()?);
//! let t0 = Instant::now();
//! let invite = sip::parse_datagram(
//!     b"INVITE sip:support@gw.example.com SIP/2.0\r\n\
//!       Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9\r\n\
//!       From: <sip:+4930123@pbx.example.com>;tag=9fxced76sl\r\n\
//!       To: <sip:support@gw.example.com>\r\nCall-ID: 3848276298220188511\r\n\
//!       CSeq: 1 INVITE\r\nMax-Forwards: 70\r\n\
//!       Contact: <sip:+4930123@192.0.2.10>\r\nContent-Length: 0\r\n\r\n",
//! )?;
//! ep.handle_message(t0, pbx, invite);
//! let mut wire = Vec::new();
//! let wake = drive(&mut ep, t0, &mut wire);
//! assert_eq!(wire.len(), 1); // the 200 OK
//! // No ACK arrives (lost): the 200 is retransmitted at T1 = 500 ms …
//! assert_eq!(wake, Some(t0 + Duration::from_millis(500)));
//! ep.handle_timeout(t0 + Duration::from_millis(500));
//! assert_eq!(drive(&mut ep, t0, &mut wire), Some(t0 + Duration::from_millis(1500)));
//! assert_eq!(wire.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod incoming;
mod outgoing;
mod timers;
mod uas2xx;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use self::timers::{Owner, Rng, TimerQueue};
use self::uas2xx::{AckKey, Fired, Pending2xx};
use super::dialog::DialogId;
use super::txn::client_invite::ClientInvite;
use super::txn::client_non_invite::ClientNonInvite;
use super::txn::key::{ClientKey, ServerKey};
use super::txn::server_invite::ServerInvite;
use super::txn::server_non_invite::ServerNonInvite;
use super::txn::{TimerConfig, TxnAction, TxnState};
use super::{Header, HeaderName, Message, Request, Response, StatusCode, Transport, UasPolicy};

/// Where a message came from or goes to: the remote address and the transport.
/// Opaque to the state machines except for whether the transport is reliable.
///
/// For TCP, TLS and WebSocket the gateway maps a `Peer` to its connection.
/// (Not `Copy`, because [`Transport`] can hold an unknown token.)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Remote socket address.
    pub addr: SocketAddr,
    /// Transport the message travels on.
    pub transport: Transport,
}

impl Peer {
    /// A peer on any transport.
    pub fn new(addr: SocketAddr, transport: Transport) -> Self {
        Peer { addr, transport }
    }

    /// A peer over UDP.
    pub fn udp(addr: SocketAddr) -> Self {
        Peer::new(addr, Transport::Udp)
    }

    /// A peer over TCP.
    pub fn tcp(addr: SocketAddr) -> Self {
        Peer::new(addr, Transport::Tcp)
    }

    /// Whether the transport delivers reliably (TCP, TLS, SCTP, WS, WSS), so the
    /// transactions neither retransmit nor linger (RFC 3261 §17).
    pub fn is_reliable(&self) -> bool {
        matches!(
            self.transport,
            Transport::Tcp | Transport::Tls | Transport::Sctp | Transport::Ws | Transport::Wss
        )
    }
}

/// A message for the gateway to serialise (`message.to_bytes()`) and send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub to: Peer,
    /// The message.
    pub message: Message,
}

/// Identifies a server transaction (a request we received).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerTxnId(u64);

/// Identifies a client transaction (a request we sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientTxnId(u64);

impl fmt::Display for ServerTxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

impl fmt::Display for ClientTxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// What the TU (the gateway's call logic) must act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new request for the TU (never a retransmission). `txn` is the server
    /// transaction to [`respond`](Endpoint::respond) on; it is `None` for an ACK
    /// to a 2xx (delivered once, duplicates absorbed) and for a stray ACK that
    /// matched nothing, which the TU may match to a dialog or ignore.
    Request {
        /// The transaction to answer on; `None` for ACKs.
        txn: Option<ServerTxnId>,
        /// Who sent it.
        from: Peer,
        /// The request, its top Via stamped with `received`/`rport`.
        request: Request,
    },
    /// A CANCEL matched this server INVITE transaction before it was finally
    /// answered. The endpoint already answered the CANCEL with 200; the TU should
    /// answer the INVITE with 487.
    Cancelled {
        /// The INVITE's transaction.
        invite: ServerTxnId,
    },
    /// A response to a request we sent (for an INVITE, also each retransmitted
    /// 2xx, which the TU must ACK again with [`Endpoint::send_ack_2xx`]).
    Response {
        /// The request's transaction.
        txn: ClientTxnId,
        /// The response.
        response: Response,
    },
    /// A client transaction timed out (timer B or F, the CANCEL deadline, or a
    /// transport error); the TU treats it as a 408.
    Timeout {
        /// The request's transaction.
        txn: ClientTxnId,
    },
    /// A server INVITE transaction that sent a non-2xx final response never got
    /// its ACK (timer H).
    AckTimeout {
        /// The INVITE's transaction.
        txn: ServerTxnId,
    },
    /// A 2xx to an INVITE was retransmitted for 64·T1 without an ACK (RFC 3261
    /// §13.3.1.4): the session should be ended with a BYE.
    AckTimeout2xx {
        /// The INVITE's transaction (already gone).
        txn: ServerTxnId,
        /// The dialog the 2xx created.
        dialog: DialogId,
    },
    /// A response that matched no client transaction (dropped; for tests and
    /// metrics).
    StrayResponse {
        /// The response.
        response: Response,
    },
}

/// Why a TU action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxnError {
    /// The transaction id is unknown or the transaction already ended.
    #[error("no such transaction")]
    UnknownTransaction,
    /// The transaction already sent its final response.
    #[error("the transaction already sent a final response")]
    AlreadyAnswered,
    /// The response's Call-ID or CSeq is not the request's.
    #[error("response does not answer this transaction's request: {0}")]
    WrongResponse(&'static str),
    /// The request lacks something a transaction needs.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A Via must be added but no local address is configured for the transport.
    #[error("no local address configured for transport {0}")]
    NoLocalAddress(String),
    /// [`EndpointConfig::max_transactions`] transactions are live.
    #[error("too many live transactions (limit {limit})")]
    TooManyTransactions {
        /// The configured limit.
        limit: usize,
    },
    /// A client transaction with this branch and method exists.
    #[error("a transaction with this branch already exists")]
    BranchInUse,
    /// ACKs are not sent in transactions: use [`Endpoint::send_ack_2xx`] (the ACK
    /// to a non-2xx is sent by the transaction itself).
    #[error("an ACK is not a transaction; use send_ack_2xx")]
    AckIsNotATransaction,
    /// Only an INVITE that has no final response can be cancelled.
    #[error("the transaction cannot be cancelled")]
    NotCancellable,
}

/// Configuration of an [`Endpoint`].
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// T1, T2, T4.
    pub timers: TimerConfig,
    /// Sent as `User-Agent` in requests and `Server` in responses that lack one.
    pub user_agent: Option<String>,
    /// Our address per transport: the sent-by of Vias the endpoint adds to
    /// outgoing requests. Put the address peers can reach (the public one behind
    /// NAT), not a wildcard.
    pub local: HashMap<Transport, SocketAddr>,
    /// Live transactions (client plus server) above which new requests get a
    /// stateless 503 and `send_request` fails. Each holds its request and last
    /// response, a few kB; a server transaction lives up to 64·T1 after its final
    /// response over UDP, so size this at least `calls per second × 40`.
    pub max_transactions: usize,
    /// How long a server INVITE transaction waits for the TU before sending
    /// 100 Trying itself (200 ms, RFC 3261 §17.2.1).
    pub trying_delay: Duration,
    /// What [`check_request`](super::check_request) accepts.
    pub policy: UasPolicy,
    /// Also retransmit 2xx responses over reliable transports. RFC 3261
    /// §13.3.1.4 asks for it regardless of transport, because a proxy may carry
    /// the 2xx on over UDP; off by default because voxgate normally faces the PBX
    /// directly, where a TCP connection cannot lose it. The ACK timeout (64·T1)
    /// applies either way.
    pub retransmit_2xx_on_reliable: bool,
    /// Seed of the generator of tags and branches. The default differs per
    /// process; tests set it for reproducible messages.
    pub seed: u64,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            timers: TimerConfig::default(),
            user_agent: None,
            local: HashMap::new(),
            max_transactions: 32_768,
            trying_delay: Duration::from_millis(200),
            policy: UasPolicy::default(),
            retransmit_2xx_on_reliable: false,
            seed: timers::process_seed(),
        }
    }
}

impl EndpointConfig {
    /// Adds our address for a transport (see [`EndpointConfig::local`]).
    pub fn with_local(mut self, transport: Transport, addr: SocketAddr) -> Self {
        self.local.insert(transport, addr);
        self
    }
}

/// Counters for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Requests handed to `handle_message`.
    pub requests: u64,
    /// Responses handed to `handle_message`.
    pub responses: u64,
    /// Retransmitted requests and duplicate ACKs absorbed.
    pub absorbed: u64,
    /// Requests refused by the endpoint itself (lint verdicts, 481 to CANCEL).
    pub refused: u64,
    /// Requests answered 503 because of `max_transactions`.
    pub overloaded: u64,
    /// Messages dropped without an answer (unanswerable, refused ACKs, bad responses).
    pub dropped: u64,
}

#[derive(Debug)]
enum ServerMachine {
    Invite(Box<ServerInvite>),
    NonInvite(Box<ServerNonInvite>),
}

impl ServerMachine {
    fn state(&self) -> TxnState {
        match self {
            ServerMachine::Invite(m) => m.state(),
            ServerMachine::NonInvite(m) => m.state(),
        }
    }

    fn request(&self) -> &Request {
        match self {
            ServerMachine::Invite(m) => m.request(),
            ServerMachine::NonInvite(m) => m.request(),
        }
    }

    fn next_timeout(&self) -> Option<Instant> {
        match self {
            ServerMachine::Invite(m) => m.next_timeout(),
            ServerMachine::NonInvite(m) => m.next_timeout(),
        }
    }
}

#[derive(Debug)]
struct ServerEntry {
    key: ServerKey,
    peer: Peer,
    machine: ServerMachine,
    /// The To tag of this transaction's responses: generated, or the TU's own
    /// once it tags a response.
    local_tag: String,
    /// The To tag of the request (RFC 2543 matching).
    request_to_tag: Option<String>,
    scheduled: Option<Instant>,
}

#[derive(Debug)]
enum ClientMachine {
    Invite(Box<ClientInvite>),
    NonInvite(Box<ClientNonInvite>),
}

impl ClientMachine {
    fn state(&self) -> TxnState {
        match self {
            ClientMachine::Invite(m) => m.state(),
            ClientMachine::NonInvite(m) => m.state(),
        }
    }

    fn request(&self) -> &Request {
        match self {
            ClientMachine::Invite(m) => m.request(),
            ClientMachine::NonInvite(m) => m.request(),
        }
    }

    fn next_timeout(&self) -> Option<Instant> {
        match self {
            ClientMachine::Invite(m) => m.next_timeout(),
            ClientMachine::NonInvite(m) => m.next_timeout(),
        }
    }
}

#[derive(Debug)]
struct ClientEntry {
    key: ClientKey,
    peer: Peer,
    machine: ClientMachine,
    /// `cancel` was called in Calling: send the CANCEL on the first 1xx.
    cancel_pending: bool,
    scheduled: Option<Instant>,
}

/// All SIP transactions of one UA and its 2xx retransmissions; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct Endpoint {
    config: EndpointConfig,
    rng: Rng,
    next_id: u64,
    servers: HashMap<ServerTxnId, ServerEntry>,
    server_index: HashMap<ServerKey, ServerTxnId>,
    clients: HashMap<ClientTxnId, ClientEntry>,
    client_index: HashMap<ClientKey, ClientTxnId>,
    pending: HashMap<u64, Pending2xx>,
    pending_index: HashMap<AckKey, u64>,
    timers: TimerQueue,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: EndpointStats,
}

impl Endpoint {
    /// An endpoint with no transactions. Timer values below the minimums of
    /// [`TimerConfig`] are raised to them.
    pub fn new(mut config: EndpointConfig) -> Self {
        config.timers = config.timers.sanitized();
        Endpoint {
            rng: Rng::new(config.seed),
            config,
            next_id: 0,
            servers: HashMap::new(),
            server_index: HashMap::new(),
            clients: HashMap::new(),
            client_index: HashMap::new(),
            pending: HashMap::new(),
            pending_index: HashMap::new(),
            timers: TimerQueue::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: EndpointStats::default(),
        }
    }

    /// The configuration in effect.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// A message from the network, parsed by the gateway with
    /// [`parse_datagram`](super::parse_datagram) or a
    /// [`StreamFramer`](super::StreamFramer). Never panics, whatever it holds.
    pub fn handle_message(&mut self, now: Instant, from: Peer, message: Message) {
        match message {
            Message::Request(r) => self.on_request(now, from, r),
            Message::Response(r) => self.on_response(now, r),
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for owner in self.timers.take_due(now) {
            let mut out = Vec::new();
            match owner {
                Owner::Server(id) => {
                    if let Some(e) = self.servers.get_mut(&id) {
                        e.scheduled = None;
                        match &mut e.machine {
                            ServerMachine::Invite(m) => m.on_timeout(now, &mut out),
                            ServerMachine::NonInvite(m) => m.on_timeout(now, &mut out),
                        }
                        self.apply_server(id, &mut out);
                    }
                }
                Owner::Client(id) => {
                    if let Some(e) = self.clients.get_mut(&id) {
                        e.scheduled = None;
                        match &mut e.machine {
                            ClientMachine::Invite(m) => m.on_timeout(now, &mut out),
                            ClientMachine::NonInvite(m) => m.on_timeout(now, &mut out),
                        }
                        self.apply_client(id, &mut out);
                    }
                }
                Owner::Pending2xx(id) => self.pending_timeout(now, id),
            }
        }
    }

    /// When [`Endpoint::handle_timeout`] must be called next, if any timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first()
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Answers the request of server transaction `txn`.
    ///
    /// A response above 100 without a To tag gets the transaction's tag
    /// ([`Endpoint::local_tag`]); once the TU sends a tagged response its tag
    /// becomes the transaction's. A 2xx to an INVITE is then retransmitted by the
    /// endpoint until the ACK arrives (UDP; see
    /// [`EndpointConfig::retransmit_2xx_on_reliable`]).
    ///
    /// Fails without sending anything if the transaction is gone
    /// ([`TxnError::UnknownTransaction`]), already sent a final response
    /// ([`TxnError::AlreadyAnswered`]; 2xx retransmission is the endpoint's job),
    /// or the response's Call-ID or CSeq is not the request's.
    pub fn respond(
        &mut self,
        now: Instant,
        txn: ServerTxnId,
        mut response: Response,
    ) -> Result<(), TxnError> {
        let entry = self
            .servers
            .get_mut(&txn)
            .ok_or(TxnError::UnknownTransaction)?;
        check_answers(entry.machine.request(), &response)?;
        if response.status != StatusCode::TRYING {
            response.set_to_tag(&entry.local_tag);
            if entry.request_to_tag.is_none()
                && let Some(tag) = super::txn::key::to_tag(&response.headers)
            {
                entry.local_tag = tag;
            }
        }
        let mut out = Vec::new();
        let is_2xx = response.status.is_success();
        let result = match &mut entry.machine {
            ServerMachine::Invite(m) => {
                let copy = is_2xx.then(|| response.clone());
                m.on_tu_response(now, response, &mut out).map(|()| copy)
            }
            ServerMachine::NonInvite(m) => m.on_tu_response(now, response, &mut out).map(|()| None),
        };
        let peer = entry.peer.clone();
        let ok_to_invite = result.map_err(|_| TxnError::AlreadyAnswered)?;
        self.apply_server(txn, &mut out);
        if let Some(ok) = ok_to_invite {
            self.start_2xx(now, txn, peer, ok);
        }
        Ok(())
    }

    /// The state of a server transaction, `None` once it has ended.
    pub fn server_state(&self, txn: ServerTxnId) -> Option<TxnState> {
        self.servers.get(&txn).map(|e| e.machine.state())
    }

    /// The state of a client transaction, `None` once it has ended.
    pub fn client_state(&self, txn: ClientTxnId) -> Option<TxnState> {
        self.clients.get(&txn).map(|e| e.machine.state())
    }

    /// The request that created a live server transaction (to build a 487 after
    /// [`Event::Cancelled`], say).
    pub fn server_request(&self, txn: ServerTxnId) -> Option<&Request> {
        self.servers.get(&txn).map(|e| e.machine.request())
    }

    /// The request of a live client transaction, as sent (Via included).
    pub fn client_request(&self, txn: ClientTxnId) -> Option<&Request> {
        self.clients.get(&txn).map(|e| e.machine.request())
    }

    /// The To tag the endpoint puts on this transaction's untagged responses.
    pub fn local_tag(&self, txn: ServerTxnId) -> Option<&str> {
        self.servers.get(&txn).map(|e| e.local_tag.as_str())
    }

    /// Live transactions, client and server.
    pub fn transactions(&self) -> usize {
        self.servers.len() + self.clients.len()
    }

    /// 2xx responses being retransmitted or waiting out their ACK window.
    pub fn pending_2xx(&self) -> usize {
        self.pending.len()
    }

    /// Pending timers (one per transaction or 2xx record at most).
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    /// Counters.
    pub fn stats(&self) -> &EndpointStats {
        &self.stats
    }

    /// A fresh random tag, for the TU's own From tags and To tags.
    pub fn new_tag(&mut self) -> String {
        self.rng.tag()
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Queues a message, adding User-Agent / Server if configured and absent.
    fn transmit(&mut self, to: Peer, mut message: Message) {
        if let Some(ua) = &self.config.user_agent {
            let (headers, name) = match &mut message {
                Message::Request(r) => (&mut r.headers, HeaderName::UserAgent),
                Message::Response(r) => (&mut r.headers, HeaderName::Server),
            };
            if !headers.contains(&name) {
                headers.push(Header::new(name, ua.clone()));
            }
        }
        self.transmits.push_back(Transmit { to, message });
    }

    /// Carries out a server machine's actions and reschedules or removes it.
    fn apply_server(&mut self, id: ServerTxnId, out: &mut Vec<TxnAction>) {
        let Some(peer) = self.servers.get(&id).map(|e| e.peer.clone()) else {
            out.clear();
            return;
        };
        for action in out.drain(..) {
            match action {
                TxnAction::Send(m) => self.transmit(peer.clone(), m),
                TxnAction::AckTimeout => self.events.push_back(Event::AckTimeout { txn: id }),
                TxnAction::Response(_) | TxnAction::Timeout => {}
            }
        }
        let Some(e) = self.servers.get_mut(&id) else {
            return;
        };
        if e.machine.state() == TxnState::Terminated {
            self.timers
                .update(Owner::Server(id), &mut e.scheduled, None);
            let key = e.key.clone();
            self.servers.remove(&id);
            if self.server_index.get(&key) == Some(&id) {
                self.server_index.remove(&key);
            }
        } else {
            let next = e.machine.next_timeout();
            self.timers
                .update(Owner::Server(id), &mut e.scheduled, next);
        }
    }

    /// Carries out a client machine's actions and reschedules or removes it.
    fn apply_client(&mut self, id: ClientTxnId, out: &mut Vec<TxnAction>) {
        let Some(peer) = self.clients.get(&id).map(|e| e.peer.clone()) else {
            out.clear();
            return;
        };
        for action in out.drain(..) {
            match action {
                TxnAction::Send(m) => self.transmit(peer.clone(), m),
                TxnAction::Response(response) => {
                    self.events.push_back(Event::Response { txn: id, response });
                }
                TxnAction::Timeout => self.events.push_back(Event::Timeout { txn: id }),
                TxnAction::AckTimeout => {}
            }
        }
        let Some(e) = self.clients.get_mut(&id) else {
            return;
        };
        if e.machine.state() == TxnState::Terminated {
            self.timers
                .update(Owner::Client(id), &mut e.scheduled, None);
            let key = e.key.clone();
            self.clients.remove(&id);
            if self.client_index.get(&key) == Some(&id) {
                self.client_index.remove(&key);
            }
        } else {
            let next = e.machine.next_timeout();
            self.timers
                .update(Owner::Client(id), &mut e.scheduled, next);
        }
    }

    /// Starts retransmitting a 2xx the TU sent to an INVITE.
    fn start_2xx(&mut self, now: Instant, txn: ServerTxnId, peer: Peer, ok: Response) {
        let retransmit = !peer.is_reliable() || self.config.retransmit_2xx_on_reliable;
        let Some(record) = Pending2xx::new(now, txn, peer, ok, retransmit, self.config.timers)
        else {
            return;
        };
        let id = self.next_id();
        if let Some(old_id) = self.pending_index.insert(record.key.clone(), id)
            && let Some(mut old) = self.pending.remove(&old_id)
        {
            self.timers
                .update(Owner::Pending2xx(old_id), &mut old.scheduled, None);
        }
        self.pending.insert(id, record);
        self.settle_pending(id);
    }

    fn pending_timeout(&mut self, now: Instant, id: u64) {
        let Some(p) = self.pending.get_mut(&id) else {
            return;
        };
        p.scheduled = None;
        match p.on_timeout(now) {
            Some(Fired::Resend(r)) => {
                let peer = p.peer.clone();
                self.transmit(peer, Message::Response(r));
            }
            Some(Fired::Expired { acked: false }) => {
                let (txn, dialog) = (p.txn, p.dialog.clone());
                self.events.push_back(Event::AckTimeout2xx { txn, dialog });
            }
            Some(Fired::Expired { acked: true }) | None => {}
        }
        self.settle_pending(id);
    }

    /// Reschedules a 2xx record, or removes it once it has nothing left to do.
    fn settle_pending(&mut self, id: u64) {
        let Some(p) = self.pending.get_mut(&id) else {
            return;
        };
        let next = p.next_timeout();
        self.timers
            .update(Owner::Pending2xx(id), &mut p.scheduled, next);
        if next.is_none() {
            let key = p.key.clone();
            self.pending.remove(&id);
            if self.pending_index.get(&key) == Some(&id) {
                self.pending_index.remove(&key);
            }
        }
    }
}

/// Whether `resp` can answer `req`: same Call-ID and CSeq.
fn check_answers(req: &Request, resp: &Response) -> Result<(), TxnError> {
    if req.headers.call_id().ok() != resp.headers.call_id().ok() {
        return Err(TxnError::WrongResponse("Call-ID differs"));
    }
    if req.headers.cseq().ok() != resp.headers.cseq().ok() {
        return Err(TxnError::WrongResponse("CSeq differs"));
    }
    Ok(())
}
