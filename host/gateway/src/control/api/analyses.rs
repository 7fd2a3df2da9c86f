//! Post-call analytics: a PBX posts a recording (`POST /v1/analyses`) and reads the
//! result; the dashboard lists analyses, KPIs over them, and a CSV export.

use std::sync::Arc;

use axum::extract::State as AxumState;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::Value;
use voxgate_analytics::decode;
use voxgate_store::{AnalysisFilter, AnalysisRow, Created, NewAnalysis, StoreError};

use super::{Json, Path, Query, State};
use crate::analytics::ingest::{self, Fetched, Posted, RecordingSource};
use crate::analytics::{view, worker};
use crate::control::auth::Principal;
use crate::control::{ControlPlane, Error, TenantData, blocking, now_ms};
use crate::dialog::TenantRuntime;
use crate::media::recording;

/// Which tenant a PBX route is about: a tenant token's own, or `?tenant=` for operators.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TenantQuery {
    tenant: Option<String>,
}

fn tenant_of(who: &Principal, asked: Option<String>) -> Result<String, Error> {
    match (&who.tenant, asked) {
        (Some(own), None) => Ok(own.clone()),
        (Some(_), Some(t)) => {
            who.require_tenant(&t)?;
            Ok(t)
        }
        (None, Some(t)) => Ok(t),
        (None, None) => Err(Error::BadRequest(
            "`tenant`: an operator token names the tenant with ?tenant=ID".into(),
        )),
    }
}

fn runtime_of(state: &ControlPlane, tenant: &str) -> Result<Arc<TenantRuntime>, Error> {
    state
        .tenants
        .current()
        .by_id(tenant)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("no tenant `{tenant}`")))
}

/// Credits for a recording: one per started minute, at least one.
fn credits_for(ms: u64) -> i64 {
    i64::try_from(ms.div_ceil(60_000).max(1)).unwrap_or(i64::MAX)
}

fn payment_required(e: StoreError) -> Error {
    match e {
        StoreError::Insufficient(m) => Error::PaymentRequired(format!(
            "{m}: the tenant's analytics credits are used up; an operator tops them up"
        )),
        e => e.into(),
    }
}

/// `POST /v1/analyses`: checks, fetches and pays for a recording, and queues it. The
/// same `call_id` again answers with the analysis already made (nothing is fetched or
/// charged twice).
pub(super) async fn create(
    AxumState(state): AxumState<State>,
    who: Principal,
    Query(q): Query<TenantQuery>,
    Json(body): Json<Value>,
) -> Result<impl IntoResponse, Error> {
    let tenant = tenant_of(&who, q.tenant)?;
    let posted = ingest::parse(&body)?;
    let runtime = runtime_of(&state, &tenant)?;
    let data = state.data_of(&tenant)?;
    let config = &runtime.config.analytics;

    let store = data.store.clone();
    let (call_id, declared) = (posted.call_id.clone(), posted.duration);
    let (existing, balance) =
        blocking(move || Ok((store.analysis_of_call(&call_id)?, store.balance()?))).await?;
    if let Some(row) = existing {
        return Ok(accepted(&tenant, &row));
    }
    // Before any work: a balance that cannot pay for even the declared length (or one
    // minute) is refused without fetching anything.
    let needed = credits_for(declared.map_or(0, |s| (s * 1000.0) as u64));
    if balance < needed {
        return Err(payment_required(StoreError::Insufficient(format!(
            "the recording needs at least {needed} credit(s) and the balance is {balance}"
        ))));
    }

    let max = config.max_recording_bytes();
    let fetched = match &posted.source {
        RecordingSource::Url(url) => {
            let (url, allowed) = (url.clone(), runtime.plugins.env().allowed_hosts().to_vec());
            blocking(move || ingest::fetch_url(&url, &allowed, max)).await?
        }
        RecordingSource::Reference(reference) => {
            let session = runtime.plugins.session(&posted.call_id);
            ingest::fetch_reference(&session, &tenant, &posted.call_id, reference, max).await?
        }
    };
    let row = store_recording(&tenant, data, posted, fetched).await?;
    state.analytics.wake.notify_one();
    Ok(accepted(&tenant, &row))
}

/// Decodes the recording (for its length and to refuse what cannot be analysed), seals
/// it, and creates the analysis with its credits.
async fn store_recording(
    tenant: &str,
    data: Arc<TenantData>,
    posted: Posted,
    fetched: Fetched,
) -> Result<AnalysisRow, Error> {
    let tenant = tenant.to_string();
    blocking(move || {
        let audio = decode::decode(&fetched.bytes, fetched.content_type.as_deref()).map_err(
            |e| match e {
                decode::DecodeError::Unsupported(_) => Error::UnsupportedMediaType(e.to_string()),
                e => Error::BadRequest(format!("`recording`: {e}")),
            },
        )?;
        let ms = audio.duration_ms();
        drop(audio);
        let id = worker::new_id()?;
        let dir = worker::recordings_dir(&data);
        let name = format!("{id}.sealed");
        let sealed = recording::seal(
            data.recording_key(),
            &worker::seal_aad(&tenant, &id),
            &fetched.bytes,
        )
        .map_err(|e| Error::Internal(e.to_string()))?;
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join(&name), &sealed))
            .map_err(|e| Error::Internal(format!("cannot store the recording: {e}")))?;
        let now = now_ms();
        let metadata = serde_json::json!({
            "date_time": crate::control::tenants::rfc3339(posted.date_time.unwrap_or(now)),
            "duration": posted.duration,
            "caller_id": posted.caller_id,
            "call_topic": posted.call_topic,
            "queue": posted.queue,
            "agent_id": posted.agent_id,
            "department": posted.department,
            "customer": posted.customer,
            "recording": match &posted.source {
                RecordingSource::Url(u) => serde_json::json!({"url": u}),
                RecordingSource::Reference(r) => serde_json::json!({"ref": r}),
            },
        });
        let new = NewAnalysis {
            id,
            call_id: posted.call_id,
            source: "upload".into(),
            created_at: now,
            metadata: metadata.to_string(),
            recording: Some(name.clone()),
            recording_ms: i64::try_from(ms).ok(),
            credits: credits_for(ms),
            date_time: posted.date_time.unwrap_or(now),
            queue: posted.queue,
            agent_id: posted.agent_id,
            department: posted.department,
            done: None,
        };
        match data.store.create_analysis(&new) {
            Ok(Created::New(row)) => Ok(row),
            other => {
                // Another request for the same call won, or the credits ran out.
                let _ = std::fs::remove_file(dir.join(&name));
                match other {
                    Ok(Created::Existing(row) | Created::New(row)) => Ok(row),
                    Err(e) => Err(payment_required(e)),
                }
            }
        }
    })
    .await
}

