//! One call's conversation with a tenant's agent: the built-in intent engine.
//!
//! Per turn it gives the recognizer the phrases valid now (the agent's intents with the
//! catalog's product names, or yes/no, a quantity, a product, a complaint subject),
//! maps what was said or keyed to an intent and its slots, asks for what is missing,
//! runs the skill through the tenant's plugins and answers. Changes are two-phase:
//! `prepare`, read the summary back, and only a "yes" commits; "no", silence or a
//! hang-up aborts. A plugin that fails never leaves the caller in silence: read-only
//! calls are retried once when the plugin says it is unavailable, and then the caller
//! hears an apology and is put through to a human (or offered a call back).

use std::sync::Arc;
use std::time::{Duration, Instant};

use voxgate_runtime::{
    CallContext, CallError, PluginError, Session, contacts, escalation, transactions,
};

use super::TenantRuntime;
use super::intents::{self, Intent, Meaning, SpokenProduct, TurnGrammar};
use super::record::{self, CallRecord, PluginCall, TransactionRef, Turn};
use super::speak;
use super::text::Texts;
use crate::conversation::{
    BoxFuture, Conversation, DEFAULT_END_SILENCE, DtmfCollect, Listen, Next, Prompt, Reply,
    TurnInput,
};
use crate::sip::events::CallEvent;
use crate::tenant::AgentConfig;

/// Keys of the yes/no turn: 1 yes, 2 no.
const DTMF_YES: &str = "1";
const DTMF_NO: &str = "2";
/// Below this, a FAQ answer is not read out (the knowledge base is guessing).
const FAQ_MIN_CONFIDENCE: u8 = 40;
/// Consecutive no-inputs or no-matches before the call ends (or goes to a human).
const MAX_MISSES: u32 = 3;

/// Where the conversation is.
#[derive(Debug)]
enum State {
    Menu,
    /// A prepared change waiting for yes or no.
    Confirm(Pending),
    AskProduct {
        quantity: Option<u32>,
    },
    AskQuantity {
        product: usize,
    },
    ComplaintSubject {
        order: Option<String>,
    },
    /// Offered a call back (yes / no).
    OfferCallback,
    Ended,
}

#[derive(Debug)]
struct Pending {
    kind: &'static str,
    prepared: transactions::Prepared,
    record_index: usize,
    /// Its row in the tenant's journal.
    logged: Option<super::journal::Logged>,
}

/// The agent's conversation with one caller.
pub struct AgentConversation {
    tenant: Arc<TenantRuntime>,
    agent: AgentConfig,
    texts: Texts,
    session: Session,
    ctx: CallContext,
    now: jiff::Timestamp,
    contact: Option<contacts::Contact>,
    products: Arc<Vec<SpokenProduct>>,
    menu: TurnGrammar,
    state: State,
    misses: u32,
    record: CallRecord,
    started: Instant,
    /// Turns and plugin calls already reported as live events.
    reported: (usize, usize),
}

