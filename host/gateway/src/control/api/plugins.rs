//! `/v1/tenants/{tenant}/plugins`: upload, activate, canary, rollback.

use axum::body::Body;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::{Json, Path, Query, State};
use crate::control::Error;
use crate::control::auth::Principal;
use crate::control::plugins::VersionView;

pub(super) async fn list(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    Ok(axum::Json(state.plugins_view(&tenant).await?))
}

pub(super) async fn get_one(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, version)): Path<(String, String)>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let view = state.plugins_view(&tenant).await?;
    view.versions
        .into_iter()
        .find(|v| v.id == version || v.short_id == version)
        .map(axum::Json)
        .ok_or_else(|| Error::NotFound(format!("no plugin version `{version}`")))
}

#[derive(Debug, Deserialize)]
pub(super) struct UploadQuery {
    name: Option<String>,
}

/// The body is the component itself (`application/wasm`).
pub(super) async fn upload(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !matches!(
        content_type,
        "application/wasm" | "application/octet-stream"
    ) {
        return Err(Error::UnsupportedMediaType(format!(
            "upload the component as application/wasm, not `{content_type}`"
        )));
    }
    let limit = state.max_upload();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        Error::TooLarge(format!(
            "plugins are limited to {limit} bytes ({} MiB)",
            limit >> 20
        ))
    };
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    if bytes.is_empty() {
        return Err(Error::BadRequest(
            "the body is empty: send the .wasm file".into(),
        ));
    }
    let name = query.name.unwrap_or_else(|| "plugin".into());
    let (row, new) = state
        .upload_plugin(&tenant, &name, bytes.to_vec(), &who.actor())
        .await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(VersionView::from(&row))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ActivateBody {
    interfaces: Option<Vec<String>>,
}

pub(super) async fn activate(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, version)): Path<(String, String)>,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    // The body is optional: empty activates every interface the version exports.
    let bytes = axum::body::to_bytes(body, super::MAX_JSON)
        .await
        .map_err(|_| Error::TooLarge("the body is too large".into()))?;
    let interfaces = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<ActivateBody>(&bytes)
            .map_err(|e| Error::BadRequest(format!("invalid JSON body: {e}")))?
            .interfaces
    };
    let view = state
        .activate(&tenant, &version, interfaces, &who.actor())
        .await?;
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CanaryBody {
    percent: u8,
}

pub(super) async fn canary(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path((tenant, version)): Path<(String, String)>,
    Json(body): Json<CanaryBody>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    let view = state
        .canary(&tenant, &version, body.percent, &who.actor())
        .await?;
    Ok(axum::Json(view))
}

pub(super) async fn stop_canary(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    Ok(axum::Json(state.stop_canary(&tenant, &who.actor()).await?))
}

pub(super) async fn rollback(
    AxumState(state): AxumState<State>,
    who: Principal,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, Error> {
    who.require_tenant(&tenant)?;
    Ok(axum::Json(state.rollback(&tenant, &who.actor()).await?))
}
