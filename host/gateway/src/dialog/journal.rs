//! The dialog engine's side of the durable transaction log: every change a caller makes
//! is logged before `prepare`, when prepared, when the caller says yes (before
//! `commit`), and when it ends; at start-up, what a crash left open is finished.
//!
//! The log is SQLite in the tenant's own data directory, or the PostgreSQL store's log
//! that every node shares. Its calls block (on fsync, or on the server), so they run on
//! the blocking pool.
//!
//! With a shared log, each open transaction belongs to the node running its call: the
//! node renews its rows every [`RENEW_EVERY`], and a node that stopped renewing for
//! [`LEASE`] has its rows claimed by the first live node that sweeps (every
//! [`SWEEP_EVERY`]) and finished there, through the same plugin version.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use voxgate_runtime::{CallContext, CallError, PluginError, Session, transactions};
use voxgate_store::{Intent, Pending, Prepared, Recovery, SqliteTxLog, TxId, TxLog};

/// How often a node says its open transactions are still alive.
pub const RENEW_EVERY: Duration = Duration::from_secs(2);
/// How long without renewal before another node takes a transaction over: several
/// renewals, so a slow store or a long pause does not hand a live call's change away.
pub const LEASE: Duration = Duration::from_secs(10);
/// How often live nodes look for transactions nobody renews.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3);

/// Which open transactions [`Journal::recover`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// At start-up: what this node held before it restarted, and what dead nodes left.
    AtStart,
    /// While serving: only what dead nodes left.
    Orphans,
}

/// A WIT `operation` as it is logged (and sent again by recovery).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum LoggedOp {
    CreateOrder {
        contact_id: String,
        lines: Vec<(String, u32)>,
    },
    ModifyOrder {
        order_id: String,
        lines: Vec<(String, u32)>,
    },
    CancelOrder {
        order_id: String,
    },
    RepeatOrder {
        order_id: String,
    },
    OpenComplaint {
        contact_id: String,
        order_id: Option<String>,
        subject: String,
        description: String,
    },
}

impl LoggedOp {
    pub fn of(op: &transactions::Operation) -> LoggedOp {
        use transactions::Operation as O;
        let lines = |l: &[transactions::LineRequest]| {
            l.iter().map(|x| (x.sku.clone(), x.quantity)).collect()
        };
        match op {
            O::CreateOrder(c) => LoggedOp::CreateOrder {
                contact_id: c.contact_id.clone(),
                lines: lines(&c.lines),
            },
            O::ModifyOrder(m) => LoggedOp::ModifyOrder {
                order_id: m.order_id.clone(),
                lines: lines(&m.lines),
            },
            O::CancelOrder(id) => LoggedOp::CancelOrder {
                order_id: id.clone(),
            },
            O::RepeatOrder(id) => LoggedOp::RepeatOrder {
                order_id: id.clone(),
            },
            O::OpenComplaint(c) => LoggedOp::OpenComplaint {
                contact_id: c.contact_id.clone(),
                order_id: c.order_id.clone(),
                subject: c.subject.clone(),
                description: c.description.clone(),
            },
        }
    }

    pub fn operation(&self) -> transactions::Operation {
        use transactions::Operation as O;
        let lines = |l: &[(String, u32)]| {
            l.iter()
                .map(|(sku, quantity)| transactions::LineRequest {
                    sku: sku.clone(),
                    quantity: *quantity,
                })
                .collect()
        };
        match self {
            LoggedOp::CreateOrder {
                contact_id,
                lines: l,
            } => O::CreateOrder(transactions::CreateOrder {
                contact_id: contact_id.clone(),
                lines: lines(l),
            }),
            LoggedOp::ModifyOrder { order_id, lines: l } => {
                O::ModifyOrder(transactions::ModifyOrder {
                    order_id: order_id.clone(),
                    lines: lines(l),
                })
            }
            LoggedOp::CancelOrder { order_id } => O::CancelOrder(order_id.clone()),
            LoggedOp::RepeatOrder { order_id } => O::RepeatOrder(order_id.clone()),
            LoggedOp::OpenComplaint {
                contact_id,
                order_id,
                subject,
                description,
            } => O::OpenComplaint(transactions::NewComplaint {
                contact_id: contact_id.clone(),
                order_id: order_id.clone(),
                subject: subject.clone(),
                description: description.clone(),
            }),
        }
    }
}

