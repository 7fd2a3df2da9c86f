//! Changes without a restart: tenant files and the plugin files they name are watched
//! (polled once a second, and re-read at once on SIGHUP). A change loads every tenant
//! afresh and swaps the whole directory in one step for new calls; calls in progress
//! keep the tenant (config and plugin versions) they started with. A change that does
//! not load is refused with its reason in the log, and the previous tenants keep
//! serving.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use voxgate_runtime::Runtime;

use super::{Directory, TenantConfig, TenantError};
use crate::dialog::TenantRuntime;

/// How often files are checked.
const POLL: Duration = Duration::from_secs(1);

/// The tenants new calls see; swapped whole on a change.
#[derive(Debug, Clone, Default)]
pub struct Tenants(Arc<ArcSwap<Directory>>);

impl Tenants {
    pub fn new(directory: Directory) -> Tenants {
        Tenants(Arc::new(ArcSwap::from_pointee(directory)))
    }

    pub fn current(&self) -> Arc<Directory> {
        self.0.load_full()
    }

    pub(crate) fn replace(&self, directory: Directory) {
        self.0.store(Arc::new(directory));
    }
}

/// What loading tenants needs.
#[derive(Clone)]
pub struct Loader {
    pub files: Vec<PathBuf>,
    pub runtime: Runtime,
    pub speech: crate::speech::Speech,
    pub data_dir: PathBuf,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Loader {
    /// Loads every tenant file; the first failure is the error.
    pub async fn load(&self) -> Result<Directory, TenantError> {
        let mut directory = Directory::default();
        for f in &self.files {
            let config = TenantConfig::load(f)?;
            let tenant = TenantRuntime::load(
                config,
                &self.runtime,
                self.speech.clone(),
                Some(self.data_dir.clone()),
            )
            .await?;
            directory.insert(tenant)?;
        }
        Ok(directory)
    }

    /// The files whose change means a reload: the tenant files and the plugins the
    /// current tenants use.
    fn watched(&self, current: &Directory) -> Vec<PathBuf> {
        let mut files = self.files.clone();
        for t in current.all() {
            files.extend(t.config.plugins.values().cloned());
        }
        files
    }
}

/// Modification time and length of each file (`None` if missing).
fn stamp(files: &[PathBuf]) -> Vec<Option<(SystemTime, u64)>> {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}

/// Watches the loader's files and swaps `tenants` when they change.
pub fn spawn(tenants: Tenants, loader: Loader) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut files = loader.watched(&tenants.current());
        let mut last = stamp(&files);
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(POLL);
        loop {
            #[cfg(unix)]
            let forced = tokio::select! {
                _ = tick.tick() => false,
                Some(()) = async {
                    match hangup.as_mut() {
                        Some(h) => h.recv().await,
                        None => std::future::pending().await,
                    }
                } => true,
            };
            #[cfg(not(unix))]
            let forced = {
                tick.tick().await;
                false
            };
            let now = stamp(&files);
            if !forced && now == last {
                continue;
            }
            last = now;
            match loader.load().await {
                Ok(directory) => {
                    let ids: Vec<String> = directory.all().map(|t| t.config.id.clone()).collect();
                    tenants.replace(directory);
                    tracing::info!("tenants reloaded ({}): new calls use them", ids.join(", "));
                    files = loader.watched(&tenants.current());
                    last = stamp(&files);
                }
                Err(e) => tracing::error!(
                    "tenant change refused, the previous configuration keeps serving: {e}"
                ),
            }
        }
    })
}
