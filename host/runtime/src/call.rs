//! One plugin function call: a fresh instance, the tenant's limits, a typed outcome.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::Instance;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::bindings::PluginError;
use crate::capability::Capability;
use crate::engine::Runtime;
use crate::host::{CallLabel, HostState};
use crate::plugin::PluginVersion;
use crate::tenant::TenantEnv;

/// Why a plugin function call did not return a value.
///
/// `Plugin` is the plugin's own answer (an error value from WIT); every other case is a
/// failure of the call itself, after which the runtime and all other calls carry on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("plugin answered {}", describe_plugin_error(.0))]
    Plugin(PluginError),
    #[error("tenant has no plugin bound to `{0}`")]
    NotBound(Capability),
    #[error("`{function}` ran past its deadline of {} ms and was stopped", .limit.as_millis())]
    Deadline { function: String, limit: Duration },
    #[error(
        "`{function}` needed more than the tenant's memory limit of {limit_bytes} bytes and was stopped"
    )]
    MemoryLimit {
        function: String,
        limit_bytes: usize,
    },
    #[error("`{function}` trapped: {message}")]
    Trap { function: String, message: String },
    #[error("tenant `{tenant}` has all {limit} plugin instance slots busy")]
    Busy { tenant: String, limit: usize },
    #[error("`{function}` could not be called: {message}")]
    BadCall { function: String, message: String },
}

impl CallError {
    /// Whether the plugin itself answered (a business outcome such as not-found), as
    /// opposed to the call failing.
    pub fn is_plugin_answer(&self) -> bool {
        matches!(self, CallError::Plugin(_))
    }

    /// A stable short name for metrics and call records.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Plugin(e) => match e {
                PluginError::NotFound(_) => "not-found",
                PluginError::Invalid(_) => "invalid",
                PluginError::Unavailable(_) => "unavailable",
                PluginError::Conflict(_) => "conflict",
                PluginError::Denied(_) => "denied",
                PluginError::Internal(_) => "internal",
            },
            CallError::NotBound(_) => "not-bound",
            CallError::Deadline { .. } => "deadline",
            CallError::MemoryLimit { .. } => "memory-limit",
            CallError::Trap { .. } => "trap",
            CallError::Busy { .. } => "busy",
            CallError::BadCall { .. } => "bad-call",
        }
    }
}

pub(crate) fn describe_plugin_error(e: &PluginError) -> String {
    match e {
        PluginError::NotFound(m) => format!("not-found: {m}"),
        PluginError::Invalid(m) => format!("invalid: {m}"),
        PluginError::Unavailable(m) => format!("unavailable: {m}"),
        PluginError::Conflict(m) => format!("conflict: {m}"),
        PluginError::Denied(m) => format!("denied: {m}"),
        PluginError::Internal(m) => format!("internal: {m}"),
    }
}

/// Raised from the epoch callback when a call's deadline has passed.
#[derive(Debug)]
struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

/// What one call did, for call records, logs and metrics.
#[derive(Debug, Clone)]
pub struct CallReport {
    pub function: &'static str,
    pub plugin: String,
    pub version: String,
    pub duration: Duration,
    /// `ok`, or the [`CallError::kind`].
    pub outcome: &'static str,
    /// Authorities the plugin tried to reach and was refused.
    pub denied_hosts: Vec<String>,
    /// Linear memory the instance held when the call ended, in bytes.
    pub memory_bytes: usize,
}

/// A call's body: given the store and the fresh instance, call one export.
pub(crate) type Invoked<R> = wasmtime::Result<Result<R, PluginError>>;

impl Runtime {
    /// Runs `body` against a fresh instance of `version` under `tenant`'s limits.
    pub(crate) async fn invoke<R>(
        &self,
        tenant: &Arc<TenantEnv>,
        version: &Arc<PluginVersion>,
        call_id: &str,
        function: &'static str,
        body: impl AsyncFnOnce(&mut Store<HostState>, &Instance) -> Invoked<R>,
    ) -> (Result<R, CallError>, CallReport) {
        let started = Instant::now();
        let limit = tenant.limits.call_deadline;
        let deadline = started + limit;
        let mut report = CallReport {
            function,
            plugin: version.name.clone(),
            version: version.short_id().to_string(),
            duration: Duration::ZERO,
            outcome: "ok",
            denied_hosts: Vec::new(),
            memory_bytes: 0,
        };

        // Waiting for a slot counts against the deadline: the caller is waiting either way.
        let permit =
            match tokio::time::timeout_at(deadline.into(), tenant.slots.clone().acquire_owned())
                .await
            {
                Ok(Ok(permit)) => permit,
                _ => {
                    let err = CallError::Busy {
                        tenant: tenant.id.clone(),
                        limit: tenant.limits.concurrent_instances,
                    };
                    report.outcome = err.kind();
                    report.duration = started.elapsed();
                    return (Err(err), report);
                }
            };

        let label = CallLabel {
            plugin: version.name.as_str().into(),
            version: version.short_id().into(),
            call_id: call_id.into(),
        };
        let mut store = Store::new(&self.inner.engine, HostState::new(tenant.clone(), label));
        store.limiter(|s| &mut s.memory);
        // Yield to the executor on every tick so a spinning guest shares its thread, and
        // stop it once the deadline has passed.
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(wasmtime::Error::new(DeadlineExceeded))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);

        let pre = &version.pre;
        // The outer timeout covers time the guest spends blocked in host calls (outbound
        // HTTP), where the epoch callback does not run.
        let outcome = tokio::time::timeout_at(deadline.into(), async {
            let instance = pre.instantiate_async(&mut store).await?;
            body(&mut store, &instance).await
        })
        .await;

        let result = match outcome {
            Err(_elapsed) => Err(CallError::Deadline {
                function: function.to_string(),
                limit,
            }),
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(plugin_error))) => Err(CallError::Plugin(plugin_error)),
            Ok(Err(e)) => Err(classify(e, &store, function, limit)),
        };
        drop(permit);
        report.denied_hosts = std::mem::take(&mut store.data_mut().outbound.denied);
        report.memory_bytes = store.data().memory.total_bytes;
        report.duration = started.elapsed();
        if let Err(e) = &result {
            report.outcome = e.kind();
            if !e.is_plugin_answer() {
                tracing::warn!(
                    target: "voxgate::plugin",
                    tenant = tenant.id.as_str(),
                    plugin = version.name.as_str(),
                    version = version.short_id(),
                    call = call_id,
                    "{e}"
                );
            }
        }
        (result, report)
    }
}

fn classify(
    err: wasmtime::Error,
    store: &Store<HostState>,
    function: &str,
    limit: Duration,
) -> CallError {
    let function = function.to_string();
    if err.downcast_ref::<DeadlineExceeded>().is_some() {
        return CallError::Deadline { function, limit };
    }
    let state = store.data();
    if state.memory.exceeded {
        return CallError::MemoryLimit {
            function,
            limit_bytes: state.tenant_memory_limit(),
        };
    }
    let stderr = state.stderr_text();
    let mut message = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{err:#}")
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    if !stderr.is_empty() {
        let tail: String = stderr
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" | ");
        message.push_str(&format!(" (plugin stderr: {tail})"));
    }
    CallError::Trap { function, message }
}
