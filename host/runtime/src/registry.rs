//! Which plugin version serves which interface for a tenant, and hot swap.
//!
//! The active set is one pointer: activation builds a new set and swaps it in
//! atomically, so a new call sees either the old set or the new one, never a mix, and a
//! call in flight keeps the set it pinned at its start.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, ArcSwapOption};

use crate::capability::Capability;
use crate::engine::Runtime;
use crate::plugin::PluginVersion;
use crate::session::Session;
use crate::tenant::TenantEnv;

/// An immutable binding of interfaces to plugin versions.
#[derive(Debug, Clone, Default)]
pub struct PluginSet {
    generation: u64,
    bound: [Option<Arc<PluginVersion>>; 9],
}

impl PluginSet {
    /// Increases with every activation or rollback of the tenant.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn get(&self, capability: Capability) -> Option<&Arc<PluginVersion>> {
        self.bound[capability.index()].as_ref()
    }

    /// Each bound interface with its version.
    pub fn bindings(&self) -> impl Iterator<Item = (Capability, &Arc<PluginVersion>)> {
        Capability::ALL
            .into_iter()
            .filter_map(|c| self.get(c).map(|v| (c, v)))
    }

    /// The distinct versions in the set.
    pub fn versions(&self) -> Vec<Arc<PluginVersion>> {
        let mut out: Vec<Arc<PluginVersion>> = Vec::new();
        for (_, v) in self.bindings() {
            if !out.iter().any(|o| o.id == v.id) {
                out.push(v.clone());
            }
        }
        out
    }
}

/// Why a registry operation was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("nothing to roll back to: this is the first activation")]
    NoPrevious,
    #[error("plugin {plugin} does not export `{capability}`")]
    NotExported {
        plugin: String,
        capability: Capability,
    },
    #[error("canary share must be 1 to 99 percent, not {0}")]
    BadShare(u8),
}

#[derive(Debug)]
struct Canary {
    set: Arc<PluginSet>,
    percent: u8,
}

/// One tenant's plugins: the active set, its history for rollback, an optional canary.
pub struct TenantPlugins {
    runtime: Runtime,
    env: ArcSwap<TenantEnv>,
    active: ArcSwap<PluginSet>,
    canary: ArcSwapOption<Canary>,
    /// Earlier active sets, newest last. Guarded so concurrent activations cannot lose
    /// one another's update.
    history: Mutex<Vec<Arc<PluginSet>>>,
    generations: AtomicU64,
}

impl std::fmt::Debug for TenantPlugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantPlugins")
            .field("tenant", &self.env.load().id)
            .field("active", &self.active.load().generation)
            .finish()
    }
}

impl TenantPlugins {
    pub fn new(runtime: Runtime, env: Arc<TenantEnv>) -> TenantPlugins {
        TenantPlugins {
            runtime,
            env: ArcSwap::new(env),
            active: ArcSwap::from_pointee(PluginSet::default()),
            canary: ArcSwapOption::empty(),
            history: Mutex::new(Vec::new()),
            generations: AtomicU64::new(0),
        }
    }

    pub fn env(&self) -> Arc<TenantEnv> {
        self.env.load_full()
    }

    /// Replaces the tenant's limits, hosts and settings for calls that start from now.
    pub fn set_env(&self, env: Arc<TenantEnv>) {
        self.env.store(env);
    }

    /// The set new calls get (canary aside).
    pub fn active(&self) -> Arc<PluginSet> {
        self.active.load_full()
    }

    /// Binds `version` to `only` the given interfaces, or to every interface it exports,
    /// for calls that start from now. Returns the new active set.
    pub fn activate(
        &self,
        version: Arc<PluginVersion>,
        only: Option<&[Capability]>,
    ) -> Result<Arc<PluginSet>, RegistryError> {
        let caps: Vec<Capability> = match only {
            Some(list) => {
                if let Some(&missing) = list.iter().find(|c| !version.serves(**c)) {
                    return Err(RegistryError::NotExported {
                        plugin: version.name.clone(),
                        capability: missing,
                    });
                }
                list.to_vec()
            }
            None => version.capabilities.clone(),
        };
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.active.load_full();
        let mut next = (*old).clone();
        next.generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        for cap in caps {
            next.bound[cap.index()] = Some(version.clone());
        }
        let next = Arc::new(next);
        self.active.store(next.clone());
        history.push(old);
        // A promotion ends any canary: everybody is on the new set now.
        self.canary.store(None);
        Ok(next)
    }

    /// Makes exactly `bound` the active set (interfaces not named are unbound), for calls
    /// that start from now; ends any canary. For a caller that keeps the history itself
    /// (the control plane rebuilds the set from its store).
    pub fn replace(
        &self,
        bound: &[(Capability, Arc<PluginVersion>)],
    ) -> Result<Arc<PluginSet>, RegistryError> {
        if let Some((cap, v)) = bound.iter().find(|(c, v)| !v.serves(*c)) {
            return Err(RegistryError::NotExported {
                plugin: v.name.clone(),
                capability: *cap,
            });
        }
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.active.load_full();
        let mut next = PluginSet {
            generation: self.generations.fetch_add(1, Ordering::Relaxed) + 1,
            ..PluginSet::default()
        };
        for (cap, v) in bound {
            next.bound[cap.index()] = Some(v.clone());
        }
        let next = Arc::new(next);
        self.active.store(next.clone());
        history.push(old);
        self.canary.store(None);
        Ok(next)
    }

    /// Makes the previous active set active again.
    pub fn rollback(&self) -> Result<Arc<PluginSet>, RegistryError> {
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let previous = history.pop().ok_or(RegistryError::NoPrevious)?;
        let mut restored = (*previous).clone();
        restored.generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let restored = Arc::new(restored);
        self.active.store(restored.clone());
        self.canary.store(None);
        Ok(restored)
    }

    /// Sends `percent` of new calls to the active set with `version` bound to every
    /// interface it exports; the rest stay on the active set.
    pub fn start_canary(
        &self,
        version: Arc<PluginVersion>,
        percent: u8,
    ) -> Result<(), RegistryError> {
        if !(1..=99).contains(&percent) {
            return Err(RegistryError::BadShare(percent));
        }
        let mut set = (*self.active.load_full()).clone();
        set.generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        for &cap in &version.capabilities {
            set.bound[cap.index()] = Some(version.clone());
        }
        self.canary.store(Some(Arc::new(Canary {
            set: Arc::new(set),
            percent,
        })));
        Ok(())
    }

    pub fn stop_canary(&self) {
        self.canary.store(None);
    }

    /// Starts a session for a call: pins the version set (active, or the canary for its
    /// share of calls, chosen by the call id so a retried call lands on the same side).
    pub fn session(&self, call_id: &str) -> Session {
        let set = match self.canary.load_full() {
            Some(canary) if bucket(call_id) < canary.percent => canary.set.clone(),
            _ => self.active.load_full(),
        };
        Session::new(self.runtime.clone(), self.env.load_full(), set, call_id)
    }
}

fn bucket(call_id: &str) -> u8 {
    let mut h = DefaultHasher::new();
    call_id.hash(&mut h);
    (h.finish() % 100) as u8
}
