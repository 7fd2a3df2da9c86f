//! A compiled, immutable plugin version.

use wasmtime::component::{Component, InstancePre};

use crate::bindings::guest;
use crate::capability::Capability;
use crate::host::HostState;
use crate::validate::ValidationError;

/// One uploaded plugin, validated and compiled. Immutable: a new upload is a new
/// version with a new id.
pub struct PluginVersion {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) size: usize,
    pub(crate) wit_version: String,
    pub(crate) capabilities: Vec<Capability>,
    pub(crate) imports: Vec<String>,
    pub(crate) exports: Vec<String>,
    pub(crate) component: Component,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) indices: GuestIndexSet,
}

impl std::fmt::Debug for PluginVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginVersion")
            .field("name", &self.name)
            .field("id", &self.short_id())
            .field("wit_version", &self.wit_version)
            .field("capabilities", &self.capabilities)
            .finish()
    }
}

impl PluginVersion {
    /// SHA-256 of the component's bytes, hex.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The first 12 hex digits of the id: what logs and call records show.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// The name it was uploaded under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size of the component in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The voxgate:plugin WIT version it was built against.
    pub fn wit_version(&self) -> &str {
        &self.wit_version
    }

    /// The business interfaces it exports.
    pub fn capabilities(&self) -> &[Capability] {
        &self.capabilities
    }

    pub fn serves(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// Every import name of the component.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// Every export name of the component.
    pub fn exports(&self) -> &[String] {
        &self.exports
    }
}

/// Pre-resolved export indices for each interface the version serves, so a call finds
/// its function without string lookups.
#[derive(Default)]
pub(crate) struct GuestIndexSet {
    pub contacts: Option<guest::contacts::GuestIndices>,
    pub orders: Option<guest::orders::GuestIndices>,
    pub products: Option<guest::products::GuestIndices>,
    pub transactions: Option<guest::transactions::GuestIndices>,
    pub delivery: Option<guest::delivery::GuestIndices>,
    pub complaints: Option<guest::complaints::GuestIndices>,
    pub knowledge: Option<guest::knowledge::GuestIndices>,
    pub escalation: Option<guest::escalation::GuestIndices>,
    pub recordings: Option<guest::recordings::GuestIndices>,
}

impl GuestIndexSet {
    pub fn new(
        pre: &InstancePre<HostState>,
        capabilities: &[Capability],
    ) -> Result<GuestIndexSet, ValidationError> {
        let mut set = GuestIndexSet::default();
        // A type mismatch here means the component exports an interface by our name but
        // with other signatures (a hand-edited WIT): say which one.
        let mismatch = |cap: Capability, e: wasmtime::Error| {
            ValidationError::Invalid(format!(
                "exports {} with signatures that differ from voxgate's WIT: {e:#}",
                cap.export_name(crate::capability::WIT_VERSIONS[0])
            ))
        };
        for &cap in capabilities {
            match cap {
                Capability::Contacts => {
                    set.contacts = Some(
                        guest::contacts::GuestIndices::new(pre).map_err(|e| mismatch(cap, e))?,
                    )
                }
                Capability::Orders => {
                    set.orders =
                        Some(guest::orders::GuestIndices::new(pre).map_err(|e| mismatch(cap, e))?)
                }
                Capability::Products => {
                    set.products = Some(
                        guest::products::GuestIndices::new(pre).map_err(|e| mismatch(cap, e))?,
                    )
                }
                Capability::Transactions => {
                    set.transactions = Some(
                        guest::transactions::GuestIndices::new(pre)
                            .map_err(|e| mismatch(cap, e))?,
                    )
                }
                Capability::Delivery => {
                    set.delivery = Some(
                        guest::delivery::GuestIndices::new(pre).map_err(|e| mismatch(cap, e))?,
                    )
                }
                Capability::Complaints => {
                    set.complaints = Some(
                        guest::complaints::GuestIndices::new(pre).map_err(|e| mismatch(cap, e))?,
                    )
                }
                Capability::Knowledge => {
                    set.knowledge = Some(
                        guest::knowledge::GuestIndices::new(pre).map_err(|e| mismatch(cap, e))?,
                    )
                }
                Capability::Escalation => {
                    set.escalation = Some(
                        guest::escalation::GuestIndices::new(pre).map_err(|e| mismatch(cap, e))?,
                    )
                }
                Capability::Recordings => {
                    set.recordings = Some(
                        guest::recordings::GuestIndices::new(pre).map_err(|e| mismatch(cap, e))?,
                    )
                }
            }
        }
        Ok(set)
    }
}
