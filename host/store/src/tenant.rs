//! A tenant's own data besides its transaction log: calls, plugin versions and their
//! activations, credits, post-call analyses.
//!
//! [`TenantStore`] is what the gateway needs of it; [`SqliteTenantStore`] keeps it in the
//! tenant's file (the same file as its [`crate::TxLog`]), a PostgreSQL store will keep it
//! in shared tables. Times are unix milliseconds (UTC).

use std::path::Path;
use std::sync::MutexGuard;

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};

use crate::analyses::{self, AnalysisFilter, AnalysisRow, Created, Finished, NewAnalysis};
use crate::{DbError, OpenError, StoreError, schema};

/// What is known when a call starts.
#[derive(Debug, Clone, Default)]
pub struct NewCall {
    pub call_id: String,
    pub caller: String,
    pub called: String,
    pub started_at: i64,
    /// The gateway node that took the call.
    pub node: String,
}

/// What the end of a call adds.
#[derive(Debug, Clone, Default)]
pub struct CallEnd {
    pub ended_at: i64,
    pub duration_ms: i64,
    pub reason: String,
    /// JSON.
    pub rtp: Option<String>,
    pub recording: Option<String>,
}

/// What the dialog's record of a call adds.
#[derive(Debug, Clone, Default)]
pub struct CallOutcome {
    /// JSON.
    pub record: String,
    pub outcome: String,
    pub agent: String,
    pub summary: String,
    /// Plugin versions (short ids) the call used.
    pub plugin_versions: Vec<String>,
}

/// One call as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRow {
    pub call_id: String,
    pub caller: String,
    pub called: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub outcome: String,
    pub agent: String,
    pub summary: String,
    pub end_reason: Option<String>,
    pub record: Option<String>,
    pub rtp: Option<String>,
    pub plugin_versions: Vec<String>,
    pub recording: Option<String>,
    pub expired_at: Option<i64>,
    /// The gateway node that took the call (empty when its start was not seen).
    pub node: String,
}

/// Which calls to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// The caller's or the called number.
    pub number: Option<String>,
    pub outcome: Option<String>,
    pub agent: Option<String>,
    /// `Some(true)`: only calls in progress; `Some(false)`: only ended ones.
    pub active: Option<bool>,
    pub limit: u32,
}

/// An uploaded plugin version (the bytes are read separately).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginRow {
    /// SHA-256 of the bytes, hex.
    pub id: String,
    pub name: String,
    pub size: i64,
    pub wit_version: String,
    pub interfaces: Vec<String>,
    pub uploaded_at: i64,
    pub uploaded_by: String,
}

/// Interface name → version id.
pub type Bindings = std::collections::BTreeMap<String, String>;

/// One step of the plugin history, with the whole state after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    /// `activate`, `rollback`, `canary`, `canary-stop`.
    pub action: String,
    pub version: Option<String>,
    pub bindings: Bindings,
    pub canary: Option<(String, u8)>,
}

/// One movement of a tenant's credits.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub amount: i64,
    pub balance: i64,
    pub note: String,
}

/// What a retention run removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expired {
    pub calls: usize,
    /// Recording files to delete (their rows no longer name them).
    pub recordings: Vec<String>,
    /// The same in the analyses folder (recordings of analyses that failed).
    pub analysis_recordings: Vec<String>,
}

/// A tenant's data, as the gateway uses it. Every method is one short transaction;
/// writes return once they are durable.
pub trait TenantStore: Send + Sync + std::fmt::Debug {
    /// Records a call's start (again: a repeat changes nothing).
    fn call_started(&self, call: &NewCall) -> Result<(), StoreError>;
    /// Adds the dialog's record; creates the row if the start was not seen.
    fn call_outcome(&self, call_id: &str, at: i64, outcome: &CallOutcome)
    -> Result<(), StoreError>;
    /// Adds the end; creates the row if the start was not seen.
    fn call_ended(&self, call_id: &str, end: &CallEnd) -> Result<(), StoreError>;
    /// Calls, newest first.
    fn calls(&self, filter: &CallFilter) -> Result<Vec<CallRow>, StoreError>;
    fn call(&self, call_id: &str) -> Result<Option<CallRow>, StoreError>;

