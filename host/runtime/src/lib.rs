//! voxgate's plugin runtime: tenant integrations as sandboxed WebAssembly components.
//!
//! - One [`Runtime`] per process: a wasmtime engine with a pooling allocator and epoch
//!   interruption, the linker with WASI, `wasi:http` and voxgate's `host` interface.
//! - [`Runtime::load`] validates a component and compiles it (cached on disk by content
//!   hash) into an immutable [`PluginVersion`].
//! - [`TenantPlugins`] binds a tenant's interfaces to versions and swaps them atomically;
//!   [`TenantPlugins::session`] pins the set for one phone call.
//! - Every plugin function call runs in a fresh instance under the tenant's [`Limits`]:
//!   a trap, deadline or memory breach fails that one call with a [`CallError`].
//!
//! The runtime knows nothing about SIP or dialogs.

mod bindings;
mod call;
mod capability;
mod dynamic;
mod engine;
mod host;
mod plugin;
mod registry;
mod session;
pub mod suite;
mod tape;
mod tenant;
#[cfg(feature = "test-support")]
pub mod testing;
mod validate;

pub use bindings::guest::{
    complaints, contacts, delivery, escalation, knowledge, orders, products, recordings,
    transactions,
};
pub use bindings::{CallContext, Money, PluginError};
pub use call::{CallError, CallReport};
pub use capability::{Capability, WIT_PACKAGE, WIT_VERSIONS};
pub use dynamic::{call_error_json, from_json, plugin_error_json, to_json};
pub use engine::{EPOCH_TICK, LoadError, Runtime, RuntimeConfig, RuntimeError};
pub use plugin::PluginVersion;
pub use registry::{PluginSet, RegistryError, TenantPlugins};
pub use session::Session;
pub use tape::{Exchange, HttpTape, TAPE_FILE, TapeBody, TapeError, TapeMode};
pub use tenant::{AllowedHost, AllowedHostError, Limits, TenantEnv, TenantEnvBuilder};
pub use validate::ValidationError;
