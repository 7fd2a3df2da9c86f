//! `voxgate plugin check`, `call` and `test`: what an integrator runs on a freshly built
//! component before uploading it, with or without the real systems behind it (`--record`
//! keeps outbound HTTP on a tape, `--replay` serves it back offline).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;
use voxgate_runtime::suite::{self, Suite};
use voxgate_runtime::{
    AllowedHost, CallContext, CallError, HttpTape, Limits, PluginVersion, Runtime, RuntimeConfig,
    TenantEnv, TenantEnvBuilder, call_error_json,
};

// Parsed once at start-up; the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(super) enum PluginCommand {
    /// Validate a component: WIT version, interfaces it serves, imports, and what is
    /// wrong if anything. Exits 2 when the file cannot be a plugin.
    Check {
        file: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Call one function in the sandbox and print the result as JSON.
    Call(CallArgs),
    /// Run a conformance suite (calls with expected results or error kinds) against a
    /// component; exits 1 when a case fails.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub(super) struct CallArgs {
    /// The component (`.wasm`).
    file: PathBuf,
    /// INTERFACE.FUNCTION, e.g. `contacts.lookup-by-phone`.
    function: String,
    /// The arguments after the call context, as a JSON array, e.g. '["+442079460123"]'.
    #[arg(default_value = "[]")]
    args: String,
    /// Call context: the caller's number (E.164).
    #[arg(long, default_value = "")]
    caller: String,
    /// Call context: the number called (E.164).
    #[arg(long, default_value = "")]
    called: String,
    /// Call context: conversation language.
    #[arg(long, default_value = "en")]
    language: String,
    /// Call context: idempotency key (needed by transactions.prepare).
    #[arg(long)]
    idempotency_key: Option<String>,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

#[derive(Debug, Args)]
pub(super) struct TestArgs {
    /// The component (`.wasm`).
    file: PathBuf,
    /// The suite: a folder holding `suite.json`, or a suite file.
    #[arg(long)]
    suite: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// The tenant a command's plugin runs as: what it may reach, its settings, its limits,
/// and whether its outbound HTTP is recorded or replayed.
#[derive(Debug, Args)]
pub(super) struct SandboxArgs {
    /// Allow outbound HTTP to HOST or HOST:PORT (repeatable). Nothing is allowed otherwise.
    #[arg(long = "allow-host", value_name = "HOST")]
    allow_hosts: Vec<String>,
    /// A tenant setting KEY=VALUE (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// A tenant secret KEY=VALUE (repeatable).
    #[arg(long = "secret", value_name = "KEY=VALUE")]
    secrets: Vec<String>,
    /// Call context: tenant id.
    #[arg(long, default_value = "cli")]
    tenant: String,
    /// Deadline for each call in milliseconds.
    #[arg(long, default_value_t = 5000)]
    deadline_ms: u64,
    /// Memory limit for an instance in MiB.
    #[arg(long, default_value_t = 64)]
    memory_mib: usize,
    /// Keep every outbound HTTP exchange in DIR/http-exchanges.json (the requests go out
    /// for real).
    #[arg(long, value_name = "DIR", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Answer outbound HTTP from DIR/http-exchanges.json instead of the network.
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
}

pub(super) async fn run(cmd: PluginCommand) -> ExitCode {
    match cmd {
        PluginCommand::Check { file, json } => check(file, json).await,
        PluginCommand::Call(args) => call(args).await,
        PluginCommand::Test(args) => test(args).await,
    }
}

fn runtime() -> Result<Runtime, ExitCode> {
    let config = RuntimeConfig {
        cache_dir: crate::paths::code_cache_dir(),
        max_instances: 16,
        ..RuntimeConfig::default()
    };
    Runtime::new(config).map_err(|e| {
        eprintln!("voxgate: {e}");
        ExitCode::FAILURE
    })
}

/// Reads and loads a component off the reactor; on failure, says why and gives the
/// exit code (2: not a usable plugin, 1: could not even read it).
async fn load(runtime: &Runtime, file: &PathBuf) -> Result<Arc<PluginVersion>, (String, u8)> {
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|e| (format!("cannot read {}: {e}", file.display()), 1))?;
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into());
    let rt = runtime.clone();
    tokio::task::spawn_blocking(move || rt.load(&name, &bytes))
        .await
        .map_err(|e| (format!("loading was interrupted: {e}"), 1))?
        .map_err(|e| (e.to_string(), 2))
}

