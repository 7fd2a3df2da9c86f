//! What a tenant's plugins may do: limits, outbound hosts, settings and secrets.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::tape::HttpTape;

/// Resource limits for one tenant's plugin calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory one instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock time one plugin function call may take, outbound HTTP included.
    pub call_deadline: Duration,
    /// Plugin instances of this tenant alive at once; further calls wait up to the call
    /// deadline for a slot, then fail as busy.
    pub concurrent_instances: usize,
    /// Timeout for connecting and for each wait on an outbound HTTP response.
    pub http_timeout: Duration,
    /// Largest outbound HTTP response body a plugin may read.
    pub http_response_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            call_deadline: Duration::from_secs(2),
            concurrent_instances: 64,
            http_timeout: Duration::from_millis(1500),
            http_response_bytes: 8 << 20,
        }
    }
}

/// One entry of a tenant's outbound allow-list: `host`, `host:port` or `*.domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    host: String,
    port: Option<u16>,
}

/// Why an allow-list entry was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("allowed host `{entry}` is not valid: {why}")]
pub struct AllowedHostError {
    entry: String,
    why: &'static str,
}

impl AllowedHost {
    /// Parses `erp.example.com`, `127.0.0.1:8700`, `[::1]:80` or `*.example.com`.
    pub fn parse(entry: &str) -> Result<Self, AllowedHostError> {
        let err = |why| AllowedHostError {
            entry: entry.to_string(),
            why,
        };
        let entry_trim = entry.trim();
        if entry_trim.is_empty() || entry_trim.contains('/') || entry_trim.contains("://") {
            return Err(err("give a host or host:port, without scheme or path"));
        }
        let (host, port) = if let Some(rest) = entry_trim.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(|| err("unclosed `[`"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse::<u16>().map_err(|_| err("bad port"))?),
                None if after.is_empty() => None,
                None => return Err(err("junk after `]`")),
            };
            (format!("[{}]", h.to_ascii_lowercase()), port)
        } else {
            match entry_trim.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (
                    h.to_ascii_lowercase(),
                    Some(p.parse::<u16>().map_err(|_| err("bad port"))?),
                ),
                _ => (entry_trim.to_ascii_lowercase(), None),
            }
        };
        if host.is_empty() || host == "*." || host.matches('*').count() > 1 {
            return Err(err("empty or malformed host"));
        }
        if host.contains('*') && !host.starts_with("*.") {
            return Err(err("a wildcard may only be a leading `*.`"));
        }
        Ok(AllowedHost { host, port })
    }

    /// Whether a request to `host` (lower case, IPv6 in brackets) on `port` is allowed.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        match self.host.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|prefix| prefix.ends_with('.')),
            None => self.host == host,
        }
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// A tenant as the plugin runtime sees it. Shared by every call of the tenant; changing
/// it means building a new one (calls in flight keep the one they started with).
pub struct TenantEnv {
    pub(crate) id: String,
    pub(crate) limits: Limits,
    pub(crate) allowed_hosts: Vec<AllowedHost>,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) secrets: BTreeMap<String, String>,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) tape: Option<HttpTape>,
}

impl fmt::Debug for TenantEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets stay out of debug output and therefore out of logs.
        f.debug_struct("TenantEnv")
            .field("id", &self.id)
            .field("limits", &self.limits)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("config", &self.config)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TenantEnv {
    /// Starts a tenant with default limits, no outbound hosts, no settings.
    pub fn builder(id: impl Into<String>) -> TenantEnvBuilder {
        TenantEnvBuilder {
            id: id.into(),
            limits: Limits::default(),
            allowed_hosts: Vec::new(),
            config: BTreeMap::new(),
            secrets: BTreeMap::new(),
            tape: None,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn allowed_hosts(&self) -> &[AllowedHost] {
        &self.allowed_hosts
    }

    pub(crate) fn host_allowed(&self, host: &str, port: u16) -> bool {
        self.allowed_hosts.iter().any(|a| a.matches(host, port))
    }
}

/// Builds a [`TenantEnv`].
#[derive(Debug, Clone)]
pub struct TenantEnvBuilder {
    id: String,
    limits: Limits,
    allowed_hosts: Vec<AllowedHost>,
    config: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    tape: Option<HttpTape>,
}

impl TenantEnvBuilder {
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn allow_host(mut self, host: AllowedHost) -> Self {
        self.allowed_hosts.push(host);
        self
    }

    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }

    /// Drops a setting given earlier.
    pub fn without_config(mut self, key: &str) -> Self {
        self.config.remove(key);
        self
    }

    pub fn secret(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.secrets.insert(key.into(), value.into());
        self
    }

    /// Records outbound HTTP to, or replays it from, `tape` (plugin tests only).
    pub fn http_tape(mut self, tape: HttpTape) -> Self {
        self.tape = Some(tape);
        self
    }

    pub fn build(self) -> Arc<TenantEnv> {
        let slots = Arc::new(Semaphore::new(self.limits.concurrent_instances.max(1)));
        Arc::new(TenantEnv {
            id: self.id,
            limits: self.limits,
            allowed_hosts: self.allowed_hosts,
            config: self.config,
            secrets: self.secrets,
            slots,
            tape: self.tape,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matching() {
        let exact = AllowedHost::parse("ERP.example.com").unwrap();
        assert!(exact.matches("erp.example.com", 443));
        assert!(!exact.matches("evil-erp.example.com", 443));
        let port = AllowedHost::parse("127.0.0.1:8700").unwrap();
        assert!(port.matches("127.0.0.1", 8700));
        assert!(!port.matches("127.0.0.1", 8701));
        let wild = AllowedHost::parse("*.example.com").unwrap();
        assert!(wild.matches("api.example.com", 80));
        assert!(!wild.matches("example.com", 80));
        assert!(!wild.matches("badexample.com", 80));
        let v6 = AllowedHost::parse("[::1]:80").unwrap();
        assert!(v6.matches("[::1]", 80));
        assert!(AllowedHost::parse("http://x").is_err());
        assert!(AllowedHost::parse("a.*.com").is_err());
        assert!(AllowedHost::parse("x:notaport").is_err());
    }
}
