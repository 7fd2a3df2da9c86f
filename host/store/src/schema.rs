//! The stores' schemas as ordered lists of migrations, and the code that opens a file and
//! brings it up to date.
//!
//! Two kinds of file: a tenant's own ([`TENANT`]: its transaction log, calls, plugin
//! versions, credits), one per tenant so that a company's data can sit on its own volume
//! and be backed up, exported or deleted on its own; and the control plane's ([`CONTROL`]:
//! tenants, tokens, the audit log). Each kind has its own application id, so one kind
//! is never migrated as the other.
//!
//! The version lives in the file (`PRAGMA user_version`, not SQLite's own
//! `schema_version`, which SQLite bumps itself on every schema change). Migration `i`
//! takes a file from version `i` to `i + 1`. The list is append-only: a migration that
//! shipped is never edited, because files in the field already ran it; a fix is a new
//! migration.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::{DbError, OpenError};

/// How long a statement waits for another connection's lock before giving up. Writes are
/// single small rows, so a wait this long means something is wrong; shorter would turn a
/// checkpoint or a concurrent migration into a lost confirmation.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One kind of store file: how it is marked and how it is built.
#[derive(Debug)]
pub(crate) struct Schema {
    /// Marks the file as this kind of voxgate store, so that pointing voxgate at some
    /// other application's SQLite file (or the other kind) fails instead of adding tables
    /// to it.
    pub application_id: i32,
    pub migrations: &'static [&'static str],
}

/// A tenant's file ("voxg").
pub(crate) const TENANT: Schema = Schema {
    application_id: 0x766f_7867,
    migrations: &[
        V1_TX_LOG,
        V2_TENANT_DATA,
        V3_ANALYSES,
        V4_CALL_NODE,
        V5_TX_OWNER,
    ],
};

/// The control plane's file ("voxc").
pub(crate) const CONTROL: Schema = Schema {
    application_id: 0x766f_7863,
    migrations: &[C1_CONTROL],
};

/// Version 1: the transaction log.
///
/// Times are unix milliseconds (UTC): they compare and subtract in SQL for ages and
/// pruning. `expires_at` is the plugin's RFC 3339 string, kept as the plugin gave it.
const V1_TX_LOG: &str = "
PRAGMA application_id = 1987016807;

CREATE TABLE tx_log (
    -- AUTOINCREMENT, so that an id is never handed out twice even after prune deleted
    -- the newest rows: a call record naming a transaction must never come to name another.
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant            TEXT    NOT NULL,
    call_id           TEXT    NOT NULL,
    idempotency_key   TEXT    NOT NULL,
    plugin_version    TEXT    NOT NULL,
    -- Recovery re-sends it to the plugin, possibly after a restart: reject garbage now.
    operation         TEXT    NOT NULL CHECK (json_valid(operation)),
    state             TEXT    NOT NULL CHECK (state IN
                          ('preparing', 'prepared', 'confirmed', 'committed', 'aborted', 'failed')),
    transaction_id    TEXT,
    summary           TEXT,
    total_minor_units INTEGER,
    currency          TEXT,
    expires_at        TEXT,
    reference         TEXT,
    message           TEXT,
    abort_reason      TEXT,
    failure           TEXT,
    begun_at          INTEGER NOT NULL,
    prepared_at       INTEGER,
    confirmed_at      INTEGER,
    ended_at          INTEGER,
    -- A retried prepare relies on this: one key, one transaction, per tenant.
    UNIQUE (tenant, idempotency_key),
    -- The invariants recovery depends on, enforced where no code path can skip them.
    CHECK ((total_minor_units IS NULL) = (currency IS NULL)),
    CHECK (state NOT IN ('prepared', 'confirmed', 'committed') OR transaction_id IS NOT NULL),
    CHECK (state NOT IN ('confirmed', 'committed') OR confirmed_at IS NOT NULL),
    CHECK (state <> 'committed' OR (reference IS NOT NULL AND message IS NOT NULL)),
    CHECK (state <> 'aborted' OR abort_reason IS NOT NULL),
    CHECK (state <> 'failed' OR failure IS NOT NULL),
    CHECK ((state IN ('committed', 'aborted', 'failed')) = (ended_at IS NOT NULL))
);

CREATE INDEX tx_log_call ON tx_log (tenant, call_id);

-- Recovery reads only open rows; a partial index keeps that read small however long the
-- log grows between prunes.
CREATE INDEX tx_log_open ON tx_log (id) WHERE state IN ('preparing', 'prepared', 'confirmed');

CREATE INDEX tx_log_ended ON tx_log (ended_at) WHERE ended_at IS NOT NULL;
";

