//! The admin API called through its router in-process: a control plane on a temp
//! directory with the demo tenant as `acme` (its ERP address given), and call events
//! fed in as the SIP core reports them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use voxgate::control::ControlPlane;
use voxgate::sip::events::{CallEvent, EventSink, RtpSummary};

use super::TempDir;

pub struct Api {
    pub plane: Arc<ControlPlane>,
    pub router: axum::Router,
    pub sink: EventSink,
    _dir: TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The error code of an error reply (and that it has a message).
    pub fn code(&self) -> String {
        let v = self.json();
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{v}"
        );
        v["error"]["code"].as_str().unwrap_or_default().to_string()
    }
}

impl Api {
    pub async fn new() -> Api {
        Api::with_tenant("127.0.0.1:9", |t| t).await
    }

    /// The demo tenant as `acme`, its ERP at `erp`, its file text passed through `edit`.
    pub async fn with_tenant(erp: &str, edit: impl FnOnce(String) -> String) -> Api {
        let dir = TempDir::new("control-api");
        let runtime = voxgate_runtime::Runtime::new(voxgate_runtime::RuntimeConfig {
            cache_dir: Some(voxgate::paths::code_cache_dir().unwrap_or(dir.path().join("code"))),
            ..voxgate_runtime::RuntimeConfig::default()
        })
        .unwrap();
        let speech = voxgate::speech::Speech::new(None).unwrap();
        let plane = ControlPlane::open(&dir.path().join("data"), runtime, speech)
            .await
            .unwrap();
        let tenant_file = super::erp::demo_tenant_file(&dir.path().join("acme"), erp);
        let text = edit(
            std::fs::read_to_string(&tenant_file)
                .unwrap()
                .replace("id = \"demo\"", "id = \"acme\""),
        );
        std::fs::write(&tenant_file, text).unwrap();
        plane.provision_file(&tenant_file, "test").await.unwrap();
        let sink = plane.event_sink(EventSink::none());
        let router = voxgate::control::api::router(plane.clone());
        Api {
            plane,
            router,
            sink,
            _dir: dir,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let request = match body {
            Some((ct, bytes)) => b.header("content-type", ct).body(Body::from(bytes)),
            None => b.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str, token: &str) -> Reply {
        self.send(Method::GET, uri, Some(token), None).await
    }

    pub async fn json(&self, method: Method, uri: &str, token: &str, body: Value) -> Reply {
        self.send(
            method,
            uri,
            Some(token),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn operator(&self) -> String {
        self.plane
            .create_token("ops", None, "test")
            .await
            .unwrap()
            .secret
    }

    /// A token of `tenant`, made through the API by the operator `op`.
    pub async fn tenant_token(&self, op: &str, tenant: &str) -> String {
        let made = self
            .json(
                Method::POST,
                "/v1/tokens",
                op,
                json!({"name": tenant, "tenant": tenant}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED);
        made.json()["token"].as_str().unwrap().to_string()
    }

    /// A call as the SIP core reports it, with a dialog record; waits until stored.
    pub async fn call(&self, tenant: &str, call_id: &str, caller: &str, outcome: &str) {
        let sink = self.sink.for_tenant(tenant);
        sink.emit(CallEvent::CallStarted {
            call_id: call_id.into(),
            from: format!("sip:{caller}@127.0.0.1:5070"),
            to: "100".into(),
            codec: "Pcmu".into(),
        });
        sink.emit(CallEvent::CallRecord {
            call_id: call_id.into(),
            record: json!({
                "outcome": outcome,
                "summary": format!("{caller} asked where the order is"),
                "agents": [{"name": "office", "reason": "Weekly"}],
                "turns": [
                    {"who": "agent", "text": "Hello"},
                    {"who": "caller", "text": "where is my order", "input": "speech", "intent": "order-status"},
                ],
                "plugin_calls": [
                    {"function": "orders.list-recent", "arguments": "", "outcome": "ok", "result": "", "duration_us": 800, "plugin": "demo-shop", "version": "abc"},
                ],
                "plugin_versions": ["abc"],
            }),
        });
        sink.emit(CallEvent::CallEnded {
            call_id: call_id.into(),
            reason: "caller-bye".into(),
            duration_ms: 4000,
            recording: None,
            rtp: RtpSummary {
                packets_received: 200,
                ..RtpSummary::default()
            },
        });
        self.wait_stored(tenant, call_id).await;
    }

    pub async fn wait_stored(&self, tenant: &str, call_id: &str) {
        let data = self.plane.tenant_data(tenant).unwrap();
        for _ in 0..200 {
            if data
                .store
                .call(call_id)
                .unwrap()
                .is_some_and(|c| c.ended_at.is_some() && !c.outcome.is_empty())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("call {call_id} was not stored");
    }
}
