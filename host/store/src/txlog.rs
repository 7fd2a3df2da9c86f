//! The durable log of two-phase plugin transactions.
//!
//! Every change a caller makes by phone follows the `transactions` interface of the WIT
//! contract, and the gateway records each step here: the intent before `prepare` is
//! called, the caller's yes before `commit` is called, each answer as soon as it has it.
//!
//! ```text
//! from        to          when
//! (nothing)   preparing   begin: before the plugin's `prepare` is called
//! preparing   prepared    `prepare` answered
//! preparing   failed      `prepare` refused (invalid, conflict, …)
//! preparing   aborted     recovery re-prepared and aborted it, or the re-prepare was refused
//! prepared    confirmed   the caller said yes; before `commit` is called
//! prepared    aborted     the caller said no, stayed silent or hung up, and `abort` is done
//! prepared    failed      `abort` was refused for good
//! confirmed   committed   `commit` answered
//! confirmed   failed      `commit` was refused for good
//! ```
//!
//! After a crash, [`TxLog::pending`] lists what was left open and
//! [`Pending::recovery_action`] says what to do with it; see [`Recovery`] for why each
//! state maps to its action.
//!
//! A confirmed transaction can only end `committed` or `failed`, never `aborted`: the
//! caller said yes, and no path in voxgate may quietly drop that.

use std::fmt;
use std::path::Path;
use std::sync::MutexGuard;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};

use crate::{DbError, OpenError, schema};

/// The id voxgate gives a logged transaction (not the plugin's `transaction-id`). Never
/// reused within one store file, so call records can keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(i64);

impl TxId {
    /// An id read back from elsewhere (a call record).
    pub const fn from_i64(id: i64) -> TxId {
        TxId(id)
    }

    pub const fn as_i64(self) -> i64 {
        self.0
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Logged; `prepare` is running or was about to run.
    Preparing,
    /// `prepare` answered; the summary is being read to the caller.
    Prepared,
    /// The caller said yes; `commit` is running or was about to run.
    Confirmed,
    Committed,
    Aborted,
    /// The plugin refused (`prepare` or `commit` returned a business error) or voxgate
    /// gave up; the row keeps the error for the call record and the operator.
    Failed,
}

impl State {
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Preparing => "preparing",
            State::Prepared => "prepared",
            State::Confirmed => "confirmed",
            State::Committed => "committed",
            State::Aborted => "aborted",
            State::Failed => "failed",
        }
    }

    pub const fn is_terminal(self) -> bool {
        matches!(self, State::Committed | State::Aborted | State::Failed)
    }

    /// The states a transaction may move to `self` from. The single source of the state
    /// machine: the conditional UPDATEs are built from it.
    pub(crate) const fn allowed_from(self) -> &'static [State] {
        match self {
            State::Preparing => &[],
            State::Prepared => &[State::Preparing],
            State::Confirmed => &[State::Prepared],
            State::Committed => &[State::Confirmed],
            // Not from `confirmed`: the caller's yes is never dropped (see the module docs).
            State::Aborted => &[State::Preparing, State::Prepared],
            State::Failed => &[State::Preparing, State::Prepared, State::Confirmed],
        }
    }

    pub(crate) fn parse(s: &str) -> Option<State> {
        [
            State::Preparing,
            State::Prepared,
            State::Confirmed,
            State::Committed,
            State::Aborted,
            State::Failed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change about to be prepared: what [`TxLog::begin`] logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub tenant: String,
    pub call_id: String,
    /// The WIT `operation` as JSON, exactly as recovery must send it again.
    pub operation_json: String,
    /// `None` to have one generated (128 random bits, hex). Give one only to retry the
    /// same logical change.
    pub idempotency_key: Option<String>,
    /// The plugin version the call pinned; recovery commits or aborts through the same one.
    pub plugin_version: String,
    /// The gateway node running the call: it holds the transaction while it renews it
    /// ([`TxLog::renew`]); once it stops, another node may claim it ([`TxLog::claim`]).
    pub node: String,
}

/// An amount of money, as in the WIT `money` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub minor_units: i64,
    /// ISO 4217, upper case.
    pub currency: String,
}

/// What the plugin's `prepare` returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The plugin's (tenant system's) id, passed to `commit` or `abort`.
    pub transaction_id: String,
    pub summary: String,
    pub total: Option<Money>,
    /// RFC 3339, as the plugin gave it.
    pub expires_at: String,
}

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Committed { reference: String, message: String },
    Aborted { reason: String },
    Failed { error: String },
}

