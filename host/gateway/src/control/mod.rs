//! The control plane: tenants, plugins, calls and tokens kept in the store, the admin
//! API over them, live events, metrics, and draining for a shutdown.
//!
//! Tenants live in the control store (their config as JSON); each tenant's own data
//! (calls, plugin versions and their activation history, credits, transaction log)
//! lives in its own file under `<data>/tenants/<id>/`. [`ControlPlane`] turns what is
//! stored into the [`crate::tenant::Directory`] the SIP core routes new calls with, and
//! every change through the API is stored first and applied second, so a restart comes
//! back to exactly what was last accepted.

pub mod alerts;
pub mod api;
pub mod auth;
pub mod live;
pub mod metrics;
mod nodes;
mod plugins;
pub(crate) mod tenants;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};

use voxgate_runtime::{PluginVersion, Runtime, TenantPlugins};
use voxgate_store::{
    AuditEntry, ControlStore, PgStore, SqliteControlStore, SqliteTenantStore, StoreError,
    TenantStore,
};

pub use self::plugins::PluginsView;
use crate::dialog::journal::{Claim, Journal};
use crate::dialog::{RecordingPolicy, TenantRuntime};
use crate::tenant::watch::Tenants;
use crate::tenant::{Directory, TenantConfig};

/// Why a control-plane operation failed; the API maps each kind to its status code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PaymentRequired(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::NotFound(m) => Error::NotFound(m),
            StoreError::Conflict(m) => Error::Conflict(m),
            StoreError::Invalid(m) => Error::BadRequest(m),
            StoreError::Insufficient(m) => Error::PaymentRequired(m),
            StoreError::Db(e) => Error::Internal(format!("store: {e}")),
        }
    }
}

/// Runs blocking store work off the reactor.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("store task failed: {e}")))?
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    crate::sip::events::now_ms()
}

/// One tenant's handles that outlive config changes: its store, its plugins (active
/// set, canary), its journal, its recording key.
pub struct TenantData {
    pub id: String,
    pub store: Arc<dyn TenantStore>,
    pub plugins: Arc<TenantPlugins>,
    pub journal: Journal,
    /// `<data>/tenants/<id>/`.
    pub dir: PathBuf,
    key: [u8; 32],
    /// Versions compiled so far, by id.
    loaded: Mutex<HashMap<String, Arc<PluginVersion>>>,
    /// One plugin change at a time per tenant: each reads the history it appends to.
    plugin_changes: tokio::sync::Mutex<()>,
    /// The last step of the stored plugin history the live set reflects (0: none), so
    /// that a change another node made is applied here once.
    applied: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for TenantData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantData")
            .field("id", &self.id)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl TenantData {
    pub fn recordings_dir(&self) -> PathBuf {
        self.dir.join("recordings")
    }

    pub fn recording_key(&self) -> &[u8; 32] {
        &self.key
    }
}

/// The control plane of one gateway.
pub struct ControlPlane {
    pub control: Arc<dyn ControlStore>,
    pub data_dir: PathBuf,
    runtime: Runtime,
    speech: crate::speech::Speech,
    /// What new calls are routed with.
    pub tenants: Tenants,
    data: Mutex<HashMap<String, Arc<TenantData>>>,
    /// Built tenants and the config version they were built from.
    built: Mutex<HashMap<String, (i64, Arc<TenantRuntime>)>>,
    pub live: live::Hub,
    pub metrics: Arc<metrics::Metrics>,
    pub alerts: alerts::Alerts,
    /// Set while draining for a shutdown (shared with the SIP core).
    pub draining: Arc<AtomicBool>,
    /// One tenant change at a time: each checks numbers against the directory it
    /// replaces.
    changes: tokio::sync::Mutex<()>,
    /// The largest plugin upload accepted, in bytes.
    max_upload: std::sync::atomic::AtomicUsize,
    /// Post-call analysis workers.
    pub analytics: crate::analytics::worker::Settings,
    /// This gateway's name among the nodes sharing a store.
    node_id: String,
    /// The PostgreSQL store, when nodes share one (else each tenant has its SQLite file).
    shared: Option<PgStore>,
}

/// Where a gateway keeps its data, and its name among nodes sharing it.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// A PostgreSQL connection string: the store every node shares. `None`: SQLite files
    /// under the data folder.
    pub postgres: Option<String>,
    /// The name written into every call record and held by this node's open
    /// transactions (default: the host name).
    pub node_id: Option<String>,
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// Plugin uploads above this are refused with 413 unless configured otherwise.
pub const DEFAULT_MAX_UPLOAD: usize = 64 << 20;

impl ControlPlane {
    /// Opens the control store under `data_dir` and builds every stored tenant.
    pub async fn open(
        data_dir: &Path,
        runtime: Runtime,
        speech: crate::speech::Speech,
    ) -> Result<Arc<ControlPlane>, Error> {
        Self::open_with(data_dir, runtime, speech, StoreOptions::default()).await
    }

