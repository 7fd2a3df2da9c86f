//! Post-call analyses in a tenant's file: the work queue and its results in one table.
//!
//! A row is created when a recording is accepted (its credits spent in the same
//! transaction, so an accepted recording is always paid for and a refused one never
//! is) or, for voxgate's own calls, already done. Workers claim queued rows whose time
//! has come; a claim is a lease that progress reports renew, so the row of a worker
//! that died (a crash, a killed node) is claimed again once its lease runs out.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};

use crate::{DbError, StoreError};

/// What an accepted analysis starts with.
#[derive(Debug, Clone, Default)]
pub struct NewAnalysis {
    pub id: String,
    pub call_id: String,
    /// `upload` (a recording sent to the API) or `voxgate` (a call voxgate handled).
    pub source: String,
    pub created_at: i64,
    /// The posted metadata (JSON object).
    pub metadata: String,
    /// The sealed recording's file name in the tenant's analyses folder.
    pub recording: Option<String>,
    pub recording_ms: Option<i64>,
    /// Credits to spend (one per started minute).
    pub credits: i64,
    /// Copied out of the metadata for filtering and KPIs.
    pub date_time: i64,
    pub queue: String,
    pub agent_id: String,
    pub department: String,
    /// A finished analysis (voxgate's own calls): stored as `done` right away.
    pub done: Option<Finished>,
}

/// What a finished analysis adds.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    /// JSON.
    pub transcript: String,
    /// JSON.
    pub result: String,
    pub category: String,
    pub sentiment: String,
}

/// One analysis as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRow {
    pub id: String,
    pub call_id: String,
    pub source: String,
    /// `queued`, `running`, `done`, `failed`.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    pub metadata: String,
    pub recording: Option<String>,
    pub recording_ms: Option<i64>,
    pub credits: i64,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub progress: f64,
    pub error: Option<String>,
    pub transcript: Option<String>,
    pub result: Option<String>,
    pub date_time: i64,
    pub queue: String,
    pub agent_id: String,
    pub department: String,
    pub category: String,
    pub sentiment: String,
}

/// Which analyses to list. Empty fields do not filter; `since`/`until` are on the
/// call's `date_time`.
#[derive(Debug, Clone, Default)]
pub struct AnalysisFilter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub sentiment: Option<String>,
    pub queue: Option<String>,
    pub agent_id: Option<String>,
    pub department: Option<String>,
    pub limit: u32,
}

impl AnalysisFilter {
    /// The columns the filter asks to equal a value, with the value.
    pub(crate) fn equalities(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("status", &self.status),
            ("category", &self.category),
            ("sentiment", &self.sentiment),
            ("queue", &self.queue),
            ("agent_id", &self.agent_id),
            ("department", &self.department),
        ]
        .into_iter()
        .filter_map(|(column, value)| value.as_deref().map(|v| (column, v)))
    }
}

/// Whether [`create`] made a new row or found one for the same call.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New(AnalysisRow),
    Existing(AnalysisRow),
}

const COLUMNS: &str = "id, call_id, source, status, created_at, updated_at, finished_at, metadata, \
     recording, recording_ms, credits, attempts, next_attempt_at, progress, error, transcript, \
     result, date_time, queue, agent_id, department, category, sentiment";

fn read(row: &Row<'_>) -> rusqlite::Result<AnalysisRow> {
    Ok(AnalysisRow {
        id: row.get(0)?,
        call_id: row.get(1)?,
        source: row.get(2)?,
        status: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
        finished_at: row.get(6)?,
        metadata: row.get(7)?,
        recording: row.get(8)?,
        recording_ms: row.get(9)?,
        credits: row.get(10)?,
        attempts: row.get(11)?,
        next_attempt_at: row.get(12)?,
        progress: row.get(13)?,
        error: row.get(14)?,
        transcript: row.get(15)?,
        result: row.get(16)?,
        date_time: row.get(17)?,
        queue: row.get(18)?,
        agent_id: row.get(19)?,
        department: row.get(20)?,
        category: row.get(21)?,
        sentiment: row.get(22)?,
    })
}

fn by(conn: &Connection, column: &str, value: &str) -> Result<Option<AnalysisRow>, DbError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM analyses WHERE {column} = ?1"),
            [value],
            read,
        )
        .optional()?)
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<AnalysisRow>, StoreError> {
    Ok(by(conn, "id", id)?)
}

pub(crate) fn get_by_call(
    conn: &Connection,
    call_id: &str,
) -> Result<Option<AnalysisRow>, StoreError> {
    Ok(by(conn, "call_id", call_id)?)
}

