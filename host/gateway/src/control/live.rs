//! Live events: every call event, tagged with its tenant, goes to WebSocket subscribers
//! (each sees only what its token may) and to the recorder, which keeps each tenant's
//! calls in its store.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use tokio::sync::{broadcast, mpsc};
use voxgate_store::{CallEnd, CallOutcome, NewCall};

use super::{ControlPlane, blocking};
use crate::sip::events::{CallEvent, EventListener, TaggedEvent};

/// How many messages a slow subscriber may fall behind before it misses some (it is
/// told how many).
const BACKLOG: usize = 4096;

/// One message on the live stream, serialized once for every subscriber.
#[derive(Debug)]
pub struct LiveMessage {
    pub tenant: Option<Arc<str>>,
    pub json: String,
}

/// The live stream and the recorder's queue.
#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<LiveMessage>>,
    recorder: mpsc::UnboundedSender<TaggedEvent>,
    recorder_rx: Arc<Mutex<Option<mpsc::UnboundedReceiver<TaggedEvent>>>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("subscribers", &self.tx.receiver_count())
            .finish()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let (tx, _) = broadcast::channel(BACKLOG);
        let (recorder, rx) = mpsc::unbounded_channel();
        Hub {
            tx,
            recorder,
            recorder_rx: Arc::new(Mutex::new(Some(rx))),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveMessage>> {
        self.tx.subscribe()
    }

    fn send(&self, tenant: Option<Arc<str>>, at_ms: i64, mut value: Value) {
        if let Some(o) = value.as_object_mut() {
            o.insert(
                "tenant".into(),
                tenant
                    .as_deref()
                    .map_or(Value::Null, |t| Value::String(t.into())),
            );
            o.insert("at".into(), Value::String(super::tenants::rfc3339(at_ms)));
        }
        // No subscriber is not an error: nobody is watching.
        let _ = self.tx.send(Arc::new(LiveMessage {
            tenant,
            json: value.to_string(),
        }));
    }

    /// A tenant's event that is not a call's (a plugin change, an alert).
    pub fn publish(&self, tenant: &str, value: Value) {
        self.send(Some(Arc::from(tenant)), super::now_ms(), value);
    }
}

impl EventListener for Hub {
    fn on_event(&self, event: &TaggedEvent) {
        if let Ok(value) = serde_json::to_value(&event.event) {
            self.send(event.tenant.clone(), event.at_ms, value);
        }
        let stored = matches!(
            event.event,
            CallEvent::CallStarted { .. }
                | CallEvent::CallRecord { .. }
                | CallEvent::CallEnded { .. }
        );
        if stored && event.tenant.is_some() {
            let _ = self.recorder.send(event.clone());
        }
    }
}

/// The caller's number from a From URI (`sip:+4420…@host;…` → `+4420…`).
fn number_of(uri: &str) -> String {
    let rest = uri
        .trim_start_matches('<')
        .trim_start_matches("sips:")
        .trim_start_matches("sip:")
        .trim_start_matches("tel:");
    rest.split(['@', ';', '>'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Writes tenants' call events to their stores, in the order they happened.
pub(super) fn spawn_recorder(plane: &Arc<ControlPlane>) {
    let Some(mut rx) = plane
        .live
        .recorder_rx
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    else {
        return;
    };
    let plane = Arc::downgrade(plane);
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            let Some(p) = plane.upgrade() else { break };
            if let Err(e) = p.record_event(event).await {
                tracing::error!("call event not stored: {e}");
            }
        }
    });
}

impl ControlPlane {
    async fn record_event(&self, event: TaggedEvent) -> Result<(), super::Error> {
        let Some(tenant) = event.tenant.as_deref() else {
            return Ok(());
        };
        let Some(data) = self.tenant_data(tenant) else {
            return Ok(());
        };
        let store = data.store.clone();
        let at = event.at_ms;
        match event.event {
            CallEvent::CallStarted {
                call_id, from, to, ..
            } => {
                let call = NewCall {
                    call_id,
                    caller: number_of(&from),
                    called: to,
                    started_at: at,
                    node: self.node_id().to_string(),
                };
                blocking(move || Ok(store.call_started(&call)?)).await
            }
            CallEvent::CallRecord { call_id, record } => {
                let text = |k: &str| {
                    record
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let outcome = CallOutcome {
                    outcome: text("outcome"),
                    summary: text("summary"),
                    agent: record
                        .get("agents")
                        .and_then(Value::as_array)
                        .and_then(|a| a.first())
                        .and_then(|a| a.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    plugin_versions: record
                        .get("plugin_versions")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    record: record.to_string(),
                };
                let id = call_id.clone();
                blocking(move || Ok(store.call_outcome(&id, at, &outcome)?)).await?;
                // The call's analysis is due within a second of the hang-up; it runs
                // beside the recorder so that it never holds up other calls' events.
                if let Some(runtime) = self.tenants.current().by_id(tenant).cloned() {
                    let config = runtime.config.clone();
                    tokio::spawn(async move {
                        if let Err(e) = crate::analytics::worker::analyse_own_call(
                            data, config, call_id, at, record,
                        )
                        .await
                        {
                            tracing::warn!("call analysis not stored: {e}");
                        }
                    });
                }
                Ok(())
            }
            CallEvent::CallEnded {
                call_id,
                reason,
                duration_ms,
                recording,
                rtp,
            } => {
                let end = CallEnd {
                    ended_at: at,
                    duration_ms: i64::try_from(duration_ms).unwrap_or(i64::MAX),
                    reason,
                    rtp: serde_json::to_string(&rtp).ok(),
                    // Only the file name: the folder is the tenant's, wherever it moves.
                    recording: recording
                        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
                };
                blocking(move || Ok(store.call_ended(&call_id, &end)?)).await
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_numbers_come_out_of_from_uris() {
        assert_eq!(
            number_of("sip:+442079460123@127.0.0.1:5070"),
            "+442079460123"
        );
        assert_eq!(number_of("<sips:alice@example.com>;tag=1"), "alice");
        assert_eq!(number_of("tel:+385155590;phone-context=x"), "+385155590");
        assert_eq!(number_of(""), "");
    }
}
