//! Several gateway nodes on one PostgreSQL store: what each node does so that any node
//! can serve any tenant and a dead node loses nothing.
//!
//! - It renews its open transactions every [`RENEW_EVERY`] and sweeps every
//!   [`SWEEP_EVERY`] for transactions a node stopped renewing [`LEASE`] ago, which it
//!   takes over and finishes (see [`crate::dialog::journal`]).
//! - It applies changes made through another node's API: a dedicated connection
//!   `LISTEN`s for the store's notifications (a tenant changed; a tenant's plugin history
//!   grew) and the node re-reads what changed at once, so an activation serves on every
//!   node within about a second. In case a notification is lost (the listening
//!   connection dropped and came back), every node also re-checks everything every
//!   [`POLL_EVERY`]: that is the bound when notifications fail.

use std::sync::Arc;
use std::time::Duration;

use voxgate_store::pg::Heard;

use super::ControlPlane;
use crate::dialog::journal::{Claim, LEASE, RENEW_EVERY, SWEEP_EVERY};

/// The longest a change made on another node waits to be applied here when its
/// notification was lost.
pub const POLL_EVERY: Duration = Duration::from_secs(5);

/// What the listener heard, for the node's async side.
#[derive(Debug)]
enum Change {
    /// Notification payloads.
    Some(Vec<String>),
    /// Anything may have changed (the listener (re)connected).
    All,
}

/// Starts the renewal and the change listener (nothing on a store of its own).
pub(super) fn spawn(plane: &Arc<ControlPlane>) {
    let Some(pg) = plane.shared.clone() else {
        return;
    };
    let weak = Arc::downgrade(plane);
    let log = pg.txlog();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RENEW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(plane) = weak.upgrade() else { break };
            let (log, node) = (log.clone(), plane.node_id.clone());
            drop(plane);
            let renewed =
                tokio::task::spawn_blocking(move || voxgate_store::TxLog::renew(&log, &node)).await;
            if let Ok(Err(e)) = renewed {
                tracing::warn!("cannot renew this node's open transactions: {e}");
            }
        }
    });

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Change>(64);
    let listener = std::thread::Builder::new()
        .name("voxgate-store-listen".into())
        .spawn(move || {
            let mut listener = pg.listener();
            loop {
                let change = match listener.wait(Duration::from_secs(1)) {
                    Ok(Heard::Changes(payloads)) => Change::Some(payloads),
                    Ok(Heard::Reconnected) => Change::All,
                    Ok(Heard::Quiet) => {
                        if tx.is_closed() {
                            break;
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!("store notifications: {e}; listening again in 1 s");
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                if tx.blocking_send(change).is_err() {
                    break;
                }
            }
        });
    if let Err(e) = listener {
        tracing::error!(
            "cannot start the store listener ({e}); other nodes' changes arrive by polling"
        );
    }
    let weak = Arc::downgrade(plane);
    tokio::spawn(async move {
        let mut poll = tokio::time::interval(POLL_EVERY);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let change = tokio::select! {
                change = rx.recv() => change.unwrap_or(Change::All),
                _ = poll.tick() => Change::All,
            };
            let Some(plane) = weak.upgrade() else { break };
            apply(&plane, change).await;
        }
    });
}

/// Starts the sweep for dead nodes' transactions; after this node's own recovery at
/// start-up, so the two never work the same row.
pub(super) fn spawn_sweep(plane: &Arc<ControlPlane>) {
    if plane.shared.is_none() {
        return;
    }
    let weak = Arc::downgrade(plane);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(plane) = weak.upgrade() else { break };
            for t in plane.tenants.current().all() {
                t.recover(Claim::Orphans).await;
            }
        }
    });
    tracing::info!(
        "transactions of a node that stops are taken over after {} s without renewal",
        LEASE.as_secs()
    );
}

async fn apply(plane: &ControlPlane, change: Change) {
    let (tenants, plugins): (bool, Vec<String>) = match change {
        Change::All => (
            true,
            plane
                .data
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .keys()
                .cloned()
                .collect(),
        ),
        Change::Some(payloads) => {
            let tenants = payloads.iter().any(|p| p == "tenants");
            let mut plugins: Vec<String> = payloads
                .iter()
                .filter_map(|p| p.strip_prefix("plugins:").map(str::to_string))
                .collect();
            plugins.sort();
            plugins.dedup();
            (tenants, plugins)
        }
    };
    if tenants {
        // The same lock as the API's tenant changes: one directory rebuild at a time.
        let _one_change = plane.changes.lock().await;
        if let Err(e) = plane.rebuild().await {
            tracing::warn!("tenants changed by another node not re-read: {e}");
        }
    }
    for id in plugins {
        let Some(data) = plane.tenant_data(&id) else {
            continue;
        };
        if let Err(e) = plane.sync_plugins(&data).await {
            tracing::warn!(tenant = %id, "plugins changed by another node not applied: {e}");
        }
    }
}
