//! The control plane's data: tenants, API tokens, the audit log.
//!
//! [`ControlStore`] is what the gateway needs of it; [`SqliteControlStore`] keeps it in
//! one SQLite file beside the tenants' own files. Tokens are kept only as SHA-256
//! hashes: they are 256-bit random secrets, so a fast hash is enough, and the file
//! leaking does not leak a usable token. Times are unix milliseconds (UTC).

use std::path::Path;
use std::sync::MutexGuard;

use rusqlite::{Connection, OptionalExtension, Row};

use crate::{DbError, OpenError, StoreError, schema};

/// One tenant as stored.
#[derive(Clone, PartialEq)]
pub struct TenantRow {
    pub id: String,
    /// The tenant's config as JSON (see the gateway's tenant file format).
    pub config: String,
    /// AES-256 key of the tenant's recordings.
    pub recording_key: [u8; 32],
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for TenantRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRow")
            .field("id", &self.id)
            .field("recording_key", &"<hidden>")
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// One API token as stored (never the secret itself).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    /// `None`: an operator token.
    pub tenant: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
}

/// One audited change.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    /// Who: the token's name and id, or `cli`, `system`.
    pub actor: String,
    pub tenant: Option<String>,
    /// What, e.g. `tenant.create`, `plugin.activate`.
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// The control plane's data, as the gateway uses it.
pub trait ControlStore: Send + Sync + std::fmt::Debug {
    fn tenants(&self) -> Result<Vec<TenantRow>, StoreError>;
    fn tenant(&self, id: &str) -> Result<Option<TenantRow>, StoreError>;
    /// [`StoreError::Conflict`] if the id is taken.
    fn create_tenant(&self, row: &TenantRow) -> Result<(), StoreError>;
    /// [`StoreError::NotFound`] if there is no such tenant.
    fn update_tenant(&self, id: &str, config: &str, at: i64) -> Result<(), StoreError>;
    fn delete_tenant(&self, id: &str) -> Result<(), StoreError>;

    /// Tokens of one tenant, or all (`None`), revoked ones included.
    fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRow>, StoreError>;
    fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError>;
    fn create_token(&self, row: &TokenRow, hash: &[u8; 32]) -> Result<(), StoreError>;
    /// The live (not revoked) token with this hash.
    fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError>;
    fn revoke_token(&self, id: &str, at: i64) -> Result<(), StoreError>;
    /// Whether a live operator token exists (else the gateway makes the first one).
    fn has_operator_token(&self) -> Result<bool, StoreError>;

    fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// Newest first; one tenant's entries, or all.
    fn audit_log(&self, tenant: Option<&str>, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
}

/// The control plane in an SQLite file.
#[derive(Debug)]
pub struct SqliteControlStore {
    db: schema::Db,
}

impl SqliteControlStore {
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteControlStore, OpenError> {
        Ok(SqliteControlStore {
            db: schema::Db::open(path.as_ref(), &schema::CONTROL)?,
        })
    }

    pub fn path(&self) -> &Path {
        self.db.path()
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.db.lock()
    }
}

/// A recording key as stored. The schema checks the length; a key of another length
/// (which cannot be stored) reads as zeros rather than hiding the tenant.
pub(crate) fn recording_key(stored: &[u8]) -> [u8; 32] {
    stored.try_into().unwrap_or([0u8; 32])
}

fn read_tenant(row: &Row<'_>) -> rusqlite::Result<TenantRow> {
    let key: Vec<u8> = row.get(2)?;
    Ok(TenantRow {
        id: row.get(0)?,
        config: row.get(1)?,
        recording_key: recording_key(&key),
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

fn read_token(row: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        id: row.get(0)?,
        name: row.get(1)?,
        tenant: row.get(2)?,
        created_at: row.get(3)?,
        created_by: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}

const TOKEN_COLUMNS: &str = "id, name, tenant, created_at, created_by, revoked_at";

impl ControlStore for SqliteControlStore {
    fn tenants(&self) -> Result<Vec<TenantRow>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT id, config, recording_key, created_at, updated_at FROM tenants \
                 ORDER BY id",
            )
            .map_err(DbError::from)?;
        let rows = statement
            .query_map([], read_tenant)
            .map_err(DbError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(DbError::from)?;
        Ok(rows)
    }

    fn tenant(&self, id: &str) -> Result<Option<TenantRow>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT id, config, recording_key, created_at, updated_at FROM tenants \
                 WHERE id = ?1",
                [id],
                read_tenant,
            )
            .optional()
            .map_err(DbError::from)?)
    }

