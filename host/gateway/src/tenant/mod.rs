//! Tenants: the companies voxgate answers for, each from one TOML file.
//!
//! A tenant file names the company, its time zone and numbers, the schedule that picks
//! an agent, the agents themselves, which plugin serves which interface, and what those
//! plugins may reach (hosts, settings, secrets, limits). Everything a call of one
//! tenant touches hangs off its [`Tenant`]; nothing is shared between tenants but the
//! engines.

pub mod schedule;
pub mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use voxgate_runtime::{AllowedHost, Limits, TenantEnv};

use self::schedule::Schedule;
use crate::dialog::intents::Intent;

/// One tenant file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub id: String,
    pub name: String,
    /// IANA name, e.g. `Europe/Zagreb`: schedules and spoken dates are in it.
    pub time_zone: String,
    /// Numbers that reach this tenant (E.164, or short internal numbers).
    pub numbers: Vec<String>,
    pub schedule: Schedule,
    pub agents: BTreeMap<String, AgentConfig>,
    /// Which plugin file serves which interface (`default` serves whatever it exports).
    #[serde(default)]
    pub plugins: BTreeMap<String, PathBuf>,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Settings the plugins read (`voxgate:plugin/host.config`).
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Secrets the plugins read; `{ env = "NAME" }` takes one from the environment.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretValue>,
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Record calls (sealed with the tenant's key; only where the control plane keeps
    /// the tenant, which holds the key).
    #[serde(default)]
    pub recording: bool,
    /// Transcripts and recordings older than this many days are deleted.
    pub retention_days: Option<u32>,
    /// Rules on the tenant's metrics that raise alerts.
    #[serde(default)]
    pub alerts: Vec<crate::control::alerts::AlertRule>,
    /// Post-call analytics: recognizer, analyser, the tenant's own categories.
    #[serde(default)]
    pub analytics: crate::analytics::AnalyticsConfig,
}

/// A secret, literally or from an environment variable (preferred: files get copied).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SecretValue {
    Literal(String),
    Env { env: String },
}

/// Per-tenant limits on plugin calls; unset fields keep the runtime's defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub call_deadline_ms: Option<u64>,
    pub memory_mb: Option<usize>,
    pub concurrent_instances: Option<usize>,
    pub http_timeout_ms: Option<u64>,
}

/// One agent: who answers, in which language and voice, what it can do, where it
/// sends callers who want a human.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    #[serde(default = "default_language")]
    pub language: String,
    /// `espeak-ng` or `flite`.
    #[serde(default = "default_voice")]
    pub voice: String,
    /// Said to a known caller; `{first_name}`, `{last_name}`, `{company}` and
    /// `{tenant}` are filled in.
    pub greeting: String,
    /// Said when the caller is not a known contact (default: `greeting` without the
    /// name).
    pub greeting_unknown: Option<String>,
    /// Built-in skills this agent offers (default: all).
    pub intents: Option<Vec<Intent>>,
    /// Where "talk to a human" goes (SIP URI for REFER).
    pub escalation: Option<String>,
    /// Where VIP callers go instead (a priority queue).
    pub vip_escalation: Option<String>,
    /// Extra phrases per intent, e.g. `order-status = ["where is my stuff"]`.
    #[serde(default)]
    pub phrases: BTreeMap<Intent, Vec<String>>,
    /// Questions the caller may ask, answered through `knowledge.answer`.
    #[serde(default)]
    pub faq: Vec<String>,
    /// Replaces built-in texts by key (see `dialog::text`).
    #[serde(default)]
    pub messages: BTreeMap<String, String>,
    /// Keys mapped to intents in the main menu, e.g. `"1" = "order-status"`.
    #[serde(default)]
    pub dtmf: BTreeMap<String, Intent>,
    /// Silence before the caller is asked again, in milliseconds.
    #[serde(default = "default_no_input_ms")]
    pub no_input_ms: u64,
}

fn default_language() -> String {
    "en".into()
}
fn default_voice() -> String {
    "espeak-ng".into()
}
fn default_no_input_ms() -> u64 {
    6000
}

/// Why a tenant file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("tenant `{tenant}`: {message}")]
    Invalid { tenant: String, message: String },
}

impl TenantConfig {
    /// Reads and validates a tenant file.
    pub fn load(path: &Path) -> Result<TenantConfig, TenantError> {
        let text = std::fs::read_to_string(path).map_err(|source| TenantError::Read {
            path: path.display().to_string(),
            source,
        })?;
        TenantConfig::from_file_text(&text, path)
    }

    /// A tenant file's text, read from `path`.
    pub fn from_file_text(text: &str, path: &Path) -> Result<TenantConfig, TenantError> {
        let mut config = TenantConfig::parse(text, &path.display().to_string())?;
        // Plugin paths are relative to the tenant file.
        if let Some(dir) = path.parent() {
            for p in config.plugins.values_mut() {
                if p.is_relative() {
                    *p = dir.join(&*p);
                }
            }
        }
        Ok(config)
    }