impl std::fmt::Debug for AgentConversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConversation")
            .field("tenant", &self.tenant.config.id)
            .field("call_id", &self.ctx.call_id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Runs one plugin function, once more on `unavailable` when `retry` (read-only calls,
/// and `commit`, which is idempotent), and notes it in the call record.
macro_rules! plugin {
    ($self:ident, $function:literal, $args:expr, retry: $retry:expr, |$s:ident, $c:ident| $call:expr) => {{
        let args: String = $args;
        let $s = &$self.session;
        let $c = &$self.ctx;
        let mut result = $call.await;
        if $retry && matches!(&result, Err(CallError::Plugin(PluginError::Unavailable(_)))) {
            result = $call.await;
        }
        $self.note_call($function, args, &result);
        result
    }};
}

impl AgentConversation {
    /// A conversation for a call from `caller` to `called`, answered by the agent the
    /// schedule picks at `now`.
    pub fn new(
        tenant: Arc<TenantRuntime>,
        call_id: &str,
        caller: &str,
        called: &str,
        now: jiff::Timestamp,
    ) -> AgentConversation {
        let choice = tenant.agent_at(now);
        let agent = tenant
            .config
            .agents
            .get(&choice.agent)
            .or_else(|| tenant.config.agents.values().next())
            .cloned()
            .unwrap_or_else(|| AgentConfig {
                language: "en".into(),
                voice: "espeak-ng".into(),
                greeting: "Hello.".into(),
                greeting_unknown: None,
                intents: None,
                escalation: None,
                vip_escalation: None,
                phrases: Default::default(),
                faq: Vec::new(),
                messages: Default::default(),
                dtmf: Default::default(),
                no_input_ms: 6000,
            });
        let session = tenant.plugins.session(call_id);
        let ctx = CallContext {
            tenant: tenant.config.id.clone(),
            call_id: call_id.to_string(),
            caller: caller.to_string(),
            called: called.to_string(),
            language: agent.language.clone(),
            idempotency_key: None,
        };
        let record = CallRecord {
            call_id: call_id.to_string(),
            tenant: tenant.config.id.clone(),
            caller: caller.to_string(),
            called: called.to_string(),
            started_at: now.to_string(),
            agents: vec![record::AgentUse {
                name: choice.agent.clone(),
                reason: format!("{:?}", choice.reason),
            }],
            outcome: "caller-hung-up".into(),
            plugin_versions: session
                .plugins()
                .versions()
                .iter()
                .map(|v| v.short_id().to_string())
                .collect(),
            ..CallRecord::default()
        };
        AgentConversation {
            texts: Texts::new(agent.messages.clone()),
            agent,
            tenant,
            session,
            ctx,
            now,
            contact: None,
            products: Arc::new(Vec::new()),
            menu: TurnGrammar::default(),
            state: State::Menu,
            misses: 0,
            record,
            started: Instant::now(),
            reported: (0, 0),
        }
    }

    fn note_call<T: std::fmt::Debug>(
        &mut self,
        function: &str,
        arguments: String,
        result: &Result<T, CallError>,
    ) {
        let report = self.session.reports().pop();
        let (outcome, result) = match result {
            Ok(v) => ("ok".to_string(), format!("{v:?}")),
            Err(e) => (e.kind().to_string(), e.to_string()),
        };
        self.record.plugin_calls.push(PluginCall {
            function: function.to_string(),
            arguments: record::brief(arguments),
            outcome,
            result: record::brief(result),
            duration_us: report.as_ref().map_or(0, |r| r.duration.as_micros() as u64),
            plugin: report
                .as_ref()
                .map(|r| r.plugin.clone())
                .unwrap_or_default(),
            version: report.map(|r| r.version).unwrap_or_default(),
        });
    }

    fn text(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut all: Vec<(&str, &str)> = values.to_vec();
        all.push(("tenant", &self.tenant.config.name));
        self.texts.get(key, &all)
    }

    fn intents(&self) -> Vec<Intent> {
        self.agent
            .intents
            .clone()
            .unwrap_or_else(|| Intent::ALL.to_vec())
    }

    fn listen(&self, grammar: &TurnGrammar, dtmf: DtmfCollect) -> Next {
        Next::Listen(Listen {
            grammar: (!grammar.is_empty()).then(|| grammar.recognizer_grammar()),
            end_silence: DEFAULT_END_SILENCE,
            no_input: Some(Duration::from_millis(self.agent.no_input_ms.max(1000))),
            barge_in: true,
            dtmf,
        })
    }

    fn one_key() -> DtmfCollect {
        DtmfCollect {
            max_digits: 1,
            ..DtmfCollect::default()
        }
    }

    /// The reply for the current state: `said`, then the turn that state expects.
    fn reply(&mut self, said: String) -> Reply {
        let next = match &self.state {
            State::Menu => self.listen(&self.menu, Self::one_key()),
            State::Confirm(_) | State::OfferCallback => {
                self.listen(&intents::yes_no(), Self::one_key())
            }
            State::AskProduct { .. } => self.listen(
                &intents::product_names(&self.products, &|w| self.tenant.knows(w)),
                DtmfCollect::default(),
            ),
            State::AskQuantity { .. } => {
                self.listen(&intents::quantities(), DtmfCollect::default())
            }
            State::ComplaintSubject { .. } => {
                self.listen(&intents::complaint_subjects(), Self::one_key())
            }
            State::Ended => Next::Hangup,
        };
        self.say(said, next)
    }

    fn say(&mut self, text: String, next: Next) -> Reply {
        self.record.turns.push(Turn {
            who: "agent",
            text: text.clone(),
            input: None,
            intent: None,
            confidence: None,
        });
        Reply {
            say: (!text.is_empty()).then(|| Prompt::Text {
                text,
                language: self.agent.language.clone(),
                voice: self.agent.voice.clone(),
            }),
            next,
        }
    }

    /// A skill's answer followed by "anything else?".
    fn answered(&mut self, text: String) -> Reply {
        self.state = State::Menu;
        let more = self.text("anything-else", &[]);
        self.reply(format!("{text} {more}"))
    }

    fn goodbye(&mut self) -> Reply {
        self.state = State::Ended;
        self.record.outcome = "completed".into();
        let text = self.text("goodbye", &[]);
        self.say(text, Next::Hangup)
    }

    /// Puts the caller through to a human: the agent's target (VIP callers to the
    /// priority one); without a target, a call back is offered.
    fn transfer(&mut self, before: Option<String>) -> Reply {
        let vip = self
            .contact
            .as_ref()
            .is_some_and(|c| c.tier == contacts::Tier::Vip);
        let target = if vip {
            self.agent
                .vip_escalation
                .clone()
                .or_else(|| self.agent.escalation.clone())
        } else {
            self.agent.escalation.clone()
        };
        let prefix = before.map(|b| format!("{b} ")).unwrap_or_default();
        match target {
            Some(t) => {
                self.state = State::Ended;
                self.record.transfers.push(t.clone());
                if self.record.outcome != "escalated-after-error" {
                    self.record.outcome = "transferred".into();
                }
                let text = format!("{prefix}{}", self.text("transfer", &[]));
                self.say(text, Next::Transfer(t))
            }
            None => {
                self.state = State::OfferCallback;
                let text = format!("{prefix}{}", self.text("transfer-none", &[]));
                self.reply(text)
            }
        }
    }

    /// A plugin call failed in a way the caller cannot fix: apologise and escalate.
    fn system_error(&mut self) -> Reply {
        self.record.outcome = "escalated-after-error".into();
        let sorry = self.text("system-error", &[]);
        self.transfer(Some(sorry))
    }

    /// Whether an error is the system failing (as opposed to a business answer).
    fn is_failure(e: &CallError) -> bool {
        match e {
            CallError::Plugin(p) => matches!(
                p,
                PluginError::Unavailable(_) | PluginError::Internal(_) | PluginError::Denied(_)
            ),
            _ => true,
        }
    }

    fn contact_id(&self) -> Option<String> {
        self.contact.as_ref().map(|c| c.id.clone())
    }

    async fn greet(&mut self) -> Reply {
        // Product names and the dictionary first: the greeting's turn listens with them.
        self.products = self.tenant.products(&self.session).await;
        let words = intents::vocabulary(&self.intents(), &self.agent.phrases, &self.agent.faq);
        self.tenant.learn_words(words).await;
        let tenant = self.tenant.clone();
        self.menu = intents::main_menu(
            &self.intents(),
            &self.agent.phrases,
            &self.agent.faq,
            &self.products,
            &|w| tenant.knows(w),
        );
        if !self.ctx.caller.is_empty() {
            let phone = self.ctx.caller.clone();
            match plugin!(self, "contacts.lookup-by-phone", phone.clone(), retry: true,
                |s, c| s.lookup_contact(c, &phone))
            {
                Ok(contact) => {
                    self.record.contact = Some(record::ContactRef {
                        id: contact.id.clone(),
                        name: format!("{} {}", contact.first_name, contact.last_name),
                        tier: format!("{:?}", contact.tier).to_lowercase(),
                    });
                    self.contact = Some(contact);
                }
                Err(e) if Self::is_failure(&e) => {
                    tracing::warn!(call = %self.ctx.call_id, "contact lookup failed: {e}");
                }
                Err(_) => {}
            }
        }
        let text = match &self.contact {
            Some(c) => crate::dialog::text::fill(
                &self.agent.greeting,
                &[
                    ("first_name", &c.first_name),
                    ("last_name", &c.last_name),
                    ("company", c.company.as_deref().unwrap_or_default()),
                    ("tenant", &self.tenant.config.name),
                ],
            ),
            None => match &self.agent.greeting_unknown {
                Some(g) => crate::dialog::text::fill(g, &[("tenant", &self.tenant.config.name)]),
                None => crate::dialog::text::fill(
                    &self.agent.greeting,
                    &[("tenant", &self.tenant.config.name)],
                ),
            },
        };
        self.state = State::Menu;
        self.reply(text)
    }

    async fn on_input(&mut self, input: TurnInput) -> Reply {
        let (said, kind, confidence) = match &input {
            TurnInput::Speech { text, confidence } => (text.clone(), "speech", Some(*confidence)),
            TurnInput::Dtmf { digits } => (digits.clone(), "dtmf", None),
            TurnInput::NoInput => (String::new(), "no-input", None),
            TurnInput::NoMatch => (String::new(), "no-match", None),
        };
        self.record.turns.push(Turn {
            who: "caller",
            text: said.clone(),
            input: Some(kind),
            intent: None,
            confidence,
        });
        match input {
            TurnInput::NoInput => return self.missed("no-input").await,
            TurnInput::NoMatch => return self.missed("no-match").await,
            _ => {}
        }
        let meaning = match (&self.state, &input) {
            (State::Menu, TurnInput::Dtmf { digits }) => {
                self.agent
                    .dtmf
                    .get(digits.as_str())
                    .map(|&intent| Meaning::Intent {
                        intent,
                        product: None,
                        quantity: None,
                        text: String::new(),
                    })
            }
            (State::Confirm(_) | State::OfferCallback, TurnInput::Dtmf { digits }) => {
                match digits.as_str() {
                    DTMF_YES => Some(Meaning::Yes),
                    DTMF_NO => Some(Meaning::No),
                    _ => None,
                }
            }
            (State::AskQuantity { .. }, TurnInput::Dtmf { digits }) => {
                digits.parse().ok().filter(|n| *n > 0).map(Meaning::Number)
            }
            (_, TurnInput::Dtmf { .. }) => None,
            (_, _) => self.grammar().understand(&said).map(|(m, _)| m),
        };
        let Some(meaning) = meaning else {
            return self.missed("no-match").await;
        };
        self.misses = 0;
        if let (Some(turn), Meaning::Intent { intent, .. }) =
            (self.record.turns.last_mut(), &meaning)
        {
            turn.intent = Some(intent.name().to_string());
        }
        self.act(meaning, said).await
    }

    fn grammar(&self) -> TurnGrammar {
        match &self.state {
            State::Menu | State::Ended => self.menu.clone(),
            State::Confirm(_) | State::OfferCallback => intents::yes_no(),
            State::AskProduct { .. } => {
                intents::product_names(&self.products, &|w| self.tenant.knows(w))
            }
            State::AskQuantity { .. } => intents::quantities(),
            State::ComplaintSubject { .. } => intents::complaint_subjects(),
        }
    }

    async fn missed(&mut self, why: &str) -> Reply {
        self.misses += 1;
        if self.misses >= MAX_MISSES {
            if let State::Confirm(_) = self.state {
                self.drop_pending("no answer").await;
            }
            return if self.agent.escalation.is_some() && why == "no-match" {
                self.transfer(None)
            } else {
                self.goodbye()
            };
        }
        let key = match (&self.state, why) {
            (State::Confirm(_) | State::OfferCallback, _) => "confirm-again",
            (_, "no-input") => "no-input",
            _ => "no-match",
        };
        let text = self.text(key, &[]);
        self.reply(text)
    }

    async fn act(&mut self, meaning: Meaning, said: String) -> Reply {
        let state = std::mem::replace(&mut self.state, State::Menu);
        match (state, meaning) {
            (State::Confirm(p), Meaning::Yes) => self.commit(p).await,
            (State::Confirm(p), Meaning::No) => {
                let key = if p.kind == "open-complaint" {
                    "complaint-dropped"
                } else {
                    "order-dropped"
                };
                self.state = State::Confirm(p);
                self.drop_pending("caller said no").await;
                let text = self.text(key, &[]);
                self.answered(text)
            }
            (State::OfferCallback, Meaning::Yes) => self.callback().await,
            (State::OfferCallback, Meaning::No) => {
                let text = self.text("callback-dropped", &[]);
                self.answered(text)
            }
            (State::AskProduct { quantity }, Meaning::Product(i)) => match quantity {
                Some(q) => self.new_order(i, q).await,
                None => {
                    self.state = State::AskQuantity { product: i };
                    let name = self.product_name(i);
                    let text = self.text("how-many", &[("product", &name)]);
                    self.reply(text)
                }
            },
            (State::AskQuantity { product }, Meaning::Number(q)) => {
                self.new_order(product, q).await
            }
            (State::ComplaintSubject { order }, Meaning::Subject(subject)) => {
                self.open_complaint(order, subject, said).await
            }
            (
                _,
                Meaning::Intent {
                    intent,
                    product,
                    quantity,
                    text,
                },
            ) => self.skill(intent, product, quantity, text).await,
            (state, _) => {
                // A valid phrase of another turn: ask again in this one.
                self.state = state;
                self.missed("no-match").await
            }
        }
    }

    fn product_name(&self, i: usize) -> String {
        self.products
            .get(i)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    }

    async fn skill(
        &mut self,
        intent: Intent,
        product: Option<usize>,
        quantity: Option<u32>,
        text: String,
    ) -> Reply {
        let needs_contact = matches!(
            intent,
            Intent::OrderStatus
                | Intent::RepeatOrder
                | Intent::NewOrder
                | Intent::FrequentItems
                | Intent::Recommendations
                | Intent::ComplaintStatus
                | Intent::OpenComplaint
        );
        if needs_contact && self.contact.is_none() {
            let t = self.text("not-identified", &[]);
            return self.answered(t);
        }
        match intent {
            Intent::OrderStatus => self.order_status().await,
            Intent::RepeatOrder => self.repeat_order().await,
            Intent::NewOrder => match (product, quantity) {
                (Some(p), Some(q)) => self.new_order(p, q).await,
                (Some(p), None) => {
                    self.state = State::AskQuantity { product: p };
                    let name = self.product_name(p);
                    let t = self.text("how-many", &[("product", &name)]);
                    self.reply(t)
                }
                (None, q) => {
                    self.state = State::AskProduct { quantity: q };
                    let t = self.text("which-product", &[]);
                    self.reply(t)
                }
            },
            Intent::ProductPrice => self.price(product).await,
            Intent::FrequentItems => self.frequent().await,
            Intent::Recommendations => self.recommend().await,
            Intent::Promotions => self.promotions().await,
            Intent::ComplaintStatus => self.complaint_status().await,
            Intent::OpenComplaint => {
                let order = self.last_order_id().await;
                self.state = State::ComplaintSubject { order };
                let t = self.text("complaint-what", &[]);
                self.reply(t)
            }
            Intent::Faq => self.faq(&text).await,
            Intent::Human => self.transfer(None),
            Intent::Callback => {
                self.state = State::OfferCallback;
                let t = self.text("callback-confirm", &[]);
                self.reply(t)
            }
            Intent::Goodbye => self.goodbye(),
        }
    }

    async fn last_order_id(&mut self) -> Option<String> {
        let id = self.contact_id()?;
        let orders = plugin!(self, "orders.list-recent", format!("{id}, 1"), retry: true,
            |s, c| s.recent_orders(c, &id, 1))
        .ok()?;
        orders.first().map(|o| o.id.clone())
    }

    async fn order_status(&mut self) -> Reply {
        let Some(id) = self.contact_id() else {
            return self.system_error();
        };
        let orders = match plugin!(self, "orders.list-recent", format!("{id}, 5"), retry: true,
            |s, c| s.recent_orders(c, &id, 5))
        {
            Ok(o) => o,
            Err(e) if Self::is_failure(&e) => return self.system_error(),
            Err(_) => Vec::new(),
        };
        // The order on its way, else the latest.
        let Some(order) = orders
            .iter()
            .find(|o| speak::in_flight(o.status))
            .or_else(|| orders.first())
            .cloned()
        else {
            let t = self.text("order-none", &[]);
            return self.answered(t);
        };
        let placed = speak::date(&order.placed_at, &self.tenant.tz);
        let mut text = self.text(
            "order-status",
            &[
                ("order", &order.id),
                ("placed", &placed),
                ("status", speak::order_status(order.status)),
            ],
        );
        let order_id = order.id.clone();
        match plugin!(self, "delivery.eta", order_id.clone(), retry: true,
            |s, c| s.delivery_eta(c, &order_id))
        {
            Ok(d) => {
                let carrier = d.carrier.clone().unwrap_or_else(|| "the carrier".into());
                use voxgate_runtime::delivery::DeliveryStatus as D;
                let more = match d.status {
                    D::Delivered => self.text("delivery-delivered", &[]),
                    D::NotShipped => self.text("delivery-not-shipped", &[]),
                    D::Exception => self.text("delivery-exception", &[("carrier", &carrier)]),
                    D::InTransit | D::OutForDelivery => match speak::eta(
                        d.eta_earliest.as_deref(),
                        d.eta_latest.as_deref(),
                        self.now,
                        &self.tenant.tz,
                    ) {
                        Some(eta) => {
                            self.text("delivery-eta", &[("carrier", &carrier), ("eta", &eta)])
                        }
                        None => String::new(),
                    },
                };
                text = format!("{text} {more}");
            }
            Err(e) if Self::is_failure(&e) => return self.system_error(),
            Err(_) => {}
        }
        self.answered(text)
    }

    async fn prepare(
        &mut self,
        kind: &'static str,
        op: transactions::Operation,
    ) -> Result<Pending, Reply> {
        // Logged before `prepare`, with the idempotency key the plugin gets: a retried
        // prepare after a crash finds the same reservation instead of making a second.
        let version = self
            .session
            .plugins()
            .get(voxgate_runtime::Capability::Transactions)
            .map(|v| v.short_id().to_string())
            .unwrap_or_default();
        let logged = match &self.tenant.journal {
            Some(j) => match j
                .begin(&self.ctx.tenant, &self.ctx.call_id, &op, &version)
                .await
            {
                Ok(l) => Some(l),
                Err(e) => {
                    // Without the log a crash could lose the caller's yes: no changes
                    // are taken by phone until it works again.
                    tracing::error!(call = %self.ctx.call_id, "transaction journal: {e}");
                    return Err(self.system_error());
                }
            },
            None => None,
        };
        let key = logged.as_ref().map_or_else(
            || {
                format!(
                    "{}-{}",
                    self.ctx.call_id,
                    self.record.transactions.len() + 1
                )
            },
            |l| l.key.clone(),
        );
        let mut ctx = self.ctx.clone();
        ctx.idempotency_key = Some(key);
        let args = format!("{op:?}");
        let result = self.session.prepare(&ctx, &op).await;
        self.note_call("transactions.prepare", args, &result);
        match result {
            Ok(prepared) => {
                if let (Some(j), Some(l)) = (&self.tenant.journal, &logged) {
                    j.prepared(l.id, &prepared).await;
                }
                super::journal::pause_point("after-prepare").await;
                self.record.transactions.push(TransactionRef {
                    kind: kind.to_string(),
                    transaction_id: prepared.transaction_id.clone(),
                    summary: prepared.summary.clone(),
                    state: "prepared".into(),
                    reference: None,
                });
                Ok(Pending {
                    kind,
                    record_index: self.record.transactions.len() - 1,
                    prepared,
                    logged,
                })
            }
            Err(CallError::Plugin(
                PluginError::Invalid(m) | PluginError::Conflict(m) | PluginError::NotFound(m),
            )) => {
                tracing::info!(call = %self.ctx.call_id, "prepare refused: {m}");
                if let (Some(j), Some(l)) = (&self.tenant.journal, &logged) {
                    j.aborted(l.id, &format!("prepare refused: {m}")).await;
                }
                let t = self.text("product-unknown", &[]);
                Err(self.answered(t))
            }
            Err(e) => {
                // Whether the plugin reserved anything is unknown: the row stays
                // `preparing`, and recovery re-prepares with the key and aborts.
                tracing::warn!(call = %self.ctx.call_id, "prepare failed: {e}");
                Err(self.system_error())
            }
        }
    }

    fn confirm(&mut self, key: &str, p: Pending, values: &[(&str, &str)]) -> Reply {
        let total = p
            .prepared
            .total
            .as_ref()
            .map(speak::money)
            .unwrap_or_default();
        let mut all = vec![
            ("summary", p.prepared.summary.as_str()),
            ("total", total.as_str()),
        ];
        all.extend_from_slice(values);
        let text = self.text(key, &all);
        self.state = State::Confirm(p);
        self.reply(text)
    }

    async fn repeat_order(&mut self) -> Reply {
        let Some(order) = self.last_order_id().await else {
            let t = self.text("order-none", &[]);
            return self.answered(t);
        };
        match self
            .prepare("repeat-order", transactions::Operation::RepeatOrder(order))
            .await
        {
            Ok(p) => self.confirm("repeat-confirm", p, &[]),
            Err(reply) => reply,
        }
    }

    async fn new_order(&mut self, product: usize, quantity: u32) -> Reply {
        let (Some(contact_id), Some(p)) = (self.contact_id(), self.products.get(product).cloned())
        else {
            let t = self.text("product-unknown", &[]);
            return self.answered(t);
        };
        let op = transactions::Operation::CreateOrder(transactions::CreateOrder {
            contact_id,
            lines: vec![transactions::LineRequest {
                sku: p.sku.clone(),
                quantity,
            }],
        });
        match self.prepare("create-order", op).await {
            Ok(p) => self.confirm("order-confirm", p, &[]),
            Err(reply) => reply,
        }
    }

    async fn open_complaint(
        &mut self,
        order: Option<String>,
        subject: &str,
        said: String,
    ) -> Reply {
        let Some(contact_id) = self.contact_id() else {
            return self.system_error();
        };
        let op = transactions::Operation::OpenComplaint(transactions::NewComplaint {
            contact_id,
            order_id: order.clone(),
            subject: subject.to_string(),
            description: said,
        });
        match self.prepare("open-complaint", op).await {
            Ok(p) => self.confirm(
                "complaint-confirm",
                p,
                &[
                    ("subject", subject),
                    ("order", order.as_deref().unwrap_or("your account")),
                ],
            ),
            Err(reply) => reply,
        }
    }

    async fn commit(&mut self, p: Pending) -> Reply {
        if let (Some(j), Some(l)) = (&self.tenant.journal, &p.logged) {
            j.confirmed(l.id).await;
        }
        super::journal::pause_point("after-confirm").await;
        let id = p.prepared.transaction_id.clone();
        // Commit is idempotent: one retry covers a plugin that was briefly unavailable.
        let committed = plugin!(self, "transactions.commit", id.clone(), retry: true,
            |s, c| s.commit(c, &id));
        match committed {
            Ok(c) => {
                if let (Some(j), Some(l)) = (&self.tenant.journal, &p.logged) {
                    j.committed(l.id, &c.reference, &c.message).await;
                }
                if let Some(t) = self.record.transactions.get_mut(p.record_index) {
                    t.state = "committed".into();
                    t.reference = Some(c.reference.clone());
                }
                let key = if p.kind == "open-complaint" {
                    "complaint-opened"
                } else {
                    "order-placed"
                };
                let t = self.text(key, &[("reference", &c.reference)]);
                self.answered(t)
            }
            Err(e) => {
                tracing::warn!(call = %self.ctx.call_id, "commit of {id} failed: {e}");
                // Refused for good: an operator follows up. Unavailable: the row stays
                // confirmed and recovery commits it at the next start.
                let unavailable = matches!(
                    e,
                    CallError::Plugin(PluginError::Unavailable(_)) | CallError::Deadline { .. }
                );
                if let (Some(j), Some(l), false) = (&self.tenant.journal, &p.logged, unavailable) {
                    j.failed(l.id, &e.to_string()).await;
                }
                if let Some(t) = self.record.transactions.get_mut(p.record_index) {
                    t.state = "failed".into();
                }
                self.system_error()
            }
        }
    }

    /// Aborts the change waiting for confirmation, if any.
    async fn drop_pending(&mut self, why: &str) {
        let State::Confirm(p) = std::mem::replace(&mut self.state, State::Menu) else {
            return;
        };
        let id = p.prepared.transaction_id.clone();
        let result = plugin!(self, "transactions.abort", format!("{id} ({why})"), retry: false,
            |s, c| s.abort(c, &id));
        if let (Some(j), Some(l), true) = (&self.tenant.journal, &p.logged, result.is_ok()) {
            j.aborted(l.id, why).await;
        }
        if let Some(t) = self.record.transactions.get_mut(p.record_index) {
            t.state = if result.is_ok() {
                "aborted"
            } else {
                "abort-failed"
            }
            .into();
        }
    }

    async fn price(&mut self, product: Option<usize>) -> Reply {
        let Some(p) = product.and_then(|i| self.products.get(i).cloned()) else {
            let t = self.text("product-unknown", &[]);
            return self.answered(t);
        };
        let name = p.name.clone();
        let found = match plugin!(self, "products.search", format!("{name}, 1"), retry: true,
            |s, c| s.search_products(c, &name, 5))
        {
            Ok(list) => list.into_iter().find(|x| x.sku == p.sku),
            Err(e) if Self::is_failure(&e) => return self.system_error(),
            Err(_) => None,
        };
        let Some(found) = found else {
            let t = self.text("product-unknown", &[]);
            return self.answered(t);
        };
        let price = speak::money(&found.price);
        let mut text = self.text(
            "product-price",
            &[("product", &found.name), ("price", &price)],
        );
        let stock = if found.in_stock == 0 {
            self.text("product-stock-none", &[])
        } else {
            self.text("product-stock", &[("stock", &found.in_stock.to_string())])
        };
        text = format!("{text} {stock}");
        self.answered(text)
    }

    async fn frequent(&mut self) -> Reply {
        let id = self.contact_id().unwrap_or_default();
        match plugin!(self, "products.frequent", format!("{id}, 3"), retry: true,
            |s, c| s.frequent_items(c, &id, 3))
        {
            Ok(items) if !items.is_empty() => {
                let names: Vec<String> = items.iter().map(|i| i.product.name.clone()).collect();
                let t = self.text("frequent", &[("items", &speak::list(&names))]);
                self.answered(t)
            }
            Ok(_) => {
                let t = self.text("frequent-none", &[]);
                self.answered(t)
            }
            Err(e) if Self::is_failure(&e) => self.system_error(),
            Err(_) => {
                let t = self.text("frequent-none", &[]);
                self.answered(t)
            }
        }
    }

    async fn recommend(&mut self) -> Reply {
        let id = self.contact_id().unwrap_or_default();
        match plugin!(self, "products.recommend", format!("{id}, 3"), retry: true,
            |s, c| s.recommendations(c, &id, 3))
        {
            Ok(items) if !items.is_empty() => {
                let names: Vec<String> = items
                    .iter()
                    .map(|p| format!("the {} for {}", p.name, speak::money(&p.price)))
                    .collect();
                let t = self.text("recommend", &[("items", &speak::list(&names))]);
                self.answered(t)
            }
            Err(e) if Self::is_failure(&e) => self.system_error(),
            _ => {
                let t = self.text("recommend-none", &[]);
                self.answered(t)
            }
        }
    }

    async fn promotions(&mut self) -> Reply {
        let id = self.contact_id();
        match plugin!(self, "products.promotions", format!("{id:?}"), retry: true,
            |s, c| s.promotions(c, id.as_deref()))
        {
            Ok(list) if !list.is_empty() => {
                let items: Vec<String> = list.iter().take(3).map(|p| p.title.clone()).collect();
                let t = self.text("promotions", &[("items", &speak::list(&items))]);
                self.answered(t)
            }
            Err(e) if Self::is_failure(&e) => self.system_error(),
            _ => {
                let t = self.text("promotions-none", &[]);
                self.answered(t)
            }
        }
    }

    async fn complaint_status(&mut self) -> Reply {
        let id = self.contact_id().unwrap_or_default();
        match plugin!(self, "complaints.list-open", id.clone(), retry: true,
            |s, c| s.open_complaints(c, &id))
        {
            Ok(list) => match list.first() {
                Some(c) => {
                    let mut t = self.text(
                        "complaint-status",
                        &[
                            ("subject", &c.subject),
                            ("status", speak::complaint_status(c.status)),
                        ],
                    );
                    if let Some(note) = &c.last_note {
                        t = format!("{t} {}", self.text("complaint-note", &[("note", note)]));
                    }
                    self.answered(t)
                }
                None => {
                    let t = self.text("complaint-none", &[]);
                    self.answered(t)
                }
            },
            Err(e) if Self::is_failure(&e) => self.system_error(),
            Err(_) => {
                let t = self.text("complaint-none", &[]);
                self.answered(t)
            }
        }
    }

    async fn faq(&mut self, question: &str) -> Reply {
        let q = question.to_string();
        match plugin!(self, "knowledge.answer", q.clone(), retry: true,
            |s, c| s.answer(c, &q))
        {
            Ok(a) if a.confidence >= FAQ_MIN_CONFIDENCE => self.answered(a.text),
            Err(e) if Self::is_failure(&e) => self.system_error(),
            _ => {
                let t = self.text("faq-unknown", &[]);
                self.answered(t)
            }
        }
    }

    async fn callback(&mut self) -> Reply {
        let vip = self
            .contact
            .as_ref()
            .is_some_and(|c| c.tier == contacts::Tier::Vip);
        let request = escalation::TicketRequest {
            channel: escalation::Channel::Callback,
            contact_id: self.contact_id(),
            phone: self.ctx.caller.clone(),
            subject: "Call back requested by phone".into(),
            body: self
                .record
                .turns
                .iter()
                .filter(|t| t.who == "caller" && !t.text.is_empty())
                .map(|t| t.text.clone())
                .collect::<Vec<_>>()
                .join(" / "),
            priority: if vip {
                escalation::Priority::High
            } else {
                escalation::Priority::Normal
            },
        };
        match plugin!(self, "escalation.open-ticket", format!("{request:?}"), retry: false,
            |s, c| s.open_ticket(c, &request))
        {
            Ok(t) => {
                let reference = t.reference.unwrap_or(t.id);
                let text = self.text("callback-opened", &[("reference", &reference)]);
                self.answered(text)
            }
            Err(_) => {
                let sorry = self.text("system-error", &[]);
                let bye = self.text("goodbye", &[]);
                self.state = State::Ended;
                self.record.outcome = "escalation-failed".into();
                self.say(format!("{sorry} {bye}"), Next::Hangup)
            }
        }
    }

    /// The call is over: an unconfirmed change is aborted, the record completed.
    async fn finish(&mut self) {
        if let State::Confirm(_) = self.state {
            self.drop_pending("caller hung up").await;
        }
        let ended =
            self.now + jiff::SignedDuration::try_from(self.started.elapsed()).unwrap_or_default();
        self.record.ended_at = Some(ended.to_string());
        self.record.summary = self.summary();
        if let Some(dir) = &self.tenant.records_dir {
            let path = dir.join(format!(
                "{}.json",
                crate::sip::ua::file_safe(&self.ctx.call_id)
            ));
            let body = serde_json::to_vec_pretty(&self.record).unwrap_or_default();
            let dir = dir.clone();
            let written = tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&dir)?;
                std::fs::write(&path, body)
            })
            .await;
            if !matches!(written, Ok(Ok(()))) {
                tracing::warn!(call = %self.ctx.call_id, "call record not written: {written:?}");
            }
        }
    }

    /// One line: who, what they wanted, what happened.
    fn summary(&self) -> String {
        let who = self
            .record
            .contact
            .as_ref()
            .map_or_else(|| "Unknown caller".to_string(), |c| c.name.clone());
        let asked: Vec<String> = self
            .record
            .turns
            .iter()
            .filter_map(|t| t.intent.clone())
            .collect();
        let done: Vec<String> = self
            .record
            .transactions
            .iter()
            .map(|t| format!("{} {}", t.kind, t.state))
            .collect();
        let mut s = format!("{who} called {}", self.tenant.config.name);
        if !asked.is_empty() {
            s.push_str(&format!("; asked: {}", asked.join(", ")));
        }
        if !done.is_empty() {
            s.push_str(&format!("; {}", done.join(", ")));
        }
        s.push_str(&format!("; outcome: {}.", self.record.outcome));
        s
    }
}

