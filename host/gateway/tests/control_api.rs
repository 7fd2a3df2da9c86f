//! The admin API, called through its router (and over a real socket for the WebSocket):
//! every route, its error codes, and that a tenant token never sees another tenant's
//! tenants, calls, plugins, audit entries, tokens or events.
//!
//! Calls are fed in as the SIP core reports them (events through the control plane's
//! sink), so the recorder, the store and the API are the real ones; the plugins are
//! real components built by scripts/build-plugins.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::api::Api;

use std::io::{Read, Write};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use voxgate::control::ControlPlane;
use voxgate::sip::events::CallEvent;

fn beta_config() -> Value {
    json!({
        "id": "beta",
        "name": "Beta Bikes",
        "time_zone": "Europe/London",
        "numbers": ["+442000000001"],
        "schedule": {"default": "main"},
        "agents": {"main": {"greeting": "Hello from Beta"}},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_routes_need_no_token_and_report_readiness() {
    let api = Api::new().await;
    for uri in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/openapi.json",
        "/",
        "/app.js",
        "/style.css",
    ] {
        let r = api.send(Method::GET, uri, None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
    }
    let doc = api
        .send(Method::GET, "/v1/openapi.json", None, None)
        .await
        .json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    api.plane
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let r = api.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["status"], "draining");
    let metrics = api.send(Method::GET, "/metrics", None, None).await;
    assert!(String::from_utf8_lossy(&metrics.body).contains("voxgate_draining 1"));

    let r = api.send(Method::GET, "/v1/nothing-here", None, None).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "not-found")
    );
    let r = api.send(Method::PATCH, "/v1/tenants", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.code(), "method-not-allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_authenticate_and_revoked_or_unknown_ones_get_401() {
    let api = Api::new().await;
    let r = api.send(Method::GET, "/v1/me", None, None).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert!(r.headers.contains_key("www-authenticate"));
    let r = api.get("/v1/me", "vxg_0000").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = api.get("/v1/me", "not-even-a-token").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let op = api.operator().await;
    let me = api.get("/v1/me", &op).await.json();
    assert_eq!(me["kind"], "operator");

    // A tenant token, made through the API; shown once, then only its hash is kept.
    let made = api
        .json(
            Method::POST,
            "/v1/tokens",
            &op,
            json!({"name": "acme-it", "tenant": "acme"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let made = made.json();
    let acme = made["token"].as_str().unwrap().to_string();
    let me = api.get("/v1/me", &acme).await.json();
    assert_eq!(
        (me["kind"].as_str(), me["tenant"].as_str()),
        (Some("tenant"), Some("acme"))
    );
    let control = std::fs::read(api.plane.data_dir.join("control.sqlite")).unwrap();
    assert!(
        !control.windows(acme.len()).any(|w| w == acme.as_bytes()),
        "the token is not stored in the clear"
    );

    // A tenant token makes tokens for its own tenant only.
    let own = api
        .json(Method::POST, "/v1/tokens", &acme, json!({"name": "second"}))
        .await;
    assert_eq!(own.status, StatusCode::CREATED);
    assert_eq!(own.json()["tenant"], "acme");
    let other = api
        .json(
            Method::POST,
            "/v1/tokens",
            &acme,
            json!({"name": "x", "tenant": "demo2"}),
        )
        .await;
    assert_eq!(
        (other.status, other.code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let unknown_tenant = api
        .json(
            Method::POST,
            "/v1/tokens",
            &op,
            json!({"name": "x", "tenant": "nobody"}),
        )
        .await;
    assert_eq!(unknown_tenant.status, StatusCode::NOT_FOUND);
    let bad = api
        .json(Method::POST, "/v1/tokens", &op, json!({"name": ""}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = api
        .send(
            Method::POST,
            "/v1/tokens",
            Some(&op),
            Some(("application/json", b"{".to_vec())),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = api
        .send(
            Method::POST,
            "/v1/tokens",
            Some(&op),
            Some(("text/plain", b"{}".to_vec())),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Lists: the operator sees every token, the tenant only its tenant's.
    let all = api.get("/v1/tokens", &op).await.json();
    assert_eq!(all["tokens"].as_array().unwrap().len(), 3);
    let mine = api.get("/v1/tokens", &acme).await.json();
    assert!(
        mine["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["tenant"] == "acme")
    );
    assert_eq!(mine["tokens"].as_array().unwrap().len(), 2);

    // Revoking: a tenant cannot revoke an operator token; the operator revokes the
    // tenant's, which then stops working at once.
    let op_id = api.get("/v1/me", &op).await.json()["token_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .send(
            Method::DELETE,
            &format!("/v1/tokens/{op_id}"),
            Some(&acme),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let id = made["id"].as_str().unwrap();
    let r = api
        .send(Method::DELETE, &format!("/v1/tokens/{id}"), Some(&op), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.get("/v1/me", &acme).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = api
        .send(Method::DELETE, "/v1/tokens/tok_nothing", Some(&op), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let audit = api.get("/v1/audit", &op).await.json();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"token.create") && actions.contains(&"token.revoke"),
        "{actions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_numbers_schedules_and_agents() {
    let api = Api::new().await;
    let op = api.operator().await;
    let listed = api.get("/v1/tenants", &op).await.json();
    assert_eq!(listed["tenants"][0]["id"], "acme");

    let created = api
        .json(Method::POST, "/v1/tenants", &op, beta_config())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json());
    let again = api
        .json(Method::POST, "/v1/tenants", &op, beta_config())
        .await;
    assert_eq!(
        (again.status, again.code().as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
    let mut taken = beta_config();
    taken["id"] = json!("gamma");
    taken["numbers"] = json!(["100"]);
    let r = api.json(Method::POST, "/v1/tenants", &op, taken).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "number 100 is acme's");
    let mut bad = beta_config();
    bad["id"] = json!("gamma");
    bad["time_zone"] = json!("Mars/Olympus");
    let r = api.json(Method::POST, "/v1/tenants", &op, bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mars")
    );
    let mut with_plugins = beta_config();
    with_plugins["id"] = json!("gamma");
    with_plugins["plugins"] = json!({"default": "/etc/passwd"});
    let r = api
        .json(Method::POST, "/v1/tenants", &op, with_plugins)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let beta = api.tenant_token(&op, "beta").await;
    let r = api
        .json(Method::POST, "/v1/tenants", &beta, json!({}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "only operators create tenants"
    );
    let seen = api.get("/v1/tenants", &beta).await.json();
    let ids: Vec<&str> = seen["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["beta"]);
    for uri in [
        "/v1/tenants/acme",
        "/v1/tenants/acme/numbers",
        "/v1/tenants/acme/schedule",
        "/v1/tenants/acme/agents",
        "/v1/tenants/acme/agents/office",
    ] {
        let r = api.get(uri, &beta).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}");
    }
    assert_eq!(
        api.get("/v1/tenants/nobody", &op).await.status,
        StatusCode::NOT_FOUND
    );

    // Numbers: replaced, refused when another tenant has one.
    let r = api
        .json(
            Method::PUT,
            "/v1/tenants/beta/numbers",
            &beta,
            json!({"numbers": ["+442000000001", "200"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["numbers"], json!(["+442000000001", "200"]));
    assert!(
        api.plane.tenants.current().by_number("200").is_some(),
        "new calls use it at once"
    );
    let r = api
        .json(
            Method::PUT,
            "/v1/tenants/beta/numbers",
            &beta,
            json!({"numbers": ["100"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = api
        .json(
            Method::PUT,
            "/v1/tenants/beta/numbers",
            &beta,
            json!({"numbers": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Agents and the schedule that names them.
    let r = api
        .json(
            Method::PUT,
            "/v1/tenants/beta/agents/night",
            &beta,
            json!({"greeting": "Good evening", "voice": "flite"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let agents = api.get("/v1/tenants/beta/agents", &beta).await.json();
    assert_eq!(agents["agents"]["night"]["voice"], "flite");
    assert_eq!(
        api.get("/v1/tenants/beta/agents/night", &beta).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.get("/v1/tenants/beta/agents/nobody", &beta)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = api
        .json(
            Method::PUT,
            "/v1/tenants/beta/agents/bad",
            &beta,
            json!({"greeting": "x", "voice": "robot"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .json(
            Method::PUT,
            "/v1/tenants/beta/schedule",
            &beta,
            json!({"default": "night"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(
        api.get("/v1/tenants/beta/schedule", &beta).await.json()["default"],
        "night"
    );
    let r = api
        .json(
            Method::PUT,
            "/v1/tenants/beta/schedule",
            &beta,
            json!({"default": "ghost"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "the schedule names an unknown agent"
    );
    let r = api
        .send(
            Method::DELETE,
            "/v1/tenants/beta/agents/night",
            Some(&beta),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "the schedule still uses it"
    );
    let r = api
        .send(
            Method::DELETE,
            "/v1/tenants/beta/agents/main",
            Some(&beta),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = api
        .send(
            Method::DELETE,
            "/v1/tenants/beta/agents/main",
            Some(&beta),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The whole config.
    let mut config = api.get("/v1/tenants/beta", &beta).await.json()["config"].clone();
    config["name"] = json!("Beta Bicycles");
    let r = api
        .json(Method::PUT, "/v1/tenants/beta", &beta, config.clone())
        .await;
    assert_eq!(r.json()["name"], "Beta Bicycles");
    config["id"] = json!("other");
    let r = api
        .json(Method::PUT, "/v1/tenants/beta", &beta, config)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Deleting: operators only; the tenant's numbers stop routing.
    let r = api
        .send(Method::DELETE, "/v1/tenants/beta", Some(&beta), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api
        .send(Method::DELETE, "/v1/tenants/beta", Some(&op), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(api.plane.tenants.current().by_number("200").is_none());
    assert_eq!(
        api.get("/v1/tenants/beta", &op).await.status,
        StatusCode::NOT_FOUND
    );
    let r = api
        .send(Method::DELETE, "/v1/tenants/beta", Some(&op), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let audit = api.get("/v1/audit?tenant=beta", &op).await.json();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "tenant.create",
        "tenant.numbers",
        "tenant.agent",
        "tenant.schedule",
        "tenant.update",
        "tenant.delete",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_upload_activate_canary_and_roll_back() {
    let api = Api::new().await;
    let op = api.operator().await;
    api.json(Method::POST, "/v1/tenants", &op, beta_config())
        .await;
    let beta = api.tenant_token(&op, "beta").await;
    let before = api.get("/v1/tenants/acme/plugins", &op).await.json();
    let shop = before["active"]["bindings"]["contacts"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(before["versions"].as_array().unwrap().len(), 1);

    let wasm = std::fs::read(voxgate_runtime::testing::plugin_path("static-contacts")).unwrap();
    let up = |token: &str, ct: &'static str, bytes: Vec<u8>| {
        let token = token.to_string();
        let api = &api;
        async move {
            api.send(
                Method::POST,
                "/v1/tenants/acme/plugins?name=static-contacts",
                Some(&token),
                Some((ct, bytes)),
            )
            .await
        }
    };
    let r = up(&op, "application/wasm", wasm.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let version = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["interfaces"], json!(["contacts"]));
    let r = up(&op, "application/wasm", wasm.clone()).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the same bytes are the same version"
    );
    let r = up(&op, "application/wasm", b"\0asm garbage".to_vec()).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "bad-request")
    );
    let r = up(&op, "text/plain", wasm.clone()).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = up(&op, "application/wasm", Vec::new()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = up(&beta, "application/wasm", wasm.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    api.plane.set_max_upload(1024);
    let r = up(&op, "application/wasm", wasm.clone()).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too-large")
    );
    api.plane.set_max_upload(64 << 20);

    let short = &version[..12];
    let r = api
        .get(&format!("/v1/tenants/acme/plugins/{short}"), &op)
        .await;
    assert_eq!(r.json()["id"], version.as_str());
    assert_eq!(
        api.get("/v1/tenants/acme/plugins/ffffffffffff", &op)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get(&format!("/v1/tenants/acme/plugins/{short}"), &beta)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get("/v1/tenants/acme/plugins", &beta).await.status,
        StatusCode::FORBIDDEN
    );

    // Activation binds only what it names; calls from now on get it.
    let activate = format!("/v1/tenants/acme/plugins/{version}/activate");
    let r = api
        .json(
            Method::POST,
            &activate,
            &op,
            json!({"interfaces": ["orders"]}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "it does not export orders"
    );
    let r = api
        .json(
            Method::POST,
            &activate,
            &op,
            json!({"interfaces": ["teleport"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .send(
            Method::POST,
            "/v1/tenants/acme/plugins/ffffffffffffffff/activate",
            Some(&op),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api.send(Method::POST, &activate, Some(&beta), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api.send(Method::POST, &activate, Some(&op), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let view = r.json();
    assert_eq!(view["active"]["bindings"]["contacts"], version.as_str());
    assert_eq!(view["active"]["bindings"]["orders"], shop.as_str());
    let tenant = api.plane.tenants.current();
    let session = tenant.by_number("100").unwrap().plugins.session("probe");
    assert!(
        session
            .plugins()
            .versions()
            .iter()
            .any(|v| v.id() == version)
    );

    // Canary, and its end.
    let canary = format!("/v1/tenants/acme/plugins/{shop}/canary");
    let r = api
        .json(Method::POST, &canary, &op, json!({"percent": 0}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .json(Method::POST, &canary, &op, json!({"percent": 20}))
        .await;
    assert_eq!(r.json()["canary"], json!({"version": shop, "percent": 20}));
    let r = api
        .send(Method::DELETE, "/v1/tenants/acme/canary", Some(&op), None)
        .await;
    assert_eq!(
        (r.status, r.json()["canary"].clone()),
        (StatusCode::OK, Value::Null)
    );
    let r = api
        .send(Method::DELETE, "/v1/tenants/acme/canary", Some(&op), None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Rollback: to the first activation, then nothing left.
    let r = api
        .send(
            Method::POST,
            "/v1/tenants/acme/plugins/rollback",
            Some(&op),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["active"]["bindings"]["contacts"], shop.as_str());
    let r = api
        .send(
            Method::POST,
            "/v1/tenants/acme/plugins/rollback",
            Some(&op),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "conflict")
    );

    // The history survives a restart: a new control plane on the same store.
    api.send(Method::POST, &activate, Some(&op), None).await;
    let data_dir = api.plane.data_dir.clone();
    let runtime = voxgate_runtime::Runtime::new(voxgate_runtime::RuntimeConfig::default()).unwrap();
    let again = ControlPlane::open(
        &data_dir,
        runtime,
        voxgate::speech::Speech::new(None).unwrap(),
    )
    .await
    .unwrap();
    let view = again.plugins_view("acme").await.unwrap();
    assert_eq!(view.active.bindings.get("contacts"), Some(&version));
    let session = again
        .tenants
        .current()
        .by_number("100")
        .unwrap()
        .plugins
        .session("p2");
    assert!(
        session
            .plugins()
            .versions()
            .iter()
            .any(|v| v.id() == version)
    );

    let audit = api.get("/v1/audit?tenant=acme", &op).await.json();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "plugin.upload",
        "plugin.activate",
        "plugin.canary",
        "plugin.canary-stop",
        "plugin.rollback",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let r = api.get("/v1/audit?tenant=acme", &beta).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let own = api.get("/v1/audit", &beta).await.json();
    assert!(
        own["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["tenant"] == "beta")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_recordings_kpis_and_credits_stay_within_their_tenant() {
    let api = Api::new().await;
    let op = api.operator().await;
    api.json(Method::POST, "/v1/tenants", &op, beta_config())
        .await;
    let acme = api.tenant_token(&op, "acme").await;
    let beta = api.tenant_token(&op, "beta").await;
    api.call("acme", "a-1", "+441", "completed").await;
    api.call("acme", "a-2", "+442", "transferred").await;
    api.call("beta", "b-1", "+449", "completed").await;

    // A sealed recording for a-1, as the media task writes it.
    let data = api.plane.tenant_data("acme").unwrap();
    let pcm: Vec<i16> = (0..8000).map(|i| ((i % 80) as i16 - 40) * 300).collect();
    voxgate::media::recording::write_sealed(
        &data.recordings_dir().join("a-1.vxrec"),
        data.recording_key(),
        "acme/a-1",
        8000,
        &pcm,
    )
    .unwrap();
    data.store
        .call_ended(
            "a-1",
            &voxgate_store::CallEnd {
                ended_at: voxgate::control::now_ms(),
                duration_ms: 4000,
                reason: "caller-bye".into(),
                rtp: None,
                recording: Some("a-1.vxrec".into()),
            },
        )
        .unwrap();

    let ids = |v: Value| -> Vec<String> {
        v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["call_id"].as_str().unwrap().to_string())
            .collect()
    };
    let mut all = ids(api.get("/v1/calls", &op).await.json());
    all.sort();
    assert_eq!(all, ["a-1", "a-2", "b-1"]);
    let mut mine = ids(api.get("/v1/calls", &acme).await.json());
    mine.sort();
    assert_eq!(mine, ["a-1", "a-2"]);
    assert_eq!(ids(api.get("/v1/calls", &beta).await.json()), ["b-1"]);
    assert_eq!(
        api.get("/v1/calls?tenant=acme", &beta).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get("/v1/tenants/acme/calls", &beta).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get("/v1/tenants/acme/calls/a-1", &beta).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get("/v1/tenants/acme/calls/a-1/recording", &beta)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get("/v1/tenants/acme/stats", &beta).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get("/v1/tenants/acme/credits", &beta).await.status,
        StatusCode::FORBIDDEN
    );
    // Another tenant's call id through one's own tenant is simply not there.
    assert_eq!(
        api.get("/v1/tenants/beta/calls/a-1", &beta).await.status,
        StatusCode::NOT_FOUND
    );

    // Filters.
    assert_eq!(
        ids(api
            .get("/v1/tenants/acme/calls?number=%2B442", &acme)
            .await
            .json()),
        ["a-2"]
    );
    assert_eq!(
        ids(api
            .get("/v1/tenants/acme/calls?outcome=completed", &acme)
            .await
            .json()),
        ["a-1"]
    );
    assert_eq!(
        ids(api
            .get("/v1/tenants/acme/calls?agent=office&limit=1", &acme)
            .await
            .json())
        .len(),
        1
    );
    assert!(
        ids(api
            .get("/v1/tenants/acme/calls?status=active", &acme)
            .await
            .json())
        .is_empty()
    );
    assert!(
        ids(api
            .get("/v1/tenants/acme/calls?since=2999-01-01T00:00:00Z", &acme)
            .await
            .json())
        .is_empty()
    );
    for bad in [
        "since=yesterday",
        "limit=0",
        "status=sleeping",
        "colour=blue",
    ] {
        let r = api
            .get(&format!("/v1/tenants/acme/calls?{bad}"), &acme)
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::BAD_REQUEST, "bad-request"),
            "{bad}"
        );
    }

    // Detail.
    let d = api.get("/v1/tenants/acme/calls/a-1", &acme).await.json();
    assert_eq!(d["caller"], "+441");
    assert_eq!(d["record"]["turns"][1]["text"], "where is my order");
    assert_eq!(
        d["rtp"],
        Value::Null,
        "the later end replaced the statistics"
    );
    assert_eq!(d["recording"], true);
    let d2 = api.get("/v1/tenants/acme/calls/a-2", &acme).await.json();
    assert_eq!(d2["rtp"]["packets_received"], 200);
    assert_eq!(d2["plugin_versions"], json!(["abc"]));
    assert_eq!(
        api.get("/v1/tenants/acme/calls/nope", &acme).await.status,
        StatusCode::NOT_FOUND
    );

    // The recording: sealed on disk, WAV through the API.
    let on_disk = std::fs::read(data.recordings_dir().join("a-1.vxrec")).unwrap();
    assert!(!on_disk.windows(4).any(|w| w == b"RIFF"));
    let r = api.get("/v1/tenants/acme/calls/a-1/recording", &acme).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "audio/wav");
    assert_eq!(&r.body[..4], b"RIFF");
    assert_eq!(
        api.get("/v1/tenants/acme/calls/a-2/recording", &acme)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A damaged file is the server's problem, said as such.
    let mut damaged = on_disk.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    std::fs::write(data.recordings_dir().join("a-1.vxrec"), damaged).unwrap();
    let r = api.get("/v1/tenants/acme/calls/a-1/recording", &acme).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );

    // KPIs.
    let s = api.get("/v1/tenants/acme/stats", &acme).await.json();
    assert_eq!(s["calls"], 2);
    assert_eq!(s["containment_rate"], 0.5);
    assert_eq!(s["transfer_rate"], 0.5);
    assert_eq!(s["plugin_latency"][0]["function"], "orders.list-recent");
    assert_eq!(s["plugin_latency"][0]["calls"], 2);
    assert_eq!(
        api.get("/v1/tenants/acme/stats?since=soon", &acme)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Credits: operators top up; tenants read.
    assert_eq!(
        api.get("/v1/tenants/acme/credits", &acme).await.json()["balance"],
        0
    );
    let r = api
        .json(
            Method::POST,
            "/v1/tenants/acme/credits",
            &acme,
            json!({"amount": 100}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api
        .json(
            Method::POST,
            "/v1/tenants/acme/credits",
            &op,
            json!({"amount": -5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .json(
            Method::POST,
            "/v1/tenants/acme/credits",
            &op,
            json!({"amount": 100, "note": "November"}),
        )
        .await;
    assert_eq!(r.json()["balance"], 100);
    let c = api.get("/v1/tenants/acme/credits", &acme).await.json();
    assert_eq!(
        (c["balance"].as_i64(), c["entries"][0]["note"].as_str()),
        (Some(100), Some("November"))
    );
    assert_eq!(
        api.get("/v1/tenants/nobody/credits", &op).await.status,
        StatusCode::NOT_FOUND
    );
}

/// A WebSocket client just big enough for a test: the handshake, then the server's
/// unfragmented text frames.
struct Ws(std::net::TcpStream);

impl Ws {
    fn connect(addr: std::net::SocketAddr, token: &str) -> Result<Ws, String> {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "GET /v1/events?access_token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).map_err(|e| e.to_string())?;
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_string();
        if !head.starts_with("HTTP/1.1 101") {
            return Err(head);
        }
        Ok(Ws(s))
    }

    /// The next text message, or `None` when nothing comes within the timeout.
    fn next(&mut self, timeout: Duration) -> Option<Value> {
        self.0.set_read_timeout(Some(timeout)).unwrap();
        let mut h = [0u8; 2];
        self.0.read_exact(&mut h).ok()?;
        let mut len = u64::from(h[1] & 0x7f);
        if len == 126 {
            let mut b = [0u8; 2];
            self.0.read_exact(&mut b).ok()?;
            len = u64::from(u16::from_be_bytes(b));
        } else if len == 127 {
            let mut b = [0u8; 8];
            self.0.read_exact(&mut b).ok()?;
            len = u64::from_be_bytes(b);
        }
        let mut payload = vec![0u8; len as usize];
        self.0.read_exact(&mut payload).ok()?;
        assert_eq!(h[0] & 0x0f, 1, "a text frame");
        serde_json::from_slice(&payload).ok()
    }

    /// Call ids of the call events received until `quiet` passes without one.
    fn call_ids(&mut self, quiet: Duration) -> Vec<(String, String)> {
        let mut out = Vec::new();
        while let Some(v) = self.next(quiet) {
            if let Some(id) = v["call_id"].as_str() {
                out.push((
                    v["event"].as_str().unwrap_or_default().to_string(),
                    id.to_string(),
                ));
            }
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_stream_shows_each_token_only_its_tenants_events() {
    let api = Api::new().await;
    let op = api.operator().await;
    api.json(Method::POST, "/v1/tenants", &op, beta_config())
        .await;
    let (acme, beta) = (
        api.tenant_token(&op, "acme").await,
        api.tenant_token(&op, "beta").await,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = api.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let clients = tokio::task::spawn_blocking(move || {
        let refused = Ws::connect(addr, "vxg_wrong").err().unwrap_or_default();
        assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
        let mut c = [(); 3].map(|_| None);
        for (i, t) in [&op, &acme, &beta].into_iter().enumerate() {
            let mut ws = Ws::connect(addr, t).unwrap();
            assert_eq!(ws.next(Duration::from_secs(5)).unwrap()["event"], "hello");
            c[i] = Some(ws);
        }
        c.map(Option::unwrap)
    })
    .await
    .unwrap();

    api.call("acme", "live-a", "+441", "completed").await;
    api.call("beta", "live-b", "+449", "completed").await;
    // A plugin change is an event too, for its tenant only.
    let wasm = std::fs::read(voxgate_runtime::testing::plugin_path("static-contacts")).unwrap();
    let up = api
        .send(
            Method::POST,
            "/v1/tenants/beta/plugins?name=static-contacts",
            Some(&api.operator().await),
            Some(("application/wasm", wasm)),
        )
        .await
        .json();
    let version = up["id"].as_str().unwrap().to_string();
    api.plane
        .activate("beta", &version, None, "test")
        .await
        .unwrap();

    let [mut op_ws, mut acme_ws, mut beta_ws] = clients;
    let seen = tokio::task::spawn_blocking(move || {
        let quiet = Duration::from_millis(700);
        let op = op_ws.call_ids(quiet);
        let acme = acme_ws.call_ids(quiet);
        // Beta's stream: its call, and its plugin activation.
        let mut beta = Vec::new();
        let mut activated = false;
        while let Some(v) = beta_ws.next(quiet) {
            assert_eq!(v["tenant"], "beta", "{v}");
            activated |= v["event"] == "plugin-activated";
            if let Some(id) = v["call_id"].as_str() {
                beta.push(id.to_string());
            }
        }
        (op, acme, beta, activated)
    })
    .await
    .unwrap();
    let (op, acme, beta, activated) = seen;
    let ids = |v: &[(String, String)]| {
        let mut ids: Vec<String> = v.iter().map(|(_, id)| id.clone()).collect();
        ids.dedup();
        ids
    };
    assert_eq!(
        ids(&op),
        ["live-a", "live-b"],
        "the operator sees both: {op:?}"
    );
    assert_eq!(ids(&acme), ["live-a"], "{acme:?}");
    assert!(
        acme.iter().any(|(e, _)| e == "call-started")
            && acme.iter().any(|(e, _)| e == "call-ended")
    );
    assert!(
        beta.iter().all(|id| id == "live-b") && !beta.is_empty(),
        "{beta:?}"
    );
    assert!(activated, "beta saw its plugin activation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_rules_fire_notify_a_webhook_and_resolve() {
    let api = Api::new().await;
    let op = api.operator().await;
    let hook = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_addr = hook.local_addr().unwrap();
    let received = std::thread::spawn(move || {
        let (mut s, _) = hook.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    break;
                }
            }
        }
        s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        String::from_utf8_lossy(&raw).to_string()
    });
    let mut config = beta_config();
    config["allowed_hosts"] = json!([hook_addr.to_string()]);
    config["alerts"] = json!([{
        "name": "plugin errors",
        "metric": "plugin-error-rate",
        "above": 0.5,
        "min_samples": 4,
        "notify": {"webhook": format!("http://{hook_addr}/alerts")},
    }]);
    let r = api
        .json(Method::POST, "/v1/tenants", &op, config.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let mut bad = config.clone();
    bad["id"] = json!("gamma");
    bad["numbers"] = json!(["300"]);
    bad["alerts"][0]["notify"] = json!({"webhook": "ftp://x"});
    assert_eq!(
        api.json(Method::POST, "/v1/tenants", &op, bad).await.status,
        StatusCode::BAD_REQUEST
    );

    api.plane.evaluate_alerts().await;
    let sink = api.sink.for_tenant("beta");
    let plugin_call = |outcome: &str| CallEvent::PluginCall {
        call_id: "c".into(),
        function: "orders.get".into(),
        outcome: outcome.into(),
        duration_us: 900,
        plugin: "p".into(),
        version: "v".into(),
    };
    for outcome in ["unavailable", "trap", "ok", "deadline"] {
        sink.emit(plugin_call(outcome));
    }
    api.plane.evaluate_alerts().await;
    let alerts = api.get("/v1/tenants/beta/alerts", &op).await.json();
    assert_eq!(alerts["rules"][0]["name"], "plugin errors");
    assert_eq!(alerts["firing"][0]["rule"], "plugin errors", "{alerts}");
    assert_eq!(alerts["firing"][0]["value"], 0.75);
    let posted = received.join().unwrap();
    assert!(posted.starts_with("POST /alerts"), "{posted}");
    assert!(
        posted.contains("\"plugin errors\"") && posted.contains("\"beta\""),
        "{posted}"
    );
    // Another tenant's alerts are not this token's business.
    let acme = api.tenant_token(&op, "acme").await;
    assert_eq!(
        api.get("/v1/tenants/beta/alerts", &acme).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get("/v1/tenants/acme/alerts", &acme).await.json()["firing"],
        json!([])
    );

    for _ in 0..20 {
        sink.emit(plugin_call("ok"));
    }
    api.plane.evaluate_alerts().await;
    let alerts = api.get("/v1/tenants/beta/alerts", &op).await.json();
    assert_eq!(alerts["firing"], json!([]), "resolved: {alerts}");
    let audit = api.get("/v1/audit?tenant=beta", &op).await.json();
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "alert.firing")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_old_transcripts_and_recordings() {
    let api = Api::new().await;
    let op = api.operator().await;
    let mut config = beta_config();
    config["retention_days"] = json!(30);
    api.json(Method::POST, "/v1/tenants", &op, config).await;
    api.call("beta", "old", "+441", "completed").await;
    api.call("beta", "new", "+442", "completed").await;
    let data = api.plane.tenant_data("beta").unwrap();
    std::fs::create_dir_all(data.recordings_dir()).unwrap();
    std::fs::write(data.recordings_dir().join("old.vxrec"), b"sealed").unwrap();
    let sixty_days_ago = voxgate::control::now_ms() - 60 * 86_400_000;
    data.store
        .call_started(&voxgate_store::NewCall {
            call_id: "old".into(),
            caller: "+441".into(),
            called: "100".into(),
            started_at: sixty_days_ago,
            node: String::new(),
        })
        .unwrap();
    data.store
        .call_ended(
            "old",
            &voxgate_store::CallEnd {
                ended_at: sixty_days_ago + 4000,
                duration_ms: 4000,
                reason: "caller-bye".into(),
                rtp: None,
                recording: Some("old.vxrec".into()),
            },
        )
        .unwrap();
    api.plane.expire_old_data().await;
    let old = api.get("/v1/tenants/beta/calls/old", &op).await.json();
    assert_eq!(old["record"]["turns"], json!([]), "{old}");
    assert_eq!(old["recording"], false);
    assert!(old["expired_at"].is_string());
    assert!(!data.recordings_dir().join("old.vxrec").exists());
    let new = api.get("/v1/tenants/beta/calls/new", &op).await.json();
    assert_eq!(
        new["record"]["turns"].as_array().unwrap().len(),
        2,
        "recent calls keep theirs"
    );
}
