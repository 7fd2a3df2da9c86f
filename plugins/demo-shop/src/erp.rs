//! The demo ERP's REST API as this plugin sees it: JSON shapes and one small client.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use voxgate_sdk::http::{self, Request, Response};
use voxgate_sdk::transactions::{LineRequest, Operation as WitOperation};
use voxgate_sdk::{Error, config};

pub use http::encode as enc;

/// A client for one plugin call: settings are read once per call (every call is a fresh
/// instance, so there is nothing to cache across calls anyway).
pub struct Erp {
    base: String,
    key: Option<String>,
}

impl Erp {
    pub fn connect() -> Result<Erp, Error> {
        let base = config::require("erp-base-url")?;
        Ok(Erp {
            base: base.trim_end_matches('/').to_string(),
            key: config::secret("erp-api-key"),
        })
    }

    fn request(&self, req: Request) -> Request {
        match &self.key {
            Some(k) => req.bearer(k),
            None => req,
        }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let response = self.get_raw(path)?;
        Ok(response.json()?)
    }

    pub fn get_raw(&self, path: &str) -> Result<Response, Error> {
        let response = self
            .request(Request::get(&format!("{}{path}", self.base)))
            .send()?;
        check(response)
    }

    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let response = self
            .request(Request::post(&format!("{}{path}", self.base)).json(body))
            .send()?;
        Ok(check(response)?.json()?)
    }
}

/// The ERP answers errors as `{"error": code, "message": text}`; its code decides the
/// WIT error case, its message goes into the error text.
fn check(response: Response) -> Result<Response, Error> {
    let status = response.status();
    if (200..300).contains(&status) {
        return Ok(response);
    }
    #[derive(Deserialize)]
    struct ErpError {
        error: String,
        message: String,
    }
    match response.json::<ErpError>() {
        Ok(e) => Err(match e.error.as_str() {
            "not_found" => Error::not_found(e.message),
            "invalid" => Error::invalid(e.message),
            "conflict" => Error::conflict(e.message),
            "unauthorized" => Error::denied(format!("ERP refused the API key: {}", e.message)),
            _ => Error::unavailable(format!("ERP error {status}: {}", e.message)),
        }),
        Err(_) => Err(response
            .error_for_status()
            .err()
            .map(Error::from)
            .unwrap_or_else(|| Error::internal(format!("ERP answered HTTP {status}")))),
    }
}

#[derive(Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: String,
}

#[derive(Deserialize)]
pub struct Contact {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub email: Option<String>,
    pub language: Option<String>,
    pub tier: String,
    pub company: Option<String>,
}

#[derive(Deserialize)]
pub struct OrderSummary {
    pub id: String,
    pub placed_at: String,
    pub status: String,
    pub total: Money,
    pub item_count: u32,
}

#[derive(Deserialize)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub line_total: Money,
}

#[derive(Deserialize)]
pub struct Order {
    pub id: String,
    pub contact_id: String,
    pub placed_at: String,
    pub status: String,
    pub lines: Vec<OrderLine>,
    pub total: Money,
}

#[derive(Deserialize)]
pub struct Delivery {
    pub order_id: String,
    pub status: String,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub eta_earliest: Option<String>,
    pub eta_latest: Option<String>,
    pub updated_at: String,
}

#[derive(Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub unit: String,
    pub price: Money,
    /// Units on hand (the ERP's `in_stock` is only a yes/no flag).
    pub stock: u32,
}

#[derive(Deserialize)]
pub struct Frequent {
    pub product: Product,
    pub times_ordered: u32,
    pub last_ordered: String,
}

#[derive(Deserialize)]
pub struct Promotion {
    pub id: String,
    pub title: String,
    pub description: String,
    pub valid_until: String,
    pub sku: Option<String>,
    pub discount_percent: Option<u8>,
}

#[derive(Deserialize)]
pub struct Complaint {
    pub id: String,
    pub contact_id: String,
    pub order_id: Option<String>,
    pub subject: String,
    pub status: String,
    pub opened_at: String,
    pub updated_at: String,
    pub last_note: Option<String>,
}

#[derive(Deserialize)]
pub struct Answer {
    pub answer: String,
    pub source: Option<String>,
    pub score: u32,
}

#[derive(Serialize)]
pub struct TicketRequest {
    pub channel: &'static str,
    pub contact_id: Option<String>,
    pub phone: String,
    pub subject: String,
    pub body: String,
    pub priority: &'static str,
}

#[derive(Deserialize)]
pub struct Ticket {
    pub id: String,
    pub reference: Option<String>,
    pub message: String,
}

#[derive(Serialize)]
pub struct PrepareRequest {
    pub idempotency_key: String,
    pub operation: Operation,
}

#[derive(Serialize)]
pub struct Line {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Operation {
    CreateOrder {
        contact_id: String,
        lines: Vec<Line>,
    },
    ModifyOrder {
        order_id: String,
        lines: Vec<Line>,
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

fn lines(l: Vec<LineRequest>) -> Vec<Line> {
    l.into_iter()
        .map(|l| Line {
            sku: l.sku,
            quantity: l.quantity,
        })
        .collect()
}

impl From<WitOperation> for Operation {
    fn from(op: WitOperation) -> Operation {
        match op {
            WitOperation::CreateOrder(c) => Operation::CreateOrder {
                contact_id: c.contact_id,
                lines: lines(c.lines),
            },
            WitOperation::ModifyOrder(m) => Operation::ModifyOrder {
                order_id: m.order_id,
                lines: lines(m.lines),
            },
            WitOperation::CancelOrder(id) => Operation::CancelOrder { order_id: id },
            WitOperation::RepeatOrder(id) => Operation::RepeatOrder { order_id: id },
            WitOperation::OpenComplaint(c) => Operation::OpenComplaint {
                contact_id: c.contact_id,
                order_id: c.order_id,
                subject: c.subject,
                description: c.description,
            },
        }
    }
}

#[derive(Deserialize)]
pub struct Transaction {
    pub id: String,
    pub summary: Option<String>,
    pub total: Option<Money>,
    pub expires_at: Option<String>,
    pub reference: Option<String>,
    pub message: Option<String>,
}

/// Length of a PCM WAV file from its header, when the header is the plain 44-byte one.
pub fn wav_duration_ms(data: &[u8]) -> Option<u32> {
    if data.len() < 44 || &data[0..4] != b"RIFF" || &data[8..12] != b"WAVE" {
        return None;
    }
    let byte_rate = u32::from_le_bytes([data[28], data[29], data[30], data[31]]);
    if byte_rate == 0 {
        return None;
    }
    let payload = (data.len() - 44) as u64;
    u32::try_from(payload * 1000 / u64::from(byte_rate)).ok()
}
