//! The shop's state behind one lock, and the read-side queries over it.
//!
//! One `Mutex` is enough: every request touches a few small collections for
//! microseconds and never holds the lock across an `.await`, and a single lock makes
//! "reserve stock, then create the order" trivially atomic.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;

use crate::error::ShopError;
use crate::model::{
    Complaint, Contact, Delivery, DeliveryStatus, FrequentItem, Order, OrderStatus, Product,
    ProductView, Promotion, Stats, Ticket, Tier, Timestamp, normalize_phone,
};
use crate::tx::Ledger;
use crate::{knowledge, recordings, seed};

/// Handle to one shop. Clones share the same data; hand one to `router` and keep
/// another to inspect or steer the shop from a test.
#[derive(Clone)]
pub struct Shop {
    inner: Arc<Inner>,
    api_key: Option<Arc<str>>,
}

struct Inner {
    state: Mutex<State>,
    clock: Clock,
    requests: AtomicU64,
}

/// Shop time is the seed time plus real elapsed time plus whatever a test skipped
/// ahead, so answers are reproducible from the seed and expiry can be tested without
/// sleeping for 15 minutes.
struct Clock {
    base: Timestamp,
    started: Instant,
    skipped: AtomicI64,
    frozen: AtomicBool,
}

impl Clock {
    fn now(&self) -> Timestamp {
        let elapsed = if self.frozen.load(Ordering::Relaxed) {
            0
        } else {
            i64::try_from(self.started.elapsed().as_secs()).unwrap_or(i64::MAX)
        };
        self.base
            .offset(elapsed)
            .offset(self.skipped.load(Ordering::Relaxed))
    }
}

impl fmt::Debug for Shop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shop")
            .field("now", &self.now())
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

impl Shop {
    /// "Kvarner Home & Garden" with its contacts, catalogue, orders, deliveries,
    /// complaints and promotions, all dated relative to `now`.
    pub fn seeded(now: SystemTime) -> Self {
        let now = Timestamp::from_system_time(now);
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::seeded(now)),
                clock: Clock {
                    base: now,
                    started: Instant::now(),
                    skipped: AtomicI64::new(0),
                    frozen: AtomicBool::new(false),
                },
                requests: AtomicU64::new(0),
            }),
            api_key: None,
        }
    }

    /// Require `Authorization: Bearer <key>` on every route but `/healthz`. An empty
    /// key means none, so `--api-key ""` in a script does not lock everyone out.
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.api_key = (!key.is_empty()).then(|| Arc::from(key));
        self
    }

    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Stop real time from passing: shop time stays at the seed time until
    /// `advance_clock`, so tests can assert exact timestamps. Call it right after
    /// seeding; freezing later would set the clock back by the time already elapsed.
    #[must_use]
    pub fn with_frozen_clock(self) -> Self {
        self.inner.clock.frozen.store(true, Ordering::Relaxed);
        self
    }

    /// Move shop time forward, e.g. past a reservation's expiry.
    pub fn advance_clock(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        let _ = self
            .inner
            .clock
            .skipped
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                Some(s.saturating_add(secs))
            });
    }

    /// Units of `sku` free to sell right now (reserved units are not free).
    pub fn stock(&self, sku: &str) -> Option<u32> {
        self.with(|s, _| s.product(sku).ok().map(|p| p.stock))
    }

    pub fn stats(&self) -> Stats {
        let requests = self.inner.requests.load(Ordering::Relaxed);
        self.with(|s, _| Stats {
            orders: s.orders.len(),
            transactions: s.ledger.counts(),
            requests,
            complaints: s.complaints.len(),
            tickets: s.tickets.len(),
        })
    }

    pub(crate) fn count_request(&self) {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Run `f` on the state at the current shop time, after releasing the stock of
    /// reservations that expired, so nobody ever sees stale holds.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State, Timestamp) -> R) -> R {
        let now = self.now();
        let mut state = self
            .inner
            .state
            .lock()
            // Nothing panics under the lock; if something ever did, the data is still
            // consistent enough for a demo, and refusing every later request is worse.
            .unwrap_or_else(PoisonError::into_inner);
        crate::tx::expire_due(&mut state, now);
        f(&mut state, now)
    }
}