    /// Parses and validates tenant TOML; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<TenantConfig, TenantError> {
        let config: TenantConfig = toml::from_str(text).map_err(|e| TenantError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn invalid(&self, message: impl Into<String>) -> TenantError {
        TenantError::Invalid {
            tenant: self.id.clone(),
            message: message.into(),
        }
    }

    pub fn validate(&self) -> Result<(), TenantError> {
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(self.invalid("id must be letters, digits, `-` or `_`"));
        }
        if self.numbers.is_empty() {
            return Err(self.invalid("give at least one number in `numbers`"));
        }
        schedule::parse_time_zone(&self.time_zone).map_err(|e| self.invalid(e.to_string()))?;
        if self.agents.is_empty() {
            return Err(self.invalid("define at least one agent under [agents.NAME]"));
        }
        let names: Vec<&str> = self.agents.keys().map(String::as_str).collect();
        self.schedule
            .validate(&names)
            .map_err(|e| self.invalid(format!("schedule: {e}")))?;
        for (name, agent) in &self.agents {
            if agent.voice != "espeak-ng" && agent.voice != "flite" {
                return Err(self.invalid(format!(
                    "agent `{name}`: voice `{}` is not a synthesizer; use espeak-ng or flite",
                    agent.voice
                )));
            }
            for uri in [&agent.escalation, &agent.vip_escalation]
                .into_iter()
                .flatten()
            {
                if !(uri.starts_with("sip:") || uri.starts_with("sips:")) {
                    return Err(self.invalid(format!(
                        "agent `{name}`: escalation target `{uri}` is not a SIP URI"
                    )));
                }
            }
            for key in agent.dtmf.keys() {
                let ok = key.len() == 1 && key.chars().all(|c| c.is_ascii_digit() || c == '*');
                if !ok {
                    return Err(self.invalid(format!(
                        "agent `{name}`: dtmf key `{key}` must be one of 0-9 or *"
                    )));
                }
            }
            for key in agent.messages.keys() {
                if !crate::dialog::text::is_key(key) {
                    return Err(self.invalid(format!(
                        "agent `{name}`: unknown message `{key}`; known: {}",
                        crate::dialog::text::KEYS.join(", ")
                    )));
                }
            }
        }
        for h in &self.allowed_hosts {
            AllowedHost::parse(h).map_err(|e| self.invalid(e.to_string()))?;
        }
        for (i, rule) in self.alerts.iter().enumerate() {
            if rule.name.is_empty() || self.alerts[..i].iter().any(|r| r.name == rule.name) {
                return Err(self.invalid(format!(
                    "alerts: each rule needs a name of its own (`{}`)",
                    rule.name
                )));
            }
            if !rule.above.is_finite() || rule.above < 0.0 {
                return Err(self.invalid(format!(
                    "alert `{}`: `above` must be a number of 0 or more",
                    rule.name
                )));
            }
            if let crate::control::alerts::Notify::Webhook(url) = &rule.notify
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(self.invalid(format!(
                    "alert `{}`: the webhook `{url}` is not an http(s) URL",
                    rule.name
                )));
            }
        }
        for (key, s) in &self.secrets {
            if let SecretValue::Env { env } = s
                && std::env::var_os(env).is_none()
            {
                return Err(self.invalid(format!(
                    "secret `{key}` reads environment variable {env}, which is not set"
                )));
            }
        }
        Ok(())
    }

    /// What the plugin runtime needs of this tenant.
    pub fn env(&self) -> Result<Arc<TenantEnv>, TenantError> {
        let mut limits = Limits::default();
        let l = &self.limits;
        if let Some(ms) = l.call_deadline_ms {
            limits.call_deadline = Duration::from_millis(ms);
        }
        if let Some(mb) = l.memory_mb {
            limits.memory_bytes = mb << 20;
        }
        if let Some(n) = l.concurrent_instances {
            limits.concurrent_instances = n;
        }
        if let Some(ms) = l.http_timeout_ms {
            limits.http_timeout = Duration::from_millis(ms);
        }
        let mut b = TenantEnv::builder(self.id.clone()).limits(limits);
        for h in &self.allowed_hosts {
            b = b.allow_host(AllowedHost::parse(h).map_err(|e| self.invalid(e.to_string()))?);
        }
        for (k, v) in &self.config {
            b = b.config(k.clone(), v.clone());
        }
        for (k, v) in &self.secrets {
            let value = match v {
                SecretValue::Literal(s) => s.clone(),
                SecretValue::Env { env } => std::env::var(env).map_err(|_| {
                    self.invalid(format!(
                        "secret `{k}`: environment variable {env} is not set"
                    ))
                })?,
            };
            b = b.secret(k.clone(), value);
        }
        Ok(b.build())
    }
}

/// Numbers to tenants, for the SIP core and `voxgate chat`.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    by_number: HashMap<String, Arc<crate::dialog::TenantRuntime>>,
    by_id: HashMap<String, Arc<crate::dialog::TenantRuntime>>,
}

impl Directory {
    pub fn insert(&mut self, tenant: Arc<crate::dialog::TenantRuntime>) -> Result<(), TenantError> {
        for n in &tenant.config.numbers {
            let key = crate::sip::config::normalize_number(n);
            if let Some(other) = self.by_number.get(&key) {
                return Err(TenantError::Invalid {
                    tenant: tenant.config.id.clone(),
                    message: format!("number {n} already belongs to tenant `{}`", other.config.id),
                });
            }
        }
        for n in &tenant.config.numbers {
            self.by_number
                .insert(crate::sip::config::normalize_number(n), tenant.clone());
        }
        self.by_id.insert(tenant.config.id.clone(), tenant);
        Ok(())
    }

    pub fn by_id(&self, id: &str) -> Option<&Arc<crate::dialog::TenantRuntime>> {
        self.by_id.get(id)
    }

    pub fn by_number(&self, dialled: &str) -> Option<&Arc<crate::dialog::TenantRuntime>> {
        self.by_number
            .get(&crate::sip::config::normalize_number(dialled))
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<crate::dialog::TenantRuntime>> {
        self.by_id.values()
    }
}
