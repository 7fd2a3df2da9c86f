//! static-contacts: serves `contacts` from data compiled into the component, with no
//! outbound calls. It is the plugin side of the plugin-call benchmark (the webhook side
//! does the same lookup natively) and a minimal example of a plugin with no ERP.
//!
//! Known numbers are `+12025550000` to `+12025550999`.

use voxgate_sdk::contacts::{Contact, Contacts, Tier};
use voxgate_sdk::{CallContext, Error};

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
];
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
];

/// The lookup both benchmark sides perform: the contact for a number, if it is one of
/// ours. Kept byte-for-byte in step with the native webhook in the benchmark.
fn lookup(phone: &str) -> Option<(u32, &'static str, &'static str, u8)> {
    let n: u32 = phone.strip_prefix("+1202555")?.parse().ok()?;
    if phone.len() != 12 || n >= 1000 {
        return None;
    }
    let i = n as usize;
    Some((n, FIRST[i % 8], LAST[(i / 8) % 8], (n % 10) as u8))
}

struct StaticContacts;

impl Contacts for StaticContacts {
    fn lookup_by_phone(_ctx: CallContext, phone: String) -> Result<Contact, Error> {
        let (n, first, last, t) = lookup(&phone)
            .ok_or_else(|| Error::not_found(format!("no contact with number {phone}")))?;
        Ok(Contact {
            id: format!("s-{n:04}"),
            first_name: first.to_string(),
            last_name: last.to_string(),
            phone,
            email: None,
            language: Some("en".into()),
            tier: match t {
                0 => Tier::Vip,
                1..=3 => Tier::Preferred,
                _ => Tier::Standard,
            },
            company: Some("static".into()),
        })
    }
}

voxgate_sdk::export!(StaticContacts: contacts);
