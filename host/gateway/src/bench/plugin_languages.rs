//! The same plugin written in several languages, side by side: size, compile time, a
//! fresh-instance call with and without outbound HTTP, and memory per instance. The Rust
//! build is the baseline every ratio is taken against, in the same run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::json;
use voxgate_runtime::{AllowedHost, CallContext, Runtime, RuntimeConfig, TenantEnv};

use super::Percentiles;

#[derive(Debug, clap::Args)]
pub struct LanguagesArgs {
    /// A plugin to measure as LANGUAGE=FILE (repeatable; the first is the baseline).
    /// Every one must serve `contacts` through the demo ERP, as the demo plugins do.
    #[arg(long = "plugin", value_name = "LANGUAGE=FILE", required = true)]
    plugins: Vec<String>,
    /// How long the plugin's build took, as LANGUAGE=SECONDS (measured by the caller).
    #[arg(long = "build-seconds", value_name = "LANGUAGE=SECONDS")]
    build_seconds: Vec<String>,
    /// Measured calls per plugin and kind of call.
    #[arg(long, default_value_t = 2000)]
    iterations: usize,
    /// Where to write results.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
}

#[derive(Debug, Serialize)]
struct LanguageResult {
    language: String,
    file: String,
    size_bytes: u64,
    build_seconds: Option<f64>,
    /// Validating and compiling the component to native code (done once per upload).
    compile_ms: f64,
    /// A call that fails before any I/O (no ERP address set): instantiation, the call
    /// and an error value back.
    call_no_io: Percentiles,
    /// `contacts.lookup-by-phone` answered by the demo ERP over loopback HTTP.
    call_erp: Percentiles,
    /// Linear memory of one instance after the ERP call.
    memory_bytes: usize,
    /// p50 of this language / p50 of the baseline.
    ratio_no_io_p50: f64,
    ratio_erp_p50: f64,
}

#[derive(Debug, Serialize)]
struct LanguagesResult {
    machine_cores: usize,
    iterations: usize,
    baseline: String,
    languages: Vec<LanguageResult>,
}

fn split(item: &str, what: &str) -> anyhow::Result<(String, String)> {
    item.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .with_context(|| format!("--{what} takes LANGUAGE=VALUE, got `{item}`"))
}

