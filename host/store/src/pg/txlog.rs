//! The transaction log in PostgreSQL, shared by every node: what lets a live node finish
//! a confirmed change that a dead node left behind.
//!
//! The same state machine as the SQLite log ([`crate::txlog`]): each step is one
//! conditional `UPDATE`, so no interleaving of nodes can record a step twice or skip
//! one, and a claim is one `UPDATE … RETURNING` under row locks, so each orphaned row
//! goes to exactly one node.

use std::time::{Duration, SystemTime};

use ::postgres::Row;
use ::postgres::types::ToSql;

use super::PgStore;
use crate::DbError;
use crate::txlog::{
    BeginError, Intent, OPEN_STATES, Pending, RawRow, ReadError, Step, Transaction,
    TransitionError, TxId, TxLog, Value, checked_key, duration_ms, now_ms,
};

/// The transaction log of every tenant, in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgTxLog {
    store: PgStore,
}

const COLUMNS: &str = "id, tenant, call_id, idempotency_key, plugin_version, operation, state, \
     transaction_id, summary, total_minor_units, currency, expires_at, reference, message, \
     abort_reason, failure, begun_at, prepared_at, confirmed_at, ended_at";

type Param<'a> = &'a (dyn ToSql + Sync);

fn read(row: &Row) -> Result<RawRow, ::postgres::Error> {
    Ok(RawRow {
        id: row.try_get(0)?,
        tenant: row.try_get(1)?,
        call_id: row.try_get(2)?,
        idempotency_key: row.try_get(3)?,
        plugin_version: row.try_get(4)?,
        operation: row.try_get(5)?,
        state: row.try_get(6)?,
        transaction_id: row.try_get(7)?,
        summary: row.try_get(8)?,
        total_minor_units: row.try_get(9)?,
        currency: row.try_get(10)?,
        expires_at: row.try_get(11)?,
        reference: row.try_get(12)?,
        message: row.try_get(13)?,
        abort_reason: row.try_get(14)?,
        failure: row.try_get(15)?,
        begun_at: row.try_get(16)?,
        prepared_at: row.try_get(17)?,
        confirmed_at: row.try_get(18)?,
        ended_at: row.try_get(19)?,
    })
}

impl PgTxLog {
    pub(super) fn new(store: PgStore) -> PgTxLog {
        PgTxLog { store }
    }

    fn select(&self, filter: &str, params: &[Param<'_>]) -> Result<Vec<RawRow>, ReadError> {
        let rows = self
            .store
            .conn()?
            .query(&format!("SELECT {COLUMNS} FROM tx_log {filter}"), params)
            .map_err(DbError::from)?;
        Ok(rows
            .iter()
            .map(read)
            .collect::<Result<_, _>>()
            .map_err(DbError::from)?)
    }
}

impl TxLog for PgTxLog {
    fn begin(&self, intent: Intent) -> Result<TxId, BeginError> {
        let key = checked_key(&intent)?;
        let now = now_ms();
        let mut conn = self.store.conn()?;
        // The unique key decides between two nodes beginning with the same key at once:
        // one inserts, the other finds its row.
        let inserted = conn
            .query_opt(
                "INSERT INTO tx_log (tenant, call_id, idempotency_key, plugin_version, \
                     operation, state, begun_at, node, renewed_at) \
                 VALUES ($1, $2, $3, $4, $5, 'preparing', $6, $7, $6) \
                 ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING id",
                &[
                    &intent.tenant,
                    &intent.call_id,
                    &key,
                    &intent.plugin_version,
                    &intent.operation_json,
                    &now,
                    &intent.node,
                ],
            )
            .map_err(DbError::from)?;
        if let Some(row) = inserted {
            return Ok(TxId::from_i64(row.try_get(0).map_err(DbError::from)?));
        }
        let row = conn
            .query_one(
                "SELECT id, call_id, operation FROM tx_log \
                 WHERE tenant = $1 AND idempotency_key = $2",
                &[&intent.tenant, &key],
            )
            .map_err(DbError::from)?;
        let existing = TxId::from_i64(row.try_get(0).map_err(DbError::from)?);
        let call_id: String = row.try_get(1).map_err(DbError::from)?;
        let operation: String = row.try_get(2).map_err(DbError::from)?;
        if call_id == intent.call_id && operation == intent.operation_json {
            Ok(existing)
        } else {
            Err(BeginError::KeyReused { key, existing })
        }
    }

