//! What a component may import and must export before a tenant can run it.
//!
//! Every refusal names the offending item, because the person reading it is an
//! integrator who has to fix their build.

use crate::capability::{Capability, InterfaceName, WIT_PACKAGE, WIT_VERSIONS};

/// Why a file cannot become a plugin version.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ValidationError {
    #[error("not a WebAssembly file: it does not start with the `\\0asm` magic bytes")]
    NotWasm,
    #[error(
        "a core WebAssembly module, not a component: build for `wasm32-wasip2` or wrap it with `wasm-tools component new`"
    )]
    CoreModule,
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error("imports `{import}`, which plugins are not granted: {why}")]
    NotGranted { import: String, why: String },
    #[error(
        "built against voxgate:plugin@{version} (`{item}`), which this host does not know; it serves {known}"
    )]
    UnknownWitVersion {
        item: String,
        version: String,
        known: String,
    },
    #[error("exports `{export}`, which is not a voxgate:plugin interface")]
    UnknownInterface { export: String },
    #[error(
        "exports none of voxgate's interfaces (contacts, orders, products, transactions, delivery, complaints, knowledge, escalation, recordings); it exports: {exports}"
    )]
    NoCapabilities { exports: String },
}

/// What kind of bytes these are, from the 8-byte preamble.
pub(crate) fn sniff(bytes: &[u8]) -> Result<(), ValidationError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(ValidationError::NotWasm);
    }
    // The preamble's second half is version (u16) then layer (u16): layer 0 is a core
    // module, layer 1 a component.
    match (bytes[6], bytes[7]) {
        (0, 0) => Err(ValidationError::CoreModule),
        (1, 0) => Ok(()),
        _ => Err(ValidationError::Invalid(format!(
            "unknown WebAssembly layer {:#04x}{:02x}",
            bytes[7], bytes[6]
        ))),
    }
}

/// The WASI interfaces a plugin may import. Filesystem and sockets are linked so that
/// ordinary language runtimes (Python's and JavaScript's import both) instantiate, but
/// they reach nothing: plugins get no preopened directories, and every socket
/// operation is refused (TCP, UDP and name lookup are off, no address passes the
/// check). Outbound traffic goes through `wasi:http`, where the tenant's allow-list
/// applies.
fn wasi_grant(package: &str, interface: &str) -> Result<(), String> {
    match package {
        "wasi:io" | "wasi:clocks" | "wasi:random" => Ok(()),
        "wasi:cli" => match interface {
            "environment" | "exit" | "stdin" | "stdout" | "stderr" | "terminal-input"
            | "terminal-output" | "terminal-stdin" | "terminal-stdout" | "terminal-stderr" => {
                Ok(())
            }
            _ => Err(format!("wasi:cli/{interface} is not provided to plugins")),
        },
        "wasi:filesystem" | "wasi:sockets" => Ok(()),
        "wasi:http" => match interface {
            "types" | "outgoing-handler" => Ok(()),
            _ => Err(format!(
                "only wasi:http/outgoing-handler is provided; plugins do not serve HTTP ({interface})"
            )),
        },
        _ => Err("unknown interface".to_string()),
    }
}

