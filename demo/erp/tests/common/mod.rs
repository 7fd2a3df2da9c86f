#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;
use voxgate_demo_erp::{Shop, router};

/// 2025-06-01T10:00:00Z: every test sees the same seed.
pub const NOW: u64 = 1_748_772_000;

pub fn shop() -> Shop {
    Shop::seeded(UNIX_EPOCH + Duration::from_secs(NOW)).with_frozen_clock()
}

pub struct Api {
    pub shop: Shop,
    pub app: Router,
    pub key: Option<String>,
}

impl Api {
    pub fn new() -> Self {
        let shop = shop();
        Self {
            app: router(shop.clone()),
            shop,
            key: None,
        }
    }

    pub fn with_key(key: &str) -> Self {
        let shop = shop().with_api_key(key);
        Self {
            app: router(shop.clone()),
            shop,
            key: Some(key.to_owned()),
        }
    }

    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        body: Option<&str>,
    ) -> (StatusCode, Vec<u8>, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(key) = &self.key {
            req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = to_bytes(resp.into_body(), 10 << 20).await.unwrap();
        (status, bytes.to_vec(), content_type)
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (status, body, _) = self.raw(Method::GET, uri, None).await;
        (status, parse(&body))
    }

    pub async fn post(&self, uri: &str, body: &Value) -> (StatusCode, Value) {
        let (status, body, _) = self.raw(Method::POST, uri, Some(&body.to_string())).await;
        (status, parse(&body))
    }

    pub async fn post_text(&self, uri: &str, body: &str) -> (StatusCode, Value) {
        let (status, body, _) = self.raw(Method::POST, uri, Some(body)).await;
        (status, parse(&body))
    }

    /// GET that must succeed; returns the JSON.
    pub async fn ok(&self, uri: &str) -> Value {
        let (status, body) = self.get(uri).await;
        assert_eq!(status, StatusCode::OK, "GET {uri}: {body}");
        body
    }

    pub async fn stock(&self, sku: &str) -> u64 {
        self.ok(&format!("/products/{sku}")).await["stock"]
            .as_u64()
            .unwrap()
    }
}

pub fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// Every error must be `{"error": code, "message": non-empty}`.
pub fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}
