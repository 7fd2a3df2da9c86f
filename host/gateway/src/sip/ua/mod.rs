//! The SIP core: one task that owns the transaction endpoint and every call.
//!
//! Everything that changes SIP state happens on this task, in order: network messages,
//! transaction timers, and commands from the calls' media tasks. Nothing here waits on
//! the network (sends are queued) or on a file, so one slow peer or disk cannot hold up
//! other calls.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use voxgate_proto::sip::{
    ClientTxnId, DialogId, Endpoint, EndpointConfig, Event, Method, Peer, Request, Response,
    ServerTxnId, StatusCode, Transport, Uri,
};

mod in_call;
mod invite;

use super::call::{Call, CallKey, CallState};
use super::config::SipConfig;
use super::events::{CallEvent, EventSink};
use super::transport::{Received, Transports};
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
    /// A reply has been played (`duration_ms` of audio, if it had any); what follows.
    PromptFinished {
        key: CallKey,
        duration_ms: Option<u64>,
        after: AfterPlay,
    },
    RtpTimeout(CallKey),
    Stats(oneshot::Sender<CoreStats>),
    /// Ends every call with a BYE (the end of a drain).
    HangUpAll,
}

/// What the core does once a reply has been played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterPlay {
    Nothing,
    Hangup,
    Transfer(String),
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
    #[error("say for number {number}: {detail}")]
    Say { number: String, detail: String },
    #[error("speech engines: {0}")]
    Speech(String),
}

/// A running SIP server.
#[derive(Debug)]
pub struct SipServer {
    pub transports: Transports,
    commands: mpsc::Sender<CoreCommand>,
    task: tokio::task::JoinHandle<()>,
    draining: Arc<std::sync::atomic::AtomicBool>,
}

impl SipServer {
    /// Binds the listeners, loads every route's prompt, and starts the core.
    pub async fn start(config: SipConfig, events: EventSink) -> Result<SipServer, StartError> {
        let speech =
            crate::speech::Speech::new(None).map_err(|e| StartError::Speech(e.to_string()))?;
        SipServer::start_with(
            config,
            events,
            crate::tenant::watch::Tenants::default(),
            speech,
        )
        .await
    }

    /// Like [`SipServer::start`], with tenants answering their numbers (routes in the
    /// config win over a tenant's number).
    pub async fn start_with(
        config: SipConfig,
        events: EventSink,
        tenants: crate::tenant::watch::Tenants,
        speech: crate::speech::Speech,
    ) -> Result<SipServer, StartError> {
        let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
        SipServer::start_full(config, events, tenants, speech, draining).await
    }

