//! chaos: a plugin that misbehaves on request, for the runtime's isolation tests.
//!
//! `knowledge.answer(question)`:
//! - `loop`: spins forever (the deadline must stop it);
//! - `bomb`: allocates until memory runs out (the memory limit must stop it);
//! - `trap`: panics (one failed call, the next one fine);
//! - `http URL`: fetches URL and answers with the status (the allow-list decides);
//! - `config KEY` / `secret KEY`: answers with the tenant setting;
//! - anything else: echoes the question.
//!
//! `contacts.lookup-by-phone` answers a fixed contact whose company is `chaos`, so tests
//! can tell this plugin from another that serves contacts.

use voxgate_sdk::contacts::{Contact, Contacts, Tier};
use voxgate_sdk::knowledge::{FaqAnswer, Knowledge};
use voxgate_sdk::{CallContext, Error, config, http, log};

struct Chaos;

fn answer(text: String) -> FaqAnswer {
    FaqAnswer {
        text,
        source: Some("chaos".into()),
        confidence: 100,
    }
}

impl Knowledge for Chaos {
    #[allow(clippy::panic)]
    fn answer(_ctx: CallContext, question: String) -> Result<FaqAnswer, Error> {
        let (cmd, arg) = question.split_once(' ').unwrap_or((question.as_str(), ""));
        match cmd {
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => panic!("chaos was asked to trap"),
            "http" => {
                let response = http::Request::get(arg).send()?;
                Ok(answer(format!("status {}", response.status())))
            }
            "config" => Ok(answer(config::get(arg).unwrap_or_else(|| "<unset>".into()))),
            "secret" => Ok(answer(
                config::secret(arg).unwrap_or_else(|| "<unset>".into()),
            )),
            _ => {
                log::info(&format!("echo: {question}"));
                Ok(answer(question))
            }
        }
    }
}

impl Contacts for Chaos {
    fn lookup_by_phone(_ctx: CallContext, phone: String) -> Result<Contact, Error> {
        Ok(Contact {
            id: "chaos-1".into(),
            first_name: "Chaos".into(),
            last_name: "Monkey".into(),
            phone,
            email: None,
            language: None,
            tier: Tier::Standard,
            company: Some("chaos".into()),
        })
    }
}

voxgate_sdk::export!(Chaos: knowledge, contacts);