async fn check(file: PathBuf, as_json: bool) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match load(&runtime, &file).await {
        Ok(v) => {
            if as_json {
                let out = json!({
                    "file": file.display().to_string(),
                    "ok": true,
                    "id": v.id(),
                    "size": v.size(),
                    "wit-version": format!("voxgate:plugin@{}", v.wit_version()),
                    "interfaces": v.capabilities().iter().map(|c| c.name()).collect::<Vec<_>>(),
                    "imports": v.imports(),
                    "exports": v.exports(),
                });
                println!("{out:#}");
            } else {
                println!("{}: ok", file.display());
                println!("  id:          sha256:{}", v.id());
                println!("  size:        {} bytes", v.size());
                println!("  WIT version: voxgate:plugin@{}", v.wit_version());
                let caps: Vec<&str> = v.capabilities().iter().map(|c| c.name()).collect();
                println!("  interfaces:  {} ({})", caps.join(", "), caps.len());
                println!("  imports:");
                for i in v.imports() {
                    println!("    {i}");
                }
            }
            ExitCode::SUCCESS
        }
        Err((message, code)) => {
            if as_json {
                let out =
                    json!({"file": file.display().to_string(), "ok": false, "error": message});
                println!("{out:#}");
            } else {
                eprintln!("{}: rejected: {message}", file.display());
            }
            ExitCode::from(code)
        }
    }
}

fn split_kv(items: &[String], what: &str) -> Result<Vec<(String, String)>, String> {
    items
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("--{what} takes KEY=VALUE, got `{kv}`"))
        })
        .collect()
}

/// The tenant a command runs its plugin as: a suite's settings (if any) overlaid with
/// the command line's, which win.
fn tenant_env(
    args: &SandboxArgs,
    suite: Option<&Suite>,
) -> Result<(TenantEnvBuilder, Option<HttpTape>), String> {
    let limits = Limits {
        call_deadline: Duration::from_millis(args.deadline_ms),
        http_timeout: Duration::from_millis(args.deadline_ms),
        memory_bytes: args.memory_mib << 20,
        ..Limits::default()
    };
    let mut env = TenantEnv::builder(&args.tenant).limits(limits);
    let suite_hosts = suite.map(|s| s.allow_hosts.as_slice()).unwrap_or_default();
    for host in suite_hosts.iter().chain(&args.allow_hosts) {
        env = env.allow_host(AllowedHost::parse(host).map_err(|e| e.to_string())?);
    }
    let mut config = suite.map(|s| s.config.clone()).unwrap_or_default();
    config.extend(split_kv(&args.config, "config")?);
    let mut secrets = suite.map(|s| s.secrets.clone()).unwrap_or_default();
    secrets.extend(split_kv(&args.secrets, "secret")?);
    for (k, v) in config {
        env = env.config(k, v);
    }
    for (k, v) in secrets {
        env = env.secret(k, v);
    }
    let tape = match (&args.record, &args.replay) {
        (Some(_), _) => Some(HttpTape::record()),
        (None, Some(dir)) => Some(HttpTape::replay(dir).map_err(|e| e.to_string())?),
        (None, None) => None,
    };
    if let Some(t) = &tape {
        env = env.http_tape(t.clone());
    }
    Ok((env, tape))
}

/// Saves a recorded tape, or reports what a replayed one could not answer. Returns a
/// message for stderr and whether all went well.
fn finish_tape(args: &SandboxArgs, tape: Option<&HttpTape>) -> Option<(String, bool)> {
    let tape = tape?;
    if let Some(dir) = &args.record {
        return Some(match tape.save(dir) {
            Ok(path) => (
                format!(
                    "recorded {} HTTP exchange(s) to {}",
                    tape.exchanges().len(),
                    path.display()
                ),
                true,
            ),
            Err(e) => (format!("voxgate: {e}"), false),
        });
    }
    let misses = tape.misses();
    if misses.is_empty() {
        return Some((
            "replay: every request was answered from the tape".into(),
            true,
        ));
    }
    Some((
        format!(
            "replay: {} request(s) had no recorded answer (record again with --record):\n  {}",
            misses.len(),
            misses.join("\n  ")
        ),
        false,
    ))
}

fn fail(value: serde_json::Value, code: u8) -> ExitCode {
    println!("{value:#}");
    ExitCode::from(code)
}