impl Conversation for AgentConversation {
    fn begin(&mut self) -> BoxFuture<'_, Reply> {
        Box::pin(self.greet())
    }

    fn respond(&mut self, input: TurnInput) -> BoxFuture<'_, Reply> {
        Box::pin(self.on_input(input))
    }

    fn end(&mut self) -> BoxFuture<'_, Option<serde_json::Value>> {
        Box::pin(async move {
            self.finish().await;
            serde_json::to_value(&self.record).ok()
        })
    }

    fn take_events(&mut self) -> Vec<CallEvent> {
        let (turns, calls) = self.reported;
        let call_id = &self.ctx.call_id;
        let mut out = Vec::new();
        for t in self.record.turns.iter().skip(turns) {
            out.push(CallEvent::Turn {
                call_id: call_id.clone(),
                who: t.who.to_string(),
                text: t.text.clone(),
                input: t.input.map(str::to_string),
                intent: t.intent.clone(),
            });
        }
        for p in self.record.plugin_calls.iter().skip(calls) {
            out.push(CallEvent::PluginCall {
                call_id: call_id.clone(),
                function: p.function.clone(),
                outcome: p.outcome.clone(),
                duration_us: p.duration_us,
                plugin: p.plugin.clone(),
                version: p.version.clone(),
            });
        }
        self.reported = (self.record.turns.len(), self.record.plugin_calls.len());
        out
    }
}
