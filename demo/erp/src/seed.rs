//! Seed data for "Kvarner Home & Garden", all relative to the `now` the shop is
//! seeded with, so a test seeded with a fixed time sees the same answers every run.
//!
//! Phone numbers come from ranges reserved for fiction or never assigned to
//! subscribers: +44 20 7946 0xxx (Ofcom drama range), +1 202 555 01xx (NANP
//! fictional), +385 1 555 xxxx and +49 30 5555 xxxx (unassigned).

use crate::model::{
    Complaint, ComplaintStatus, Contact, DAY, Delivery, DeliveryStatus, HOUR, Language, MINUTE,
    Money, Order, OrderLine, OrderStatus, Product, Promotion, Tier, Timestamp,
};
use DeliveryStatus as D;
use OrderStatus as S;

pub struct Seed {
    pub contacts: Vec<Contact>,
    pub products: Vec<Product>,
    pub orders: Vec<Order>,
    pub deliveries: Vec<Delivery>,
    pub promotions: Vec<Promotion>,
    pub complaints: Vec<Complaint>,
}

/// (id, first name, last name, phone, e-mail, language, tier, company). One VIP, one
/// contact without an e-mail address, one (David) who has never ordered.
#[rustfmt::skip]
type ContactRow = (&'static str, &'static str, &'static str, &'static str, Option<&'static str>, Language, Tier, Option<&'static str>);

#[rustfmt::skip]
const CONTACTS: &[ContactRow] = &[
    ("c-1001", "Ana", "Horvat", "+38515550101", Some("ana.horvat@example.hr"), Language::Hr, Tier::Vip, None),
    ("c-1002", "Marko", "Kovačić", "+38515550102", None, Language::Hr, Tier::Standard, None),
    ("c-1003", "Lukas", "Schneider", "+493055550103", Some("lukas.schneider@example.de"), Language::De, Tier::Preferred, None),
    ("c-1004", "Sabine", "Weber", "+493055550104", Some("einkauf@weber-gartenbau.example.de"), Language::De, Tier::Preferred, Some("Weber Gartenbau GmbH")),
    ("c-1005", "Emily", "Clarke", "+442079460123", Some("emily.clarke@example.co.uk"), Language::En, Tier::Standard, None),
    ("c-1006", "Oliver", "Bennett", "+442079460456", Some("oliver.bennett@example.co.uk"), Language::En, Tier::Standard, None),
    ("c-1007", "Jessica", "Miller", "+12025550142", Some("jessica@millerlandscaping.example.com"), Language::En, Tier::Preferred, Some("Miller Landscaping LLC")),
    ("c-1008", "David", "Nguyen", "+12025550178", Some("david.nguyen@example.com"), Language::En, Tier::Standard, None),
];

