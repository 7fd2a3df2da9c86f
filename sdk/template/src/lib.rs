//! A voxgate plugin template: `contacts` from a CRM's REST API, and `knowledge` from a
//! small built-in FAQ. Replace both with your company's systems.
//!
//! Settings the operator gives your tenant: `crm-base-url` (required) and the secret
//! `crm-api-key` (optional). Build with `cargo build --release`; the component is
//! `target/wasm32-wasip2/release/my_plugin.wasm`.

use serde::Deserialize;
use voxgate_sdk::contacts::{Contact, Contacts, Tier};
use voxgate_sdk::http::{Request, encode};
use voxgate_sdk::knowledge::{FaqAnswer, Knowledge};
use voxgate_sdk::{CallContext, Error, config, log};

struct MyPlugin;

/// What your CRM returns; adapt the fields to its API.
#[derive(Deserialize)]
struct CrmContact {
    id: String,
    first_name: String,
    last_name: String,
    phone: String,
    email: Option<String>,
    language: Option<String>,
    tier: String,
}

impl Contacts for MyPlugin {
    fn lookup_by_phone(ctx: CallContext, phone: String) -> Result<Contact, Error> {
        let base = config::require("crm-base-url")?;
        let mut request = Request::get(&format!("{base}/contacts/by-phone/{}", encode(&phone)));
        if let Some(key) = config::secret("crm-api-key") {
            request = request.bearer(&key);
        }
        // `?` turns transport failures into the error cases voxgate acts on: a 404 is
        // `not-found`, an unreachable CRM is `unavailable`, a refused host is `denied`.
        let found: CrmContact = request.send()?.error_for_status()?.json()?;
        log::debug(&format!("call {}: found contact {}", ctx.call_id, found.id));
        Ok(Contact {
            id: found.id,
            first_name: found.first_name,
            last_name: found.last_name,
            phone: found.phone,
            email: found.email,
            language: found.language,
            tier: match found.tier.as_str() {
                "vip" => Tier::Vip,
                "preferred" => Tier::Preferred,
                _ => Tier::Standard,
            },
            company: None,
        })
    }
}

impl Knowledge for MyPlugin {
    fn answer(_ctx: CallContext, question: String) -> Result<FaqAnswer, Error> {
        let q = question.to_lowercase();
        let text = if q.contains("open") || q.contains("hours") {
            "We are open Monday to Friday from 8 to 18, and on Saturday from 9 to 13."
        } else if q.contains("return") {
            "You can return any item within 30 days of delivery."
        } else {
            return Err(Error::not_found("no FAQ entry matches"));
        };
        Ok(FaqAnswer {
            text: text.into(),
            source: Some("template-faq".into()),
            confidence: 80,
        })
    }
}

voxgate_sdk::export!(MyPlugin: contacts, knowledge);