    /// Like [`SipServer::start_with`], with the drain flag shared with whoever else
    /// answers "ready?" (the admin API's `/readyz`).
    pub async fn start_full(
        config: SipConfig,
        events: EventSink,
        tenants: crate::tenant::watch::Tenants,
        speech: crate::speech::Speech,
        draining: Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<SipServer, StartError> {
        config.validate()?;
        let mut prompts = HashMap::new();
        for route in &config.routes {
            let pcm = if let Some(path) = &route.prompt {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
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
                })?
            } else if let Some(text) = &route.say {
                let (speech, voice, language, text) = (
                    speech.clone(),
                    route.voice.clone(),
                    route.language.clone(),
                    text.clone(),
                );
                let pcm = tokio::task::spawn_blocking(move || {
                    speech.say(
                        &voice,
                        &language,
                        &text,
                        crate::media::audio_file::TELEPHONE_RATE,
                    )
                })
                .await
                .map_err(|e| StartError::Speech(e.to_string()))?
                .map_err(|e| StartError::Say {
                    number: route.number.clone(),
                    detail: e.to_string(),
                })?;
                pcm.samples.clone()
            } else {
                continue;
            };
            prompts.insert(route.number.clone(), Arc::<[i16]>::from(pcm));
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
            tenants,
            speech,
            session_ids: 1,
            received_at: Instant::now(),
            answering: Vec::new(),
            answer_latency_us: std::collections::VecDeque::new(),
            draining: draining.clone(),
        };
        let task = tokio::spawn(core.run(inbound_rx, cmd_rx));
        Ok(SipServer {
            transports,
            commands: cmd_tx,
            task,
            draining,
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

    /// Stops taking calls (503 to new INVITEs and to OPTIONS), lets the calls in
    /// progress finish until `deadline`, then ends those left with a BYE. Returns how
    /// many calls had to be ended.
    pub async fn drain(&self, deadline: std::time::Duration) -> usize {
        self.draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let active = self.stats().await.map_or(0, |s| s.active_calls);
            if active == 0 {
                return 0;
            }
            if tokio::time::Instant::now() >= until {
                let _ = self.commands.send(CoreCommand::HangUpAll).await;
                // The BYEs' answers (or their timeouts) end the calls; give them a moment.
                let grace = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
                while tokio::time::Instant::now() < grace
                    && self.stats().await.is_some_and(|s| s.active_calls > 0)
                {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                return active;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
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
    tenants: crate::tenant::watch::Tenants,
    speech: crate::speech::Speech,
    session_ids: u64,
    /// When the message being handled arrived.
    received_at: Instant,
    /// Calls answered in this drain whose 200 has not been handed to the socket yet.
    answering: Vec<Instant>,
    answer_latency_us: std::collections::VecDeque<u32>,
    /// Set when the gateway drains for a shutdown: no new calls.
    draining: Arc<std::sync::atomic::AtomicBool>,
}

impl Core {
    /// A call's event sink (tagged with its tenant), or the gateway's.
    fn call_events(&self, key: &CallKey) -> EventSink {
        self.calls
            .get(key)
            .map_or_else(|| self.events.clone(), |c| c.events.clone())
    }

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
            CoreCommand::PromptFinished {
                key,
                duration_ms,
                after,
            } => {
                let Some(call) = self.calls.get(&key) else {
                    return;
                };
                if let Some(duration_ms) = duration_ms {
                    call.events.emit(CallEvent::PromptFinished {
                        call_id: key.0.clone(),
                        duration_ms,
                    });
                }
                if call.state != CallState::Confirmed {
                    return;
                }
                match after {
                    AfterPlay::Nothing => {}
                    AfterPlay::Hangup => self.hang_up(&key, "hangup-after-prompt"),
                    AfterPlay::Transfer(target) => self.transfer(&key, target),
                }
            }
            CoreCommand::RtpTimeout(key) => self.hang_up(&key, "rtp-timeout"),
            CoreCommand::HangUpAll => {
                let keys: Vec<CallKey> = self.calls.keys().cloned().collect();
                for key in keys {
                    self.hang_up(&key, "shutdown");
                }
            }
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
                        self.call_events(&key).emit(CallEvent::Transfer {
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

    /// 503 with Retry-After: over the call limit, or no RTP ports left.
    fn reply_busy(&mut self, txn: ServerTxnId, request: &Request) {
        let retry = self.config.retry_after_secs.to_string();
        self.reply(
            txn,
            request,
            StatusCode::SERVICE_UNAVAILABLE,
            &[("Retry-After", retry)],
        );
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
            Method::Options if self.draining.load(std::sync::atomic::Ordering::Relaxed) => {
                // Proxies probe with OPTIONS: a draining node says it takes no calls.
                self.reply(
                    txn,
                    &request,
                    StatusCode::SERVICE_UNAVAILABLE,
                    &[("Retry-After", "30".into())],
                );
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

/// The caller's number: the From URI's user part (or tel: number), without
/// parameters; empty when withheld (`anonymous`).
fn caller_number(invite: &Request) -> String {
    let user = invite
        .headers
        .from_address()
        .ok()
        .and_then(|a| match &a.uri {
            Uri::Sip(s) => s.user.clone(),
            Uri::Tel(t) => Some(t.number.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let user = user.split(';').next().unwrap_or_default();
    if user.eq_ignore_ascii_case("anonymous") {
        String::new()
    } else {
        user.chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    }
}

/// Text from a peer going into a header value: no quotes or control characters.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .take(120)
        .collect()
}

/// A Call-ID as a file name: only characters safe everywhere.
pub(crate) fn file_safe(s: &str) -> String {
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
