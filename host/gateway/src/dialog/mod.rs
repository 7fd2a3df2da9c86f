//! The dialog engine: a tenant's agents talking with a caller through the tenant's
//! plugins.
//!
//! [`TenantRuntime`] is a loaded tenant: its config, its plugins, the product names its
//! grammars use (from its catalog, cached), and its transaction journal. Each call gets
//! an [`engine::AgentConversation`], the [`crate::conversation::Conversation`] that
//! the SIP media (or `voxgate chat`) drives turn by turn.

pub mod engine;
pub mod intents;
pub mod journal;
pub mod record;
pub mod speak;
pub mod text;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use voxgate_runtime::{Capability, Runtime, TenantPlugins};

use self::intents::SpokenProduct;
use crate::tenant::schedule::Choice;
use crate::tenant::{TenantConfig, TenantError};

/// How long product names for the grammars are kept before the catalog is asked again.
const CATALOG_TTL: Duration = Duration::from_secs(300);
/// Products asked for when building grammars.
const CATALOG_LIMIT: u32 = 200;

/// Where and how a tenant's calls are recorded.
#[derive(Clone)]
pub struct RecordingPolicy {
    pub tenant: String,
    pub dir: PathBuf,
    pub key: [u8; 32],
}

impl std::fmt::Debug for RecordingPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingPolicy")
            .field("tenant", &self.tenant)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A tenant ready to take calls.
pub struct TenantRuntime {
    pub config: TenantConfig,
    pub tz: jiff::tz::TimeZone,
    /// Shared by every build of the tenant: a config change keeps the plugin state.
    pub plugins: Arc<TenantPlugins>,
    pub speech: crate::speech::Speech,
    /// Where call records are written (`<dir>/<call-id>.json`).
    pub records_dir: Option<PathBuf>,
    /// The durable log of the tenant's two-phase changes.
    pub journal: Option<journal::Journal>,
    /// Set when the tenant's calls are recorded.
    pub recording: Option<RecordingPolicy>,
    catalog: tokio::sync::Mutex<Option<(Instant, Arc<Vec<SpokenProduct>>)>>,
    /// Words the recognizer's dictionary knows, asked once per word.
    known_words: Mutex<std::collections::HashMap<String, bool>>,
}

impl std::fmt::Debug for TenantRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRuntime")
            .field("id", &self.config.id)
            .finish_non_exhaustive()
    }
}

