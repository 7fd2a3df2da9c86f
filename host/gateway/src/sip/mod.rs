//! SIP in the gateway: transports over tokio, driving the sans-IO layer in `voxgate-proto`.

pub mod call;
pub mod config;
pub mod events;
pub mod script;
pub mod transport;
pub mod ua;