/// Creates the analysis and spends its credits, or finds the one for the same call.
/// [`StoreError::Insufficient`] when the balance cannot cover it (nothing is written).
pub(crate) fn create(conn: &mut Connection, new: &NewAnalysis) -> Result<Created, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(DbError::from)?;
    if let Some(existing) = by(&tx, "call_id", &new.call_id)? {
        return Ok(Created::Existing(existing));
    }
    if new.credits > 0 {
        let balance = crate::tenant::balance(&tx)?;
        if balance < new.credits {
            return Err(StoreError::Insufficient(format!(
                "the recording needs {} credit(s) and the balance is {balance}",
                new.credits
            )));
        }
        tx.execute(
            "INSERT INTO credits (at, actor, amount, balance, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            (
                new.created_at,
                "analytics",
                -new.credits,
                balance - new.credits,
                format!("analysis {} of call {}", new.id, new.call_id),
            ),
        )
        .map_err(DbError::from)?;
    }
    let (status, finished_at, progress) = match &new.done {
        Some(_) => ("done", Some(new.created_at), 1.0),
        None => ("queued", None, 0.0),
    };
    let done = new.done.clone().unwrap_or_default();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    tx.execute(
        "INSERT INTO analyses (id, call_id, source, status, created_at, updated_at, finished_at, \
             metadata, recording, recording_ms, credits, attempts, next_attempt_at, progress, \
             transcript, result, date_time, queue, agent_id, department, category, sentiment) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12, ?13, ?14, ?15, ?16, \
             ?17, ?18, ?19, ?20)",
        rusqlite::params![
            new.id,
            new.call_id,
            new.source,
            status,
            new.created_at,
            finished_at,
            new.metadata,
            new.recording,
            new.recording_ms,
            new.credits,
            new.done.is_none().then_some(new.created_at),
            progress,
            opt(&done.transcript),
            opt(&done.result),
            new.date_time,
            new.queue,
            new.agent_id,
            new.department,
            done.category,
            done.sentiment,
        ],
    )
    .map_err(DbError::from)?;
    let row = by(&tx, "id", &new.id)?
        .ok_or_else(|| StoreError::NotFound(format!("analysis {} vanished", new.id)))?;
    tx.commit().map_err(DbError::from)?;
    Ok(Created::New(row))
}

pub(crate) fn list(
    conn: &Connection,
    filter: &AnalysisFilter,
) -> Result<Vec<AnalysisRow>, StoreError> {
    let mut sql = format!("SELECT {COLUMNS} FROM analyses WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut arg = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
        args.push(v);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    if let Some(v) = filter.since {
        arg(&mut sql, "date_time >=", v.into());
    }
    if let Some(v) = filter.until {
        arg(&mut sql, "date_time <", v.into());
    }
    for (column, v) in filter.equalities() {
        arg(&mut sql, &format!("{column} ="), v.to_string().into());
    }
    let limit = i64::from(filter.limit.clamp(1, 100_000));
    sql.push_str(&format!(
        " ORDER BY date_time DESC, created_at DESC LIMIT {limit}"
    ));
    let mut statement = conn.prepare(&sql).map_err(DbError::from)?;
    let rows = statement
        .query_map(rusqlite::params_from_iter(args), read)
        .map_err(DbError::from)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(DbError::from)?;
    Ok(rows)
}

/// Claims the queued analysis whose time has come first, or a running one whose lease
/// (no progress for `lease_ms`) ran out.
pub(crate) fn claim(
    conn: &mut Connection,
    now: i64,
    lease_ms: i64,
) -> Result<Option<AnalysisRow>, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(DbError::from)?;
    let id: Option<String> = tx
        .query_row(
            "SELECT id FROM analyses \
             WHERE (status = 'queued' AND next_attempt_at <= ?1) \
                OR (status = 'running' AND updated_at < ?1 - ?2) \
             ORDER BY next_attempt_at, created_at LIMIT 1",
            (now, lease_ms),
            |r| r.get(0),
        )
        .optional()
        .map_err(DbError::from)?;
    let Some(id) = id else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE analyses SET status = 'running', attempts = attempts + 1, updated_at = ?2, \
             progress = 0, next_attempt_at = NULL WHERE id = ?1",
        (&id, now),
    )
    .map_err(DbError::from)?;
    let row = by(&tx, "id", &id)?;
    tx.commit().map_err(DbError::from)?;
    Ok(row)
}

/// Notes progress of a running analysis (and renews its lease).
pub(crate) fn progress(
    conn: &Connection,
    id: &str,
    now: i64,
    progress: f64,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE analyses SET progress = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'running'",
        (id, progress.clamp(0.0, 1.0), now),
    )
    .map_err(DbError::from)?;
    Ok(())
}

pub(crate) fn finish(
    conn: &Connection,
    id: &str,
    now: i64,
    done: &Finished,
) -> Result<(), StoreError> {
    let n = conn
        .execute(
            // The recording is deleted once analysed; the row stops naming it.
            "UPDATE analyses SET status = 'done', progress = 1, updated_at = ?2, \
                 finished_at = ?2, error = NULL, transcript = ?3, result = ?4, category = ?5, \
                 sentiment = ?6, recording = NULL WHERE id = ?1",
            (
                id,
                now,
                &done.transcript,
                &done.result,
                &done.category,
                &done.sentiment,
            ),
        )
        .map_err(DbError::from)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("no analysis {id}")));
    }
    Ok(())
}

/// A failed attempt: queued again for `retry_at`, or failed for good when `None`.
/// Retention: finished analyses of calls before `before` lose their transcript (the
/// results stay, for the KPIs) and any recording still kept; returns those recordings'
/// file names.
pub(crate) fn expire(tx: &Connection, before: i64) -> Result<Vec<String>, StoreError> {
    let finished = "date_time < ?1 AND status IN ('done', 'failed')";
    let recordings = tx
        .prepare(&format!(
            "SELECT recording FROM analyses WHERE {finished} AND recording IS NOT NULL"
        ))
        .map_err(DbError::from)?
        .query_map([before], |r| r.get(0))
        .map_err(DbError::from)?
        .collect::<Result<Vec<String>, _>>()
        .map_err(DbError::from)?;
    tx.execute(
        &format!("UPDATE analyses SET transcript = NULL, recording = NULL WHERE {finished}"),
        [before],
    )
    .map_err(DbError::from)?;
    Ok(recordings)
}

pub(crate) fn fail(
    conn: &Connection,
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
    conn.execute(
        "UPDATE analyses SET status = ?2, updated_at = ?3, error = ?4, next_attempt_at = ?5, \
             finished_at = CASE WHEN ?2 = 'failed' THEN ?3 ELSE NULL END WHERE id = ?1",
        (id, status, now, error, retry_at),
    )
    .map_err(DbError::from)?;
    Ok(())
}