impl TenantRuntime {
    /// Loads the tenant's plugins (each file once, bound as the config says) and opens
    /// its data directory (`<data_dir>/tenants/<id>/`: transaction journal, call
    /// records). At start-up, [`TenantRuntime::recover`] follows.
    pub async fn load(
        config: TenantConfig,
        runtime: &Runtime,
        speech: crate::speech::Speech,
        data_dir: Option<PathBuf>,
    ) -> Result<Arc<TenantRuntime>, TenantError> {
        let invalid = |message: String| TenantError::Invalid {
            tenant: config.id.clone(),
            message,
        };
        let tz = crate::tenant::schedule::parse_time_zone(&config.time_zone)
            .map_err(|e| invalid(e.to_string()))?;
        let plugins = Arc::new(TenantPlugins::new(runtime.clone(), config.env()?));
        let mut loaded: Vec<(PathBuf, Arc<voxgate_runtime::PluginVersion>)> = Vec::new();
        // `default` first, so that per-interface entries override it.
        let mut entries: Vec<(&String, &PathBuf)> = config.plugins.iter().collect();
        entries.sort_by_key(|(k, _)| *k != "default");
        for (binding, path) in entries {
            let version = match loaded.iter().find(|(p, _)| p == path) {
                Some((_, v)) => v.clone(),
                None => {
                    let bytes = tokio::fs::read(path).await.map_err(|e| {
                        invalid(format!("plugin {}: cannot read it: {e}", path.display()))
                    })?;
                    let name = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().replace('_', "-"))
                        .unwrap_or_else(|| "plugin".into());
                    let rt = runtime.clone();
                    let version = tokio::task::spawn_blocking(move || rt.load(&name, &bytes))
                        .await
                        .map_err(|e| invalid(format!("plugin load task failed: {e}")))?
                        .map_err(|e| invalid(format!("plugin {}: {e}", path.display())))?;
                    loaded.push((path.clone(), version.clone()));
                    version
                }
            };
            let only = if binding == "default" {
                None
            } else {
                let cap = Capability::from_name(binding).ok_or_else(|| {
                    invalid(format!(
                        "plugins: `{binding}` is not an interface; use default or one of {}",
                        Capability::ALL.map(Capability::name).join(", ")
                    ))
                })?;
                Some(vec![cap])
            };
            plugins
                .activate(version, only.as_deref())
                .map_err(|e| invalid(e.to_string()))?;
        }
        let dir = data_dir.map(|d| d.join("tenants").join(&config.id));
        let journal = match &dir {
            Some(d) => Some(
                journal::Journal::open(&d.join("transactions.sqlite"), &crate::paths::host_name())
                    .map_err(|e| invalid(format!("transaction journal: {e}")))?,
            ),
            None => None,
        };
        Ok(Arc::new(TenantRuntime {
            config,
            tz,
            plugins,
            speech,
            records_dir: dir.map(|d| d.join("calls")),
            journal,
            recording: None,
            catalog: tokio::sync::Mutex::new(None),
            known_words: Mutex::new(Default::default()),
        }))
    }

    /// A tenant whose plugins and journal are kept elsewhere (by the control plane):
    /// `plugins` already serve what is active, records go to the store through events.
    pub fn from_parts(
        config: TenantConfig,
        plugins: Arc<TenantPlugins>,
        speech: crate::speech::Speech,
        journal: Option<journal::Journal>,
        recording: Option<RecordingPolicy>,
    ) -> Result<Arc<TenantRuntime>, TenantError> {
        let tz = crate::tenant::schedule::parse_time_zone(&config.time_zone).map_err(|e| {
            TenantError::Invalid {
                tenant: config.id.clone(),
                message: e.to_string(),
            }
        })?;
        plugins.set_env(config.env()?);
        Ok(Arc::new(TenantRuntime {
            config,
            tz,
            plugins,
            speech,
            records_dir: None,
            journal,
            recording,
            catalog: tokio::sync::Mutex::new(None),
            known_words: Mutex::new(Default::default()),
        }))
    }

    /// Finishes the changes a crash left open: at start-up this node's own and dead
    /// nodes' ([`journal::Claim::AtStart`]), later only dead nodes' (open rows of this
    /// node belong to its calls in progress).
    pub async fn recover(&self, claim: journal::Claim) {
        if let Some(j) = &self.journal {
            let session = self.plugins.session("recovery");
            let finished = j.recover(&self.config.id, &session, claim).await;
            if finished > 0 {
                tracing::info!(tenant = %self.config.id, "finished {finished} transaction(s) left open by a crash");
            }
        }
    }

    /// The agent the schedule picks at `at`.
    pub fn agent_at(&self, at: jiff::Timestamp) -> Choice {
        self.config.schedule.agent_at(&self.tz, at)
    }

    /// Product names for grammars: cached, refreshed through the plugin after
    /// [`CATALOG_TTL`]. A failing catalog leaves the last good list (or none) in place:
    /// the caller can still do everything but name products.
    pub async fn products(&self, session: &voxgate_runtime::Session) -> Arc<Vec<SpokenProduct>> {
        let mut cached = self.catalog.lock().await;
        if let Some((at, list)) = cached.as_ref()
            && at.elapsed() < CATALOG_TTL
        {
            return list.clone();
        }
        if !session.serves(Capability::Products) {
            return Arc::new(Vec::new());
        }
        let ctx = voxgate_runtime::CallContext {
            tenant: self.config.id.clone(),
            call_id: session.call_id().to_string(),
            caller: String::new(),
            called: String::new(),
            language: "en".into(),
            idempotency_key: None,
        };
        match session.search_products(&ctx, "", CATALOG_LIMIT).await {
            Ok(list) => {
                let spoken: Vec<SpokenProduct> = list
                    .iter()
                    .map(|p| SpokenProduct::new(&p.sku, &p.name))
                    .collect();
                let words: HashSet<String> = spoken
                    .iter()
                    .flat_map(|p| p.spoken.iter())
                    // The grammar also has each name in the plural.
                    .flat_map(|n| {
                        let plural = intents::pluralize(n);
                        n.split_whitespace()
                            .chain(plural.split_whitespace().last())
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .collect();
                self.learn_words(words).await;
                let list = Arc::new(spoken);
                *cached = Some((Instant::now(), list.clone()));
                list
            }
            Err(e) => {
                tracing::warn!(tenant = %self.config.id, "catalog for grammars: {e}");
                cached.as_ref().map(|(_, l)| l.clone()).unwrap_or_default()
            }
        }
    }

    /// Asks the recognizer's dictionary about words not asked before.
    pub async fn learn_words(&self, words: HashSet<String>) {
        let unknown: Vec<String> = {
            let known = self.known_words.lock().unwrap_or_else(|p| p.into_inner());
            words
                .into_iter()
                .filter(|w| !known.contains_key(w))
                .collect()
        };
        if unknown.is_empty() {
            return;
        }
        let speech = self.speech.clone();
        let answers = tokio::task::spawn_blocking(move || speech.dictionary_knows(&unknown))
            .await
            .ok()
            .and_then(Result::ok);
        let mut known = self.known_words.lock().unwrap_or_else(|p| p.into_inner());
        match answers {
            Some(a) => known.extend(a),
            None => tracing::warn!("the recognizer's dictionary could not be asked"),
        }
    }

    /// Whether the recognizer knows `word` (words never asked about count as known:
    /// the recognizer reports them if they are not).
    pub fn knows(&self, word: &str) -> bool {
        self.known_words
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(word)
            .copied()
            .unwrap_or(true)
    }
}
