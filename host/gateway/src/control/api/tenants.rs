//! `/v1/tenants`: the companies, their numbers, schedules and agents.

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{Json, Path, State};
use crate::control::Error;
use crate::control::auth::Principal;

pub(super) async fn list(
    AxumState(state): AxumState<State>,
    who: Principal,
) -> Result<impl IntoResponse, Error> {
    let rows = state.tenant_rows().await?;
    let mut tenants = Vec::new();
    for row in rows.iter().filter(|r| who.sees(Some(&r.id))) {
        let mut v =
            serde_json::to_value(state.view(row)?).map_err(|e| Error::Internal(e.to_string()))?;
        // The list is a summary; the config is on the tenant's own page.
        if let Some(o) = v.as_object_mut() {
            o.remove("config");
        }
        tenants.push(v);
    }
    Ok(axum::Json(json!({ "tenants": tenants })))
}

pub(super) async fn create(
    AxumState(state): AxumState<State>,
    who: Principal,
    Json(body): Json<Value>,
) -> Result<impl IntoResponse, Error> {
    who.require_operator()?;
    let view = state.create_tenant(body, &who.actor()).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

pub(super) async fn get_one(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let row = state.tenant_row(&tenant).await?;
    Ok(axum::Json(state.view(&row)?))
}

pub(super) async fn replace(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Json(body): Json<Value>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let view = state
        .update_tenant(&tenant, body, &who.actor(), "tenant.update")
        .await?;
    Ok(axum::Json(view))
}

pub(super) async fn remove(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    who.require_operator()?;
    state.delete_tenant(&tenant, &who.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One top-level field of a tenant's stored config.
async fn field(state: &State, who: &Principal, tenant: &str, key: &str) -> Result<Value, Error> {
    who.require_tenant(tenant)?;
    let view = state.view(&state.tenant_row(tenant).await?)?;
    Ok(view.config.get(key).cloned().unwrap_or(Value::Null))
}

pub(super) async fn numbers(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let numbers = field(&state, &who, &tenant, "numbers").await?;
    Ok(axum::Json(json!({ "numbers": numbers })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Numbers {
    numbers: Vec<String>,
}

pub(super) async fn set_numbers(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Json(body): Json<Numbers>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let view = state
        .change_tenant(&tenant, &who.actor(), "tenant.numbers", |c| {
            c.insert("numbers".into(), json!(body.numbers));
            Ok(())
        })
        .await?;
    Ok(axum::Json(json!({ "numbers": view.numbers })))
}

pub(super) async fn schedule(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    Ok(axum::Json(field(&state, &who, &tenant, "schedule").await?))
}

pub(super) async fn set_schedule(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Json(body): Json<Value>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let view = state
        .change_tenant(&tenant, &who.actor(), "tenant.schedule", |c| {
            c.insert("schedule".into(), body);
            Ok(())
        })
        .await?;
    Ok(axum::Json(
        view.config.get("schedule").cloned().unwrap_or(Value::Null),
    ))
}

pub(super) async fn agents(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let agents = field(&state, &who, &tenant, "agents").await?;
    Ok(axum::Json(json!({ "agents": agents })))
}

pub(super) async fn agent(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<impl IntoResponse, Error> {
    let agents = field(&state, &who, &tenant, "agents").await?;
    agents
        .get(&name)
        .cloned()
        .map(axum::Json)
        .ok_or_else(|| Error::NotFound(format!("tenant `{tenant}` has no agent `{name}`")))
}

pub(super) async fn set_agent(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, name)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let key = name.clone();
    let view = state
        .change_tenant(&tenant, &who.actor(), "tenant.agent", move |c| {
            let agents = c
                .entry("agents")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or_else(|| Error::Internal("stored agents are not an object".into()))?;
            agents.insert(key, body);
            Ok(())
        })
        .await?;
    Ok(axum::Json(
        view.config
            .get("agents")
            .and_then(|a| a.get(&name))
            .cloned()
            .unwrap_or(Value::Null),
    ))
}

pub(super) async fn remove_agent(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let key = name.clone();
    state
        .change_tenant(&tenant, &who.actor(), "tenant.agent.delete", move |c| {
            let removed = c
                .get_mut("agents")
                .and_then(Value::as_object_mut)
                .and_then(|a| a.remove(&key));
            match removed {
                Some(_) => Ok(()),
                None => Err(Error::NotFound(format!("no agent `{key}`"))),
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's alert rules (set in its config) and those firing now.
pub(super) async fn alerts(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let rules = field(&state, &who, &tenant, "alerts").await?;
    let rules = if rules.is_null() { json!([]) } else { rules };
    Ok(axum::Json(
        json!({ "rules": rules, "firing": state.alerts.firing(&tenant) }),
    ))
}
