//! demo-shop: voxgate's reference plugin. It serves every voxgate interface for the
//! fictional "Kvarner Home & Garden" shop by calling the shop's ERP over HTTP, the way a
//! real integration calls a real ERP/WMS/CRM.
//!
//! Settings: `erp-base-url` (required, e.g. `http://127.0.0.1:8700`); secret
//! `erp-api-key` (optional, sent as a bearer token).

mod erp;

use voxgate_sdk::complaints::{Complaint, ComplaintStatus, Complaints};
use voxgate_sdk::contacts::{Contact, Contacts, Tier};
use voxgate_sdk::delivery::{Delivery, DeliveryEta, DeliveryStatus};
use voxgate_sdk::escalation::{Channel, Escalation, Priority, Ticket, TicketRequest};
use voxgate_sdk::knowledge::{FaqAnswer, Knowledge};
use voxgate_sdk::orders::{Order, OrderLine, OrderStatus, OrderSummary, Orders};
use voxgate_sdk::products::{FrequentItem, Product, Products, Promotion};
use voxgate_sdk::recordings::{Recording, Recordings};
use voxgate_sdk::transactions::{Committed, Operation, Prepared, Transactions};
use voxgate_sdk::{CallContext, Error, Money};

use erp::Erp;

struct DemoShop;

impl Contacts for DemoShop {
    fn lookup_by_phone(_ctx: CallContext, phone: String) -> Result<Contact, Error> {
        let c: erp::Contact =
            Erp::connect()?.get(&format!("/contacts/by-phone/{}", erp::enc(&phone)))?;
        Ok(c.into())
    }
}

impl Orders for DemoShop {
    fn list_recent(
        _ctx: CallContext,
        contact_id: String,
        limit: u32,
    ) -> Result<Vec<OrderSummary>, Error> {
        let list: Vec<erp::OrderSummary> = Erp::connect()?.get(&format!(
            "/contacts/{}/orders?limit={limit}",
            erp::enc(&contact_id)
        ))?;
        list.into_iter().map(TryInto::try_into).collect()
    }

    fn get(_ctx: CallContext, order_id: String) -> Result<Order, Error> {
        let o: erp::Order = Erp::connect()?.get(&format!("/orders/{}", erp::enc(&order_id)))?;
        o.try_into()
    }
}

impl Products for DemoShop {
    fn search(_ctx: CallContext, query: String, limit: u32) -> Result<Vec<Product>, Error> {
        let list: Vec<erp::Product> =
            Erp::connect()?.get(&format!("/products?q={}&limit={limit}", erp::enc(&query)))?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    fn frequent(
        _ctx: CallContext,
        contact_id: String,
        limit: u32,
    ) -> Result<Vec<FrequentItem>, Error> {
        let list: Vec<erp::Frequent> = Erp::connect()?.get(&format!(
            "/contacts/{}/frequent?limit={limit}",
            erp::enc(&contact_id)
        ))?;
        Ok(list
            .into_iter()
            .map(|f| FrequentItem {
                product: f.product.into(),
                times_ordered: f.times_ordered,
                last_ordered: f.last_ordered,
            })
            .collect())
    }

    fn recommend(_ctx: CallContext, contact_id: String, limit: u32) -> Result<Vec<Product>, Error> {
        let list: Vec<erp::Product> = Erp::connect()?.get(&format!(
            "/contacts/{}/recommendations?limit={limit}",
            erp::enc(&contact_id)
        ))?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    fn promotions(_ctx: CallContext, contact_id: Option<String>) -> Result<Vec<Promotion>, Error> {
        let path = match contact_id {
            Some(id) => format!("/promotions?contact_id={}", erp::enc(&id)),
            None => "/promotions".to_string(),
        };
        let list: Vec<erp::Promotion> = Erp::connect()?.get(&path)?;
        Ok(list
            .into_iter()
            .map(|p| Promotion {
                id: p.id,
                title: p.title,
                description: p.description,
                valid_until: p.valid_until,
                sku: p.sku,
                discount_percent: p.discount_percent,
            })
            .collect())
    }
}

impl Transactions for DemoShop {
    fn prepare(ctx: CallContext, op: Operation) -> Result<Prepared, Error> {
        let key = ctx
            .idempotency_key
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                Error::invalid("prepare needs an idempotency key in the call context")
            })?;
        let body = erp::PrepareRequest {
            idempotency_key: key,
            operation: erp::Operation::from(op),
        };
        let t: erp::Transaction = Erp::connect()?.post("/transactions", &body)?;
        Ok(Prepared {
            transaction_id: t.id,
            summary: t.summary.unwrap_or_default(),
            total: t.total.map(Into::into),
            expires_at: t.expires_at.unwrap_or_default(),
        })
    }

