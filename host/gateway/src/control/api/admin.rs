//! Who am I, tokens, the audit log, credits.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use super::{Json, Path, Query, State};
use crate::control::auth::Principal;
use crate::control::tenants::rfc3339;
use crate::control::{Error, blocking, now_ms};

pub(super) async fn me(who: Principal) -> impl IntoResponse {
    axum::Json(json!({
        "kind": if who.is_operator() { "operator" } else { "tenant" },
        "tenant": who.tenant,
        "name": who.name,
        "token_id": who.token_id,
    }))
}

fn token_json(t: &voxgate_store::TokenRow) -> serde_json::Value {
    json!({
        "id": t.id,
        "name": t.name,
        "tenant": t.tenant,
        "created_at": rfc3339(t.created_at),
        "created_by": t.created_by,
        "revoked_at": t.revoked_at.map(rfc3339),
    })
}

pub(super) async fn list_tokens(
    AxumState(state): AxumState<State>,
    who: Principal,
) -> Result<impl IntoResponse, Error> {
    let control = state.control.clone();
    let tenant = who.tenant.clone();
    let rows = blocking(move || Ok(control.tokens(tenant.as_deref())?)).await?;
    let tokens: Vec<_> = rows.iter().map(token_json).collect();
    Ok(axum::Json(json!({ "tokens": tokens })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewTokenBody {
    name: String,
    tenant: Option<String>,
}

/// Operators make any token; a tenant token makes tokens for its own tenant.
pub(super) async fn create_token(
    AxumState(state): AxumState<State>,
    who: Principal,
    Json(body): Json<NewTokenBody>,
) -> Result<impl IntoResponse, Error> {
    let tenant = match (&who.tenant, body.tenant) {
        (None, t) => t,
        (Some(own), None) => Some(own.clone()),
        (Some(_), Some(t)) => {
            who.require_tenant(&t)?;
            Some(t)
        }
    };
    let token = state
        .create_token(&body.name, tenant.as_deref(), &who.actor())
        .await?;
    let mut v = token_json(&token.row);
    if let Some(o) = v.as_object_mut() {
        // Shown this once: only its hash is kept.
        o.insert("token".into(), json!(token.secret));
    }
    Ok((StatusCode::CREATED, axum::Json(v)))
}

pub(super) async fn revoke_token(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let control = state.control.clone();
    let key = id.clone();
    let row = blocking(move || Ok(control.token(&key)?))
        .await?
        .ok_or_else(|| Error::NotFound(format!("no token `{id}`")))?;
    match (&who.tenant, &row.tenant) {
        (None, _) => {}
        (Some(own), Some(t)) if own == t => {}
        _ => {
            return Err(Error::Forbidden(
                "a tenant token can only revoke its own tenant's tokens".into(),
            ));
        }
    }
    let control = state.control.clone();
    let key = id.clone();
    blocking(move || Ok(control.revoke_token(&key, now_ms())?)).await?;
    state
        .audit(
            &who.actor(),
            row.tenant.as_deref(),
            "token.revoke",
            &id,
            row.name.clone(),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    tenant: Option<String>,
    limit: Option<u32>,
}

pub(super) async fn audit(
    AxumState(state): AxumState<State>,
    who: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<impl IntoResponse, Error> {
    let tenant = match (&who.tenant, q.tenant) {
        (None, t) => t,
        (Some(own), None) => Some(own.clone()),
        (Some(_), Some(t)) => {
            who.require_tenant(&t)?;
            Some(t)
        }
    };
    let limit = q.limit.unwrap_or(200);
    if limit == 0 || limit > 5000 {
        return Err(Error::BadRequest("`limit` must be 1 to 5000".into()));
    }
    let control = state.control.clone();
    let rows = blocking(move || Ok(control.audit_log(tenant.as_deref(), limit)?)).await?;
    let entries: Vec<_> = rows
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "at": rfc3339(e.at),
                "actor": e.actor,
                "tenant": e.tenant,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "entries": entries })))
}

pub(super) async fn credits(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let data = state.data_of(&tenant)?;
    let store = data.store.clone();
    let (balance, entries) =
        blocking(move || Ok((store.balance()?, store.credit_entries(100)?))).await?;
    let entries: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "at": rfc3339(e.at),
                "actor": e.actor,
                "amount": e.amount,
                "balance": e.balance,
                "note": e.note,
            })
        })
        .collect();
    Ok(axum::Json(
        json!({ "balance": balance, "entries": entries }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TopUp {
    amount: i64,
    #[serde(default)]
    note: String,
}

/// Operators top up a tenant's credits.
pub(super) async fn add_credits(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Json(body): Json<TopUp>,
) -> Result<impl IntoResponse, Error> {
    who.require_operator()?;
    if body.amount <= 0 || body.amount > 1_000_000_000 {
        return Err(Error::BadRequest(
            "`amount` must be a positive number of credits (at most 1e9)".into(),
        ));
    }
    let data = state.data_of(&tenant)?;
    let store = data.store.clone();
    let (actor, note) = (who.actor(), body.note.clone());
    let balance =
        blocking(move || Ok(store.add_credits(now_ms(), &actor, body.amount, &note)?)).await?;
    state
        .audit(
            &who.actor(),
            Some(&tenant),
            "credits.add",
            &tenant,
            format!("+{} ({})", body.amount, body.note),
        )
        .await;
    Ok(axum::Json(json!({ "balance": balance })))
}
