//! Typed plugin calls for one phone call, against the plugin set pinned at its start.

use std::sync::{Arc, Mutex};

use crate::bindings::CallContext;
use crate::bindings::guest::{
    complaints, contacts, delivery, escalation, knowledge, orders, products, recordings,
    transactions,
};
use crate::call::{CallError, CallReport};
use crate::capability::Capability;
use crate::engine::Runtime;
use crate::plugin::PluginVersion;
use crate::registry::PluginSet;
use crate::tenant::TenantEnv;

/// The plugins one conversation talks to. The version set is fixed when the session
/// starts: an activation during the call changes nothing for it, so one conversation
/// never sees two versions of a plugin.
pub struct Session {
    runtime: Runtime,
    tenant: Arc<TenantEnv>,
    set: Arc<PluginSet>,
    call_id: Arc<str>,
    reports: Mutex<Vec<CallReport>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("tenant", &self.tenant.id)
            .field("call_id", &self.call_id)
            .field("generation", &self.set.generation())
            .finish()
    }
}

impl Session {
    pub(crate) fn new(
        runtime: Runtime,
        tenant: Arc<TenantEnv>,
        set: Arc<PluginSet>,
        call_id: &str,
    ) -> Session {
        Session {
            runtime,
            tenant,
            set,
            call_id: call_id.into(),
            reports: Mutex::new(Vec::new()),
        }
    }

    /// The version set this session is pinned to.
    pub fn plugins(&self) -> &Arc<PluginSet> {
        &self.set
    }

    pub fn tenant(&self) -> &Arc<TenantEnv> {
        &self.tenant
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Whether some plugin serves `capability` for this session.
    pub fn serves(&self, capability: Capability) -> bool {
        self.set.get(capability).is_some()
    }

    /// Reports of the calls made so far, oldest first.
    pub fn reports(&self) -> Vec<CallReport> {
        self.reports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn bound(&self, capability: Capability) -> Result<&Arc<PluginVersion>, CallError> {
        self.set
            .get(capability)
            .ok_or(CallError::NotBound(capability))
    }

    fn record(&self, report: CallReport) {
        self.reports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(report);
    }
}

/// Generates one typed method per WIT function: look up the bound version, run the call
/// in a fresh instance, keep its report.
macro_rules! plugin_functions {
    ($(
        $(#[$doc:meta])*
        $name:literal fn $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty
            = $cap:ident / $iface:ident . $call:ident;
    )*) => {
        impl Session {
            $(
            $(#[$doc])*
            pub async fn $method(&self, ctx: &CallContext, $($arg: $ty),*) -> Result<$ret, CallError> {
                let version = self.bound(Capability::$cap)?;
                let (result, report) = self
                    .runtime
                    .invoke(&self.tenant, version, &self.call_id, $name, async |store, instance| {
                        let indices = version.indices.$iface.as_ref().ok_or_else(|| {
                            wasmtime::Error::msg(concat!("plugin does not export ", stringify!($iface)))
                        })?;
                        let guest = indices.load(&mut *store, instance)?;
                        guest.$call(&mut *store, ctx, $($arg),*).await
                    })
                    .await;
                self.record(report);
                result
            }
            )*
        }
    };
}

plugin_functions! {
    /// `contacts.lookup-by-phone`
    "contacts.lookup-by-phone" fn lookup_contact(phone: &str) -> contacts::Contact
        = Contacts / contacts . call_lookup_by_phone;
    /// `orders.list-recent`
    "orders.list-recent" fn recent_orders(contact_id: &str, limit: u32) -> Vec<orders::OrderSummary>
        = Orders / orders . call_list_recent;
    /// `orders.get`
    "orders.get" fn order(order_id: &str) -> orders::Order
        = Orders / orders . call_get;
    /// `products.search`
    "products.search" fn search_products(query: &str, limit: u32) -> Vec<products::Product>
        = Products / products . call_search;
    /// `products.frequent`
    "products.frequent" fn frequent_items(contact_id: &str, limit: u32) -> Vec<products::FrequentItem>
        = Products / products . call_frequent;
    /// `products.recommend`
    "products.recommend" fn recommendations(contact_id: &str, limit: u32) -> Vec<products::Product>
        = Products / products . call_recommend;
    /// `products.promotions`
    "products.promotions" fn promotions(contact_id: Option<&str>) -> Vec<products::Promotion>
        = Products / products . call_promotions;
    /// `transactions.prepare`
    "transactions.prepare" fn prepare(op: &transactions::Operation) -> transactions::Prepared
        = Transactions / transactions . call_prepare;
    /// `transactions.commit`
    "transactions.commit" fn commit(transaction_id: &str) -> transactions::Committed
        = Transactions / transactions . call_commit;
    /// `transactions.abort`
    "transactions.abort" fn abort(transaction_id: &str) -> ()
        = Transactions / transactions . call_abort;
    /// `delivery.eta`
    "delivery.eta" fn delivery_eta(order_id: &str) -> delivery::DeliveryEta
        = Delivery / delivery . call_eta;
    /// `complaints.list-open`
    "complaints.list-open" fn open_complaints(contact_id: &str) -> Vec<complaints::Complaint>
        = Complaints / complaints . call_list_open;
    /// `complaints.get`
    "complaints.get" fn complaint(complaint_id: &str) -> complaints::Complaint
        = Complaints / complaints . call_get;
    /// `knowledge.answer`
    "knowledge.answer" fn answer(question: &str) -> knowledge::FaqAnswer
        = Knowledge / knowledge . call_answer;
    /// `escalation.open-ticket`
    "escalation.open-ticket" fn open_ticket(request: &escalation::TicketRequest) -> escalation::Ticket
        = Escalation / escalation . call_open_ticket;
    /// `recordings.fetch`
    "recordings.fetch" fn fetch_recording(reference: &str) -> recordings::Recording
        = Recordings / recordings . call_fetch;
}
