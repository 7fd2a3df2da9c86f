//! # voxgate-sdk: write voxgate plugins in Rust
//!
//! A voxgate plugin is a WebAssembly component that serves one or more of voxgate's
//! business interfaces (contacts, orders, products, transactions, delivery, complaints,
//! knowledge, escalation, recordings) for one company. voxgate calls it during phone
//! calls; it answers from the company's systems, usually over HTTP.
//!
//! Implement the trait of each interface you serve, then name them in [`export!`]:
//!
//! ```no_run
//! use voxgate_sdk::contacts::{Contact, Contacts, Tier};
//! use voxgate_sdk::{CallContext, Error};
//!
//! struct Crm;
//!
//! impl Contacts for Crm {
//!     fn lookup_by_phone(ctx: CallContext, phone: String) -> Result<Contact, Error> {
//!         voxgate_sdk::log::info(&format!("lookup for call {}", ctx.call_id));
//!         if phone != "+442079460123" {
//!             return Err(Error::not_found(format!("no contact with {phone}")));
//!         }
//!         Ok(Contact {
//!             id: "c-1".into(),
//!             first_name: "Ada".into(),
//!             last_name: "Lovelace".into(),
//!             phone,
//!             email: None,
//!             language: Some("en".into()),
//!             tier: Tier::Vip,
//!             company: None,
//!         })
//!     }
//! }
//!
//! voxgate_sdk::export!(Crm: contacts);
//! # fn main() {}
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2` (crate type `cdylib`) and
//! check the result with `voxgate plugin check target/wasm32-wasip2/release/NAME.wasm`.
//!
//! Every call runs in a fresh instance: keep no state in statics between calls. Business
//! failures are [`Error`] values (the dialog chooses what the caller hears from the case);
//! a panic traps, fails the call, and the caller hears an apology.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
pub mod raw;

pub mod config;
pub mod http;
pub mod log;
mod types;

pub use types::{CallContext, Error, Money};

/// Who is calling: the tenant's CRM. See `wit/0.1.0/contacts.wit`.
pub mod contacts {
    pub use crate::raw::contacts_world::exports::voxgate::plugin::contacts::{
        Contact, Guest as Contacts, Tier,
    };
}

/// A customer's orders. See `wit/0.1.0/orders.wit`.
pub mod orders {
    pub use crate::raw::orders_world::exports::voxgate::plugin::orders::{
        Guest as Orders, Order, OrderLine, OrderStatus, OrderSummary,
    };
}

/// The catalogue. See `wit/0.1.0/products.wit`.
pub mod products {
    pub use crate::raw::products_world::exports::voxgate::plugin::products::{
        FrequentItem, Guest as Products, Product, Promotion,
    };
}

/// Two-phase changes. See `wit/0.1.0/transactions.wit`.
pub mod transactions {
    pub use crate::raw::transactions_world::exports::voxgate::plugin::transactions::{
        Committed, CreateOrder, Guest as Transactions, LineRequest, ModifyOrder, NewComplaint,
        Operation, Prepared,
    };
}

/// Delivery state and ETA. See `wit/0.1.0/delivery.wit`.
pub mod delivery {
    pub use crate::raw::delivery_world::exports::voxgate::plugin::delivery::{
        DeliveryEta, DeliveryStatus, Guest as Delivery,
    };
}

/// Complaints. See `wit/0.1.0/complaints.wit`.
pub mod complaints {
    pub use crate::raw::complaints_world::exports::voxgate::plugin::complaints::{
        Complaint, ComplaintStatus, Guest as Complaints,
    };
}

/// FAQ answers. See `wit/0.1.0/knowledge.wit`.
pub mod knowledge {
    pub use crate::raw::knowledge_world::exports::voxgate::plugin::knowledge::{
        FaqAnswer, Guest as Knowledge,
    };
}

/// Tickets, e-mail, WhatsApp, call-backs. See `wit/0.1.0/escalation.wit`.
pub mod escalation {
    pub use crate::raw::escalation_world::exports::voxgate::plugin::escalation::{
        Channel, Guest as Escalation, Priority, Ticket, TicketRequest,
    };
}

/// Recordings by reference. See `wit/0.1.0/recordings.wit`.
pub mod recordings {
    pub use crate::raw::recordings_world::exports::voxgate::plugin::recordings::{
        Guest as Recordings, Recording,
    };
}

/// Exports a type as the implementation of the listed interfaces.
///
/// ```no_run
/// # use voxgate_sdk::{CallContext, Error};
/// # use voxgate_sdk::knowledge::{FaqAnswer, Knowledge};
/// struct Faq;
/// impl Knowledge for Faq {
///     fn answer(_ctx: CallContext, _question: String) -> Result<FaqAnswer, Error> {
///         Err(Error::not_found("no FAQ yet"))
///     }
/// }
/// voxgate_sdk::export!(Faq: knowledge);
/// # fn main() {}
/// ```
///
/// Interfaces: `contacts`, `orders`, `products`, `transactions`, `delivery`,
/// `complaints`, `knowledge`, `escalation`, `recordings`. The type must implement the
/// matching trait (`contacts::Contacts`, …) for each one listed, and only those are
/// exported, so voxgate binds exactly them to this plugin.
#[macro_export]
macro_rules! export {
    ($ty:ident : $($iface:ident),+ $(,)?) => {
        $( $crate::__export_interface!($iface, $ty); )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_interface {
    (contacts, $ty:ident) => {
        $crate::raw::contacts_world::__export_contacts!($ty);
    };
    (orders, $ty:ident) => {
        $crate::raw::orders_world::__export_orders!($ty);
    };
    (products, $ty:ident) => {
        $crate::raw::products_world::__export_products!($ty);
    };
    (transactions, $ty:ident) => {
        $crate::raw::transactions_world::__export_transactions!($ty);
    };
    (delivery, $ty:ident) => {
        $crate::raw::delivery_world::__export_delivery!($ty);
    };
    (complaints, $ty:ident) => {
        $crate::raw::complaints_world::__export_complaints!($ty);
    };
    (knowledge, $ty:ident) => {
        $crate::raw::knowledge_world::__export_knowledge!($ty);
    };
    (escalation, $ty:ident) => {
        $crate::raw::escalation_world::__export_escalation!($ty);
    };
    (recordings, $ty:ident) => {
        $crate::raw::recordings_world::__export_recordings!($ty);
    };
    ($other:ident, $ty:ident) => {
        compile_error!(concat!(
            "`",
            stringify!($other),
            "` is not a voxgate interface; use contacts, orders, products, ",
            "transactions, delivery, complaints, knowledge, escalation or recordings"
        ));
    };
}