/// One logged transaction, as [`TxLog::get`] and [`TxLog::for_call`] return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: TxId,
    pub tenant: String,
    pub call_id: String,
    pub idempotency_key: String,
    pub plugin_version: String,
    pub operation_json: String,
    pub state: State,
    /// `None` until `prepare` answered, and for a transaction that ended before it did.
    pub prepared: Option<Prepared>,
    /// `None` while the transaction is open.
    pub outcome: Option<Outcome>,
    pub begun_at: SystemTime,
    pub prepared_at: Option<SystemTime>,
    pub confirmed_at: Option<SystemTime>,
    pub ended_at: Option<SystemTime>,
}

/// An open transaction's state, with what recovery needs from it. Only the states
/// [`TxLog::pending`] can return, so [`Pending::recovery_action`] has no impossible case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenState {
    Preparing,
    Prepared { transaction_id: String },
    Confirmed { transaction_id: String },
}

impl OpenState {
    pub fn state(&self) -> State {
        match self {
            OpenState::Preparing => State::Preparing,
            OpenState::Prepared { .. } => State::Prepared,
            OpenState::Confirmed { .. } => State::Confirmed,
        }
    }

    pub fn transaction_id(&self) -> Option<&str> {
        match self {
            OpenState::Preparing => None,
            OpenState::Prepared { transaction_id } | OpenState::Confirmed { transaction_id } => {
                Some(transaction_id)
            }
        }
    }
}

/// A transaction left open, as [`TxLog::pending`] returns it to recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: TxId,
    pub state: OpenState,
    pub tenant: String,
    pub call_id: String,
    pub plugin_version: String,
    pub idempotency_key: String,
    pub operation_json: String,
    /// When the plugin's reservation lapses, once prepared (RFC 3339).
    pub expires_at: Option<String>,
    /// Since [`TxLog::begin`] (zero if the clock went backwards).
    pub age: Duration,
}

/// What recovery does with an open transaction.
///
/// Each action goes through the plugin version the call pinned
/// ([`Pending::plugin_version`]) with a call context of the row's tenant, call id and
/// idempotency key, then records the result with the ordinary transitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// `prepared`: the caller never said yes (or voxgate died before it logged the yes),
    /// so call `abort`, then [`TxLog::aborted`]. Abort is idempotent, so a crash during
    /// recovery only repeats it.
    Abort { transaction_id: String },
    /// `confirmed`: the caller said yes and the commit may or may not have reached the
    /// plugin, so call `commit` (idempotent: a commit that did land returns the same
    /// `committed`), then [`TxLog::committed`]. If the plugin refuses for good (say the
    /// reservation expired during a long outage), record [`TxLog::failed`]: an operator
    /// must call the customer back. If it is unavailable, leave the row for the next try.
    Commit { transaction_id: String },
    /// `preparing`: the crash came between logging the intent and logging the answer, so
    /// nobody knows whether the plugin reserved anything. Calling `prepare` again with the
    /// same idempotency key returns the transaction it made (or makes one, if the first
    /// call never arrived); then record [`TxLog::prepared`], call `abort` and record
    /// [`TxLog::aborted`]. If that `prepare` refuses (invalid, conflict), nothing is held
    /// under the key: record [`TxLog::aborted`] straight away.
    ///
    /// Marking the row aborted without asking the plugin would be cheaper, but whether the
    /// first `prepare` reached the tenant's system cannot be known from here (it may have
    /// sent its HTTP request and died on the reply), and a reservation left behind would
    /// hold stock until it expires. The extra round trip is the price of never leaking one.
    RePrepareThenAbort {
        operation_json: String,
        idempotency_key: String,
    },
}

impl Pending {
    pub fn recovery_action(&self) -> Recovery {
        match &self.state {
            OpenState::Preparing => Recovery::RePrepareThenAbort {
                operation_json: self.operation_json.clone(),
                idempotency_key: self.idempotency_key.clone(),
            },
            OpenState::Prepared { transaction_id } => Recovery::Abort {
                transaction_id: transaction_id.clone(),
            },
            OpenState::Confirmed { transaction_id } => Recovery::Commit {
                transaction_id: transaction_id.clone(),
            },
        }
    }
}