/// Version 2: the rest of a tenant's data.
///
/// `calls` is one row per call, written as its events arrive (started, record, ended) in
/// whatever order; the columns the API filters on are copied out of the record.
/// Plugin versions are immutable and named by the SHA-256 of their bytes; activations
/// are an append-only history whose last row is what serves, so a restart (or another
/// node) rebuilds the active set, the canary and what a rollback returns to.
const V2_TENANT_DATA: &str = "
CREATE TABLE calls (
    call_id         TEXT    PRIMARY KEY,
    caller          TEXT    NOT NULL DEFAULT '',
    called          TEXT    NOT NULL DEFAULT '',
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    duration_ms     INTEGER,
    outcome         TEXT    NOT NULL DEFAULT '',
    agent           TEXT    NOT NULL DEFAULT '',
    summary         TEXT    NOT NULL DEFAULT '',
    end_reason      TEXT,
    -- JSON: the dialog's record, the RTP statistics, the plugin versions the call used.
    record          TEXT    CHECK (record IS NULL OR json_valid(record)),
    rtp             TEXT    CHECK (rtp IS NULL OR json_valid(rtp)),
    plugin_versions TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(plugin_versions)),
    -- The encrypted recording's file name, relative to the tenant's recordings folder.
    recording       TEXT,
    -- Set when retention removed the transcript and the recording.
    expired_at      INTEGER
);
CREATE INDEX calls_started ON calls (started_at);

CREATE TABLE plugin_versions (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    wit_version  TEXT    NOT NULL,
    interfaces   TEXT    NOT NULL CHECK (json_valid(interfaces)),
    uploaded_at  INTEGER NOT NULL,
    uploaded_by  TEXT    NOT NULL,
    bytes        BLOB    NOT NULL
);

CREATE TABLE plugin_activations (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL CHECK (action IN ('activate', 'rollback', 'canary', 'canary-stop')),
    -- What the action named (the version activated or put on canary), if anything.
    version   TEXT    REFERENCES plugin_versions (id),
    -- The whole state after the action: interface -> version id, and the canary.
    bindings  TEXT    NOT NULL CHECK (json_valid(bindings)),
    canary_version TEXT REFERENCES plugin_versions (id),
    canary_percent INTEGER CHECK (canary_percent IS NULL OR canary_percent BETWEEN 1 AND 99)
);

CREATE TABLE credits (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    amount  INTEGER NOT NULL,
    balance INTEGER NOT NULL CHECK (balance >= 0),
    note    TEXT    NOT NULL DEFAULT ''
);
";

/// Version 3: post-call analyses, queue and results in one table (see `analyses.rs`).
/// `call_id` is unique: posting the same call again finds its analysis. The columns the
/// KPIs group by are copied out of the metadata and the result.
const V3_ANALYSES: &str = "
CREATE TABLE analyses (
    id              TEXT    PRIMARY KEY,
    call_id         TEXT    NOT NULL UNIQUE,
    source          TEXT    NOT NULL CHECK (source IN ('upload', 'voxgate')),
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    metadata        TEXT    NOT NULL CHECK (json_valid(metadata)),
    -- The sealed recording's file name in the tenant's analyses folder (until done).
    recording       TEXT,
    recording_ms    INTEGER,
    credits         INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    progress        REAL    NOT NULL DEFAULT 0,
    error           TEXT,
    transcript      TEXT    CHECK (transcript IS NULL OR json_valid(transcript)),
    result          TEXT    CHECK (result IS NULL OR json_valid(result)),
    date_time       INTEGER NOT NULL,
    queue           TEXT    NOT NULL DEFAULT '',
    agent_id        TEXT    NOT NULL DEFAULT '',
    department      TEXT    NOT NULL DEFAULT '',
    category        TEXT    NOT NULL DEFAULT '',
    sentiment       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX analyses_work ON analyses (status, next_attempt_at);
CREATE INDEX analyses_date ON analyses (date_time);
";

/// Version 4: which gateway node handled a call (several nodes share one store).
const V4_CALL_NODE: &str = "
ALTER TABLE calls ADD COLUMN node TEXT NOT NULL DEFAULT '';
";

/// Version 5: which node holds each open transaction, and when it last said it is alive
/// (see `TxLog::claim`). Rows from before have no holder and a zero time: whichever node
/// opens the file next claims them, as recovery at start-up always did.
const V5_TX_OWNER: &str = "
ALTER TABLE tx_log ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE tx_log ADD COLUMN renewed_at INTEGER NOT NULL DEFAULT 0;
";

/// Control version 1: tenants (their config as JSON, their recording key), API tokens
/// (only a hash of each), and the audit log.
const C1_CONTROL: &str = "
PRAGMA application_id = 1987016803;

CREATE TABLE tenants (
    id            TEXT    PRIMARY KEY,
    config        TEXT    NOT NULL CHECK (json_valid(config)),
    recording_key BLOB    NOT NULL CHECK (length(recording_key) = 32),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE tokens (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    -- NULL: an operator token (every tenant).
    tenant      TEXT,
    hash        BLOB    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    tenant  TEXT,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL DEFAULT '',
    detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_tenant ON audit (tenant, seq);
";

/// The schema version of a tenant's file this build writes and understands: a freshly
/// opened file has it.
pub const SCHEMA_VERSION: u32 = TENANT.migrations.len() as u32;

/// Opens (creating if needed) a store file of `schema`'s kind in WAL mode with durable
/// commits, and migrates it.
pub(crate) fn open(path: &Path, schema: &Schema) -> Result<Connection, OpenError> {
    let db = |source: rusqlite::Error| OpenError::Db {
        path: path.to_owned(),
        source: DbError::from(source),
    };
    let mut conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
    check(&conn, path, schema)?;
    // WAL: the dashboard and the admin API read while calls write, and a reader never
    // blocks a caller's confirmation (nor the other way round). The mode is stored in
    // the file, so every connection to it gets it.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(db)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenError::NoWal {
            path: path.to_owned(),
            mode,
        });
    }
    // FULL, not WAL's usual NORMAL: NORMAL survives a crash of voxgate but may lose the
    // last commits to a power cut, and a caller who heard "your order is confirmed" must
    // not lose it to one, nor an operator a finished call's record. FULL fsyncs the WAL
    // on every commit.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
    migrate(&mut conn, path, schema)?;
    Ok(conn)
}

