//! The store on PostgreSQL: what several gateway nodes share.
//!
//! One database holds everything (the control plane, every tenant's data, the
//! transaction log) in the schema `voxgate`, so the database may hold other applications'
//! tables too. Tenants' rows carry the tenant's id in their keys instead of living in a
//! file of their own. The schema is versioned in the table `voxgate.schema_version` and
//! migrated on connect under an advisory lock, so nodes starting together migrate once.
//!
//! Like the SQLite store it is synchronous (the gateway calls it from tokio's blocking
//! pool); the connections come from a small pool of our own. Changes other nodes must
//! act on (plugin activations, tenant config) are announced with `NOTIFY` on
//! [`CHANNEL`]; see [`Listener`].

mod cluster;
mod control;
mod tenant;
mod txlog;

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ::postgres::{Client, Config, NoTls};

pub use self::cluster::LocalCluster;
pub use self::control::PgControlStore;
pub use self::tenant::PgTenantStore;
pub use self::txlog::PgTxLog;
use crate::{DbError, OpenError, StoreError};

/// The `NOTIFY` channel of store changes. Payloads: `tenants` (a tenant was created,
/// changed or deleted) and `plugins:<tenant>` (its plugin history grew).
pub const CHANNEL: &str = "voxgate_changes";

/// How long a statement may wait for a pooled connection, and how long connecting may
/// take, before the store answers with an error rather than holding a call up.
const WAIT: Duration = Duration::from_secs(5);

/// Connections per gateway node: calls write short rows, so a few carry many calls; the
/// listener has its own.
const POOL_SIZE: usize = 8;

/// A connected, migrated PostgreSQL store. Cheap to clone; every clone shares the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Arc<Pool>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.pool.describe())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgresql://user@host/db` or `host=… dbname=…`; a host that
    /// starts with `/` is a Unix socket folder) and migrates the schema.
    pub fn connect(url: &str) -> Result<PgStore, OpenError> {
        let mut config: Config = url.parse().map_err(|e| OpenError::Server {
            what: "the PostgreSQL connection string is not valid".into(),
            source: DbError::from(e),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(WAIT);
        }
        let pool = Arc::new(Pool::new(config, POOL_SIZE));
        let store = PgStore { pool };
        let mut conn = store.pool.get().map_err(|source| OpenError::Server {
            what: format!("cannot connect to PostgreSQL at {}", store.pool.describe()),
            source,
        })?;
        migrate(&mut conn).map_err(|e| match e {
            Migrate::Db(source) => OpenError::Server {
                what: format!("cannot migrate the store at {}", store.pool.describe()),
                source,
            },
            Migrate::Newer(found) => OpenError::NewerServerSchema {
                database: store.pool.describe(),
                found,
                supported: MIGRATIONS.len(),
            },
        })?;
        drop(conn);
        Ok(store)
    }

    pub fn control(&self) -> PgControlStore {
        PgControlStore::new(self.clone())
    }

    /// One tenant's data. The tenant need not exist in the control plane (the stores do
    /// not reference each other, as with SQLite's separate files).
    pub fn tenant(&self, id: &str) -> PgTenantStore {
        PgTenantStore::new(self.clone(), id)
    }

    /// The transaction log every node shares.
    pub fn txlog(&self) -> PgTxLog {
        PgTxLog::new(self.clone())
    }

    /// Tells every listening node (this one too) that something changed.
    pub fn notify(&self, payload: &str) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        conn.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
            .map_err(DbError::from)?;
        Ok(())
    }

    /// A connection of its own that receives what [`PgStore::notify`] sends.
    pub fn listener(&self) -> Listener {
        Listener {
            config: self.pool.config.clone(),
            client: None,
        }
    }

    pub(crate) fn conn(&self) -> Result<Conn<'_>, DbError> {
        self.pool.get()
    }
}