/// (sku, name, description, category, unit, price in cents, stock). Names are what a
/// caller would say; two items are out of stock so "sorry, sold out" can be tested.
#[rustfmt::skip]
const PRODUCTS: &[(&str, &str, &str, &str, &str, i64, u32)] = &[
    ("KH-1001", "garden hose 25 metres", "Kink-resistant green hose with click connectors", "watering", "piece", 2999, 40),
    ("KH-1002", "garden hose 50 metres", "Extra long reinforced hose for large gardens", "watering", "piece", 4999, 12),
    ("KH-1003", "hose reel", "Wall-mounted reel that holds up to 50 metres of hose", "watering", "piece", 3499, 8),
    ("KH-1004", "spray nozzle", "Seven-pattern spray gun with comfort grip", "watering", "piece", 899, 60),
    ("KH-1005", "watering can 10 litres", "Galvanised steel can with brass rose", "watering", "piece", 1299, 25),
    ("KH-2001", "terracotta pot large", "Hand-made terracotta pot, 40 centimetres wide", "pots and planters", "piece", 2499, 30),
    ("KH-2002", "terracotta pot small", "Hand-made terracotta pot, 15 centimetres wide", "pots and planters", "piece", 799, 80),
    ("KH-2003", "raised garden bed", "Larch wood raised bed for vegetables, 120 by 80 centimetres", "pots and planters", "piece", 8999, 0),
    ("KH-2004", "hanging basket", "Woven basket with liner and chain for flowers", "pots and planters", "piece", 1499, 20),
    ("KH-3001", "lawn fertiliser 5 kilo", "Slow-release spring and summer lawn feed", "lawn care", "bag", 1999, 50),
    ("KH-3002", "grass seed 2 kilo", "Hard-wearing seed mix for family lawns", "lawn care", "bag", 1599, 35),
    ("KH-3003", "electric lawn mower", "Quiet 1600 watt mower with 38 centimetre cut", "lawn care", "piece", 19999, 5),
    ("KH-3004", "garden rake", "Steel rake with ash wood handle for lawns and beds", "lawn care", "piece", 1899, 15),
    ("KH-4001", "pruning shears", "Bypass secateurs for branches up to 2 centimetres", "garden tools", "piece", 2299, 22),
    ("KH-4002", "garden gloves", "Breathable work gloves with grip, one size", "garden tools", "pair", 699, 100),
    ("KH-4003", "wheelbarrow", "Galvanised 85 litre wheelbarrow with pneumatic tyre", "garden tools", "piece", 7999, 0),
    ("KH-4004", "hand trowel", "Stainless steel trowel for planting and potting", "garden tools", "piece", 599, 45),
    ("KH-5001", "potting soil 40 litres", "Peat-free compost for pots and containers", "soil and plants", "bag", 999, 70),
    ("KH-5002", "lavender plant", "Hardy English lavender in a 2 litre pot", "soil and plants", "piece", 599, 40),
    ("KH-5003", "olive tree", "Mediterranean olive tree, about 1 metre tall", "soil and plants", "piece", 6999, 6),
    ("KH-5004", "tomato seedlings six pack", "Six cherry tomato plants ready to plant out", "soil and plants", "pack", 499, 30),
    ("KH-6001", "teak garden bench", "Solid teak bench for three people", "outdoor furniture", "piece", 24999, 3),
    ("KH-6002", "folding garden chair", "Weatherproof folding chair with armrests", "outdoor furniture", "piece", 3999, 18),
    ("KH-6003", "patio parasol", "Tilting parasol, 3 metres wide, with crank", "outdoor furniture", "piece", 5999, 9),
    ("KH-7001", "solar garden lights set of ten", "Warm white solar path lights that switch on at dusk", "outdoor lighting", "set", 3499, 25),
    ("KH-7002", "outdoor lantern", "Black metal lantern for a candle or LED", "outdoor lighting", "piece", 2799, 14),
    ("KH-8001", "charcoal barbecue grill", "Kettle grill with lid, 57 centimetres", "barbecue", "piece", 12999, 7),
    ("KH-8002", "barbecue charcoal 10 kilo", "Restaurant-grade hardwood lump charcoal", "barbecue", "bag", 1499, 40),
];

/// How each seeded order's parcel is doing: carrier, tracking, ETA window as offsets
/// from `now`, an optional carrier note.
struct Shipment {
    status: DeliveryStatus,
    carrier: &'static str,
    tracking: &'static str,
    eta: Option<(i64, i64)>,
    updated_ago: i64,
    note: Option<&'static str>,
}

struct OrderRow {
    id: &'static str,
    contact: &'static str,
    ago: i64,
    status: OrderStatus,
    lines: &'static [(&'static str, u32)],
    shipment: Option<Shipment>,
}

const fn ship(
    status: DeliveryStatus,
    carrier: &'static str,
    tracking: &'static str,
    eta: Option<(i64, i64)>,
    updated_ago: i64,
    note: Option<&'static str>,
) -> Option<Shipment> {
    Some(Shipment {
        status,
        carrier,
        tracking,
        eta,
        updated_ago,
        note,
    })
}

