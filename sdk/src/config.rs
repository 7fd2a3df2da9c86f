//! The tenant's settings and secrets, as the operator configured them for this plugin.

use crate::Error;
use crate::raw::contacts_world::voxgate::plugin::host;

/// A setting, or `None` when the tenant has not set it.
pub fn get(key: &str) -> Option<String> {
    host::config(key)
}

/// A setting the plugin cannot work without: a missing one is an `internal` error that
/// names the key, so the operator sees what to configure.
pub fn require(key: &str) -> Result<String, Error> {
    get(key).ok_or_else(|| Error::internal(format!("tenant setting `{key}` is not configured")))
}

/// A secret (API key, password), or `None`. Do not log it.
pub fn secret(key: &str) -> Option<String> {
    host::secret(key)
}
