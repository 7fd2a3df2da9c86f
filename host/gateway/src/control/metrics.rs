//! Metrics from call events, in Prometheus' text format, and the per-tenant counts the
//! alert rules read.
//!
//! Everything is counted from the same events the live stream carries, under one
//! mutex: an update is a few map look-ups, far below the cost of the event itself.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::{Mutex, PoisonError};

use crate::sip::events::{CallEvent, EventListener, TaggedEvent};

/// Upper bounds of the latency buckets, in seconds.
const PLUGIN_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];
const RECOGNIZER_BUCKETS: [f64; 9] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
const JITTER_BUCKETS: [f64; 8] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], value: f64) {
        if self.counts.len() != bounds.len() {
            self.counts = vec![0; bounds.len()];
        }
        for (i, b) in bounds.iter().enumerate() {
            if value <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }
}

/// Counts per tenant that the alert rules evaluate, since the gateway started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantCounts {
    pub active_calls: u64,
    pub ended_calls: u64,
    pub transferred_calls: u64,
    pub handling_ms_total: u64,
    pub plugin_calls: u64,
    pub plugin_errors: u64,
    pub caller_turns: u64,
    pub no_matches: u64,
    /// Transfers asked for and not yet answered: callers waiting for a human.
    pub waiting_for_human: u64,
}

#[derive(Debug, Default)]
struct Inner {
    active: HashMap<String, u64>,
    /// Outcomes from call records, until the call's end is counted.
    outcomes: HashMap<String, String>,
    calls_total: BTreeMap<(String, String), u64>,
    plugin_latency: BTreeMap<(String, String), Histogram>,
    plugin_errors: BTreeMap<(String, String, String), u64>,
    rtp_lost: BTreeMap<String, i64>,
    rtp_received: BTreeMap<String, u64>,
    jitter: BTreeMap<String, Histogram>,
    recognizer: BTreeMap<String, Histogram>,
    counts: HashMap<String, TenantCounts>,
    /// Transfers in progress, by call id, with their tenant.
    transfers: HashMap<String, String>,
}

/// The gateway's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn active_calls(&self, tenant: &str) -> u64 {
        self.lock().active.get(tenant).copied().unwrap_or(0)
    }

    pub fn counts(&self, tenant: &str) -> TenantCounts {
        let inner = self.lock();
        let mut c = inner.counts.get(tenant).cloned().unwrap_or_default();
        c.active_calls = inner.active.get(tenant).copied().unwrap_or(0);
        c.waiting_for_human = inner.transfers.values().filter(|t| *t == tenant).count() as u64;
        c
    }

    /// The Prometheus text exposition.
    pub fn render(&self, draining: bool) -> String {
        let inner = self.lock();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP voxgate_draining 1 while the gateway drains for a shutdown.\n# TYPE voxgate_draining gauge\nvoxgate_draining {}",
            u8::from(draining)
        );
        out.push_str(
            "# HELP voxgate_calls_active Calls in progress.\n# TYPE voxgate_calls_active gauge\n",
        );
        let mut active: Vec<_> = inner.active.iter().collect();
        active.sort();
        for (t, n) in active {
            let _ = writeln!(out, "voxgate_calls_active{{tenant=\"{}\"}} {n}", esc(t));
        }
        out.push_str(
            "# HELP voxgate_calls_total Calls ended, by outcome.\n# TYPE voxgate_calls_total counter\n",
        );
        for ((t, o), n) in &inner.calls_total {
            let _ = writeln!(
                out,
                "voxgate_calls_total{{tenant=\"{}\",outcome=\"{}\"}} {n}",
                esc(t),
                esc(o)
            );
        }
        histograms(
            &mut out,
            "voxgate_plugin_call_duration_seconds",
            "Plugin calls, from the call to its answer.",
            &PLUGIN_BUCKETS,
            inner
                .plugin_latency
                .iter()
                .map(|((t, f), h)| (format!("tenant=\"{}\",function=\"{}\"", esc(t), esc(f)), h)),
        );
        out.push_str("# HELP voxgate_plugin_errors_total Plugin calls that failed, by error kind.\n# TYPE voxgate_plugin_errors_total counter\n");
        for ((t, f, k), n) in &inner.plugin_errors {
            let _ = writeln!(
                out,
                "voxgate_plugin_errors_total{{tenant=\"{}\",function=\"{}\",kind=\"{}\"}} {n}",
                esc(t),
                esc(f),
                esc(k)
            );
        }
        out.push_str("# HELP voxgate_rtp_packets_received_total RTP packets received from callers.\n# TYPE voxgate_rtp_packets_received_total counter\n");
        for (t, n) in &inner.rtp_received {
            let _ = writeln!(
                out,
                "voxgate_rtp_packets_received_total{{tenant=\"{}\"}} {n}",
                esc(t)
            );
        }
        out.push_str("# HELP voxgate_rtp_packets_lost_total RTP packets lost on the way from callers.\n# TYPE voxgate_rtp_packets_lost_total counter\n");
        for (t, n) in &inner.rtp_lost {
            let _ = writeln!(
                out,
                "voxgate_rtp_packets_lost_total{{tenant=\"{}\"}} {n}",
                esc(t)
            );
        }
        histograms(
            &mut out,
            "voxgate_rtp_jitter_seconds",
            "Interarrival jitter of each call's RTP at its end.",
            &JITTER_BUCKETS,
            inner
                .jitter
                .iter()
                .map(|(t, h)| (format!("tenant=\"{}\"", esc(t)), h)),
        );
        histograms(
            &mut out,
            "voxgate_recognizer_latency_seconds",
            "Speech recognition per utterance, after its end.",
            &RECOGNIZER_BUCKETS,
            inner
                .recognizer
                .iter()
                .map(|(t, h)| (format!("tenant=\"{}\"", esc(t)), h)),
        );
        out
    }

    fn update(&self, tenant: &str, event: &CallEvent) {
        let mut inner = self.lock();
        let t = tenant.to_string();
        match event {
            CallEvent::CallStarted { .. } => {
                *inner.active.entry(t).or_default() += 1;
            }
            CallEvent::CallRecord { call_id, record } => {
                let outcome = record
                    .get("outcome")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                inner.outcomes.insert(call_id.clone(), outcome);
            }
            CallEvent::CallEnded {
                call_id,
                reason,
                duration_ms,
                rtp,
                ..
            } => {
                if let Some(n) = inner.active.get_mut(&t) {
                    *n = n.saturating_sub(1);
                }
                inner.transfers.remove(call_id);
                let outcome = inner
                    .outcomes
                    .remove(call_id)
                    .unwrap_or_else(|| reason.clone());
                let transferred = outcome == "transferred";
                *inner.calls_total.entry((t.clone(), outcome)).or_default() += 1;
                *inner.rtp_lost.entry(t.clone()).or_default() += rtp.packets_lost.max(0);
                *inner.rtp_received.entry(t.clone()).or_default() += rtp.packets_received;
                if rtp.packets_received > 0 {
                    inner
                        .jitter
                        .entry(t.clone())
                        .or_default()
                        .observe(&JITTER_BUCKETS, rtp.jitter_ms / 1000.0);
                }
                let c = inner.counts.entry(t).or_default();
                c.ended_calls += 1;
                c.handling_ms_total += duration_ms;
                c.transferred_calls += u64::from(transferred);
            }
            CallEvent::PluginCall {
                function,
                outcome,
                duration_us,
                ..
            } => {
                inner
                    .plugin_latency
                    .entry((t.clone(), function.clone()))
                    .or_default()
                    .observe(&PLUGIN_BUCKETS, *duration_us as f64 / 1e6);
                let failed = outcome != "ok" && outcome != "not-found";
                if failed {
                    *inner
                        .plugin_errors
                        .entry((t.clone(), function.clone(), outcome.clone()))
                        .or_default() += 1;
                }
                let c = inner.counts.entry(t).or_default();
                c.plugin_calls += 1;
                c.plugin_errors += u64::from(failed);
            }
            CallEvent::Transcript { recognition_ms, .. } => {
                inner
                    .recognizer
                    .entry(t)
                    .or_default()
                    .observe(&RECOGNIZER_BUCKETS, *recognition_ms as f64 / 1000.0);
            }
            CallEvent::Turn { who, input, .. } if who == "caller" => {
                let c = inner.counts.entry(t).or_default();
                c.caller_turns += 1;
                c.no_matches += u64::from(input.as_deref() == Some("no-match"));
            }
            CallEvent::Transfer {
                call_id, outcome, ..
            } => {
                if outcome == "started" {
                    inner.transfers.insert(call_id.clone(), t);
                } else {
                    inner.transfers.remove(call_id);
                }
            }
            _ => {}
        }
    }
}