#[rustfmt::skip]
const ORDERS: &[OrderRow] = &[
    OrderRow { id: "40101", contact: "c-1001", ago: 60 * DAY, status: S::Delivered, lines: &[("KH-3001", 2), ("KH-3002", 1)],
        shipment: ship(D::Delivered, "GLS", "GLS-HR-58217734", None, 57 * DAY, None) },
    OrderRow { id: "40104", contact: "c-1004", ago: 55 * DAY, status: S::Delivered, lines: &[("KH-2002", 10), ("KH-5001", 5)],
        shipment: ship(D::Delivered, "DHL", "00340434161094001234", None, 52 * DAY, None) },
    OrderRow { id: "40108", contact: "c-1002", ago: 45 * DAY, status: S::Delivered, lines: &[("KH-8001", 1), ("KH-8002", 2)],
        shipment: ship(D::Delivered, "GLS", "GLS-HR-58231190", None, 43 * DAY, None) },
    OrderRow { id: "40110", contact: "c-1005", ago: 42 * DAY, status: S::Delivered, lines: &[("KH-7001", 1), ("KH-7002", 1)],
        shipment: ship(D::Delivered, "DPD UK", "15501234567890", None, 38 * DAY, None) },
    OrderRow { id: "40112", contact: "c-1003", ago: 40 * DAY, status: S::Delivered, lines: &[("KH-1001", 1), ("KH-1004", 1), ("KH-1003", 1)],
        shipment: ship(D::Delivered, "DHL", "00340434161094005678", None, 37 * DAY, None) },
    OrderRow { id: "40115", contact: "c-1007", ago: 35 * DAY, status: S::Delivered, lines: &[("KH-5004", 2), ("KH-5001", 1), ("KH-4002", 1)],
        shipment: ship(D::Delivered, "UPS", "1Z999AA10123456784", None, 29 * DAY, None) },
    OrderRow { id: "40117", contact: "c-1001", ago: 30 * DAY, status: S::Delivered, lines: &[("KH-3001", 2), ("KH-4002", 1)],
        shipment: ship(D::Delivered, "GLS", "GLS-HR-58240012", None, 28 * DAY, None) },
    OrderRow { id: "40121", contact: "c-1002", ago: 20 * DAY, status: S::Cancelled, lines: &[("KH-3003", 1)], shipment: None },
    OrderRow { id: "40126", contact: "c-1004", ago: 25 * DAY, status: S::Returned, lines: &[("KH-4003", 1)],
        shipment: ship(D::Delivered, "DHL", "00340434161094009012", None, 22 * DAY, None) },
    OrderRow { id: "40129", contact: "c-1007", ago: 18 * DAY, status: S::Delivered, lines: &[("KH-5004", 2), ("KH-4004", 1)],
        shipment: ship(D::Delivered, "UPS", "1Z999AA10123459999", None, 13 * DAY, None) },
    OrderRow { id: "40131", contact: "c-1006", ago: 14 * DAY, status: S::Delivered, lines: &[("KH-2004", 1), ("KH-5002", 2)],
        shipment: ship(D::Delivered, "Royal Mail", "RM123456785GB", None, 10 * DAY, None) },
    OrderRow { id: "40135", contact: "c-1003", ago: 5 * DAY, status: S::Shipped, lines: &[("KH-6003", 1), ("KH-6002", 2)],
        shipment: ship(D::Exception, "DHL", "00340434161094013579", None, 20 * HOUR,
            Some("Delivery attempt failed: the house number could not be found")) },
    OrderRow { id: "40139", contact: "c-1002", ago: 3 * DAY, status: S::OutForDelivery, lines: &[("KH-8002", 2), ("KH-1001", 1)],
        shipment: ship(D::OutForDelivery, "GLS", "GLS-HR-58266431", Some((2 * HOUR, 5 * HOUR)), 90 * MINUTE, None) },
    OrderRow { id: "40140", contact: "c-1005", ago: 2 * DAY, status: S::Shipped, lines: &[("KH-3003", 1), ("KH-3002", 1)],
        shipment: ship(D::InTransit, "DPD UK", "15501234598765", Some((DAY, DAY + 6 * HOUR)), 6 * HOUR, None) },
    OrderRow { id: "40142", contact: "c-1001", ago: 2 * DAY, status: S::Shipped, lines: &[("KH-6001", 1), ("KH-2001", 2)],
        shipment: ship(D::InTransit, "GLS", "GLS-HR-58270218", Some((20 * HOUR, 26 * HOUR)), 4 * HOUR, None) },
    OrderRow { id: "40143", contact: "c-1007", ago: DAY, status: S::Confirmed, lines: &[("KH-5004", 2), ("KH-1002", 1)], shipment: None },
    OrderRow { id: "40144", contact: "c-1004", ago: DAY, status: S::Processing, lines: &[("KH-2002", 10), ("KH-5001", 4), ("KH-4001", 2)], shipment: None },
    OrderRow { id: "40146", contact: "c-1006", ago: 3 * HOUR, status: S::Pending, lines: &[("KH-1005", 1), ("KH-4004", 1)], shipment: None },
    OrderRow { id: "40148", contact: "c-1003", ago: 6 * HOUR, status: S::Confirmed, lines: &[("KH-5002", 3), ("KH-5001", 1)], shipment: None },
    OrderRow { id: "40150", contact: "c-1001", ago: HOUR, status: S::Pending, lines: &[("KH-5003", 1)], shipment: None },
];

/// (id, contact, order, subject, status, opened ago, updated ago, last note, description)
#[rustfmt::skip]
type ComplaintRow = (&'static str, &'static str, Option<&'static str>, &'static str, ComplaintStatus, i64, i64, Option<&'static str>, &'static str);

#[rustfmt::skip]
const COMPLAINTS: &[ComplaintRow] = &[
    ("CP-2001", "c-1001", Some("40117"), "garden gloves torn at the seam", ComplaintStatus::Resolved, 25 * DAY, 20 * DAY,
        Some("Replacement gloves sent free of charge."), "One glove tore at the thumb on the first day."),
    ("CP-2002", "c-1003", Some("40135"), "parasol delivery failed", ComplaintStatus::InProgress, DAY, 4 * HOUR,
        Some("DHL asked to retry delivery with the corrected house number."), "DHL says it cannot find my house."),
    ("CP-2003", "c-1004", Some("40126"), "wheelbarrow arrived with a bent wheel", ComplaintStatus::Closed, 24 * DAY, 15 * DAY,
        Some("Returned; refund of 79.99 EUR issued."), "The wheel rim is bent and the tyre rubs."),
    ("CP-2004", "c-1005", None, "payment page showed an error", ComplaintStatus::WaitingForCustomer, 3 * DAY, 2 * DAY,
        Some("Asked the customer for a screenshot of the error."), "Card payment failed twice with an unknown error."),
    ("CP-2005", "c-1002", Some("40108"), "barbecue grill lid does not close", ComplaintStatus::Open, 2 * DAY, 2 * DAY,
        None, "The lid hinge is misaligned so the lid stays open a few centimetres."),
];

