//! Plugin versions through the control plane: upload (validated, compiled, stored as an
//! immutable version), activate, canary, rollback. Each change is appended to the
//! tenant's stored history first and swapped into its live plugin set second; the
//! history alone rebuilds the set after a restart.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use serde::Serialize;
use voxgate_runtime::{Capability, PluginVersion};
use voxgate_store::{Activation, Bindings, PluginRow};

use super::tenants::rfc3339;
use super::{ControlPlane, Error, TenantData, blocking, now_ms};

/// What the history says serves now, and what a rollback returns to.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Replayed {
    pub bindings: Bindings,
    pub canary: Option<(String, u8)>,
    /// Earlier bindings, newest last.
    pub previous: Vec<Bindings>,
}

fn last_seq(history: &[Activation]) -> i64 {
    history.last().map_or(0, |step| step.seq)
}

pub(super) fn replay(history: &[Activation]) -> Replayed {
    let mut r = Replayed::default();
    for step in history {
        match step.action.as_str() {
            "activate" => {
                let before = std::mem::replace(&mut r.bindings, step.bindings.clone());
                // Rolling back to no plugins at all would break every call: the first
                // activation has nothing before it.
                if !before.is_empty() {
                    r.previous.push(before);
                }
                r.canary = None;
            }
            "rollback" => {
                r.previous.pop();
                r.bindings = step.bindings.clone();
                r.canary = None;
            }
            "canary" => r.canary = step.canary.clone(),
            "canary-stop" => r.canary = None,
            _ => {}
        }
    }
    r
}

/// A version as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub id: String,
    pub short_id: String,
    pub name: String,
    pub size: i64,
    pub wit_version: String,
    pub interfaces: Vec<String>,
    pub uploaded_at: String,
    pub uploaded_by: String,
}

