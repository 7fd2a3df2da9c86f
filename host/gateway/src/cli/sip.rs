//! `voxgate sip lint`: what voxgate would do with a captured SIP message.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use voxgate_proto::sip::{Verdict, lint};

#[derive(Debug, Subcommand)]
pub(super) enum SipCommand {
    /// Answer calls: SIP over UDP/TCP(/TLS) as the config file's `[sip]` table says.
    /// The first line on stdout lists the bound addresses (`sip listening on udp:… tcp:…`).
    Serve {
        /// TOML file with a `[sip]` table.
        #[arg(long)]
        config: PathBuf,
        /// Write call events as JSON lines here (overrides `events_file`).
        #[arg(long)]
        events: Option<PathBuf>,
        /// Tenant files: each tenant answers its numbers with its agents (repeatable).
        #[arg(long = "tenant")]
        tenants: Vec<PathBuf>,
        /// Tenants' data: transaction journals and call records.
        #[arg(long, default_value_os_t = crate::paths::data_dir())]
        data_dir: PathBuf,
    },
    /// For each file print `FILE<TAB>VERDICT<TAB>REASON`, where VERDICT is `accept`,
    /// `reject`, `drop` or `answer:NNN`. Exits 1 if any file is rejected.
    Lint {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub(super) async fn run(cmd: SipCommand) -> ExitCode {
    match cmd {
        SipCommand::Serve {
            config,
            events,
            tenants,
            data_dir,
        } => match serve(config, events, tenants, data_dir).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("voxgate: {e:#}");
                ExitCode::FAILURE
            }
        },
        SipCommand::Lint { files } => {
            let mut rejected = false;
            let mut unreadable = false;
            for file in files {
                // Captured messages are raw bytes (NULs, non-UTF-8 are legal in places).
                match std::fs::read(&file) {
                    Ok(bytes) => {
                        let verdict = lint(&bytes);
                        rejected |= matches!(verdict, Verdict::Reject { .. });
                        let reason = one_line(verdict.reason());
                        println!("{}\t{verdict}\t{reason}", file.display());
                    }
                    Err(e) => {
                        unreadable = true;
                        eprintln!("{}: cannot read: {e}", file.display());
                    }
                }
            }
            if unreadable {
                ExitCode::from(2)
            } else if rejected {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Reasons may quote message bytes; keep each report on one line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A gateway config file as far as SIP is concerned.
#[derive(Debug, serde::Deserialize)]
struct FileConfig {
    sip: crate::sip::config::SipConfig,
}

async fn serve(
    path: PathBuf,
    events: Option<PathBuf>,
    tenant_files: Vec<PathBuf>,
    data_dir: PathBuf,
) -> anyhow::Result<()> {
    use anyhow::Context;

    let text = tokio::fs::read_to_string(&path)
        .await
        .with_context(|| format!("cannot read {}", path.display()))?;
    let file: FileConfig = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid config", path.display()))?;
    let (sip, sink) = prepare(file.sip, &path, events).await?;
    let speech = crate::speech::Speech::new(None)?;
    let mut tenants = crate::tenant::watch::Tenants::default();
    if !tenant_files.is_empty() {
        let runtime = voxgate_runtime::Runtime::new(voxgate_runtime::RuntimeConfig {
            cache_dir: crate::paths::code_cache_dir(),
            ..voxgate_runtime::RuntimeConfig::default()
        })?;
        let loader = crate::tenant::watch::Loader {
            files: tenant_files,
            runtime,
            speech: speech.clone(),
            data_dir,
        };
        let directory = loader.load().await?;
        for t in directory.all() {
            t.recover(crate::dialog::journal::Claim::AtStart).await;
        }
        tenants = crate::tenant::watch::Tenants::new(directory);
        crate::tenant::watch::spawn(tenants.clone(), loader);
    }
    let server = crate::sip::ua::SipServer::start_with(sip, sink, tenants, speech).await?;
    announce(&server);
    crate::cli::shutdown_signal().await;
    server.abort();
    Ok(())
}

/// Prints where SIP listens, as the first line on stdout (tests and scripts read it).
pub(super) fn announce(server: &crate::sip::ua::SipServer) {
    use voxgate_proto::sip::Transport;
    let mut listening = Vec::new();
    for (name, t) in [
        ("udp", Transport::Udp),
        ("tcp", Transport::Tcp),
        ("tls", Transport::Tls),
    ] {
        if let Some(a) = server.local_addr(t) {
            listening.push(format!("{name}:{a}"));
        }
    }
    println!("sip listening on {}", listening.join(" "));
    tracing::info!("sip listening on {}", listening.join(" "));
}

/// Resolves a `[sip]` table's paths against its file's folder, creates the recording
/// folder, and opens the events file (`events` overrides the table's).
pub(super) async fn prepare(
    mut sip: crate::sip::config::SipConfig,
    path: &std::path::Path,
    events: Option<PathBuf>,
) -> anyhow::Result<(crate::sip::config::SipConfig, crate::sip::events::EventSink)> {
    use anyhow::Context;
    if let Some(e) = events {
        sip.events_file = Some(e);
    }
    // Relative paths in the config are relative to the config file.
    let base = path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let resolve = |p: &mut Option<PathBuf>| {
        if let Some(x) = p.as_mut()
            && x.is_relative()
        {
            *x = base.join(&*x);
        }
    };
    resolve(&mut sip.record_dir);
    resolve(&mut sip.events_file);
    resolve(&mut sip.tls_cert);
    resolve(&mut sip.tls_key);
    for r in &mut sip.routes {
        resolve(&mut r.prompt);
    }
    if let Some(dir) = &sip.record_dir {
        tokio::fs::create_dir_all(dir)
            .await
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let sink = match &sip.events_file {
        Some(p) => crate::sip::events::EventSink::to_file(p)
            .await
            .with_context(|| format!("cannot open {}", p.display()))?,
        None => crate::sip::events::EventSink::none(),
    };
    Ok((sip, sink))
}
