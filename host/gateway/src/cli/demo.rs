//! `voxgate run` (the demo gateway with embedded defaults) and `voxgate demo-erp`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Where the embedded demo ERP listens.
    #[arg(long, default_value = "127.0.0.1:8700")]
    erp_listen: SocketAddr,
    /// Where SIP listens (UDP and TCP).
    #[arg(long, default_value = "127.0.0.1:5060")]
    sip_listen: SocketAddr,
    /// Directory with the built demo plugins (`demo_shop.wasm` …).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// Where the admin API and dashboard listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    admin_listen: SocketAddr,
    /// The store: the control plane and the tenants' data.
    #[arg(long, default_value_os_t = crate::paths::data_dir())]
    data_dir: PathBuf,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            erp_listen: SocketAddr::from(([127, 0, 0, 1], 8700)),
            sip_listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            plugins: None,
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: crate::paths::data_dir(),
        }
    }
}

#[derive(Debug, Args)]
pub(super) struct DemoErpArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: SocketAddr,
    /// Require `Authorization: Bearer KEY` on every request.
    #[arg(long)]
    api_key: Option<String>,
}

pub(super) async fn demo_erp(args: DemoErpArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let mut shop = voxgate_demo_erp::Shop::seeded(SystemTime::now());
    if let Some(key) = args.api_key {
        shop = shop.with_api_key(key);
    }
    println!("listening on http://{}", listener.local_addr()?);
    voxgate_demo_erp::serve_with_shutdown(listener, shop, crate::cli::shutdown_signal()).await?;
    Ok(())
}

/// The embedded demo tenant.
pub(crate) const DEMO_TENANT: &str = include_str!("../../../../demo/tenant.toml");

/// Starts the demo ERP in this process; returns where it listens.
pub(crate) async fn start_demo_erp(listen: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot start the demo ERP on {listen}"))?;
    let addr = listener.local_addr()?;
    let shop = voxgate_demo_erp::Shop::seeded(SystemTime::now());
    tokio::spawn(voxgate_demo_erp::serve(listener, shop));
    tracing::info!("demo ERP listening on http://{addr}");
    Ok(addr)
}

/// The demo tenant, pointed at the demo ERP at `erp` and the plugins in `plugins`
/// (default: where scripts/build-plugins puts them).
pub(crate) fn demo_tenant(
    erp: SocketAddr,
    plugins: Option<PathBuf>,
) -> anyhow::Result<crate::tenant::TenantConfig> {
    let mut config = crate::tenant::TenantConfig::parse(DEMO_TENANT, "embedded demo tenant")?;
    config.allowed_hosts = vec![erp.to_string()];
    config
        .config
        .insert("erp-base-url".into(), format!("http://{erp}"));
    let dir = plugins.unwrap_or_else(crate::paths::plugins_dir);
    for path in config.plugins.values_mut() {
        *path = dir.join(&*path);
    }
    if let Some(missing) = config.plugins.values().find(|p| !p.exists()) {
        anyhow::bail!(
            "the demo plugin {} is missing; build it with scripts/build-plugins",
            missing.display()
        );
    }
    Ok(config)
}

/// The demo: the shop's ERP, the demo tenant on its plugins, answering its numbers
/// over SIP with the dialog engine, with the admin API and dashboard, until
/// interrupted.
pub(super) async fn run(args: RunArgs) -> anyhow::Result<()> {
    let erp_addr = start_demo_erp(args.erp_listen).await?;
    let config = demo_tenant(erp_addr, args.plugins.clone())?;
    let mut value: toml::Value = toml::from_str(DEMO_TENANT)?;
    if let Some(t) = value.as_table_mut() {
        t.insert(
            "allowed_hosts".into(),
            toml::Value::Array(vec![toml::Value::String(erp_addr.to_string())]),
        );
        let settings = t
            .entry("config")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        if let Some(settings) = settings.as_table_mut() {
            settings.insert(
                "erp-base-url".into(),
                toml::Value::String(format!("http://{erp_addr}")),
            );
        }
    }
    let value = serde_json::to_value(value)?;
    let sip: crate::sip::config::SipConfig = toml::from_str(&format!(
        "listen = [\"udp:{l}\", \"tcp:{l}\"]\n",
        l = args.sip_listen
    ))?;
    tracing::info!(
        "voxgate is running: call sip:100@{} (UDP or TCP) or try `voxgate chat --from +442079460123`; press Ctrl-C to stop",
        args.sip_listen
    );
    super::serve::serve(super::serve::Gateway {
        sip,
        admin: super::serve::AdminConfig {
            listen: args.admin_listen,
            ..super::serve::AdminConfig::default()
        },
        node: super::serve::NodeConfig::default(),
        store: super::serve::StoreConfig::default(),
        sink: crate::sip::events::EventSink::none(),
        data_dir: args.data_dir,
        tenant_files: Vec::new(),
        seeds: vec![(config, value)],
    })
    .await
}