pub async fn run(args: LanguagesArgs) -> anyhow::Result<()> {
    let shop = voxgate_demo_erp::Shop::seeded(std::time::SystemTime::now());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(voxgate_demo_erp::serve(listener, shop));

    let mut builds = std::collections::BTreeMap::new();
    for b in &args.build_seconds {
        let (lang, secs) = split(b, "build-seconds")?;
        builds.insert(lang, secs.parse::<f64>().context("build seconds")?);
    }
    // No code cache: the compile time is part of what is measured.
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: None,
        max_instances: 8,
        ..RuntimeConfig::default()
    })?;
    let with_erp = TenantEnv::builder("bench")
        .allow_host(AllowedHost::parse(&addr.to_string())?)
        .config("erp-base-url", format!("http://{addr}"))
        .build();
    let without_erp = TenantEnv::builder("bench").build();
    let ctx = CallContext {
        tenant: "bench".into(),
        call_id: "bench".into(),
        caller: "+442079460123".into(),
        called: "+38515559000".into(),
        language: "en".into(),
        idempotency_key: None,
    };
    let phone = json!(["+442079460123"]);

    let mut results: Vec<LanguageResult> = Vec::new();
    for item in &args.plugins {
        let (language, file) = split(item, "plugin")?;
        let bytes = std::fs::read(&file).with_context(|| format!("cannot read {file}"))?;
        let t = Instant::now();
        let rt = runtime.clone();
        let name = language.clone();
        let bytes_for_load = bytes.clone();
        let version = tokio::task::spawn_blocking(move || rt.load(&name, &bytes_for_load))
            .await?
            .with_context(|| format!("{file} is not a usable plugin"))?;
        let compile_ms = t.elapsed().as_secs_f64() * 1000.0;

        let call =
            async |env: &Arc<TenantEnv>, expect_ok: bool| -> anyhow::Result<(Duration, usize)> {
                let t = Instant::now();
                let (result, report) = runtime
                    .call_json(env, &version, &ctx, "contacts.lookup-by-phone", &phone)
                    .await;
                let d = t.elapsed();
                match (result, expect_ok) {
                    (Ok(v), true) if v["id"] == "c-1005" => {}
                    (Err(e), false) if e.is_plugin_answer() => {}
                    (other, _) => bail!("{language}: unexpected answer {other:?}"),
                }
                Ok((d, report.map_or(0, |r| r.memory_bytes)))
            };
        // Warm-up: pool slots, the ERP's connection handling, page cache.
        for _ in 0..20 {
            call(&without_erp, false).await?;
            call(&with_erp, true).await?;
        }
        let mut no_io = Vec::with_capacity(args.iterations);
        let mut erp = Vec::with_capacity(args.iterations);
        let mut memory = 0;
        for _ in 0..args.iterations {
            no_io.push(call(&without_erp, false).await?.0);
            let (d, m) = call(&with_erp, true).await?;
            erp.push(d);
            memory = m;
        }
        results.push(LanguageResult {
            file: file.clone(),
            size_bytes: bytes.len() as u64,
            build_seconds: builds.get(&language).copied(),
            compile_ms,
            call_no_io: Percentiles::of(&mut no_io),
            call_erp: Percentiles::of(&mut erp),
            memory_bytes: memory,
            ratio_no_io_p50: 0.0,
            ratio_erp_p50: 0.0,
            language,
        });
    }
    let (base_no_io, base_erp) = match results.first() {
        Some(b) => (b.call_no_io.p50_us, b.call_erp.p50_us),
        None => bail!("no plugins given"),
    };
    for r in &mut results {
        r.ratio_no_io_p50 = r.call_no_io.p50_us / base_no_io.max(f64::EPSILON);
        r.ratio_erp_p50 = r.call_erp.p50_us / base_erp.max(f64::EPSILON);
    }
    let result = LanguagesResult {
        machine_cores: super::cores(),
        iterations: args.iterations,
        baseline: results
            .first()
            .map(|r| r.language.clone())
            .unwrap_or_default(),
        languages: results,
    };

    let mut md = format!(
        "# plugins by language\n\n`contacts.lookup-by-phone` of each language's demo plugin, \
         {} calls per kind, {} cores, a fresh instance per call. Ratios are p50 against {} in \
         this run.\n\n\
         | language | build s | size MB | compile ms | no-I/O call p50 / p99 µs | ratio | ERP call p50 / p99 µs | ratio | memory per instance MB |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        result.iterations, result.machine_cores, result.baseline
    );
    for r in &result.languages {
        md.push_str(&format!(
            "| {} | {} | {:.2} | {:.0} | {:.0} / {:.0} | {:.1}× | {:.0} / {:.0} | {:.1}× | {:.1} |\n",
            r.language,
            r.build_seconds.map_or("–".to_string(), |s| format!("{s:.1}")),
            r.size_bytes as f64 / 1e6,
            r.compile_ms,
            r.call_no_io.p50_us,
            r.call_no_io.p99_us,
            r.ratio_no_io_p50,
            r.call_erp.p50_us,
            r.call_erp.p99_us,
            r.ratio_erp_p50,
            r.memory_bytes as f64 / (1 << 20) as f64,
        ));
    }
    md.push_str(
        "\nBuild: the kit's build command with its toolchain installed (warm caches). \
         Compile: validation and native compilation at upload, without the code cache. \
         No-I/O call: the plugin is called without its ERP address and answers with an \
         error value, so instantiation and the language runtime's start dominate. ERP \
         call: the lookup answered by the demo ERP on loopback. Memory: the linear memory \
         one instance holds.\n",
    );
    print!("{md}");
    super::write_results(&args.out, "plugin-languages", &md, &result)
}
