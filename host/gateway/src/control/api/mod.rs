//! The admin HTTP API: JSON over HTTP/1.1, described by `/v1/openapi.json`.
//!
//! Every `/v1` route but the OpenAPI document needs `Authorization: Bearer <token>`
//! (the WebSocket may pass `?access_token=` instead, as browsers cannot set headers on
//! it). Errors are `{"error": {"code", "message"}}` with the status that says what went
//! wrong; nothing a client sends can make a handler panic.

mod admin;
mod analyses;
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
            Error::PaymentRequired(_) => (StatusCode::PAYMENT_REQUIRED, "payment-required"),
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
        parse_query(q).map(Query)
    }
}

fn parse_query<T: DeserializeOwned>(q: &str) -> Result<T, Error> {
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
        .route("/v1/analyses", post(analyses::create))
        .route("/v1/analyses/{analysis}", get(analyses::get_posted))
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
        .route("/v1/tenants/{tenant}/analyses", get(analyses::list))
        .route(
            "/v1/tenants/{tenant}/analyses/{analysis}",
            get(analyses::get_one),
        )
        .route("/v1/tenants/{tenant}/analytics", get(analyses::kpis))
        .route("/v1/tenants/{tenant}/analytics.csv", get(analyses::export))
        .route("/v1/tenants/{tenant}/alerts", get(tenants::alerts))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::BTreeSet;

    use serde_json::Value;

    /// The document `/v1/openapi.json` serves.
    const OPENAPI: &str = include_str!("../openapi.json");
    /// This file: the router is read from its source, so that the test cannot drift
    /// from it.
    const SOURCE: &str = include_str!("mod.rs");

    /// HTTP methods as a route's handler chain names them (`get(h)`, `.post(h)`) and as
    /// an OpenAPI path item's keys.
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// Router building blocks this test does not read; finding one fails the test
    /// rather than leaving routes out.
    const UNREAD: [&str; 4] = ["nest", "nest_service", "merge", "route_service"];

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Token {
        Ident(String),
        Str(String),
        Punct(char),
    }

    /// Rust source as identifiers, string literals and punctuation; whitespace and
    /// comments are dropped.
    fn tokens(source: &str) -> Vec<Token> {
        let mut out = Vec::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => {}
                '/' if chars.peek() == Some(&'/') => {
                    for c in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    let mut last = ' ';
                    for c in chars.by_ref() {
                        if last == '*' && c == '/' {
                            break;
                        }
                        last = c;
                    }
                }
                '"' => {
                    let mut text = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => text.extend(chars.next()),
                            '"' => break,
                            c => text.push(c),
                        }
                    }
                    out.push(Token::Str(text));
                }
                '\'' => {
                    // A character literal ('x', '\n', '"') is skipped; a lifetime ('a) is
                    // punctuation and an identifier.
                    let ahead: Vec<char> = chars.clone().take(2).collect();
                    if ahead.first() == Some(&'\\') {
                        chars.next();
                        chars.next();
                        for c in chars.by_ref() {
                            if c == '\'' {
                                break;
                            }
                        }
                    } else if ahead.get(1) == Some(&'\'') {
                        chars.next();
                        chars.next();
                    } else {
                        out.push(Token::Punct('\''));
                    }
                }
                c if c.is_alphabetic() || c == '_' => {
                    let mut name = String::from(c);
                    while let Some(&next) = chars.peek() {
                        if !(next.is_alphanumeric() || next == '_') {
                            break;
                        }
                        name.push(next);
                        chars.next();
                    }
                    out.push(Token::Ident(name));
                }
                c => out.push(Token::Punct(c)),
            }
        }
        out
    }

    fn is_ident(token: Option<&Token>, name: &str) -> bool {
        matches!(token, Some(Token::Ident(n)) if n == name)
    }

    /// Whether `body[i..]` starts with `.name(`.
    fn is_method_call(body: &[Token], i: usize, name: &str) -> bool {
        body.get(i) == Some(&Token::Punct('.'))
            && is_ident(body.get(i + 1), name)
            && body.get(i + 2) == Some(&Token::Punct('('))
    }

    /// The (method, path) pairs of `pub fn router` in `source`: every
    /// `.route("PATH", get(a).post(b))` call, however it is wrapped over lines, with the
    /// methods of its handler chain.
    fn routes_in(source: &str) -> BTreeSet<(String, String)> {
        let start = source
            .find("pub fn router(")
            .expect("the source has `pub fn router(`");
        let all = tokens(&source[start..]);
        let open = all
            .iter()
            .position(|t| *t == Token::Punct('{'))
            .expect("`router` has a body");
        let mut depth = 0usize;
        let mut close = None;
        for (i, t) in all.iter().enumerate().skip(open) {
            match t {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let body = &all[open..=close.expect("`router`'s body is closed")];

        let mut routes = BTreeSet::new();
        for i in 0..body.len() {
            for name in UNREAD {
                assert!(
                    !is_method_call(body, i, name),
                    "the router calls `.{name}(`, which this test does not read; teach it"
                );
            }
            if !is_method_call(body, i, "route") {
                continue;
            }
            let Some(Token::Str(path)) = body.get(i + 3) else {
                panic!(
                    "a `.route(` call does not start with a string literal path: {:?}",
                    body.get(i + 3)
                );
            };
            // The handler chain: up to the `)` that closes `.route(`.
            let mut depth = 1usize;
            let mut methods = Vec::new();
            let mut j = i + 4;
            while depth > 0 {
                match body.get(j) {
                    Some(Token::Punct('(')) => depth += 1,
                    Some(Token::Punct(')')) => depth -= 1,
                    Some(Token::Ident(name)) if body.get(j + 1) == Some(&Token::Punct('(')) => {
                        assert!(
                            name != "any" && name != "on",
                            "route {path} uses `{name}(`, which this test does not read; \
                             name each method"
                        );
                        if METHODS.contains(&name.as_str()) {
                            methods.push(name.to_uppercase());
                        }
                    }
                    Some(_) => {}
                    None => panic!("the `.route(` call for {path} is not closed"),
                }
                j += 1;
            }
            assert!(
                !methods.is_empty(),
                "found no method (get(, .post(, …) in the route for {path}"
            );
            for m in methods {
                routes.insert((m, path.clone()));
            }
        }
        routes
    }

    /// The (method, path) pairs the OpenAPI document describes.
    fn documented(doc: &Value) -> BTreeSet<(String, String)> {
        let paths = doc["paths"]
            .as_object()
            .expect("the document has a `paths` object");
        let mut out = BTreeSet::new();
        for (path, item) in paths {
            let item = item
                .as_object()
                .unwrap_or_else(|| panic!("paths[{path:?}] is not an object"));
            for key in item.keys() {
                if METHODS.contains(&key.as_str()) {
                    out.insert((key.to_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    fn document() -> Value {
        serde_json::from_str(OPENAPI).expect("openapi.json is valid JSON")
    }

    fn listed(pairs: &BTreeSet<(String, String)>) -> String {
        if pairs.is_empty() {
            return "  (none)".into();
        }
        pairs
            .iter()
            .map(|(method, path)| format!("  {method} {path}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let doc = document();
        let version = doc["openapi"].as_str().unwrap_or_default();
        assert!(
            version.starts_with("3.1"),
            "`openapi` must be 3.1.x, not {:?}",
            doc["openapi"]
        );
    }

    #[test]
    fn the_document_describes_exactly_the_routes_served() {
        let served = routes_in(SOURCE);
        assert!(
            served.contains(&("GET".to_string(), "/v1/openapi.json".to_string())),
            "the routes were not read from the source: {served:?}"
        );
        let described = documented(&document());
        let undocumented: BTreeSet<_> = served.difference(&described).cloned().collect();
        let unserved: BTreeSet<_> = described.difference(&served).cloned().collect();
        assert!(
            undocumented.is_empty() && unserved.is_empty(),
            "openapi.json and the router in api/mod.rs disagree.\n\
             Served by the router but missing from openapi.json:\n{}\n\
             In openapi.json but not served by the router:\n{}",
            listed(&undocumented),
            listed(&unserved)
        );
    }

    #[test]
    fn every_reference_resolves_and_operation_ids_are_unique() {
        fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
            match value {
                Value::Object(o) => {
                    if let Some(Value::String(r)) = o.get("$ref") {
                        out.push(r);
                    }
                    o.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        let dangling: Vec<&str> = all
            .into_iter()
            .filter(|r| {
                r.strip_prefix('#')
                    .and_then(|pointer| doc.pointer(pointer))
                    .is_none()
            })
            .collect();
        assert!(dangling.is_empty(), "unresolved $refs: {dangling:?}");

        let mut seen = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let id = operation["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                assert!(seen.insert(id), "operationId {id} is used twice");
            }
        }
    }

    #[test]
    fn routes_are_read_however_rustfmt_wraps_them() {
        let source = r#"
            pub fn router(state: State) -> Router {
                Router::new()
                    .route("/a", get(x::a))
                    // .route("/commented", get(x::no))
                    .route(
                        "/b/{id}",
                        get(x::get_one)
                            .put(x::replace)
                            .delete(x::remove),
                    )
                    .route("/c", post(x::post_it)) /* .route("/d", get(x::no)) */
                    .fallback(x::none)
                    .with_state(state)
            }
            fn after() { let _ = ".route(\"/e\", get(x::no))"; }
        "#;
        let expected: BTreeSet<(String, String)> = [
            ("GET", "/a"),
            ("GET", "/b/{id}"),
            ("PUT", "/b/{id}"),
            ("DELETE", "/b/{id}"),
            ("POST", "/c"),
        ]
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
        assert_eq!(routes_in(source), expected);
    }
}
