//! Health, readiness, metrics, the OpenAPI document, the live event stream and the
//! dashboard's files.

use std::sync::atomic::Ordering;

use axum::extract::State as AxumState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::State;
use crate::control::Error;
use crate::control::auth::Principal;

const OPENAPI: &str = include_str!("../openapi.json");
const INDEX_HTML: &str = include_str!("../dashboard/index.html");
const APP_JS: &str = include_str!("../dashboard/app.js");
const STYLE_CSS: &str = include_str!("../dashboard/style.css");

pub(super) async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

/// Ready to take calls: not draining.
pub(super) async fn readyz(AxumState(state): AxumState<State>) -> Response {
    if state.draining.load(Ordering::Relaxed) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "draining"})),
        )
            .into_response()
    } else {
        axum::Json(json!({"status": "ready"})).into_response()
    }
}

pub(super) async fn metrics(AxumState(state): AxumState<State>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.draining.load(Ordering::Relaxed)),
    )
}

pub(super) async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

pub(super) async fn dashboard_page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        INDEX_HTML,
    )
}

pub(super) async fn dashboard_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
}

pub(super) async fn dashboard_style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE_CSS,
    )
}

pub(super) async fn not_found() -> Error {
    Error::NotFound("no such route; see /v1/openapi.json".into())
}

pub(super) async fn method_not_allowed() -> Response {
    let body = json!({"error": {"code": "method-not-allowed", "message": "this route does not take that method; see /v1/openapi.json"}});
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

/// The token of a WebSocket request: the header, or `access_token` in the query
/// (browsers cannot set headers on a WebSocket).
fn ws_token(parts: &Parts) -> Option<String> {
    if let Some(t) = super::bearer(parts) {
        return Some(t.to_string());
    }
    parts.uri.query()?.split('&').find_map(|pair| {
        pair.strip_prefix("access_token=").map(|t| {
            // Tokens are `vxg_` and hex: nothing in them needs decoding.
            t.to_string()
        })
    })
}

/// `/v1/events`: the live stream, filtered to what the token may see.
pub(super) async fn events(
    AxumState(state): AxumState<State>,
    request: axum::extract::Request,
) -> Result<Response, Error> {
    let (mut parts, _) = request.into_parts();
    let Some(token) = ws_token(&parts) else {
        return Err(Error::Unauthorized(
            "send `Authorization: Bearer <token>` or `?access_token=<token>`".into(),
        ));
    };
    let who = state.authenticate(&token).await?;
    let upgrade = <WebSocketUpgrade as axum::extract::FromRequestParts<State>>::from_request_parts(
        &mut parts, &state,
    )
    .await
    .map_err(|e| Error::BadRequest(format!("not a WebSocket request: {}", e.body_text())))?;
    let rx = state.live.subscribe();
    Ok(upgrade.on_upgrade(move |socket| stream(socket, who, rx)))
}

async fn stream(
    mut socket: WebSocket,
    who: Principal,
    mut rx: tokio::sync::broadcast::Receiver<std::sync::Arc<crate::control::live::LiveMessage>>,
) {
    let hello = json!({"event": "hello", "tenant": who.tenant, "name": who.name}).to_string();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            message = rx.recv() => match message {
                Ok(m) => {
                    if !who.sees(m.tenant.as_deref()) {
                        continue;
                    }
                    if socket.send(Message::Text(m.json.clone().into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    let note = json!({"event": "lagged", "missed": missed}).to_string();
                    if socket.send(Message::Text(note.into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                // Clients only ping or close; anything else is ignored.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