    fn create_tenant(&self, row: &TenantRow) -> Result<(), StoreError> {
        let conn = self.lock();
        let inserted = conn
            .execute(
                "INSERT INTO tenants (id, config, recording_key, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
                (
                    &row.id,
                    &row.config,
                    &row.recording_key[..],
                    row.created_at,
                    row.updated_at,
                ),
            )
            .map_err(DbError::from)?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "tenant `{}` already exists",
                row.id
            )));
        }
        Ok(())
    }

    fn update_tenant(&self, id: &str, config: &str, at: i64) -> Result<(), StoreError> {
        let conn = self.lock();
        let n = conn
            .execute(
                "UPDATE tenants SET config = ?2, updated_at = ?3 WHERE id = ?1",
                (id, config, at),
            )
            .map_err(DbError::from)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no tenant `{id}`")));
        }
        Ok(())
    }

    fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        let conn = self.lock();
        let n = conn
            .execute("DELETE FROM tenants WHERE id = ?1", [id])
            .map_err(DbError::from)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no tenant `{id}`")));
        }
        Ok(())
    }

    fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRow>, StoreError> {
        let conn = self.lock();
        let (sql, param) = match tenant {
            Some(t) => (
                format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE tenant = ?1 ORDER BY created_at"),
                Some(t),
            ),
            None => (
                format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at"),
                None,
            ),
        };
        let mut statement = conn.prepare(&sql).map_err(DbError::from)?;
        let rows = match param {
            Some(p) => statement.query_map([p], read_token),
            None => statement.query_map([], read_token),
        }
        .map_err(DbError::from)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(DbError::from)?;
        Ok(rows)
    }

    fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?1"),
                [id],
                read_token,
            )
            .optional()
            .map_err(DbError::from)?)
    }

    fn create_token(&self, row: &TokenRow, hash: &[u8; 32]) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO tokens (id, name, tenant, hash, created_at, created_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            (
                &row.id,
                &row.name,
                &row.tenant,
                &hash[..],
                row.created_at,
                &row.created_by,
            ),
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => {
                StoreError::Conflict(format!("token `{}` exists", row.id))
            }
            _ => StoreError::Db(DbError::from(e)),
        })?;
        Ok(())
    }

    fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1 AND revoked_at IS NULL"
                ),
                [&hash[..]],
                read_token,
            )
            .optional()
            .map_err(DbError::from)?)
    }

    fn revoke_token(&self, id: &str, at: i64) -> Result<(), StoreError> {
        let conn = self.lock();
        let n = conn
            .execute(
                "UPDATE tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                (id, at),
            )
            .map_err(DbError::from)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no token `{id}`")));
        }
        Ok(())
    }

    fn has_operator_token(&self) -> Result<bool, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM tokens WHERE tenant IS NULL AND revoked_at IS NULL)",
                [],
                |r| r.get(0),
            )
            .map_err(DbError::from)?)
    }

    fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO audit (at, actor, tenant, action, target, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            (
                entry.at,
                &entry.actor,
                &entry.tenant,
                &entry.action,
                &entry.target,
                &entry.detail,
            ),
        )
        .map_err(DbError::from)?;
        Ok(())
    }

    fn audit_log(&self, tenant: Option<&str>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.lock();
        let read = |row: &Row<'_>| {
            Ok(AuditEntry {
                seq: row.get(0)?,
                at: row.get(1)?,
                actor: row.get(2)?,
                tenant: row.get(3)?,
                action: row.get(4)?,
                target: row.get(5)?,
                detail: row.get(6)?,
            })
        };
        let limit = i64::from(limit.max(1));
        let columns = "seq, at, actor, tenant, action, target, detail";
        let rows = match tenant {
            Some(t) => conn
                .prepare(&format!(
                    "SELECT {columns} FROM audit WHERE tenant = ?1 ORDER BY seq DESC LIMIT ?2"
                ))
                .and_then(|mut s| s.query_map((t, limit), read)?.collect()),
            None => conn
                .prepare(&format!(
                    "SELECT {columns} FROM audit ORDER BY seq DESC LIMIT ?1"
                ))
                .and_then(|mut s| s.query_map([limit], read)?.collect()),
        }
        .map_err(DbError::from)?;
        Ok(rows)
    }
}
