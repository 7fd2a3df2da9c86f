//! The one place where Rust types are generated from voxgate's WIT.
//!
//! Exports and imports are all async: host imports are cheap, but plugin code runs on
//! fibers so that epoch interruption can yield to the executor and a busy plugin never
//! starves the tasks that pace RTP.

wasmtime::component::bindgen!({
    path: "../../wit/0.1.0",
    world: "plugin",
    imports: { default: async },
    exports: { default: async },
});

pub use voxgate::plugin::types::{CallContext, Error as PluginError, Money};

/// Exported interfaces, re-exported under short names for the rest of the crate.
pub mod guest {
    pub use super::exports::voxgate::plugin::{
        complaints, contacts, delivery, escalation, knowledge, orders, products, recordings,
        transactions,
    };
}