    fn commit(_ctx: CallContext, transaction_id: String) -> Result<Committed, Error> {
        let t: erp::Transaction = Erp::connect()?.post(
            &format!("/transactions/{}/commit", erp::enc(&transaction_id)),
            &serde_json::json!({}),
        )?;
        Ok(Committed {
            transaction_id: t.id,
            reference: t.reference.unwrap_or_default(),
            message: t.message.unwrap_or_else(|| "committed".into()),
        })
    }

    fn abort(_ctx: CallContext, transaction_id: String) -> Result<(), Error> {
        let _: erp::Transaction = Erp::connect()?.post(
            &format!("/transactions/{}/abort", erp::enc(&transaction_id)),
            &serde_json::json!({}),
        )?;
        Ok(())
    }
}

impl Delivery for DemoShop {
    fn eta(_ctx: CallContext, order_id: String) -> Result<DeliveryEta, Error> {
        let d: erp::Delivery =
            Erp::connect()?.get(&format!("/deliveries/by-order/{}", erp::enc(&order_id)))?;
        let status = match d.status.as_str() {
            "not_shipped" => DeliveryStatus::NotShipped,
            "in_transit" => DeliveryStatus::InTransit,
            "out_for_delivery" => DeliveryStatus::OutForDelivery,
            "delivered" => DeliveryStatus::Delivered,
            "exception" => DeliveryStatus::Exception,
            other => {
                return Err(Error::internal(format!(
                    "ERP sent unknown delivery status `{other}`"
                )));
            }
        };
        Ok(DeliveryEta {
            order_id: d.order_id,
            status,
            carrier: d.carrier,
            tracking_number: d.tracking,
            eta_earliest: d.eta_earliest,
            eta_latest: d.eta_latest,
            updated_at: d.updated_at,
        })
    }
}

impl Complaints for DemoShop {
    fn list_open(_ctx: CallContext, contact_id: String) -> Result<Vec<Complaint>, Error> {
        let list: Vec<erp::Complaint> = Erp::connect()?.get(&format!(
            "/contacts/{}/complaints?status=open",
            erp::enc(&contact_id)
        ))?;
        list.into_iter().map(TryInto::try_into).collect()
    }

    fn get(_ctx: CallContext, complaint_id: String) -> Result<Complaint, Error> {
        let c: erp::Complaint =
            Erp::connect()?.get(&format!("/complaints/{}", erp::enc(&complaint_id)))?;
        c.try_into()
    }
}

impl Knowledge for DemoShop {
    fn answer(_ctx: CallContext, question: String) -> Result<FaqAnswer, Error> {
        let a: erp::Answer =
            Erp::connect()?.get(&format!("/knowledge?q={}", erp::enc(&question)))?;
        Ok(FaqAnswer {
            text: a.answer,
            source: a.source,
            confidence: a.score.min(100) as u8,
        })
    }
}

impl Escalation for DemoShop {
    fn open_ticket(_ctx: CallContext, request: TicketRequest) -> Result<Ticket, Error> {
        let body = erp::TicketRequest {
            channel: channel_name(request.channel),
            contact_id: request.contact_id,
            phone: request.phone,
            subject: request.subject,
            body: request.body,
            priority: match request.priority {
                Priority::Normal => "normal",
                Priority::High => "high",
            },
        };
        let t: erp::Ticket = Erp::connect()?.post("/tickets", &body)?;
        Ok(Ticket {
            id: t.id,
            channel: request.channel,
            reference: t.reference,
            message: t.message,
        })
    }
}

