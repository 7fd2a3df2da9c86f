//! One tenant's data in the shared PostgreSQL database: the rows of the tables that
//! carry its id. The same contract as [`crate::SqliteTenantStore`]; where SQLite's
//! single writer made a read-then-write safe, an advisory lock per tenant does here.

use std::path::Path;

use ::postgres::Row;
use ::postgres::types::ToSql;

use super::{CHANNEL, PgStore, balance, lock_credits};
use crate::analyses::{AnalysisFilter, AnalysisRow, Created, Finished, NewAnalysis};
use crate::tenant::{
    Activation, Bindings, CallEnd, CallFilter, CallOutcome, CallRow, CreditEntry, Expired, NewCall,
    PluginRow, TenantStore, json_list, list_from_json,
};
use crate::{DbError, StoreError};

/// A tenant's data in a shared PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgTenantStore {
    store: PgStore,
    tenant: String,
}

type Param<'a> = &'a (dyn ToSql + Sync);

const CALL_COLUMNS: &str = "call_id, caller, called, started_at, ended_at, duration_ms, outcome, \
     agent, summary, end_reason, record, rtp, plugin_versions, recording, expired_at, node";

const PLUGIN_COLUMNS: &str = "id, name, size, wit_version, interfaces, uploaded_at, uploaded_by";

const ANALYSIS_COLUMNS: &str = "id, call_id, source, status, created_at, updated_at, \
     finished_at, metadata, recording, recording_ms, credits, attempts, next_attempt_at, \
     progress, error, transcript, result, date_time, queue, agent_id, department, category, \
     sentiment";

fn read_call(row: &Row) -> Result<CallRow, ::postgres::Error> {
    let versions: String = row.try_get(12)?;
    Ok(CallRow {
        call_id: row.try_get(0)?,
        caller: row.try_get(1)?,
        called: row.try_get(2)?,
        started_at: row.try_get(3)?,
        ended_at: row.try_get(4)?,
        duration_ms: row.try_get(5)?,
        outcome: row.try_get(6)?,
        agent: row.try_get(7)?,
        summary: row.try_get(8)?,
        end_reason: row.try_get(9)?,
        record: row.try_get(10)?,
        rtp: row.try_get(11)?,
        plugin_versions: list_from_json(&versions),
        recording: row.try_get(13)?,
        expired_at: row.try_get(14)?,
        node: row.try_get(15)?,
    })
}

fn read_plugin(row: &Row) -> Result<PluginRow, ::postgres::Error> {
    let interfaces: String = row.try_get(4)?;
    Ok(PluginRow {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        size: row.try_get(2)?,
        wit_version: row.try_get(3)?,
        interfaces: list_from_json(&interfaces),
        uploaded_at: row.try_get(5)?,
        uploaded_by: row.try_get(6)?,
    })
}

fn read_analysis(row: &Row) -> Result<AnalysisRow, ::postgres::Error> {
    Ok(AnalysisRow {
        id: row.try_get(0)?,
        call_id: row.try_get(1)?,
        source: row.try_get(2)?,
        status: row.try_get(3)?,
        created_at: row.try_get(4)?,
        updated_at: row.try_get(5)?,
        finished_at: row.try_get(6)?,
        metadata: row.try_get(7)?,
        recording: row.try_get(8)?,
        recording_ms: row.try_get(9)?,
        credits: row.try_get(10)?,
        attempts: row.try_get(11)?,
        next_attempt_at: row.try_get(12)?,
        progress: row.try_get(13)?,
        error: row.try_get(14)?,
        transcript: row.try_get(15)?,
        result: row.try_get(16)?,
        date_time: row.try_get(17)?,
        queue: row.try_get(18)?,
        agent_id: row.try_get(19)?,
        department: row.try_get(20)?,
        category: row.try_get(21)?,
        sentiment: row.try_get(22)?,
    })
}

fn all<T>(
    rows: Vec<Row>,
    read: fn(&Row) -> Result<T, ::postgres::Error>,
) -> Result<Vec<T>, StoreError> {
    Ok(rows
        .iter()
        .map(read)
        .collect::<Result<_, _>>()
        .map_err(DbError::from)?)
}

