//! The business interfaces a plugin can serve, and how their WIT names are spelled.

use std::fmt;

/// The WIT package every interface belongs to.
pub const WIT_PACKAGE: &str = "voxgate:plugin";

/// WIT versions this host serves. A published version is frozen; a new one is added
/// beside it and plugins built against the older ones keep working.
pub const WIT_VERSIONS: &[&str] = &["0.1.0"];

/// One of voxgate's business interfaces. A tenant binds each to at most one plugin
/// version at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    Contacts,
    Orders,
    Products,
    Transactions,
    Delivery,
    Complaints,
    Knowledge,
    Escalation,
    Recordings,
}

impl Capability {
    /// Every capability, in WIT order.
    pub const ALL: [Capability; 9] = [
        Capability::Contacts,
        Capability::Orders,
        Capability::Products,
        Capability::Transactions,
        Capability::Delivery,
        Capability::Complaints,
        Capability::Knowledge,
        Capability::Escalation,
        Capability::Recordings,
    ];

    /// The interface name inside the package, e.g. `contacts`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Contacts => "contacts",
            Capability::Orders => "orders",
            Capability::Products => "products",
            Capability::Transactions => "transactions",
            Capability::Delivery => "delivery",
            Capability::Complaints => "complaints",
            Capability::Knowledge => "knowledge",
            Capability::Escalation => "escalation",
            Capability::Recordings => "recordings",
        }
    }

    /// Parses an interface name (`contacts`), with or without package and version.
    pub fn from_name(name: &str) -> Option<Capability> {
        let name = name.strip_prefix("voxgate:plugin/").unwrap_or(name);
        let name = name.split('@').next().unwrap_or(name);
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Index into per-capability tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The fully qualified export name for a WIT version,
    /// e.g. `voxgate:plugin/contacts@0.1.0`.
    pub fn export_name(self, version: &str) -> String {
        format!("{WIT_PACKAGE}/{}@{version}", self.name())
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed `namespace:package/interface@version` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InterfaceName<'a> {
    pub package: &'a str,
    pub interface: &'a str,
    pub version: Option<&'a str>,
}

impl<'a> InterfaceName<'a> {
    pub fn parse(name: &'a str) -> Option<Self> {
        let (path, version) = match name.split_once('@') {
            Some((p, v)) => (p, Some(v)),
            None => (name, None),
        };
        let (package, interface) = path.split_once('/')?;
        if !package.contains(':') || interface.is_empty() {
            return None;
        }
        Some(InterfaceName {
            package,
            interface,
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Capability::ALL {
            assert_eq!(Capability::from_name(c.name()), Some(c));
            assert_eq!(Capability::from_name(&c.export_name("0.1.0")), Some(c));
        }
        assert_eq!(Capability::from_name("billing"), None);
    }

    #[test]
    fn parses_interface_names() {
        let n = InterfaceName::parse("wasi:http/outgoing-handler@0.2.4");
        assert_eq!(
            n,
            Some(InterfaceName {
                package: "wasi:http",
                interface: "outgoing-handler",
                version: Some("0.2.4")
            })
        );
        assert_eq!(InterfaceName::parse("plain"), None);
    }
}