#[derive(Debug)]
pub(crate) struct State {
    pub contacts: Vec<Contact>,
    pub products: Vec<Product>,
    pub orders: Vec<Order>,
    order_index: HashMap<String, usize>,
    pub deliveries: HashMap<String, Delivery>,
    pub promotions: Vec<Promotion>,
    pub complaints: Vec<Complaint>,
    pub tickets: Vec<Ticket>,
    pub recordings: BTreeMap<String, Bytes>,
    pub ledger: Ledger,
    next_order: u64,
    next_complaint: u64,
    next_ticket: u64,
}

impl State {
    fn seeded(now: Timestamp) -> Self {
        let seed = seed::seed(now);
        let next_order = next_number(seed.orders.iter().map(|o| o.id.as_str()), 40_000);
        let next_complaint = next_number(
            seed.complaints
                .iter()
                .filter_map(|c| c.id.strip_prefix("CP-")),
            2_000,
        );
        let mut state = Self {
            contacts: seed.contacts,
            products: seed.products,
            orders: Vec::new(),
            order_index: HashMap::new(),
            deliveries: seed
                .deliveries
                .into_iter()
                .map(|d| (d.order_id.clone(), d))
                .collect(),
            promotions: seed.promotions,
            complaints: seed.complaints,
            tickets: Vec::new(),
            recordings: recordings::all()
                .into_iter()
                .map(|(id, wav)| (id, Bytes::from(wav)))
                .collect(),
            ledger: Ledger::default(),
            next_order,
            next_complaint,
            next_ticket: 3_001,
        };
        for order in seed.orders {
            state.insert_order(order);
        }
        state
    }