impl Recordings for DemoShop {
    fn fetch(_ctx: CallContext, reference: String) -> Result<Recording, Error> {
        let response = Erp::connect()?.get_raw(&format!("/recordings/{}", erp::enc(&reference)))?;
        let content_type = response
            .header("content-type")
            .unwrap_or("audio/wav")
            .to_string();
        let data = response.into_bytes();
        let duration_ms = erp::wav_duration_ms(&data);
        Ok(Recording {
            content_type,
            data,
            duration_ms,
        })
    }
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Ticket => "ticket",
        Channel::Email => "email",
        Channel::Whatsapp => "whatsapp",
        Channel::Callback => "callback",
    }
}

impl From<erp::Money> for Money {
    fn from(m: erp::Money) -> Money {
        Money::new(m.amount, m.currency)
    }
}

impl From<erp::Contact> for Contact {
    fn from(c: erp::Contact) -> Contact {
        Contact {
            id: c.id,
            first_name: c.first_name,
            last_name: c.last_name,
            phone: c.phone,
            email: c.email,
            language: c.language,
            tier: match c.tier.as_str() {
                "vip" => Tier::Vip,
                "preferred" => Tier::Preferred,
                _ => Tier::Standard,
            },
            company: c.company,
        }
    }
}

impl From<erp::Product> for Product {
    fn from(p: erp::Product) -> Product {
        Product {
            sku: p.sku,
            name: p.name,
            description: p.description,
            category: p.category,
            unit: p.unit,
            price: p.price.into(),
            in_stock: p.stock,
        }
    }
}

fn order_status(s: &str) -> Result<OrderStatus, Error> {
    Ok(match s {
        "pending" => OrderStatus::Pending,
        "confirmed" => OrderStatus::Confirmed,
        "processing" => OrderStatus::Processing,
        "shipped" => OrderStatus::Shipped,
        "out_for_delivery" => OrderStatus::OutForDelivery,
        "delivered" => OrderStatus::Delivered,
        "cancelled" => OrderStatus::Cancelled,
        "returned" => OrderStatus::Returned,
        other => {
            return Err(Error::internal(format!(
                "ERP sent unknown order status `{other}`"
            )));
        }
    })
}

impl TryFrom<erp::OrderSummary> for OrderSummary {
    type Error = Error;
    fn try_from(o: erp::OrderSummary) -> Result<OrderSummary, Error> {
        Ok(OrderSummary {
            id: o.id,
            placed_at: o.placed_at,
            status: order_status(&o.status)?,
            total: o.total.into(),
            item_count: o.item_count,
        })
    }
}

impl TryFrom<erp::Order> for Order {
    type Error = Error;
    fn try_from(o: erp::Order) -> Result<Order, Error> {
        Ok(Order {
            id: o.id,
            contact_id: o.contact_id,
            placed_at: o.placed_at,
            status: order_status(&o.status)?,
            lines: o
                .lines
                .into_iter()
                .map(|l| OrderLine {
                    sku: l.sku,
                    name: l.name,
                    quantity: l.quantity,
                    unit_price: l.unit_price.into(),
                    line_total: l.line_total.into(),
                })
                .collect(),
            total: o.total.into(),
        })
    }
}

impl TryFrom<erp::Complaint> for Complaint {
    type Error = Error;
    fn try_from(c: erp::Complaint) -> Result<Complaint, Error> {
        let status = match c.status.as_str() {
            "open" => ComplaintStatus::Open,
            "in_progress" => ComplaintStatus::InProgress,
            "waiting_for_customer" => ComplaintStatus::WaitingForCustomer,
            "resolved" => ComplaintStatus::Resolved,
            "closed" => ComplaintStatus::Closed,
            other => {
                return Err(Error::internal(format!(
                    "ERP sent unknown complaint status `{other}`"
                )));
            }
        };
        Ok(Complaint {
            id: c.id,
            contact_id: c.contact_id,
            order_id: c.order_id,
            subject: c.subject,
            status,
            opened_at: c.opened_at,
            updated_at: c.updated_at,
            last_note: c.last_note,
        })
    }
}

voxgate_sdk::export!(
    DemoShop: contacts,
    orders,
    products,
    transactions,
    delivery,
    complaints,
    knowledge,
    escalation,
    recordings
);
