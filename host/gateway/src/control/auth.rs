//! API tokens: operator tokens (every tenant) and tenant tokens (one tenant). A token
//! is `vxg_` and 64 hex digits of OS randomness; the store keeps only its SHA-256.

use sha2::{Digest, Sha256};
use voxgate_store::TokenRow;

use super::{ControlPlane, Error, blocking, now_ms};

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: String,
    pub name: String,
    /// `None`: an operator.
    pub tenant: Option<String>,
}

impl Principal {
    /// Who, for the audit log.
    pub fn actor(&self) -> String {
        format!("{} ({})", self.name, self.token_id)
    }

    pub fn is_operator(&self) -> bool {
        self.tenant.is_none()
    }

    pub fn require_operator(&self) -> Result<(), Error> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(Error::Forbidden("this needs an operator token".into()))
        }
    }

    /// Operators see every tenant; a tenant token only its own.
    pub fn require_tenant(&self, tenant: &str) -> Result<(), Error> {
        match &self.tenant {
            None => Ok(()),
            Some(own) if own == tenant => Ok(()),
            Some(_) => Err(Error::Forbidden(format!(
                "this token is not allowed to see tenant `{tenant}`"
            ))),
        }
    }

    pub fn sees(&self, tenant: Option<&str>) -> bool {
        match (&self.tenant, tenant) {
            (None, _) => true,
            (Some(own), Some(t)) => own == t,
            (Some(_), None) => false,
        }
    }
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn random_hex(bytes: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new token: what the store keeps, and the secret (shown once).
#[derive(Debug, Clone)]
pub struct NewToken {
    pub row: TokenRow,
    pub secret: String,
}

/// Makes a token (not stored yet).
pub fn new_token(name: &str, tenant: Option<&str>, created_by: &str) -> Result<NewToken, Error> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err(Error::BadRequest(
            "a token needs a name of 1 to 100 characters".into(),
        ));
    }
    Ok(NewToken {
        secret: format!("vxg_{}", random_hex(32)?),
        row: TokenRow {
            id: format!("tok_{}", random_hex(8)?),
            name: name.trim().to_string(),
            tenant: tenant.map(str::to_string),
            created_at: now_ms(),
            created_by: created_by.to_string(),
            revoked_at: None,
        },
    })
}

impl ControlPlane {
    /// Who holds `token`, or 401.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, Error> {
        if !token.starts_with("vxg_") {
            return Err(Error::Unauthorized(
                "not a voxgate token (they start with vxg_)".into(),
            ));
        }
        let control = self.control.clone();
        let h = hash(token);
        let row = blocking(move || Ok(control.token_by_hash(&h)?))
            .await?
            .ok_or_else(|| Error::Unauthorized("unknown or revoked token".into()))?;
        Ok(Principal {
            token_id: row.id,
            name: row.name,
            tenant: row.tenant,
        })
    }

    /// Makes a token for `tenant` (or an operator token).
    pub async fn create_token(
        &self,
        name: &str,
        tenant: Option<&str>,
        actor: &str,
    ) -> Result<NewToken, Error> {
        let NewToken { row, secret } = new_token(name, tenant, actor)?;
        if let Some(t) = tenant {
            self.tenant_row(t).await?;
        }
        let control = self.control.clone();
        let (stored, h) = (row.clone(), hash(&secret));
        blocking(move || Ok(control.create_token(&stored, &h)?)).await?;
        self.audit(
            actor,
            tenant,
            "token.create",
            &row.id,
            format!(
                "{} token `{}`",
                if tenant.is_some() {
                    "tenant"
                } else {
                    "operator"
                },
                row.name
            ),
        )
        .await;
        Ok(NewToken { row, secret })
    }

    /// The first operator token, when there is none: written to
    /// `<data>/operator-token` (mode 0600) so that the operator can log in.
    pub async fn ensure_operator_token(&self) -> Result<Option<std::path::PathBuf>, Error> {
        let control = self.control.clone();
        if blocking(move || Ok(control.has_operator_token()?)).await? {
            return Ok(None);
        }
        let token = self.create_token("first operator", None, "system").await?;
        let path = self.data_dir.join("operator-token");
        let file = path.clone();
        blocking(move || {
            write_private(&file, &format!("{}\n", token.secret))
                .map_err(|e| Error::Internal(format!("cannot write {}: {e}", file.display())))
        })
        .await?;
        Ok(Some(path))
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())
}