/// Why [`TxLog::begin`] logged nothing.
#[derive(Debug, thiserror::Error)]
pub enum BeginError {
    #[error("the transaction's {0} is empty")]
    Empty(&'static str),
    #[error("the operation is not valid JSON")]
    OperationNotJson,
    #[error(
        "idempotency key {key:?} already belongs to transaction {existing}, for another \
         operation or call"
    )]
    KeyReused { key: String, existing: TxId },
    #[error("no randomness for an idempotency key: {0}")]
    Random(#[source] getrandom::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Why a state change was not recorded. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("transaction {0} is not in the log")]
    NotFound(TxId),
    #[error("transaction {id} is {from}; it cannot become {to}")]
    Illegal { id: TxId, from: State, to: State },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Why the log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A row breaks the log's invariants: edited by hand, or written by a buggy build.
    #[error("transaction {id} in the log is damaged: {what}")]
    Corrupt { id: TxId, what: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

macro_rules! from_sqlite {
    ($($error:ty),*) => {$(
        impl From<rusqlite::Error> for $error {
            fn from(error: rusqlite::Error) -> Self {
                DbError::from(error).into()
            }
        }
    )*};
}
from_sqlite!(BeginError, TransitionError, ReadError);

/// One step of a transaction: the state it moves to and the columns it sets, the same
/// for every backend. Only this crate makes them (see [`TxLog::record`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub(crate) to: State,
    pub(crate) set: Vec<(&'static str, Value)>,
}

/// A column's new value in a [`Step`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Step {
    fn new(to: State, set: Vec<(&'static str, Value)>) -> Step {
        Step { to, set }
    }

    fn prepared(p: &Prepared) -> Step {
        let text = |s: &str| Value::Text(Some(s.to_string()));
        Step::new(
            State::Prepared,
            vec![
                ("transaction_id", text(&p.transaction_id)),
                ("summary", text(&p.summary)),
                (
                    "total_minor_units",
                    Value::Int(p.total.as_ref().map(|t| t.minor_units)),
                ),
                (
                    "currency",
                    Value::Text(p.total.as_ref().map(|t| t.currency.clone())),
                ),
                ("expires_at", text(&p.expires_at)),
                ("prepared_at", Value::Int(Some(now_ms()))),
            ],
        )
    }

    fn confirmed() -> Step {
        Step::new(
            State::Confirmed,
            vec![("confirmed_at", Value::Int(Some(now_ms())))],
        )
    }

    fn ended(to: State, set: Vec<(&'static str, Value)>) -> Step {
        let mut set = set;
        set.push(("ended_at", Value::Int(Some(now_ms()))));
        Step::new(to, set)
    }

    fn committed(reference: &str, message: &str) -> Step {
        Step::ended(
            State::Committed,
            vec![
                ("reference", Value::Text(Some(reference.to_string()))),
                ("message", Value::Text(Some(message.to_string()))),
            ],
        )
    }

    fn aborted(reason: &str) -> Step {
        Step::ended(
            State::Aborted,
            vec![("abort_reason", Value::Text(Some(reason.to_string())))],
        )
    }

    fn failed(error: &str) -> Step {
        Step::ended(
            State::Failed,
            vec![("failure", Value::Text(Some(error.to_string())))],
        )
    }

    /// The conditional UPDATE that records the step: the id is parameter 1, the columns'
    /// values 2 on, written by `placeholder` (`?n` or `$n`). The condition is the check,
    /// so no other connection can slip in between a read and the write.
    pub(crate) fn sql(&self, placeholder: impl Fn(usize) -> String) -> String {
        let from = self
            .to
            .allowed_from()
            .iter()
            .map(|state| format!("'{state}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let set: Vec<String> = self
            .set
            .iter()
            .enumerate()
            .map(|(i, (column, _))| format!("{column} = {}", placeholder(i + 2)))
            .collect();
        // Built only from this module's constants; every value is a bound parameter.
        format!(
            "UPDATE tx_log SET state = '{}', {} WHERE id = {} AND state IN ({from})",
            self.to,
            set.join(", "),
            placeholder(1)
        )
    }

    /// Why a step that changed no row was refused, given the row's state (if any).
    pub(crate) fn refused(&self, id: TxId, current: Option<String>) -> TransitionError {
        match current {
            None => TransitionError::NotFound(id),
            Some(current) => TransitionError::Illegal {
                id,
                // Unreadable only if the CHECK constraint was bypassed; the error still
                // names what was asked.
                from: State::parse(&current).unwrap_or(self.to),
                to: self.to,
            },
        }
    }
}

/// The transaction log, as the gateway uses it: [`SqliteTxLog`] in a tenant's file, or
/// the PostgreSQL store's shared log that every node sees.
///
/// Every method is one short database transaction; those that record a step return only
/// once it is durable, so the gateway may act on the step as soon as they return.
///
/// Several nodes may share one log. Each open transaction belongs to the node running its
/// call, which renews it ([`TxLog::renew`]) while it lives; a node that stops renewing
/// (it crashed, or lost its network) leaves its transactions to whichever live node
/// [`TxLog::claim`]s them first. A claim is one conditional update, so exactly one node
/// gets each row, and the transitions are conditional too, so even two nodes working the
/// same row could record its end only once.
pub trait TxLog: Send + Sync + fmt::Debug {
    /// Logs the intent to prepare a change, before the plugin's `prepare` is called, so
    /// that a crash during `prepare` leaves a row with the idempotency key (see
    /// [`Recovery::RePrepareThenAbort`]).
    ///
    /// With a key that this tenant already used for the same call and operation, returns
    /// the existing transaction's id and logs nothing: a retried `begin` is a retried
    /// `prepare`, and the key promises one transaction, not two. That row may have moved
    /// on since; [`TxLog::get`] says where. The same key with another call or operation is
    /// [`BeginError::KeyReused`]: two different changes must never share a reservation.
    /// Operations compare as text, so serialise them the same way each time.
    fn begin(&self, intent: Intent) -> Result<TxId, BeginError>;
    /// Records `step` if, and only if, the transaction is in a state the step may follow;
    /// otherwise changes nothing and says why. The steps below are the only ones.
    fn record(&self, id: TxId, step: Step) -> Result<(), TransitionError>;
    /// Records what `prepare` returned.
    fn prepared(&self, id: TxId, prepared: &Prepared) -> Result<(), TransitionError> {
        self.record(id, Step::prepared(prepared))
    }
    /// Records the caller's yes. Returns once it is durable: only then may voxgate call
    /// `commit`, so that a crash in between is recovered by committing, not by aborting.
    fn confirmed(&self, id: TxId) -> Result<(), TransitionError> {
        self.record(id, Step::confirmed())
    }
    /// Records what `commit` returned.
    fn committed(&self, id: TxId, reference: &str, message: &str) -> Result<(), TransitionError> {
        self.record(id, Step::committed(reference, message))
    }
    /// Records that the change was dropped (the caller said no, stayed silent or hung up;
    /// or recovery aborted it). Call it once `abort` succeeded, or straight away when
    /// there was nothing to abort.
    fn aborted(&self, id: TxId, reason: &str) -> Result<(), TransitionError> {
        self.record(id, Step::aborted(reason))
    }
    /// Records that the change cannot go through: the plugin refused `prepare` or
    /// `commit`, or voxgate gave up on it.
    fn failed(&self, id: TxId, error: &str) -> Result<(), TransitionError> {
        self.record(id, Step::failed(error))
    }
    /// Every open transaction in the log, oldest first, whoever holds it.
    ///
    /// The transactions of calls still running are listed too; recovery works through
    /// [`TxLog::claim`] instead, which knows whose they are.
    fn pending(&self) -> Result<Vec<Pending>, ReadError>;
    /// One transaction, whoever's it is: for the gateway, which holds the id it was given.
    /// Anything that answers a tenant (the admin API) goes through [`TxLog::for_call`].
    fn get(&self, id: TxId) -> Result<Option<Transaction>, ReadError>;
    /// The transactions of one call of one tenant, oldest first, for the call record.
    fn for_call(&self, tenant: &str, call_id: &str) -> Result<Vec<Transaction>, ReadError>;
    /// Deletes transactions that ended more than `older_than` ago; open ones are never
    /// deleted, whatever their age. Returns how many went.
    fn prune(&self, older_than: Duration) -> Result<usize, DbError>;
    /// Marks every open transaction `node` holds as still alive. Returns how many.
    fn renew(&self, node: &str) -> Result<usize, DbError>;
    /// Takes over, for `node`, the open transactions of `tenant` that nobody renewed for
    /// `lease`, and (with `own`) those `node` itself held before it restarted; returns
    /// them, oldest first, for recovery. A row is returned to one claimant only.
    fn claim(
        &self,
        tenant: &str,
        node: &str,
        lease: Duration,
        own: bool,
    ) -> Result<Vec<Pending>, ReadError>;
}

/// The transaction log in a tenant's SQLite file, on one connection.
#[derive(Debug)]
pub struct SqliteTxLog {
    db: schema::Db,
}

const COLUMNS: &str = "id, tenant, call_id, idempotency_key, plugin_version, operation, state, \
     transaction_id, summary, total_minor_units, currency, expires_at, reference, message, \
     abort_reason, failure, begun_at, prepared_at, confirmed_at, ended_at";

pub(crate) const OPEN_STATES: &str = "('preparing', 'prepared', 'confirmed')";

impl SqliteTxLog {
    /// Opens (creating if needed) the store file at `path` and migrates it to
    /// [`crate::SCHEMA_VERSION`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteTxLog, OpenError> {
        Ok(SqliteTxLog {
            db: schema::Db::open(path.as_ref(), &schema::TENANT)?,
        })
    }

    pub fn path(&self) -> &Path {
        self.db.path()
    }
}

impl TxLog for SqliteTxLog {
    fn begin(&self, intent: Intent) -> Result<TxId, BeginError> {
        let key = checked_key(&intent)?;
        let mut conn = self.lock();
        // IMMEDIATE: the look-up and the insert must be one atomic step against other
        // connections, and a deferred transaction that upgrades to a write lock can fail
        // with SQLITE_BUSY without waiting on the busy timeout.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                "SELECT id, call_id, operation FROM tx_log \
                 WHERE tenant = ?1 AND idempotency_key = ?2",
                (&intent.tenant, &key),
                |row| {
                    Ok((
                        TxId(row.get(0)?),
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        if let Some((id, call_id, operation)) = existing {
            return if call_id == intent.call_id && operation == intent.operation_json {
                Ok(id)
            } else {
                Err(BeginError::KeyReused { key, existing: id })
            };
        }
        let now = now_ms();
        tx.execute(
            "INSERT INTO tx_log (tenant, call_id, idempotency_key, plugin_version, operation, \
                 state, begun_at, node, renewed_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'preparing', ?6, ?7, ?6)",
            (
                &intent.tenant,
                &intent.call_id,
                &key,
                &intent.plugin_version,
                &intent.operation_json,
                now,
                &intent.node,
            ),
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(TxId(id))
    }

    fn record(&self, id: TxId, step: Step) -> Result<(), TransitionError> {
        let sql = step.sql(|n| format!("?{n}"));
        let mut params: Vec<&dyn ToSql> = vec![&id.0];
        params.extend(step.set.iter().map(|(_, value)| match value {
            Value::Text(v) => v as &dyn ToSql,
            Value::Int(v) => v as &dyn ToSql,
        }));
        let conn = self.lock();
        if conn.execute(&sql, params.as_slice())? == 1 {
            return Ok(());
        }
        let current: Option<String> = conn
            .query_row("SELECT state FROM tx_log WHERE id = ?1", [id.0], |row| {
                row.get(0)
            })
            .optional()?;
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
        self.select("WHERE id = ?1", &[&id.0])?
            .into_iter()
            .next()
            .map(RawRow::into_transaction)
            .transpose()
    }

    fn for_call(&self, tenant: &str, call_id: &str) -> Result<Vec<Transaction>, ReadError> {
        self.select(
            "WHERE tenant = ?1 AND call_id = ?2 ORDER BY id",
            &[&tenant, &call_id],
        )?
        .into_iter()
        .map(RawRow::into_transaction)
        .collect()
    }

    fn prune(&self, older_than: Duration) -> Result<usize, DbError> {
        let cutoff = now_ms().saturating_sub(duration_ms(older_than));
        let conn = self.lock();
        Ok(conn.execute(
            "DELETE FROM tx_log WHERE ended_at IS NOT NULL AND ended_at <= ?1",
            [cutoff],
        )?)
    }

    fn renew(&self, node: &str) -> Result<usize, DbError> {
        let conn = self.lock();
        Ok(conn.execute(
            &format!(
                "UPDATE tx_log SET renewed_at = ?2 WHERE node = ?1 AND state IN {OPEN_STATES}"
            ),
            (node, now_ms()),
        )?)
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
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let claimable = format!(
            "tenant = ?1 AND state IN {OPEN_STATES} AND (renewed_at < ?3 OR (?4 AND node = ?2))"
        );
        let ids: Vec<i64> = tx
            .prepare(&format!(
                "SELECT id FROM tx_log WHERE {claimable} ORDER BY id"
            ))?
            .query_map((tenant, node, stale, own), |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        tx.execute(
            &format!("UPDATE tx_log SET node = ?2, renewed_at = ?5 WHERE {claimable}"),
            (tenant, node, stale, own, now),
        )?;
        let mut rows = Vec::with_capacity(ids.len());
        {
            let mut statement =
                tx.prepare(&format!("SELECT {COLUMNS} FROM tx_log WHERE id = ?1"))?;
            for id in ids {
                rows.push(statement.query_row([id], RawRow::read)?);
            }
        }
        tx.commit()?;
        let now = SystemTime::now();
        rows.into_iter().map(|row| row.into_pending(now)).collect()
    }
}

impl SqliteTxLog {
    fn select(&self, filter: &str, params: &[&dyn ToSql]) -> Result<Vec<RawRow>, ReadError> {
        let conn = self.lock();
        let mut statement = conn.prepare(&format!("SELECT {COLUMNS} FROM tx_log {filter}"))?;
        let rows = statement
            .query_map(params, RawRow::read)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.db.lock()
    }
}

/// Checks what [`TxLog::begin`] is given (every backend refuses the same) and returns
/// the idempotency key to use.
pub(crate) fn checked_key(intent: &Intent) -> Result<String, BeginError> {
    for (field, value) in [
        ("tenant", &intent.tenant),
        ("call id", &intent.call_id),
        ("plugin version", &intent.plugin_version),
    ] {
        if value.is_empty() {
            return Err(BeginError::Empty(field));
        }
    }
    // Recovery must be able to send it again, possibly after a restart: refuse garbage now.
    if serde_json::from_str::<serde_json::Value>(&intent.operation_json).is_err() {
        return Err(BeginError::OperationNotJson);
    }
    match &intent.idempotency_key {
        Some(key) if key.is_empty() => Err(BeginError::Empty("idempotency key")),
        Some(key) => Ok(key.clone()),
        None => new_idempotency_key(),
    }
}

/// A row as stored, before its invariants are checked.
pub(crate) struct RawRow {
    pub(crate) id: i64,
    pub(crate) tenant: String,
    pub(crate) call_id: String,
    pub(crate) idempotency_key: String,
    pub(crate) plugin_version: String,
    pub(crate) operation: String,
    pub(crate) state: String,
    pub(crate) transaction_id: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) total_minor_units: Option<i64>,
    pub(crate) currency: Option<String>,
    pub(crate) expires_at: Option<String>,
    pub(crate) reference: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) abort_reason: Option<String>,
    pub(crate) failure: Option<String>,
    pub(crate) begun_at: i64,
    pub(crate) prepared_at: Option<i64>,
    pub(crate) confirmed_at: Option<i64>,
    pub(crate) ended_at: Option<i64>,
}

impl RawRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            id: row.get(0)?,
            tenant: row.get(1)?,
            call_id: row.get(2)?,
            idempotency_key: row.get(3)?,
            plugin_version: row.get(4)?,
            operation: row.get(5)?,
            state: row.get(6)?,
            transaction_id: row.get(7)?,
            summary: row.get(8)?,
            total_minor_units: row.get(9)?,
            currency: row.get(10)?,
            expires_at: row.get(11)?,
            reference: row.get(12)?,
            message: row.get(13)?,
            abort_reason: row.get(14)?,
            failure: row.get(15)?,
            begun_at: row.get(16)?,
            prepared_at: row.get(17)?,
            confirmed_at: row.get(18)?,
            ended_at: row.get(19)?,
        })
    }

    fn corrupt(&self, what: impl Into<String>) -> ReadError {
        ReadError::Corrupt {
            id: TxId(self.id),
            what: what.into(),
        }
    }

    fn state(&self) -> Result<State, ReadError> {
        State::parse(&self.state).ok_or_else(|| self.corrupt(format!("state {:?}", self.state)))
    }

    pub(crate) fn into_pending(self, now: SystemTime) -> Result<Pending, ReadError> {
        let state = match (self.state()?, self.transaction_id.clone()) {
            (State::Preparing, _) => OpenState::Preparing,
            (State::Prepared, Some(transaction_id)) => OpenState::Prepared { transaction_id },
            (State::Confirmed, Some(transaction_id)) => OpenState::Confirmed { transaction_id },
            (state, _) => {
                return Err(self.corrupt(format!("{state} without a transaction id")));
            }
        };
        Ok(Pending {
            id: TxId(self.id),
            state,
            age: now
                .duration_since(time(self.begun_at))
                .unwrap_or(Duration::ZERO),
            tenant: self.tenant,
            call_id: self.call_id,
            plugin_version: self.plugin_version,
            idempotency_key: self.idempotency_key,
            operation_json: self.operation,
            expires_at: self.expires_at,
        })
    }

    pub(crate) fn into_transaction(self) -> Result<Transaction, ReadError> {
        let state = self.state()?;
        let total = match (self.total_minor_units, self.currency.clone()) {
            (Some(minor_units), Some(currency)) => Some(Money {
                minor_units,
                currency,
            }),
            (None, None) => None,
            _ => return Err(self.corrupt("an amount without a currency, or the reverse")),
        };
        let prepared = match (
            self.transaction_id.clone(),
            self.summary.clone(),
            self.expires_at.clone(),
        ) {
            (Some(transaction_id), Some(summary), Some(expires_at)) => Some(Prepared {
                transaction_id,
                summary,
                total,
                expires_at,
            }),
            (None, None, None) => None,
            _ => return Err(self.corrupt("a partial prepare")),
        };
        let outcome = match state {
            State::Preparing | State::Prepared | State::Confirmed => None,
            State::Committed => match (self.reference.clone(), self.message.clone()) {
                (Some(reference), Some(message)) => Some(Outcome::Committed { reference, message }),
                _ => return Err(self.corrupt("committed without a reference")),
            },
            State::Aborted => Some(Outcome::Aborted {
                reason: self
                    .abort_reason
                    .clone()
                    .ok_or_else(|| self.corrupt("aborted without a reason"))?,
            }),
            State::Failed => Some(Outcome::Failed {
                error: self
                    .failure
                    .clone()
                    .ok_or_else(|| self.corrupt("failed without an error"))?,
            }),
        };
        Ok(Transaction {
            id: TxId(self.id),
            tenant: self.tenant,
            call_id: self.call_id,
            idempotency_key: self.idempotency_key,
            plugin_version: self.plugin_version,
            operation_json: self.operation,
            state,
            prepared,
            outcome,
            begun_at: time(self.begun_at),
            prepared_at: self.prepared_at.map(time),
            confirmed_at: self.confirmed_at.map(time),
            ended_at: self.ended_at.map(time),
        })
    }
}

/// 128 random bits from the OS, as 32 hex digits: unique across gateways without
/// coordination, and opaque to the tenant's system that stores it.
fn new_idempotency_key() -> Result<String, BeginError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(BeginError::Random)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

pub(crate) fn now_ms() -> i64 {
    duration_ms(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO),
    )
}

pub(crate) fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn every_state_round_trips_through_its_name() {
        for state in [
            State::Preparing,
            State::Prepared,
            State::Confirmed,
            State::Committed,
            State::Aborted,
            State::Failed,
        ] {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
        assert_eq!(State::parse("Committed"), None);
    }

    #[test]
    fn nothing_leaves_a_terminal_state_and_a_yes_is_never_aborted() {
        for to in [
            State::Preparing,
            State::Prepared,
            State::Confirmed,
            State::Committed,
            State::Aborted,
            State::Failed,
        ] {
            assert!(to.allowed_from().iter().all(|from| !from.is_terminal()));
        }
        assert!(!State::Aborted.allowed_from().contains(&State::Confirmed));
    }

    #[test]
    fn connection_is_wal_and_fsyncs_every_commit() {
        let dir = std::env::temp_dir().join(format!("voxgate-store-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pragmas.db");
        let _ = std::fs::remove_file(&path);
        let log = SqliteTxLog::open(&path).unwrap();
        let conn = log.lock();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        let synchronous: i64 = conn
            .pragma_query_value(None, "synchronous", |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(synchronous, 2, "2 is FULL");
        drop(conn);
        drop(log);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn generated_keys_are_128_bit_hex() {
        let key = new_idempotency_key().unwrap();
        assert_eq!(key.len(), 32);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(key, new_idempotency_key().unwrap());
    }
}
