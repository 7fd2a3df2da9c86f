//! `voxgate` subcommands.

mod chat;
mod demo;
mod plugin;
mod serve;
mod sip;
mod tenant;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// voxgate: a voice gateway for AI phone assistants.
#[derive(Debug, Parser)]
#[command(name = "voxgate", version, about, propagate_version = true)]
pub struct Cli {
    /// Log filter, e.g. `info`, `voxgate=debug` (overrides RUST_LOG).
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

// Parsed once at start-up; the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway with its embedded demo defaults (the default command).
    Run(demo::RunArgs),
    /// The gateway with its control plane: SIP, tenants from the store, the admin API
    /// and dashboard; drains on SIGTERM.
    Serve(serve::ServeArgs),
    /// Tenants in the store: export and import one tenant, tokens.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// A tenant's dialog without SIP: type what the caller says, read the agent.
    Chat(chat::ChatArgs),
    /// Inspect, validate and call plugin components.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// SIP tools for operators.
    #[command(subcommand)]
    Sip(sip::SipCommand),
    /// Serve the demo ERP (the fictional shop the demo plugins talk to).
    DemoErp(demo::DemoErpArgs),
    /// Benchmarks; results are printed and written under `bench-results/`.
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

/// Parses the command line, runs the command, and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log.as_deref());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("voxgate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli
        .command
        .unwrap_or(Command::Run(demo::RunArgs::default()));
    runtime.block_on(async move {
        match command {
            Command::Run(args) => report(demo::run(args).await),
            Command::Serve(args) => report(serve::run(args).await),
            Command::Tenant(cmd) => report(tenant::run(cmd).await),
            Command::Chat(args) => report(chat::run(args).await),
            Command::Plugin(cmd) => plugin::run(cmd).await,
            Command::Sip(cmd) => sip::run(cmd).await,
            Command::DemoErp(args) => report(demo::demo_erp(args).await),
            Command::Bench(cmd) => report(crate::bench::run(cmd).await),
        }
    })
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("voxgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = match filter {
        Some(f) => EnvFilter::new(f),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    // Logs go to stderr so that commands whose stdout is data (JSON) stay parseable.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