/// (id, title, description, valid for days, sku, discount percent, VIP only)
#[rustfmt::skip]
type PromotionRow = (&'static str, &'static str, &'static str, i64, Option<&'static str>, Option<u8>, bool);

#[rustfmt::skip]
const PROMOTIONS: &[PromotionRow] = &[
    ("promo-spring-lawn", "Spring lawn care", "15 percent off lawn fertiliser 5 kilo for the next two weeks", 14, Some("KH-3001"), Some(15), false),
    ("promo-free-shipping", "Free shipping over 50 EUR", "Free shipping within Croatia and Germany on every order over 50 EUR", 30, None, None, false),
    ("promo-barbecue", "Barbecue season", "10 percent off the charcoal barbecue grill this week", 7, Some("KH-8001"), Some(10), false),
    ("promo-vip-teak", "VIP teak week", "20 percent off the teak garden bench for our VIP customers", 21, Some("KH-6001"), Some(20), true),
];

pub fn seed(now: Timestamp) -> Seed {
    let contacts = CONTACTS
        .iter()
        .map(
            |&(id, first, last, phone, email, lang, tier, company)| Contact {
                id: id.to_owned(),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                phone: phone.to_owned(),
                email: email.map(str::to_owned),
                language: Some(lang),
                tier,
                company: company.map(str::to_owned),
            },
        )
        .collect();

    let products: Vec<Product> = PRODUCTS
        .iter()
        .map(
            |&(sku, name, description, category, unit, price, stock)| Product {
                sku: sku.to_owned(),
                name: name.to_owned(),
                description: description.to_owned(),
                category: category.to_owned(),
                unit: unit.to_owned(),
                price: Money::eur(price),
                stock,
            },
        )
        .collect();

    let mut orders = Vec::new();
    let mut deliveries = Vec::new();
    for row in ORDERS {
        let lines: Vec<OrderLine> = row
            .lines
            .iter()
            .filter_map(|&(sku, qty)| {
                let product = products.iter().find(|p| p.sku == sku)?;
                Some(OrderLine::new(product, qty))
            })
            .collect();
        let placed_at = now.offset(-row.ago);
        let updated_at = row
            .shipment
            .as_ref()
            .map_or(placed_at, |s| now.offset(-s.updated_ago));
        orders.push(Order {
            id: row.id.to_owned(),
            contact_id: row.contact.to_owned(),
            placed_at,
            status: row.status,
            total: Order::total_of(&lines),
            lines,
            updated_at,
        });
        if let Some(s) = &row.shipment {
            deliveries.push(Delivery {
                order_id: row.id.to_owned(),
                status: s.status,
                carrier: Some(s.carrier.to_owned()),
                tracking: Some(s.tracking.to_owned()),
                eta_earliest: s.eta.map(|(from, _)| now.offset(from)),
                eta_latest: s.eta.map(|(_, to)| now.offset(to)),
                updated_at: now.offset(-s.updated_ago),
                note: s.note.map(str::to_owned),
            });
        }
    }
    orders.sort_by(|a, b| a.placed_at.cmp(&b.placed_at).then(a.id.cmp(&b.id)));

    let promotions = PROMOTIONS
        .iter()
        .map(
            |&(id, title, description, days, sku, discount_percent, vip_only)| Promotion {
                id: id.to_owned(),
                title: title.to_owned(),
                description: description.to_owned(),
                valid_until: now.offset(days * DAY),
                sku: sku.map(str::to_owned),
                discount_percent,
                vip_only,
            },
        )
        .collect();

    let complaints = COMPLAINTS
        .iter()
        .map(
            |&(id, contact, order, subject, status, opened, updated, note, description)| {
                Complaint {
                    id: id.to_owned(),
                    contact_id: contact.to_owned(),
                    order_id: order.map(str::to_owned),
                    subject: subject.to_owned(),
                    status,
                    opened_at: now.offset(-opened),
                    updated_at: now.offset(-updated),
                    last_note: note.map(str::to_owned),
                    description: description.to_owned(),
                }
            },
        )
        .collect();

    Seed {
        contacts,
        products,
        orders,
        deliveries,
        promotions,
        complaints,
    }
}
