//! Calls: lists with filters, the detail of one call, its recording, and KPIs.

use std::collections::BTreeMap;

use axum::extract::State as AxumState;
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use voxgate_store::{CallFilter, CallRow};

use super::{Path, Query, State};
use crate::control::auth::Principal;
use crate::control::tenants::rfc3339;
use crate::control::{Error, blocking, now_ms};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    tenant: Option<String>,
    since: Option<String>,
    until: Option<String>,
    number: Option<String>,
    outcome: Option<String>,
    agent: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
}

fn time(field: &str, text: &Option<String>) -> Result<Option<i64>, Error> {
    let Some(t) = text else { return Ok(None) };
    t.parse::<jiff::Timestamp>()
        .map(|ts| Some(ts.as_millisecond()))
        .map_err(|e| {
            Error::BadRequest(format!(
                "`{field}` must be an RFC 3339 time like 2026-11-21T09:00:00Z: {e}"
            ))
        })
}

impl ListQuery {
    fn filter(&self) -> Result<CallFilter, Error> {
        let active = match self.status.as_deref() {
            None | Some("") => None,
            Some("active") => Some(true),
            Some("ended") => Some(false),
            Some(other) => {
                return Err(Error::BadRequest(format!(
                    "`status` is active or ended, not `{other}`"
                )));
            }
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(Error::BadRequest(format!(
                "`limit` must be 1 to {MAX_LIMIT}"
            )));
        }
        let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
        Ok(CallFilter {
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
            number: nonempty(&self.number),
            outcome: nonempty(&self.outcome),
            agent: nonempty(&self.agent),
            active,
            limit,
        })
    }
}

/// A call in a list.
#[derive(Debug, Serialize)]
struct CallView {
    tenant: String,
    call_id: String,
    caller: String,
    called: String,
    started_at: String,
    ended_at: Option<String>,
    duration_ms: Option<i64>,
    status: &'static str,
    outcome: String,
    agent: String,
    summary: String,
    plugin_versions: Vec<String>,
    /// The gateway node that took the call.
    node: String,
}

fn view(tenant: &str, c: &CallRow) -> CallView {
    CallView {
        tenant: tenant.to_string(),
        call_id: c.call_id.clone(),
        caller: c.caller.clone(),
        called: c.called.clone(),
        started_at: rfc3339(c.started_at),
        ended_at: c.ended_at.map(rfc3339),
        duration_ms: c.duration_ms,
        status: if c.ended_at.is_some() {
            "ended"
        } else {
            "active"
        },
        outcome: c.outcome.clone(),
        agent: c.agent.clone(),
        summary: c.summary.clone(),
        plugin_versions: c.plugin_versions.clone(),
        node: c.node.clone(),
    }
}

async fn calls_of(state: &State, tenant: &str, filter: CallFilter) -> Result<Vec<CallRow>, Error> {
    let data = state.data_of(tenant)?;
    let store = data.store.clone();
    blocking(move || Ok(store.calls(&filter)?)).await
}

/// `/v1/calls`: every tenant the token sees, newest first.
pub(super) async fn list_all(
    AxumState(state): AxumState<State>,
    who: Principal,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, Error> {
    let filter = q.filter()?;
    let tenants: Vec<String> = match (&q.tenant, &who.tenant) {
        (Some(t), _) => {
            who.require_tenant(t)?;
            state.tenant_row(t).await?;
            vec![t.clone()]
        }
        (None, Some(own)) => vec![own.clone()],
        (None, None) => state
            .tenant_rows()
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect(),
    };
    let mut all: Vec<(i64, CallView)> = Vec::new();
    for t in &tenants {
        for c in calls_of(&state, t, filter.clone()).await? {
            all.push((c.started_at, view(t, &c)));
        }
    }
    all.sort_by_key(|a| std::cmp::Reverse(a.0));
    all.truncate(filter.limit as usize);
    let calls: Vec<CallView> = all.into_iter().map(|(_, v)| v).collect();
    Ok(axum::Json(json!({ "calls": calls })))
}

pub(super) async fn list(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    if q.tenant.as_ref().is_some_and(|t| *t != tenant) {
        return Err(Error::BadRequest(
            "`tenant` in the query differs from the path".into(),
        ));
    }
    let filter = q.filter()?;
    let rows = calls_of(&state, &tenant, filter).await?;
    let calls: Vec<CallView> = rows.iter().map(|c| view(&tenant, c)).collect();
    Ok(axum::Json(json!({ "calls": calls })))
}

async fn one(state: &State, tenant: &str, call: &str) -> Result<CallRow, Error> {
    let data = state.data_of(tenant)?;
    let store = data.store.clone();
    let id = call.to_string();
    blocking(move || Ok(store.call(&id)?))
        .await?
        .ok_or_else(|| Error::NotFound(format!("tenant `{tenant}` has no call `{call}`")))
}

pub(super) async fn detail(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, call)): Path<(String, String)>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let row = one(&state, &tenant, &call).await?;
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null)
    };
    let mut v =
        serde_json::to_value(view(&tenant, &row)).map_err(|e| Error::Internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("end_reason".into(), json!(row.end_reason));
        o.insert("rtp".into(), parse(&row.rtp));
        o.insert("record".into(), parse(&row.record));
        o.insert("recording".into(), json!(row.recording.is_some()));
        o.insert("expired_at".into(), json!(row.expired_at.map(rfc3339)));
        o.insert(
            "analysis".into(),
            super::analyses::of_call(&state, &tenant, &call)
                .await?
                .unwrap_or(Value::Null),
        );
    }
    Ok(axum::Json(v))
}

