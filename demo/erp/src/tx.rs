//! Two-phase changes: `prepare` validates and reserves stock, the agent reads the
//! summary back, the caller says yes, `commit` applies it — or `abort` undoes the hold.
//!
//! voxgate keeps its own durable log and retries after a crash, so every step here is
//! idempotent: the same key prepares the same transaction, and a second commit answers
//! with the first one's result instead of creating a second order.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::error::ShopError;
use crate::model::{
    Complaint, ComplaintStatus, MINUTE, Money, Order, OrderLine, OrderStatus, Timestamp, TxCounts,
};
use crate::shop::State;

/// How long a prepared change holds its stock: long enough for a caller to think it
/// over, short enough that an abandoned call does not block the shelf for long.
pub const RESERVATION_SECS: i64 = 15 * MINUTE;
const MAX_LINES: usize = 50;
const MAX_QUANTITY: u32 = 999;
const MAX_KEY_LEN: usize = 200;
const MAX_TEXT_LEN: usize = 4_000;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LineRequest {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operation {
    CreateOrder {
        contact_id: String,
        lines: Vec<LineRequest>,
    },
    ModifyOrder {
        order_id: String,
        lines: Vec<LineRequest>,
    },
    CancelOrder {
        order_id: String,
    },
    RepeatOrder {
        order_id: String,
    },
    OpenComplaint {
        contact_id: String,
        #[serde(default)]
        order_id: Option<String>,
        subject: String,
        #[serde(default)]
        description: String,
    },
}

impl Operation {
    fn kind(&self) -> &'static str {
        match self {
            Self::CreateOrder { .. } => "create_order",
            Self::ModifyOrder { .. } => "modify_order",
            Self::CancelOrder { .. } => "cancel_order",
            Self::RepeatOrder { .. } => "repeat_order",
            Self::OpenComplaint { .. } => "open_complaint",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PrepareRequest {
    pub idempotency_key: String,
    pub operation: Operation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    Prepared,
    Committed,
    Aborted,
    /// Not confirmed within the reservation window; its stock went back on the shelf.
    Expired,
}

/// What commit will do, fixed at prepare time: the caller agreed to these lines at
/// these prices, so a price change in between must not alter the order.
#[derive(Debug, Clone)]
enum Plan {
    NewOrder {
        contact_id: String,
        lines: Vec<OrderLine>,
        repeat_of: Option<String>,
    },
    ModifyOrder {
        order_id: String,
        before: Vec<(String, u32)>,
        lines: Vec<OrderLine>,
    },
    CancelOrder {
        order_id: String,
        before: Vec<(String, u32)>,
    },
    OpenComplaint {
        contact_id: String,
        order_id: Option<String>,
        subject: String,
        description: String,
    },
}

#[derive(Debug, Clone)]
struct Transaction {
    id: String,
    key: String,
    operation: Operation,
    state: TxState,
    summary: String,
    total: Option<Money>,
    created_at: Timestamp,
    expires_at: Timestamp,
    plan: Plan,
    /// Stock taken off the shelf for this transaction, given back on abort/expiry.
    held: Vec<(String, u32)>,
    reference: Option<String>,
    message: Option<String>,
}

/// A transaction as the API shows it, whichever step answers.
#[derive(Debug, Clone, Serialize)]
pub struct TxView {
    pub id: String,
    pub state: TxState,
    pub idempotency_key: String,
    pub operation: &'static str,
    pub summary: String,
    pub total: Option<Money>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub reference: Option<String>,
    pub message: Option<String>,
}

impl From<&Transaction> for TxView {
    fn from(t: &Transaction) -> Self {
        Self {
            id: t.id.clone(),
            state: t.state,
            idempotency_key: t.key.clone(),
            operation: t.operation.kind(),
            summary: t.summary.clone(),
            total: t.total,
            created_at: t.created_at,
            expires_at: t.expires_at,
            reference: t.reference.clone(),
            message: t.message.clone(),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Ledger {
    txs: Vec<Transaction>,
    by_id: HashMap<String, usize>,
    by_key: HashMap<String, usize>,
    /// Prepared transactions in creation order; shop time never goes back, so their
    /// expiry times are ordered too and expiring is a pop from the front.
    expiry: VecDeque<usize>,
}

impl Ledger {
    pub fn counts(&self) -> TxCounts {
        let count = |state| self.txs.iter().filter(|t| t.state == state).count();
        TxCounts {
            prepared: count(TxState::Prepared),
            committed: count(TxState::Committed),
            aborted: count(TxState::Aborted),
            expired: count(TxState::Expired),
        }
    }

    fn index(&self, id: &str) -> Result<usize, ShopError> {
        self.by_id
            .get(id)
            .copied()
            .ok_or_else(|| ShopError::NotFound(format!("no transaction with id '{id}'")))
    }
}

/// Release the holds of every prepared transaction whose time is up.
pub(crate) fn expire_due(state: &mut State, now: Timestamp) {
    while let Some(&i) = state.ledger.expiry.front() {
        let Some(tx) = state.ledger.txs.get_mut(i) else {
            state.ledger.expiry.pop_front();
            continue;
        };
        if tx.state == TxState::Prepared {
            if tx.expires_at > now {
                break;
            }
            tx.state = TxState::Expired;
            let held = std::mem::take(&mut tx.held);
            tracing::info!(tx = %tx.id, "reservation expired");
            release(state, &held);
        }
        state.ledger.expiry.pop_front();
    }
}

pub(crate) fn get(state: &State, id: &str) -> Result<TxView, ShopError> {
    let i = state.ledger.index(id)?;
    state
        .ledger
        .txs
        .get(i)
        .map(TxView::from)
        .ok_or_else(|| ShopError::Internal(format!("transaction index for '{id}' is stale")))
}

/// Returns the transaction and whether it was created now (201) or found (200).
pub(crate) fn prepare(
    state: &mut State,
    req: PrepareRequest,
    now: Timestamp,
) -> Result<(TxView, bool), ShopError> {
    let key = req.idempotency_key.trim().to_owned();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(ShopError::Invalid(format!(
            "idempotency_key must be 1 to {MAX_KEY_LEN} characters"
        )));
    }
    if let Some(&i) = state.ledger.by_key.get(&key) {
        let existing = state.ledger.txs.get(i).ok_or_else(|| {
            ShopError::Internal(format!("idempotency index for '{key}' is stale"))
        })?;
        if existing.operation != req.operation {
            return Err(ShopError::Conflict(format!(
                "idempotency_key '{key}' was already used for a different operation (transaction {})",
                existing.id
            )));
        }
        return Ok((TxView::from(existing), false));
    }

    let (plan, summary, total, needs) = plan(state, &req.operation)?;
    reserve(state, &needs)?;

    let ledger = &mut state.ledger;
    let id = format!("tx-{:06}", ledger.txs.len() + 1);
    let tx = Transaction {
        id: id.clone(),
        key: key.clone(),
        operation: req.operation,
        state: TxState::Prepared,
        summary,
        total,
        created_at: now,
        expires_at: now.offset(RESERVATION_SECS),
        plan,
        held: needs,
        reference: None,
        message: None,
    };
    let view = TxView::from(&tx);
    let i = ledger.txs.len();
    ledger.txs.push(tx);
    ledger.by_id.insert(id, i);
    ledger.by_key.insert(key, i);
    ledger.expiry.push_back(i);
    tracing::info!(tx = %view.id, operation = view.operation, summary = %view.summary, "prepared");
    Ok((view, true))
}

type Planned = (Plan, String, Option<Money>, Vec<(String, u32)>);

/// Validate an operation against the current state and work out what it would do,
/// what to read back to the caller, and which stock it needs held.
fn plan(state: &State, op: &Operation) -> Result<Planned, ShopError> {
    match op {
        Operation::CreateOrder { contact_id, lines } => {
            let contact = state.contact(contact_id)?;
            let lines = resolve_lines(state, lines)?;
            let total = Order::total_of(&lines);
            let summary = format!("{}, total {total}", describe(&lines));
            let needs = quantities(&lines);
            let plan = Plan::NewOrder {
                contact_id: contact.id.clone(),
                lines,
                repeat_of: None,
            };
            Ok((plan, summary, Some(total), needs))
        }
        Operation::RepeatOrder { order_id } => {
            let source = state.order(order_id)?;
            let requests: Vec<LineRequest> = source
                .lines
                .iter()
                .map(|l| LineRequest {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                })
                .collect();
            let lines = resolve_lines(state, &requests)?;
            let total = Order::total_of(&lines);
            let summary = format!(
                "repeat of order {}: {}, total {total}",
                source.id,
                describe(&lines)
            );
            let needs = quantities(&lines);
            let plan = Plan::NewOrder {
                contact_id: source.contact_id.clone(),
                lines,
                repeat_of: Some(source.id.clone()),
            };
            Ok((plan, summary, Some(total), needs))
        }
        Operation::ModifyOrder { order_id, lines } => {
            let order = state.order(order_id)?;
            changeable(order, "changed")?;
            let lines = resolve_lines(state, lines)?;
            let before = quantities(&order.lines);
            // Only what the order grows by needs new stock; what it shrinks by goes back
            // on the shelf at commit.
            let needs = quantities(&lines)
                .into_iter()
                .filter_map(|(sku, qty)| {
                    let old = before
                        .iter()
                        .find(|(s, _)| *s == sku)
                        .map_or(0, |(_, q)| *q);
                    (qty > old).then(|| (sku, qty - old))
                })
                .collect();
            let total = Order::total_of(&lines);
            let summary = format!(
                "change order {} to {}, total {total}",
                order.id,
                describe(&lines)
            );
            let plan = Plan::ModifyOrder {
                order_id: order.id.clone(),
                before,
                lines,
            };
            Ok((plan, summary, Some(total), needs))
        }
        Operation::CancelOrder { order_id } => {
            let order = state.order(order_id)?;
            changeable(order, "cancelled")?;
            let summary = format!(
                "cancel order {} ({}, total {})",
                order.id,
                describe(&order.lines),
                order.total
            );
            let plan = Plan::CancelOrder {
                order_id: order.id.clone(),
                before: quantities(&order.lines),
            };
            Ok((plan, summary, Some(order.total), Vec::new()))
        }
        Operation::OpenComplaint {
            contact_id,
            order_id,
            subject,
            description,
        } => {
            let contact = state.contact(contact_id)?;
            let subject = subject.trim();
            if subject.is_empty() || subject.len() > 200 {
                return Err(ShopError::Invalid(
                    "subject must be 1 to 200 characters".into(),
                ));
            }
            if description.len() > MAX_TEXT_LEN {
                return Err(ShopError::Invalid(format!(
                    "description must be at most {MAX_TEXT_LEN} characters"
                )));
            }
            let order_id = match order_id.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(id) => {
                    let order = state.order(id)?;
                    if order.contact_id != contact.id {
                        return Err(ShopError::Invalid(format!(
                            "order {id} does not belong to contact {}",
                            contact.id
                        )));
                    }
                    Some(order.id.clone())
                }
            };
            let summary = match &order_id {
                Some(id) => format!("open a complaint about order {id}: {subject}"),
                None => format!("open a complaint: {subject}"),
            };
            let plan = Plan::OpenComplaint {
                contact_id: contact.id.clone(),
                order_id,
                subject: subject.to_owned(),
                description: description.trim().to_owned(),
            };
            Ok((plan, summary, None, Vec::new()))
        }
    }
}

fn changeable(order: &Order, verb: &str) -> Result<(), ShopError> {
    if order.status.is_changeable() {
        Ok(())
    } else {
        Err(ShopError::Conflict(format!(
            "order {} is {} and can no longer be {verb}",
            order.id,
            order.status.as_str().replace('_', " ")
        )))
    }
}

/// Turn requested lines into priced order lines; repeated SKUs are merged so a caller
/// saying "one hose … and another hose" gets one line of two.
fn resolve_lines(state: &State, requested: &[LineRequest]) -> Result<Vec<OrderLine>, ShopError> {
    if requested.is_empty() {
        return Err(ShopError::Invalid("lines must not be empty".into()));
    }
    if requested.len() > MAX_LINES {
        return Err(ShopError::Invalid(format!(
            "at most {MAX_LINES} lines per order"
        )));
    }
    let mut lines: Vec<OrderLine> = Vec::new();
    for req in requested {
        if req.quantity == 0 {
            return Err(ShopError::Invalid(format!(
                "quantity for SKU '{}' must be at least 1",
                req.sku
            )));
        }
        let product = state
            .product(req.sku.trim())
            .map_err(|_| ShopError::Invalid(format!("unknown SKU '{}'", req.sku)))?;
        let quantity = match lines.iter().position(|l| l.sku == product.sku) {
            Some(i) => lines.remove(i).quantity.saturating_add(req.quantity),
            None => req.quantity,
        };
        if quantity > MAX_QUANTITY {
            return Err(ShopError::Invalid(format!(
                "quantity for SKU '{}' must be at most {MAX_QUANTITY}",
                product.sku
            )));
        }
        lines.push(OrderLine::new(product, quantity));
    }
    Ok(lines)
}

fn quantities(lines: &[OrderLine]) -> Vec<(String, u32)> {
    lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect()
}

/// "2 × garden hose 25 metres and 1 × terracotta pot large"
fn describe(lines: &[OrderLine]) -> String {
    let items: Vec<String> = lines
        .iter()
        .map(|l| format!("{} × {}", l.quantity, l.name))
        .collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// All or nothing: check every line first so a short SKU leaves no partial hold.
fn reserve(state: &mut State, needs: &[(String, u32)]) -> Result<(), ShopError> {
    for (sku, qty) in needs {
        let product = state.product(sku)?;
        if product.stock < *qty {
            return Err(ShopError::Conflict(format!(
                "not enough stock for {} ({}): {qty} requested, {} available",
                product.sku, product.name, product.stock
            )));
        }
    }
    for (sku, qty) in needs {
        if let Some(p) = state.product_mut(sku) {
            p.stock -= (*qty).min(p.stock);
        }
    }
    Ok(())
}

fn release(state: &mut State, held: &[(String, u32)]) {
    for (sku, qty) in held {
        if let Some(p) = state.product_mut(sku) {
            p.stock = p.stock.saturating_add(*qty);
        }
    }
}

pub(crate) fn commit(state: &mut State, id: &str, now: Timestamp) -> Result<TxView, ShopError> {
    let i = state.ledger.index(id)?;
    let tx = state
        .ledger
        .txs
        .get(i)
        .ok_or_else(|| ShopError::Internal(format!("transaction index for '{id}' is stale")))?;
    match tx.state {
        TxState::Committed => return Ok(TxView::from(tx)),
        TxState::Aborted => {
            return Err(ShopError::Conflict(format!(
                "transaction {id} was aborted and cannot be committed"
            )));
        }
        TxState::Expired => {
            return Err(ShopError::Conflict(format!(
                "transaction {id} expired at {} and cannot be committed; prepare it again",
                tx.expires_at
            )));
        }
        TxState::Prepared => {}
    }
    let plan = tx.plan.clone();
    match apply(state, plan, now) {
        Ok((reference, message)) => {
            let tx = state.ledger.txs.get_mut(i).ok_or_else(|| {
                ShopError::Internal(format!("transaction '{id}' vanished during commit"))
            })?;
            tx.state = TxState::Committed;
            tx.held.clear();
            tx.reference = Some(reference);
            tx.message = Some(message);
            tracing::info!(tx = %tx.id, reference = ?tx.reference, "committed");
            Ok(TxView::from(&*tx))
        }
        Err(e) => {
            // The world moved on since prepare (the order shipped, or was changed by
            // another call); holding stock for a change that can never happen helps no one.
            if let Some(tx) = state.ledger.txs.get_mut(i) {
                tx.state = TxState::Aborted;
                let held = std::mem::take(&mut tx.held);
                release(state, &held);
            }
            Err(e)
        }
    }
}

fn apply(state: &mut State, plan: Plan, now: Timestamp) -> Result<(String, String), ShopError> {
    match plan {
        Plan::NewOrder {
            contact_id,
            lines,
            repeat_of,
        } => {
            let id = state.new_order_id();
            let summary = describe(&lines);
            let total = Order::total_of(&lines);
            state.add_order(Order {
                id: id.clone(),
                contact_id,
                placed_at: now,
                status: OrderStatus::Confirmed,
                lines,
                total,
                updated_at: now,
            });
            let message = match repeat_of {
                Some(src) => format!(
                    "Order {id} has been placed as a repeat of order {src}: {summary}, total {total}."
                ),
                None => format!("Order {id} has been placed: {summary}, total {total}."),
            };
            Ok((id, message))
        }
        Plan::ModifyOrder {
            order_id,
            before,
            lines,
        } => {
            let order = still_as_prepared(state, &order_id, &before, "changed")?;
            let total = Order::total_of(&lines);
            let message = format!(
                "Order {order_id} now has {}, total {total}.",
                describe(&lines)
            );
            let shrunk: Vec<(String, u32)> = before
                .iter()
                .filter_map(|(sku, old)| {
                    let new = lines
                        .iter()
                        .find(|l| &l.sku == sku)
                        .map_or(0, |l| l.quantity);
                    (*old > new).then(|| (sku.clone(), old - new))
                })
                .collect();
            order.lines = lines;
            order.total = total;
            order.updated_at = now;
            release(state, &shrunk);
            Ok((order_id, message))
        }
        Plan::CancelOrder { order_id, before } => {
            let order = still_as_prepared(state, &order_id, &before, "cancelled")?;
            order.status = OrderStatus::Cancelled;
            order.updated_at = now;
            let refund = order.total;
            release(state, &before);
            Ok((
                order_id.clone(),
                format!("Order {order_id} has been cancelled; {refund} will be refunded."),
            ))
        }
        Plan::OpenComplaint {
            contact_id,
            order_id,
            subject,
            description,
        } => {
            let id = state.new_complaint_id();
            state.add_complaint(Complaint {
                id: id.clone(),
                contact_id,
                order_id,
                subject,
                status: ComplaintStatus::Open,
                opened_at: now,
                updated_at: now,
                last_note: None,
                description,
            });
            Ok((
                id.clone(),
                format!(
                    "Complaint {id} has been opened; a colleague will follow up within one working day."
                ),
            ))
        }
    }
}

/// The order a modify/cancel was prepared against, if it is still changeable and has
/// the same lines; otherwise the caller agreed to something that no longer exists.
fn still_as_prepared<'a>(
    state: &'a mut State,
    order_id: &str,
    before: &[(String, u32)],
    verb: &str,
) -> Result<&'a mut Order, ShopError> {
    let order = state
        .order_mut(order_id)
        .ok_or_else(|| ShopError::NotFound(format!("no order with id '{order_id}'")))?;
    changeable(order, verb)?;
    if quantities(&order.lines) != before {
        return Err(ShopError::Conflict(format!(
            "order {order_id} was changed since this transaction was prepared; prepare it again"
        )));
    }
    Ok(order)
}

pub(crate) fn abort(state: &mut State, id: &str) -> Result<TxView, ShopError> {
    let i = state.ledger.index(id)?;
    let tx = state
        .ledger
        .txs
        .get_mut(i)
        .ok_or_else(|| ShopError::Internal(format!("transaction index for '{id}' is stale")))?;
    match tx.state {
        TxState::Committed => Err(ShopError::Conflict(format!(
            "transaction {id} is already committed (reference {}) and cannot be aborted",
            tx.reference.as_deref().unwrap_or("-")
        ))),
        // Aborting twice, or after expiry, leaves nothing to undo.
        TxState::Aborted | TxState::Expired => Ok(TxView::from(&*tx)),
        TxState::Prepared => {
            tx.state = TxState::Aborted;
            let held = std::mem::take(&mut tx.held);
            let view = TxView::from(&*tx);
            release(state, &held);
            tracing::info!(tx = %id, "aborted");
            Ok(view)
        }
    }
}
