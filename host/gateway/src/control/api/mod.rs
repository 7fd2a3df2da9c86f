//! The admin HTTP API: JSON over HTTP/1.1, described by `/v1/openapi.json`.
//!
//! Every `/v1` route but the OpenAPI document needs `Authorization: Bearer <token>`
//! (the WebSocket may pass `?access_token=` instead, as browsers cannot set headers on
//! it). Errors are `{"error": {"code", "message"}}` with the status that says what went
//! wrong; nothing a client sends can make a handler panic.

mod admin;
mod calls;
mod ops;
mod plugins;
mod tenants;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::de::DeserializeOwned;

use super::auth::Principal;
use super::{ControlPlane, Error};

/// The shared state of every handler.
pub type State = Arc<ControlPlane>;

/// The largest JSON body accepted.
const MAX_JSON: usize = 1 << 20;

impl Error {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            Error::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!("admin API: {self}");
        }
        let body = serde_json::json!({"error": {"code": code, "message": self.to_string()}});
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"voxgate\""),
            );
        }
        response
    }
}

/// A JSON body, with errors in the API's shape (and 413 past [`MAX_JSON`]).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, _: &S) -> Result<Self, Error> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(Error::UnsupportedMediaType(
                "send the body as application/json".into(),
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON)
            .await
            .map_err(|_| Error::TooLarge(format!("JSON bodies are limited to {MAX_JSON} bytes")))?;
        serde_json::from_slice(&bytes)
            .map(Json)
            .map_err(|e| Error::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// Query strings, with errors in the API's shape.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let q = parts.uri.query().unwrap_or_default();
        serde_urlencoded_like(q).map(Query)
    }
}

fn serde_urlencoded_like<T: DeserializeOwned>(q: &str) -> Result<T, Error> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .map_err(|_| Error::BadRequest("malformed query string".into()))?,
    )
    .map(|axum::extract::Query(v)| v)
    .map_err(|e| Error::BadRequest(format!("query: {}", e.body_text())))
}

/// Path parameters, with errors in the API's shape.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| Error::BadRequest(format!("path: {}", e.body_text())))
    }
}

/// The bearer token from the Authorization header.
fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<State> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, Error> {
        let Some(token) = bearer(parts) else {
            return Err(Error::Unauthorized(
                "send `Authorization: Bearer <token>`".into(),
            ));
        };
        state.authenticate(token).await
    }
}

/// The admin API and the dashboard.
pub fn router(state: State) -> Router {
    Router::new()
        .route("/", get(ops::dashboard_page))
        .route("/app.js", get(ops::dashboard_script))
        .route("/style.css", get(ops::dashboard_style))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/v1/openapi.json", get(ops::openapi))
        .route("/v1/events", get(ops::events))
        .route("/v1/me", get(admin::me))
        .route(
            "/v1/tokens",
            get(admin::list_tokens).post(admin::create_token),
        )
        .route("/v1/tokens/{token}", delete(admin::revoke_token))
        .route("/v1/audit", get(admin::audit))
        .route("/v1/calls", get(calls::list_all))
        .route("/v1/tenants", get(tenants::list).post(tenants::create))
        .route(
            "/v1/tenants/{tenant}",
            get(tenants::get_one)
                .put(tenants::replace)
                .delete(tenants::remove),
        )
        .route(
            "/v1/tenants/{tenant}/numbers",
            get(tenants::numbers).put(tenants::set_numbers),
        )
        .route(
            "/v1/tenants/{tenant}/schedule",
            get(tenants::schedule).put(tenants::set_schedule),
        )
        .route("/v1/tenants/{tenant}/agents", get(tenants::agents))
        .route(
            "/v1/tenants/{tenant}/agents/{agent}",
            get(tenants::agent)
                .put(tenants::set_agent)
                .delete(tenants::remove_agent),
        )
        .route(
            "/v1/tenants/{tenant}/plugins",
            get(plugins::list).post(plugins::upload),
        )
        .route(
            "/v1/tenants/{tenant}/plugins/rollback",
            post(plugins::rollback),
        )
        .route(
            "/v1/tenants/{tenant}/plugins/{version}",
            get(plugins::get_one),
        )
        .route(
            "/v1/tenants/{tenant}/plugins/{version}/activate",
            post(plugins::activate),
        )
        .route(
            "/v1/tenants/{tenant}/plugins/{version}/canary",
            post(plugins::canary),
        )
        .route("/v1/tenants/{tenant}/canary", delete(plugins::stop_canary))
        .route("/v1/tenants/{tenant}/calls", get(calls::list))
        .route("/v1/tenants/{tenant}/calls/{call}", get(calls::detail))
        .route(
            "/v1/tenants/{tenant}/calls/{call}/recording",
            get(calls::recording),
        )
        .route("/v1/tenants/{tenant}/stats", get(calls::stats))
        .route(
            "/v1/tenants/{tenant}/credits",
            get(admin::credits).post(admin::add_credits),
        )
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        // Uploads read their own body with their own limit (see `plugins::upload`).
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}