impl From<&PluginRow> for VersionView {
    fn from(r: &PluginRow) -> VersionView {
        VersionView {
            id: r.id.clone(),
            short_id: r.id.get(..12).unwrap_or(&r.id).to_string(),
            name: r.name.clone(),
            size: r.size,
            wit_version: r.wit_version.clone(),
            interfaces: r.interfaces.clone(),
            uploaded_at: rfc3339(r.uploaded_at),
            uploaded_by: r.uploaded_by.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ActiveView {
    pub generation: u64,
    pub bindings: Bindings,
}

#[derive(Debug, Clone, Serialize)]
pub struct CanaryView {
    pub version: String,
    pub percent: u8,
}

/// A tenant's plugins as the API shows them.
#[derive(Debug, Clone, Serialize)]
pub struct PluginsView {
    pub versions: Vec<VersionView>,
    pub active: ActiveView,
    pub canary: Option<CanaryView>,
}

impl ControlPlane {
    /// The tenant's data, or 404.
    pub fn data_of(&self, tenant: &str) -> Result<Arc<TenantData>, Error> {
        self.tenant_data(tenant)
            .ok_or_else(|| Error::NotFound(format!("no tenant `{tenant}`")))
    }

    /// The full id of a stored version named by its id or a prefix of 12 or more digits.
    async fn resolve(&self, data: &TenantData, id: &str) -> Result<String, Error> {
        if id.len() == 64 {
            return Ok(id.to_string());
        }
        if id.len() < 12 {
            return Err(Error::BadRequest(format!(
                "`{id}`: name a version by its id or at least its first 12 digits"
            )));
        }
        let store = data.store.clone();
        let versions = blocking(move || Ok(store.plugins()?)).await?;
        let mut matching = versions.iter().filter(|v| v.id.starts_with(id));
        match (matching.next(), matching.next()) {
            (Some(v), None) => Ok(v.id.clone()),
            (Some(_), Some(_)) => Err(Error::BadRequest(format!(
                "`{id}` names more than one version; give more digits"
            ))),
            (None, _) => Err(Error::NotFound(format!("no plugin version `{id}`"))),
        }
    }

    /// A stored version, compiled (once per process; the runtime caches the machine
    /// code on disk too).
    async fn version(&self, data: &TenantData, id: &str) -> Result<Arc<PluginVersion>, Error> {
        if let Some(v) = data
            .loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
        {
            return Ok(v.clone());
        }
        let store = data.store.clone();
        let key = id.to_string();
        let (row, bytes) = blocking(move || {
            let row = store.plugin(&key)?;
            let bytes = store.plugin_bytes(&key)?;
            Ok(row.zip(bytes))
        })
        .await?
        .ok_or_else(|| Error::NotFound(format!("no plugin version `{id}`")))?;
        let runtime = self.runtime.clone();
        let version = blocking(move || {
            runtime
                .load(&row.name, &bytes)
                .map_err(|e| Error::Internal(format!("stored version {}: {e}", row.id)))
        })
        .await?;
        data.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_string(), version.clone());
        Ok(version)
    }

    /// Makes the live set what `bindings` and `canary` say.
    async fn apply(
        &self,
        data: &TenantData,
        bindings: &Bindings,
        canary: Option<&(String, u8)>,
    ) -> Result<u64, Error> {
        let mut bound = Vec::new();
        for (name, id) in bindings {
            let cap = Capability::from_name(name).ok_or_else(|| {
                Error::Internal(format!("stored binding names no interface: `{name}`"))
            })?;
            bound.push((cap, self.version(data, id).await?));
        }
        let set = data
            .plugins
            .replace(&bound)
            .map_err(|e| Error::Conflict(e.to_string()))?;
        if let Some((id, percent)) = canary {
            let v = self.version(data, id).await?;
            data.plugins
                .start_canary(v, *percent)
                .map_err(|e| Error::BadRequest(e.to_string()))?;
        }
        Ok(set.generation())
    }

    /// Rebuilds the tenant's live plugin set from its stored history (at start-up).
    pub(super) async fn restore_plugins(&self, data: &TenantData) -> Result<(), Error> {
        let store = data.store.clone();
        let history = blocking(move || Ok(store.activations()?)).await?;
        let state = replay(&history);
        if !state.bindings.is_empty() || state.canary.is_some() {
            self.apply(data, &state.bindings, state.canary.as_ref())
                .await?;
        }
        data.applied.store(last_seq(&history), Ordering::Relaxed);
        Ok(())
    }

    /// Catches the live set up with the stored history when another node changed it
    /// (an activation, rollback or canary through its API). Returns whether it changed.
    pub(super) async fn sync_plugins(&self, data: &TenantData) -> Result<bool, Error> {
        let _one_change = data.plugin_changes.lock().await;
        let store = data.store.clone();
        let history = blocking(move || Ok(store.activations()?)).await?;
        let last = last_seq(&history);
        if last == data.applied.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let state = replay(&history);
        let generation = self
            .apply(data, &state.bindings, state.canary.as_ref())
            .await?;
        data.applied.store(last, Ordering::Relaxed);
        tracing::info!(tenant = %data.id, generation, "plugins changed by another node: applied");
        self.live.publish(
            &data.id,
            serde_json::json!({
                "event": "plugin-activated",
                "action": "sync",
                "bindings": state.bindings,
                "canary": state.canary.as_ref().map(|(v, p)| serde_json::json!({"version": v, "percent": p})),
                "generation": generation,
            }),
        );
        Ok(true)
    }

    /// Validates and compiles `bytes`, and stores them as a version. Returns the version
    /// and whether it is new (`false`: the same bytes were uploaded before).
    pub async fn upload_plugin(
        &self,
        tenant: &str,
        name: &str,
        bytes: Vec<u8>,
        actor: &str,
    ) -> Result<(PluginRow, bool), Error> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(Error::BadRequest(format!(
                "plugin name `{name}` must be 1 to 64 letters, digits, `-`, `_` or `.`"
            )));
        }
        if bytes.len() > self.max_upload() {
            return Err(Error::TooLarge(format!(
                "the plugin is {} bytes; the limit is {} bytes",
                bytes.len(),
                self.max_upload()
            )));
        }
        let data = self.data_of(tenant)?;
        let runtime = self.runtime.clone();
        let (name_owned, bytes) = (name.to_string(), Arc::new(bytes));
        let compiled = bytes.clone();
        let version = blocking(move || {
            runtime
                .load(&name_owned, &compiled)
                .map_err(|e| Error::BadRequest(format!("not a usable plugin: {e}")))
        })
        .await?;
        let row = PluginRow {
            id: version.id().to_string(),
            name: name.to_string(),
            size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            wit_version: version.wit_version().to_string(),
            interfaces: version
                .capabilities()
                .iter()
                .map(|c| c.name().to_string())
                .collect(),
            uploaded_at: now_ms(),
            uploaded_by: actor.to_string(),
        };
        let store = data.store.clone();
        let stored = row.clone();
        let new = blocking(move || Ok(store.put_plugin(&stored, &bytes)?)).await?;
        data.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(row.id.clone(), version);
        let row = if new {
            self.audit(
                actor,
                Some(tenant),
                "plugin.upload",
                &row.id,
                format!("{} ({} bytes)", row.name, row.size),
            )
            .await;
            row
        } else {
            // The first upload's row (its time and uploader) is the version's.
            let store = data.store.clone();
            let id = row.id.clone();
            blocking(move || Ok(store.plugin(&id)?))
                .await?
                .unwrap_or(row)
        };
        Ok((row, new))
    }

