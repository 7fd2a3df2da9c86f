//! The process-wide engine and how plugin bytes become runnable versions.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::Plugin;
use crate::host::HostState;
use crate::plugin::{GuestIndexSet, PluginVersion};
use crate::validate::{self, ValidationError};

/// How often the epoch advances: the granularity of deadlines and of the cooperative
/// yields that keep a busy plugin from hogging an executor thread.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Process-wide settings of the plugin runtime.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where compiled code is kept between runs, keyed by content hash. `None` compiles
    /// every plugin at every start.
    pub cache_dir: Option<PathBuf>,
    /// Plugin instances alive at once across all tenants (slots in the pool).
    pub max_instances: u32,
    /// The largest linear memory any tenant may be granted. Tenants get less through
    /// their own limits.
    pub max_memory_bytes: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            max_instances: 1000,
            max_memory_bytes: 256 << 20,
        }
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
    #[error("cannot link host interfaces: {0}")]
    Link(String),
}

/// Why bytes could not become a plugin version.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// The plugin runtime: one engine, one linker, compiled plugin versions. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cache_dir", &self.inner.cache_dir)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    cache_dir: Option<PathBuf>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// Builds the engine (pooling allocator, epoch interruption), links WASI, `wasi:http`
    /// and voxgate's host interface, and starts the epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(config.max_instances)
            .total_core_instances(config.max_instances.saturating_mul(4))
            .total_memories(config.max_instances.saturating_mul(2))
            .total_tables(config.max_instances.saturating_mul(4))
            .total_stacks(config.max_instances)
            .max_memory_size(config.max_memory_bytes)
            .max_core_instances_per_component(64)
            .max_memories_per_component(8)
            .max_tables_per_component(16)
            // Language runtimes (Python, JavaScript) have large instance state.
            .max_core_instance_size(4 << 20)
            .max_component_instance_size(1 << 20)
            // A fresh instance per call makes slot reset the hot path. Decommitting with
            // madvise costs page faults on reuse and TLB shootdowns across cores; with
            // PAGEMAP_SCAN (Linux 6.7+) only the pages a call dirtied are reset with
            // memset and stay resident. The low 4 MiB hold a Rust guest's stack, data
            // and early heap; anything above is still decommitted.
            .pagemap_scan(Enabled::Auto)
            .linear_memory_keep_resident(4 << 20)
            .table_keep_resident(64 << 10)
            .async_stack_keep_resident(256 << 10);
        let mut wasm = Config::new();
        wasm.epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .wasm_component_model(true)
            .memory_reservation(1 << 32)
            .memory_guard_size(64 << 10)
            .max_wasm_stack(1 << 20)
            .async_stack_size(2 << 20);
        let engine = Engine::new(&wasm).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;

        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| RuntimeError::Link(format!("{e:#}")))?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        spawn_ticker(engine.weak(), stop_ticker.clone());
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache_dir: config.cache_dir,
                stop_ticker,
            }),
        })
    }

    /// Validates `bytes`, compiles them (or loads the compiled code from the cache) and
    /// prepares instantiation. The result is immutable and named by its content hash.
    ///
    /// This is CPU-bound (compiling a component takes from milliseconds to seconds):
    /// call it from a blocking thread, not from the reactor.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<Arc<PluginVersion>, LoadError> {
        validate::sniff(bytes)?;
        let id = hex::encode(Sha256::digest(bytes));
        let component = self.compile(&id, bytes)?;

        let engine = &self.inner.engine;
        let ty = component.component_type();
        let mut imports = Vec::new();
        for (import, _) in ty.imports(engine) {
            validate::check_import(import)?;
            imports.push(import.to_string());
        }
        let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
        let summary = validate::check_exports(exports.iter().map(String::as_str))?;

        let pre = self.inner.linker.instantiate_pre(&component).map_err(|e| {
            ValidationError::NotGranted {
                import: first_line(&format!("{e:#}")),
                why: "the host cannot provide it".into(),
            }
        })?;
        let indices = GuestIndexSet::new(&pre, &summary.capabilities)?;
        Ok(Arc::new(PluginVersion {
            id,
            name: name.to_string(),
            size: bytes.len(),
            wit_version: summary.wit_version,
            capabilities: summary.capabilities,
            imports,
            exports,
            component,
            pre,
            indices,
        }))
    }

    fn compile(&self, id: &str, bytes: &[u8]) -> Result<Component, ValidationError> {
        let engine = &self.inner.engine;
        let cached = self.inner.cache_dir.as_deref().map(|dir| {
            let mut h = DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            dir.join(format!("{:016x}", h.finish()))
                .join(format!("{id}.cwasm"))
        });
        if let Some(path) = cached.as_deref()
            && path.exists()
        {
            match load_cached(engine, path) {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "ignoring unusable compiled-code cache entry: {e:#}")
                }
            }
        }
        let component = Component::new(engine, bytes)
            .map_err(|e| ValidationError::Invalid(first_line(&format!("{e:#}"))))?;
        if let Some(path) = cached.as_deref()
            && let Err(e) = store_cached(&component, path)
        {
            tracing::warn!(path = %path.display(), "cannot cache compiled plugin code: {e}");
        }
        Ok(component)
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}

#[allow(unsafe_code)]
fn load_cached(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // Read into memory rather than map the file: a mapped file that someone truncates
    // later would crash the process (SIGBUS) the next time that code runs.
    let bytes = std::fs::read(path)?;
    // SAFETY: wasmtime trusts serialized code. These files are written only by
    // `store_cached` below into a directory the operator gives voxgate for this
    // purpose, named by the content hash of the source and the engine's compatibility
    // hash; an operator who lets others write there has already given them the process.
    unsafe { Component::deserialize(engine, &bytes) }
}

fn store_cached(component: &Component, path: &Path) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Write then rename, so a crash never leaves a half-written file under the final name.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

fn spawn_ticker(engine: wasmtime::EngineWeak, stop: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new()
        .name("voxgate-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
    if let Err(e) = spawned {
        // Without the ticker deadlines still hold through the async timeout around
        // each call; only the cooperative yields are lost.
        tracing::error!("cannot start the epoch ticker thread: {e}");
    }
}
