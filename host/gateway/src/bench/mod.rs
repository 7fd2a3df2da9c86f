//! Benchmarks behind `voxgate bench …`. Each prints its figures and writes them as JSON
//! and Markdown under the output directory (default `bench-results/`). Figures are
//! reported against a baseline or a target measured in the same run, never asserted as
//! pass/fail times.

mod analytics;
mod plugin_call;
mod plugin_languages;
mod sip_load;
mod speech;
mod voice;

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// A plugin function call in a fresh instance against the same lookup as an HTTP
    /// webhook to a local keep-alive hyper server.
    PluginCall {
        /// Measured calls per side.
        #[arg(long, default_value_t = 20_000)]
        iterations: usize,
        /// The plugin to call (default: static_contacts.wasm in the plugins directory).
        #[arg(long)]
        plugin: Option<PathBuf>,
        /// Where to write results.
        #[arg(long, default_value = "bench-results")]
        out: PathBuf,
    },
    /// The same plugin built in several languages: build time, size, compile time,
    /// fresh-instance call p50/p99 with and without outbound HTTP, memory per instance.
    PluginLanguages(plugin_languages::LanguagesArgs),
    /// SIPp against voxgate's SIP server: calls per second, INVITE → 200 latency,
    /// failed calls, and concurrent calls with media.
    SipLoad(sip_load::SipLoadArgs),
    /// The embedded speech engines: recognizer real-time factor and synthesis time.
    Speech(speech::SpeechArgs),
    /// Post-call analysis of a 5-minute recording: time per step, real-time factor.
    Analytics(analytics::AnalyticsArgs),
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::PluginCall {
            iterations,
            plugin,
            out,
        } => plugin_call::plugin_call(iterations, plugin, out).await,
        BenchCommand::PluginLanguages(args) => plugin_languages::run(args).await,
        BenchCommand::SipLoad(args) => sip_load::run(args).await,
        BenchCommand::Speech(args) => speech::run(args).await,
        BenchCommand::Analytics(args) => analytics::run(args).await,
    }
}

/// Latency percentiles of one side, in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub samples: usize,
}

impl Percentiles {
    pub fn of(samples: &mut [Duration]) -> Percentiles {
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
        };
        Percentiles {
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            max_us: at(1.0),
            samples: samples.len(),
        }
    }
}

/// Writes a benchmark's Markdown and JSON results and says where.
pub(crate) fn write_results<T: Serialize>(
    out: &std::path::Path,
    name: &str,
    md: &str,
    json: &T,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join(format!("{name}.md")), md)?;
    std::fs::write(
        out.join(format!("{name}.json")),
        serde_json::to_vec_pretty(json)?,
    )?;
    println!(
        "\nwritten to {}",
        out.join(format!("{name}.{{md,json}}")).display()
    );
    Ok(())
}

/// The machine's core count, printed with every result.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Percentiles of microsecond samples.
pub(crate) fn percentiles_us(samples: &[u32]) -> Percentiles {
    let mut d: Vec<Duration> = samples
        .iter()
        .map(|&us| Duration::from_micros(u64::from(us)))
        .collect();
    Percentiles::of(&mut d)
}
