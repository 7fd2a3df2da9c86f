//! The SIP core: one task that owns the transaction endpoint and every call.
//!
//! Everything that changes SIP state happens on this task, in order: network messages,
//! transaction timers, and commands from the calls' media tasks. Nothing here waits on
//! the network (sends are queued) or on a file, so one slow peer or disk cannot hold up
//! other calls.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use voxgate_proto::sdp::{MediaCapabilities, Negotiator, SdpError, SessionDescription};
use voxgate_proto::sip::{
    ClientTxnId, Dialog, DialogId, Endpoint, EndpointConfig, Event, Method, Peer, Request,
    Response, ServerTxnId, StatusCode, Transport, Uri,
};

use super::call::{Call, CallKey, CallState, Transfer};
use super::config::{AfterPrompt, SipConfig};
use super::events::{CallEvent, DtmfSource, EventSink};
use super::transport::{Received, Transports};
use crate::media::call::{MediaCommand, MediaParams, spawn_media};
use crate::media::ports::PortAllocator;

/// Methods voxgate answers; the rest get 405 (registered) or 501 (unknown).
const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY";
/// Bodies voxgate reads: SDP, and DTMF in INFO. The transaction layer answers 415 with
/// these for anything else, and OPTIONS lists them in Accept.
const BODY_TYPES: [&str; 4] = [
    "application/sdp",
    "application/dtmf-relay",
    "application/dtmf",
    "multipart/mixed",
];
const ACCEPT: &str = "application/sdp, application/dtmf-relay, application/dtmf";
const USER_AGENT: &str = concat!("voxgate/", env!("CARGO_PKG_VERSION"));

/// What media tasks (and timers) tell the core.
#[derive(Debug)]
pub enum CoreCommand {
    Answer(CallKey),
    PromptFinished(CallKey, u64),
    RtpTimeout(CallKey),
    Stats(oneshot::Sender<CoreStats>),
}

/// A snapshot for tests and metrics.
#[derive(Debug, Clone, Default)]
pub struct CoreStats {
    pub active_calls: usize,
    pub transactions: usize,
    /// INVITE → 200 OK for calls answered at once, in µs, from the datagram reaching
    /// the core to the 200 handed to the socket (the most recent ones).
    pub answer_latency_us: Vec<u32>,
}

/// How many answer latencies are kept.
const LATENCY_SAMPLES: usize = 100_000;

/// Why the SIP server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    #[error(transparent)]
    Transport(#[from] super::transport::TransportError),
    #[error("prompt for number {number}: {source}")]
    Prompt {
        number: String,
        #[source]
        source: crate::media::audio_file::AudioFileError,
    },
}

/// A running SIP server.
#[derive(Debug)]
pub struct SipServer {
    pub transports: Transports,
    commands: mpsc::Sender<CoreCommand>,
    task: tokio::task::JoinHandle<()>,
}

impl SipServer {
    /// Binds the listeners, loads every route's prompt, and starts the core.
    pub async fn start(config: SipConfig, events: EventSink) -> Result<SipServer, StartError> {
        config.validate()?;
        let mut prompts = HashMap::new();
        for route in &config.routes {
            if let Some(path) = &route.prompt {
                let path = path.clone();
                let pcm = tokio::task::spawn_blocking(move || {
                    crate::media::audio_file::read_wav(
                        &path,
                        crate::media::audio_file::TELEPHONE_RATE,
                    )
                })
                .await
                .unwrap_or_else(|e| {
                    Err(crate::media::audio_file::AudioFileError::Format {
                        path: String::new(),
                        detail: e.to_string(),
                    })
                })
                .map_err(|source| StartError::Prompt {
                    number: route.number.clone(),
                    source,
                })?;
                prompts.insert(route.number.clone(), Arc::<[i16]>::from(pcm));
            }
        }
        let (inbound_tx, inbound_rx) = mpsc::channel::<Received>(4096);
        let transports = Transports::bind(&config.listeners()?, inbound_tx).await?;
        let public_ip = config.public_ip.unwrap_or_else(|| {
            transports
                .local_addr(Transport::Udp)
                .or_else(|| transports.local_addr(Transport::Tcp))
                .map(|a| a.ip())
                .unwrap_or(IpAddr::from([127, 0, 0, 1]))
        });
        let mut ep_config = EndpointConfig {
            user_agent: Some(USER_AGENT.to_string()),
            ..EndpointConfig::default()
        };
        ep_config.policy.body_types = BODY_TYPES.map(String::from).to_vec();
        for t in [Transport::Udp, Transport::Tcp, Transport::Tls] {
            if let Some(addr) = transports.local_addr(t.clone()) {
                ep_config = ep_config.with_local(t, SocketAddr::new(public_ip, addr.port()));
            }
        }
        let (cmd_tx, cmd_rx) = mpsc::channel(4096);
        let core = Core {
            endpoint: Endpoint::new(ep_config),
            transports: transports.clone(),
            ports: Arc::new(PortAllocator::new(public_ip, 20_000, 39_999)),
            public_ip,
            prompts,
            events,
            commands: cmd_tx.clone(),
            calls: HashMap::new(),
            by_invite: HashMap::new(),
            by_dialog: HashMap::new(),
            by_client: HashMap::new(),
            config: Arc::new(config),
            session_ids: 1,
            received_at: Instant::now(),
            answering: Vec::new(),
            answer_latency_us: std::collections::VecDeque::new(),
        };
        let task = tokio::spawn(core.run(inbound_rx, cmd_rx));
        Ok(SipServer {
            transports,
            commands: cmd_tx,
            task,
        })
    }