    /// Stores a version; `false` if these bytes were stored before (nothing changes).
    fn put_plugin(&self, row: &PluginRow, bytes: &[u8]) -> Result<bool, StoreError>;
    /// Versions, newest first.
    fn plugins(&self) -> Result<Vec<PluginRow>, StoreError>;
    fn plugin(&self, id: &str) -> Result<Option<PluginRow>, StoreError>;
    fn plugin_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Appends a step; returns its sequence number.
    fn record_activation(&self, step: &Activation) -> Result<i64, StoreError>;
    /// The whole history, oldest first.
    fn activations(&self) -> Result<Vec<Activation>, StoreError>;

    /// Adds `amount` (negative: spends); refused with [`StoreError::Conflict`] if the
    /// balance would go below zero. Returns the new balance.
    fn add_credits(&self, at: i64, actor: &str, amount: i64, note: &str)
    -> Result<i64, StoreError>;
    fn balance(&self) -> Result<i64, StoreError>;
    /// Newest first.
    fn credit_entries(&self, limit: u32) -> Result<Vec<CreditEntry>, StoreError>;

    /// Creates an analysis and spends its credits in one transaction, or returns the
    /// one already made for the same call (nothing spent). [`StoreError::Insufficient`]
    /// when the balance cannot cover it.
    fn create_analysis(&self, new: &NewAnalysis) -> Result<Created, StoreError>;
    fn analysis(&self, id: &str) -> Result<Option<AnalysisRow>, StoreError>;
    fn analysis_of_call(&self, call_id: &str) -> Result<Option<AnalysisRow>, StoreError>;
    /// Newest call first.
    fn analyses(&self, filter: &AnalysisFilter) -> Result<Vec<AnalysisRow>, StoreError>;
    /// Claims the next analysis to work on (see `analyses.rs` for the lease).
    fn claim_analysis(&self, now: i64, lease_ms: i64) -> Result<Option<AnalysisRow>, StoreError>;
    /// Reports progress (0..=1) and renews the claim's lease.
    fn analysis_progress(&self, id: &str, now: i64, progress: f64) -> Result<(), StoreError>;
    fn finish_analysis(&self, id: &str, now: i64, done: &Finished) -> Result<(), StoreError>;
    /// A failed attempt: queued again at `retry_at`, or failed for good when `None`.
    fn fail_analysis(
        &self,
        id: &str,
        now: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError>;

    /// Removes transcripts and recordings of calls that started before `before`, and of
    /// finished analyses of calls before it.
    fn expire(&self, before: i64, now: i64) -> Result<Expired, StoreError>;
    /// Writes a consistent copy of the whole file to `to` (which must not exist), while
    /// calls go on.
    fn snapshot(&self, to: &Path) -> Result<(), StoreError>;
}

/// A tenant's data in its SQLite file.
#[derive(Debug)]
pub struct SqliteTenantStore {
    db: schema::Db,
}

const CALL_COLUMNS: &str = "call_id, caller, called, started_at, ended_at, duration_ms, outcome, \
     agent, summary, end_reason, record, rtp, plugin_versions, recording, expired_at, node";

impl SqliteTenantStore {
    /// Opens (creating if needed) the tenant's file and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteTenantStore, OpenError> {
        Ok(SqliteTenantStore {
            db: schema::Db::open(path.as_ref(), &schema::TENANT)?,
        })
    }

    pub fn path(&self) -> &Path {
        self.db.path()
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.db.lock()
    }

    fn ensure_call(conn: &Connection, call_id: &str, at: i64) -> Result<(), DbError> {
        conn.execute(
            "INSERT INTO calls (call_id, started_at) VALUES (?1, ?2) \
             ON CONFLICT (call_id) DO NOTHING",
            (call_id, at),
        )?;
        Ok(())
    }
}

fn read_call(row: &Row<'_>) -> rusqlite::Result<CallRow> {
    let versions: String = row.get(12)?;
    Ok(CallRow {
        call_id: row.get(0)?,
        caller: row.get(1)?,
        called: row.get(2)?,
        started_at: row.get(3)?,
        ended_at: row.get(4)?,
        duration_ms: row.get(5)?,
        outcome: row.get(6)?,
        agent: row.get(7)?,
        summary: row.get(8)?,
        end_reason: row.get(9)?,
        record: row.get(10)?,
        rtp: row.get(11)?,
        plugin_versions: list_from_json(&versions),
        recording: row.get(13)?,
        expired_at: row.get(14)?,
        node: row.get(15)?,
    })
}

