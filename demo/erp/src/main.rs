//! `voxgate-demo-erp --listen 127.0.0.1:8700 [--api-key KEY]`
//!
//! The first line on stdout is `listening on http://ADDR`, so a test that starts it
//! with `--listen 127.0.0.1:0` learns the port; logs go to stderr.

use std::io::{IsTerminal, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;
use voxgate_demo_erp::{Shop, serve_with_shutdown};

#[derive(Debug, Parser)]
#[command(
    name = "voxgate-demo-erp",
    version,
    about = "Demo ERP of Kvarner Home & Garden for voxgate"
)]
struct Args {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: String,

    /// Require `Authorization: Bearer KEY` on every route except /healthz.
    #[arg(long, env = "VOXGATE_DEMO_ERP_API_KEY")]
    api_key: Option<String>,

    /// Seed the data relative to this Unix time instead of now, for reproducible runs.
    #[arg(long, value_name = "UNIX_SECONDS")]
    seed_time: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();

    let now = args
        .seed_time
        .map_or_else(SystemTime::now, |s| UNIX_EPOCH + Duration::from_secs(s));
    let mut shop = Shop::seeded(now);
    if let Some(key) = args.api_key {
        shop = shop.with_api_key(key);
    }

    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr().context("no local address")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}").context("stdout")?;
    stdout.flush().context("stdout")?;
    drop(stdout);
    tracing::info!(%addr, auth = shop.api_key().is_some(), "demo ERP ready");

    serve_with_shutdown(listener, shop, shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