/// Receives change notifications on a connection of its own, reconnecting when it drops.
pub struct Listener {
    config: Config,
    client: Option<Client>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("connected", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

/// What [`Listener::wait`] saw.
#[derive(Debug, PartialEq)]
pub enum Heard {
    /// Notifications' payloads, in the order sent.
    Changes(Vec<String>),
    /// Nothing within the time given.
    Quiet,
    /// The connection was (re)made: whatever was sent while it was down is lost, so the
    /// caller should check everything once.
    Reconnected,
}

impl Listener {
    /// Waits up to `timeout` for notifications.
    pub fn wait(&mut self, timeout: Duration) -> Result<Heard, DbError> {
        let mut client = match self.client.take() {
            Some(c) if !c.is_closed() => c,
            _ => {
                let mut c = self.config.connect(NoTls)?;
                c.batch_execute(&format!("LISTEN {CHANNEL}"))?;
                self.client = Some(c);
                return Ok(Heard::Reconnected);
            }
        };
        let mut payloads = Vec::new();
        let result = (|| {
            use ::postgres::fallible_iterator::FallibleIterator;
            let mut notifications = client.notifications();
            // The first one is waited for; the rest are whatever arrived with it.
            let first = notifications.timeout_iter(timeout).next()?;
            if let Some(n) = first {
                payloads.push(n.payload().to_string());
                let mut rest = notifications.iter();
                while let Some(n) = rest.next()? {
                    payloads.push(n.payload().to_string());
                }
            }
            Ok::<(), ::postgres::Error>(())
        })();
        if let Err(e) = result {
            // Dropped: the next wait reconnects and says so.
            return Err(e.into());
        }
        self.client = Some(client);
        Ok(if payloads.is_empty() {
            Heard::Quiet
        } else {
            Heard::Changes(payloads)
        })
    }
}

/// A handful of connections, made when first needed and kept; a broken one is dropped
/// and replaced on the next demand.
struct Pool {
    config: Config,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Client>,
    open: usize,
}

impl Pool {
    fn new(config: Config, max: usize) -> Pool {
        Pool {
            config,
            max,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// Where the pool connects, for messages (never the password).
    fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                ::postgres::config::Host::Tcp(h) => h.clone(),
                ::postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        format!(
            "{}/{}",
            hosts.join(","),
            self.config.get_dbname().unwrap_or("")
        )
    }

    fn get(&self) -> Result<Conn<'_>, DbError> {
        let deadline = Instant::now() + WAIT;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open = state.open.saturating_sub(1);
                    continue;
                }
                return Ok(Conn {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Conn {
                        pool: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                        state.open = state.open.saturating_sub(1);
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DbError::pool(format!(
                    "all {} connections stayed busy for {} s",
                    self.max,
                    WAIT.as_secs()
                )));
            }
            state = self
                .freed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn connect(&self) -> Result<Client, DbError> {
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute(
            "CREATE SCHEMA IF NOT EXISTS voxgate; SET search_path TO voxgate; \
             SET TIME ZONE 'UTC'",
        )?;
        Ok(client)
    }

    fn put(&self, client: Client) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if client.is_closed() {
            state.open = state.open.saturating_sub(1);
        } else {
            state.idle.push(client);
        }
        self.freed.notify_one();
    }
}

/// A pooled connection, given back when dropped.
pub(crate) struct Conn<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        // Only `drop` takes it out.
        self.client.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.pool.put(client);
        }
    }
}

enum Migrate {
    Db(DbError),
    Newer(i64),
}

impl From<::postgres::Error> for Migrate {
    fn from(e: ::postgres::Error) -> Migrate {
        Migrate::Db(DbError::from(e))
    }
}

/// Brings the schema up to date in one transaction; the advisory lock makes nodes that
/// start together take turns, so the second finds the work done.
fn migrate(client: &mut Client) -> Result<(), Migrate> {
    let mut tx = client.transaction()?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7665786701); \
         CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
    )?;
    let version: i64 = tx
        .query_opt("SELECT version::bigint FROM schema_version", &[])?
        .map(|row| row.try_get(0))
        .transpose()?
        .unwrap_or(0);
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if version > known {
        return Err(Migrate::Newer(version));
    }
    if version == known {
        return Ok(());
    }
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(migration)?;
    }
    tx.execute("DELETE FROM schema_version", &[])?;
    let now = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&now])?;
    tx.commit()?;
    Ok(())
}

