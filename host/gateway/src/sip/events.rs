//! Call events as JSON lines: what happened on each call, for operators and tests (the
//! control plane will store the same events).

use std::path::{Path, PathBuf};

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

/// Sends events to a writer task; never blocks a call.
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: Option<mpsc::UnboundedSender<CallEvent>>,
}

impl EventSink {
    /// Events are only logged.
    pub fn none() -> EventSink {
        EventSink { tx: None }
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
        Ok(EventSink { tx: Some(tx) })
    }

    pub fn emit(&self, event: CallEvent) {
        tracing::info!(target: "voxgate::call", "{}", serde_json::to_string(&event).unwrap_or_default());
        if let Some(tx) = &self.tx {
            let _ = tx.send(event);
        }
    }
}