/// The call's recording as WAV, opened with the tenant's key.
pub(super) async fn recording(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, call)): Path<(String, String)>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let row = one(&state, &tenant, &call).await?;
    let Some(name) = row.recording else {
        return Err(Error::NotFound(format!("call `{call}` has no recording")));
    };
    let data = state.data_of(&tenant)?;
    let path = data.recordings_dir().join(&name);
    let key = *data.recording_key();
    let aad = format!("{tenant}/{call}");
    let wav = blocking(move || {
        let sealed =
            std::fs::read(&path).map_err(|e| Error::NotFound(format!("recording {name}: {e}")))?;
        crate::media::recording::open(&key, &aad, &sealed)
            .map_err(|e| Error::Internal(format!("recording {name}: {e}")))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}.wav\"",
                    crate::sip::ua::file_safe(&call)
                ),
            ),
        ],
        wav,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatsQuery {
    since: Option<String>,
}

/// How many calls a KPI request reads at most.
const STATS_CALLS: u32 = 5000;

/// KPIs over the tenant's calls since `since` (default: the last 24 hours).
pub(super) async fn stats(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Query(q): Query<StatsQuery>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let since = time("since", &q.since)?.unwrap_or_else(|| now_ms() - 86_400_000);
    let rows = calls_of(
        &state,
        &tenant,
        CallFilter {
            since: Some(since),
            limit: STATS_CALLS,
            ..CallFilter::default()
        },
    )
    .await?;
    Ok(axum::Json(kpis(&rows)))
}

/// The KPIs of a set of calls.
fn kpis(rows: &[CallRow]) -> Value {
    let mut per_hour: BTreeMap<i64, u64> = BTreeMap::new();
    let mut latencies: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let (mut ended, mut contained, mut transferred, mut handling) = (0u64, 0u64, 0u64, 0i64);
    for c in rows {
        *per_hour
            .entry(c.started_at - c.started_at.rem_euclid(3_600_000))
            .or_default() += 1;
        if c.ended_at.is_some() {
            ended += 1;
            handling += c.duration_ms.unwrap_or(0);
            match c.outcome.as_str() {
                "completed" => contained += 1,
                "transferred" => transferred += 1,
                _ => {}
            }
        }
        let record = c
            .record
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        let calls = record
            .as_ref()
            .and_then(|r| r.get("plugin_calls"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for p in calls {
            let (Some(f), Some(us)) = (
                p.get("function").and_then(Value::as_str),
                p.get("duration_us").and_then(Value::as_u64),
            ) else {
                continue;
            };
            latencies.entry(f.to_string()).or_default().push(us);
        }
    }
    let rate = |n: u64| {
        if ended == 0 {
            0.0
        } else {
            n as f64 / ended as f64
        }
    };
    let plugin_latency: Vec<Value> = latencies
        .into_iter()
        .map(|(function, mut v)| {
            v.sort_unstable();
            let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
            json!({"function": function, "calls": v.len(), "p50_us": at(0.5), "p95_us": at(0.95)})
        })
        .collect();
    json!({
        "calls": rows.len(),
        "ended": ended,
        "calls_per_hour": per_hour
            .into_iter()
            .map(|(h, n)| json!({"hour": rfc3339(h), "calls": n}))
            .collect::<Vec<_>>(),
        "containment_rate": rate(contained),
        "transfer_rate": rate(transferred),
        "average_handling_ms": if ended == 0 { 0 } else { handling / ended as i64 },
        "plugin_latency": plugin_latency,
    })
}