async fn call(args: CallArgs) -> ExitCode {
    let parsed_args: serde_json::Value = match serde_json::from_str(&args.args) {
        Ok(v) => v,
        Err(e) => {
            return fail(
                json!({"error": {"kind": "usage", "message": format!("arguments are not JSON: {e}")}}),
                2,
            );
        }
    };
    let (tenant, tape) = match tenant_env(&args.sandbox, None) {
        Ok((env, tape)) => (env.build(), tape),
        Err(message) => return fail(json!({"error": {"kind": "usage", "message": message}}), 2),
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let version = match load(&runtime, &args.file).await {
        Ok(v) => v,
        Err((message, code)) => {
            return fail(json!({"error": {"kind": "load", "message": message}}), code);
        }
    };
    let ctx = CallContext {
        tenant: args.sandbox.tenant.clone(),
        call_id: format!("cli-{}", std::process::id()),
        caller: args.caller.clone(),
        called: args.called.clone(),
        language: args.language.clone(),
        idempotency_key: args.idempotency_key.clone(),
    };
    let (result, report) = runtime
        .call_json(&tenant, &version, &ctx, &args.function, &parsed_args)
        .await;
    let denied: Vec<String> = report.map(|r| r.denied_hosts).unwrap_or_default();
    if let Some((message, _)) = finish_tape(&args.sandbox, tape.as_ref()) {
        eprintln!("{message}");
    }
    match result {
        Ok(value) => {
            println!("{value:#}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut out = call_error_json(&e);
            if !denied.is_empty() {
                let hosts: Vec<String> = denied
                    .iter()
                    .map(|h| {
                        format!("host {h} is not allowed for this tenant; pass --allow-host {h}")
                    })
                    .collect();
                out["denied"] = json!(hosts);
            }
            let code = if matches!(e, CallError::BadCall { .. }) {
                2
            } else {
                1
            };
            fail(out, code)
        }
    }
}

async fn test(args: TestArgs) -> ExitCode {
    let usage = |message: String| {
        eprintln!("voxgate: {message}");
        ExitCode::from(2)
    };
    let suite = match Suite::load(&args.suite) {
        Ok(s) => s,
        Err(e) => return usage(e.to_string()),
    };
    let (tenant, tape) = match tenant_env(&args.sandbox, Some(&suite)) {
        Ok(t) => t,
        Err(message) => return usage(message),
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let version = match load(&runtime, &args.file).await {
        Ok(v) => v,
        Err((message, code)) => {
            eprintln!("{}: rejected: {message}", args.file.display());
            return ExitCode::from(code);
        }
    };
    let outcomes = suite::run(&runtime, &tenant, &version, &suite).await;
    let skipped = outcomes.iter().filter(|o| o.skipped).count();
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let failed = outcomes.len() - skipped - passed;
    let tape_note = finish_tape(&args.sandbox, tape.as_ref());
    let tape_ok = tape_note.as_ref().is_none_or(|(_, ok)| *ok);
    if args.json {
        let cases: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| {
                json!({
                    "name": o.name,
                    "function": o.function,
                    "passed": o.passed,
                    "skipped": o.skipped,
                    "detail": o.detail,
                    "answer": o.answer,
                    "ms": o.duration.as_secs_f64() * 1000.0,
                })
            })
            .collect();
        let out = json!({
            "suite": suite.name,
            "plugin": args.file.display().to_string(),
            "id": version.id(),
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "tape": tape_note.as_ref().map(|(m, ok)| json!({"ok": ok, "message": m})),
            "cases": cases,
        });
        println!("{out:#}");
    } else {
        println!(
            "suite {}: {} case(s) against {} (sha256:{})",
            suite.name,
            outcomes.len(),
            args.file.display(),
            version.short_id()
        );
        for o in &outcomes {
            let ms = o.duration.as_secs_f64() * 1000.0;
            if o.passed {
                println!("  ok    {}  ({}, {ms:.1} ms)", o.name, o.function);
            } else if o.skipped {
                println!("  skip  {}  ({})", o.name, o.detail);
            } else {
                println!("  FAIL  {}  ({}, {ms:.1} ms)", o.name, o.function);
                println!("        {}", o.detail);
                println!("        answer: {}", o.answer);
            }
        }
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    }
    if let Some((message, _)) = &tape_note {
        eprintln!("{message}");
    }
    // A suite none of whose cases apply proves nothing about the plugin.
    if failed == 0 && passed > 0 && tape_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
