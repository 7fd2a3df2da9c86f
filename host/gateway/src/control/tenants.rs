//! Tenants in the control store: create, change, delete, and provisioning from tenant
//! files (the config as JSON; plugin files uploaded and activated as versions).

use std::path::Path;

use serde_json::{Map, Value};
use voxgate_store::TenantRow;

use super::{ControlPlane, Error, blocking, now_ms};
use crate::tenant::TenantConfig;

/// A stored config, checked as a tenant file is.
pub(super) fn parse_config(json: &str) -> Result<TenantConfig, Error> {
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Error::BadRequest(format!("tenant config is not JSON: {e}")))?;
    config_from_value(&value)
}

/// A config from JSON, with every check a tenant file gets.
pub(super) fn config_from_value(value: &Value) -> Result<TenantConfig, Error> {
    let config: TenantConfig = serde_json::from_value(value.clone())
        .map_err(|e| Error::BadRequest(format!("tenant config: {e}")))?;
    config
        .validate()
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    Ok(config)
}

/// A tenant as the API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub numbers: Vec<String>,
    pub time_zone: String,
    pub created_at: String,
    pub updated_at: String,
    pub active_calls: u64,
    pub config: Value,
}

pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl ControlPlane {
    pub(crate) fn view(&self, row: &TenantRow) -> Result<TenantView, Error> {
        let config: Value = serde_json::from_str(&row.config)
            .map_err(|e| Error::Internal(format!("stored config of `{}`: {e}", row.id)))?;
        let text = |k: &str| {
            config
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let numbers = config
            .get("numbers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(TenantView {
            id: row.id.clone(),
            name: text("name"),
            time_zone: text("time_zone"),
            numbers,
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
            active_calls: self.metrics.active_calls(&row.id),
            config,
        })
    }

    pub async fn tenant_rows(&self) -> Result<Vec<TenantRow>, Error> {
        let control = self.control.clone();
        blocking(move || Ok(control.tenants()?)).await
    }

    pub async fn tenant_row(&self, id: &str) -> Result<TenantRow, Error> {
        let control = self.control.clone();
        let key = id.to_string();
        blocking(move || Ok(control.tenant(&key)?))
            .await?
            .ok_or_else(|| Error::NotFound(format!("no tenant `{id}`")))
    }

    /// Checks a config for a tenant (new or changed) against the others: its numbers
    /// must be its own.
    fn check_against_others(&self, config: &TenantConfig) -> Result<(), Error> {
        let current = self.tenants.current();
        for n in &config.numbers {
            if let Some(other) = current.by_number(n)
                && other.config.id != config.id
            {
                return Err(Error::Conflict(format!(
                    "number {n} already belongs to tenant `{}`",
                    other.config.id
                )));
            }
        }
        Ok(())
    }

    fn checked_body(value: &Value) -> Result<TenantConfig, Error> {
        let Some(object) = value.as_object() else {
            return Err(Error::BadRequest(
                "the tenant config must be a JSON object".into(),
            ));
        };
        if object.contains_key("plugins") {
            return Err(Error::BadRequest(
                "`plugins` cannot be set in the config: upload versions to \
                 /v1/tenants/{id}/plugins and activate them"
                    .into(),
            ));
        }
        config_from_value(value)
    }

    /// Creates a tenant from its config (JSON); [`Error::Conflict`] if the id or one of
    /// its numbers is taken.
    pub async fn create_tenant(&self, value: Value, actor: &str) -> Result<TenantView, Error> {
        let config = Self::checked_body(&value)?;
        let one_change = self.changes.lock().await;
        self.check_against_others(&config)?;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| Error::Internal(format!("no random key for recordings: {e}")))?;
        let now = now_ms();
        let row = TenantRow {
            id: config.id.clone(),
            config: value.to_string(),
            recording_key: key,
            created_at: now,
            updated_at: now,
        };
        let control = self.control.clone();
        let stored = row.clone();
        blocking(move || Ok(control.create_tenant(&stored)?)).await?;
        self.rebuild().await?;
        drop(one_change);
        self.audit(
            actor,
            Some(&row.id),
            "tenant.create",
            &row.id,
            String::new(),
        )
        .await;
        self.view(&row)
    }

    /// Replaces a tenant's config.
    pub async fn update_tenant(
        &self,
        id: &str,
        value: Value,
        actor: &str,
        action: &str,
    ) -> Result<TenantView, Error> {
        let config = Self::checked_body(&value)?;
        if config.id != id {
            return Err(Error::BadRequest(format!(
                "the config's id `{}` is not the tenant's id `{id}`",
                config.id
            )));
        }
        let one_change = self.changes.lock().await;
        let mut row = self.tenant_row(id).await?;
        self.check_against_others(&config)?;
        row.config = value.to_string();
        // Strictly increasing, so the rebuild never mistakes it for the last version.
        row.updated_at = now_ms().max(row.updated_at + 1);
        let control = self.control.clone();
        let (key, config_text, at) = (id.to_string(), row.config.clone(), row.updated_at);
        blocking(move || Ok(control.update_tenant(&key, &config_text, at)?)).await?;
        self.rebuild().await?;
        drop(one_change);
        self.audit(actor, Some(id), action, id, String::new()).await;
        self.view(&row)
    }

    /// Changes one part of a tenant's config (numbers, schedule, an agent).
    pub async fn change_tenant(
        &self,
        id: &str,
        actor: &str,
        action: &str,
        change: impl FnOnce(&mut Map<String, Value>) -> Result<(), Error>,
    ) -> Result<TenantView, Error> {
        let row = self.tenant_row(id).await?;
        let mut value: Value = serde_json::from_str(&row.config)
            .map_err(|e| Error::Internal(format!("stored config of `{id}`: {e}")))?;
        let Some(object) = value.as_object_mut() else {
            return Err(Error::Internal(format!(
                "stored config of `{id}` is not an object"
            )));
        };
        change(object)?;
        self.update_tenant(id, value, actor, action).await
    }

    /// Deletes a tenant: it takes no new calls; its folder is moved aside to
    /// `<data>/deleted/<id>-<ms>` for the operator to keep or remove.
    pub async fn delete_tenant(&self, id: &str, actor: &str) -> Result<(), Error> {
        let one_change = self.changes.lock().await;
        let control = self.control.clone();
        let key = id.to_string();
        blocking(move || Ok(control.delete_tenant(&key)?)).await?;
        self.rebuild().await?;
        self.data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
        let from = self.data_dir.join("tenants").join(id);
        let to = self
            .data_dir
            .join("deleted")
            .join(format!("{id}-{}", now_ms()));
        let moved = blocking(move || {
            if from.exists() {
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| Error::Internal(e.to_string()))?;
                }
                std::fs::rename(&from, &to).map_err(|e| Error::Internal(e.to_string()))?;
            }
            Ok(to)
        })
        .await;
        let detail = match moved {
            Ok(to) => format!("data moved to {}", to.display()),
            Err(e) => format!("data left in place: {e}"),
        };
        drop(one_change);
        self.audit(actor, Some(id), "tenant.delete", id, detail)
            .await;
        Ok(())
    }

    /// Makes the store hold the tenant file at `path`: its config (created or
    /// replaced), its plugin files uploaded as versions and activated as the file binds
    /// them. Running it again with nothing changed changes nothing.
    pub async fn provision_file(&self, path: &Path, actor: &str) -> Result<String, Error> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| Error::BadRequest(format!("cannot read {}: {e}", path.display())))?;
        let config = TenantConfig::from_file_text(&text, path)
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let value: toml::Value = toml::from_str(&text)
            .map_err(|e| Error::BadRequest(format!("{}: {e}", path.display())))?;
        let value = serde_json::to_value(value)
            .map_err(|e| Error::BadRequest(format!("{}: {e}", path.display())))?;
        self.provision(config, value, actor).await
    }

    /// See [`ControlPlane::provision_file`]; `config.plugins` holds file paths.
    pub async fn provision(
        &self,
        config: TenantConfig,
        mut value: Value,
        actor: &str,
    ) -> Result<String, Error> {
        if let Some(o) = value.as_object_mut() {
            o.remove("plugins");
        }
        let id = config.id.clone();
        let existing = {
            let control = self.control.clone();
            let key = id.clone();
            blocking(move || Ok(control.tenant(&key)?)).await?
        };
        match existing {
            None => {
                self.create_tenant(value, actor).await?;
            }
            Some(row) => {
                let stored: Value = serde_json::from_str(&row.config).unwrap_or(Value::Null);
                if stored != value {
                    self.update_tenant(&id, value, actor, "tenant.update")
                        .await?;
                }
            }
        }
        // `default` first, so that per-interface entries override it.
        let mut entries: Vec<(&String, &std::path::PathBuf)> = config.plugins.iter().collect();
        entries.sort_by_key(|(k, _)| *k != "default");
        let mut wanted: Vec<(String, Option<Vec<String>>)> = Vec::new();
        for (binding, file) in entries {
            let bytes = tokio::fs::read(file)
                .await
                .map_err(|e| Error::BadRequest(format!("plugin {}: {e}", file.display())))?;
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().replace('_', "-"))
                .unwrap_or_else(|| "plugin".into());
            let (row, _) = self.upload_plugin(&id, &name, bytes, actor).await?;
            let only = (binding != "default").then(|| vec![binding.clone()]);
            wanted.push((row.id, only));
        }
        self.ensure_bindings(&id, &wanted, actor).await?;
        Ok(id)
    }
}
