//! A plugin function call in a fresh instance against the same lookup as an HTTP
//! webhook to a local keep-alive hyper server, in the same run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use voxgate_runtime::{CallContext, Runtime, RuntimeConfig, TenantEnv, TenantPlugins};

use super::Percentiles;

#[derive(Debug, Serialize)]
struct PluginCallResult {
    machine_cores: usize,
    iterations: usize,
    plugin: Percentiles,
    webhook: Percentiles,
    /// webhook p50 / plugin p50: how many times faster the plugin call is.
    speedup_p50: f64,
    speedup_p99: f64,
}

/// What the webhook receives: the same inputs the plugin function gets.
#[derive(Debug, Serialize, Deserialize)]
struct WebhookRequest {
    context: WebhookContext,
    phone: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct WebhookContext {
    tenant: String,
    call_id: String,
    caller: String,
    called: String,
    language: String,
    idempotency_key: Option<String>,
}

/// The webhook's answer: the same fields the plugin returns for a contact.
#[derive(Debug, Serialize, Deserialize)]
struct WebhookContact {
    id: String,
    first_name: String,
    last_name: String,
    phone: String,
    email: Option<String>,
    language: Option<String>,
    tier: String,
    company: Option<String>,
}

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
];
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
];

/// The same lookup the static-contacts plugin performs, natively.
fn lookup(phone: &str) -> Option<WebhookContact> {
    let n: u32 = phone.strip_prefix("+1202555")?.parse().ok()?;
    if phone.len() != 12 || n >= 1000 {
        return None;
    }
    let i = n as usize;
    Some(WebhookContact {
        id: format!("s-{n:04}"),
        first_name: FIRST[i % 8].into(),
        last_name: LAST[(i / 8) % 8].into(),
        phone: phone.into(),
        email: None,
        language: Some("en".into()),
        tier: match n % 10 {
            0 => "vip",
            1..=3 => "preferred",
            _ => "standard",
        }
        .into(),
        company: Some("static".into()),
    })
}

async fn webhook_handler(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let body = req.into_body().collect().await?.to_bytes();
    let request: Option<WebhookRequest> = serde_json::from_slice(&body).ok();
    let (status, body) = match request.as_ref().and_then(|r| lookup(&r.phone)) {
        Some(c) => (200, serde_json::to_vec(&c).unwrap_or_default()),
        None => (404, br#"{"error":"not_found"}"#.to_vec()),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// Runs the webhook server on its own runtime (two workers, as a service on this
/// machine would run) and threads, and returns its address.
fn start_webhook() -> anyhow::Result<std::net::SocketAddr> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    std::thread::Builder::new()
        .name("bench-webhook".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                    return;
                };
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(webhook_handler);
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        })?;
    Ok(addr)
}

pub(super) async fn plugin_call(
    iterations: usize,
    plugin: Option<PathBuf>,
    out: PathBuf,
) -> anyhow::Result<()> {
    let path = plugin.unwrap_or_else(|| crate::paths::plugins_dir().join("static_contacts.wasm"));
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let version = runtime.load("static-contacts", &bytes)?;
    let tenant = TenantPlugins::new(runtime, TenantEnv::builder("bench").build());
    tenant.activate(version, None)?;
    let session = tenant.session("bench");
    let ctx = CallContext {
        tenant: "bench".into(),
        call_id: "bench".into(),
        caller: "+12025550042".into(),
        called: "+12025559999".into(),
        language: "en".into(),
        idempotency_key: None,
    };

    let addr = start_webhook()?;
    // The pooled client a gateway would use: it keeps the connection alive between calls.
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_max_idle_per_host(4)
            .build(connector);
    let url = format!("http://{addr}/contacts/lookup");

    let phones: Vec<String> = (0..1000)
        .map(|i| format!("+1202555{:04}", (i * 37) % 1000))
        .collect();
    let session = Arc::new(session);

    let plugin_once = async |phone: &str| -> anyhow::Result<Duration> {
        let t = Instant::now();
        let c = session.lookup_contact(&ctx, phone).await?;
        let d = t.elapsed();
        anyhow::ensure!(c.phone == phone, "plugin answered the wrong contact");
        Ok(d)
    };
    let webhook_once = async |phone: &str| -> anyhow::Result<Duration> {
        let t = Instant::now();
        let body = serde_json::to_vec(&WebhookRequest {
            context: WebhookContext {
                tenant: ctx.tenant.clone(),
                call_id: ctx.call_id.clone(),
                caller: ctx.caller.clone(),
                called: ctx.called.clone(),
                language: ctx.language.clone(),
                idempotency_key: ctx.idempotency_key.clone(),
            },
            phone: phone.to_string(),
        })?;
        let req = Request::post(&url)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let resp = client.request(req).await?;
        let body = resp.into_body().collect().await?.to_bytes();
        let c: WebhookContact = serde_json::from_slice(&body)?;
        let d = t.elapsed();
        anyhow::ensure!(c.phone == phone, "webhook answered the wrong contact");
        Ok(d)
    };

    // Warm both paths (pool slots, connection, caches), then measure in interleaved
    // blocks so both sides see the same machine conditions.
    for p in phones.iter().take(500) {
        plugin_once(p).await?;
        webhook_once(p).await?;
    }
    let mut plugin_samples = Vec::with_capacity(iterations);
    let mut webhook_samples = Vec::with_capacity(iterations);
    let block = 500;
    let mut i = 0;
    while i < iterations {
        for k in 0..block.min(iterations - i) {
            plugin_samples.push(plugin_once(&phones[(i + k) % phones.len()]).await?);
        }
        for k in 0..block.min(iterations - i) {
            webhook_samples.push(webhook_once(&phones[(i + k) % phones.len()]).await?);
        }
        i += block;
    }
    let plugin = Percentiles::of(&mut plugin_samples);
    let webhook = Percentiles::of(&mut webhook_samples);
    let result = PluginCallResult {
        machine_cores: super::cores(),
        iterations,
        speedup_p50: webhook.p50_us / plugin.p50_us.max(f64::EPSILON),
        speedup_p99: webhook.p99_us / plugin.p99_us.max(f64::EPSILON),
        plugin,
        webhook,
    };
    let md = format!(
        "# plugin call vs webhook\n\n{} calls per side, {} cores.\n\n\
         | path | p50 µs | p90 µs | p99 µs | max µs |\n|---|---|---|---|---|\n\
         | plugin, fresh instance (static-contacts) | {:.1} | {:.1} | {:.1} | {:.1} |\n\
         | webhook, keep-alive hyper on loopback (same inputs and outputs) | {:.1} | {:.1} | {:.1} | {:.1} |\n\n\
         webhook / plugin: {:.2}× at p50, {:.2}× at p99\n",
        result.iterations,
        result.machine_cores,
        result.plugin.p50_us,
        result.plugin.p90_us,
        result.plugin.p99_us,
        result.plugin.max_us,
        result.webhook.p50_us,
        result.webhook.p90_us,
        result.webhook.p99_us,
        result.webhook.max_us,
        result.speedup_p50,
        result.speedup_p99,
    );
    print!("{md}");
    super::write_results(&out, "plugin-call", &md, &result)
}