    fn record(&self, id: TxId, step: Step) -> Result<(), TransitionError> {
        let sql = step.sql(|n| format!("${n}"));
        let raw = id.as_i64();
        let mut params: Vec<Param<'_>> = vec![&raw];
        params.extend(step.set.iter().map(|(_, value)| match value {
            Value::Text(v) => v as Param<'_>,
            Value::Int(v) => v as Param<'_>,
        }));
        let mut conn = self.store.conn()?;
        if conn.execute(&sql, &params).map_err(DbError::from)? == 1 {
            return Ok(());
        }
        let current: Option<String> = conn
            .query_opt("SELECT state FROM tx_log WHERE id = $1", &[&raw])
            .map_err(DbError::from)?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(DbError::from)?;
        Err(step.refused(id, current))
    }

    fn pending(&self) -> Result<Vec<Pending>, ReadError> {
        let now = SystemTime::now();
        self.select(&format!("WHERE state IN {OPEN_STATES} ORDER BY id"), &[])?
            .into_iter()
            .map(|row| row.into_pending(now))
            .collect()
    }

    fn get(&self, id: TxId) -> Result<Option<Transaction>, ReadError> {
        self.select("WHERE id = $1", &[&id.as_i64()])?
            .into_iter()
            .next()
            .map(RawRow::into_transaction)
            .transpose()
    }

    fn for_call(&self, tenant: &str, call_id: &str) -> Result<Vec<Transaction>, ReadError> {
        self.select(
            "WHERE tenant = $1 AND call_id = $2 ORDER BY id",
            &[&tenant, &call_id],
        )?
        .into_iter()
        .map(RawRow::into_transaction)
        .collect()
    }

    fn prune(&self, older_than: Duration) -> Result<usize, DbError> {
        let cutoff = now_ms().saturating_sub(duration_ms(older_than));
        let n = self.store.conn()?.execute(
            "DELETE FROM tx_log WHERE ended_at IS NOT NULL AND ended_at <= $1",
            &[&cutoff],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn renew(&self, node: &str) -> Result<usize, DbError> {
        let n = self.store.conn()?.execute(
            &format!(
                "UPDATE tx_log SET renewed_at = $2 WHERE node = $1 AND state IN {OPEN_STATES}"
            ),
            &[&node, &now_ms()],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn claim(
        &self,
        tenant: &str,
        node: &str,
        lease: Duration,
        own: bool,
    ) -> Result<Vec<Pending>, ReadError> {
        let now = now_ms();
        let stale = now.saturating_sub(duration_ms(lease));
        // SKIP LOCKED: two nodes sweeping at once split the rows instead of waiting on
        // each other; the re-check in the UPDATE's WHERE (under the row lock) makes sure
        // a row renewed meanwhile is not taken.
        let rows = self
            .store
            .conn()?
            .query(
                &format!(
                    "WITH claimable AS ( \
                         SELECT id FROM tx_log \
                         WHERE tenant = $1 AND state IN {OPEN_STATES} \
                           AND (renewed_at < $3 OR ($4 AND node = $2)) \
                         FOR UPDATE SKIP LOCKED) \
                     UPDATE tx_log SET node = $2, renewed_at = $5 \
                     WHERE id IN (SELECT id FROM claimable) \
                     RETURNING {COLUMNS}"
                ),
                &[&tenant, &node, &stale, &own, &now],
            )
            .map_err(DbError::from)?;
        let mut raw: Vec<RawRow> = rows
            .iter()
            .map(read)
            .collect::<Result<_, _>>()
            .map_err(DbError::from)?;
        raw.sort_by_key(|r| r.id);
        let now = SystemTime::now();
        raw.into_iter().map(|row| row.into_pending(now)).collect()
    }
}