    pub async fn plugins_view(&self, tenant: &str) -> Result<PluginsView, Error> {
        let data = self.data_of(tenant)?;
        let store = data.store.clone();
        let (versions, history) =
            blocking(move || Ok((store.plugins()?, store.activations()?))).await?;
        let state = replay(&history);
        Ok(PluginsView {
            versions: versions.iter().map(VersionView::from).collect(),
            active: ActiveView {
                generation: data.plugins.active().generation(),
                bindings: state.bindings,
            },
            canary: state
                .canary
                .map(|(version, percent)| CanaryView { version, percent }),
        })
    }

    async fn history(&self, data: &TenantData) -> Result<Replayed, Error> {
        let store = data.store.clone();
        let history = blocking(move || Ok(store.activations()?)).await?;
        Ok(replay(&history))
    }

    /// Stores a step, then applies it, then tells the live stream.
    async fn record_and_apply(
        &self,
        data: &TenantData,
        actor: &str,
        action: &str,
        version: Option<String>,
        bindings: Bindings,
        canary: Option<(String, u8)>,
    ) -> Result<PluginsView, Error> {
        let step = Activation {
            seq: 0,
            at: now_ms(),
            actor: actor.to_string(),
            action: action.to_string(),
            version,
            bindings,
            canary,
        };
        let store = data.store.clone();
        let stored = step.clone();
        let seq = blocking(move || Ok(store.record_activation(&stored)?)).await?;
        let generation = self
            .apply(data, &step.bindings, step.canary.as_ref())
            .await?;
        data.applied.store(seq, Ordering::Relaxed);
        self.live.publish(
            &data.id,
            serde_json::json!({
                "event": "plugin-activated",
                "action": step.action,
                "version": step.version,
                "bindings": step.bindings,
                "canary": step.canary.as_ref().map(|(v, p)| serde_json::json!({"version": v, "percent": p})),
                "generation": generation,
                "actor": step.actor,
            }),
        );
        self.audit(
            &step.actor,
            Some(&data.id),
            &format!("plugin.{}", step.action),
            step.version.as_deref().unwrap_or_default(),
            serde_json::to_string(&step.bindings).unwrap_or_default(),
        )
        .await;
        self.plugins_view(&data.id).await
    }

    /// Binds `version` to `interfaces` (default: every interface it exports) for calls
    /// that start from now.
    pub async fn activate(
        &self,
        tenant: &str,
        version: &str,
        interfaces: Option<Vec<String>>,
        actor: &str,
    ) -> Result<PluginsView, Error> {
        let data = self.data_of(tenant)?;
        let _one_change = data.plugin_changes.lock().await;
        let id = self.resolve(&data, version).await?;
        let v = self.version(&data, &id).await?;
        let state = self.history(&data).await?;
        let mut bindings = state.bindings.clone();
        bind(&mut bindings, &v, interfaces.as_deref())?;
        self.record_and_apply(
            &data,
            actor,
            "activate",
            Some(v.id().to_string()),
            bindings,
            None,
        )
        .await
    }

    /// Returns to the bindings before the last activation.
    pub async fn rollback(&self, tenant: &str, actor: &str) -> Result<PluginsView, Error> {
        let data = self.data_of(tenant)?;
        let _one_change = data.plugin_changes.lock().await;
        let state = self.history(&data).await?;
        let Some(previous) = state.previous.last().cloned() else {
            return Err(Error::Conflict(
                "nothing to roll back to: no earlier activation".into(),
            ));
        };
        self.record_and_apply(&data, actor, "rollback", None, previous, None)
            .await
    }