    /// Where the server listens, per transport.
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        self.transports.local_addr(transport)
    }

    pub async fn stats(&self) -> Option<CoreStats> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(CoreCommand::Stats(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Stops the core (calls are dropped without BYE).
    pub fn abort(&self) {
        self.task.abort();
    }
}

struct Core {
    endpoint: Endpoint,
    transports: Transports,
    ports: Arc<PortAllocator>,
    public_ip: IpAddr,
    prompts: HashMap<String, Arc<[i16]>>,
    events: EventSink,
    commands: mpsc::Sender<CoreCommand>,
    calls: HashMap<CallKey, Call>,
    by_invite: HashMap<ServerTxnId, CallKey>,
    by_dialog: HashMap<DialogId, CallKey>,
    by_client: HashMap<ClientTxnId, CallKey>,
    config: Arc<SipConfig>,
    session_ids: u64,
    /// When the message being handled arrived.
    received_at: Instant,
    /// Calls answered in this drain whose 200 has not been handed to the socket yet.
    answering: Vec<Instant>,
    answer_latency_us: std::collections::VecDeque<u32>,
}

impl Core {
    async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Received>,
        mut commands: mpsc::Receiver<CoreCommand>,
    ) {
        loop {
            let deadline = self.endpoint.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = inbound.recv() => {
                    let Some(r) = received else { break };
                    self.received_at = Instant::now();
                    self.endpoint.handle_message(self.received_at, r.from, r.message);
                }
                command = commands.recv() => {
                    let Some(c) = command else { break };
                    self.on_command(c);
                }
                () = sleep => self.endpoint.handle_timeout(Instant::now()),
            }
            self.drain().await;
        }
    }

    /// Sends what the endpoint queued and acts on its events until both are empty.
    async fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.endpoint.poll_transmit() {
                progressed = true;
                let bytes = t.message.to_bytes();
                if let Err(e) = self.transports.send(t.to, bytes).await {
                    tracing::debug!("send failed: {e}");
                }
            }
            while let Some(event) = self.endpoint.poll_event() {
                progressed = true;
                self.on_event(event);
            }
            // Everything queued above, 200s included, has been handed to the sockets.
            let now = Instant::now();
            for received in self.answering.drain(..) {
                if self.answer_latency_us.len() == LATENCY_SAMPLES {
                    self.answer_latency_us.pop_front();
                }
                let us =
                    u32::try_from(now.duration_since(received).as_micros()).unwrap_or(u32::MAX);
                self.answer_latency_us.push_back(us);
            }
            if !progressed {
                break;
            }
        }
    }

    fn on_command(&mut self, command: CoreCommand) {
        match command {
            CoreCommand::Answer(key) => self.answer(&key),
            CoreCommand::PromptFinished(key, duration_ms) => {
                let Some(call) = self.calls.get(&key) else {
                    return;
                };
                self.events.emit(CallEvent::PromptFinished {
                    call_id: key.0.clone(),
                    duration_ms,
                });
                if call.state != CallState::Confirmed {
                    return;
                }
                match call.route.after_prompt {
                    AfterPrompt::Wait => {}
                    AfterPrompt::Hangup => self.hang_up(&key, "hangup-after-prompt"),
                    AfterPrompt::Transfer => self.transfer(&key),
                }
            }
            CoreCommand::RtpTimeout(key) => self.hang_up(&key, "rtp-timeout"),
            CoreCommand::Stats(reply) => {
                let _ = reply.send(CoreStats {
                    active_calls: self.calls.len(),
                    transactions: self.endpoint.transactions(),
                    answer_latency_us: self.answer_latency_us.iter().copied().collect(),
                });
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        let now = Instant::now();
        match event {
            Event::Request {
                txn: Some(txn),
                from,
                request,
            } => self.on_request(now, txn, from, request),
            Event::Request {
                txn: None, request, ..
            } if request.method == Method::Ack => self.on_ack(&request),
            Event::Request { .. } => {}
            Event::Cancelled { invite } => {
                let Some(key) = self.by_invite.get(&invite).cloned() else {
                    return;
                };
                if let Some(request) = self.calls.get(&key).map(|c| c.invite.clone()) {
                    self.reply(invite, &request, StatusCode::REQUEST_TERMINATED, &[]);
                }
                self.finish(&key, "cancelled");
            }
            Event::Response { txn, response } => self.on_response(now, txn, response),
            Event::Timeout { txn } => {
                if let Some(key) = self.by_client.remove(&txn) {
                    let was_bye = self.calls.get(&key).is_some_and(|c| c.bye == Some(txn));
                    if was_bye {
                        self.finish(&key, "bye-timeout");
                    } else if let Some(call) = self.calls.get_mut(&key)
                        && call.transfer.as_ref().is_some_and(|t| t.refer == txn)
                    {
                        let target = call.transfer.take().map(|t| t.target).unwrap_or_default();
                        self.events.emit(CallEvent::Transfer {
                            call_id: key.0.clone(),
                            target,
                            outcome: "failed: no answer to REFER".into(),
                        });
                    }
                }
            }
            Event::AckTimeout { txn } => {
                if let Some(key) = self.by_invite.remove(&txn) {
                    self.finish(&key, "no-ack");
                }
            }
            Event::AckTimeout2xx { dialog, .. } => {
                if let Some(key) = self.by_dialog.get(&dialog).cloned() {
                    self.hang_up(&key, "no-ack");
                }
            }
            Event::StrayResponse { .. } => {}
        }
    }

    /// Answers a server transaction; failures are logged (the transaction is gone).
    fn reply(
        &mut self,
        txn: ServerTxnId,
        request: &Request,
        status: StatusCode,
        headers: &[(&str, String)],
    ) {
        let mut b = Response::reply(request, status);
        for (name, value) in headers {
            b = b.header(*name, value.clone());
        }
        if let Err(e) = self.endpoint.respond(Instant::now(), txn, b.build()) {
            tracing::debug!("cannot answer {status}: {e}");
        }
    }

    fn on_request(&mut self, now: Instant, txn: ServerTxnId, from: Peer, request: Request) {
        let in_dialog = request
            .headers
            .to_address()
            .ok()
            .is_some_and(|to| to.tag().is_some());
        match request.method {
            Method::Invite if !in_dialog => self.new_call(now, txn, from, request),
            Method::Invite => self.reinvite(txn, request),
            Method::Bye => {
                let Some(key) = self.call_for(&request) else {
                    self.reply(txn, &request, StatusCode::CALL_DOES_NOT_EXIST, &[]);
                    return;
                };
                self.reply(txn, &request, StatusCode::OK, &[]);
                self.finish(&key, "caller-bye");
            }
            Method::Options => {
                let headers = [
                    ("Allow", ALLOW.to_string()),
                    ("Accept", ACCEPT.to_string()),
                    ("Supported", "replaces".to_string()),
                ];
                self.reply(txn, &request, StatusCode::OK, &headers);
            }
            Method::Info => self.info(txn, request),
            Method::Notify => self.notify(txn, request),
            Method::Extension(_) => self.reply(txn, &request, StatusCode::NOT_IMPLEMENTED, &[]),
            _ => self.reply(
                txn,
                &request,
                StatusCode::METHOD_NOT_ALLOWED,
                &[("Allow", ALLOW.to_string())],
            ),
        }
    }

    fn call_for(&self, request: &Request) -> Option<CallKey> {
        let id = DialogId::of_incoming(request)?;
        self.by_dialog.get(&id).cloned()
    }

    fn new_call(&mut self, now: Instant, txn: ServerTxnId, from: Peer, invite: Request) {
        let _ = now;
        let Some(key) = call_key(&invite) else {
            self.reply(txn, &invite, StatusCode::BAD_REQUEST, &[]);
            return;
        };
        if self.calls.contains_key(&key) {
            // A second INVITE for the same dialog-forming request: merged (RFC 3261 §8.2.2.2).
            self.reply(txn, &invite, status(482), &[]);
            return;
        }
        if self.calls.len() >= self.config.max_calls {
            let retry = self.config.retry_after_secs.to_string();
            self.reply(
                txn,
                &invite,
                StatusCode::SERVICE_UNAVAILABLE,
                &[("Retry-After", retry)],
            );
            return;
        }
        let dialled = dialled_number(&invite);
        let Some(route) = self.config.route(&dialled).cloned() else {
            self.reply(txn, &invite, StatusCode::NOT_FOUND, &[]);
            return;
        };
        if invite.body.is_empty() {
            // Offerless INVITEs (offer in the 200, answer in the ACK) are not served yet.
            self.reply(
                txn,
                &invite,
                status(488),
                &[(
                    "Warning",
                    "399 voxgate \"an SDP offer is required in the INVITE\"".into(),
                )],
            );
            return;
        }
        let offer = match SessionDescription::parse(&invite.body) {
            Ok(o) => o,
            Err(e) => {
                self.reply(
                    txn,
                    &invite,
                    StatusCode::BAD_REQUEST,
                    &[(
                        "Warning",
                        format!("399 voxgate \"bad SDP: {}\"", sanitize(&e.to_string())),
                    )],
                );
                return;
            }
        };
        // Port binding is a syscall, not a wait: fine on this task.
        let Some((rtp, rtcp)) = bind_pair_now(&self.ports) else {
            let retry = self.config.retry_after_secs.to_string();
            self.reply(
                txn,
                &invite,
                StatusCode::SERVICE_UNAVAILABLE,
                &[("Retry-After", retry)],
            );
            return;
        };
        let rtp_port = rtp.local_addr().map(|a| a.port()).unwrap_or(0);
        self.session_ids += 1;
        let caps = MediaCapabilities::new(self.public_ip, rtp_port, self.session_ids);
        let mut negotiator = Negotiator::new(caps);
        let negotiated = match negotiator.answer(&offer) {
            Ok(n) => n,
            Err(SdpError::NoCommonCodec) => {
                self.reply(txn, &invite, status(488), &[]);
                return;
            }
            Err(e) => {
                self.reply(
                    txn,
                    &invite,
                    status(488),
                    &[(
                        "Warning",
                        format!("399 voxgate \"{}\"", sanitize(&e.to_string())),
                    )],
                );
                return;
            }
        };
        let local = self
            .transports
            .local_addr(from.transport.clone())
            .unwrap_or_else(|| SocketAddr::new(self.public_ip, 5060));
        let codec = format!("{:?}", negotiated.codec);
        let media = spawn_media(MediaParams {
            key: key.clone(),
            rtp,
            rtcp,
            negotiated,
            prompt: self.prompts.get(&route.number).cloned(),
            record: self
                .config
                .record_dir
                .as_ref()
                .map(|d| d.join(format!("{}.wav", file_safe(&key.0)))),
            rtp_timeout: self.config.rtp_timeout(),
            events: self.events.clone(),
            core: self.commands.clone(),
        });
        let from_uri = invite
            .headers
            .from_address()
            .map(|a| a.uri.to_string())
            .unwrap_or_default();
        let ring = Duration::from_millis(route.ring_ms);
        let call = Call {
            key: key.clone(),
            invite: invite.clone(),
            invite_txn: txn,
            peer: from,
            local,
            route,
            state: CallState::Ringing,
            dialog: None,
            negotiator,
            media: Some(media),
            on_hold: false,
            transfer: None,
            bye: None,
            end_reason: None,
            started: Instant::now(),
            received_at: self.received_at,
            from: from_uri,
            to: dialled,
            codec,
        };
        self.calls.insert(key.clone(), call);
        self.by_invite.insert(txn, key.clone());
        if ring.is_zero() {
            self.answer(&key);
        } else {
            self.reply(txn, &invite, StatusCode::RINGING, &[]);
            let commands = self.commands.clone();
            tokio::spawn(async move {
                tokio::time::sleep(ring).await;
                let _ = commands.send(CoreCommand::Answer(key)).await;
            });
        }
    }

    fn contact(&self, call: &Call) -> String {
        let transport = match call.peer.transport {
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
            _ => "",
        };
        let host = match self.public_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        format!("<sip:voxgate@{host}:{}{transport}>", call.local.port())
    }

    fn answer(&mut self, key: &CallKey) {
        let Some(call) = self.calls.get(key) else {
            return;
        };
        if call.state != CallState::Ringing {
            return;
        }
        let Some(sdp) = call.negotiator.current().map(|n| n.answer().to_string()) else {
            return;
        };
        let response = Response::reply(&call.invite, StatusCode::OK)
            .header("Contact", self.contact(call))
            .header("Allow", ALLOW)
            .header("Supported", "replaces")
            .body("application/sdp", Bytes::from(sdp))
            .build();
        let txn = call.invite_txn;
        let transport = call.peer.transport.clone();
        let invite = call.invite.clone();
        if call.route.ring_ms == 0 {
            self.answering.push(call.received_at);
        }
        if let Err(e) = self.endpoint.respond(Instant::now(), txn, response) {
            tracing::debug!("cannot answer call {}: {e}", key.0);
            self.finish(key, "answer-failed");
            return;
        }
        // The endpoint tagged the 200; the dialog is built from what was sent.
        let Some(tag) = self.endpoint.local_tag(txn).map(str::to_string) else {
            self.finish(key, "answer-failed");
            return;
        };
        let sent = Response::reply(&invite, StatusCode::OK)
            .to_tag(tag)
            .header(
                "Contact",
                self.calls
                    .get(key)
                    .map(|c| self.contact(c))
                    .unwrap_or_default(),
            )
            .build();
        match Dialog::new_uas(&invite, &sent, &transport) {
            Ok(dialog) => {
                self.by_dialog.insert(dialog.id().clone(), key.clone());
                if let Some(call) = self.calls.get_mut(key) {
                    call.dialog = Some(dialog);
                    call.state = CallState::Answered;
                }
            }
            Err(e) => {
                tracing::warn!("call {}: cannot form a dialog: {e}", key.0);
                self.hang_up(key, "dialog-failed");
            }
        }
    }

    fn on_ack(&mut self, ack: &Request) {
        let Some(key) = self.call_for(ack) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.state != CallState::Answered {
            return;
        }
        call.state = CallState::Confirmed;
        if let Some(d) = call.dialog.as_mut() {
            d.confirm();
        }
        if let Some(m) = &call.media {
            m.send(MediaCommand::Start);
        }
        self.events.emit(CallEvent::CallStarted {
            call_id: key.0.clone(),
            from: call.from.clone(),
            to: call.to.clone(),
            codec: call.codec.clone(),
        });
    }

    fn reinvite(&mut self, txn: ServerTxnId, request: Request) {
        let Some(key) = self.call_for(&request) else {
            self.reply(txn, &request, StatusCode::CALL_DOES_NOT_EXIST, &[]);
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if let Some(d) = call.dialog.as_mut()
            && let Err(e) = d.receive_request(&request)
        {
            let code = e.status();
            self.reply(txn, &request, code, &[]);
            return;
        }
        let offer = match SessionDescription::parse(&request.body) {
            Ok(o) => o,
            Err(_) if request.body.is_empty() => {
                self.reply(
                    txn,
                    &request,
                    status(488),
                    &[(
                        "Warning",
                        "399 voxgate \"re-INVITE without an offer is not supported\"".into(),
                    )],
                );
                return;
            }
            Err(e) => {
                let w = format!("399 voxgate \"bad SDP: {}\"", sanitize(&e.to_string()));
                self.reply(txn, &request, StatusCode::BAD_REQUEST, &[("Warning", w)]);
                return;
            }
        };
        let negotiated = match call.negotiator.answer(&offer) {
            Ok(n) => n,
            Err(_) => {
                // RFC 3264 §8: the old session stays in effect.
                self.reply(txn, &request, status(488), &[]);
                return;
            }
        };
        let hold = negotiated.remote_hold;
        let changed = hold != call.on_hold;
        call.on_hold = hold;
        call.codec = format!("{:?}", negotiated.codec);
        let sdp = negotiated.answer().to_string();
        if let Some(m) = &call.media {
            m.send(MediaCommand::Update(Box::new(negotiated)));
        }
        let contact = self
            .calls
            .get(&key)
            .map(|c| self.contact(c))
            .unwrap_or_default();
        let response = Response::reply(&request, StatusCode::OK)
            .header("Contact", contact)
            .header("Allow", ALLOW)
            .body("application/sdp", Bytes::from(sdp))
            .build();
        if let Err(e) = self.endpoint.respond(Instant::now(), txn, response) {
            tracing::debug!("cannot answer re-INVITE: {e}");
        }
        if changed {
            self.events.emit(CallEvent::Hold {
                call_id: key.0.clone(),
                on_hold: hold,
            });
        }
    }

    fn info(&mut self, txn: ServerTxnId, request: Request) {
        let Some(key) = self.call_for(&request) else {
            self.reply(txn, &request, StatusCode::CALL_DOES_NOT_EXIST, &[]);
            return;
        };
        let content_type = request
            .headers
            .content_type()
            .ok()
            .flatten()
            .map(|m| format!("{}/{}", m.ty, m.subtype))
            .unwrap_or_default();
        match voxgate_proto::dtmf::parse_info(&content_type, &request.body) {
            Ok(d) => {
                self.reply(txn, &request, StatusCode::OK, &[]);
                self.events.emit(CallEvent::Dtmf {
                    call_id: key.0,
                    digit: d.digit.to_string(),
                    source: DtmfSource::SipInfo,
                });
            }
            // INFO for other packages (or an empty keep-alive INFO) is acknowledged.
            Err(_) if request.body.is_empty() => self.reply(txn, &request, StatusCode::OK, &[]),
            Err(_) => self.reply(
                txn,
                &request,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &[("Accept", ACCEPT.to_string())],
            ),
        }
    }

    /// NOTIFY in a call we transferred: the transfer's progress as a sipfrag.
    fn notify(&mut self, txn: ServerTxnId, request: Request) {
        let Some(key) = self.call_for(&request) else {
            self.reply(txn, &request, StatusCode::CALL_DOES_NOT_EXIST, &[]);
            return;
        };
        self.reply(txn, &request, StatusCode::OK, &[]);
        let frag = String::from_utf8_lossy(&request.body);
        let code = frag
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("SIP/2.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code else { return };
        if code < 200 {
            return;
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(transfer) = call.transfer.take() else {
            return;
        };
        let outcome = if (200..300).contains(&code) {
            "completed".to_string()
        } else {
            format!("failed: {code}")
        };
        self.events.emit(CallEvent::Transfer {
            call_id: key.0.clone(),
            target: transfer.target,
            outcome,
        });
        if (200..300).contains(&code) {
            self.hang_up(&key, "transferred");
        }
    }

    /// Sends an in-dialog request on a call; returns its client transaction.
    fn send_in_dialog(
        &mut self,
        key: &CallKey,
        method: Method,
        extra: &[(&str, String)],
    ) -> Option<ClientTxnId> {
        let call = self.calls.get_mut(key)?;
        let peer = call.peer.clone();
        let dialog = call.dialog.as_mut()?;
        let mut b = dialog.request_builder(method);
        for (name, value) in extra {
            b = b.header(*name, value.clone());
        }
        let request = b.build();
        match self.endpoint.send_request(Instant::now(), peer, request) {
            Ok(txn) => {
                self.by_client.insert(txn, key.clone());
                Some(txn)
            }
            Err(e) => {
                tracing::warn!("call {}: cannot send request: {e}", key.0);
                None
            }
        }
    }

    fn transfer(&mut self, key: &CallKey) {
        let Some(target) = self
            .calls
            .get(key)
            .and_then(|c| c.route.transfer_to.clone())
        else {
            return;
        };
        let host = match self.public_ip {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        let headers = [
            ("Refer-To", format!("<{target}>")),
            ("Referred-By", format!("<sip:voxgate@{host}>")),
        ];
        if let Some(txn) = self.send_in_dialog(key, Method::Refer, &headers)
            && let Some(call) = self.calls.get_mut(key)
        {
            call.transfer = Some(Transfer {
                target,
                refer: txn,
                accepted: false,
            });
        }
    }

    /// voxgate ends the call: BYE if a dialog exists, else just clean up.
    fn hang_up(&mut self, key: &CallKey, reason: &str) {
        let Some(call) = self.calls.get_mut(key) else {
            return;
        };
        if call.state == CallState::Ending {
            return;
        }
        call.end_reason = Some(reason.to_string());
        if call.dialog.is_none() {
            self.finish(key, reason);
            return;
        }
        if let Some(m) = &call.media {
            m.send(MediaCommand::Pause);
        }
        call.state = CallState::Ending;
        match self.send_in_dialog(key, Method::Bye, &[]) {
            Some(txn) => {
                if let Some(call) = self.calls.get_mut(key) {
                    call.bye = Some(txn);
                }
            }
            None => self.finish(key, reason),
        }
    }

    fn on_response(&mut self, now: Instant, txn: ClientTxnId, response: Response) {
        let _ = now;
        let Some(key) = self.by_client.get(&txn).cloned() else {
            return;
        };
        if response.status.is_provisional() {
            return;
        }
        self.by_client.remove(&txn);
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.bye == Some(txn) {
            let reason = call
                .end_reason
                .clone()
                .unwrap_or_else(|| "voxgate-bye".into());
            self.finish(&key, &reason);
            return;
        }
        if let Some(t) = call.transfer.as_mut()
            && t.refer == txn
        {
            if response.status.is_success() {
                t.accepted = true;
            } else {
                let target = call.transfer.take().map(|t| t.target).unwrap_or_default();
                self.events.emit(CallEvent::Transfer {
                    call_id: key.0.clone(),
                    target,
                    outcome: format!("refused: {}", response.status.code()),
                });
            }
        }
    }

    /// Forgets a call: stops its media and reports how it ended.
    fn finish(&mut self, key: &CallKey, reason: &str) {
        let Some(call) = self.calls.remove(key) else {
            return;
        };
        self.by_invite.remove(&call.invite_txn);
        if let Some(d) = &call.dialog {
            self.by_dialog.remove(d.id());
        }
        self.by_client.retain(|_, k| k != key);
        let duration_ms = u64::try_from(call.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let events = self.events.clone();
        let call_id = key.0.clone();
        let reason = call
            .end_reason
            .clone()
            .unwrap_or_else(|| reason.to_string());
        match call.media {
            Some(media) => {
                tokio::spawn(async move {
                    let report = media.stop().await;
                    events.emit(CallEvent::CallEnded {
                        call_id,
                        reason,
                        duration_ms,
                        recording: report.recording,
                        rtp: report.rtp,
                    });
                });
            }
            None => events.emit(CallEvent::CallEnded {
                call_id,
                reason,
                duration_ms,
                recording: None,
                rtp: Default::default(),
            }),
        }
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::new(code).unwrap_or(StatusCode::SERVER_INTERNAL_ERROR)
}

fn call_key(invite: &Request) -> Option<CallKey> {
    let call_id = invite.headers.call_id().ok()?.to_string();
    let tag = invite
        .headers
        .from_address()
        .ok()
        .and_then(|a| a.tag().map(str::to_string))
        .unwrap_or_default();
    Some((call_id, tag))
}

/// The number dialled: the Request-URI user part, else the To user part.
fn dialled_number(invite: &Request) -> String {
    let user_of = |uri: &Uri| match uri {
        Uri::Sip(s) => s.user.clone(),
        Uri::Tel(t) => Some(t.number.clone()),
        _ => None,
    };
    user_of(&invite.uri)
        .filter(|u| !u.is_empty())
        .or_else(|| {
            invite
                .headers
                .to_address()
                .ok()
                .and_then(|a| user_of(&a.uri))
        })
        .map(|u| u.split(';').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

fn bind_pair_now(ports: &PortAllocator) -> Option<(tokio::net::UdpSocket, tokio::net::UdpSocket)> {
    ports.bind_pair_now()
}

/// Text from a peer going into a header value: no quotes or control characters.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .take(120)
        .collect()
}

/// A Call-ID as a file name: only characters safe everywhere.
fn file_safe(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(96)
        .collect();
    cleaned.trim_start_matches('.').to_string()
}
