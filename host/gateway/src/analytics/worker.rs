//! The workers that transcribe and analyse queued recordings, and the analysis of
//! voxgate's own calls at hang-up.
//!
//! Queue and leases live in each tenant's store (see `voxgate_store`'s `analyses`), so a
//! restart picks up where the last run stopped and nothing is held only in memory. A
//! worker takes one analysis at a time, visiting tenants in turn so that one tenant's
//! backlog does not starve the others; each analysis spreads its utterances over
//! `threads` recognizers.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use voxgate_analytics::decode::{self, DecodeError};
use voxgate_analytics::transcribe::{self, Options};
use voxgate_analytics::{AnalyseError, Analysis, Transcript};
use voxgate_store::{AnalysisRow, Finished, NewAnalysis, TenantStore};

use crate::control::{ControlPlane, Error, TenantData, blocking, now_ms};
use crate::media::recording;
use crate::tenant::TenantConfig;

/// A claim not renewed for this long is taken over (its worker died).
pub const LEASE_MS: i64 = 120_000;
/// Attempts before an analysis fails for good (its credits are refunded).
pub const MAX_ATTEMPTS: i64 = 5;
/// Progress is written at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// How much work the gateway does on analyses.
#[derive(Debug)]
pub struct Settings {
    /// Analyses worked on at once.
    pub workers: usize,
    /// Recognizers per analysis.
    pub threads: usize,
    /// Wakes idle workers when something is queued.
    pub wake: Arc<tokio::sync::Notify>,
}