impl EventListener for Metrics {
    fn on_event(&self, event: &TaggedEvent) {
        self.update(event.tenant.as_deref().unwrap_or_default(), &event.event);
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn histograms<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    bounds: &[f64],
    series: impl Iterator<Item = (String, &'a Histogram)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (labels, h) in series {
        for (i, b) in bounds.iter().enumerate() {
            let n = h.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::events::RtpSummary;

    fn tagged(event: CallEvent) -> TaggedEvent {
        TaggedEvent {
            tenant: Some("acme".into()),
            at_ms: 0,
            event,
        }
    }

    #[test]
    fn events_become_prometheus_series() {
        let m = Metrics::default();
        m.on_event(&tagged(CallEvent::CallStarted {
            call_id: "c".into(),
            from: "sip:1@x".into(),
            to: "100".into(),
            codec: "Pcmu".into(),
        }));
        assert_eq!(m.active_calls("acme"), 1);
        for (outcome, us) in [("ok", 700), ("unavailable", 300_000)] {
            m.on_event(&tagged(CallEvent::PluginCall {
                call_id: "c".into(),
                function: "orders.get".into(),
                outcome: outcome.into(),
                duration_us: us,
                plugin: "p".into(),
                version: "v".into(),
            }));
        }
        m.on_event(&tagged(CallEvent::CallRecord {
            call_id: "c".into(),
            record: serde_json::json!({"outcome": "transferred"}),
        }));
        m.on_event(&tagged(CallEvent::CallEnded {
            call_id: "c".into(),
            reason: "caller-bye".into(),
            duration_ms: 5000,
            recording: None,
            rtp: RtpSummary {
                packets_received: 250,
                packets_lost: 3,
                jitter_ms: 4.0,
                ..RtpSummary::default()
            },
        }));
        let text = m.render(false);
        assert!(
            text.contains("voxgate_calls_active{tenant=\"acme\"} 0"),
            "{text}"
        );
        assert!(text.contains("voxgate_calls_total{tenant=\"acme\",outcome=\"transferred\"} 1"));
        assert!(text.contains(
            "voxgate_plugin_call_duration_seconds_bucket{tenant=\"acme\",function=\"orders.get\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "voxgate_plugin_call_duration_seconds_count{tenant=\"acme\",function=\"orders.get\"} 2"
        ));
        assert!(text.contains(
            "voxgate_plugin_errors_total{tenant=\"acme\",function=\"orders.get\",kind=\"unavailable\"} 1"
        ));
        assert!(text.contains("voxgate_rtp_packets_lost_total{tenant=\"acme\"} 3"));
        let c = m.counts("acme");
        assert_eq!(
            (c.ended_calls, c.transferred_calls, c.plugin_errors),
            (1, 1, 1)
        );
    }
}