/// The schema, append-only like SQLite's. Times are unix milliseconds; JSON is kept as
/// text exactly as written (operations compare as text), checked by a cast.
const MIGRATIONS: &[&str] = &[P1];

const P1: &str = "
CREATE TABLE tenants (
    id            text   PRIMARY KEY,
    config        text   NOT NULL CHECK (config::json IS NOT NULL),
    recording_key bytea  NOT NULL CHECK (length(recording_key) = 32),
    created_at    bigint NOT NULL,
    updated_at    bigint NOT NULL
);

CREATE TABLE tokens (
    id          text   PRIMARY KEY,
    name        text   NOT NULL,
    tenant      text,
    hash        bytea  NOT NULL UNIQUE,
    created_at  bigint NOT NULL,
    created_by  text   NOT NULL,
    revoked_at  bigint
);

CREATE TABLE audit (
    seq     bigserial PRIMARY KEY,
    at      bigint NOT NULL,
    actor   text   NOT NULL,
    tenant  text,
    action  text   NOT NULL,
    target  text   NOT NULL DEFAULT '',
    detail  text   NOT NULL DEFAULT ''
);
CREATE INDEX audit_tenant ON audit (tenant, seq);

CREATE TABLE calls (
    tenant          text   NOT NULL,
    call_id         text   NOT NULL,
    caller          text   NOT NULL DEFAULT '',
    called          text   NOT NULL DEFAULT '',
    started_at      bigint NOT NULL,
    ended_at        bigint,
    duration_ms     bigint,
    outcome         text   NOT NULL DEFAULT '',
    agent           text   NOT NULL DEFAULT '',
    summary         text   NOT NULL DEFAULT '',
    end_reason      text,
    record          text   CHECK (record IS NULL OR record::json IS NOT NULL),
    rtp             text   CHECK (rtp IS NULL OR rtp::json IS NOT NULL),
    plugin_versions text   NOT NULL DEFAULT '[]' CHECK (plugin_versions::json IS NOT NULL),
    recording       text,
    expired_at      bigint,
    node            text   NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, call_id)
);
CREATE INDEX calls_started ON calls (tenant, started_at);

CREATE TABLE plugin_versions (
    tenant       text   NOT NULL,
    id           text   NOT NULL,
    name         text   NOT NULL,
    size         bigint NOT NULL,
    wit_version  text   NOT NULL,
    interfaces   text   NOT NULL CHECK (interfaces::json IS NOT NULL),
    uploaded_at  bigint NOT NULL,
    uploaded_by  text   NOT NULL,
    bytes        bytea  NOT NULL,
    -- Upload order, for versions uploaded in the same millisecond.
    added        bigserial,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE plugin_activations (
    seq            bigserial PRIMARY KEY,
    tenant         text   NOT NULL,
    at             bigint NOT NULL,
    actor          text   NOT NULL,
    action         text   NOT NULL
                   CHECK (action IN ('activate', 'rollback', 'canary', 'canary-stop')),
    version        text,
    bindings       text   NOT NULL CHECK (bindings::json IS NOT NULL),
    canary_version text,
    canary_percent bigint CHECK (canary_percent BETWEEN 1 AND 99),
    FOREIGN KEY (tenant, version) REFERENCES plugin_versions (tenant, id),
    FOREIGN KEY (tenant, canary_version) REFERENCES plugin_versions (tenant, id)
);
CREATE INDEX plugin_activations_tenant ON plugin_activations (tenant, seq);

CREATE TABLE credits (
    seq     bigserial PRIMARY KEY,
    tenant  text   NOT NULL,
    at      bigint NOT NULL,
    actor   text   NOT NULL,
    amount  bigint NOT NULL,
    balance bigint NOT NULL CHECK (balance >= 0),
    note    text   NOT NULL DEFAULT ''
);
CREATE INDEX credits_tenant ON credits (tenant, seq);

CREATE TABLE analyses (
    tenant          text   NOT NULL,
    id              text   NOT NULL,
    call_id         text   NOT NULL,
    source          text   NOT NULL CHECK (source IN ('upload', 'voxgate')),
    status          text   NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL,
    finished_at     bigint,
    metadata        text   NOT NULL CHECK (metadata::json IS NOT NULL),
    recording       text,
    recording_ms    bigint,
    credits         bigint NOT NULL DEFAULT 0,
    attempts        bigint NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    progress        double precision NOT NULL DEFAULT 0,
    error           text,
    transcript      text   CHECK (transcript IS NULL OR transcript::json IS NOT NULL),
    result          text   CHECK (result IS NULL OR result::json IS NOT NULL),
    date_time       bigint NOT NULL,
    queue           text   NOT NULL DEFAULT '',
    agent_id        text   NOT NULL DEFAULT '',
    department      text   NOT NULL DEFAULT '',
    category        text   NOT NULL DEFAULT '',
    sentiment       text   NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, call_id)
);
CREATE INDEX analyses_work ON analyses (status, next_attempt_at);
CREATE INDEX analyses_date ON analyses (tenant, date_time);

