//! `voxgate serve`: the gateway with its control plane — SIP, tenants from the store,
//! the admin API and dashboard — and the drain on SIGTERM. `voxgate run` is the same
//! with the demo's defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use voxgate_runtime::{Runtime, RuntimeConfig};

use crate::control::{ControlPlane, StoreOptions};
use crate::sip::config::SipConfig;
use crate::sip::events::EventSink;
use crate::tenant::TenantConfig;

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// TOML file with a `[sip]` table and an optional `[admin]` table.
    #[arg(long)]
    config: PathBuf,
    /// Tenant files to put into the store at start (config, plugins uploaded and
    /// activated); repeatable. Tenants already stored keep serving either way.
    #[arg(long = "tenant")]
    tenants: Vec<PathBuf>,
    /// The store: the control plane's file and one folder per tenant.
    #[arg(long, default_value_os_t = crate::paths::data_dir())]
    data_dir: PathBuf,
    /// Also write call events as JSON lines here.
    #[arg(long)]
    events: Option<PathBuf>,
}

/// The `[admin]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Where the admin API and dashboard listen; keep it on a private network.
    #[serde(default = "default_admin_listen")]
    pub listen: SocketAddr,
    /// How long calls in progress may go on after SIGTERM before they are ended.
    #[serde(default = "default_drain_s")]
    pub drain_timeout_s: u64,
    /// The largest plugin upload, in MiB.
    #[serde(default = "default_upload_mb")]
    pub max_upload_mb: usize,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: default_admin_listen(),
            drain_timeout_s: default_drain_s(),
            max_upload_mb: default_upload_mb(),
        }
    }
}

fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_drain_s() -> u64 {
    30
}
fn default_upload_mb() -> usize {
    crate::control::DEFAULT_MAX_UPLOAD >> 20
}

/// The `[node]` table: this gateway among several sharing one store.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The name written into every call record this node takes (default: the host
    /// name).
    pub id: Option<String>,
}

/// The `[store]` table: where tenants, plugins, calls and the transaction log live.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// A PostgreSQL connection string (`postgresql://user@host/db`, or `host=… dbname=…`)
    /// for a store several nodes share; absent, SQLite files under the data folder.
    pub postgres: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GatewayFile {
    sip: SipConfig,
    #[serde(default)]
    admin: AdminConfig,
    #[serde(default)]
    node: NodeConfig,
    #[serde(default)]
    store: StoreConfig,
}

pub(super) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let text = tokio::fs::read_to_string(&args.config)
        .await
        .with_context(|| format!("cannot read {}", args.config.display()))?;
    let file: GatewayFile = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid config", args.config.display()))?;
    let (sip, sink) = super::sip::prepare(file.sip, &args.config, args.events).await?;
    serve(Gateway {
        sip,
        admin: file.admin,
        node: file.node,
        store: file.store,
        sink,
        data_dir: args.data_dir,
        tenant_files: args.tenants,
        seeds: Vec::new(),
    })
    .await
}

/// What a gateway is started with.
#[derive(Debug)]
pub(crate) struct Gateway {
    pub sip: SipConfig,
    pub admin: AdminConfig,
    pub node: NodeConfig,
    pub store: StoreConfig,
    pub sink: EventSink,
    pub data_dir: PathBuf,
    pub tenant_files: Vec<PathBuf>,
    /// Tenants given as parsed configs (the demo's), with their JSON form.
    pub seeds: Vec<(TenantConfig, serde_json::Value)>,
}

/// Runs the gateway until SIGTERM or Ctrl-C, then drains.
pub(crate) async fn serve(g: Gateway) -> anyhow::Result<()> {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: crate::paths::code_cache_dir(),
        ..RuntimeConfig::default()
    })?;
    let speech = crate::speech::Speech::new(None)?;
    let options = StoreOptions {
        postgres: g.store.postgres.clone(),
        node_id: g.node.id.clone(),
    };
    let plane = ControlPlane::open_with(&g.data_dir, runtime, speech.clone(), options)
        .await
        .map_err(|e| anyhow::anyhow!("control plane: {e}"))?;
    plane.set_max_upload(g.admin.max_upload_mb << 20);
    tracing::info!(
        "node `{}`, store {}",
        plane.node_id(),
        if plane.is_shared() {
            "PostgreSQL (shared)"
        } else {
            "SQLite"
        }
    );
    for f in &g.tenant_files {
        let id = plane
            .provision_file(f, "cli")
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        tracing::info!("tenant `{id}` provisioned from {}", f.display());
    }
    for (config, value) in g.seeds {
        plane
            .provision(config, value, "cli")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    plane.recover().await;
    plane.spawn_retention();
    plane.spawn_alerts();
    if let Some(path) = plane
        .ensure_operator_token()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        tracing::info!(
            "the first operator token is in {} (log in to the dashboard with it)",
            path.display()
        );
    }
    let sink = plane.event_sink(g.sink);
    let server = crate::sip::ua::SipServer::start_full(
        g.sip,
        sink,
        plane.tenants.clone(),
        speech,
        plane.draining.clone(),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(g.admin.listen)
        .await
        .with_context(|| format!("admin API: cannot listen on {}", g.admin.listen))?;
    let admin_addr = listener.local_addr()?;
    let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
    let app = crate::control::api::router(plane.clone());
    let admin = tokio::spawn(async move {
        let shutdown = async {
            let _ = admin_stopped.await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!("admin API stopped: {e}");
        }
    });
    super::sip::announce(&server);
    println!("admin listening on http://{admin_addr}");
    tracing::info!("admin API and dashboard on http://{admin_addr}");
    spawn_reload_on_hangup(&plane);

    crate::cli::shutdown_signal().await;
    let deadline = Duration::from_secs(g.admin.drain_timeout_s);
    tracing::info!(
        "draining: new calls get 503; calls in progress have {}s to finish",
        deadline.as_secs()
    );
    plane
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let cut = server.drain(deadline).await;
    if cut > 0 {
        tracing::warn!("{cut} call(s) were still going at the drain deadline and were ended");
    }
    // Let the last records reach the store before the process ends.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop_admin.send(());
    let _ = tokio::time::timeout(Duration::from_secs(2), admin).await;
    server.abort();
    tracing::info!("stopped");
    Ok(())
}

/// SIGHUP re-reads the tenants from the store (after `voxgate tenant import`).
fn spawn_reload_on_hangup(plane: &Arc<ControlPlane>) {
    #[cfg(unix)]
    {
        let plane = Arc::downgrade(plane);
        tokio::spawn(async move {
            let Ok(mut hangup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hangup.recv().await.is_some() {
                let Some(p) = plane.upgrade() else { break };
                match p.rebuild().await {
                    Ok(()) => tracing::info!("tenants re-read from the store"),
                    Err(e) => tracing::error!("tenants not re-read: {e}"),
                }
            }
        });
    }
}
