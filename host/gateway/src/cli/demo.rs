//! `voxgate run` (the demo gateway with embedded defaults) and `voxgate demo-erp`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context;
use clap::Args;
use voxgate_runtime::{AllowedHost, CallContext, Runtime, RuntimeConfig, TenantEnv, TenantPlugins};

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Where the embedded demo ERP listens.
    #[arg(long, default_value = "127.0.0.1:8700")]
    erp_listen: SocketAddr,
    /// Directory with the built demo plugins (`demo_shop.wasm` …).
    #[arg(long)]
    plugins: Option<PathBuf>,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            erp_listen: SocketAddr::from(([127, 0, 0, 1], 8700)),
            plugins: None,
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

/// The demo: the shop's ERP, the plugin runtime with the demo tenant bound to the
/// demo-shop plugin, checked end to end, then serving until interrupted.
pub(super) async fn run(args: RunArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.erp_listen)
        .await
        .with_context(|| format!("cannot start the demo ERP on {}", args.erp_listen))?;
    let erp_addr = listener.local_addr()?;
    let shop = voxgate_demo_erp::Shop::seeded(SystemTime::now());
    tokio::spawn(voxgate_demo_erp::serve(listener, shop));
    tracing::info!("demo ERP listening on http://{erp_addr}");

    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: crate::paths::code_cache_dir(),
        ..RuntimeConfig::default()
    })?;
    let dir = args.plugins.unwrap_or_else(crate::paths::plugins_dir);
    let path = dir.join("demo_shop.wasm");
    let bytes = tokio::fs::read(&path).await.with_context(|| {
        format!(
            "cannot read the demo plugin {}; build it with scripts/build-plugins",
            path.display()
        )
    })?;
    let rt = runtime.clone();
    let version = tokio::task::spawn_blocking(move || rt.load("demo-shop", &bytes)).await??;

    let env = TenantEnv::builder("demo")
        .allow_host(AllowedHost::parse(&erp_addr.to_string())?)
        .config("erp-base-url", format!("http://{erp_addr}"))
        .build();
    let tenant = TenantPlugins::new(runtime, env);
    tenant.activate(version.clone(), None)?;
    let caps: Vec<&str> = version.capabilities().iter().map(|c| c.name()).collect();
    tracing::info!(
        plugin = version.name(),
        version = version.short_id(),
        "tenant `demo` serves {}",
        caps.join(", ")
    );

    // An end-to-end check through the sandbox, so a broken setup shows at start.
    let session = tenant.session("startup-check");
    let ctx = CallContext {
        tenant: "demo".into(),
        call_id: "startup-check".into(),
        caller: String::new(),
        called: String::new(),
        language: "en".into(),
        idempotency_key: None,
    };
    match session.answer(&ctx, "what are your opening hours").await {
        Ok(a) => tracing::info!("plugin check passed: {}", a.text),
        Err(e) => tracing::warn!("plugin check failed: {e}"),
    }
    tracing::info!("voxgate is running; press Ctrl-C to stop");
    crate::cli::shutdown_signal().await;
    tracing::info!("stopping");
    Ok(())
}