/// A tenant's journal.
#[derive(Clone)]
pub struct Journal {
    log: Arc<dyn TxLog>,
    /// This gateway node: the holder of the transactions it begins.
    node: Arc<str>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("log", &self.log)
            .field("node", &self.node)
            .finish()
    }
}

/// A logged change: its row and the idempotency key `prepare` gets.
#[derive(Debug, Clone)]
pub struct Logged {
    pub id: TxId,
    pub key: String,
}

impl Journal {
    /// The log in an SQLite file of this node's.
    pub fn open(path: &Path, node: &str) -> Result<Journal, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        SqliteTxLog::open(path)
            .map(|log| Journal::new(Arc::new(log), node))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// A journal on `log`, for transactions run by `node`.
    pub fn new(log: Arc<dyn TxLog>, node: &str) -> Journal {
        Journal {
            log,
            node: node.into(),
        }
    }

    /// Marks this node's open transactions as alive (see [`LEASE`]).
    pub async fn renew(&self) {
        let node = self.node.clone();
        if let Some(Err(e)) = self.run(move |log| log.renew(&node)).await {
            tracing::warn!("transaction journal: cannot renew open transactions: {e}");
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn TxLog) -> T + Send + 'static,
    ) -> Option<T> {
        let log = self.log.clone();
        match tokio::task::spawn_blocking(move || f(log.as_ref())).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!("transaction journal task failed: {e}");
                None
            }
        }
    }

    /// Logs a change about to be prepared.
    pub async fn begin(
        &self,
        tenant: &str,
        call_id: &str,
        op: &transactions::Operation,
        plugin_version: &str,
    ) -> Result<Logged, String> {
        let intent = Intent {
            tenant: tenant.to_string(),
            call_id: call_id.to_string(),
            operation_json: serde_json::to_string(&LoggedOp::of(op)).map_err(|e| e.to_string())?,
            idempotency_key: None,
            plugin_version: plugin_version.to_string(),
            node: self.node.to_string(),
        };
        self.run(move |log| {
            let id = log.begin(intent).map_err(|e| e.to_string())?;
            let key = log
                .get(id)
                .map_err(|e| e.to_string())?
                .map(|t| t.idempotency_key)
                .ok_or_else(|| "the logged transaction vanished".to_string())?;
            Ok(Logged { id, key })
        })
        .await
        .unwrap_or_else(|| Err("journal task failed".into()))
    }

    pub async fn prepared(&self, id: TxId, p: &transactions::Prepared) {
        let prepared = Prepared {
            transaction_id: p.transaction_id.clone(),
            summary: p.summary.clone(),
            total: p.total.as_ref().map(|m| voxgate_store::Money {
                minor_units: m.amount,
                currency: m.currency.clone(),
            }),
            expires_at: p.expires_at.clone(),
        };
        self.note(
            "prepared",
            self.run(move |log| log.prepared(id, &prepared)).await,
        );
    }

    /// The caller said yes; logged (fsynced) before `commit` is called.
    pub async fn confirmed(&self, id: TxId) {
        self.note("confirmed", self.run(move |log| log.confirmed(id)).await);
    }

    pub async fn committed(&self, id: TxId, reference: &str, message: &str) {
        let (r, m) = (reference.to_string(), message.to_string());
        self.note(
            "committed",
            self.run(move |log| log.committed(id, &r, &m)).await,
        );
    }

    pub async fn aborted(&self, id: TxId, reason: &str) {
        let reason = reason.to_string();
        self.note(
            "aborted",
            self.run(move |log| log.aborted(id, &reason)).await,
        );
    }

    pub async fn failed(&self, id: TxId, error: &str) {
        let error = error.to_string();
        self.note("failed", self.run(move |log| log.failed(id, &error)).await);
    }

    fn note<E: std::fmt::Display>(&self, step: &str, r: Option<Result<(), E>>) {
        if let Some(Err(e)) = r {
            tracing::error!("transaction journal: cannot log {step}: {e}");
        }
    }

    /// Finishes what a crash left open: unconfirmed changes are aborted, confirmed ones
    /// committed (exactly once: the claim hands each row to one node, and commit is
    /// idempotent on the plugin's side). Returns how many were finished; rows the plugin
    /// cannot take now stay claimed by this node, which tries again at its next start,
    /// or another node once this one stops renewing them.
    pub async fn recover(&self, tenant: &str, session: &Session, claim: Claim) -> usize {
        let (t, node) = (tenant.to_string(), self.node.clone());
        let claimed = self
            .run(move |log| log.claim(&t, &node, LEASE, claim == Claim::AtStart))
            .await;
        let pending: Vec<Pending> = match claimed {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                tracing::error!("transaction journal: cannot read open transactions: {e}");
                return 0;
            }
            None => return 0,
        };
        if !pending.is_empty() && claim == Claim::Orphans {
            tracing::warn!(
                tenant,
                node = %self.node,
                "took over {} open transaction(s) of a node that stopped",
                pending.len()
            );
        }
        let mut finished = 0;
        for p in pending {
            let ctx = CallContext {
                tenant: tenant.to_string(),
                call_id: p.call_id.clone(),
                caller: String::new(),
                called: String::new(),
                language: "en".into(),
                idempotency_key: Some(p.idempotency_key.clone()),
            };
            match p.recovery_action() {
                Recovery::Abort { transaction_id } => {
                    if session.abort(&ctx, &transaction_id).await.is_ok() {
                        self.aborted(p.id, "recovered: never confirmed").await;
                        finished += 1;
                    }
                }
                Recovery::Commit { transaction_id } => {
                    match session.commit(&ctx, &transaction_id).await {
                        Ok(c) => {
                            tracing::info!(tenant, transaction = %transaction_id, reference = %c.reference,
                            "recovered a confirmed change: committed");
                            self.committed(p.id, &c.reference, &c.message).await;
                            finished += 1;
                        }
                        Err(CallError::Plugin(PluginError::Unavailable(_)))
                        | Err(CallError::Deadline { .. }) => {}
                        Err(e) => {
                            self.failed(p.id, &format!("recovery commit: {e}")).await;
                            finished += 1;
                        }
                    }
                }
                Recovery::RePrepareThenAbort { operation_json, .. } => {
                    let Ok(op) = serde_json::from_str::<LoggedOp>(&operation_json) else {
                        self.aborted(p.id, "recovered: unreadable operation").await;
                        continue;
                    };
                    match session.prepare(&ctx, &op.operation()).await {
                        Ok(prepared) => {
                            self.prepared(p.id, &prepared).await;
                            if session.abort(&ctx, &prepared.transaction_id).await.is_ok() {
                                self.aborted(p.id, "recovered: prepare never answered")
                                    .await;
                                finished += 1;
                            }
                        }
                        Err(CallError::Plugin(
                            PluginError::Invalid(_)
                            | PluginError::Conflict(_)
                            | PluginError::NotFound(_),
                        )) => {
                            self.aborted(p.id, "recovered: nothing was reserved").await;
                            finished += 1;
                        }
                        Err(_) => {}
                    }
                }
            }
        }
        finished
    }
}

