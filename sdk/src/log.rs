//! Log lines that voxgate tags with tenant, plugin, version and call.
//!
//! Never log secrets or a caller's personal data beyond what an operator needs.

use crate::raw::contacts_world::voxgate::plugin::host::{self, Level};

/// Debug detail, off in production logs.
pub fn debug(message: &str) {
    host::log(Level::Debug, message);
}

/// Ordinary events.
pub fn info(message: &str) {
    host::log(Level::Info, message);
}

/// Something odd that did not stop the call.
pub fn warn(message: &str) {
    host::log(Level::Warn, message);
}

/// A failure.
pub fn error(message: &str) {
    host::log(Level::Error, message);
}
