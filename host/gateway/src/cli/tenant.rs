//! `voxgate tenant`: back up and restore one tenant, and make API tokens, on the store
//! directly (the gateway may be running: SQLite's WAL lets both in).
//!
//! An export is a folder: `tenant.json` (the config, the recording key, times),
//! `tenant.sqlite` (a consistent copy of the tenant's file: calls, plugin versions and
//! history, credits, transaction log) and `recordings/` (still encrypted). The key is
//! in the export, so keep exports as safe as the data folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use voxgate_store::{
    AuditEntry, ControlStore, SqliteControlStore, SqliteTenantStore, TenantRow, TenantStore,
};

/// Names the export format, so that a later voxgate can tell what it reads.
const FORMAT: &str = "voxgate-tenant-export/1";

#[derive(Debug, Subcommand)]
pub(super) enum TenantCommand {
    /// Write one tenant's config, data and recordings into a new folder.
    Export {
        id: String,
        /// The folder to create.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_os_t = crate::paths::data_dir())]
        data_dir: PathBuf,
    },
    /// Restore a tenant from an export (it must not exist). A running gateway takes it
    /// on SIGHUP.
    Import {
        /// The export folder.
        from: PathBuf,
        #[arg(long, default_value_os_t = crate::paths::data_dir())]
        data_dir: PathBuf,
    },
    /// Make an API token (printed once): an operator token, or with `--tenant` one
    /// that sees only that tenant.
    Token {
        #[arg(long)]
        name: String,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value_os_t = crate::paths::data_dir())]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    id: String,
    config: serde_json::Value,
    /// Hex.
    recording_key: String,
    created_at: i64,
    updated_at: i64,
}

pub(super) async fn run(cmd: TenantCommand) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || match cmd {
        TenantCommand::Export { id, out, data_dir } => export(&id, &out, &data_dir),
        TenantCommand::Import { from, data_dir } => import(&from, &data_dir),
        TenantCommand::Token {
            name,
            tenant,
            data_dir,
        } => token(&name, tenant.as_deref(), &data_dir),
    })
    .await?
}

fn control(data_dir: &Path) -> anyhow::Result<SqliteControlStore> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    Ok(SqliteControlStore::open(data_dir.join("control.sqlite"))?)
}

fn note(control: &SqliteControlStore, tenant: &str, action: &str, detail: String) {
    let entry = AuditEntry {
        at: crate::control::now_ms(),
        actor: "cli".into(),
        tenant: Some(tenant.to_string()),
        action: action.into(),
        target: tenant.into(),
        detail,
        ..AuditEntry::default()
    };
    if let Err(e) = control.audit(&entry) {
        eprintln!("voxgate: audit log not written: {e}");
    }
}

fn export(id: &str, out: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let control = control(data_dir)?;
    let Some(row) = control.tenant(id)? else {
        bail!("no tenant `{id}` in {}", data_dir.display());
    };
    if out.exists() {
        bail!("{} exists; export into a new folder", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let dir = data_dir.join("tenants").join(id);
    let store = SqliteTenantStore::open(dir.join("tenant.sqlite"))?;
    store.snapshot(&out.join("tenant.sqlite"))?;
    let mut recordings = 0;
    let from = dir.join("recordings");
    if from.is_dir() {
        let to = out.join("recordings");
        std::fs::create_dir_all(&to)?;
        for entry in std::fs::read_dir(&from)? {
            let entry = entry?;
            if entry.file_type()?.is_file()
                && entry.path().extension().is_some_and(|e| e == "vxrec")
            {
                std::fs::copy(entry.path(), to.join(entry.file_name()))?;
                recordings += 1;
            }
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        id: row.id.clone(),
        config: serde_json::from_str(&row.config)?,
        recording_key: row
            .recording_key
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    };
    std::fs::write(
        out.join("tenant.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    let calls = store
        .calls(&voxgate_store::CallFilter {
            limit: u32::MAX,
            ..Default::default()
        })?
        .len();
    note(
        &control,
        id,
        "tenant.export",
        format!(
            "to {} ({calls} calls, {recordings} recordings)",
            out.display()
        ),
    );
    println!(
        "exported tenant `{id}` to {}: {calls} calls, {recordings} recordings",
        out.display()
    );
    Ok(())
}

fn import(from: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(from.join("tenant.json"))
        .with_context(|| format!("{} is not a tenant export (no tenant.json)", from.display()))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{}: tenant.json is damaged", from.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "{}: export format `{}`; this voxgate reads `{FORMAT}`",
            from.display(),
            manifest.format
        );
    }
    let config: crate::tenant::TenantConfig = serde_json::from_value(manifest.config.clone())
        .with_context(|| format!("{}: the tenant's config", from.display()))?;
    config.validate()?;
    if config.id != manifest.id {
        bail!("{}: the config's id is not the export's", from.display());
    }
    let key = hex_key(&manifest.recording_key)
        .with_context(|| format!("{}: the recording key", from.display()))?;
    // Open the copy first: a damaged file fails here, before anything is written.
    SqliteTenantStore::open(from.join("tenant.sqlite"))
        .with_context(|| format!("{}: tenant.sqlite", from.display()))?;
    let control = control(data_dir)?;
    if control.tenant(&manifest.id)?.is_some() {
        bail!(
            "tenant `{}` exists; delete it first (or import into another data folder)",
            manifest.id
        );
    }
    let dir = data_dir.join("tenants").join(&manifest.id);
    if dir.join("tenant.sqlite").exists() {
        bail!(
            "{} already holds data for `{}`; move it away first",
            dir.display(),
            manifest.id
        );
    }
    std::fs::create_dir_all(dir.join("recordings"))?;
    std::fs::copy(from.join("tenant.sqlite"), dir.join("tenant.sqlite"))?;
    let mut recordings = 0;
    if from.join("recordings").is_dir() {
        for entry in std::fs::read_dir(from.join("recordings"))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::copy(entry.path(), dir.join("recordings").join(entry.file_name()))?;
                recordings += 1;
            }
        }
    }
    control.create_tenant(&TenantRow {
        id: manifest.id.clone(),
        config: manifest.config.to_string(),
        recording_key: key,
        created_at: manifest.created_at,
        updated_at: crate::control::now_ms(),
    })?;
    note(
        &control,
        &manifest.id,
        "tenant.import",
        format!("from {} ({recordings} recordings)", from.display()),
    );
    println!(
        "imported tenant `{}` with {recordings} recordings; a running gateway takes it on SIGHUP",
        manifest.id
    );
    Ok(())
}

fn hex_key(text: &str) -> anyhow::Result<[u8; 32]> {
    if text.len() != 64 {
        bail!("expected 64 hex digits");
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16)?;
    }
    Ok(key)
}

fn token(name: &str, tenant: Option<&str>, data_dir: &Path) -> anyhow::Result<()> {
    let control = control(data_dir)?;
    if let Some(t) = tenant
        && control.tenant(t)?.is_none()
    {
        bail!("no tenant `{t}`");
    }
    let token =
        crate::control::auth::new_token(name, tenant, "cli").map_err(|e| anyhow::anyhow!("{e}"))?;
    control.create_token(&token.row, &crate::control::auth::hash(&token.secret))?;
    note(
        &control,
        tenant.unwrap_or_default(),
        "token.create",
        format!("token `{}` ({})", token.row.name, token.row.id),
    );
    let secret = token.secret;
    println!("{secret}");
    Ok(())
}