fn accepted(tenant: &str, row: &AnalysisRow) -> (StatusCode, axum::Json<Value>) {
    (
        StatusCode::ACCEPTED,
        axum::Json(view::analysis(tenant, row, true)),
    )
}

async fn one(state: &ControlPlane, tenant: &str, id: &str) -> Result<AnalysisRow, Error> {
    let store = state.data_of(tenant)?.store.clone();
    let id_owned = id.to_string();
    blocking(move || Ok(store.analysis(&id_owned)?))
        .await?
        .ok_or_else(|| Error::NotFound(format!("no analysis `{id}`")))
}

/// `GET /v1/analyses/{id}` (a PBX's view).
pub(super) async fn get_posted(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<TenantQuery>,
) -> Result<impl IntoResponse, Error> {
    let tenant = tenant_of(&who, q.tenant)?;
    let row = one(&state, &tenant, &id).await?;
    Ok(axum::Json(view::analysis(&tenant, &row, true)))
}

/// `GET /v1/tenants/{tenant}/analyses/{analysis}`.
pub(super) async fn get_one(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, id)): Path<(String, String)>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let row = one(&state, &tenant, &id).await?;
    Ok(axum::Json(view::analysis(&tenant, &row, true)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    since: Option<String>,
    until: Option<String>,
    status: Option<String>,
    category: Option<String>,
    sentiment: Option<String>,
    queue: Option<String>,
    agent_id: Option<String>,
    department: Option<String>,
    limit: Option<u32>,
}

impl ListQuery {
    fn filter(&self, default_limit: u32, max: u32) -> Result<AnalysisFilter, Error> {
        let time = |field: &str, t: &Option<String>| -> Result<Option<i64>, Error> {
            t.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| {
                    ingest::parse_time(s).map_err(|e| Error::BadRequest(format!("`{field}`: {e}")))
                })
                .transpose()
        };
        if let Some(s) = self.status.as_deref()
            && !["queued", "running", "done", "failed", ""].contains(&s)
        {
            return Err(Error::BadRequest(format!(
                "`status` is queued, running, done or failed, not `{s}`"
            )));
        }
        let limit = self.limit.unwrap_or(default_limit);
        if limit == 0 || limit > max {
            return Err(Error::BadRequest(format!("`limit` must be 1 to {max}")));
        }
        let text = |t: &Option<String>| t.clone().filter(|s| !s.is_empty());
        Ok(AnalysisFilter {
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
            status: text(&self.status),
            category: text(&self.category),
            sentiment: text(&self.sentiment),
            queue: text(&self.queue),
            agent_id: text(&self.agent_id),
            department: text(&self.department),
            limit,
        })
    }
}

/// What KPIs and the export read at most.
const MAX_ROWS: u32 = 100_000;

async fn rows(
    state: &ControlPlane,
    tenant: &str,
    filter: AnalysisFilter,
) -> Result<Vec<AnalysisRow>, Error> {
    let store = state.data_of(tenant)?.store.clone();
    blocking(move || Ok(store.analyses(&filter)?)).await
}

/// `GET /v1/tenants/{tenant}/analyses`.
pub(super) async fn list(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let rows = rows(&state, &tenant, q.filter(100, 1000)?).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| view::analysis(&tenant, r, false))
        .collect();
    Ok(axum::Json(serde_json::json!({ "analyses": items })))
}

/// `GET /v1/tenants/{tenant}/analytics`: KPIs.
pub(super) async fn kpis(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let rows = rows(&state, &tenant, q.filter(MAX_ROWS, MAX_ROWS)?).await?;
    Ok(axum::Json(view::kpis(&rows)))
}

/// `GET /v1/tenants/{tenant}/analytics.csv`.
pub(super) async fn export(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let rows = rows(&state, &tenant, q.filter(MAX_ROWS, MAX_ROWS)?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{tenant}-analyses.csv\""),
            ),
        ],
        view::csv(&rows),
    ))
}

/// The analysis of a call, for the call detail (`None` when there is none).
pub(super) async fn of_call(
    state: &ControlPlane,
    tenant: &str,
    call_id: &str,
) -> Result<Option<Value>, Error> {
    let store = state.data_of(tenant)?.store.clone();
    let id = call_id.to_string();
    let row = blocking(move || Ok(store.analysis_of_call(&id)?)).await?;
    Ok(row.map(|r| view::analysis(tenant, &r, false)))
}
