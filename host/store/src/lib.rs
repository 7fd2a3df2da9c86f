//! voxgate's durable store, on SQLite (one node) or PostgreSQL (several nodes sharing it,
//! see [`pg`]).
//!
//! Three parts, each a trait the gateway uses whatever the backend: the control plane
//! ([`ControlStore`]: tenants, tokens, audit), each tenant's own data ([`TenantStore`]:
//! calls, plugin versions, activations, credits, analyses; on SQLite in the tenant's own
//! file), and the transaction log ([`TxLog`]; on SQLite in that same file).
//!
//! The transaction log: every change a caller makes
//! by phone goes through the plugin's two-phase `transactions` interface (prepare, read
//! back, commit or abort), and the log is what lets voxgate, after a crash, abort what the
//! caller never confirmed and commit — exactly once — what they did.
//!
//! The store is synchronous on purpose: SQLite calls block (and a durable commit waits on
//! an fsync), as do PostgreSQL round trips, so the gateway calls it from tokio's blocking
//! pool rather than pretending it is async. Every store is `Send + Sync`; share it in an
//! `Arc`.
//!
//! The schema is versioned in the file itself (`PRAGMA user_version`) and migrated when
//! the file is opened; a file written by a newer voxgate is refused rather than guessed
//! at. Tables added later (call records, transcripts, audit) append migrations to the
//! same ordered list, see [`SCHEMA_VERSION`].

mod analyses;
mod control;
pub mod pg;
mod schema;
mod tenant;
mod txlog;

use std::path::PathBuf;

pub use analyses::{AnalysisFilter, AnalysisRow, Created, Finished, NewAnalysis};
pub use control::{AuditEntry, ControlStore, SqliteControlStore, TenantRow, TokenRow};
pub use pg::PgStore;
pub use schema::SCHEMA_VERSION;
pub use tenant::{
    Activation, Bindings, CallEnd, CallFilter, CallOutcome, CallRow, CreditEntry, Expired, NewCall,
    PluginRow, SqliteTenantStore, TenantStore,
};
pub use txlog::{
    BeginError, Intent, Money, OpenState, Outcome, Pending, Prepared, ReadError, Recovery,
    SqliteTxLog, State, Transaction, TransitionError, TxId, TxLog,
};

/// An error from the database itself: I/O, a full disk, a lock held past the busy
/// timeout, a damaged file, a PostgreSQL server that is down or refused a statement.
///
/// Opaque so that the error enums of this crate do not make `rusqlite` or `postgres`
/// part of its API; the underlying error stays reachable as the `source`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DbError(DbErrorKind);

#[derive(Debug, thiserror::Error)]
enum DbErrorKind {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[source] ::postgres::Error),
    #[error("PostgreSQL: {0}")]
    Pool(String),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError(DbErrorKind::Sqlite(e))
    }
}

impl From<::postgres::Error> for DbError {
    fn from(e: ::postgres::Error) -> DbError {
        DbError(DbErrorKind::Postgres(e))
    }
}

impl DbError {
    pub(crate) fn pool(message: impl Into<String>) -> DbError {
        DbError(DbErrorKind::Pool(message.into()))
    }

    /// Whether another writer was in the way (an SQLite lock held past the busy timeout,
    /// a PostgreSQL serialization failure or deadlock): the one failure worth retrying as
    /// is.
    pub fn is_busy(&self) -> bool {
        match &self.0 {
            DbErrorKind::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            DbErrorKind::Postgres(e) => e.code().is_some_and(|c| {
                *c == ::postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == ::postgres::error::SqlState::T_R_DEADLOCK_DETECTED
            }),
            DbErrorKind::Pool(_) => false,
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// The tenant's credits cannot cover what was asked.
    #[error("{0}")]
    Insufficient(String),
}

/// Why a store file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the store {}: {source}", path.display())]
    Db {
        path: PathBuf,
        #[source]
        source: DbError,
    },
    #[error(
        "the store {} has schema version {found}, but this voxgate knows versions up to \
         {supported}: it was written by a newer voxgate; run that one, or restore a backup",
        path.display()
    )]
    UnsupportedSchema {
        path: PathBuf,
        found: i64,
        supported: u32,
    },
    #[error(
        "{} is an SQLite file of another application (application_id {found:#010x}), not a \
         voxgate store",
        path.display()
    )]
    ForeignFile { path: PathBuf, found: i32 },
    #[error("{what}: {source}")]
    Server {
        what: String,
        #[source]
        source: DbError,
    },
    #[error(
        "the store in PostgreSQL database {database} has schema version {found}, but this \
         voxgate knows versions up to {supported}: a newer voxgate migrated it; run that one"
    )]
    NewerServerSchema {
        database: String,
        found: i64,
        supported: usize,
    },
    #[error(
        "the store {} cannot use write-ahead logging (journal mode stays {mode:?}); it needs \
         a local file system with shared memory",
        path.display()
    )]
    NoWal { path: PathBuf, mode: String },
}
