//! Where voxgate keeps files when the operator does not say.

use std::path::PathBuf;

/// Directory for compiled plugin code: `VOXGATE_CACHE_DIR`, else the user's cache
/// directory (`XDG_CACHE_HOME` or `~/.cache`) under `voxgate/code`.
pub fn code_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("VOXGATE_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("voxgate/code"))
}

/// Directory holding the built example plugins (`*.wasm`): `VOXGATE_PLUGINS_DIR`, else
/// the release output of the plugins workspace as `scripts/build-plugins` leaves it.
pub fn plugins_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VOXGATE_PLUGINS_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("VOXGATE_WASM_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/voxgate/wasm-target"))
                .unwrap_or_else(|| PathBuf::from("target/wasm-plugins"))
        });
    target.join("wasm32-wasip2/release")
}

/// Where tenants' data lives (transaction journals, call records): `VOXGATE_DATA_DIR`,
/// else `$XDG_DATA_HOME/voxgate`, else `~/.local/share/voxgate`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VOXGATE_DATA_DIR") {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("voxgate")
}

/// The machine's host name (`/proc/sys/kernel/hostname`, else `HOSTNAME`), the default
/// name of a gateway node; `node` when neither says.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}