/// A test hook: with `VOXGATE_TEST_PAUSE` set to `after-prepare` or `after-confirm`,
/// the call stops there (saying so on stderr) so that a test can kill the process at
/// that exact point. Unset, it does nothing.
pub async fn pause_point(name: &str) {
    if std::env::var("VOXGATE_TEST_PAUSE").is_ok_and(|v| v == name) {
        eprintln!("voxgate: paused at {name}");
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_round_trip_through_the_log() {
        let ops = [
            transactions::Operation::CreateOrder(transactions::CreateOrder {
                contact_id: "c-1".into(),
                lines: vec![transactions::LineRequest {
                    sku: "KH-1".into(),
                    quantity: 2,
                }],
            }),
            transactions::Operation::RepeatOrder("40140".into()),
            transactions::Operation::OpenComplaint(transactions::NewComplaint {
                contact_id: "c-1".into(),
                order_id: None,
                subject: "damaged".into(),
                description: "it arrived damaged".into(),
            }),
        ];
        for op in ops {
            let logged = LoggedOp::of(&op);
            let json = serde_json::to_string(&logged).unwrap();
            let back: LoggedOp = serde_json::from_str(&json).unwrap();
            assert_eq!(back, logged);
            assert_eq!(LoggedOp::of(&back.operation()), logged);
        }
    }
}