fn known_versions() -> String {
    WIT_VERSIONS
        .iter()
        .map(|v| format!("{WIT_PACKAGE}@{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks one import name against what plugins are granted.
pub(crate) fn check_import(name: &str) -> Result<(), ValidationError> {
    let not_granted = |why: String| ValidationError::NotGranted {
        import: name.to_string(),
        why,
    };
    let Some(parsed) = InterfaceName::parse(name) else {
        return Err(not_granted(
            "a bare import; plugins may only import WASI and voxgate:plugin interfaces".into(),
        ));
    };
    if parsed.package == WIT_PACKAGE {
        let version = parsed.version.unwrap_or("");
        if !WIT_VERSIONS.contains(&version) {
            return Err(ValidationError::UnknownWitVersion {
                item: name.to_string(),
                version: version.to_string(),
                known: known_versions(),
            });
        }
        // `types` carries only type definitions; `host` is voxgate's own import. The
        // business interfaces are things plugins provide, never consume.
        return match parsed.interface {
            "types" | "host" => Ok(()),
            other => Err(not_granted(format!(
                "plugins export `{other}`; they cannot import another plugin's interface"
            ))),
        };
    }
    wasi_grant(parsed.package, parsed.interface).map_err(not_granted)
}

/// What a component's export names say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportSummary {
    pub capabilities: Vec<Capability>,
    pub wit_version: String,
}

/// Classifies export names; non-voxgate exports are tolerated (a language runtime may
/// export its own things) but a plugin must serve at least one voxgate interface.
pub(crate) fn check_exports<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<ExportSummary, ValidationError> {
    let mut capabilities = Vec::new();
    let mut wit_version = None;
    let mut all = Vec::new();
    for name in names {
        all.push(name.to_string());
        let Some(parsed) = InterfaceName::parse(name) else {
            continue;
        };
        if parsed.package != WIT_PACKAGE {
            continue;
        }
        let version = parsed.version.unwrap_or("");
        if !WIT_VERSIONS.contains(&version) {
            return Err(ValidationError::UnknownWitVersion {
                item: name.to_string(),
                version: version.to_string(),
                known: known_versions(),
            });
        }
        let Some(cap) = Capability::from_name(parsed.interface) else {
            return Err(ValidationError::UnknownInterface {
                export: name.to_string(),
            });
        };
        capabilities.push(cap);
        wit_version.get_or_insert_with(|| version.to_string());
    }
    capabilities.sort();
    capabilities.dedup();
    match wit_version {
        Some(wit_version) if !capabilities.is_empty() => Ok(ExportSummary {
            capabilities,
            wit_version,
        }),
        _ => Err(ValidationError::NoCapabilities {
            exports: if all.is_empty() {
                "nothing".into()
            } else {
                all.join(", ")
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_preambles() {
        assert_eq!(sniff(b"hello world"), Err(ValidationError::NotWasm));
        assert_eq!(sniff(b"\0asm\x01\0\0\0"), Err(ValidationError::CoreModule));
        assert_eq!(sniff(b"\0asm\x0d\0\x01\0"), Ok(()));
    }

    #[test]
    fn grants_wasi_but_nothing_else() {
        assert!(check_import("wasi:io/streams@0.2.4").is_ok());
        assert!(check_import("wasi:http/outgoing-handler@0.2.0").is_ok());
        assert!(check_import("voxgate:plugin/host@0.1.0").is_ok());
        assert!(check_import("wasi:sockets/tcp@0.2.4").is_ok());
        let err = check_import("wasi:cli/run@0.2.4").unwrap_err();
        assert!(err.to_string().contains("wasi:cli/run@0.2.4"), "{err}");
        let err = check_import("acme:billing/ledger@1.0.0").unwrap_err();
        assert!(err.to_string().contains("acme:billing/ledger"), "{err}");
        let err = check_import("voxgate:plugin/orders@0.1.0").unwrap_err();
        assert!(err.to_string().contains("cannot import"), "{err}");
    }

    #[test]
    fn exports_need_a_known_version_and_a_capability() {
        let ok = check_exports([
            "voxgate:plugin/contacts@0.1.0",
            "voxgate:plugin/orders@0.1.0",
        ])
        .unwrap();
        assert_eq!(
            ok.capabilities,
            vec![Capability::Contacts, Capability::Orders]
        );
        let err = check_exports(["voxgate:plugin/contacts@0.9.0"]).unwrap_err();
        assert!(err.to_string().contains("0.9.0"), "{err}");
        let err = check_exports(["wasi:cli/run@0.2.0"]).unwrap_err();
        assert!(err.to_string().contains("wasi:cli/run"), "{err}");
        let err = check_exports(["voxgate:plugin/billing@0.1.0"]).unwrap_err();
        assert!(err.to_string().contains("billing"), "{err}");
    }
}