    /// Opens the store `options` names (SQLite under `data_dir`, or PostgreSQL) and
    /// builds every stored tenant. `data_dir` keeps this node's recordings either way.
    pub async fn open_with(
        data_dir: &Path,
        runtime: Runtime,
        speech: crate::speech::Speech,
        options: StoreOptions,
    ) -> Result<Arc<ControlPlane>, Error> {
        let dir = data_dir.to_path_buf();
        let (control, shared) = blocking(move || {
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
            match &options.postgres {
                Some(url) => {
                    let pg = PgStore::connect(url).map_err(|e| Error::Internal(e.to_string()))?;
                    let control: Arc<dyn ControlStore> = Arc::new(pg.control());
                    Ok((control, Some(pg)))
                }
                None => {
                    let control: Arc<dyn ControlStore> = Arc::new(
                        SqliteControlStore::open(dir.join("control.sqlite"))
                            .map_err(|e| Error::Internal(e.to_string()))?,
                    );
                    Ok((control, None))
                }
            }
        })
        .await?;
        let metrics = Arc::new(metrics::Metrics::default());
        let plane = Arc::new(ControlPlane {
            control,
            data_dir: data_dir.to_path_buf(),
            runtime,
            speech,
            tenants: Tenants::default(),
            data: Mutex::new(HashMap::new()),
            built: Mutex::new(HashMap::new()),
            live: live::Hub::new(),
            metrics,
            alerts: alerts::Alerts::default(),
            draining: Arc::new(AtomicBool::new(false)),
            changes: tokio::sync::Mutex::new(()),
            max_upload: std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_UPLOAD),
            analytics: crate::analytics::worker::Settings::default(),
            node_id: options.node_id.unwrap_or_else(crate::paths::host_name),
            shared,
        });
        plane.rebuild().await?;
        live::spawn_recorder(&plane);
        crate::analytics::worker::spawn(&plane);
        nodes::spawn(&plane);
        Ok(plane)
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Whether several nodes may share this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    pub fn max_upload(&self) -> usize {
        self.max_upload.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_max_upload(&self, bytes: usize) {
        self.max_upload
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// The event sink that feeds this control plane (store, live stream, metrics).
    pub fn event_sink(&self, base: crate::sip::events::EventSink) -> crate::sip::events::EventSink {
        base.with_listener(Arc::new(self.live.clone()))
            .with_listener(self.metrics.clone())
    }

    /// Every stored tenant's data handles, opened on first use.
    pub fn tenant_data(&self, id: &str) -> Option<Arc<TenantData>> {
        self.data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Notes a change in the audit log; a failure to write it is logged, not fatal to
    /// the change already made.
    pub async fn audit(
        &self,
        actor: &str,
        tenant: Option<&str>,
        action: &str,
        target: &str,
        detail: String,
    ) {
        let entry = AuditEntry {
            seq: 0,
            at: now_ms(),
            actor: actor.to_string(),
            tenant: tenant.map(str::to_string),
            action: action.to_string(),
            target: target.to_string(),
            detail,
        };
        let control = self.control.clone();
        if let Err(e) = blocking(move || Ok(control.audit(&entry)?)).await {
            tracing::error!("audit log not written: {e}");
        }
    }

    /// Opens (or returns) a tenant's data handles and restores its plugins from the
    /// stored history.
    async fn open_data(
        &self,
        id: &str,
        config: &TenantConfig,
        key: [u8; 32],
    ) -> Result<Arc<TenantData>, Error> {
        if let Some(d) = self.tenant_data(id) {
            return Ok(d);
        }
        let dir = self.data_dir.join("tenants").join(id);
        let path = dir.join("tenant.sqlite");
        let (store, journal) = {
            let dir = dir.clone();
            let (shared, node, tenant) =
                (self.shared.clone(), self.node_id.clone(), id.to_string());
            blocking(move || {
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Error::Internal(format!("cannot create {}: {e}", dir.display()))
                })?;
                if let Some(pg) = shared {
                    let store: Arc<dyn TenantStore> = Arc::new(pg.tenant(&tenant));
                    return Ok((store, Journal::new(Arc::new(pg.txlog()), &node)));
                }
                let store: Arc<dyn TenantStore> = Arc::new(
                    SqliteTenantStore::open(&path).map_err(|e| Error::Internal(e.to_string()))?,
                );
                let journal = Journal::open(&path, &node).map_err(Error::Internal)?;
                Ok((store, journal))
            })
            .await?
        };
        let env = config.env().map_err(|e| Error::BadRequest(e.to_string()))?;
        let data = Arc::new(TenantData {
            id: id.to_string(),
            store,
            plugins: Arc::new(TenantPlugins::new(self.runtime.clone(), env)),
            journal,
            dir,
            key,
            loaded: Mutex::new(HashMap::new()),
            plugin_changes: tokio::sync::Mutex::new(()),
            applied: std::sync::atomic::AtomicI64::new(0),
        });
        self.restore_plugins(&data).await?;
        // Two requests may have opened it at once: the first one in wins.
        let mut all = self.data.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(all.entry(id.to_string()).or_insert(data).clone())
    }

    /// Builds the tenant as stored in `row`.
    async fn build(&self, row: &voxgate_store::TenantRow) -> Result<Arc<TenantRuntime>, Error> {
        if let Some((at, built)) = self
            .built
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&row.id)
            && *at == row.updated_at
        {
            return Ok(built.clone());
        }
        let config = tenants::parse_config(&row.config)?;
        let data = self.open_data(&row.id, &config, row.recording_key).await?;
        let recording = config.recording.then(|| RecordingPolicy {
            tenant: row.id.clone(),
            dir: data.recordings_dir(),
            key: row.recording_key,
        });
        let tenant = TenantRuntime::from_parts(
            config,
            data.plugins.clone(),
            self.speech.clone(),
            Some(data.journal.clone()),
            recording,
        )
        .map_err(|e| Error::BadRequest(e.to_string()))?;
        self.built
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(row.id.clone(), (row.updated_at, tenant.clone()));
        Ok(tenant)
    }

