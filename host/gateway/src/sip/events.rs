//! Call events: what happened on each call, as JSON lines for operators and tests, and
//! to listeners (the control plane stores them, counts them and streams them live).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// RTP receive statistics of a call, as they go into its record.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RtpSummary {
    pub packets_received: u64,
    pub packets_expected: u64,
    pub packets_lost: i64,
    pub late_packets: u64,
    pub duplicate_packets: u64,
    pub jitter_ms: f64,
    pub packets_sent: u64,
    /// Packets sent later than 5 ms after their due time.
    pub late_sends: u64,
    pub max_send_delay_ms: f64,
}

/// Where a DTMF digit came from.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DtmfSource {
    Rfc4733,
    SipInfo,
    InBand,
}

/// One thing that happened on a call.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum CallEvent {
    CallStarted {
        call_id: String,
        from: String,
        to: String,
        codec: String,
    },
    Dtmf {
        call_id: String,
        digit: String,
        source: DtmfSource,
    },
    SpeechStart {
        call_id: String,
        at_ms: u64,
    },
    SpeechEnd {
        call_id: String,
        at_ms: u64,
        duration_ms: u64,
    },
    BargeIn {
        call_id: String,
        at_ms: u64,
    },
    Transcript {
        call_id: String,
        text: String,
        confidence: f32,
        duration_ms: u64,
        recognition_ms: u64,
    },
    /// The keys the caller pressed as one turn's input.
    DtmfInput {
        call_id: String,
        digits: String,
    },
    /// The caller said something, but nothing valid in the turn was recognized.
    NoMatch {
        call_id: String,
    },
    /// The caller said and pressed nothing before the turn's no-input timeout.
    NoInput {
        call_id: String,
    },
    /// One turn of the dialog as the agent understood it.
    Turn {
        call_id: String,
        /// `caller` or `agent`.
        who: String,
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        input: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        intent: Option<String>,
    },
    /// A call into the tenant's plugin, once it has answered (or failed).
    PluginCall {
        call_id: String,
        function: String,
        /// `ok` or the error kind.
        outcome: String,
        duration_us: u64,
        plugin: String,
        version: String,
    },
    /// What voxgate says next (text replies only).
    Say {
        call_id: String,
        text: String,
    },
    /// The first frame of voxgate's reply left, `after_input_ms` after the caller's
    /// input ended (the last voiced audio, or the last key).
    ReplyStarted {
        call_id: String,
        after_input_ms: u64,
    },
    PromptFinished {
        call_id: String,
        duration_ms: u64,
    },
    /// The conversation's record of the call (agents, turns, plugin calls,
    /// transactions, outcome, summary), once it is over.
    CallRecord {
        call_id: String,
        record: serde_json::Value,
    },
    Hold {
        call_id: String,
        on_hold: bool,
    },
    Transfer {
        call_id: String,
        target: String,
        outcome: String,
    },
    CallEnded {
        call_id: String,
        reason: String,
        duration_ms: u64,
        recording: Option<PathBuf>,
        rtp: RtpSummary,
    },
}

/// An event with where and when it happened.
#[derive(Debug, Clone)]
pub struct TaggedEvent {
    /// The tenant whose call it is (`None`: a call answered by a SIP route).
    pub tenant: Option<Arc<str>>,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub event: CallEvent,
}

/// Something that takes every event as it happens. It runs on the emitting task (a
/// call's media or SIP task), so it must only hand the event on, never wait.
pub trait EventListener: Send + Sync {
    fn on_event(&self, event: &TaggedEvent);
}

/// Where a call's events go: the log, a JSON lines file, listeners. Never blocks a call.
#[derive(Clone)]
pub struct EventSink {
    tenant: Option<Arc<str>>,
    file: Option<mpsc::UnboundedSender<CallEvent>>,
    listeners: Arc<[Arc<dyn EventListener>]>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("tenant", &self.tenant)
            .field("file", &self.file.is_some())
            .field("listeners", &self.listeners.len())
            .finish()
    }
}

impl EventSink {
    /// Events are only logged.
    pub fn none() -> EventSink {
        EventSink {
            tenant: None,
            file: None,
            listeners: Arc::new([]),
        }
    }

    /// Appends events to `path` as JSON lines, and logs them.
    pub async fn to_file(path: &Path) -> std::io::Result<EventSink> {
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await?;
        let (tx, mut rx) = mpsc::unbounded_channel::<CallEvent>();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                let mut line = serde_json::to_vec(&event).unwrap_or_default();
                line.push(b'\n');
                if let Err(e) = file.write_all(&line).await {
                    tracing::warn!("cannot write call event: {e}");
                }
                let _ = file.flush().await;
            }
        });
        Ok(EventSink {
            file: Some(tx),
            ..EventSink::none()
        })
    }

    /// These events also go to `listener`.
    pub fn with_listener(mut self, listener: Arc<dyn EventListener>) -> EventSink {
        let mut all: Vec<Arc<dyn EventListener>> = self.listeners.iter().cloned().collect();
        all.push(listener);
        self.listeners = all.into();
        self
    }

    /// The same sink, for the calls of `tenant`.
    pub fn for_tenant(&self, tenant: &str) -> EventSink {
        EventSink {
            tenant: Some(Arc::from(tenant)),
            ..self.clone()
        }
    }

    pub fn emit(&self, event: CallEvent) {
        tracing::info!(target: "voxgate::call", "{}", serde_json::to_string(&event).unwrap_or_default());
        if let Some(tx) = &self.file {
            let _ = tx.send(event.clone());
        }
        if !self.listeners.is_empty() {
            let tagged = TaggedEvent {
                tenant: self.tenant.clone(),
                at_ms: now_ms(),
                event,
            };
            for l in self.listeners.iter() {
                l.on_event(&tagged);
            }
        }
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