fn one<T>(
    row: Option<Row>,
    read: fn(&Row) -> Result<T, ::postgres::Error>,
) -> Result<Option<T>, StoreError> {
    Ok(row.as_ref().map(read).transpose().map_err(DbError::from)?)
}

impl PgTenantStore {
    pub(super) fn new(store: PgStore, tenant: &str) -> PgTenantStore {
        PgTenantStore {
            store,
            tenant: tenant.to_string(),
        }
    }

    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        Ok(self
            .store
            .conn()?
            .execute(sql, params)
            .map_err(DbError::from)?)
    }

    fn analysis_by(
        client: &mut impl ::postgres::GenericClient,
        tenant: &str,
        column: &str,
        value: &str,
    ) -> Result<Option<AnalysisRow>, StoreError> {
        let row = client
            .query_opt(
                &format!(
                    "SELECT {ANALYSIS_COLUMNS} FROM analyses WHERE tenant = $1 AND {column} = $2"
                ),
                &[&tenant, &value],
            )
            .map_err(DbError::from)?;
        one(row, read_analysis)
    }
}

impl TenantStore for PgTenantStore {
    fn call_started(&self, call: &NewCall) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO calls (tenant, call_id, caller, called, started_at, node) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant, call_id) DO UPDATE SET caller = excluded.caller, \
                 called = excluded.called, \
                 started_at = least(calls.started_at, excluded.started_at), \
                 node = excluded.node",
            &[
                &self.tenant,
                &call.call_id,
                &call.caller,
                &call.called,
                &call.started_at,
                &call.node,
            ],
        )?;
        Ok(())
    }

    fn call_outcome(
        &self,
        call_id: &str,
        at: i64,
        outcome: &CallOutcome,
    ) -> Result<(), StoreError> {
        // One statement: the row is made if the start was not seen, and filled either way.
        self.execute(
            "INSERT INTO calls (tenant, call_id, started_at, record, outcome, agent, summary, \
                 plugin_versions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant, call_id) DO UPDATE SET record = excluded.record, \
                 outcome = excluded.outcome, agent = excluded.agent, \
                 summary = excluded.summary, plugin_versions = excluded.plugin_versions",
            &[
                &self.tenant,
                &call_id,
                &at,
                &outcome.record,
                &outcome.outcome,
                &outcome.agent,
                &outcome.summary,
                &json_list(&outcome.plugin_versions),
            ],
        )?;
        Ok(())
    }

    fn call_ended(&self, call_id: &str, end: &CallEnd) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO calls (tenant, call_id, started_at, ended_at, duration_ms, end_reason, \
                 rtp, recording) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant, call_id) DO UPDATE SET ended_at = excluded.ended_at, \
                 duration_ms = excluded.duration_ms, end_reason = excluded.end_reason, \
                 rtp = excluded.rtp, recording = excluded.recording",
            &[
                &self.tenant,
                &call_id,
                &(end.ended_at - end.duration_ms),
                &end.ended_at,
                &end.duration_ms,
                &end.reason,
                &end.rtp,
                &end.recording,
            ],
        )?;
        Ok(())
    }

    fn calls(&self, filter: &CallFilter) -> Result<Vec<CallRow>, StoreError> {
        let mut clauses: Vec<String> = vec!["tenant = $1".into()];
        let mut params: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(self.tenant.clone())];
        let mut add = |clause: &str, value: Box<dyn ToSql + Sync>| {
            params.push(value);
            clauses.push(clause.replace('?', &format!("${}", params.len())));
        };
        if let Some(since) = filter.since {
            add("started_at >= ?", Box::new(since));
        }
        if let Some(until) = filter.until {
            add("started_at < ?", Box::new(until));
        }
        if let Some(n) = &filter.number {
            add("(caller = ? OR called = ?)", Box::new(n.clone()));
        }
        if let Some(o) = &filter.outcome {
            add("outcome = ?", Box::new(o.clone()));
        }
        if let Some(a) = &filter.agent {
            add("agent = ?", Box::new(a.clone()));
        }
        match filter.active {
            Some(true) => clauses.push("ended_at IS NULL".into()),
            Some(false) => clauses.push("ended_at IS NOT NULL".into()),
            None => {}
        }
        let limit = i64::from(filter.limit.max(1));
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE {} \
             ORDER BY started_at DESC, call_id LIMIT {limit}",
            clauses.join(" AND ")
        );
        let refs: Vec<Param<'_>> = params.iter().map(|p| p.as_ref()).collect();
        let rows = self
            .store
            .conn()?
            .query(&sql, &refs)
            .map_err(DbError::from)?;
        all(rows, read_call)
    }

    fn call(&self, call_id: &str) -> Result<Option<CallRow>, StoreError> {
        let row = self
            .store
            .conn()?
            .query_opt(
                &format!("SELECT {CALL_COLUMNS} FROM calls WHERE tenant = $1 AND call_id = $2"),
                &[&self.tenant, &call_id],
            )
            .map_err(DbError::from)?;
        one(row, read_call)
    }

    fn put_plugin(&self, row: &PluginRow, bytes: &[u8]) -> Result<bool, StoreError> {
        let inserted = self.execute(
            "INSERT INTO plugin_versions (tenant, id, name, size, wit_version, interfaces, \
                 uploaded_at, uploaded_by, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant, id) DO NOTHING",
            &[
                &self.tenant,
                &row.id,
                &row.name,
                &row.size,
                &row.wit_version,
                &json_list(&row.interfaces),
                &row.uploaded_at,
                &row.uploaded_by,
                &bytes,
            ],
        )?;
        Ok(inserted == 1)
    }

    fn plugins(&self) -> Result<Vec<PluginRow>, StoreError> {
        let rows = self
            .store
            .conn()?
            .query(
                &format!(
                    "SELECT {PLUGIN_COLUMNS} FROM plugin_versions WHERE tenant = $1 \
                     ORDER BY uploaded_at DESC, added DESC"
                ),
                &[&self.tenant],
            )
            .map_err(DbError::from)?;
        all(rows, read_plugin)
    }

    fn plugin(&self, id: &str) -> Result<Option<PluginRow>, StoreError> {
        let row = self
            .store
            .conn()?
            .query_opt(
                &format!(
                    "SELECT {PLUGIN_COLUMNS} FROM plugin_versions WHERE tenant = $1 AND id = $2"
                ),
                &[&self.tenant, &id],
            )
            .map_err(DbError::from)?;
        one(row, read_plugin)
    }

    fn plugin_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .store
            .conn()?
            .query_opt(
                "SELECT bytes FROM plugin_versions WHERE tenant = $1 AND id = $2",
                &[&self.tenant, &id],
            )
            .map_err(DbError::from)?;
        Ok(row
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(DbError::from)?)
    }

    fn record_activation(&self, step: &Activation) -> Result<i64, StoreError> {
        let (canary_version, canary_percent) = match &step.canary {
            Some((v, p)) => (Some(v.clone()), Some(i64::from(*p))),
            None => (None, None),
        };
        let bindings = serde_json::to_string(&step.bindings).unwrap_or_else(|_| "{}".into());
        let mut conn = self.store.conn()?;
        let mut tx = conn.transaction().map_err(DbError::from)?;
        let row = tx
            .query_one(
                "INSERT INTO plugin_activations (tenant, at, actor, action, version, bindings, \
                     canary_version, canary_percent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING seq",
                &[
                    &self.tenant,
                    &step.at,
                    &step.actor,
                    &step.action,
                    &step.version,
                    &bindings,
                    &canary_version,
                    &canary_percent,
                ],
            )
            .map_err(|e| {
                if e.code() == Some(&::postgres::error::SqlState::FOREIGN_KEY_VIOLATION) {
                    StoreError::Invalid(format!(
                        "activation refers to a version that is not stored: {e}"
                    ))
                } else {
                    StoreError::Db(DbError::from(e))
                }
            })?;
        let seq: i64 = row.try_get(0).map_err(DbError::from)?;
        // Delivered at commit: every node re-reads this tenant's history.
        tx.execute(
            "SELECT pg_notify($1, 'plugins:' || $2)",
            &[&CHANNEL, &self.tenant],
        )
        .map_err(DbError::from)?;
        tx.commit().map_err(DbError::from)?;
        Ok(seq)
    }

    fn activations(&self) -> Result<Vec<Activation>, StoreError> {
        let rows = self
            .store
            .conn()?
            .query(
                "SELECT seq, at, actor, action, version, canary_version, canary_percent, \
                     bindings FROM plugin_activations WHERE tenant = $1 ORDER BY seq",
                &[&self.tenant],
            )
            .map_err(DbError::from)?;
        let read = |row: &Row| -> Result<Activation, ::postgres::Error> {
            let text: String = row.try_get(7)?;
            let bindings: Bindings = serde_json::from_str(&text).unwrap_or_default();
            let canary_version: Option<String> = row.try_get(5)?;
            let canary_percent: Option<i64> = row.try_get(6)?;
            Ok(Activation {
                seq: row.try_get(0)?,
                at: row.try_get(1)?,
                actor: row.try_get(2)?,
                action: row.try_get(3)?,
                version: row.try_get(4)?,
                bindings,
                canary: canary_version
                    .zip(canary_percent)
                    .map(|(v, p)| (v, u8::try_from(p).unwrap_or(0))),
            })
        };
        Ok(rows
            .iter()
            .map(read)
            .collect::<Result<_, _>>()
            .map_err(DbError::from)?)
    }

    fn add_credits(
        &self,
        at: i64,
        actor: &str,
        amount: i64,
        note: &str,
    ) -> Result<i64, StoreError> {
        let mut conn = self.store.conn()?;
        let mut tx = conn.transaction().map_err(DbError::from)?;
        lock_credits(&mut tx, &self.tenant)?;
        let balance = balance(&mut tx, &self.tenant)?;
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
            "INSERT INTO credits (tenant, at, actor, amount, balance, note) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&self.tenant, &at, &actor, &amount, &next, &note],
        )
        .map_err(DbError::from)?;
        tx.commit().map_err(DbError::from)?;
        Ok(next)
    }

    fn balance(&self) -> Result<i64, StoreError> {
        Ok(balance(&mut *self.store.conn()?, &self.tenant)?)
    }

    fn credit_entries(&self, limit: u32) -> Result<Vec<CreditEntry>, StoreError> {
        let rows = self
            .store
            .conn()?
            .query(
                "SELECT seq, at, actor, amount, balance, note FROM credits WHERE tenant = $1 \
                 ORDER BY seq DESC LIMIT $2",
                &[&self.tenant, &i64::from(limit.max(1))],
            )
            .map_err(DbError::from)?;
        let read = |row: &Row| -> Result<CreditEntry, ::postgres::Error> {
            Ok(CreditEntry {
                seq: row.try_get(0)?,
                at: row.try_get(1)?,
                actor: row.try_get(2)?,
                amount: row.try_get(3)?,
                balance: row.try_get(4)?,
                note: row.try_get(5)?,
            })
        };
        Ok(rows
            .iter()
            .map(read)
            .collect::<Result<_, _>>()
            .map_err(DbError::from)?)
    }

    fn create_analysis(&self, new: &NewAnalysis) -> Result<Created, StoreError> {
        let mut conn = self.store.conn()?;
        let mut tx = conn.transaction().map_err(DbError::from)?;
        // The same lock as credits: the look-up for the call, the balance and the insert
        // are one step against other nodes posting the same call or spending credits.
        lock_credits(&mut tx, &self.tenant)?;
        if let Some(existing) = Self::analysis_by(&mut tx, &self.tenant, "call_id", &new.call_id)? {
            return Ok(Created::Existing(existing));
        }
        if new.credits > 0 {
            let balance = balance(&mut tx, &self.tenant)?;
            if balance < new.credits {
                return Err(StoreError::Insufficient(format!(
                    "the recording needs {} credit(s) and the balance is {balance}",
                    new.credits
                )));
            }
            tx.execute(
                "INSERT INTO credits (tenant, at, actor, amount, balance, note) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &self.tenant,
                    &new.created_at,
                    &"analytics",
                    &-new.credits,
                    &(balance - new.credits),
                    &format!("analysis {} of call {}", new.id, new.call_id),
                ],
            )
            .map_err(DbError::from)?;
        }
        let (status, finished_at, progress) = match &new.done {
            Some(_) => ("done", Some(new.created_at), 1.0f64),
            None => ("queued", None, 0.0f64),
        };
        let done = new.done.clone().unwrap_or_default();
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let next_attempt_at = new.done.is_none().then_some(new.created_at);
        tx.execute(
            "INSERT INTO analyses (tenant, id, call_id, source, status, created_at, updated_at, \
                 finished_at, metadata, recording, recording_ms, credits, attempts, \
                 next_attempt_at, progress, transcript, result, date_time, queue, agent_id, \
                 department, category, sentiment) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14, $15, \
                 $16, $17, $18, $19, $20, $21)",
            &[
                &self.tenant,
                &new.id,
                &new.call_id,
                &new.source,
                &status,
                &new.created_at,
                &finished_at,
                &new.metadata,
                &new.recording,
                &new.recording_ms,
                &new.credits,
                &next_attempt_at,
                &progress,
                &opt(&done.transcript),
                &opt(&done.result),
                &new.date_time,
                &new.queue,
                &new.agent_id,
                &new.department,
                &done.category,
                &done.sentiment,
            ],
        )
        .map_err(DbError::from)?;
        let row = Self::analysis_by(&mut tx, &self.tenant, "id", &new.id)?
            .ok_or_else(|| StoreError::NotFound(format!("analysis {} vanished", new.id)))?;
        tx.commit().map_err(DbError::from)?;
        Ok(Created::New(row))
    }

    fn analysis(&self, id: &str) -> Result<Option<AnalysisRow>, StoreError> {
        Self::analysis_by(&mut *self.store.conn()?, &self.tenant, "id", id)
    }

    fn analysis_of_call(&self, call_id: &str) -> Result<Option<AnalysisRow>, StoreError> {
        Self::analysis_by(&mut *self.store.conn()?, &self.tenant, "call_id", call_id)
    }

    fn analyses(&self, filter: &AnalysisFilter) -> Result<Vec<AnalysisRow>, StoreError> {
        let mut sql = format!("SELECT {ANALYSIS_COLUMNS} FROM analyses WHERE tenant = $1");
        let mut params: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(self.tenant.clone())];
        let mut add = |sql: &mut String, clause: &str, v: Box<dyn ToSql + Sync>| {
            params.push(v);
            sql.push_str(&format!(" AND {clause} ${}", params.len()));
        };
        if let Some(v) = filter.since {
            add(&mut sql, "date_time >=", Box::new(v));
        }
        if let Some(v) = filter.until {
            add(&mut sql, "date_time <", Box::new(v));
        }
        for (column, v) in filter.equalities() {
            add(&mut sql, &format!("{column} ="), Box::new(v.to_string()));
        }
        let limit = i64::from(filter.limit.clamp(1, 100_000));
        sql.push_str(&format!(
            " ORDER BY date_time DESC, created_at DESC LIMIT {limit}"
        ));
        let refs: Vec<Param<'_>> = params.iter().map(|p| p.as_ref()).collect();
        let rows = self
            .store
            .conn()?
            .query(&sql, &refs)
            .map_err(DbError::from)?;
        all(rows, read_analysis)
    }

    fn claim_analysis(&self, now: i64, lease_ms: i64) -> Result<Option<AnalysisRow>, StoreError> {
        // SKIP LOCKED: workers on several nodes each get a different row.
        let row = self
            .store
            .conn()?
            .query_opt(
                &format!(
                    "UPDATE analyses SET status = 'running', attempts = attempts + 1, \
                         updated_at = $2, progress = 0, next_attempt_at = NULL \
                     WHERE tenant = $1 AND id = ( \
                         SELECT id FROM analyses WHERE tenant = $1 AND ( \
                             (status = 'queued' AND next_attempt_at <= $2) \
                             OR (status = 'running' AND updated_at < $2 - $3)) \
                         ORDER BY next_attempt_at, created_at LIMIT 1 \
                         FOR UPDATE SKIP LOCKED) \
                     RETURNING {ANALYSIS_COLUMNS}"
                ),
                &[&self.tenant, &now, &lease_ms],
            )
            .map_err(DbError::from)?;
        one(row, read_analysis)
    }

    fn analysis_progress(&self, id: &str, now: i64, progress: f64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE analyses SET progress = $3, updated_at = $4 \
             WHERE tenant = $1 AND id = $2 AND status = 'running'",
            &[&self.tenant, &id, &progress.clamp(0.0, 1.0), &now],
        )?;
        Ok(())
    }

    fn finish_analysis(&self, id: &str, now: i64, done: &Finished) -> Result<(), StoreError> {
        let n = self.execute(
            "UPDATE analyses SET status = 'done', progress = 1, updated_at = $3, \
                 finished_at = $3, error = NULL, transcript = $4, result = $5, category = $6, \
                 sentiment = $7, recording = NULL WHERE tenant = $1 AND id = $2",
            &[
                &self.tenant,
                &id,
                &now,
                &done.transcript,
                &done.result,
                &done.category,
                &done.sentiment,
            ],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no analysis {id}")));
        }
        Ok(())
    }

    fn fail_analysis(
        &self,
        id: &str,
        now: i64,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let status = if retry_at.is_some() {
            "queued"
        } else {
            "failed"
        };
        let finished_at = retry_at.is_none().then_some(now);
        self.execute(
            "UPDATE analyses SET status = $3, updated_at = $4, error = $5, \
                 next_attempt_at = $6, finished_at = $7 WHERE tenant = $1 AND id = $2",
            &[
                &self.tenant,
                &id,
                &status,
                &now,
                &error,
                &retry_at,
                &finished_at,
            ],
        )?;
        Ok(())
    }

    fn expire(&self, before: i64, now: i64) -> Result<Expired, StoreError> {
        let mut conn = self.store.conn()?;
        let mut tx = conn.transaction().map_err(DbError::from)?;
        let text = |rows: Vec<Row>| -> Result<Vec<String>, StoreError> {
            Ok(rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()
                .map_err(DbError::from)?)
        };
        let recordings = text(
            tx.query(
                "SELECT recording FROM calls WHERE tenant = $1 AND started_at < $2 \
                     AND expired_at IS NULL AND recording IS NOT NULL",
                &[&self.tenant, &before],
            )
            .map_err(DbError::from)?,
        )?;
        // The call stays (for counts and KPIs); what the caller said and how it sounded
        // goes.
        let calls = tx
            .execute(
                "UPDATE calls SET expired_at = $3, recording = NULL, summary = '', \
                     record = CASE WHEN record IS NULL THEN NULL \
                         ELSE jsonb_set(record::jsonb - 'summary', '{turns}', '[]'::jsonb)::text \
                     END \
                 WHERE tenant = $1 AND started_at < $2 AND expired_at IS NULL",
                &[&self.tenant, &before, &now],
            )
            .map_err(DbError::from)?;
        let finished = "tenant = $1 AND date_time < $2 AND status IN ('done', 'failed')";
        let analysis_recordings = text(
            tx.query(
                &format!(
                    "SELECT recording FROM analyses WHERE {finished} AND recording IS NOT NULL"
                ),
                &[&self.tenant, &before],
            )
            .map_err(DbError::from)?,
        )?;
        tx.execute(
            &format!("UPDATE analyses SET transcript = NULL, recording = NULL WHERE {finished}"),
            &[&self.tenant, &before],
        )
        .map_err(DbError::from)?;
        tx.commit().map_err(DbError::from)?;
        Ok(Expired {
            calls: usize::try_from(calls).unwrap_or(usize::MAX),
            recordings,
            analysis_recordings,
        })
    }

    fn snapshot(&self, to: &Path) -> Result<(), StoreError> {
        Err(StoreError::Invalid(format!(
            "{}: a tenant in PostgreSQL is backed up with the database (pg_dump), not \
             copied into a file",
            to.display()
        )))
    }
}