    /// Rebuilds the directory from the store and swaps it in for new calls. A tenant
    /// that does not build is left out (and logged), so one bad row cannot take the
    /// others down.
    pub async fn rebuild(&self) -> Result<(), Error> {
        let control = self.control.clone();
        let rows = blocking(move || Ok(control.tenants()?)).await?;
        let mut directory = Directory::default();
        for row in &rows {
            match self.build(row).await {
                Ok(t) => {
                    if let Err(e) = directory.insert(t) {
                        tracing::error!("tenant `{}` left out: {e}", row.id);
                    }
                }
                Err(e) => tracing::error!("tenant `{}` left out: {e}", row.id),
            }
        }
        let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        self.built
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|id, _| ids.contains(id.as_str()));
        self.tenants.replace(directory);
        Ok(())
    }

    /// Finishes what a crash left open in every tenant's transaction log: this node's
    /// own from before it restarted, and any a dead node left. At start-up, before calls
    /// are taken; later, [`nodes`] sweeps for dead nodes' only.
    pub async fn recover(self: &Arc<Self>) {
        for t in self.tenants.current().all() {
            t.recover(Claim::AtStart).await;
        }
        nodes::spawn_sweep(self);
    }

    /// Deletes transcripts and recordings past each tenant's retention.
    pub async fn expire_old_data(&self) {
        let now = now_ms();
        for t in self.tenants.current().all() {
            let Some(days) = t.config.retention_days else {
                continue;
            };
            let Some(data) = self.tenant_data(&t.config.id) else {
                continue;
            };
            let before = now - i64::from(days) * 86_400_000;
            let store = data.store.clone();
            let dir = data.recordings_dir();
            let analyses_dir = crate::analytics::worker::recordings_dir(&data);
            let result = blocking(move || {
                let expired = store.expire(before, now)?;
                let calls = expired.recordings.iter().map(|n| dir.join(n));
                let analyses = expired
                    .analysis_recordings
                    .iter()
                    .map(|n| analyses_dir.join(n));
                for path in calls.chain(analyses) {
                    if let Err(e) = std::fs::remove_file(&path)
                        && e.kind() != std::io::ErrorKind::NotFound
                    {
                        tracing::warn!("cannot delete {}: {e}", path.display());
                    }
                }
                Ok(expired)
            })
            .await;
            match result {
                Ok(e) if e.calls > 0 => tracing::info!(
                    tenant = %t.config.id,
                    "retention: {} call(s) older than {days} days lost their transcript, {} recording(s) deleted",
                    e.calls,
                    e.recordings.len()
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(tenant = %t.config.id, "retention run failed: {e}"),
            }
        }
    }

    /// Runs [`ControlPlane::expire_old_data`] now and every hour.
    pub fn spawn_retention(self: &Arc<Self>) {
        let plane = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let Some(p) = plane.upgrade() else { break };
                p.expire_old_data().await;
            }
        });
    }
}
