//! Upload validation: every refusal names what is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use voxgate_runtime::testing::plugin_bytes;
use voxgate_runtime::{Capability, LoadError, Runtime, RuntimeConfig, ValidationError};

fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig::default()).unwrap()
}

fn refuse(bytes: &[u8]) -> ValidationError {
    match runtime().load("x", bytes) {
        Err(LoadError::Invalid(e)) => e,
        Ok(v) => panic!("expected a refusal, loaded {v:?}"),
    }
}

/// A minimal component exporting one instance under `name`.
fn component_exporting(name: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const 0))
            (core instance $i (instantiate $m))
            (func $f (result u32) (canon lift (core func $i "f")))
            (instance $inst (export "ping" (func $f)))
            (export "{name}" (instance $inst)))"#
    ))
    .unwrap()
}

#[test]
fn text_file_is_not_wasm() {
    assert_eq!(refuse(b"just some text\n"), ValidationError::NotWasm);
}

#[test]
fn core_module_is_not_a_component() {
    let core = wat::parse_str("(module (func (export \"f\")))").unwrap();
    let e = refuse(&core);
    assert_eq!(e, ValidationError::CoreModule);
    assert!(e.to_string().contains("not a component"));
}

#[test]
fn garbage_after_a_component_header_is_invalid() {
    let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
    bytes.extend_from_slice(&[0xff; 32]);
    assert!(matches!(refuse(&bytes), ValidationError::Invalid(_)));
}

#[test]
fn unknown_import_is_refused_by_name() {
    let bytes = wat::parse_str(
        r#"(component (import "acme:billing/ledger@1.0.0" (instance (export "post" (func)))))"#,
    )
    .unwrap();
    let text = refuse(&bytes).to_string();
    assert!(text.contains("acme:billing/ledger@1.0.0"), "{text}");
}

#[test]
fn unknown_wit_version_is_refused() {
    let e = refuse(&component_exporting("voxgate:plugin/contacts@0.9.0"));
    let text = e.to_string();
    assert!(
        matches!(e, ValidationError::UnknownWitVersion { .. }),
        "{text}"
    );
    assert!(
        text.contains("0.9.0") && text.contains("voxgate:plugin@0.1.0"),
        "{text}"
    );
}

#[test]
fn no_voxgate_interface_is_refused() {
    let e = refuse(&component_exporting("acme:tools/ping@1.0.0"));
    assert!(matches!(e, ValidationError::NoCapabilities { .. }));
    assert!(e.to_string().contains("acme:tools/ping@1.0.0"));
}

#[test]
fn wrong_signatures_under_our_name_are_refused() {
    let e = refuse(&component_exporting("voxgate:plugin/contacts@0.1.0"));
    assert!(
        e.to_string().contains("voxgate:plugin/contacts@0.1.0"),
        "{e}"
    );
}

#[test]
fn demo_shop_serves_every_interface() {
    let v = runtime()
        .load("demo-shop", &plugin_bytes("demo-shop"))
        .unwrap();
    assert_eq!(v.capabilities(), &Capability::ALL);
    assert_eq!(v.wit_version(), "0.1.0");
    assert_eq!(v.id().len(), 64);
}

#[test]
fn compiled_code_is_cached_by_content_hash() {
    let dir = std::env::temp_dir().join(format!("voxgate-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rt = Runtime::new(RuntimeConfig {
        cache_dir: Some(dir.clone()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let bytes = plugin_bytes("static-contacts");
    let first = rt.load("a", &bytes).unwrap();
    let files: Vec<_> = walk(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().contains(first.id()));

    // A second load comes from the cache, and a damaged cache entry is recompiled.
    let second = rt.load("b", &bytes).unwrap();
    assert_eq!(first.id(), second.id());
    std::fs::write(&files[0], b"not compiled code").unwrap();
    let third = rt.load("c", &bytes).unwrap();
    assert_eq!(third.capabilities(), &[Capability::Contacts]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