    pub fn contact(&self, id: &str) -> Result<&Contact, ShopError> {
        self.contacts
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ShopError::NotFound(format!("no contact with id '{id}'")))
    }

    pub fn contact_by_phone(&self, raw: &str) -> Result<&Contact, ShopError> {
        let phone = normalize_phone(raw).ok_or_else(|| {
            ShopError::Invalid(format!(
                "'{raw}' is not an E.164 phone number (expected e.g. +38515550101)"
            ))
        })?;
        self.contacts
            .iter()
            .find(|c| c.phone == phone)
            .ok_or_else(|| ShopError::NotFound(format!("no contact with phone {phone}")))
    }

    /// SKUs are matched case-insensitively: they reach us through speech and DTMF.
    pub fn product(&self, sku: &str) -> Result<&Product, ShopError> {
        self.products
            .iter()
            .find(|p| p.sku.eq_ignore_ascii_case(sku))
            .ok_or_else(|| ShopError::NotFound(format!("no product with SKU '{sku}'")))
    }

    pub fn product_mut(&mut self, sku: &str) -> Option<&mut Product> {
        self.products
            .iter_mut()
            .find(|p| p.sku.eq_ignore_ascii_case(sku))
    }

    pub fn order(&self, id: &str) -> Result<&Order, ShopError> {
        self.order_index
            .get(id)
            .and_then(|&i| self.orders.get(i))
            .ok_or_else(|| ShopError::NotFound(format!("no order with id '{id}'")))
    }

    pub fn order_mut(&mut self, id: &str) -> Option<&mut Order> {
        let i = *self.order_index.get(id)?;
        self.orders.get_mut(i)
    }

    fn insert_order(&mut self, order: Order) {
        self.order_index.insert(order.id.clone(), self.orders.len());
        self.orders.push(order);
    }

    pub fn new_order_id(&mut self) -> String {
        let id = self.next_order.to_string();
        self.next_order += 1;
        id
    }

    pub fn add_order(&mut self, order: Order) {
        self.insert_order(order);
    }

    pub fn new_complaint_id(&mut self) -> String {
        let id = format!("CP-{}", self.next_complaint);
        self.next_complaint += 1;
        id
    }

    pub fn new_ticket_id(&mut self) -> String {
        let id = format!("T-{}", self.next_ticket);
        self.next_ticket += 1;
        id
    }

    /// A contact's orders, newest first.
    pub fn orders_of(&self, contact_id: &str) -> Vec<&Order> {
        let mut orders: Vec<&Order> = self
            .orders
            .iter()
            .filter(|o| o.contact_id == contact_id)
            .collect();
        orders.sort_by(|a, b| b.placed_at.cmp(&a.placed_at).then(b.id.cmp(&a.id)));
        orders
    }

    /// Orders that were not cancelled: what a contact actually bought.
    fn bought_by<'a>(&'a self, contact_id: &'a str) -> impl Iterator<Item = &'a Order> + 'a {
        self.orders
            .iter()
            .filter(move |o| o.contact_id == contact_id && o.status != OrderStatus::Cancelled)
    }

    pub fn delivery(&self, order_id: &str) -> Result<Delivery, ShopError> {
        let order = self.order(order_id)?;
        if let Some(d) = self.deliveries.get(order_id) {
            return Ok(d.clone());
        }
        // Orders still in the warehouse (or cancelled there) have no parcel yet.
        Ok(Delivery {
            order_id: order.id.clone(),
            status: DeliveryStatus::NotShipped,
            carrier: None,
            tracking: None,
            eta_earliest: None,
            eta_latest: None,
            updated_at: order.updated_at,
            note: None,
        })
    }

    /// Products by the number of orders they appear in, then by how recently.
    pub fn frequent(&self, contact_id: &str) -> Vec<FrequentItem> {
        let mut seen: Vec<(&str, u32, Timestamp)> = Vec::new();
        for order in self.bought_by(contact_id) {
            for line in &order.lines {
                match seen.iter_mut().find(|(sku, _, _)| *sku == line.sku) {
                    Some((_, times, last)) => {
                        *times += 1;
                        *last = (*last).max(order.placed_at);
                    }
                    None => seen.push((&line.sku, 1, order.placed_at)),
                }
            }
        }
        seen.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
        seen.into_iter()
            .filter_map(|(sku, times_ordered, last_ordered)| {
                let product = self.product(sku).ok()?;
                Some(FrequentItem {
                    product: product.into(),
                    times_ordered,
                    last_ordered,
                })
            })
            .collect()
    }

    /// In-stock products from the categories a contact buys most, excluding what they
    /// already bought. Without a history, the shop's best sellers stand in.
    pub fn recommendations(&self, contact_id: &str) -> Vec<ProductView> {
        let mut bought: Vec<&str> = Vec::new();
        let mut categories: HashMap<&str, u32> = HashMap::new();
        for order in self.bought_by(contact_id) {
            for line in &order.lines {
                bought.push(&line.sku);
                if let Ok(p) = self.product(&line.sku) {
                    *categories.entry(p.category.as_str()).or_default() += line.quantity;
                }
            }
        }
        let popularity = |sku: &str| -> u32 {
            self.orders
                .iter()
                .filter(|o| o.status != OrderStatus::Cancelled)
                .flat_map(|o| &o.lines)
                .filter(|l| l.sku == sku)
                .map(|l| l.quantity)
                .sum()
        };
        let mut picks: Vec<(u32, u32, usize, &Product)> = self
            .products
            .iter()
            .enumerate()
            .filter(|(_, p)| p.stock > 0 && !bought.contains(&p.sku.as_str()))
            .filter_map(|(i, p)| {
                let affinity = categories.get(p.category.as_str()).copied().unwrap_or(0);
                (categories.is_empty() || affinity > 0)
                    .then(|| (affinity, popularity(&p.sku), i, p))
            })
            .collect();
        picks.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        picks.into_iter().map(|(_, _, _, p)| p.into()).collect()
    }

    /// Promotions still running; VIP-only ones only when a VIP is asking.
    pub fn promotions_for(&self, contact: Option<&Contact>, now: Timestamp) -> Vec<Promotion> {
        let vip = contact.is_some_and(|c| c.tier == Tier::Vip);
        self.promotions
            .iter()
            .filter(|p| p.valid_until > now && (vip || !p.vip_only))
            .cloned()
            .collect()
    }

    pub fn complaints_of(&self, contact_id: &str, only_open: bool) -> Vec<Complaint> {
        let mut list: Vec<Complaint> = self
            .complaints
            .iter()
            .filter(|c| c.contact_id == contact_id && (!only_open || c.status.is_open()))
            .cloned()
            .collect();
        list.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(b.id.cmp(&a.id)));
        list
    }

    pub fn complaint(&self, id: &str) -> Result<&Complaint, ShopError> {
        self.complaints
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ShopError::NotFound(format!("no complaint with id '{id}'")))
    }

    pub fn add_complaint(&mut self, complaint: Complaint) {
        self.complaints.push(complaint);
    }

    pub fn knowledge(&self) -> &'static [crate::model::KnowledgeEntry] {
        knowledge::FAQ
    }
}