/// One open store file: a single connection behind a mutex. A mutex rather than a
/// connection per thread: SQLite serialises writers anyway, and one connection keeps the
/// pragmas of [`open`] in force for every write.
#[derive(Debug)]
pub(crate) struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Db {
    pub(crate) fn open(path: &Path, schema: &Schema) -> Result<Db, OpenError> {
        Ok(Db {
            conn: Mutex::new(open(path, schema)?),
            path: path.to_owned(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot have left a half-done write behind: every
        // write is one statement or a rusqlite transaction, which rolls back when dropped.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Refuses a file this build cannot read, before anything writes to it (even the switch
/// to WAL), so that a newer voxgate's file is left exactly as it was.
fn check(conn: &Connection, path: &Path, schema: &Schema) -> Result<(), OpenError> {
    let (version, application_id) = header(conn).map_err(|source| OpenError::Db {
        path: path.to_owned(),
        source,
    })?;
    refuse_unknown(path, version, application_id, schema)
}

/// Applies the migrations the file lacks, all in one transaction: a crash half-way leaves
/// the file at its old version, never between two.
fn migrate(conn: &mut Connection, path: &Path, schema: &Schema) -> Result<(), OpenError> {
    let db = |source: rusqlite::Error| OpenError::Db {
        path: path.to_owned(),
        source: DbError::from(source),
    };
    // IMMEDIATE takes the write lock before reading the version, so two processes opening
    // a fresh file at once cannot both run version 1: the second waits, then finds it done.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    let (version, application_id) = header(&tx).map_err(|source| OpenError::Db {
        path: path.to_owned(),
        source,
    })?;
    refuse_unknown(path, version, application_id, schema)?;
    let all = schema.migrations.len();
    let done = usize::try_from(version).unwrap_or(all);
    if done == all {
        return Ok(());
    }
    for migration in schema.migrations.iter().skip(done) {
        tx.execute_batch(migration).map_err(db)?;
    }
    tx.pragma_update(None, "user_version", i64::try_from(all).unwrap_or(i64::MAX))
        .map_err(db)?;
    tx.commit().map_err(db)
}

fn header(conn: &Connection) -> Result<(i64, i32), DbError> {
    let version = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let application_id = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
    Ok((version, application_id))
}

fn refuse_unknown(
    path: &Path,
    version: i64,
    application_id: i32,
    schema: &Schema,
) -> Result<(), OpenError> {
    // 0 is a file no migration has touched yet (new, or empty).
    if application_id != 0 && application_id != schema.application_id {
        return Err(OpenError::ForeignFile {
            path: path.to_owned(),
            found: application_id,
        });
    }
    let supported = u32::try_from(schema.migrations.len()).unwrap_or(u32::MAX);
    if version < 0 || version > i64::from(supported) {
        return Err(OpenError::UnsupportedSchema {
            path: path.to_owned(),
            found: version,
            supported,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_id_in_migration_matches_constant() {
        // The pragma cannot take a bound parameter, so the number is spelled out in SQL.
        for schema in [TENANT, CONTROL] {
            let id = schema.application_id;
            assert!(schema.migrations[0].contains(&format!("application_id = {id};")));
        }
    }
}
