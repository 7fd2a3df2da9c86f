//! The shop's records and the JSON shapes the API answers with.
//!
//! Field names here are the wire contract the reference plugin is written against, so
//! renaming one is a breaking change for every integration test.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize, Serializer};

pub const CURRENCY: &str = "EUR";
pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// Seconds since the Unix epoch, UTC. Whole seconds are enough for a shop and keep
/// every printed time stable across runs seeded with the same `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix(secs: i64) -> Self {
        Self(secs)
    }

    /// Times before 1970 cannot come from a real clock; clamping beats failing.
    pub fn from_system_time(t: SystemTime) -> Self {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self(secs)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    pub const fn offset(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// RFC 3339 in UTC with a `Z` suffix, e.g. `2025-06-01T10:00:00Z`.
    pub fn rfc3339(self) -> String {
        let days = self.0.div_euclid(DAY);
        let secs = self.0.rem_euclid(DAY);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / HOUR,
            (secs % HOUR) / MINUTE,
            secs % MINUTE
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// Howard Hinnant's days-to-civil algorithm: exact for the proleptic Gregorian
/// calendar, and small enough that the crate needs no date library.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

/// Integer minor units, so totals add up exactly and a plugin never sees 64.96999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Money {
    pub amount: i64,
    pub currency: &'static str,
}

impl Money {
    pub const fn eur(amount: i64) -> Self {
        Self {
            amount,
            currency: CURRENCY,
        }
    }

    pub fn times(self, quantity: u32) -> Self {
        Self::eur(self.amount.saturating_mul(i64::from(quantity)))
    }

    pub fn plus(self, other: Self) -> Self {
        Self::eur(self.amount.saturating_add(other.amount))
    }
}

/// How a phone agent reads an amount back: `64.97 EUR`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    De,
    Hr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Standard,
    Preferred,
    Vip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub email: Option<String>,
    pub language: Option<Language>,
    pub tier: Tier,
    pub company: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub unit: String,
    pub price: Money,
    /// Units free to sell: reservations of prepared transactions are already taken off.
    pub stock: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub unit: String,
    pub price: Money,
    pub in_stock: bool,
    /// Not in the minimal contract; lets tests and agents see how many are left.
    pub stock: u32,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            sku: p.sku.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            category: p.category.clone(),
            unit: p.unit.clone(),
            price: p.price,
            in_stock: p.stock > 0,
            stock: p.stock,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Processing,
    Shipped,
    OutForDelivery,
    Delivered,
    Cancelled,
    Returned,
}

impl OrderStatus {
    /// Once the warehouse hands the parcel over, only a return can undo it.
    pub const fn is_changeable(self) -> bool {
        matches!(self, Self::Pending | Self::Confirmed | Self::Processing)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Processing => "processing",
            Self::Shipped => "shipped",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Returned => "returned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub line_total: Money,
}

impl OrderLine {
    pub fn new(product: &Product, quantity: u32) -> Self {
        Self {
            sku: product.sku.clone(),
            name: product.name.clone(),
            quantity,
            unit_price: product.price,
            line_total: product.price.times(quantity),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: String,
    pub contact_id: String,
    pub placed_at: Timestamp,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    #[serde(skip)]
    pub updated_at: Timestamp,
}

impl Order {
    pub fn total_of(lines: &[OrderLine]) -> Money {
        lines
            .iter()
            .fold(Money::eur(0), |sum, l| sum.plus(l.line_total))
    }

    pub fn item_count(&self) -> u32 {
        self.lines
            .iter()
            .fold(0u32, |n, l| n.saturating_add(l.quantity))
    }

    pub fn summary(&self) -> OrderSummary {
        OrderSummary {
            id: self.id.clone(),
            placed_at: self.placed_at,
            status: self.status,
            total: self.total,
            item_count: self.item_count(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderSummary {
    pub id: String,
    pub placed_at: Timestamp,
    pub status: OrderStatus,
    pub total: Money,
    pub item_count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    NotShipped,
    InTransit,
    OutForDelivery,
    Delivered,
    Exception,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub order_id: String,
    pub status: DeliveryStatus,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub eta_earliest: Option<Timestamp>,
    pub eta_latest: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// What the carrier reported, so an agent can explain an exception.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Promotion {
    pub id: String,
    pub title: String,
    pub description: String,
    pub valid_until: Timestamp,
    pub sku: Option<String>,
    pub discount_percent: Option<u8>,
    #[serde(skip)]
    pub vip_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    Open,
    InProgress,
    WaitingForCustomer,
    Resolved,
    Closed,
}

impl ComplaintStatus {
    /// "Open" to a caller means someone still has to act on it.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            Self::Open | Self::InProgress | Self::WaitingForCustomer
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Complaint {
    pub id: String,
    pub contact_id: String,
    pub order_id: Option<String>,
    pub subject: String,
    pub status: ComplaintStatus,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_note: Option<String>,
    #[serde(skip)]
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct KnowledgeEntry {
    pub id: &'static str,
    pub question: &'static str,
    pub answer: &'static str,
    pub keywords: &'static [&'static str],
}

#[derive(Debug, Clone, Serialize)]
pub struct KnowledgeAnswer {
    pub answer: String,
    pub source: String,
    pub score: u8,
    pub question: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Ticket,
    Email,
    Whatsapp,
    Callback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    #[default]
    Normal,
    High,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TicketRequest {
    pub channel: Channel,
    #[serde(default)]
    pub contact_id: Option<String>,
    pub phone: String,
    pub subject: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub priority: Priority,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub id: String,
    pub channel: Channel,
    pub contact_id: Option<String>,
    pub phone: String,
    pub subject: String,
    pub body: String,
    pub priority: Priority,
    pub created_at: Timestamp,
    pub reference: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketCreated {
    pub id: String,
    pub channel: Channel,
    pub reference: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrequentItem {
    pub product: ProductView,
    pub times_ordered: u32,
    pub last_ordered: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct TxCounts {
    pub prepared: usize,
    pub committed: usize,
    pub aborted: usize,
    pub expired: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub orders: usize,
    pub transactions: TxCounts,
    pub requests: u64,
    pub complaints: usize,
    pub tickets: usize,
}

/// Reduce what a caller ID or a URL path may hold (`+385 1 555 0101`, `00385…`, a
/// `+` that a form encoder turned into a space) to E.164, or `None` if it is not one.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let international = trimmed.starts_with('+') || trimmed.starts_with("00");
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let allowed = |c: char| c.is_ascii_digit() || " +-()./".contains(c);
    if !trimmed.chars().all(allowed) {
        return None;
    }
    if trimmed.starts_with("00") {
        digits.drain(..2);
    } else if !international && !raw.starts_with(' ') && digits.len() < 11 {
        // A national number cannot be placed in a country without knowing the caller's
        // trunk; refuse rather than guess.
        return None;
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return None;
    }
    Some(format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(Timestamp::from_unix(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix(1_748_772_000).rfc3339(),
            "2025-06-01T10:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix(951_782_400).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(Timestamp::from_unix(-1).rfc3339(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn money_reads_back() {
        assert_eq!(Money::eur(6497).to_string(), "64.97 EUR");
        assert_eq!(Money::eur(5).to_string(), "0.05 EUR");
        assert_eq!(Money::eur(2999).times(3), Money::eur(8997));
    }

    #[test]
    fn phones_normalize() {
        assert_eq!(
            normalize_phone("+385 1 555 0101").as_deref(),
            Some("+38515550101")
        );
        assert_eq!(
            normalize_phone("0044 20 7946 0123").as_deref(),
            Some("+442079460123")
        );
        assert_eq!(
            normalize_phone(" 12025550142").as_deref(),
            Some("+12025550142")
        );
        assert_eq!(normalize_phone("anonymous"), None);
        assert_eq!(normalize_phone("+12"), None);
        assert_eq!(normalize_phone("015550101"), None);
    }
}