impl Default for Settings {
    fn default() -> Settings {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Settings {
            workers: 1,
            threads: cores,
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

/// Where a tenant keeps sealed recordings waiting for analysis.
pub fn recordings_dir(data: &TenantData) -> PathBuf {
    data.dir.join("analyses")
}

/// The associated data a sealed recording is bound to: it opens only as this tenant's
/// recording for this analysis.
pub fn seal_aad(tenant: &str, id: &str) -> String {
    format!("{tenant}/analysis/{id}")
}

/// Backoff before attempt `attempts + 1`: 30 s, 1 min, 2 min, … up to 15 min.
pub fn backoff_ms(attempts: i64) -> i64 {
    let shift = u32::try_from(attempts.clamp(1, 6) - 1).unwrap_or(0);
    (30_000i64 << shift).min(900_000)
}

/// Starts the workers.
pub fn spawn(plane: &Arc<ControlPlane>) {
    for _ in 0..plane.analytics.workers.max(1) {
        let weak = Arc::downgrade(plane);
        tokio::spawn(async move {
            loop {
                let Some(plane) = weak.upgrade() else { break };
                let worked = work_once(&plane).await;
                if !worked {
                    let wake = plane.analytics.wake.clone();
                    drop(plane);
                    // Polling as well: another process (a node sharing the store, or a
                    // retry coming due) queues work this process is not told about.
                    let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
                }
            }
        });
    }
}

/// Takes one analysis from some tenant and works on it; `false` if there was none.
pub async fn work_once(plane: &Arc<ControlPlane>) -> bool {
    for tenant in plane.tenants.current().all() {
        let Some(data) = plane.tenant_data(&tenant.config.id) else {
            continue;
        };
        let store = data.store.clone();
        let claimed = blocking(move || Ok(store.claim_analysis(now_ms(), LEASE_MS)?)).await;
        match claimed {
            Ok(Some(row)) => {
                let config = tenant.config.clone();
                let threads = plane.analytics.threads;
                let id = row.id.clone();
                let outcome =
                    tokio::task::spawn_blocking(move || run(&data, &config, &row, threads))
                        .await
                        .unwrap_or_else(|e| {
                            Err(Failure::Retry(format!("analysis task failed: {e}")))
                        });
                if let Err(e) = &outcome {
                    tracing::warn!(tenant = %tenant.config.id, analysis = %id, "analysis attempt failed: {e}");
                }
                return true;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(tenant = %tenant.config.id, "analysis queue: {e}"),
        }
    }
    false
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// Worth another attempt (a service down, a model missing until installed).
    #[error("{0}")]
    Retry(String),
    /// Will fail the same way every time.
    #[error("{0}")]
    Permanent(String),
}

/// Works on a claimed analysis and records the outcome (blocking).
fn run(
    data: &TenantData,
    config: &TenantConfig,
    row: &AnalysisRow,
    threads: usize,
) -> Result<(), Failure> {
    let store = &data.store;
    let outcome = attempt(data, config, row, threads);
    let now = now_ms();
    let recorded = match &outcome {
        Ok((transcript, analysis)) => {
            let done = finished(transcript, analysis);
            store.finish_analysis(&row.id, now, &done).map(|()| {
                if let Some(name) = &row.recording {
                    let _ = std::fs::remove_file(recordings_dir(data).join(name));
                }
            })
        }
        Err(Failure::Retry(e)) if row.attempts < MAX_ATTEMPTS => {
            store.fail_analysis(&row.id, now, e, Some(now + backoff_ms(row.attempts)))
        }
        Err(e) => store
            .fail_analysis(&row.id, now, &e.to_string(), None)
            .and_then(|()| refund(store.as_ref(), row, now)),
    };
    if let Err(e) = recorded {
        tracing::error!(analysis = %row.id, "analysis outcome not stored: {e}");
    }
    outcome.map(|_| ())
}

/// Gives back what a failed analysis was charged.
fn refund(
    store: &dyn TenantStore,
    row: &AnalysisRow,
    now: i64,
) -> Result<(), voxgate_store::StoreError> {
    if row.credits > 0 {
        store.add_credits(
            now,
            "analytics",
            row.credits,
            &format!("refund: analysis {} of call {} failed", row.id, row.call_id),
        )?;
    }
    Ok(())
}

fn attempt(
    data: &TenantData,
    config: &TenantConfig,
    row: &AnalysisRow,
    threads: usize,
) -> Result<(Transcript, Analysis), Failure> {
    let name = row
        .recording
        .as_deref()
        .ok_or_else(|| Failure::Permanent("the analysis has no recording".into()))?;
    let path = recordings_dir(data).join(name);
    let sealed = std::fs::read(&path)
        .map_err(|e| Failure::Permanent(format!("recording {} unreadable: {e}", path.display())))?;
    let bytes = recording::open(data.recording_key(), &seal_aad(&data.id, &row.id), &sealed)
        .map_err(|e| Failure::Permanent(format!("recording does not open: {e}")))?;
    let audio =
        decode::decode(&bytes, None).map_err(|e: DecodeError| Failure::Permanent(e.to_string()))?;
    let options = Options {
        language: config.analytics.language.clone(),
        agent_channel: config.analytics.agent_channel_index(),
        threads,
        ..Options::default()
    };
    let started = Instant::now();
    let last = AtomicI64::new(0);
    let progress = |p: f32| {
        let ms = started.elapsed().as_millis() as i64;
        let prev = last.load(Ordering::Relaxed);
        if ms - prev >= PROGRESS_EVERY.as_millis() as i64
            && last
                .compare_exchange(prev, ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // Transcription is most of the work; analysis takes the last 5%.
            let _ = data
                .store
                .analysis_progress(&row.id, now_ms(), f64::from(p) * 0.95);
        }
    };
    let make = |rate: u32| super::recognizer_for(config, rate);
    let transcript = transcribe::transcribe(&audio, &make, &options, &progress)
        .map_err(|e| Failure::Retry(e.to_string()))?;
    let analysis = analyse(config, &transcript, row.attempts)?;
    Ok((transcript, analysis))
}

/// Runs the tenant's analyser. A service that stays unavailable through the last
/// attempt gives way to the built-in analyser rather than losing the call.
fn analyse(
    config: &TenantConfig,
    transcript: &Transcript,
    attempts: i64,
) -> Result<Analysis, Failure> {
    let rules = config.analytics.rules();
    match super::analyser_for(config).analyse(transcript, &rules) {
        Ok(a) => Ok(a),
        Err(AnalyseError::Unavailable(e)) if attempts < MAX_ATTEMPTS => Err(Failure::Retry(e)),
        Err(e) => {
            tracing::warn!(tenant = %config.id, "analyser failed ({e}); using the built-in one");
            super::lexicon()
                .analyse(transcript, &rules)
                .map_err(|e| Failure::Permanent(e.to_string()))
        }
    }
}

fn finished(transcript: &Transcript, analysis: &Analysis) -> Finished {
    Finished {
        transcript: serde_json::to_string(transcript).unwrap_or_else(|_| "null".into()),
        result: serde_json::to_string(analysis).unwrap_or_else(|_| "null".into()),
        category: analysis.category.clone(),
        sentiment: analysis.sentiment.overall.label.as_str().to_string(),
    }
}

/// A fresh analysis id: `an_` and 20 hex digits of OS randomness.
pub fn new_id() -> Result<String, Error> {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(format!("an_{}", hex_of(&bytes)))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Analyses a voxgate call from its record's transcript and stores the result as done
/// (no recording, no transcription, no credits). Called when the record arrives, at
/// hang-up.
pub async fn analyse_own_call(
    data: Arc<TenantData>,
    config: TenantConfig,
    call_id: String,
    at: i64,
    record: Value,
) -> Result<(), Error> {
    blocking(move || {
        let transcript = super::transcript_of_record(&record, &config.analytics.language);
        let rules = config.analytics.rules();
        // The built-in analyser, not a remote one: the result is due within a second of
        // the hang-up, whatever a service's latency.
        let analysis = super::lexicon()
            .analyse(&transcript, &rules)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let text = |k: &str| {
            record
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let agent = record
            .pointer("/agents/0/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let started = record
            .get("started_at")
            .and_then(Value::as_str)
            .and_then(|s| super::ingest::parse_time(s).ok())
            .unwrap_or(at);
        // The stored call has the caller's number as the SIP core saw it.
        let caller = data
            .store
            .call(&call_id)
            .ok()
            .flatten()
            .map(|c| c.caller)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| text("caller"));
        let metadata = json!({
            "date_time": crate::control::tenants::rfc3339(started),
            "caller_id": caller,
            "call_topic": text("outcome"),
            "agent_id": agent,
        });
        let new = NewAnalysis {
            id: new_id()?,
            call_id,
            source: "voxgate".into(),
            created_at: now_ms(),
            metadata: metadata.to_string(),
            recording: None,
            recording_ms: None,
            credits: 0,
            date_time: started,
            queue: String::new(),
            agent_id: agent,
            department: String::new(),
            done: Some(finished(&transcript, &analysis)),
        };
        data.store.create_analysis(&new)?;
        Ok(())
    })
    .await
}
