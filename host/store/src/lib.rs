//! voxgate's durable store, on SQLite.
//!
//! Three parts, each behind what the gateway needs of it so that a PostgreSQL store can
//! stand in: the control plane ([`ControlStore`]: tenants, tokens, audit), each tenant's
//! own data in its own file ([`TenantStore`]: calls, plugin versions, activations,
//! credits), and in that same file the transaction log ([`TxLog`]).
//!
//! The transaction log: every change a caller makes
//! by phone goes through the plugin's two-phase `transactions` interface (prepare, read
//! back, commit or abort), and the log is what lets voxgate, after a crash, abort what the
//! caller never confirmed and commit — exactly once — what they did.
//!
//! The store is synchronous on purpose: SQLite calls block (and a durable commit waits on
//! an fsync), so the gateway calls it from tokio's blocking pool rather than pretending it
//! is async. [`TxLog`] is `Send + Sync`; share it in an `Arc`.
//!
//! The schema is versioned in the file itself (`PRAGMA user_version`) and migrated when
//! the file is opened; a file written by a newer voxgate is refused rather than guessed
//! at. Tables added later (call records, transcripts, audit) append migrations to the
//! same ordered list, see [`SCHEMA_VERSION`].

mod analyses;
mod control;
mod schema;
mod tenant;
mod txlog;

use std::path::PathBuf;

pub use analyses::{AnalysisFilter, AnalysisRow, Created, Finished, NewAnalysis};
pub use control::{AuditEntry, ControlStore, SqliteControlStore, TenantRow, TokenRow};
pub use schema::SCHEMA_VERSION;
pub use tenant::{
    Activation, Bindings, CallEnd, CallFilter, CallOutcome, CallRow, CreditEntry, Expired, NewCall,
    PluginRow, SqliteTenantStore, TenantStore,
};
pub use txlog::{
    BeginError, Intent, Money, OpenState, Outcome, Pending, Prepared, ReadError, Recovery, State,
    Transaction, TransitionError, TxId, TxLog,
};

/// An error from SQLite itself: I/O, a full disk, a lock held past the busy timeout, a
/// damaged file.
///
/// A newtype so that the error enums of this crate do not make `rusqlite` part of its
/// API; the underlying error stays reachable as the `source`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DbError(#[from] rusqlite::Error);

impl DbError {
    /// Whether the database was locked by another connection for longer than the busy
    /// timeout: the one failure worth retrying as is.
    pub fn is_busy(&self) -> bool {
        matches!(
            self.0.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
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
    #[error(
        "the store {} cannot use write-ahead logging (journal mode stays {mode:?}); it needs \
         a local file system with shared memory",
        path.display()
    )]
    NoWal { path: PathBuf, mode: String },
}
