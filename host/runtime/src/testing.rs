//! Test support: builds the guest plugins in `plugins/` once per process and hands out
//! their bytes, so tests run real components without a separate build step.
//!
//! The plugins build in their own target directory: `VOXGATE_WASM_TARGET` if set (the
//! test script sets it so scripts and tests share one build), else `wasm-plugins` beside
//! the host build's target directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    manifest_dir().join("../..")
}

fn wasm_target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VOXGATE_WASM_TARGET") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("wasm-plugins");
    }
    repo_root().join("target/wasm-plugins")
}

/// Builds every plugin in `plugins/` (release, wasm32-wasip2) and returns the directory
/// holding the `.wasm` files. Panics with cargo's output if the build fails: a test
/// without its plugins cannot say anything.
#[allow(clippy::panic)]
pub fn plugins_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = wasm_target_dir();
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(repo_root().join("plugins"))
            .args(["build", "--release", "--quiet"])
            .env("CARGO_TARGET_DIR", &target)
            // Flags meant for the host build must not leak into the guest build.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .output();
        match out {
            Ok(o) if o.status.success() => target.join("wasm32-wasip2/release"),
            Ok(o) => panic!(
                "building plugins failed:\n{}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => panic!("cannot run cargo to build plugins: {e}"),
        }
    })
}

/// The bytes of a built plugin, by crate name (`demo-shop`, `chaos`, …).
#[allow(clippy::panic)]
pub fn plugin_bytes(name: &str) -> Vec<u8> {
    let path = plugin_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The path of a built plugin, by crate name.
pub fn plugin_path(name: &str) -> PathBuf {
    plugins_dir().join(format!("{}.wasm", name.replace('-', "_")))
}

/// The package directory as cargo gives it when running the tests (at run time: a test
/// binary reused from a checkout elsewhere must not look there).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A plugin built by one of the other languages' kits (`demo_shop_py.wasm`, …), from the
/// plugins directory. When it is not there, `scripts/build-kit-plugins` builds all of
/// them once per process (the kits' toolchains come from `scripts/setup`).
#[allow(clippy::panic)]
pub fn kit_plugin_path(file: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let dir = plugins_dir();
    let path = dir.join(file);
    if path.exists() {
        return path;
    }
    let built = BUILT.get_or_init(|| {
        let out = Command::new(repo_root().join("scripts/build-kit-plugins"))
            .env("VOXGATE_PLUGINS_DIR", dir)
            .output()
            .map_err(|e| format!("cannot run scripts/build-kit-plugins: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "scripts/build-kit-plugins failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    if !path.exists() {
        panic!(
            "scripts/build-kit-plugins did not produce {}",
            path.display()
        );
    }
    path
}
