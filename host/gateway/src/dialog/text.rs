//! What agents say: built-in English texts by key, which a tenant may replace per agent
//! (`[agents.NAME.messages]`), with `{placeholders}` filled per turn.

use std::collections::BTreeMap;

/// Every key with its English default.
const DEFAULTS: &[(&str, &str)] = &[
    (
        "anything-else",
        "Is there anything else I can help you with?",
    ),
    (
        "no-match",
        "Sorry, I did not catch that. You can ask about your order, a delivery, a product, or a complaint.",
    ),
    ("no-input", "Are you still there? How can I help you?"),
    ("goodbye", "Thank you for calling {tenant}. Goodbye."),
    (
        "not-identified",
        "I could not find an account for this phone number, so I cannot look that up by phone.",
    ),
    ("order-none", "I cannot find any orders for you."),
    (
        "order-status",
        "Your order {order} from {placed} is {status}.",
    ),
    (
        "delivery-eta",
        "It is with {carrier} and should arrive {eta}.",
    ),
    (
        "delivery-exception",
        "There is a problem with the delivery: {carrier} reported an exception. I can put you through to a colleague.",
    ),
    ("delivery-delivered", "It was delivered."),
    ("delivery-not-shipped", "It has not shipped yet."),
    (
        "repeat-confirm",
        "I can order this again: {summary}. Shall I place the order?",
    ),
    (
        "order-confirm",
        "That is {summary}. Shall I place the order?",
    ),
    ("order-placed", "Done. Your order number is {reference}."),
    ("order-dropped", "All right, I have not placed the order."),
    ("which-product", "Which product would you like?"),
    ("how-many", "How many {product} would you like?"),
    ("product-unknown", "Sorry, I could not find that product."),
    ("product-price", "The {product} costs {price}."),
    ("product-stock-none", "It is out of stock at the moment."),
    ("product-stock", "We have {stock} in stock."),
    ("frequent-none", "You have not ordered anything yet."),
    ("frequent", "You usually order {items}."),
    (
        "recommend-none",
        "I have no recommendations for you right now.",
    ),
    ("recommend", "You might like {items}."),
    ("promotions-none", "There are no promotions at the moment."),
    ("promotions", "Current offers: {items}."),
    ("complaint-none", "You have no open complaints."),
    (
        "complaint-status",
        "Your complaint about {subject} is {status}.",
    ),
    ("complaint-note", "The latest note says: {note}"),
    (
        "complaint-what",
        "I am sorry to hear that. What is the problem? For example, it arrived damaged, wrong item, or something is missing.",
    ),
    (
        "complaint-confirm",
        "I will open a complaint about {subject} for order {order}. Shall I go ahead?",
    ),
    (
        "complaint-opened",
        "Your complaint is open. The reference is {reference}.",
    ),
    (
        "complaint-dropped",
        "All right, I have not opened a complaint.",
    ),
    (
        "faq-unknown",
        "I am sorry, I do not know the answer to that. I can put you through to a colleague.",
    ),
    (
        "transfer",
        "I am putting you through to a colleague now. Please hold.",
    ),
    (
        "transfer-none",
        "I am sorry, nobody can take your call right now. I can arrange a call back instead. Would you like that?",
    ),
    (
        "callback-confirm",
        "Shall I ask a colleague to call you back on this number?",
    ),
    (
        "callback-opened",
        "A colleague will call you back. Your reference is {reference}.",
    ),
    ("callback-dropped", "All right."),
    (
        "system-error",
        "I am sorry, I cannot reach our system right now.",
    ),
    ("confirm-again", "Please say yes or no."),
];

/// The message keys tenants may override.
pub const KEYS: &[&str] = &[
    "anything-else",
    "no-match",
    "no-input",
    "goodbye",
    "not-identified",
    "order-none",
    "order-status",
    "delivery-eta",
    "delivery-exception",
    "delivery-delivered",
    "delivery-not-shipped",
    "repeat-confirm",
    "order-confirm",
    "order-placed",
    "order-dropped",
    "which-product",
    "how-many",
    "product-unknown",
    "product-price",
    "product-stock-none",
    "product-stock",
    "frequent-none",
    "frequent",
    "recommend-none",
    "recommend",
    "promotions-none",
    "promotions",
    "complaint-none",
    "complaint-status",
    "complaint-note",
    "complaint-what",
    "complaint-confirm",
    "complaint-opened",
    "complaint-dropped",
    "faq-unknown",
    "transfer",
    "transfer-none",
    "callback-confirm",
    "callback-opened",
    "callback-dropped",
    "system-error",
    "confirm-again",
];

pub fn is_key(key: &str) -> bool {
    KEYS.contains(&key)
}

/// An agent's texts: its overrides over the defaults.
#[derive(Debug, Clone, Default)]
pub struct Texts {
    overrides: BTreeMap<String, String>,
}

impl Texts {
    pub fn new(overrides: BTreeMap<String, String>) -> Texts {
        Texts { overrides }
    }

    /// The text for `key` with `{name}` placeholders filled from `values`.
    pub fn get(&self, key: &str, values: &[(&str, &str)]) -> String {
        let template = self
            .overrides
            .get(key)
            .map(String::as_str)
            .or_else(|| DEFAULTS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
            .unwrap_or(key);
        fill(template, values)
    }
}

/// Replaces `{name}` with its value; unknown placeholders are dropped rather than read
/// out as braces.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if let Some((_, v)) = values.iter().find(|(k, _)| *k == name) {
                    out.push_str(v);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    // A dropped placeholder leaves double spaces or a space before punctuation.
    let mut cleaned = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for p in [" .", " ,", " ?"] {
        cleaned = cleaned.replace(p, &p[1..]);
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_default_and_placeholders_fill() {
        for k in KEYS {
            assert!(DEFAULTS.iter().any(|(d, _)| d == k), "{k}");
        }
        assert_eq!(DEFAULTS.len(), KEYS.len());
        let t = Texts::new([("goodbye".to_string(), "Bye from {tenant}!".to_string())].into());
        assert_eq!(
            t.get("goodbye", &[("tenant", "Kvarner")]),
            "Bye from Kvarner!"
        );
        assert_eq!(
            t.get("order-status", &[("order", "40140"), ("status", "shipped")]),
            "Your order 40140 from is shipped."
        );
        assert_eq!(fill("Hello {first_name}, welcome.", &[]), "Hello, welcome.");
    }
}