CREATE TABLE tx_log (
    id                bigserial PRIMARY KEY,
    tenant            text   NOT NULL,
    call_id           text   NOT NULL,
    idempotency_key   text   NOT NULL,
    plugin_version    text   NOT NULL,
    operation         text   NOT NULL CHECK (operation::json IS NOT NULL),
    state             text   NOT NULL CHECK (state IN
                          ('preparing', 'prepared', 'confirmed', 'committed', 'aborted', 'failed')),
    transaction_id    text,
    summary           text,
    total_minor_units bigint,
    currency          text,
    expires_at        text,
    reference         text,
    message           text,
    abort_reason      text,
    failure           text,
    begun_at          bigint NOT NULL,
    prepared_at       bigint,
    confirmed_at      bigint,
    ended_at          bigint,
    -- The node holding an open transaction, and when it last said it is alive.
    node              text   NOT NULL DEFAULT '',
    renewed_at        bigint NOT NULL DEFAULT 0,
    UNIQUE (tenant, idempotency_key),
    CHECK ((total_minor_units IS NULL) = (currency IS NULL)),
    CHECK (state NOT IN ('prepared', 'confirmed', 'committed') OR transaction_id IS NOT NULL),
    CHECK (state NOT IN ('confirmed', 'committed') OR confirmed_at IS NOT NULL),
    CHECK (state <> 'committed' OR (reference IS NOT NULL AND message IS NOT NULL)),
    CHECK (state <> 'aborted' OR abort_reason IS NOT NULL),
    CHECK (state <> 'failed' OR failure IS NOT NULL),
    CHECK ((state IN ('committed', 'aborted', 'failed')) = (ended_at IS NOT NULL))
);
CREATE INDEX tx_log_call ON tx_log (tenant, call_id);
CREATE INDEX tx_log_open ON tx_log (tenant, id) WHERE state IN ('preparing', 'prepared', 'confirmed');
CREATE INDEX tx_log_ended ON tx_log (ended_at) WHERE ended_at IS NOT NULL;
";

/// Maps a unique violation to [`StoreError::Conflict`] with `message`, anything else to
/// a database error.
pub(crate) fn conflict_or_db(e: ::postgres::Error, message: impl FnOnce() -> String) -> StoreError {
    if e.code() == Some(&::postgres::error::SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(message())
    } else {
        StoreError::Db(DbError::from(e))
    }
}

/// Serialises the writers of one tenant's credits (balance read, then the next row
/// written) for the rest of the transaction, as SQLite's write lock does.
pub(crate) fn lock_credits(
    tx: &mut ::postgres::Transaction<'_>,
    tenant: &str,
) -> Result<(), DbError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('voxgate.credits:' || $1))",
        &[&tenant],
    )?;
    Ok(())
}

/// The tenant's credit balance: its last movement's.
pub(crate) fn balance(
    client: &mut impl ::postgres::GenericClient,
    tenant: &str,
) -> Result<i64, DbError> {
    Ok(client
        .query_one(
            "SELECT coalesce((SELECT balance FROM credits WHERE tenant = $1 \
                 ORDER BY seq DESC LIMIT 1), 0)",
            &[&tenant],
        )?
        .try_get(0)?)
}