    /// Sends `percent` of new calls to the active set with `version` bound to what it
    /// exports.
    pub async fn canary(
        &self,
        tenant: &str,
        version: &str,
        percent: u8,
        actor: &str,
    ) -> Result<PluginsView, Error> {
        if !(1..=99).contains(&percent) {
            return Err(Error::BadRequest(format!(
                "canary share must be 1 to 99 percent, not {percent}"
            )));
        }
        let data = self.data_of(tenant)?;
        let _one_change = data.plugin_changes.lock().await;
        let id = self.resolve(&data, version).await?;
        let v = self.version(&data, &id).await?;
        let state = self.history(&data).await?;
        self.record_and_apply(
            &data,
            actor,
            "canary",
            Some(v.id().to_string()),
            state.bindings,
            Some((v.id().to_string(), percent)),
        )
        .await
    }

    pub async fn stop_canary(&self, tenant: &str, actor: &str) -> Result<PluginsView, Error> {
        let data = self.data_of(tenant)?;
        let _one_change = data.plugin_changes.lock().await;
        let state = self.history(&data).await?;
        if state.canary.is_none() {
            return Err(Error::Conflict("no canary is running".into()));
        }
        self.record_and_apply(&data, actor, "canary-stop", None, state.bindings, None)
            .await
    }

    /// Activates what provisioning wants (version, optional interfaces), in order, if the
    /// result differs from what serves now.
    pub(super) async fn ensure_bindings(
        &self,
        tenant: &str,
        wanted: &[(String, Option<Vec<String>>)],
        actor: &str,
    ) -> Result<(), Error> {
        if wanted.is_empty() {
            return Ok(());
        }
        let data = self.data_of(tenant)?;
        let _one_change = data.plugin_changes.lock().await;
        let state = self.history(&data).await?;
        let mut bindings = Bindings::new();
        for (id, only) in wanted {
            let v = self.version(&data, id).await?;
            bind(&mut bindings, &v, only.as_deref())?;
        }
        if bindings == state.bindings && state.canary.is_none() {
            return Ok(());
        }
        self.record_and_apply(
            &data,
            actor,
            "activate",
            wanted.last().map(|(id, _)| id.clone()),
            bindings,
            None,
        )
        .await?;
        Ok(())
    }
}

/// Binds `v` into `bindings` for `only` those interfaces, or all it exports.
fn bind(bindings: &mut Bindings, v: &PluginVersion, only: Option<&[String]>) -> Result<(), Error> {
    let caps: Vec<Capability> = match only {
        Some(names) if !names.is_empty() => {
            let mut caps = Vec::new();
            for n in names {
                let cap = Capability::from_name(n).ok_or_else(|| {
                    Error::BadRequest(format!(
                        "`{n}` is not an interface; use one of {}",
                        Capability::ALL.map(Capability::name).join(", ")
                    ))
                })?;
                if !v.serves(cap) {
                    return Err(Error::BadRequest(format!(
                        "plugin {} ({}) does not export `{n}`",
                        v.name(),
                        v.short_id()
                    )));
                }
                caps.push(cap);
            }
            caps
        }
        _ => v.capabilities().to_vec(),
    };
    for cap in caps {
        bindings.insert(cap.name().to_string(), v.id().to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(action: &str, bound: &[(&str, &str)]) -> Activation {
        Activation {
            seq: 0,
            at: 0,
            actor: "t".into(),
            action: action.into(),
            version: None,
            bindings: bound
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            canary: None,
        }
    }

    #[test]
    fn replay_follows_activations_and_rollbacks() {
        let history = vec![
            step("activate", &[("contacts", "v1")]),
            step("activate", &[("contacts", "v2")]),
            step("activate", &[("contacts", "v3")]),
            step("rollback", &[("contacts", "v2")]),
        ];
        let r = replay(&history);
        assert_eq!(r.bindings.get("contacts").map(String::as_str), Some("v2"));
        assert_eq!(r.previous.len(), 1, "nothing before the first activation");
        assert_eq!(
            r.previous
                .last()
                .and_then(|b| b.get("contacts"))
                .map(String::as_str),
            Some("v1")
        );
        let mut with_canary = history.clone();
        let mut c = step("canary", &[("contacts", "v2")]);
        c.canary = Some(("v3".into(), 10));
        with_canary.push(c);
        assert_eq!(replay(&with_canary).canary, Some(("v3".into(), 10)));
        with_canary.push(step("activate", &[("contacts", "v3")]));
        assert_eq!(
            replay(&with_canary).canary,
            None,
            "an activation ends a canary"
        );
    }
}
