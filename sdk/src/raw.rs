//! Generated bindings, one module per capability world. Plugin authors use the
//! re-exports in the crate root instead; these are public only for the `export!` macro.
//!
//! Each world is generated on its own so that a plugin exports exactly the interfaces it
//! implements. The first world also generates the shared `types` and `host` imports; the
//! others reuse them through `with`, so every world speaks the same Rust types.

#![allow(missing_docs, unsafe_code, clippy::all)]

pub mod contacts_world {
    wit_bindgen::generate!({
        path: "../wit/0.1.0",
        world: "contacts-provider",
        pub_export_macro: true,
        export_macro_name: "__export_contacts",
        default_bindings_module: "::voxgate_sdk::raw::contacts_world",
    });
}

macro_rules! world {
    ($module:ident, $world:literal, $macro:literal, $path:literal) => {
        pub mod $module {
            wit_bindgen::generate!({
                path: "../wit/0.1.0",
                world: $world,
                pub_export_macro: true,
                export_macro_name: $macro,
                default_bindings_module: $path,
                with: {
                    "voxgate:plugin/types@0.1.0": crate::raw::contacts_world::voxgate::plugin::types,
                    "voxgate:plugin/host@0.1.0": crate::raw::contacts_world::voxgate::plugin::host,
                },
            });
        }
    };
}

world!(
    orders_world,
    "orders-provider",
    "__export_orders",
    "::voxgate_sdk::raw::orders_world"
);
world!(
    products_world,
    "products-provider",
    "__export_products",
    "::voxgate_sdk::raw::products_world"
);
world!(
    transactions_world,
    "transactions-provider",
    "__export_transactions",
    "::voxgate_sdk::raw::transactions_world"
);
world!(
    delivery_world,
    "delivery-provider",
    "__export_delivery",
    "::voxgate_sdk::raw::delivery_world"
);
world!(
    complaints_world,
    "complaints-provider",
    "__export_complaints",
    "::voxgate_sdk::raw::complaints_world"
);
world!(
    knowledge_world,
    "knowledge-provider",
    "__export_knowledge",
    "::voxgate_sdk::raw::knowledge_world"
);
world!(
    escalation_world,
    "escalation-provider",
    "__export_escalation",
    "::voxgate_sdk::raw::escalation_world"
);
world!(
    recordings_world,
    "recordings-provider",
    "__export_recordings",
    "::voxgate_sdk::raw::recordings_world"
);
