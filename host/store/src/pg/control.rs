//! The control plane's data in PostgreSQL. Tenant changes are announced to every node
//! (`tenants` on [`super::CHANNEL`]) in the same transaction, so a node hears of a
//! change only once it is there to read.

use ::postgres::Row;

use super::{CHANNEL, PgStore, conflict_or_db};
use crate::control::{AuditEntry, ControlStore, TenantRow, TokenRow, recording_key};
use crate::{DbError, StoreError};

/// The control plane in a shared PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgControlStore {
    store: PgStore,
}

impl PgControlStore {
    pub(super) fn new(store: PgStore) -> PgControlStore {
        PgControlStore { store }
    }

    /// Runs `sql` and announces a tenant change, in one transaction; returns the rows
    /// `sql` touched.
    fn tenant_change(
        &self,
        sql: &str,
        params: &[&(dyn ::postgres::types::ToSql + Sync)],
        conflict: impl FnOnce() -> String,
    ) -> Result<u64, StoreError> {
        let mut conn = self.store.conn()?;
        let mut tx = conn.transaction().map_err(DbError::from)?;
        let n = tx
            .execute(sql, params)
            .map_err(|e| conflict_or_db(e, conflict))?;
        if n > 0 {
            tx.execute("SELECT pg_notify($1, 'tenants')", &[&CHANNEL])
                .map_err(DbError::from)?;
        }
        tx.commit().map_err(DbError::from)?;
        Ok(n)
    }
}

const TENANT_COLUMNS: &str = "id, config, recording_key, created_at, updated_at";
const TOKEN_COLUMNS: &str = "id, name, tenant, created_at, created_by, revoked_at";

fn read_tenant(row: &Row) -> Result<TenantRow, DbError> {
    let key: Vec<u8> = row.try_get(2)?;
    Ok(TenantRow {
        id: row.try_get(0)?,
        config: row.try_get(1)?,
        recording_key: recording_key(&key),
        created_at: row.try_get(3)?,
        updated_at: row.try_get(4)?,
    })
}

fn read_token(row: &Row) -> Result<TokenRow, DbError> {
    Ok(TokenRow {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        tenant: row.try_get(2)?,
        created_at: row.try_get(3)?,
        created_by: row.try_get(4)?,
        revoked_at: row.try_get(5)?,
    })
}

impl ControlStore for PgControlStore {
    fn tenants(&self) -> Result<Vec<TenantRow>, StoreError> {
        let rows = self
            .store
            .conn()?
            .query(
                &format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id"),
                &[],
            )
            .map_err(DbError::from)?;
        Ok(rows.iter().map(read_tenant).collect::<Result<_, _>>()?)
    }

    fn tenant(&self, id: &str) -> Result<Option<TenantRow>, StoreError> {
        let row = self
            .store
            .conn()?
            .query_opt(
                &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1"),
                &[&id],
            )
            .map_err(DbError::from)?;
        Ok(row.as_ref().map(read_tenant).transpose()?)
    }

    fn create_tenant(&self, row: &TenantRow) -> Result<(), StoreError> {
        let exists = || format!("tenant `{}` already exists", row.id);
        let n = self.tenant_change(
            "INSERT INTO tenants (id, config, recording_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[
                &row.id,
                &row.config,
                &&row.recording_key[..],
                &row.created_at,
                &row.updated_at,
            ],
            exists,
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(exists()));
        }
        Ok(())
    }

    fn update_tenant(&self, id: &str, config: &str, at: i64) -> Result<(), StoreError> {
        let n = self.tenant_change(
            "UPDATE tenants SET config = $2, updated_at = $3 WHERE id = $1",
            &[&id, &config, &at],
            String::new,
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no tenant `{id}`")));
        }
        Ok(())
    }

    fn delete_tenant(&self, id: &str) -> Result<(), StoreError> {
        let n = self.tenant_change("DELETE FROM tenants WHERE id = $1", &[&id], String::new)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no tenant `{id}`")));
        }
        Ok(())
    }

    fn tokens(&self, tenant: Option<&str>) -> Result<Vec<TokenRow>, StoreError> {
        let mut conn = self.store.conn()?;
        let rows = match tenant {
            Some(t) => conn.query(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM tokens WHERE tenant = $1 ORDER BY created_at, id"
                ),
                &[&t],
            ),
            None => conn.query(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"),
                &[],
            ),
        }
        .map_err(DbError::from)?;
        Ok(rows.iter().map(read_token).collect::<Result<_, _>>()?)
    }

    fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let row = self
            .store
            .conn()?
            .query_opt(
                &format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1"),
                &[&id],
            )
            .map_err(DbError::from)?;
        Ok(row.as_ref().map(read_token).transpose()?)
    }

    fn create_token(&self, row: &TokenRow, hash: &[u8; 32]) -> Result<(), StoreError> {
        self.store
            .conn()?
            .execute(
                "INSERT INTO tokens (id, name, tenant, hash, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &row.id,
                    &row.name,
                    &row.tenant,
                    &&hash[..],
                    &row.created_at,
                    &row.created_by,
                ],
            )
            .map_err(|e| conflict_or_db(e, || format!("token `{}` exists", row.id)))?;
        Ok(())
    }

    fn token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<TokenRow>, StoreError> {
        let row = self
            .store
            .conn()?
            .query_opt(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1 AND revoked_at IS NULL"
                ),
                &[&&hash[..]],
            )
            .map_err(DbError::from)?;
        Ok(row.as_ref().map(read_token).transpose()?)
    }

    fn revoke_token(&self, id: &str, at: i64) -> Result<(), StoreError> {
        let n = self
            .store
            .conn()?
            .execute(
                "UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
                &[&id, &at],
            )
            .map_err(DbError::from)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no token `{id}`")));
        }
        Ok(())
    }

    fn has_operator_token(&self) -> Result<bool, StoreError> {
        Ok(self
            .store
            .conn()?
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM tokens WHERE tenant IS NULL AND revoked_at IS NULL)",
                &[],
            )
            .map_err(DbError::from)?
            .try_get(0)
            .map_err(DbError::from)?)
    }

    fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.store
            .conn()?
            .execute(
                "INSERT INTO audit (at, actor, tenant, action, target, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &entry.at,
                    &entry.actor,
                    &entry.tenant,
                    &entry.action,
                    &entry.target,
                    &entry.detail,
                ],
            )
            .map_err(DbError::from)?;
        Ok(())
    }

    fn audit_log(&self, tenant: Option<&str>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::from(limit.max(1));
        let columns = "seq, at, actor, tenant, action, target, detail";
        let mut conn = self.store.conn()?;
        let rows = match tenant {
            Some(t) => conn.query(
                &format!(
                    "SELECT {columns} FROM audit WHERE tenant = $1 ORDER BY seq DESC LIMIT $2"
                ),
                &[&t, &limit],
            ),
            None => conn.query(
                &format!("SELECT {columns} FROM audit ORDER BY seq DESC LIMIT $1"),
                &[&limit],
            ),
        }
        .map_err(DbError::from)?;
        let read = |row: &Row| -> Result<AuditEntry, DbError> {
            Ok(AuditEntry {
                seq: row.try_get(0)?,
                at: row.try_get(1)?,
                actor: row.try_get(2)?,
                tenant: row.try_get(3)?,
                action: row.try_get(4)?,
                target: row.try_get(5)?,
                detail: row.try_get(6)?,
            })
        };
        Ok(rows.iter().map(read).collect::<Result<_, _>>()?)
    }
}