/// A JSON array of strings as the store wrote it; a damaged one reads as empty rather
/// than hiding the whole row.
pub(crate) fn list_from_json(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(crate) fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

impl TenantStore for SqliteTenantStore {
    fn call_started(&self, call: &NewCall) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO calls (call_id, caller, called, started_at, node) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (call_id) DO UPDATE SET caller = excluded.caller, \
                 called = excluded.called, started_at = min(started_at, excluded.started_at), \
                 node = excluded.node",
            (
                &call.call_id,
                &call.caller,
                &call.called,
                call.started_at,
                &call.node,
            ),
        )
        .map_err(DbError::from)?;
        Ok(())
    }

    fn call_outcome(
        &self,
        call_id: &str,
        at: i64,
        outcome: &CallOutcome,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        Self::ensure_call(&tx, call_id, at)?;
        tx.execute(
            "UPDATE calls SET record = ?2, outcome = ?3, agent = ?4, summary = ?5, \
                 plugin_versions = ?6 WHERE call_id = ?1",
            (
                call_id,
                &outcome.record,
                &outcome.outcome,
                &outcome.agent,
                &outcome.summary,
                json_list(&outcome.plugin_versions),
            ),
        )
        .map_err(DbError::from)?;
        tx.commit().map_err(DbError::from)?;
        Ok(())
    }

    fn call_ended(&self, call_id: &str, end: &CallEnd) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        Self::ensure_call(&tx, call_id, end.ended_at - end.duration_ms)?;
        tx.execute(
            "UPDATE calls SET ended_at = ?2, duration_ms = ?3, end_reason = ?4, rtp = ?5, \
                 recording = ?6 WHERE call_id = ?1",
            (
                call_id,
                end.ended_at,
                end.duration_ms,
                &end.reason,
                &end.rtp,
                &end.recording,
            ),
        )
        .map_err(DbError::from)?;
        tx.commit().map_err(DbError::from)?;
        Ok(())
    }

    fn calls(&self, filter: &CallFilter) -> Result<Vec<CallRow>, StoreError> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut params: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(since) = filter.since {
            clauses.push("started_at >= ?");
            params.push(Box::new(since));
        }
        if let Some(until) = filter.until {
            clauses.push("started_at < ?");
            params.push(Box::new(until));
        }
        if let Some(n) = &filter.number {
            clauses.push("(caller = ? OR called = ?)");
            params.push(Box::new(n.clone()));
            params.push(Box::new(n.clone()));
        }
        if let Some(o) = &filter.outcome {
            clauses.push("outcome = ?");
            params.push(Box::new(o.clone()));
        }
        if let Some(a) = &filter.agent {
            clauses.push("agent = ?");
            params.push(Box::new(a.clone()));
        }
        match filter.active {
            Some(true) => clauses.push("ended_at IS NULL"),
            Some(false) => clauses.push("ended_at IS NOT NULL"),
            None => {}
        }
        let mut sql = format!("SELECT {CALL_COLUMNS} FROM calls");
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        sql.push_str(" ORDER BY started_at DESC, call_id LIMIT ?");
        params.push(Box::new(i64::from(filter.limit.max(1))));
        let conn = self.lock();
        let mut statement = conn.prepare(&sql).map_err(DbError::from)?;
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let rows = statement
            .query_map(refs.as_slice(), read_call)
            .map_err(DbError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(DbError::from)?;
        Ok(rows)
    }

    fn call(&self, call_id: &str) -> Result<Option<CallRow>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                &format!("SELECT {CALL_COLUMNS} FROM calls WHERE call_id = ?1"),
                [call_id],
                read_call,
            )
            .optional()
            .map_err(DbError::from)?)
    }

    fn put_plugin(&self, row: &PluginRow, bytes: &[u8]) -> Result<bool, StoreError> {
        let conn = self.lock();
        let inserted = conn
            .execute(
                "INSERT INTO plugin_versions \
                     (id, name, size, wit_version, interfaces, uploaded_at, uploaded_by, bytes) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
                (
                    &row.id,
                    &row.name,
                    row.size,
                    &row.wit_version,
                    json_list(&row.interfaces),
                    row.uploaded_at,
                    &row.uploaded_by,
                    bytes,
                ),
            )
            .map_err(DbError::from)?;
        Ok(inserted == 1)
    }

    fn plugins(&self) -> Result<Vec<PluginRow>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT id, name, size, wit_version, interfaces, uploaded_at, uploaded_by \
                 FROM plugin_versions ORDER BY uploaded_at DESC, rowid DESC",
            )
            .map_err(DbError::from)?;
        let rows = statement
            .query_map([], read_plugin)
            .map_err(DbError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(DbError::from)?;
        Ok(rows)
    }

    fn plugin(&self, id: &str) -> Result<Option<PluginRow>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT id, name, size, wit_version, interfaces, uploaded_at, uploaded_by \
                 FROM plugin_versions WHERE id = ?1",
                [id],
                read_plugin,
            )
            .optional()
            .map_err(DbError::from)?)
    }

    fn plugin_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT bytes FROM plugin_versions WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(DbError::from)?)
    }

    fn record_activation(&self, step: &Activation) -> Result<i64, StoreError> {
        let conn = self.lock();
        let (canary_version, canary_percent) = match &step.canary {
            Some((v, p)) => (Some(v.clone()), Some(i64::from(*p))),
            None => (None, None),
        };
        conn.execute(
            "INSERT INTO plugin_activations \
                 (at, actor, action, version, bindings, canary_version, canary_percent) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            (
                step.at,
                &step.actor,
                &step.action,
                &step.version,
                serde_json::to_string(&step.bindings).unwrap_or_else(|_| "{}".into()),
                canary_version,
                canary_percent,
            ),
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Invalid(format!(
                "activation refers to a version that is not stored: {e}"
            )),
            _ => StoreError::Db(DbError::from(e)),
        })?;
        Ok(conn.last_insert_rowid())
    }

    fn activations(&self) -> Result<Vec<Activation>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT seq, at, actor, action, version, canary_version, canary_percent, \
                     bindings FROM plugin_activations ORDER BY seq",
            )
            .map_err(DbError::from)?;
        let rows = statement
            .query_map([], |row| {
                let text: String = row.get(7)?;
                let bindings: Bindings = serde_json::from_str(&text).unwrap_or_default();
                let canary_version: Option<String> = row.get(5)?;
                let canary_percent: Option<i64> = row.get(6)?;
                Ok(Activation {
                    seq: row.get(0)?,
                    at: row.get(1)?,
                    actor: row.get(2)?,
                    action: row.get(3)?,
                    version: row.get(4)?,
                    bindings,
                    canary: canary_version
                        .zip(canary_percent)
                        .map(|(v, p)| (v, u8::try_from(p).unwrap_or(0))),
                })
            })
            .map_err(DbError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(DbError::from)?;
        Ok(rows)
    }

    fn add_credits(
        &self,
        at: i64,
        actor: &str,
        amount: i64,
        note: &str,
    ) -> Result<i64, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        let balance = balance(&tx)?;
        let next = balance
            .checked_add(amount)
            .ok_or_else(|| StoreError::Invalid(format!("{amount} credits overflow the balance")))?;
        if next < 0 {
            return Err(StoreError::Conflict(format!(
                "the balance is {balance} credits; {} cannot be spent",
                -amount
            )));
        }
        tx.execute(
            "INSERT INTO credits (at, actor, amount, balance, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            (at, actor, amount, next, note),
        )
        .map_err(DbError::from)?;
        tx.commit().map_err(DbError::from)?;
        Ok(next)
    }

    fn balance(&self) -> Result<i64, StoreError> {
        Ok(balance(&self.lock())?)
    }

    fn credit_entries(&self, limit: u32) -> Result<Vec<CreditEntry>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT seq, at, actor, amount, balance, note FROM credits \
                 ORDER BY seq DESC LIMIT ?1",
            )
            .map_err(DbError::from)?;
        let rows = statement
            .query_map([i64::from(limit.max(1))], |row| {
                Ok(CreditEntry {
                    seq: row.get(0)?,
                    at: row.get(1)?,
                    actor: row.get(2)?,
                    amount: row.get(3)?,
                    balance: row.get(4)?,
                    note: row.get(5)?,
                })
            })
            .map_err(DbError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(DbError::from)?;
        Ok(rows)
    }

    fn create_analysis(&self, new: &NewAnalysis) -> Result<Created, StoreError> {
        analyses::create(&mut self.lock(), new)
    }

    fn analysis(&self, id: &str) -> Result<Option<AnalysisRow>, StoreError> {
        analyses::get(&self.lock(), id)
    }

    fn analysis_of_call(&self, call_id: &str) -> Result<Option<AnalysisRow>, StoreError> {
        analyses::get_by_call(&self.lock(), call_id)
    }

    fn analyses(&self, filter: &AnalysisFilter) -> Result<Vec<AnalysisRow>, StoreError> {
        analyses::list(&self.lock(), filter)
    }

    fn claim_analysis(&self, now: i64, lease_ms: i64) -> Result<Option<AnalysisRow>, StoreError> {
        analyses::claim(&mut self.lock(), now, lease_ms)
    }

    fn analysis_progress(&self, id: &str, now: i64, progress: f64) -> Result<(), StoreError> {
        analyses::progress(&self.lock(), id, now, progress)
    }

    fn finish_analysis(&self, id: &str, now: i64, done: &Finished) -> Result<(), StoreError> {
        analyses::finish(&self.lock(), id, now, done)
    }

    fn fail_analysis(
        &self,
        id: &str,
        now: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        analyses::fail(&self.lock(), id, now, error, retry_at)
    }

    fn expire(&self, before: i64, now: i64) -> Result<Expired, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(DbError::from)?;
        let recordings: Vec<String> = {
            let mut statement = tx
                .prepare(
                    "SELECT recording FROM calls WHERE started_at < ?1 AND expired_at IS NULL \
                     AND recording IS NOT NULL",
                )
                .map_err(DbError::from)?;
            statement
                .query_map([before], |r| r.get(0))
                .map_err(DbError::from)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(DbError::from)?
        };
        // The call stays (for counts and KPIs); what the caller said and how it
        // sounded goes.
        let calls = tx
            .execute(
                "UPDATE calls SET expired_at = ?2, recording = NULL, \
                     record = CASE WHEN record IS NULL THEN NULL \
                         ELSE json_set(json_remove(record, '$.summary'), '$.turns', json('[]')) END, \
                     summary = '' \
                 WHERE started_at < ?1 AND expired_at IS NULL",
                (before, now),
            )
            .map_err(DbError::from)?;
        let analysis_recordings = analyses::expire(&tx, before)?;
        tx.commit().map_err(DbError::from)?;
        Ok(Expired {
            calls,
            recordings,
            analysis_recordings,
        })
    }

    fn snapshot(&self, to: &Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Conflict(format!(
                "{} exists; a snapshot never overwrites",
                to.display()
            )));
        }
        let target = to
            .to_str()
            .ok_or_else(|| StoreError::Invalid(format!("{} is not UTF-8", to.display())))?;
        let conn = self.lock();
        conn.execute("VACUUM INTO ?1", [target])
            .map_err(DbError::from)?;
        Ok(())
    }
}

/// The credit balance: the last movement's.
pub(crate) fn balance(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row(
        "SELECT coalesce((SELECT balance FROM credits ORDER BY seq DESC LIMIT 1), 0)",
        [],
        |r| r.get(0),
    )?)
}

fn read_plugin(row: &Row<'_>) -> rusqlite::Result<PluginRow> {
    let interfaces: String = row.get(4)?;
    Ok(PluginRow {
        id: row.get(0)?,
        name: row.get(1)?,
        size: row.get(2)?,
        wit_version: row.get(3)?,
        interfaces: list_from_json(&interfaces),
        uploaded_at: row.get(5)?,
        uploaded_by: row.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lists_round_trip_awkward_strings() {
        let items = vec![
            "plain".to_string(),
            "quote \" and \\ backslash".to_string(),
            String::new(),
            "comma, bracket ] [".to_string(),
        ];
        assert_eq!(list_from_json(&json_list(&items)), items);
    }
}
