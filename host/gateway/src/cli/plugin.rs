//! `voxgate plugin check` and `voxgate plugin call`: what an integrator runs on a
//! freshly built component before uploading it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;
use voxgate_runtime::{
    AllowedHost, CallContext, CallError, Limits, PluginVersion, Runtime, RuntimeConfig, TenantEnv,
    plugin_error_json,
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
    /// Deadline for the call in milliseconds.
    #[arg(long, default_value_t = 5000)]
    deadline_ms: u64,
    /// Memory limit for the instance in MiB.
    #[arg(long, default_value_t = 64)]
    memory_mib: usize,
}

pub(super) async fn run(cmd: PluginCommand) -> ExitCode {
    match cmd {
        PluginCommand::Check { file, json } => check(file, json).await,
        PluginCommand::Call(args) => call(args).await,
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

fn tenant_env(args: &CallArgs) -> Result<Arc<TenantEnv>, String> {
    let limits = Limits {
        call_deadline: Duration::from_millis(args.deadline_ms),
        http_timeout: Duration::from_millis(args.deadline_ms),
        memory_bytes: args.memory_mib << 20,
        ..Limits::default()
    };
    let mut env = TenantEnv::builder(&args.tenant).limits(limits);
    for host in &args.allow_hosts {
        env = env.allow_host(AllowedHost::parse(host).map_err(|e| e.to_string())?);
    }
    for (k, v) in split_kv(&args.config, "config")? {
        env = env.config(k, v);
    }
    for (k, v) in split_kv(&args.secrets, "secret")? {
        env = env.secret(k, v);
    }
    Ok(env.build())
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
    let tenant = match tenant_env(&args) {
        Ok(t) => t,
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
        tenant: args.tenant.clone(),
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
    match result {
        Ok(value) => {
            println!("{value:#}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let mut out = match &e {
                CallError::Plugin(pe) => json!({"error": plugin_error_json(pe)}),
                other => json!({"error": {"kind": other.kind(), "message": other.to_string()}}),
            };
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
