//! The store tests' two backends: a fresh SQLite file, or a fresh database on a
//! PostgreSQL server this test binary starts (once) from the machine's binaries.
//! `both_backends!` turns one test body into a test per backend.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use voxgate_store::pg::LocalCluster;
use voxgate_store::{
    ControlStore, PgStore, SqliteControlStore, SqliteTenantStore, SqliteTxLog, TenantStore, TxLog,
};

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("voxgate-store-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("store.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The PostgreSQL server of this test binary, started on first use.
pub fn cluster() -> &'static LocalCluster {
    static CLUSTER: OnceLock<LocalCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| LocalCluster::start().unwrap_or_else(|e| panic!("{e}")))
}

/// A new, empty database on [`cluster`], connected and migrated.
pub fn fresh_pg(label: &str) -> (PgStore, String) {
    static N: AtomicU32 = AtomicU32::new(0);
    // Names are at most 63 bytes; test names can be longer.
    let short: String = label.chars().take(40).collect();
    let name = format!("{short}_{}", N.fetch_add(1, Ordering::Relaxed));
    let url = cluster()
        .create_database(&name)
        .unwrap_or_else(|e| panic!("{e}"));
    let store = PgStore::connect(&url).unwrap_or_else(|e| panic!("{e}\n{}", cluster().log()));
    (store, url)
}

/// Where one test's stores live; [`Backend::reopen`] gives new handles on the same data,
/// as a restarted gateway would get.
pub enum Backend {
    Sqlite(Arc<TempDir>),
    Postgres { url: String, store: PgStore },
}

impl Backend {
    pub fn sqlite(label: &str) -> Backend {
        Backend::Sqlite(Arc::new(TempDir::new(label)))
    }

    pub fn postgres(label: &str) -> Backend {
        let (store, url) = fresh_pg(label);
        Backend::Postgres { url, store }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres { .. })
    }

    /// Tenant `acme`'s data.
    pub fn tenant(&self) -> Arc<dyn TenantStore> {
        self.tenant_named("acme")
    }

    pub fn tenant_named(&self, id: &str) -> Arc<dyn TenantStore> {
        match self {
            Backend::Sqlite(dir) => {
                Arc::new(SqliteTenantStore::open(dir.0.join(format!("{id}.sqlite"))).unwrap())
            }
            Backend::Postgres { store, .. } => Arc::new(store.tenant(id)),
        }
    }

    /// The transaction log (SQLite: tenant `acme`'s file, which tests use for every
    /// tenant; PostgreSQL: the shared log).
    pub fn txlog(&self) -> Arc<dyn TxLog> {
        match self {
            Backend::Sqlite(dir) => Arc::new(SqliteTxLog::open(dir.0.join("acme.sqlite")).unwrap()),
            Backend::Postgres { store, .. } => Arc::new(store.txlog()),
        }
    }

    pub fn control(&self) -> Arc<dyn ControlStore> {
        match self {
            Backend::Sqlite(dir) => {
                Arc::new(SqliteControlStore::open(dir.0.join("control.sqlite")).unwrap())
            }
            Backend::Postgres { store, .. } => Arc::new(store.control()),
        }
    }

    /// A second connection to the same data (another node, or the same after a restart).
    pub fn reopen(&self) -> Backend {
        match self {
            Backend::Sqlite(dir) => Backend::Sqlite(dir.clone()),
            Backend::Postgres { url, .. } => Backend::Postgres {
                url: url.clone(),
                store: PgStore::connect(url).unwrap(),
            },
        }
    }
}

/// `both_backends!(name, |backend| { … })`: the body once on SQLite and once on
/// PostgreSQL, as tests `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$backend:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($backend: $crate::support::Backend) $body

            #[test]
            fn sqlite() {
                run($crate::support::Backend::sqlite(stringify!($name)));
            }

            #[test]
            fn postgres() {
                run($crate::support::Backend::postgres(stringify!($name)));
            }
        }
    };
}
