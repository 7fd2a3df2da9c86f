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
    /// Where SIP listens (UDP and TCP).
    #[arg(long, default_value = "127.0.0.1:5060")]
    sip_listen: SocketAddr,
    /// Directory with the built demo plugins (`demo_shop.wasm` …).
    #[arg(long)]
    plugins: Option<PathBuf>,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            erp_listen: SocketAddr::from(([127, 0, 0, 1], 8700)),
            sip_listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
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
    let sip = start_demo_sip(args.sip_listen).await?;
    tracing::info!(
        "voxgate is running: call sip:100@{} (UDP or TCP) to hear the greeting; press Ctrl-C to stop",
        args.sip_listen
    );
    crate::cli::shutdown_signal().await;
    sip.abort();
    tracing::info!("stopping");
    Ok(())
}

/// The demo's SIP side: the demo numbers answer with a greeting.
async fn start_demo_sip(listen: SocketAddr) -> anyhow::Result<crate::sip::ua::SipServer> {
    let dir = crate::paths::code_cache_dir()
        .and_then(|d| d.parent().map(|p| p.join("demo")))
        .unwrap_or_else(|| std::env::temp_dir().join("voxgate-demo"));
    tokio::fs::create_dir_all(&dir).await?;
    let greeting = dir.join("greeting.wav");
    if !greeting.exists() {
        synthesize_greeting(&greeting).await?;
    }
    let config: crate::sip::config::SipConfig = toml::from_str(&format!(
        r#"
listen = ["udp:{listen}", "tcp:{listen}"]

[[routes]]
number = "100"
prompt = "{g}"

[[routes]]
number = "+38515559000"
prompt = "{g}"
"#,
        g = greeting.display()
    ))?;
    Ok(crate::sip::ua::SipServer::start(config, crate::sip::events::EventSink::none()).await?)
}

/// The greeting, spoken by espeak-ng when it is installed (scripts/setup installs it),
/// else a short chime so the demo still answers with sound.
async fn synthesize_greeting(path: &std::path::Path) -> anyhow::Result<()> {
    let text = "Welcome to Kvarner Home and Garden. You are talking to voxgate.";
    let spoken = tokio::process::Command::new("espeak-ng")
        .arg("-w")
        .arg(path)
        .arg(text)
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !spoken {
        tracing::warn!("espeak-ng is not installed: the demo greets with a chime");
        let pcm: Vec<i16> = (0..16_000)
            .map(|i| {
                let f = if i < 8000 { 660.0 } else { 880.0 };
                ((std::f32::consts::TAU * f * i as f32 / 8000.0).sin() * 6000.0) as i16
            })
            .collect();
        crate::media::audio_file::write_wav(path, 8000, &pcm)?;
    }
    Ok(())
}