/// One past the highest numeric id in the seed, so new ids never collide with it.
fn next_number<'a>(ids: impl Iterator<Item = &'a str>, floor: u64) -> u64 {
    ids.filter_map(|id| id.parse::<u64>().ok())
        .max()
        .unwrap_or(floor)
        .max(floor)
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ComplaintStatus;
    use std::time::UNIX_EPOCH;

    fn shop() -> Shop {
        Shop::seeded(UNIX_EPOCH + Duration::from_secs(1_748_772_000))
    }

    #[test]
    fn seed_is_consistent() {
        let shop = shop();
        shop.with(|s, _| {
            assert!(s.contacts.len() >= 8);
            assert!(s.products.len() >= 25);
            assert_eq!(s.contacts.iter().filter(|c| c.tier == Tier::Vip).count(), 1);
            assert!(s.contacts.iter().any(|c| s.orders_of(&c.id).is_empty()));
            for order in &s.orders {
                assert!(s.contact(&order.contact_id).is_ok(), "{}", order.id);
                assert!(!order.lines.is_empty(), "{}", order.id);
                for line in &order.lines {
                    assert!(s.product(&line.sku).is_ok(), "{}", line.sku);
                }
                let shipped = matches!(
                    order.status,
                    OrderStatus::Shipped
                        | OrderStatus::OutForDelivery
                        | OrderStatus::Delivered
                        | OrderStatus::Returned
                );
                assert_eq!(
                    shipped,
                    s.deliveries.contains_key(&order.id),
                    "{}",
                    order.id
                );
            }
            for c in &s.complaints {
                if let Some(o) = &c.order_id {
                    assert_eq!(
                        s.order(o).map(|o| o.contact_id.as_str()),
                        Ok(c.contact_id.as_str())
                    );
                }
            }
            assert_eq!(s.products.iter().filter(|p| p.stock == 0).count(), 2);
            assert!(s.complaints.iter().any(|c| c.status.is_open()));
            assert!(
                s.complaints
                    .iter()
                    .any(|c| c.status == ComplaintStatus::Resolved)
            );
        });
    }

    #[test]
    fn ids_continue_after_seed() {
        let shop = shop();
        shop.with(|s, _| {
            assert_eq!(s.new_order_id(), "40151");
            assert_eq!(s.new_complaint_id(), "CP-2006");
        });
    }

    #[test]
    fn clock_skips_ahead() {
        let shop = shop().with_frozen_clock();
        let before = shop.now();
        assert_eq!(before.unix(), 1_748_772_000);
        shop.advance_clock(Duration::from_secs(3_600));
        assert_eq!(shop.now().unix() - before.unix(), 3_600);
    }
}
