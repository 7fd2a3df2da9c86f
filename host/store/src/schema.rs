//! The store's schema as an ordered list of migrations, and the code that brings a file up
//! to date.
//!
//! The version lives in the file (`PRAGMA user_version`, not SQLite's own
//! `schema_version`, which SQLite bumps itself on every schema change). Migration `i`
//! takes a file from version `i` to `i + 1`. The list is append-only: a migration that
//! shipped is never edited, because files in the field already ran it; a fix is a new
//! migration.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::{DbError, OpenError};

/// Marks a file as a voxgate store ("voxg"), so that pointing voxgate at some other
/// application's SQLite file fails instead of adding tables to it.
const APPLICATION_ID: i32 = 0x766f_7867;

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

const MIGRATIONS: &[&str] = &[V1_TX_LOG];

/// The schema version this build writes and understands: a freshly opened file has it.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Refuses a file this build cannot read, before anything writes to it (even the switch
/// to WAL), so that a newer voxgate's file is left exactly as it was.
pub(crate) fn check(conn: &Connection, path: &Path) -> Result<(), OpenError> {
    let (version, application_id) = header(conn).map_err(|source| OpenError::Db {
        path: path.to_owned(),
        source,
    })?;
    refuse_unknown(path, version, application_id)
}

/// Applies the migrations the file lacks, all in one transaction: a crash half-way leaves
/// the file at its old version, never between two.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), OpenError> {
    let db = |source: rusqlite::Error| OpenError::Db {
        path: path.to_owned(),
        source: DbError(source),
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
    refuse_unknown(path, version, application_id)?;
    let done = usize::try_from(version).unwrap_or(MIGRATIONS.len());
    if done == MIGRATIONS.len() {
        return Ok(());
    }
    for migration in MIGRATIONS.iter().skip(done) {
        tx.execute_batch(migration).map_err(db)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(db)?;
    tx.commit().map_err(db)
}

fn header(conn: &Connection) -> Result<(i64, i32), DbError> {
    let version = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let application_id = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
    Ok((version, application_id))
}

fn refuse_unknown(path: &Path, version: i64, application_id: i32) -> Result<(), OpenError> {
    // 0 is a file no migration has touched yet (new, or empty).
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(OpenError::ForeignFile {
            path: path.to_owned(),
            found: application_id,
        });
    }
    if version < 0 || version > i64::from(SCHEMA_VERSION) {
        return Err(OpenError::UnsupportedSchema {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
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
        assert!(V1_TX_LOG.contains(&format!("application_id = {APPLICATION_ID};")));
    }
}
